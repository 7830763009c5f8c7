//! Terraform 1.14+ adoption and actions with real Terraform: `terraform query` lists objects made
//! outside Terraform with the filters, `-generate-config-out` writes a configuration whose plan
//! only imports, and actions run a container task and terminate a job. Terraform before 1.14
//! has neither feature; there the provider must keep working as before.

use batch_client::RequestOptions;
use batch_client::models::{JobAddParameter, PoolAddParameter, TaskAddParameter};
use e2e::{Emulator, Runtime, Workdir, block_on, for_each_terraform, note};
use serde_json::json;

fn pool(id: &str, containers: bool, nodes: i32) -> PoolAddParameter {
    let mut vmc = json!({
        "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204"},
        "nodeAgentSKUId": "batch.node.ubuntu 22.04"
    });
    if containers {
        vmc["containerConfiguration"] =
            json!({"type": "dockerCompatible", "containerImageNames": ["busybox"]});
    }
    serde_json::from_value(json!({
        "id": id, "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": vmc,
        "targetDedicatedNodes": nodes
    }))
    .unwrap()
}

fn job(id: &str, pool: &str) -> JobAddParameter {
    serde_json::from_value(json!({"id": id, "poolInfo": {"poolId": pool}, "priority": 5})).unwrap()
}

fn task(id: &str, cmd: &str) -> TaskAddParameter {
    serde_json::from_value(json!({
        "id": id, "commandLine": cmd, "containerSettings": {"imageName": "busybox"}
    }))
    .unwrap()
}

const QUERY: &str = r#"
list "batch_container_pool" "render" {
  provider = batch
  config { name_prefix = "render-" }
}
list "batch_job" "frames" {
  provider = batch
  config {
    pool_id = "render-a"
    state   = "active"
  }
}
list "batch_container_task" "failed" {
  provider = batch
  config {
    job_id      = "frames"
    failed_only = true
  }
}
"#;

/// A provider-only configuration still validates and plans on Terraform without list/action support.
fn older_terraform_unaffected(tf: &e2e::Terraform, emu: &Emulator) {
    let wd = Workdir::new(tf);
    wd.write_main(&format!(
        "{}\nresource \"batch_job\" \"j\" {{\n  name    = \"old\"\n  pool_id = \"render-a\"\n}}\n",
        emu.provider_hcl()
    ));
    wd.run_ok(&["validate", "-no-color"]);
    wd.run_ok(&["plan", "-no-color"]);
    note(&format!(
        "{}: list resources and actions need Terraform 1.14 or later; checked the provider still plans",
        tf.label()
    ));
}

#[test]
fn query_lists_objects_made_outside_terraform_and_adopts_them() {
    for_each_terraform(|tf| {
        let emu = Emulator::start(Runtime::Process);
        block_on(async {
            let api = emu.client();
            let o = RequestOptions::new();
            for (id, containers) in [("render-a", true), ("other", true), ("win", false)] {
                api.add_pool(&pool(id, containers, 1), &o).await.unwrap();
            }
            api.add_job(&job("frames", "render-a"), &o).await.unwrap();
            api.add_job(&job("misc", "other"), &o).await.unwrap();
            api.add_task("frames", &task("ok", "/bin/sh -c 'exit 0'"), &o)
                .await
                .unwrap();
            api.add_task("frames", &task("bad", "/bin/sh -c 'exit 3'"), &o)
                .await
                .unwrap();
            // The failed_only filter needs the tasks to have run: wait on the service's state.
            loop {
                let ts = api
                    .list_tasks("frames", &Default::default(), &o)
                    .await
                    .unwrap();
                if ts.iter().all(|t| t.state.as_deref() == Some("completed")) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        if !tf.at_least(1, 14) {
            older_terraform_unaffected(tf, &emu);
            return;
        }
        let wd = Workdir::new(tf);
        wd.write_main(&emu.provider_hcl());
        wd.write_file("adopt.tfquery.hcl", QUERY);
        let out = wd
            .run_ok(&["query", "-no-color", "-generate-config-out=generated.tf"])
            .combined();
        // One line per object: `list.<type>.<name>   <identity>   <display name>`.
        for listed in ["name=render-a", "name=frames", "job_id=frames,name=bad"] {
            assert!(out.contains(listed), "{listed} not listed:\n{out}");
        }
        for filtered in ["name=other", "name=win", "name=misc", "name=ok"] {
            assert!(!out.contains(filtered), "{filtered} listed:\n{out}");
        }
        let generated = wd.read_file("generated.tf");
        assert!(generated.contains("import {"), "{generated}");
        assert!(
            generated.contains("\"batch_container_pool\""),
            "{generated}"
        );
        assert!(
            !generated.contains("current_dedicated_nodes"),
            "no computed attributes:\n{generated}"
        );

        let plan = wd.plan_json();
        let changes = plan["resource_changes"]
            .as_array()
            .expect("resource_changes");
        assert_eq!(changes.len(), 3, "{plan}");
        for change in changes {
            assert_eq!(
                change["change"]["actions"],
                json!(["no-op"]),
                "{}: {change}\n{generated}",
                tf.label()
            );
            assert!(
                change["change"]["importing"].is_object(),
                "not an import: {change}"
            );
        }
        wd.apply();
        wd.assert_plan_empty();
    });
}

const ACTIONS: &str = r#"
resource "batch_job" "ops" {
  name     = "ops"
  pool_id  = "runners"
  priority = var.priority
  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.batch_container_run.ok]
    }
  }
}
variable "priority" {
  type    = number
  default = 1
}
action "batch_container_run" "ok" {
  config {
    job_id       = "ops"
    command_line = "/bin/sh -c 'echo all good'"
    container { image_name = "busybox" }
  }
}
action "batch_container_run" "bad" {
  config {
    job_id       = "ops"
    command_line = "/bin/sh -c 'echo migration failed >&2; exit 3'"
    container { image_name = "busybox" }
  }
}
action "batch_job_terminate" "stop" {
  config {
    job_id = "ops"
    reason = "cancelled by operator"
  }
}
"#;

