//! Terraform 1.14+ adoption in-process (tfplugin's harness against the local Batch service):
//! objects made with the Batch API are listed with the filters, the generated configuration
//! validates and plans nothing but the import, and a pool that is not a container pool is
//! neither listed nor importable. tests/tests/query_actions.rs does the same with real Terraform.

use batch_client::models::{JobAddParameter, PoolAddParameter, TaskAddParameter};
use batch_client::{Auth, BatchClient, ClientConfig, RequestOptions};
use tfplugin::Value;
use tfplugin::testing::{Action, Harness, show_diags};

use terraform_provider_batch::provider::BatchProvider;

struct Service {
    handle: batch_emulator::EmulatorHandle,
    api: BatchClient,
    _dir: tempfile::TempDir,
}

async fn service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let cfg = batch_emulator::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        allocation_delay: std::time::Duration::from_millis(50),
        node_start_delay: std::time::Duration::from_millis(50),
        delete_delay: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let handle = batch_emulator::start(cfg).await.unwrap();
    let auth = Auth::shared_key(batch_emulator::DEV_ACCOUNT, batch_emulator::DEV_KEY).unwrap();
    let api = BatchClient::new(ClientConfig::new(handle.url(), auth)).unwrap();
    Service {
        handle,
        api,
        _dir: dir,
    }
}

async fn harness(svc: &Service) -> Harness<BatchProvider> {
    let h = Harness::new(BatchProvider).await;
    h.configure(Value::object([
        ("account_name", Value::string(batch_emulator::DEV_ACCOUNT)),
        ("account_endpoint", Value::string(svc.handle.url())),
        ("account_key", Value::string(batch_emulator::DEV_KEY)),
    ]))
    .await
    .unwrap_or_else(|d| panic!("configure: {}", show_diags(&d)));
    h
}

fn pool(id: &str, containers: bool) -> PoolAddParameter {
    let mut vmc = serde_json::json!({
        "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204"},
        "nodeAgentSKUId": "batch.node.ubuntu 22.04"
    });
    if containers {
        vmc["containerConfiguration"] =
            serde_json::json!({"type": "dockerCompatible", "containerImageNames": ["busybox"]});
    }
    serde_json::from_value(serde_json::json!({
        "id": id, "vmSize": "standard_d2s_v3", "displayName": format!("pool {id}"),
        "virtualMachineConfiguration": vmc, "targetDedicatedNodes": 0,
        "metadata": [{"name": "team", "value": "render"}]
    }))
    .unwrap()
}

fn job(id: &str, pool: &str) -> JobAddParameter {
    serde_json::from_value(
        serde_json::json!({"id": id, "poolInfo": {"poolId": pool}, "priority": 10}),
    )
    .unwrap()
}

fn task(id: &str) -> TaskAddParameter {
    serde_json::from_value(serde_json::json!({
        "id": id, "commandLine": "/bin/sh -c 'exit 0'",
        "containerSettings": {"imageName": "busybox"}
    }))
    .unwrap()
}

