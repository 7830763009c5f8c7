//! Pool unit tests: declared semantics, server defaults and rules.

use super::*;

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
            &super::super::schema().block,
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
