//! The provider driven in-process by tfplugin's test harness (Terraform core's side of the
//! protocol, without Terraform) against the local Batch service started in the same process:
//! the quickstart's pool, job and container task, then import, update and destroy. The
//! end-to-end suite (tests/) proves the same with real Terraform; this runs in seconds.

use tfplugin::testing::{Harness, show_diags};
use tfplugin::{Number, Value};

use terraform_provider_batch::provider::BatchProvider;

fn s(v: &str) -> Value {
    Value::string(v)
}

fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::object(pairs)
}

struct Service {
    handle: batch_emulator::EmulatorHandle,
    _dir: tempfile::TempDir,
}

async fn service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let cfg = batch_emulator::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        allocation_delay: std::time::Duration::from_millis(100),
        node_start_delay: std::time::Duration::from_millis(100),
        delete_delay: std::time::Duration::from_millis(100),
        ..Default::default()
    };
    let handle = batch_emulator::start(cfg).await.unwrap();
    Service { handle, _dir: dir }
}

async fn harness(svc: &Service) -> Harness<BatchProvider> {
    let h = Harness::new(BatchProvider).await;
    h.configure(obj([
        ("account_name", s(batch_emulator::DEV_ACCOUNT)),
        ("account_endpoint", s(&svc.handle.url())),
        ("account_key", s(batch_emulator::DEV_KEY)),
    ]))
    .await
    .unwrap_or_else(|d| panic!("configure: {}", show_diags(&d)));
    h
}

fn pool_config(name: &str, nodes: i64) -> Value {
    obj([
        ("name", s(name)),
        ("vm_size", s("STANDARD_D2S_V3")),
        ("node_agent_sku_id", s("batch.node.ubuntu 22.04")),
        (
            "image",
            obj([
                ("publisher", s("microsoft-dsvm")),
                ("offer", s("ubuntu-hpc")),
                ("sku", s("2204")),
            ]),
        ),
        (
            "container",
            obj([("image_names", Value::string_list(["busybox"]))]),
        ),
        (
            "fixed_scale",
            obj([("target_dedicated_nodes", Value::int(nodes))]),
        ),
        ("wait_for", s("nodes_ready")),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_runs_a_task_and_plans_empty_after() {
    let svc = service().await;
    let h = harness(&svc).await;

    let pool = h
        .step("batch_container_pool", None, &pool_config("qs", 1))
        .await
        .unwrap_or_else(|d| panic!("pool: {}", show_diags(&d)));
    assert_eq!(pool.new_state.get("id"), &s("qs"));
    assert_eq!(pool.new_state.get("allocation_state"), &s("steady"));
    assert_eq!(
        pool.new_state.get("current_dedicated_nodes").as_i64(),
        Some(1)
    );
    // Batch lower-cases the VM size; the configured spelling stays.
    assert_eq!(pool.new_state.get("vm_size"), &s("STANDARD_D2S_V3"));

    let job_cfg = obj([("name", s("qs-job")), ("pool_id", s("qs"))]);
    let job = h
        .step("batch_job", None, &job_cfg)
        .await
        .unwrap_or_else(|d| panic!("job: {}", show_diags(&d)));
    assert_eq!(job.new_state.get("id"), &s("qs-job"));

    let task_cfg = obj([
        ("job_id", s("qs-job")),
        ("name", s("hello")),
        ("command_line", s("/bin/sh -c 'echo hello world; exit 0'")),
        ("container", obj([("image_name", s("busybox"))])),
        ("wait_for_completion", Value::Bool(true)),
    ]);
    let task = h
        .step("batch_container_task", None, &task_cfg)
        .await
        .unwrap_or_else(|d| panic!("task: {}", show_diags(&d)));
    assert_eq!(task.new_state.get("state"), &s("completed"));
    assert_eq!(task.new_state.get("exit_code").as_i64(), Some(0));

    let out = h
        .read_data_source(
            "batch_task_file",
            &obj([
                ("job_id", s("qs-job")),
                ("task_id", s("hello")),
                ("path", s("stdout.txt")),
            ]),
        )
        .await
        .unwrap_or_else(|d| panic!("task file: {}", show_diags(&d)));
    assert_eq!(
        out.get("content").as_str().map(str::trim),
        Some("hello world")
    );

    // Import finds the same objects.
    let imported = h
        .import("batch_container_task", "qs-job/hello")
        .await
        .unwrap_or_else(|d| panic!("import: {}", show_diags(&d)));
    assert_eq!(
        imported[0].get("command_line"),
        task_cfg.get("command_line")
    );

    h.destroy("batch_container_task", &task.new_state, &task.private)
        .await
        .unwrap_or_else(|d| panic!("destroy task: {}", show_diags(&d)));
    assert!(
        h.read("batch_container_task", &task.new_state, &task.private)
            .await
            .unwrap()
            .is_none(),
        "the task is gone after destroy"
    );
    h.destroy("batch_job", &job.new_state, &job.private)
        .await
        .unwrap();
    h.destroy("batch_container_pool", &pool.new_state, &pool.private)
        .await
        .unwrap();
    svc.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_resizes_in_place_and_a_case_only_change_plans_nothing() {
    let svc = service().await;
    let h = harness(&svc).await;
    let pool = h
        .step("batch_container_pool", None, &pool_config("p2", 0))
        .await
        .unwrap_or_else(|d| panic!("pool: {}", show_diags(&d)));

    let mut lower = pool_config("p2", 0);
    lower.set("vm_size", s("standard_d2s_v3"));
    let plan = h
        .plan(
            "batch_container_pool",
            &pool.new_state,
            &pool.private,
            &lower,
        )
        .await
        .unwrap_or_else(|d| panic!("plan: {}", show_diags(&d)));
    assert!(
        matches!(plan.action, tfplugin::testing::Action::NoOp),
        "a case-only change of vm_size plans {:?}",
        plan.action
    );

    let resized = h
        .step("batch_container_pool", Some(&pool), &pool_config("p2", 2))
        .await
        .unwrap_or_else(|d| panic!("resize: {}", show_diags(&d)));
    assert_eq!(
        resized.new_state.get("id"),
        &s("p2"),
        "updated, not replaced"
    );
    assert_eq!(
        resized.new_state.get("current_dedicated_nodes"),
        &Value::Number(Number::Int(2))
    );
    h.destroy("batch_container_pool", &resized.new_state, &resized.private)
        .await
        .unwrap();
    svc.handle.shutdown().await;
}
