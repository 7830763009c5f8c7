//! The job driven in-process by tfplugin's harness (Terraform core's side of the protocol)
//! against the local Batch service: create, in-place updates (Patch and PUT), what plans
//! nothing (declared semantics), what replaces (the update planner), import and destroy.

use tfplugin::Value;
use tfplugin::testing::{Action, show_diags};

use crate::common::in_process_tests::InProcess;

fn s(v: &str) -> Value {
    Value::string(v)
}

fn job_config(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::object([("name", s("hj")), ("pool_id", s("hp"))]);
    for (k, x) in pairs {
        v.set(k, x.clone());
    }
    v
}

fn constraints(wall: Option<&str>, retries: Option<i64>) -> Value {
    Value::object([
        ("max_wall_clock_time", Value::opt_string(wall)),
        ("max_task_retry_count", Value::opt_int(retries)),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_updates_in_place_replaces_when_it_must_and_imports() {
    let t = InProcess::start("batch_job").await;
    let pool_cfg = Value::object([
        ("name", s("hp")),
        ("vm_size", s("STANDARD_D2S_V3")),
        ("node_agent_sku_id", s("batch.node.ubuntu 22.04")),
        ("virtual_machine_image_id", s("/images/x")),
        (
            "container",
            Value::object([("type", s("dockerCompatible"))]),
        ),
        (
            "fixed_scale",
            Value::object([("target_dedicated_nodes", Value::int(0))]),
        ),
        ("wait_for", s("none")),
    ]);
    let pool =
        t.h.step("batch_container_pool", None, &pool_cfg)
            .await
            .unwrap_or_else(|d| panic!("pool: {}", show_diags(&d)));

    let full = |priority: i64, retries: Option<i64>, on_all: &str| {
        job_config(&[
            ("priority", Value::int(priority)),
            ("on_all_tasks_complete", s(on_all)),
            ("constraints", constraints(Some("PT2H"), retries)),
            ("metadata", Value::string_map([("team", "render")])),
        ])
    };
    let job = t.step(None, &full(0, Some(1), "terminatejob")).await;
    assert_eq!(job.new_state.get("id"), &s("hj"));
    assert_eq!(job.new_state.get("state"), &s("active"));

    // Same meaning, other spelling: nothing to do (IgnoreCase, SameIsoDuration).
    let mut respelled = full(0, Some(1), "terminatejob");
    respelled.set("name", s("HJ"));
    respelled.set("pool_id", s("HP"));
    respelled.set("constraints", constraints(Some("PT120M"), Some(1)));
    assert_eq!(t.action(&job, &respelled).await, Action::NoOp);

    // In place: Job_Patch, then Job_Update (PUT) to drop a constraint; a refresh plans nothing.
    let job = t.step(Some(&job), &full(10, Some(1), "terminatejob")).await;
    assert_eq!(job.new_state.get("priority").as_i64(), Some(10));
    let job = t.step(Some(&job), &full(10, None, "terminatejob")).await;
    assert!(
        job.new_state
            .get("constraints")
            .get("max_task_retry_count")
            .is_null()
    );

    // Batch refuses terminatejob -> noaction: the plan says replace.
    assert_eq!(
        t.action(&job, &full(10, None, "noaction")).await,
        Action::Replace
    );

    // Import finds what the configuration says.
    let imported =
        t.h.import("batch_job", "hj")
            .await
            .unwrap_or_else(|d| panic!("import: {}", show_diags(&d)));
    for attr in [
        "priority",
        "on_all_tasks_complete",
        "metadata",
        "constraints",
    ] {
        assert_eq!(imported[0].get(attr), job.new_state.get(attr), "{attr}");
    }

    t.destroy("batch_job", &job).await;
    t.destroy("batch_container_pool", &pool).await;
    t.shutdown().await;
}