/// What Terraform made of `terraform query -generate-config-out` then `terraform plan`: the
/// generated configuration validates, and planning it over the imported object changes nothing.
async fn adopts_cleanly(h: &Harness<BatchProvider>, type_name: &str, id: &str, object: &Value) {
    let config = h
        .generate_config(type_name, object)
        .await
        .unwrap_or_else(|d| panic!("generate {type_name} {id}: {}", show_diags(&d)));
    let (state, private) = h
        .import_with_private(type_name, id)
        .await
        .unwrap_or_else(|d| panic!("import {type_name} {id}: {}", show_diags(&d)))
        .remove(0);
    let plan = h
        .plan(type_name, &state, &private, &config)
        .await
        .unwrap_or_else(|d| panic!("plan {type_name} {id}: {}", show_diags(&d)));
    assert_eq!(
        plan.action,
        Action::NoOp,
        "{type_name} {id}: the generated configuration plans a change:\n{config:?}\nstate {state:?}\nplanned {:?}",
        plan.planned_state
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_made_outside_terraform_are_listed_and_adopted() {
    let svc = service().await;
    let o = RequestOptions::new();
    for (id, containers) in [("render-a", true), ("other", true), ("win", false)] {
        svc.api.add_pool(&pool(id, containers), &o).await.unwrap();
    }
    svc.api
        .add_job(&job("frames", "render-a"), &o)
        .await
        .unwrap();
    svc.api.add_job(&job("misc", "other"), &o).await.unwrap();
    svc.api.add_task("frames", &task("f1"), &o).await.unwrap();
    let h = harness(&svc).await;

    // Pools: the prefix goes to Batch; the Windows-style pool is never listed.
    let all = h
        .list(
            "batch_container_pool",
            &Value::object::<_, &str>([]),
            true,
            100,
        )
        .await
        .unwrap_or_else(|d| panic!("list pools: {}", show_diags(&d)));
    let mut names: Vec<_> = all
        .iter()
        .map(|l| l.identity.get_str("name").unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["other", "render-a"]);
    let render = h
        .list(
            "batch_container_pool",
            &Value::object([("name_prefix", Value::string("render-"))]),
            true,
            100,
        )
        .await
        .unwrap();
    assert_eq!(render.len(), 1);
    assert_eq!(render[0].display_name, "render-a (pool render-a)");
    adopts_cleanly(
        &h,
        "batch_container_pool",
        "render-a",
        render[0].object.as_ref().unwrap(),
    )
    .await;

    // Jobs by pool; the limit stops the listing.
    let jobs = h
        .list(
            "batch_job",
            &Value::object([
                ("pool_id", Value::string("render-a")),
                ("state", Value::string("active")),
            ]),
            true,
            100,
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].identity.get_str("name"), Some("frames"));
    adopts_cleanly(&h, "batch_job", "frames", jobs[0].object.as_ref().unwrap()).await;
    let one = h
        .list("batch_job", &Value::object::<_, &str>([]), false, 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(one[0].object.is_none(), "objects only when asked for");

    // Tasks of a job.
    let tasks = h
        .list(
            "batch_container_task",
            &Value::object([("job_id", Value::string("frames"))]),
            true,
            100,
        )
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].identity.get_str("job_id"), Some("frames"));
    assert_eq!(tasks[0].identity.get_str("name"), Some("f1"));
    adopts_cleanly(
        &h,
        "batch_container_task",
        "frames/f1",
        tasks[0].object.as_ref().unwrap(),
    )
    .await;

    // A pool that is not a container pool cannot be imported as one.
    let err = h.import("batch_container_pool", "win").await.unwrap_err();
    let text = show_diags(&err);
    assert!(
        text.contains("not a container pool") && text.contains("batch_pool"),
        "{text}"
    );

    svc.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_run_a_container_task_and_terminate_a_job() {
    let svc = service().await;
    let o = RequestOptions::new();
    let mut p = pool("runners", true);
    p.target_dedicated_nodes = Some(1);
    svc.api.add_pool(&p, &o).await.unwrap();
    svc.api.add_job(&job("ops", "runners"), &o).await.unwrap();
    let h = harness(&svc).await;
    let run = |cmd: &str| {
        Value::object([
            ("job_id", Value::string("ops")),
            ("command_line", Value::string(cmd)),
            (
                "container",
                Value::object([("image_name", Value::string("busybox"))]),
            ),
        ])
    };

    let ok = h
        .invoke_action("batch_container_run", &run("/bin/sh -c 'echo fine'"))
        .await
        .unwrap_or_else(|d| panic!("invoke: {}", show_diags(&d)));
    assert!(!ok.diags.has_errors(), "{}", show_diags(&ok.diags));
    let shown = ok.progress.join("\n");
    assert!(shown.contains(": queued"), "{shown}");
    assert!(shown.contains(" on node "), "{shown}");
    assert!(shown.contains("completed with exit code 0"), "{shown}");

    let bad = h
        .invoke_action(
            "batch_container_run",
            &run("/bin/sh -c 'echo migration failed >&2; exit 3'"),
        )
        .await
        .unwrap();
    let text = show_diags(&bad.diags);
    assert!(bad.diags.has_errors());
    assert!(
        text.contains("exit code 3") && text.contains("migration failed"),
        "{text}"
    );

    // A container block is required, at validation time.
    let mut no_container = run("true");
    no_container.set("container", Value::Null);
    let err = h
        .invoke_action("batch_container_run", &no_container)
        .await
        .unwrap_err();
    assert!(
        show_diags(&err).contains("container"),
        "{}",
        show_diags(&err)
    );

    // Terminate a job with a task still running.
    svc.api
        .add_task(
            "ops",
            &{
                let mut t = task("long");
                t.command_line = "/bin/sh -c 'sleep 300'".into();
                t
            },
            &o,
        )
        .await
        .unwrap();
    // Terminate once it runs (waiting on the service's state, not on time).
    while svc
        .api
        .get_task("ops", "long", &o)
        .await
        .unwrap()
        .unwrap()
        .value
        .state
        .as_deref()
        != Some("running")
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let stop = h
        .invoke_action(
            "batch_job_terminate",
            &Value::object([
                ("job_id", Value::string("ops")),
                ("reason", Value::string("cancelled by test")),
                ("timeout", Value::string("2m")),
            ]),
        )
        .await
        .unwrap();
    assert!(!stop.diags.has_errors(), "{}", show_diags(&stop.diags));
    let j = svc.api.get_job("ops", &o).await.unwrap().unwrap().value;
    assert_eq!(j.state.as_deref(), Some("completed"));
    let t = svc
        .api
        .get_task("ops", "long", &o)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(t.state.as_deref(), Some("completed"));
    assert!(
        stop.progress.last().unwrap().contains("terminated"),
        "{:?}",
        stop.progress
    );

    svc.handle.shutdown().await;
}

fn s(v: &str) -> Value {
    Value::string(v)
}

/// OpenTofu's calls: up to 1.10 no ClientCapabilities at all, 1.11+ only
/// write_only_attributes_allowed, and never ListResource, GenerateResourceConfig or actions.
/// Every resource plans, applies, imports and reads; every data source reads; a write-only value
/// is refused where the client did not declare it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentofu_call_pattern_works_for_every_resource_and_data_source() {
    use tfplugin::testing::ClientCapabilities;
    let svc = service().await;
    let tofu_1_11 = ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    };
    for (n, caps) in [None, Some(tofu_1_11)].into_iter().enumerate() {
        let h = harness(&svc).await.with_client_capabilities(caps);
        let pool_name = format!("tofu{n}");
        let pool_cfg = Value::object([
            ("name", s(&pool_name)),
            ("vm_size", s("STANDARD_D2S_V3")),
            ("node_agent_sku_id", s("batch.node.ubuntu 22.04")),
            (
                "image",
                Value::object([
                    ("publisher", s("microsoft-dsvm")),
                    ("offer", s("ubuntu-hpc")),
                    ("sku", s("2204")),
                ]),
            ),
            (
                "container",
                Value::object([("image_names", Value::string_list(["busybox"]))]),
            ),
            (
                "fixed_scale",
                Value::object([("target_dedicated_nodes", Value::int(1))]),
            ),
            ("wait_for", s("nodes_ready")),
        ]);
        let job_name = format!("tofu-job{n}");
        let job_cfg = Value::object([("name", s(&job_name)), ("pool_id", s(&pool_name))]);
        let task_cfg = Value::object([
            ("job_id", s(&job_name)),
            ("name", s("hello")),
            ("command_line", s("/bin/sh -c 'echo hi'")),
            ("container", Value::object([("image_name", s("busybox"))])),
            ("wait_for_completion", Value::Bool(true)),
        ]);
        for (type_name, config, id) in [
            ("batch_container_pool", &pool_cfg, pool_name.clone()),
            ("batch_job", &job_cfg, job_name.clone()),
            (
                "batch_container_task",
                &task_cfg,
                format!("{job_name}/hello"),
            ),
        ] {
            let made = h
                .step(type_name, None, config)
                .await
                .unwrap_or_else(|d| panic!("{caps:?} {type_name}: {}", show_diags(&d)));
            let read = h
                .read(type_name, &made.new_state, &made.private)
                .await
                .unwrap();
            assert!(read.is_some(), "{type_name} reads back");
            let imported = h
                .import(type_name, &id)
                .await
                .unwrap_or_else(|d| panic!("{caps:?} import {type_name}: {}", show_diags(&d)));
            assert_eq!(imported[0].get("id"), made.new_state.get("id"));
        }
        for (ds, config) in [
            ("batch_pool", Value::object([("name", s(&pool_name))])),
            ("batch_supported_images", Value::object::<_, &str>([])),
            (
                "batch_task_file",
                Value::object([
                    ("job_id", s(&job_name)),
                    ("task_id", s("hello")),
                    ("path", s("stdout.txt")),
                ]),
            ),
        ] {
            h.read_data_source(ds, &config)
                .await
                .unwrap_or_else(|d| panic!("{caps:?} data source {ds}: {}", show_diags(&d)));
        }
        // A write-only registry password only where the client declared write-only support.
        let mut with_wo = task_cfg.clone();
        with_wo.set(
            "container",
            Value::object([
                ("image_name", s("busybox")),
                (
                    "registry",
                    Value::object([("username", s("u")), ("password_wo", s("secret"))]),
                ),
            ]),
        );
        let d = h.validate_resource("batch_container_task", &with_wo).await;
        if caps.is_none() {
            let text = show_diags(&d);
            assert!(d.has_errors() && text.contains("password_wo"), "{text}");
        } else {
            assert!(!d.has_errors(), "{}", show_diags(&d));
        }
    }
    svc.handle.shutdown().await;
}
