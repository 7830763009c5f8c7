//! Pool unit tests: expand.

use super::*;

#[test]
fn expand_pool_add_sends_the_scale_mode_that_is_set() {
    let fixed = expand_pool_add(&config());
    assert_eq!(fixed.enable_auto_scale, Some(false));
    assert_eq!(fixed.target_dedicated_nodes, Some(1));
    assert_eq!(fixed.resize_timeout.as_deref(), Some("PT15M"));
    assert_eq!(fixed.auto_scale_formula, None);

    let mut m = config();
    m.fixed_scale = Tf::Null;
    m.auto_scale = k(AutoScaleModel {
        formula: ks("$TargetDedicatedNodes = 2;"),
        evaluation_interval: ks("PT5M"),
    });
    let auto = expand_pool_add(&m);
    assert_eq!(auto.enable_auto_scale, Some(true));
    assert_eq!(auto.target_dedicated_nodes, None);
    assert_eq!(
        auto.auto_scale_formula.as_deref(),
        Some("$TargetDedicatedNodes = 2;")
    );
    assert_eq!(auto.auto_scale_evaluation_interval.as_deref(), Some("PT5M"));

    m.auto_scale = Tf::Null;
    assert_eq!(expand_pool_add(&m).enable_auto_scale, None);
}

#[test]
fn expand_image_uses_the_block_or_the_gallery_image() {
    let img = expand_image(&config());
    assert_eq!(img.sku.as_deref(), Some("20-04-lts"));
    assert_eq!(img.virtual_machine_image_id, None);
    let mut m = config();
    m.image = Tf::Null;
    m.virtual_machine_image_id = ks("/subscriptions/s/images/i");
    let img = expand_image(&m);
    assert_eq!(img.publisher, None);
    assert_eq!(
        img.virtual_machine_image_id.as_deref(),
        Some("/subscriptions/s/images/i")
    );
}

#[test]
fn expand_container_defaults_and_omits_empty_lists() {
    let cases: Vec<(ContainerModel, &str, bool, bool)> = vec![
        (ContainerModel::default(), "dockerCompatible", false, false),
        (
            ContainerModel {
                type_: ks("criCompatible"),
                image_names: k(vec![]),
                registry: vec![],
            },
            "criCompatible",
            false,
            false,
        ),
        (block(&config().container), "dockerCompatible", true, true),
    ];
    for (c, ty, names, regs) in cases {
        let out = expand_container(&c);
        assert_eq!(out.type_, ty);
        assert_eq!(out.container_image_names.is_some(), names, "{c:?}");
        assert_eq!(out.container_registries.is_some(), regs, "{c:?}");
    }
}

#[test]
fn expand_registry_takes_password_or_write_only_password() {
    let r = expand_registry(&registry("r.io", "u", "pw"));
    assert_eq!(r.password.as_ref().map(|p| p.expose().as_str()), Some("pw"));
    let mut wo = registry("r.io", "u", "x");
    wo.password = None;
    wo.password_wo = some("wo");
    assert_eq!(
        expand_registry(&wo)
            .password
            .as_ref()
            .map(|p| p.expose().as_str()),
        Some("wo")
    );
    wo.identity_reference = some("/id");
    assert_eq!(
        expand_registry(&wo)
            .identity_reference
            .and_then(|i| i.resource_id)
            .as_deref(),
        Some("/id")
    );
}

#[test]
fn expand_start_task_runs_as_the_pool_auto_user() {
    let st = StartTaskModel {
        command_line: ks("/bin/true"),
        environment: Some(BTreeMap::new()),
        ..Default::default()
    };
    let out = expand_start_task(&st);
    let auto = out.user_identity.unwrap().auto_user.unwrap();
    assert_eq!(auto.scope.as_deref(), Some("pool"));
    assert_eq!(auto.elevation_level.as_deref(), Some("nonadmin"));
    assert!(
        out.environment_settings.is_none(),
        "an empty map sends nothing"
    );
    let st = StartTaskModel {
        elevation_level: ks("admin"),
        environment: Some(BTreeMap::from([("A".to_string(), "1".to_string())])),
        max_task_retry_count: k(3),
        ..st
    };
    let out = expand_start_task(&st);
    assert_eq!(
        out.user_identity
            .unwrap()
            .auto_user
            .unwrap()
            .elevation_level
            .as_deref(),
        Some("admin")
    );
    assert_eq!(out.environment_settings.unwrap()[0].name, "A");
    assert_eq!(out.max_task_retry_count, Some(3));
}

