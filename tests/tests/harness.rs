//! Proves the harness itself against Terraform's built-in `terraform_data` resource, on every
//! Terraform version under test. Needs no provider binary and no Batch service.

use std::time::Duration;

use e2e::{Workdir, for_each_terraform};
use serde_json::json;

const DATA_CONFIG: &str = r#"
variable "v" {
  type    = string
  default = "one"
}

resource "terraform_data" "a" {
  input = var.v
}

output "out" {
  value = terraform_data.a.output
}
"#;

#[test]
fn terraform_data_lifecycle() {
    for_each_terraform(|tf| {
        let wd = Workdir::without_provider(tf);
        wd.write_main(DATA_CONFIG);

        let plan = wd.plan_json();
        let changes = plan["resource_changes"]
            .as_array()
            .expect("resource_changes");
        assert_eq!(changes.len(), 1, "{plan}");
        assert_eq!(changes[0]["address"], "terraform_data.a");
        assert_eq!(changes[0]["change"]["actions"], json!(["create"]));
        assert!(
            !wd.plan_is_empty(false),
            "a fresh config must plan a create"
        );

        wd.apply();
        assert_eq!(wd.output("out"), json!("one"));
        let values = wd.resource("terraform_data.a").expect("resource in state");
        assert_eq!(values["input"], json!("one"));
        assert!(values["id"].as_str().is_some_and(|id| !id.is_empty()));
        wd.assert_plan_empty();

        // A changed input is seen by both plan helpers.
        let mut wd = wd;
        wd.set_env("TF_VAR_v", "two");
        assert!(!wd.plan_is_empty(false));
        let plan = wd.plan_json();
        assert_ne!(
            plan["resource_changes"][0]["change"]["actions"],
            json!(["no-op"])
        );
        wd.apply();
        assert_eq!(wd.output("out"), json!("two"));
        wd.assert_plan_empty();

        wd.destroy();
        assert_eq!(wd.state_addresses(), Vec::<String>::new());
    });
}

#[test]
fn validate_json_points_at_the_attribute() {
    for_each_terraform(|tf| {
        let wd = Workdir::without_provider(tf);
        wd.write_main("resource \"terraform_data\" \"a\" {\n  bogus = 1\n}\n");
        let v = wd.validate_json();
        assert!(!v.valid);
        assert_eq!(v.error_count, 1, "{:?}", v.diagnostics);
        let d = &v.diagnostics[0];
        assert_eq!(d.severity, "error");
        assert_eq!(d.summary, "Unsupported argument");
        assert!(d.detail.contains("\"bogus\""), "{}", d.text());
        assert_eq!(d.highlight(), Some("bogus"));
        assert_eq!(d.range.as_ref().map(|r| r.start.line), Some(2));

        // The same diagnostic through the -json UI of plan.
        let out = wd.plan_ui_json().assert_failure();
        let errors = out.errors();
        assert_eq!(errors.len(), 1, "{}", out.describe());
        assert_eq!(errors[0].summary, "Unsupported argument");
    });
}

#[test]
fn interrupt_stops_a_running_apply() {
    for_each_terraform(|tf| {
        let wd = Workdir::without_provider(tf);
        wd.write_main(
            r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 120 && touch finished"
  }
}
"#,
        );
        let mut running = wd.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert!(
            running.wait_for_stdout("Provisioning with 'local-exec'", Duration::from_secs(60)),
            "apply never reached the provisioner:\n{}",
            running.stdout_so_far()
        );
        running.interrupt();
        let out = running.wait();
        assert!(!out.timed_out, "{}", out.describe());
        assert!(out.code.is_some_and(|c| c != 0), "{}", out.describe());
        assert!(
            out.stdout.contains("Interrupt received"),
            "{}",
            out.describe()
        );
        // The provisioner was cut short rather than waited for: it never reached its end.
        assert!(
            !wd.path().join("finished").exists(),
            "the provisioner ran to its end: {}",
            out.describe()
        );
    });
}

