//! The job schedule driven in-process by tfplugin's harness (Terraform core's side of the
//! protocol) against the local Batch service: the job's preparation, release and manager tasks
//! and its limits change in place (never a replacement), equal spellings plan nothing, and
//! import reads back what the configuration says.

use tfplugin::Value;
use tfplugin::testing::{Action, show_diags};

use crate::common::in_process_tests::InProcess;

fn s(v: &str) -> Value {
    Value::string(v)
}

fn container() -> Value {
    Value::object([("image_name", s("busybox"))])
}

/// A schedule whose first run is far away (no job is made while the test runs).
fn schedule(parallel: i64, prep: &str, wall: &str, retries: i64) -> Value {
    let manager = Value::object([
        ("name", s("report")),
        ("command_line", s("/bin/true")),
        ("container", container()),
        (
            "output_file",
            Value::List(vec![Value::object([
                ("file_pattern", s("report.txt")),
                (
                    "container_url",
                    s("https://a.blob.core.windows.net/c?sig=x"),
                ),
            ])]),
        ),
        (
            "constraints",
            Value::object([
                ("max_wall_clock_time", s(wall)),
                ("max_task_retry_count", Value::int(retries)),
            ]),
        ),
    ]);
    let job = Value::object([
        ("pool_id", s("hp")),
        ("max_parallel_tasks", Value::int(parallel)),
        ("metadata", Value::string_map([("run", "nightly")])),
        (
            "preparation_task",
            Value::object([("command_line", s(prep)), ("container", container())]),
        ),
        (
            "release_task",
            Value::object([("command_line", s("/bin/true")), ("container", container())]),
        ),
        ("manager_task", manager),
    ]);
    Value::object([
        ("name", s("hs")),
        (
            "schedule",
            Value::object([("do_not_run_until", s("2099-01-01T00:00:00Z"))]),
        ),
        ("job", job),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_tasks_and_limits_change_in_place_and_import_clean() {
    let t = InProcess::start("batch_job_schedule").await;
    let sc = t.step(None, &schedule(2, "/bin/true", "PT10M", 1)).await;
    let job = sc.new_state.get("job").clone();
    assert_eq!(job.get("max_parallel_tasks").as_i64(), Some(2));
    assert_eq!(
        job.get("manager_task")
            .get("constraints")
            .get("max_task_retry_count")
            .as_i64(),
        Some(1)
    );
    let state = sc.new_state.get("state").clone();
    assert_eq!(state, s("active"));

    // Same meaning, other spelling: nothing to do.
    assert_eq!(
        t.action(&sc, &schedule(2, "/bin/true", "PT600S", 1)).await,
        Action::NoOp
    );
    // Limits, the manager's constraints and the preparation task change in place.
    for cfg in [
        schedule(3, "/bin/true", "PT10M", 1),
        schedule(2, "/bin/true", "PT10M", 4),
        schedule(2, "/bin/sh -c 'echo again'", "PT10M", 1),
    ] {
        assert_eq!(t.action(&sc, &cfg).await, Action::Update);
    }
    let sc = t
        .step(Some(&sc), &schedule(3, "/bin/true", "PT20M", 4))
        .await;
    let job = sc.new_state.get("job").clone();
    assert_eq!(job.get("max_parallel_tasks").as_i64(), Some(3));
    assert_eq!(
        job.get("manager_task")
            .get("constraints")
            .get("max_wall_clock_time"),
        &s("PT20M")
    );
    // The update keeps the computed attributes known.
    assert_eq!(sc.new_state.get("state"), &state);

    // Import reads back what the configuration says.
    let imported =
        t.h.import("batch_job_schedule", "hs")
            .await
            .unwrap_or_else(|d| panic!("import: {}", show_diags(&d)));
    assert_eq!(imported[0].get("job"), sc.new_state.get("job"));

    t.destroy("batch_job_schedule", &sc).await;
    t.shutdown().await;
}
