//! The job schedule driven in-process by tfplugin's harness (Terraform core's side of the
//! protocol) against the local Batch service: the job's preparation, release and manager tasks
//! and its limits change in place (never a replacement), equal spellings plan nothing, and
//! import reads back what the configuration says.

use tfplugin::Value;
use tfplugin::testing::{Action, Applied, Harness, show_diags};

use crate::provider::BatchProvider;

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

async fn step(h: &Harness<BatchProvider>, prior: Option<&Applied>, cfg: &Value) -> Applied {
    h.step("batch_job_schedule", prior, cfg)
        .await
        .unwrap_or_else(|d| panic!("step: {}", show_diags(&d)))
}

async fn action(h: &Harness<BatchProvider>, prior: &Applied, cfg: &Value) -> Action {
    h.plan("batch_job_schedule", &prior.new_state, &prior.private, cfg)
        .await
        .unwrap_or_else(|d| panic!("plan: {}", show_diags(&d)))
        .action
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_tasks_and_limits_change_in_place_and_import_clean() {
    let dir = tempfile::tempdir().unwrap();
    let svc = batch_emulator::start(batch_emulator::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        delete_delay: std::time::Duration::from_millis(50),
        ..Default::default()
    })
    .await
    .unwrap();
    let h = Harness::new(BatchProvider).await;
    h.configure(Value::object([
        ("account_name", s(batch_emulator::DEV_ACCOUNT)),
        ("account_endpoint", s(&svc.url())),
        ("account_key", s(batch_emulator::DEV_KEY)),
    ]))
    .await
    .unwrap_or_else(|d| panic!("configure: {}", show_diags(&d)));

    let sc = step(&h, None, &schedule(2, "/bin/true", "PT10M", 1)).await;
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
        action(&h, &sc, &schedule(2, "/bin/true", "PT600S", 1)).await,
        Action::NoOp
    );
    // Limits, the manager's constraints and the preparation task change in place.
    for cfg in [
        schedule(3, "/bin/true", "PT10M", 1),
        schedule(2, "/bin/true", "PT10M", 4),
        schedule(2, "/bin/sh -c 'echo again'", "PT10M", 1),
    ] {
        assert_eq!(action(&h, &sc, &cfg).await, Action::Update);
    }
    let sc = step(&h, Some(&sc), &schedule(3, "/bin/true", "PT20M", 4)).await;
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
    let imported = h
        .import("batch_job_schedule", "hs")
        .await
        .unwrap_or_else(|d| panic!("import: {}", show_diags(&d)));
    assert_eq!(imported[0].get("job"), sc.new_state.get("job"));

    h.destroy("batch_job_schedule", &sc.new_state, &sc.private)
        .await
        .unwrap_or_else(|d| panic!("destroy: {}", show_diags(&d)));
    svc.shutdown().await;
}
