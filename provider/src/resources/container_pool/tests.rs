//! Unit tests of the pool: models against the schema, expand/flatten tables, the update
//! planner, modify_plan and the Batch error mapping. No Terraform, no Batch.

use std::collections::BTreeMap;

use batch_client::models::{
    CertificateReference, CloudPool, ComputeNode, ContainerConfiguration, ContainerRegistry,
    ImageReference, MetadataItem, NetworkConfiguration, PublicIPAddressConfiguration, ResizeError,
    StartTaskInformation, TaskSchedulingPolicy, VirtualMachineConfiguration,
};
use tfplugin::framework::{
    PlanRequest, PlanResponse, Private, keep_equivalent, null_server_defaults,
};
use tfplugin::model::{Tf, check_round_trip, from_value, to_value};
use tfplugin::{Diagnostics, Value};

use super::expand::*;
use super::flatten::*;
use super::model::*;
use super::plan::*;
use super::wait::*;

fn k<T>(v: T) -> Tf<T> {
    Tf::Known(v)
}

fn ks(s: &str) -> Tf<String> {
    Tf::Known(s.to_string())
}

fn cloud_pool() -> CloudPool {
    CloudPool {
        id: Some("p1".into()),
        vm_size: Some("standard_d2s_v3".into()),
        state: Some("active".into()),
        allocation_state: Some("steady".into()),
        current_dedicated_nodes: Some(1),
        current_low_priority_nodes: Some(0),
        target_dedicated_nodes: Some(1),
        target_low_priority_nodes: Some(0),
        enable_auto_scale: Some(false),
        resize_timeout: Some("PT900S".into()),
        task_scheduling_policy: Some(TaskSchedulingPolicy {
            node_fill_type: "Pack".into(),
        }),
        metadata: Some(vec![MetadataItem {
            name: "team".into(),
            value: "render".into(),
        }]),
        target_node_communication_mode: Some("default".into()),
        last_modified: Some("2026-01-01T00:00:00Z".into()),
        virtual_machine_configuration: Some(VirtualMachineConfiguration {
            image_reference: ImageReference {
                publisher: Some("microsoft-azure-batch".into()),
                offer: Some("ubuntu-server-container".into()),
                sku: Some("20-04-lts".into()),
                version: Some("latest".into()),
                ..Default::default()
            },
            node_agent_sku_id: "batch.node.ubuntu 20.04".into(),
            container_configuration: Some(ContainerConfiguration {
                type_: "dockerCompatible".into(),
                container_image_names: Some(vec!["busybox".into()]),
                container_registries: Some(vec![ContainerRegistry {
                    registry_server: Some("myregistry.azurecr.io".into()),
                    username: Some("puller".into()),
                    password: None,
                    identity_reference: None,
                }]),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

fn registry(server: &str, user: &str, password: &str) -> RegistryModel {
    RegistryModel {
        server: some(server),
        username: some(user),
        password: some(password),
        ..Default::default()
    }
}

/// The configuration (as planned) that `cloud_pool()` was created from.
fn config() -> PoolModel {
    PoolModel {
        name: ks("p1"),
        vm_size: ks("STANDARD_D2S_V3"),
        node_agent_sku_id: ks("batch.node.ubuntu 20.04"),
        task_scheduling_policy: ks("pack"),
        task_slots_per_node: k(1),
        inter_node_communication: k(false),
        wait_for: ks("steady"),
        metadata: k(BTreeMap::from([("team".to_string(), "render".to_string())])),
        image: k(ImageModel {
            publisher: ks("microsoft-azure-batch"),
            offer: ks("ubuntu-server-container"),
            sku: ks("20-04-lts"),
            version: ks("latest"),
        }),
        container: k(ContainerModel {
            type_: ks("dockerCompatible"),
            image_names: k(vec!["busybox".into()]),
            registry: vec![registry("myregistry.azurecr.io", "puller", "pw1")],
        }),
        fixed_scale: k(FixedScaleModel {
            target_dedicated_nodes: k(1),
            target_low_priority_nodes: k(0),
            resize_timeout: ks("PT15M"),
            node_deallocation_option: Tf::Null,
        }),
        ..Default::default()
    }
}

/// What read (or apply) makes of `p` given `prior`: flatten, then the schema's semantics and
/// server defaults, as the framework applies them.
fn read_back(p: &CloudPool, prior: &PoolModel) -> PoolModel {
    PoolModel::read(&pool_to_state(p, &prior.write())).unwrap()
}

fn state() -> PoolModel {
    read_back(&cloud_pool(), &config())
}

fn empty_state() -> PoolModel {
    let mut p = cloud_pool();
    p.current_dedicated_nodes = Some(0);
    read_back(&p, &config())
}

// --- models ------------------------------------------------------------------------------------

#[test]
fn models_cover_their_schemas() {
    check_round_trip::<PoolModel>(pool_type()).unwrap();
    check_round_trip::<NetworkModel>(&super::network_block().value_type()).unwrap();
}

#[test]
fn a_model_missing_an_attribute_fails_the_round_trip() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Partial {
        name: Tf<String>,
    }
    assert!(check_round_trip::<Partial>(pool_type()).is_err());
}

#[test]
fn write_only_passwords_come_from_the_configuration() {
    let mut planned = config();
    let mut cfg = config();
    if let Tf::Known(c) = &mut cfg.container {
        c.registry[0].password_wo = some("secret");
    }
    let m = planned.with_write_only(&cfg);
    assert_eq!(block(&m.container).registry[0].password_wo, some("secret"));
    // The plan itself never carries it.
    assert!(block(&planned.container).registry[0].password_wo.is_none());
    planned.container = Tf::Null;
    assert!(planned.with_write_only(&cfg).container.is_null());
}

#[test]
fn timeouts_parse_go_durations_and_default_to_30_minutes() {
    let mut m = config();
    assert_eq!(m.timeout(Op::Create), DEFAULT_TIMEOUT);
    m.timeouts = k(TimeoutsModel {
        create: ks("1h30m"),
        update: ks("not a duration"),
        delete: Tf::Null,
    });
    assert_eq!(m.timeout(Op::Create).as_secs(), 5400);
    assert_eq!(m.timeout(Op::Update), DEFAULT_TIMEOUT);
    assert_eq!(m.timeout(Op::Delete), DEFAULT_TIMEOUT);
}

// --- expand ------------------------------------------------------------------------------------

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

// --- flatten -----------------------------------------------------------------------------------

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
    let ty = super::network_block().value_type();
    let mut v = to_value(&flatten_network(&n, &configured), &ty).unwrap();
    null_server_defaults(
        &super::network_block(),
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

// --- the update planner ------------------------------------------------------------------------

fn with(mut m: PoolModel, f: impl FnOnce(&mut PoolModel)) -> PoolModel {
    f(&mut m);
    m
}

fn paths(p: &[tfplugin::AttrPath]) -> Vec<String> {
    p.iter().map(|p| p.to_string()).collect()
}

#[test]
fn plan_update_table() {
    let s = state();
    let e = empty_state();
    let new_password = |m: &mut PoolModel| {
        if let Tf::Known(c) = &mut m.container {
            c.registry[0].password = some("pw2");
        }
    };
    let to_zero = |m: &mut PoolModel| {
        if let Tf::Known(f) = &mut m.fixed_scale {
            f.target_dedicated_nodes = k(0);
        }
    };
    struct Case {
        name: &'static str,
        prior: PoolModel,
        planned: PoolModel,
        pending: bool,
        remote: Remote,
        replace: Vec<&'static str>,
        calls: Vec<PoolCall>,
        registry: RegistryAction,
    }
    let patch = |f: fn(&mut PatchPlan)| {
        let mut p = PatchPlan::default();
        f(&mut p);
        PoolCall::Patch(p)
    };
    let cases = vec![
        Case {
            name: "nothing",
            prior: s.clone(),
            planned: s.clone(),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "image sku on a pool with nodes replaces",
            prior: s.clone(),
            planned: with(s.clone(), |m| {
                if let Tf::Known(i) = &mut m.image {
                    i.sku = ks("other");
                }
            }),
            pending: false,
            remote: Remote::Planning,
            replace: vec!["image.sku"],
            calls: vec![],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "vm size on an empty pool patches",
            prior: e.clone(),
            planned: with(e.clone(), |m| m.vm_size = ks("STANDARD_D4S_V3")),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![patch(|p| p.vm_size = true)],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "vm size while scaling to 0 scales first",
            prior: s.clone(),
            planned: with(with(s.clone(), to_zero), |m| {
                m.vm_size = ks("STANDARD_D4S_V3")
            }),
            pending: false,
            remote: Remote::Live {
                empty: false,
                scaled: false,
            },
            replace: vec![],
            calls: vec![PoolCall::ScaleToZeroFirst, patch(|p| p.vm_size = true)],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "password on a pool with nodes is kept pending",
            prior: s.clone(),
            planned: with(s.clone(), new_password),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![],
            registry: RegistryAction::KeepPending,
        },
        Case {
            name: "password on an empty pool is sent",
            prior: e.clone(),
            planned: with(e.clone(), new_password),
            pending: false,
            remote: Remote::Live {
                empty: true,
                scaled: false,
            },
            replace: vec![],
            calls: vec![patch(|p| p.vm_configuration = true)],
            registry: RegistryAction::Send,
        },
        Case {
            name: "a pending password goes out once the pool is empty",
            prior: e.clone(),
            planned: with(e.clone(), |m| m.metadata = Tf::Null),
            pending: true,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![patch(|p| {
                p.vm_configuration = true;
                p.metadata = true;
            })],
            registry: RegistryAction::SendPending,
        },
        Case {
            name: "removing the start task replaces the properties",
            prior: with(s.clone(), |m| {
                m.start_task = k(StartTaskModel {
                    command_line: ks("x"),
                    ..Default::default()
                })
            }),
            planned: s.clone(),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![PoolCall::UpdateProperties],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "a resize",
            prior: s.clone(),
            planned: with(s.clone(), |m| {
                if let Tf::Known(f) = &mut m.fixed_scale {
                    f.target_dedicated_nodes = k(4);
                }
            }),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![PoolCall::Scale],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "node_deallocation_option alone is Terraform-side",
            prior: s.clone(),
            planned: with(s.clone(), |m| {
                if let Tf::Known(f) = &mut m.fixed_scale {
                    f.node_deallocation_option = ks("terminate");
                }
            }),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![],
            registry: RegistryAction::Unchanged,
        },
    ];
    for c in cases {
        let plan = plan_update(&c.prior, &c.planned, c.pending, c.remote);
        assert_eq!(paths(&plan.replace), c.replace, "{}", c.name);
        assert_eq!(plan.calls, c.calls, "{}", c.name);
        assert_eq!(plan.registry, c.registry, "{}", c.name);
    }
}

#[test]
fn after_scaling_to_zero_the_pool_must_really_be_empty() {
    let s = state();
    let planned = with(s.clone(), |m| {
        m.vm_size = ks("STANDARD_D4S_V3");
        if let Tf::Known(f) = &mut m.fixed_scale {
            f.target_dedicated_nodes = k(0);
        }
    });
    let again = plan_update(
        &s,
        &planned,
        false,
        Remote::Live {
            empty: true,
            scaled: true,
        },
    );
    assert!(!again.not_empty);
    assert!(!again.calls.contains(&PoolCall::Scale), "already scaled");
    let stuck = plan_update(
        &s,
        &planned,
        false,
        Remote::Live {
            empty: false,
            scaled: true,
        },
    );
    assert!(stuck.not_empty);
    assert_eq!(paths(&stuck.empty_only), vec!["vm_size"]);
}

#[test]
fn scale_calls_table() {
    let fixed = config();
    let auto = with(config(), |m| {
        m.fixed_scale = Tf::Null;
        m.auto_scale = k(AutoScaleModel::default());
    });
    use ScaleCall::*;
    let cases = [
        (&fixed, false, true, vec![Resize]),
        (&fixed, true, true, vec![DisableAutoScale, Resize]),
        (
            &fixed,
            true,
            false,
            vec![DisableAutoScale, StopResize, Resize],
        ),
        (&auto, false, true, vec![EnableAutoScale]),
        (&auto, true, false, vec![StopResize, EnableAutoScale]),
    ];
    for (m, auto_now, steady, want) in cases {
        assert_eq!(
            scale_calls(m, auto_now, steady),
            want,
            "{auto_now} {steady}"
        );
    }
}

// --- modify_plan -------------------------------------------------------------------------------

/// The framework's plan step that runs before `modify_plan` (values semantically equal to the
/// prior state keep it), then `modify_plan`.
fn plan(prior: &PoolModel, planned: &PoolModel) -> (PoolModel, PlanResponse) {
    let (prior, planned) = (prior.write(), planned.write());
    let mut kept = planned.clone();
    keep_equivalent(&super::schema().block, &prior, &mut kept);
    let mut resp = PlanResponse {
        planned: kept,
        requires_replace: vec![],
        private: Private::new(),
        diags: Diagnostics::new(),
    };
    let private = Private::new();
    modify_plan(
        &PlanRequest {
            config: &planned,
            prior: &prior,
            prior_private: &private,
        },
        &mut resp,
    );
    (PoolModel::read(&resp.planned).unwrap(), resp)
}

#[test]
fn empty_pool_only_properties_replace_a_pool_with_nodes_and_update_an_empty_one() {
    let s = state();
    let (_, r) = plan(&s, &with(s.clone(), |m| m.vm_size = ks("STANDARD_D4S_V3")));
    assert_eq!(paths(&r.requires_replace), vec!["vm_size"]);

    let e = empty_state();
    let planned = with(e.clone(), |m| {
        m.vm_size = ks("STANDARD_D4S_V3");
        m.state = Tf::Unknown;
        m.allocation_state = Tf::Unknown;
        m.current_dedicated_nodes = Tf::Unknown;
        m.current_low_priority_nodes = Tf::Unknown;
        m.last_modified = Tf::Unknown;
    });
    let (p, r) = plan(&e, &planned);
    assert!(r.requires_replace.is_empty());
    assert_eq!(p.state, ks("active"));
    assert_eq!(p.current_dedicated_nodes, k(0));
    assert_eq!(p.allocation_state, ks("steady"));
    assert!(p.last_modified.is_unknown());

    // A password change alone on a pool with nodes: no replacement, a warning.
    let planned = with(s.clone(), |m| {
        if let Tf::Known(c) = &mut m.container {
            c.registry[0].password = some("pw2");
        }
    });
    let (p, r) = plan(&s, &planned);
    assert!(r.requires_replace.is_empty());
    assert!(r.diags.0.iter().any(|d| d.summary.contains("not sent")));
    assert_eq!(p.last_modified, s.last_modified);
}

#[test]
fn case_only_changes_of_case_insensitive_names_plan_nothing() {
    let s = state();
    let planned = with(s.clone(), |m| {
        m.vm_size = ks("Standard_D2s_V3");
        m.node_agent_sku_id = ks("Batch.Node.Ubuntu 20.04");
        if let Tf::Known(i) = &mut m.image {
            i.sku = ks("20-04-LTS");
        }
    });
    let (p, r) = plan(&s, &planned);
    assert!(r.requires_replace.is_empty());
    assert_eq!(p, s);
}

#[test]
fn a_resize_plans_unknown_node_counts() {
    let s = state();
    let planned = with(s.clone(), |m| {
        m.wait_for = ks("none");
        if let Tf::Known(f) = &mut m.fixed_scale {
            f.target_dedicated_nodes = k(3);
        }
    });
    let (p, _) = plan(&s, &planned);
    assert!(p.current_dedicated_nodes.is_unknown());
    assert!(p.allocation_state.is_unknown());
    assert_eq!(p.state, s.state);
}

#[test]
fn create_plans_the_id_as_the_name() {
    let mut resp = PlanResponse {
        planned: config().write(),
        requires_replace: vec![],
        private: Private::new(),
        diags: Diagnostics::new(),
    };
    let private = Private::new();
    modify_plan(
        &PlanRequest {
            config: &Value::Null,
            prior: &Value::Null,
            prior_private: &private,
        },
        &mut resp,
    );
    assert_eq!(PoolModel::read(&resp.planned).unwrap().id, ks("p1"));
}

// --- errors and waiting ------------------------------------------------------------------------

#[test]
fn batch_property_names_point_at_attributes() {
    let w = wire_paths();
    let cases = [
        ("subnetId", Some("network_configuration.subnet_id")),
        (
            "networkConfiguration.subnetId",
            Some("network_configuration.subnet_id"),
        ),
        ("vmSize", Some("vm_size")),
        ("VMSIZE", Some("vm_size")),
        ("nodeAgentSKUId", Some("node_agent_sku_id")),
        (
            "virtualMachineConfiguration.imageReference.virtualMachineImageId",
            Some("virtual_machine_image_id"),
        ),
        ("virtualMachineImageId", Some("virtual_machine_image_id")),
        ("imageReference", Some("image")),
        ("imageReference.sku", Some("image.sku")),
        ("resizeTimeout", Some("fixed_scale.resize_timeout")),
        (
            "targetDedicatedNodes",
            Some("fixed_scale.target_dedicated_nodes"),
        ),
        ("autoScaleFormula", Some("auto_scale.formula")),
        (
            "enableInterNodeCommunication",
            Some("inter_node_communication"),
        ),
        ("waitForSuccess", Some("start_task.wait_for_success")),
        (
            "nodeDeallocationOption",
            Some("fixed_scale.node_deallocation_option"),
        ),
        (
            "containerRegistries[1].username",
            Some("container.registry"),
        ),
        ("startTask.commandLine", Some("start_task.command_line")),
        ("id", Some("name")),
        ("metadata", Some("metadata")),
        ("somethingElse", None),
        ("", None),
    ];
    for (prop, want) in cases {
        assert_eq!(
            w.lookup(prop).map(|p| p.to_string()).as_deref(),
            want,
            "{prop}"
        );
    }
}

#[test]
fn resize_and_autoscale_errors_carry_code_message_and_attribute() {
    let mut p = cloud_pool();
    assert!(resize_error_diags(&p, "p1").is_none());
    p.resize_errors = Some(vec![ResizeError {
        code: Some("AccountCoreQuotaReached".into()),
        message: Some("quota".into()),
        values: None,
    }]);
    let d = resize_error_diags(&p, "p1").unwrap();
    assert!(d.0[0].summary.contains("AccountCoreQuotaReached"));
    assert!(d.0[0].detail.contains("quota"));

    let run: batch_client::models::AutoScaleRun = serde_json::from_value(serde_json::json!({
        "timestamp": "2026-01-01T00:00:00Z",
        "error": {"code": "AutoScalingFormulaSyntaxError", "message": "bad"}
    }))
    .unwrap();
    p.auto_scale_run = Some(run);
    let d = autoscale_error_diags(&p, "p1").unwrap();
    assert!(d.0[0].summary.contains("AutoScalingFormulaSyntaxError"));
    assert_eq!(
        d.0[0].path.as_ref().map(|p| p.to_string()).as_deref(),
        Some("auto_scale.formula")
    );
}

#[test]
fn node_states_decide_readiness() {
    let node = |state: &str, start_task_done: Option<bool>| ComputeNode {
        id: Some("n1".into()),
        state: Some(state.into()),
        start_task: start_task_done.map(|_| Default::default()),
        start_task_info: start_task_done.map(|done| StartTaskInformation {
            state: if done { "completed" } else { "running" }.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let cases = [
        ("idle", None, false, false),
        ("idle", Some(false), true, false),
        ("idle", Some(true), false, false),
        ("creating", None, true, false),
        ("starttaskfailed", Some(true), false, true),
        ("unusable", None, false, true),
        ("preempted", None, false, false),
    ];
    for (state, st, pending, failed) in cases {
        let n = node(state, st);
        assert_eq!(node_pending(&n), pending, "{state} {st:?}");
        assert_eq!(node_failure(&n).is_some(), failed, "{state}");
    }
    assert!(
        node_failure(&node("unusable", None))
            .unwrap()
            .contains("Node n1 is unusable")
    );
}

#[test]
fn merge_unknowns_fills_only_unknowns() {
    let planned = Value::object([("a", Value::int(1)), ("b", Value::Unknown)]);
    let actual = Value::object([("a", Value::int(2)), ("b", Value::int(3))]);
    assert_eq!(
        super::apply::merge_unknowns(&planned, &actual),
        Value::object([("a", Value::int(1)), ("b", Value::int(3))])
    );
}

#[test]
fn import_state_names_the_pool() {
    let r = super::apply::import("p1");
    assert!(r.diags.is_empty());
    let m = PoolModel::read(&r.state).unwrap();
    assert_eq!((m.id, m.name), (ks("p1"), ks("p1")));
    assert!(super::apply::import("bad name!").diags.has_errors());
}

// --- declared semantics, server defaults and rules ---------------------------------------------

#[test]
fn read_keeps_equivalent_spellings_and_unsets_batch_defaults() {
    let mut p = cloud_pool();
    p.display_name = Some(String::new());
    p.target_node_communication_mode = Some("Default".into());
    p.network_configuration = Some(NetworkConfiguration {
        subnet_id: Some("/SUBNETS/A".into()),
        dynamic_v_net_assignment_scope: Some("None".into()),
        enable_accelerated_networking: Some(false),
        ..Default::default()
    });
    let mut prior = config();
    prior.network_configuration = k(NetworkModel {
        subnet_id: ks("/subnets/a"),
        ..Default::default()
    });
    // (attribute, read with the prior state, read with no prior state)
    let s = read_back(&p, &prior);
    let d = read_back(&p, &PoolModel::default());
    type Case = (&'static str, Tf<String>, Tf<String>, Tf<String>, Tf<String>);
    let cases: Vec<Case> = vec![
        (
            "vm_size",
            s.vm_size,
            ks("STANDARD_D2S_V3"),
            d.vm_size,
            ks("standard_d2s_v3"),
        ),
        (
            "display_name",
            s.display_name,
            Tf::Null,
            d.display_name,
            Tf::Null,
        ),
        (
            "target_node_communication_mode",
            s.target_node_communication_mode,
            Tf::Null,
            d.target_node_communication_mode,
            Tf::Null,
        ),
        (
            "task_scheduling_policy",
            s.task_scheduling_policy,
            ks("pack"),
            d.task_scheduling_policy,
            ks("pack"),
        ),
        (
            "subnet_id",
            block(&s.network_configuration).subnet_id,
            ks("/subnets/a"),
            block(&d.network_configuration).subnet_id,
            ks("/SUBNETS/A"),
        ),
        (
            "dynamic_vnet_assignment_scope",
            block(&s.network_configuration).dynamic_vnet_assignment_scope,
            Tf::Null,
            block(&d.network_configuration).dynamic_vnet_assignment_scope,
            Tf::Null,
        ),
    ];
    for (name, got, want, got_d, want_d) in cases {
        assert_eq!(got, want, "{name} with a prior state");
        assert_eq!(got_d, want_d, "{name} without one");
    }
    assert_eq!(
        block(&s.network_configuration).accelerated_networking_enabled,
        Tf::Null
    );
    // A value that really differs is read as Batch has it.
    p.vm_size = Some("standard_d4s_v3".into());
    assert_eq!(read_back(&p, &prior).vm_size, ks("standard_d4s_v3"));
}

#[test]
fn modify_plan_leaves_values_known_only_at_apply_as_planned() {
    let s = state();
    let mut planned = with(s.clone(), |m| {
        m.start_task = k(StartTaskModel {
            command_line: ks("/bin/true"),
            ..Default::default()
        });
    })
    .write();
    let mut st = planned.get("start_task").clone();
    st.set("environment", Value::Unknown);
    planned.set("start_task", st);
    let prior = s.write();
    let mut resp = PlanResponse {
        planned: planned.clone(),
        requires_replace: vec![],
        private: Private::new(),
        diags: Diagnostics::new(),
    };
    modify_plan(
        &PlanRequest {
            config: &planned,
            prior: &prior,
            prior_private: &Private::new(),
        },
        &mut resp,
    );
    assert!(
        resp.planned
            .get("start_task")
            .get("environment")
            .is_unknown()
    );
    assert!(resp.planned.get("last_modified").is_unknown());
    assert_eq!(resp.planned.get("state"), &Value::string("active"));
    assert!(!reads_losslessly(&planned));
    assert!(reads_losslessly(&prior));
}

#[test]
fn declared_rules_report_a_missing_scale_and_conflicting_images() {
    let check = |m: &PoolModel| {
        let mut diags = Diagnostics::new();
        tfplugin::framework::validate_values(
            &super::schema().block,
            &m.write(),
            &tfplugin::AttrPath::root(),
            &mut diags,
        );
        diags.0.iter().map(|d| d.detail.clone()).collect::<Vec<_>>()
    };
    assert!(check(&config()).is_empty(), "{:?}", check(&config()));
    let no_scale = with(config(), |m| m.fixed_scale = Tf::Null);
    let errs = check(&no_scale);
    assert!(
        errs.iter()
            .any(|e| e.contains("fixed_scale") && e.contains("auto_scale")),
        "{errs:?}"
    );
    let both_images = with(config(), |m| m.virtual_machine_image_id = ks("/gallery/x"));
    let errs = check(&both_images);
    assert!(
        errs.iter()
            .any(|e| e.contains("virtual_machine_image_id") && e.contains("image")),
        "{errs:?}"
    );
    let unknown_scale = with(no_scale, |m| m.auto_scale = Tf::Unknown);
    assert!(check(&unknown_scale).is_empty());
}

#[test]
fn paths_come_from_the_model() {
    let cases: Vec<(tfplugin::AttrPath, &str)> = vec![
        (path_to(|m| m.vm_size = Tf::Unknown), "vm_size"),
        (
            path_to(|m| known_mut(&mut m.fixed_scale).resize_timeout = Tf::Unknown),
            "fixed_scale.resize_timeout",
        ),
        (registry_path(), "container.registry"),
        (start_task_container_path(), "start_task.container"),
    ];
    for (got, want) in cases {
        assert_eq!(got.to_string(), want);
    }
}