#[test]
fn timeout_kills_the_command() {
    for_each_terraform(|tf| {
        let wd = Workdir::without_provider(tf);
        wd.write_main(
            r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 120"
  }
}
"#,
        );
        let out = wd.run_timeout(
            &["apply", "-auto-approve", "-input=false", "-no-color"],
            Duration::from_secs(5),
        );
        assert!(out.timed_out, "{}", out.describe());
        assert!(!out.success());
        assert_eq!(out.code, None, "killed by a signal: {}", out.describe());
    });
}

#[test]
fn container_engine_has_the_test_images() {
    e2e::require_docker!();
    for image in ["busybox:latest", e2e::HELLO_ENTRYPOINT_IMAGE] {
        let (status, body) =
            e2e::docker_api("GET", &format!("/v1.41/images/{image}/json")).expect("docker API");
        assert_eq!(
            status, 200,
            "image {image} missing (run scripts/setup-podman.sh): {body}"
        );
        let v: serde_json::Value = serde_json::from_str(&body).expect("image JSON");
        if image == e2e::HELLO_ENTRYPOINT_IMAGE {
            assert_eq!(
                v["Config"]["Entrypoint"],
                json!(["/bin/echo", e2e::HELLO_ENTRYPOINT_LINE]),
                "{body}"
            );
        }
    }
    let (status, body) =
        e2e::docker_api("GET", "/v1.41/containers/json?all=1").expect("docker API");
    assert_eq!(status, 200, "{body}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&body)
            .unwrap()
            .is_array()
    );
}

#[test]
fn null_provider_installs_from_the_mirror() {
    let mirror = e2e::tools_dir().join(
        "mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4",
    );
    if !mirror.is_file() {
        e2e::note(
            "SKIPPED null_provider_installs_from_the_mirror: run scripts/get-null-provider.sh",
        );
        return;
    }
    for_each_terraform(|tf| {
        let wd = Workdir::with_mirror(tf, false);
        wd.write_main(
            r#"
terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

resource "null_resource" "n" {
  triggers = { k = "v" }
}
"#,
        );
        let init = wd.init();
        assert!(
            init.stdout.contains("Installed hashicorp/null v2.1.2"),
            "{}",
            init.describe()
        );
        wd.apply();
        let values = wd
            .resource("null_resource.n")
            .expect("null_resource in state");
        assert_eq!(values["triggers"], json!({"k": "v"}));
        wd.assert_plan_empty();
        wd.destroy();
        assert!(wd.state_addresses().is_empty());
    });
}

#[test]
fn dev_overrides_warning_is_not_reported_as_a_diagnostic() {
    let fake_provider_dir = tempfile::tempdir().expect("temp dir");
    for_each_terraform(|tf| {
        let cli = e2e::dev_overrides_config(Some(fake_provider_dir.path()));
        let wd = Workdir::with_cli_config(tf, &cli);
        wd.write_main("resource \"terraform_data\" \"a\" {}\n");
        // Terraform itself reports it...
        let raw = wd.run(&["validate", "-json"]).assert_success();
        assert!(
            raw.stdout.contains(e2e::DEV_OVERRIDES_WARNING),
            "{}",
            raw.describe()
        );
        // ...the helpers drop it so tests can assert "no warnings".
        let v = wd.validate_json();
        assert!(v.valid);
        assert_eq!(
            (v.error_count, v.warning_count),
            (0, 0),
            "{:?}",
            v.diagnostics
        );
        assert!(v.diagnostics.is_empty());
        let plan = wd.plan_ui_json().assert_success();
        assert!(
            plan.json_lines()
                .iter()
                .any(|l| l["type"] == "planned_change")
        );
        assert!(plan.diagnostics().is_empty(), "{:?}", plan.diagnostics());
    });
}