#[test]
fn actions_run_a_container_task_and_terminate_a_job() {
    for_each_terraform(|tf| {
        let emu = Emulator::start(Runtime::Process);
        block_on(async {
            let api = emu.client();
            api.add_pool(&pool("runners", true, 1), &RequestOptions::new())
                .await
                .unwrap();
        });
        if !tf.at_least(1, 14) {
            note(&format!(
                "{}: actions need Terraform 1.14 or later",
                tf.label()
            ));
            return;
        }
        let wd = Workdir::new(tf);
        wd.write_main(&format!("{}\n{ACTIONS}", emu.provider_hcl()));
        wd.apply();

        let out = wd
            .run_ok(&[
                "apply",
                "-no-color",
                "-auto-approve",
                "-invoke=action.batch_container_run.ok",
            ])
            .combined();
        assert!(out.contains(": queued"), "{out}");
        assert!(out.contains("completed with exit code 0"), "{out}");

        let out = wd
            .run(&[
                "apply",
                "-no-color",
                "-auto-approve",
                "-invoke=action.batch_container_run.bad",
            ])
            .assert_failure()
            .combined();
        assert!(out.contains("exit code 3"), "{out}");
        assert!(out.contains("migration failed"), "stderr tail:\n{out}");

        // after_update: changing the job runs the action.
        let out = wd
            .run_ok(&["apply", "-no-color", "-auto-approve", "-var=priority=2"])
            .combined();
        assert!(
            out.contains("completed with exit code 0"),
            "the trigger ran:\n{out}"
        );

        // Terminate the job while a task runs.
        block_on(async {
            let api = emu.client();
            let o = RequestOptions::new();
            api.add_task("ops", &task("long", "/bin/sh -c 'sleep 300'"), &o)
                .await
                .unwrap();
            while api
                .get_task("ops", "long", &o)
                .await
                .unwrap()
                .unwrap()
                .value
                .state
                .as_deref()
                != Some("running")
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        let out = wd
            .run_ok(&[
                "apply",
                "-no-color",
                "-auto-approve",
                "-invoke=action.batch_job_terminate.stop",
            ])
            .combined();
        assert!(out.contains("terminated"), "{out}");
        block_on(async {
            let api = emu.client();
            let o = RequestOptions::new();
            let j = api.get_job("ops", &o).await.unwrap().unwrap().value;
            assert_eq!(j.state.as_deref(), Some("completed"));
            let t = api
                .get_task("ops", "long", &o)
                .await
                .unwrap()
                .unwrap()
                .value;
            assert_eq!(t.state.as_deref(), Some("completed"));
        });
    });
}