#[test]
fn expand_network_sends_public_ip_settings_only_when_set() {
    let cases = [
        (NetworkModel::default(), None),
        (
            NetworkModel {
                public_address_provisioning_type: ks("nopublicipaddresses"),
                ..Default::default()
            },
            Some((Some("nopublicipaddresses"), None)),
        ),
        (
            NetworkModel {
                public_ip_address_ids: k(vec!["/ip/1".into()]),
                ..Default::default()
            },
            Some((None, Some(1))),
        ),
    ];
    for (n, want) in cases {
        let got = expand_network(&n)
            .public_ip_address_configuration
            .map(|c| (c.provision.clone(), c.ip_address_ids.as_ref().map(Vec::len)));
        let want = want.map(|(p, n)| (p.map(str::to_string), n));
        assert_eq!(got, want, "{n:?}");
    }
}

#[test]
fn expand_patch_sends_only_the_planned_parts() {
    let m = config();
    let none = expand_patch(&m, &PatchPlan::default(), None);
    assert_eq!(none, Default::default());
    let what = PatchPlan {
        vm_size: true,
        metadata: true,
        target_node_communication_mode: true,
        ..Default::default()
    };
    let p = expand_patch(&m, &what, None);
    assert_eq!(p.vm_size.as_deref(), Some("STANDARD_D2S_V3"));
    assert_eq!(p.metadata.as_ref().map(Vec::len), Some(1));
    assert_eq!(p.target_node_communication_mode.as_deref(), Some("default"));
    assert!(p.display_name.is_none() && p.virtual_machine_configuration.is_none());
    // The VM configuration keeps what the pool has beyond our attributes.
    let base = VirtualMachineConfiguration {
        license_type: Some("Windows_Server".into()),
        ..Default::default()
    };
    let what = PatchPlan {
        vm_configuration: true,
        ..Default::default()
    };
    let vmc = expand_patch(&m, &what, Some(base))
        .virtual_machine_configuration
        .unwrap();
    assert_eq!(vmc.license_type.as_deref(), Some("Windows_Server"));
    assert_eq!(vmc.node_agent_sku_id, "batch.node.ubuntu 20.04");
}

#[test]
fn expand_update_properties_keeps_references_and_drops_the_start_task() {
    let mut cur = cloud_pool();
    cur.certificate_references = Some(vec![CertificateReference {
        thumbprint: "ab".into(),
        ..Default::default()
    }]);
    let mut m = config();
    m.metadata = Tf::Null;
    let u = expand_update_properties(&m, &cur);
    assert!(u.start_task.is_none());
    assert_eq!(u.certificate_references.len(), 1);
    assert!(u.metadata.is_empty());
}

#[test]
fn expand_resize_and_autoscale_carry_their_block() {
    let f = FixedScaleModel {
        target_dedicated_nodes: k(3),
        target_low_priority_nodes: k(2),
        resize_timeout: ks("PT20M"),
        node_deallocation_option: ks("terminate"),
    };
    let r = expand_resize(&f);
    assert_eq!(
        (r.target_dedicated_nodes, r.target_low_priority_nodes),
        (Some(3), Some(2))
    );
    assert_eq!(r.node_deallocation_option.as_deref(), Some("terminate"));
    let a = expand_enable_autoscale(&AutoScaleModel {
        formula: ks("f"),
        evaluation_interval: Tf::Null,
    });
    assert_eq!(a.auto_scale_formula.as_deref(), Some("f"));
    assert_eq!(a.auto_scale_evaluation_interval, None);
}