#[test]
fn emulator_starts_on_a_free_port_and_restarts_with_its_data() {
    let mut a = e2e::Emulator::start(e2e::Runtime::Process);
    let b = e2e::Emulator::start(e2e::Runtime::Process);
    assert_ne!(a.endpoint(), b.endpoint(), "two services, two ports");
    let (status, body) = a.admin("GET", "/health", None);
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("health JSON");
    assert_eq!(health["account"], json!(a.account()));
    // Batch paths need a Shared Key signature: unsigned requests are refused.
    let (status, _) = a.request("GET", "/jobs?api-version=2024-07-01.20.0", None);
    assert!(
        status == 401 || status == 403,
        "unsigned request got {status}"
    );

    // A signed request through the Batch client is accepted.
    let jobs = e2e::block_on(async {
        let q = e2e::batch_client::ListQuery::default();
        a.client()
            .list_jobs(&q, &e2e::batch_client::RequestOptions::new())
            .await
    });
    assert!(jobs.expect("list jobs").is_empty());

    let endpoint = a.endpoint();
    let data_dir = a.data_dir().to_path_buf();
    a.restart();
    assert_eq!(a.endpoint(), endpoint);
    assert_eq!(a.data_dir(), data_dir);
    assert_eq!(a.admin("GET", "/health", None).0, 200);
}

/// The service's state through the client: `(task state, exit code, requeue count)`.
fn task_status(emu: &e2e::Emulator, job: &str, task: &str) -> (String, Option<i64>, i64) {
    let t = e2e::block_on(async {
        emu.client()
            .get_task(job, task, &e2e::batch_client::RequestOptions::new())
            .await
    })
    .expect("Task_Get")
    .unwrap_or_else(|| panic!("task {job}/{task} is gone"));
    let v = serde_json::to_value(&t.value).unwrap();
    (
        v["state"].as_str().unwrap_or_default().to_string(),
        v["executionInfo"]["exitCode"].as_i64(),
        v["executionInfo"]["requeueCount"].as_i64().unwrap_or(0),
    )
}

fn model<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("model")
}

#[test]
fn the_service_keeps_its_state_across_a_sigterm_restart() {
    use e2e::batch_client::RequestOptions;
    let mut emu = e2e::Emulator::start(e2e::Runtime::Process);
    let c = emu.client();
    let o = RequestOptions::new();
    e2e::block_on(async {
        c.add_pool(
            &model(json!({
                "id": "keep-pool",
                "vmSize": "STANDARD_D2S_V3",
                "virtualMachineConfiguration": {
                    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
                    "nodeAgentSKUId": "batch.node.ubuntu 22.04"
                },
                "targetDedicatedNodes": 1,
                "taskSlotsPerNode": 2,
                "metadata": [{"name": "owner", "value": "persistence"}]
            })),
            &o,
        )
        .await
        .expect("Pool_Add");
        c.add_job(
            &model(json!({"id": "keep-job", "poolInfo": {"poolId": "keep-pool"}, "priority": 7})),
            &o,
        )
        .await
        .expect("Job_Add");
        for (id, cmd) in [("done", "/bin/echo kept"), ("long", "/bin/sleep 600")] {
            c.add_task(
                "keep-job",
                &model(json!({"id": id, "commandLine": cmd})),
                &o,
            )
            .await
            .expect("Task_Add");
        }
    });
    e2e::wait_until(
        "one task done, one running",
        Duration::from_secs(120),
        || {
            let done = task_status(&emu, "keep-job", "done");
            let long = task_status(&emu, "keep-job", "long");
            (done.0 == "completed" && long.0 == "running").then_some(())
        },
    );

    emu.restart(); // SIGTERM, then the same binary on the same data directory

    let pool = e2e::block_on(c.get_pool("keep-pool", &o))
        .expect("Pool_Get")
        .expect("the pool survives the restart");
    let pool = serde_json::to_value(&pool.value).unwrap();
    assert_eq!(pool["targetDedicatedNodes"], 1, "{pool}");
    assert_eq!(pool["metadata"][0]["value"], "persistence", "{pool}");
    let job = e2e::block_on(c.get_job("keep-job", &o))
        .expect("Job_Get")
        .expect("the job survives the restart");
    assert_eq!(serde_json::to_value(&job.value).unwrap()["priority"], 7);
    assert_eq!(
        task_status(&emu, "keep-job", "done"),
        ("completed".to_string(), Some(0), 0),
        "a completed task stays completed"
    );
    // The task that was running when the service stopped is requeued (as when a node reboots)
    // and runs again on the recovered node.
    e2e::wait_until(
        "the requeued task to run again",
        Duration::from_secs(120),
        || {
            let (state, _, requeues) = task_status(&emu, "keep-job", "long");
            (requeues == 1 && state == "running").then_some(())
        },
    );
}
