//! Pool unit tests: errors and waiting.

use super::*;

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
        super::super::apply::merge_unknowns(&planned, &actual),
        Value::object([("a", Value::int(1)), ("b", Value::int(3))])
    );
}

#[test]
fn import_state_names_the_pool() {
    let r = super::super::apply::import("p1");
    assert!(r.diags.is_empty());
    let m = PoolModel::read(&r.state).unwrap();
    assert_eq!((m.id, m.name), (ks("p1"), ks("p1")));
    assert!(super::super::apply::import("bad name!").diags.has_errors());
}
