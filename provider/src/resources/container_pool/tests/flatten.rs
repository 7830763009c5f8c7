//! Pool unit tests: flatten.

use super::*;

#[test]
fn read_normalises_what_batch_rewrites_and_keeps_secrets() {
    let s = state();
    let c = config();
    assert_eq!(s.vm_size, ks("STANDARD_D2S_V3"));
    assert_eq!(s.task_scheduling_policy, ks("pack"));
    assert_eq!(
        block(&s.fixed_scale).resize_timeout,
        ks("PT15M"),
        "PT900S means the same as the configured PT15M"
    );
    assert_eq!(s.target_node_communication_mode, Tf::Null);
    assert_eq!(block(&s.container).registry[0].password, some("pw1"));
    // Every configured attribute reads back unchanged.
    let (sv, cv) = (s.write(), c.write());
    for (key, v) in cv.as_map().unwrap() {
        if !v.is_null() {
            assert_eq!(sv.get(key), v, "{key}");
        }
    }
    // The data source view (no prior) shows Batch's own values.
    let d = read_back(&cloud_pool(), &PoolModel::default());
    assert_eq!(d.vm_size, ks("standard_d2s_v3"));
    assert_eq!(d.wait_for, ks("steady"));
}

#[test]
fn flatten_of_what_expand_sent_reads_back_the_model() {
    // Batch echoes Pool_Add's fields under the same wire names in CloudPool.
    let mut m = config();
    m.display_name = ks("Pool one");
    m.network_configuration = k(NetworkModel {
        subnet_id: ks("/subnets/a"),
        dynamic_vnet_assignment_scope: ks("job"),
        accelerated_networking_enabled: k(true),
        public_address_provisioning_type: ks("usermanaged"),
        public_ip_address_ids: k(vec!["/ip/1".into()]),
    });
    m.start_task = k(StartTaskModel {
        command_line: ks("/bin/true"),
        wait_for_success: k(false),
        max_task_retry_count: k(2),
        elevation_level: ks("admin"),
        environment: Some(BTreeMap::from([("A".to_string(), "1".to_string())])),
        container: None,
    });
    m.target_node_communication_mode = ks("simplified");
    let wire = serde_json::to_value(expand_pool_add(&m)).unwrap();
    let pool: CloudPool = serde_json::from_value(wire).unwrap();
    let back = read_back(&pool, &m);
    let mut want = m.clone();
    want.id = m.name.clone();
    want.state = Tf::Null;
    want.current_dedicated_nodes = k(0);
    want.current_low_priority_nodes = k(0);
    assert_eq!(back, want);
}

#[test]
fn an_all_default_network_reads_as_no_block_unless_configured() {
    let n = NetworkConfiguration {
        dynamic_v_net_assignment_scope: Some("none".into()),
        enable_accelerated_networking: Some(false),
        public_ip_address_configuration: Some(PublicIPAddressConfiguration {
            provision: Some("batchmanaged".into()),
            ip_address_ids: None,
        }),
        ..Default::default()
    };
    assert_eq!(flatten_network(&n, &Tf::Null), Tf::Null);
    let configured = k(NetworkModel {
        accelerated_networking_enabled: k(false),
        ..Default::default()
    });
    // Read back as the framework does: Batch's defaults stay unset where the user left them.
    let ty = super::super::network_block().value_type();
    let mut v = to_value(&flatten_network(&n, &configured), &ty).unwrap();
    null_server_defaults(
        &super::super::network_block(),
        &to_value(&configured, &ty).unwrap(),
        &mut v,
    );
    let got: Tf<NetworkModel> = from_value(&v).unwrap();
    assert_eq!(block(&got).accelerated_networking_enabled, k(false));
    assert_eq!(block(&got).dynamic_vnet_assignment_scope, Tf::Null);
}

#[test]
fn registry_passwords_follow_the_registry_not_the_position() {
    let prior = ContainerModel {
        registry: vec![registry("a.io", "ua", "pa"), registry("b.io", "ub", "pb")],
        ..Default::default()
    };
    let remote = ContainerConfiguration {
        type_: "dockerCompatible".into(),
        container_image_names: None,
        container_registries: Some(vec![
            ContainerRegistry {
                registry_server: Some("B.IO".into()),
                username: Some("ub".into()),
                ..Default::default()
            },
            ContainerRegistry {
                registry_server: Some("c.io".into()),
                username: Some("uc".into()),
                ..Default::default()
            },
        ]),
    };
    let got = flatten_container(&remote, &prior);
    assert_eq!(got.registry[0].password, some("pb"));
    assert_eq!(
        got.registry[0].server,
        some("b.io"),
        "the prior spelling is kept"
    );
    // No match: the one at the same position.
    assert_eq!(got.registry[1].password, some("pb"));
    assert_eq!(
        got.image_names,
        k(vec![]),
        "Batch's empty list (null by server_default)"
    );
}

#[test]
fn an_equivalent_formula_keeps_the_configured_spelling() {
    let mut p = cloud_pool();
    p.enable_auto_scale = Some(true);
    p.auto_scale_formula = Some("$TargetDedicatedNodes = 1;".into());
    let mut prior = config();
    prior.fixed_scale = Tf::Null;
    prior.auto_scale = k(AutoScaleModel {
        formula: ks("  $TargetDedicatedNodes = 1;\r\n"),
        evaluation_interval: ks("PT5M"),
    });
    let got = block(&read_back(&p, &prior).auto_scale);
    assert_eq!(got.formula, ks("  $TargetDedicatedNodes = 1;\r\n"));
    assert_eq!(got.evaluation_interval, ks("PT15M"), "Batch's default");
    prior.auto_scale = k(AutoScaleModel {
        formula: ks("$TargetDedicatedNodes = 2;"),
        evaluation_interval: Tf::Null,
    });
    let got = block(&read_back(&p, &prior).auto_scale);
    assert_eq!(got.formula, ks("$TargetDedicatedNodes = 1;"));
}
