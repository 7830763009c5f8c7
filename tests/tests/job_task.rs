//! `batch_job` and `batch_container_task` end to end: the seed scenario (a container task whose
//! output reaches a Terraform output through `batch_task_file`), in-place updates and
//! replacements, failed tasks (error report, taint, re-run), vanished tasks, import, many tasks
//! with injected faults (each created exactly once), the image ENTRYPOINT on both runtimes, and
//! plan-time validation. Each scenario runs on every Terraform version under test.

mod batch_api;

use std::time::Duration;

use batch_api::{
    actions, after_unknown, api, get, is_tainted, list_tasks, pool, start, wait_until,
};
use e2e::{
    Emulator, HELLO_ENTRYPOINT_IMAGE, HELLO_ENTRYPOINT_LINE, Runtime, Workdir, for_each_terraform,
};
use serde_json::{Value, json};

const SEED_TASK: &str = r#"
resource "batch_container_task" "hello" {
  job_id       = batch_job.job.id
  name         = "hello"
  command_line = "/bin/sh -c \"echo 'hello world' > $AZ_BATCH_TASK_WORKING_DIR/output.txt\""
  container {
    image_name  = "IMAGE"
    run_options = "--rm --workdir /"
  }
  CONSTRAINTS
  wait_for_completion = true
}

data "batch_task_file" "output" {
  job_id  = batch_job.job.id
  task_id = batch_container_task.hello.name
  path    = "wd/output.txt"
}

output "hello" {
  value = data.batch_task_file.output.content
}
"#;

fn job_hcl(pool_ref: &str, extra: &str) -> String {
    format!(
        r#"
resource "batch_job" "job" {{
  name    = "render"
  pool_id = {pool_ref}
  {extra}
}}
"#
    )
}

fn seed_task(image: &str, constraints: &str) -> String {
    SEED_TASK
        .replace("IMAGE", image)
        .replace("CONSTRAINTS", constraints)
}

/// The task as the service reports it.
fn task(emu: &Emulator, job: &str, name: &str) -> Value {
    get(emu, &format!("/jobs/{job}/tasks/{name}"))
}

#[test]
fn seed_scenario_updates_failures_and_import() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 4);
        let base = format!("{}{pool_hcl}", emu.provider_hcl());

        // 1. The seed scenario: the task's file reaches the user as an output.
        wd.write_main(&format!(
            "{base}{}{}",
            job_hcl(&pool_ref, ""),
            seed_task("busybox", "")
        ));
        // Ids follow from names, so the plan shows them (and the task's job_id) before apply.
        let plan = wd.plan_json();
        let after = |addr: &str| {
            plan["resource_changes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["address"] == addr)
                .map(|c| c["change"]["after"].clone())
                .unwrap_or_else(|| panic!("no change for {addr}"))
        };
        assert_eq!(after("batch_job.job")["id"], "render");
        assert_eq!(after("batch_container_task.hello")["job_id"], "render");
        assert_eq!(after("batch_container_task.hello")["id"], "render/hello");
        assert!(
            !after_unknown(&plan, "batch_container_task.hello").contains(&"id".to_string()),
            "{plan}"
        );
        if !pool_hcl.is_empty() {
            assert_eq!(after("batch_container_pool.pool")["id"], batch_api::POOL);
        }
        wd.apply();
        assert_eq!(wd.output("hello"), json!("hello world\n"));
        let hello = wd.resource("batch_container_task.hello").unwrap();
        assert_eq!(hello["id"], "render/hello");
        assert_eq!(hello["state"], "completed");
        assert_eq!(hello["exit_code"], 0);
        assert_eq!(hello["result"], "success");
        assert_eq!(hello["retry_count"], 0);
        assert!(
            hello["node_id"].as_str().is_some_and(|n| !n.is_empty()),
            "{hello}"
        );
        let started = hello["start_time"]
            .as_str()
            .expect("start_time")
            .to_string();
        assert!(hello["end_time"].as_str().is_some(), "{hello}");
        let job = wd.resource("batch_job.job").unwrap();
        assert_eq!(job["id"], "render");
        assert_eq!(job["state"], "active");
        assert_eq!(job["priority"], 0);
        assert_eq!(job["max_parallel_tasks"], -1);
        wd.assert_plan_empty();
        let remote = task(&emu, "render", "hello");
        assert_eq!(
            remote["containerSettings"]["containerRunOptions"],
            "--rm --workdir /"
        );
        assert_eq!(
            remote["commandLine"],
            "/bin/sh -c \"echo 'hello world' > $AZ_BATCH_TASK_WORKING_DIR/output.txt\""
        );

        // 2. Task constraints change in place (Task_Update); the finished task is not re-run.
        let constraints =
            "constraints {\n    max_wall_clock_time = \"PT1H\"\n    retention_time = \"P2D\"\n  }";
        wd.write_main(&format!(
            "{base}{}{}",
            job_hcl(&pool_ref, ""),
            seed_task("busybox", constraints)
        ));
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_task.hello"), ["update"]);
        assert_eq!(actions(&plan, "batch_job.job"), ["no-op"]);
        // The run's outputs stay known in the plan (an update does not re-run the task).
        assert_eq!(
            after_unknown(&plan, "batch_container_task.hello"),
            Vec::<String>::new()
        );
        wd.apply();
        let remote = task(&emu, "render", "hello");
        assert_eq!(remote["constraints"]["retentionTime"], "P2D", "{remote}");
        assert_eq!(
            remote["constraints"]["maxWallClockTime"], "PT1H",
            "{remote}"
        );
        let hello = wd.resource("batch_container_task.hello").unwrap();
        assert_eq!(
            hello["start_time"],
            started.as_str(),
            "an update must not re-run the task"
        );
        wd.assert_plan_empty();

        // 3. An image change replaces the task (and runs it again).
        wd.write_main(&format!(
            "{base}{}{}",
            job_hcl(&pool_ref, ""),
            seed_task("busybox:latest", constraints)
        ));
        let plan = wd.plan_json();
        assert_eq!(
            actions(&plan, "batch_container_task.hello"),
            ["delete", "create"]
        );
        wd.apply();
        assert_eq!(
            task(&emu, "render", "hello")["containerSettings"]["imageName"],
            "busybox:latest"
        );
        assert_eq!(wd.output("hello"), json!("hello world\n"));
        wd.assert_plan_empty();

        // 4. Job updates in place: priority, max_parallel_tasks, metadata, constraints (Job_Patch) ...
        let tasks = seed_task("busybox:latest", constraints);
        let job_extra = "priority = 100\n  max_parallel_tasks = 2\n  metadata = { team = \"render\" }\n  constraints {\n    max_task_retry_count = 1\n    max_wall_clock_time = \"PT2H\"\n  }";
        wd.write_main(&format!("{base}{}{tasks}", job_hcl(&pool_ref, job_extra)));
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_job.job"), ["update"]);
        assert_eq!(actions(&plan, "batch_container_task.hello"), ["no-op"]);
        assert_eq!(after_unknown(&plan, "batch_job.job"), Vec::<String>::new());
        wd.apply();
        let rj = get(&emu, "/jobs/render");
        assert_eq!(rj["priority"], 100);
        assert_eq!(rj["maxParallelTasks"], 2);
        assert_eq!(rj["metadata"], json!([{"name": "team", "value": "render"}]));
        assert_eq!(rj["constraints"]["maxTaskRetryCount"], 1);
        assert_eq!(rj["constraints"]["maxWallClockTime"], "PT2H");
        wd.assert_plan_empty();
        // ... and removing them resets the job to Batch's defaults (Job_Update for the constraints).
        wd.write_main(&format!("{base}{}{tasks}", job_hcl(&pool_ref, "")));
        assert_eq!(actions(&wd.plan_json(), "batch_job.job"), ["update"]);
        wd.apply();
        let rj = get(&emu, "/jobs/render");
        assert_eq!(rj["priority"], 0);
        assert_eq!(rj["maxParallelTasks"], -1);
        assert!(
            rj["metadata"].as_array().is_none_or(|m| m.is_empty()),
            "{rj}"
        );
        assert_eq!(rj["constraints"]["maxTaskRetryCount"], 0, "{rj}");
        assert_ne!(rj["constraints"]["maxWallClockTime"], "PT2H", "{rj}");
        wd.assert_plan_empty();

        // 4b. Updates are conditional (If-Match): a change made outside Terraform between plan
        //     and apply is reported, not overwritten; the next apply converges.
        wd.write_main(&format!(
            "{base}{}{tasks}",
            job_hcl(&pool_ref, "priority = 50")
        ));
        wd.run_ok(&["plan", "-input=false", "-no-color", "-out=stale.tfplan"]);
        let (st, v) = api(&emu, "PATCH", "/jobs/render", Some(&json!({"priority": 7})));
        assert_eq!(st, 200, "{v}");
        let out = wd.run(&["apply", "-input=false", "-no-color", "stale.tfplan"]);
        assert!(!out.success(), "{}", out.describe());
        assert!(
            out.combined().contains("changed outside Terraform"),
            "{}",
            out.describe()
        );
        assert_eq!(
            get(&emu, "/jobs/render")["priority"],
            7,
            "nothing may be overwritten"
        );
        wd.apply();
        assert_eq!(get(&emu, "/jobs/render")["priority"], 50);
        let stale =
            "constraints {\n    max_wall_clock_time = \"PT1H\"\n    retention_time = \"P3D\"\n  }";
        let tasks3 = seed_task("busybox:latest", stale);
        wd.write_main(&format!("{base}{}{tasks3}", job_hcl(&pool_ref, "")));
        wd.run_ok(&["plan", "-input=false", "-no-color", "-out=stale.tfplan"]);
        let upd = json!({"constraints": {"maxWallClockTime": "PT1H", "retentionTime": "P5D"}});
        let (st, v) = api(&emu, "PUT", "/jobs/render/tasks/hello", Some(&upd));
        assert_eq!(st, 200, "{v}");
        let out = wd.run(&["apply", "-input=false", "-no-color", "stale.tfplan"]);
        assert!(!out.success(), "{}", out.describe());
        assert!(
            out.combined().contains("changed outside Terraform"),
            "{}",
            out.describe()
        );
        assert_eq!(
            task(&emu, "render", "hello")["constraints"]["retentionTime"],
            "P5D"
        );
        wd.write_main(&format!("{base}{}{tasks}", job_hcl(&pool_ref, "")));
        wd.apply();
        assert_eq!(
            task(&emu, "render", "hello")["constraints"]["retentionTime"],
            "P2D"
        );
        wd.assert_plan_empty();

        // 5. A failing task fails the apply with its exit code and stderr, stays tainted, and
        //    the next apply runs it again (this one succeeds the second time).
        let failing = r#"
resource "batch_container_task" "flaky" {
  job_id       = batch_job.job.id
  name         = "flaky"
  command_line = "/bin/sh -c 'if [ -f $AZ_BATCH_NODE_SHARED_DIR/flaky-ran ]; then echo recovered; else touch $AZ_BATCH_NODE_SHARED_DIR/flaky-ran; echo first line >&2; echo boom: the input is missing >&2; exit 3; fi'"
  container {
    image_name = "busybox"
  }
  exit_conditions {
    exit_code_range {
      start             = 1
      end               = 255
      dependency_action = "block"
    }
  }
  wait_for_completion = true
}
"#;
        wd.write_main(&format!("{base}{}{tasks}{failing}", job_hcl(&pool_ref, "")));
        let out = wd.try_apply().assert_failure();
        let text = out.combined();
        assert!(
            text.contains("failed with exit code 3"),
            "{}",
            out.describe()
        );
        assert!(
            text.contains("boom: the input is missing"),
            "{}",
            out.describe()
        );
        assert!(text.contains("tainted"), "{}", out.describe());
        assert!(
            is_tainted(&wd, "batch_container_task", "flaky"),
            "the failed task must be tainted"
        );
        let plan = wd.plan_json();
        assert_eq!(
            actions(&plan, "batch_container_task.flaky"),
            ["delete", "create"]
        );
        wd.apply();
        let flaky = wd.resource("batch_container_task.flaky").unwrap();
        assert_eq!(flaky["exit_code"], 0);
        assert_eq!(flaky["result"], "success");
        assert!(!is_tainted(&wd, "batch_container_task", "flaky"));
        wd.assert_plan_empty();

        // 6. A task that vanished (deleted outside Terraform) leaves state with a warning, and
        //    Terraform plans to create it again.
        let (st, v) = api(&emu, "DELETE", "/jobs/render/tasks/flaky", None);
        assert_eq!(st, 200, "{v}");
        let out = wd.run(&["plan", "-input=false", "-no-color"]);
        assert!(out.success(), "{}", out.describe());
        assert!(
            out.combined().contains("no longer exists"),
            "{}",
            out.describe()
        );
        assert!(
            out.stdout
                .contains("batch_container_task.flaky will be created"),
            "{}",
            out.describe()
        );
        wd.run_ok(&[
            "apply",
            "-refresh-only",
            "-auto-approve",
            "-input=false",
            "-no-color",
        ]);
        assert!(wd.resource("batch_container_task.flaky").is_none());

        // 7. Import of a job and tasks made outside Terraform (CLI and `import` block): the first
        //    plan is empty.
        let (st, v) = api(
            &emu,
            "POST",
            "/jobs",
            Some(&json!({"id": "ext", "poolInfo": {"poolId": batch_api::POOL}, "priority": 5})),
        );
        assert_eq!(st, 201, "{v}");
        for name in ["imported", "imported2"] {
            let mut body = json!({"id": name, "commandLine": "/bin/true", "containerSettings": {"imageName": "busybox"}});
            if name == "imported2" {
                // Exit conditions round-trip through import (Batch's default options count as unset).
                body["exitConditions"] = json!({
                    "exitCodes": [{"code": 3, "exitOptions": {"dependencyAction": "block"}}],
                    "default": {"dependencyAction": "satisfy"}
                });
                // Limits set outside Terraform come back on import, so stating them plans clean.
                body["constraints"] = json!({"maxTaskRetryCount": 2, "retentionTime": "P7D"});
                body["outputFiles"] = json!([{
                    "filePattern": "out.txt",
                    "destination": {"container": {"containerUrl": "https://acct.blob.core.windows.net/out?sv=1&sig=c2VjcmV0", "path": "p/out.txt"}},
                    "uploadOptions": {"uploadCondition": "taskCompletion"}
                }]);
            }
            let (st, v) = api(&emu, "POST", "/jobs/ext/tasks", Some(&body));
            assert_eq!(st, 201, "{v}");
        }
        let imported = format!(
            r#"
resource "batch_job" "ext" {{
  name     = "ext"
  pool_id  = {pool_ref}
  priority = 5
}}
resource "batch_container_task" "imported" {{
  job_id       = batch_job.ext.id
  name         = "imported"
  command_line = "/bin/true"
  container {{
    image_name = "busybox"
  }}
}}
"#
        );
        // `flaky` is dropped from the configuration: its re-creation is not the point here.
        wd.write_main(&format!(
            "{base}{}{tasks}{imported}",
            job_hcl(&pool_ref, "")
        ));
        wd.import("batch_job.ext", "ext");
        wd.import("batch_container_task.imported", "ext/imported");
        let bad = wd.try_import("batch_container_task.imported", "ext-imported");
        assert!(!bad.success());
        wd.assert_plan_empty();
        let block = r#"
import {
  to = batch_container_task.imported2
  id = "ext/imported2"
}
resource "batch_container_task" "imported2" {
  job_id       = batch_job.ext.id
  name         = "imported2"
  command_line = "/bin/true"
  container {
    image_name = "busybox"
  }
  exit_conditions {
    exit_code {
      code              = 3
      dependency_action = "block"
    }
  }
  output_file {
    file_pattern  = "out.txt"
    container_url = "https://acct.blob.core.windows.net/out?sv=1&sig=c2VjcmV0"
    path          = "p/out.txt"
  }
  constraints {
    max_task_retry_count = 2
    retention_time       = "P7D"
  }
}
"#;
        wd.write_main(&format!(
            "{base}{}{tasks}{imported}{block}",
            job_hcl(&pool_ref, "")
        ));
        let plan = wd.plan_json();
        assert_eq!(
            actions(&plan, "batch_container_task.imported2"),
            ["no-op"],
            "{plan}"
        );
        wd.apply();
        wd.assert_plan_empty();

        // 7a. `-generate-config-out` writes a configuration for an imported job and task that
        //     plans clean.
        let (st, v) = api(
            &emu,
            "POST",
            "/jobs",
            Some(
                &json!({"id": "gen", "poolInfo": {"poolId": batch_api::POOL}, "maxParallelTasks": 3, "metadata": [{"name": "k", "value": "v"}]}),
            ),
        );
        assert_eq!(st, 201, "{v}");
        let body = json!({"id": "t", "commandLine": "/bin/true", "environmentSettings": [{"name": "A", "value": "1"}],
            "containerSettings": {"imageName": "busybox", "containerRunOptions": "--rm"}, "constraints": {"maxTaskRetryCount": 2}});
        let (st, v) = api(&emu, "POST", "/jobs/gen/tasks", Some(&body));
        assert_eq!(st, 201, "{v}");
        let gen_imports = "\nimport {\n  to = batch_job.gen\n  id = \"gen\"\n}\nimport {\n  to = batch_container_task.gen\n  id = \"gen/t\"\n}\n";
        let with_gen = format!(
            "{base}{}{tasks}{imported}{block}{gen_imports}",
            job_hcl(&pool_ref, "")
        );
        wd.write_main(&with_gen);
        wd.run_ok(&[
            "plan",
            "-input=false",
            "-no-color",
            "-generate-config-out=generated.tf",
        ]);
        let generated = wd.read_file("generated.tf");
        assert!(generated.contains("max_parallel_tasks"), "{generated}");
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_job.gen"), ["no-op"], "{generated}");
        assert_eq!(
            actions(&plan, "batch_container_task.gen"),
            ["no-op"],
            "{generated}"
        );
        wd.apply();
        wd.assert_plan_empty();
        // The generated configuration is dropped again below: forget the objects (they stay).
        wd.run_ok(&["state", "rm", "batch_job.gen", "batch_container_task.gen"]);
        std::fs::remove_file(wd.path().join("generated.tf")).unwrap();

        // 7b. A job with preparation and release tasks in containers; `terminatejob` completes
        //     it (it has no tasks), and going back to `noaction` replaces it (Batch refuses that
        //     change in place).
        let prep = |on_complete: &str| {
            format!(
                r#"
resource "batch_job" "prep" {{
  name                  = "prep"
  pool_id               = {pool_ref}
  on_all_tasks_complete = "{on_complete}"
  preparation_task {{
    command_line = "/bin/sh -c 'echo prepared > $AZ_BATCH_NODE_SHARED_DIR/prep.txt'"
    environment  = {{ STAGE = "prep" }}
    container {{
      image_name = "busybox"
    }}
  }}
  release_task {{
    command_line = "/bin/true"
    container {{
      image_name = "busybox"
    }}
  }}
}}
"#
            )
        };
        let all = format!("{base}{}{tasks}{imported}{block}", job_hcl(&pool_ref, ""));
        wd.write_main(&format!("{all}{}", prep("terminatejob")));
        wd.apply();
        let rp = get(&emu, "/jobs/prep");
        assert!(
            rp["jobPreparationTask"]["commandLine"]
                .as_str()
                .is_some_and(|c| c.contains("echo prepared")),
            "{rp}"
        );
        assert_eq!(
            rp["jobPreparationTask"]["containerSettings"]["imageName"],
            "busybox"
        );
        assert_eq!(rp["jobReleaseTask"]["commandLine"], "/bin/true");
        wd.assert_plan_empty();
        wd.write_main(&format!("{all}{}", prep("noaction")));
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_job.prep"), ["delete", "create"]);
        wd.apply();
        assert_eq!(get(&emu, "/jobs/prep")["onAllTasksComplete"], "noaction");
        wd.assert_plan_empty();

        // 7c. A job deleted outside Terraform (here: still `deleting`) leaves the state: the
        //     plan creates it again.
        let (st, v) = api(&emu, "DELETE", "/jobs/prep", None);
        assert_eq!(st, 202, "{v}");
        let out = wd.run(&["plan", "-input=false", "-no-color"]);
        assert!(out.success(), "{}", out.describe());
        assert!(
            out.stdout.contains("batch_job.prep will be created"),
            "{}",
            out.describe()
        );

        // 8. Destroy removes every job (and with them their tasks).
        wd.destroy();
        for job in ["render", "ext", "prep"] {
            let (st, _) = api(&emu, "GET", &format!("/jobs/{job}"), None);
            assert_eq!(st, 404, "job {job} must be gone after destroy");
        }
    });
}

#[test]
fn two_hundred_tasks_are_each_created_once() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 8);
        // Some adds commit but lose their answer, some are throttled: the provider must retry
        // without ever adding a task twice.
        let (st, v) = emu.admin(
            "PUT",
            "/faults",
            // Seeded: the same requests meet the faults in every run, and both rules are spent.
            Some(r#"{"rules":[{"operation":"Task_Add","dropAfterCommit":true,"rate":0.1,"count":12,"seed":11},{"operation":"Task_Add","status":503,"rate":0.05,"count":8,"retryAfter":0,"seed":0}]}"#),
        );
        assert_eq!(st, 200, "{v}");
        let hcl = format!(
            r#"{}{pool_hcl}{}
resource "batch_container_task" "many" {{
  count        = 200
  job_id       = batch_job.job.id
  name         = "t${{count.index}}"
  command_line = "/bin/sh -c 'echo ${{count.index}}'"
  container {{
    image_name = "busybox"
  }}
}}
"#,
            emu.provider_hcl(),
            job_hcl(&pool_ref, "")
        );
        wd.write_main(&hcl);
        wd.apply();
        let (fired, faults) = emu.faults_fired();
        // 200 creates at 10% / 5% hit both limits: 12 committed-then-dropped adds, 8 503s.
        assert_eq!(fired, [12, 8], "faults fired per rule: {faults}");
        let tasks = list_tasks(&emu, "render");
        assert_eq!(tasks.len(), 200, "exactly one task per resource");
        let mut ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        wait_until(
            "all 200 tasks to complete",
            Duration::from_secs(120),
            || {
                list_tasks(&emu, "render")
                    .iter()
                    .all(|t| t["state"] == "completed")
                    .then_some(())
            },
        );
        assert!(
            list_tasks(&emu, "render")
                .iter()
                .all(|t| t["executionInfo"]["exitCode"] == 0)
        );
        // The tasks completed after apply: only computed values changed, so the plan is empty.
        wd.assert_plan_empty();
        // A refresh stores the new computed values (completed, exit code 0) without any change.
        let refresh = wd.run_ok(&[
            "apply",
            "-refresh-only",
            "-auto-approve",
            "-input=false",
            "-no-color",
        ]);
        assert!(
            !refresh.stdout.contains("must be replaced"),
            "{}",
            refresh.describe()
        );
        let t7 = wd.resource("batch_container_task.many[7]").unwrap();
        assert_eq!(t7["state"], "completed");
        assert_eq!(t7["exit_code"], 0);
        assert_eq!(t7["result"], "success");
        wd.assert_plan_empty();
        wd.destroy();
    });
}

/// `command_line = ""` (the default) runs the image's ENTRYPOINT; the process runtime cannot,
/// and says so. Waits that time out or are interrupted keep the task, tainted.
#[test]
fn entrypoint_timeout_and_interrupt_on_the_process_runtime() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 4);
        wd.write_main(&format!(
            r#"{}{pool_hcl}{}
resource "batch_container_task" "entry" {{
  job_id = batch_job.job.id
  name   = "entry"
  container {{
    image_name = "{HELLO_ENTRYPOINT_IMAGE}"
  }}
  wait_for_completion = true
}}
"#,
            emu.provider_hcl(),
            job_hcl(&pool_ref, "")
        ));
        let out = wd.try_apply().assert_failure();
        assert!(
            out.combined().contains("ContainerEntrypointNotSupported"),
            "{}",
            out.describe()
        );
        // The empty command line was sent as "" (Batch's "use the ENTRYPOINT").
        assert_eq!(task(&emu, "render", "entry")["commandLine"], json!(""));

        // A wait that runs out of time (timeouts.create) or is interrupted (Ctrl-C) fails the
        // apply, keeps the task (tainted) and says how to keep this run.
        let sleepy = |name: &str, timeout: &str| {
            format!(
                r#"
resource "batch_container_task" "{name}" {{
  job_id       = batch_job.job.id
  name         = "{name}"
  command_line = "/bin/sleep 30"
  container {{
    image_name = "busybox"
  }}
  wait_for_completion = true
  timeouts {{
    create = "{timeout}"
  }}
}}
"#
            )
        };
        let base = format!("{}{pool_hcl}{}", emu.provider_hcl(), job_hcl(&pool_ref, ""));
        wd.write_main(&format!("{base}{}", sleepy("slow", "2s")));
        let out = wd.try_apply().assert_failure();
        assert!(
            out.combined()
                .contains("Timed out waiting for task \"slow\""),
            "{}",
            out.describe()
        );
        assert!(
            out.combined().contains("terraform untaint"),
            "{}",
            out.describe()
        );
        assert!(is_tainted(&wd, "batch_container_task", "slow"));
        assert_eq!(task(&emu, "render", "slow")["state"], "running");

        wd.write_main(&format!(
            "{base}{}{}",
            sleepy("slow", "2s"),
            sleepy("stopped", "10m")
        ));
        let mut running = wd.spawn(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-target=batch_container_task.stopped",
        ]);
        assert!(
            running.wait_for_stdout(
                "batch_container_task.stopped: Creating...",
                std::time::Duration::from_secs(60)
            ),
            "{}",
            running.stdout_so_far()
        );
        wait_until("the task to run", Duration::from_secs(30), || {
            (api(&emu, "GET", "/jobs/render/tasks/stopped", None).1["state"] == "running")
                .then_some(())
        });
        running.interrupt();
        let out = running.wait();
        assert!(!out.success(), "{}", out.describe());
        assert!(
            out.combined()
                .contains("Interrupted while waiting for task \"stopped\""),
            "{}",
            out.describe()
        );
        // The wait ended on the interrupt, not at the end of the 10-minute task.
        assert_eq!(
            task(&emu, "render", "stopped")["state"],
            "running",
            "the interrupted apply must stop waiting while the task still runs: {}",
            out.describe()
        );
        assert!(is_tainted(&wd, "batch_container_task", "stopped"));

        // Dependencies: Batch runs `second` only after `first` succeeded; a job without
        // uses_task_dependencies is refused with a hint at the fix.
        let deps = |uses: bool| {
            format!(
                r#"{}
resource "batch_job" "deps" {{
  name                   = "deps-{uses}"
  pool_id                = "{}"
  uses_task_dependencies = {uses}
}}
resource "batch_container_task" "first" {{
  job_id       = batch_job.deps.id
  name         = "first"
  command_line = "/bin/sh -c 'sleep 1; echo first'"
  container {{
    image_name = "busybox"
  }}
}}
resource "batch_container_task" "second" {{
  job_id       = batch_job.deps.id
  name         = "second"
  command_line = "/bin/true"
  container {{
    image_name = "busybox"
  }}
  dependencies {{
    task_ids = [batch_container_task.first.name]
  }}
  wait_for_completion = true
}}
"#,
                emu.provider_hcl(),
                batch_api::POOL
            )
        };
        // A second working directory that uses the existing pool by name.
        let wd2 = Workdir::new(tf);
        wd2.write_main(&deps(false));
        let out = wd2.try_apply().assert_failure();
        assert!(
            out.combined().contains("uses_task_dependencies = true"),
            "{}",
            out.describe()
        );
        wd2.write_main(&deps(true));
        wd2.apply();
        let first = task(&emu, "deps-true", "first");
        let second = task(&emu, "deps-true", "second");
        assert_eq!(second["dependsOn"]["taskIds"], json!(["first"]));
        assert!(
            second["executionInfo"]["startTime"].as_str().unwrap()
                >= first["executionInfo"]["endTime"].as_str().unwrap(),
            "second must start after first ended: {first} {second}"
        );
        wd2.assert_plan_empty();
    });
}

#[test]
fn docker_runtime_runs_the_seed_and_the_image_entrypoint() {
    e2e::require_docker!();
    for_each_terraform(|tf| {
        let emu = start(Runtime::Docker);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);
        wd.write_main(&format!(
            r#"{}{pool_hcl}{}{}
resource "batch_container_task" "entry" {{
  job_id = batch_job.job.id
  name   = "entry"
  container {{
    image_name = "{HELLO_ENTRYPOINT_IMAGE}"
  }}
  wait_for_completion = true
}}

data "batch_task_file" "entry_stdout" {{
  job_id  = batch_job.job.id
  task_id = batch_container_task.entry.name
  path    = "stdout.txt"
}}

output "entry" {{
  value = data.batch_task_file.entry_stdout.content
}}
"#,
            emu.provider_hcl(),
            job_hcl(&pool_ref, ""),
            seed_task("busybox", "")
        ));
        wd.apply();
        assert_eq!(wd.output("hello"), json!("hello world\n"));
        let entry = wd.output("entry");
        assert!(
            entry.as_str().unwrap().contains(HELLO_ENTRYPOINT_LINE),
            "{entry}"
        );
        wd.assert_plan_empty();
        wd.destroy();
    });
}

#[test]
fn plan_time_validation_names_the_attribute() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write_main(&format!(
            r#"{}
resource "batch_job" "job" {{
  name    = "render"
  pool_id = "p"
  constraints {{
    max_wall_clock_time = "2h"
  }}
}}
# A literal job id: Terraform skips the validation of resources whose dependencies failed it.
resource "batch_container_task" "t" {{
  job_id = "render"
  name   = "bad name!"
  container {{
    image_name = "busybox"
    registry {{
      server      = "myregistry.azurecr.io"
      username    = "u"
      password    = "p1"
      password_wo = "p2"
    }}
  }}
  constraints {{
    retention_time = "7 days"
  }}
}}
"#,
            e2e::required_providers_hcl()
        ));
        let v = wd.validate_json();
        assert!(!v.valid);
        let find = |needle: &str| {
            v.diagnostics
                .iter()
                .find(|d| {
                    d.severity == "error"
                        && (d.summary.contains(needle) || d.detail.contains(needle))
                })
                .unwrap_or_else(|| panic!("no error mentioning {needle:?}: {:#?}", v.diagnostics))
                .clone()
        };
        let name = find("not a valid Batch id");
        assert_eq!(name.highlight(), Some("\"bad name!\""), "{}", name.text());
        let wall = find("constraints.max_wall_clock_time");
        assert_eq!(wall.highlight(), Some("\"2h\""), "{}", wall.text());
        let retention = find("constraints.retention_time");
        assert_eq!(
            retention.highlight(),
            Some("\"7 days\""),
            "{}",
            retention.text()
        );
        let pw = find("password_wo");
        assert!(
            pw.detail.contains("container.registry.password"),
            "{}",
            pw.text()
        );
    });
}

/// A multi-instance (MPI-style) task runs its coordination command on every node, then its
/// command on the primary with the host list.
#[test]
fn multi_instance_task_spans_two_nodes() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        wd.write_main(&emu.provider_hcl());
        if !batch_api::pool_resource_ready(&wd) {
            e2e::note(
                "SKIPPED multi_instance_task_spans_two_nodes: batch_container_pool is not available",
            );
            return;
        }
        wd.write_main(&format!(
            r#"{}
resource "batch_container_pool" "mpi" {{
  name              = "mpi"
  vm_size           = "STANDARD_D2S_V3"
  node_agent_sku_id = "batch.node.ubuntu 22.04"
  image {{
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }}
  container {{
    type        = "dockerCompatible"
    image_names = ["busybox"]
  }}
  fixed_scale {{
    target_dedicated_nodes = 2
  }}
  inter_node_communication = true
  wait_for                 = "nodes_ready"
}}
resource "batch_job" "mpi" {{
  name    = "mpi"
  pool_id = batch_container_pool.mpi.id
}}
resource "batch_container_task" "mpi" {{
  job_id       = batch_job.mpi.id
  name         = "mpi"
  command_line = "/bin/sh -c 'echo hosts=$AZ_BATCH_HOST_LIST'"
  container {{
    image_name = "busybox"
  }}
  multi_instance {{
    number_of_instances       = 2
    coordination_command_line = "/bin/sh -c 'echo coordinating'"
  }}
  wait_for_completion = true
}}
data "batch_task_file" "mpi" {{
  job_id  = batch_job.mpi.id
  task_id = batch_container_task.mpi.name
  path    = "stdout.txt"
}}
output "mpi" {{
  value = data.batch_task_file.mpi.content
}}
"#,
            emu.provider_hcl()
        ));
        wd.apply();
        let out = wd.output("mpi");
        let line = out.as_str().unwrap().trim();
        let hosts = line
            .strip_prefix("hosts=")
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(
            hosts.split(',').filter(|h| !h.is_empty()).count(),
            2,
            "{line}"
        );
        let remote = task(&emu, "mpi", "mpi");
        assert_eq!(remote["multiInstanceSettings"]["numberOfInstances"], 2);
        wd.assert_plan_empty();
        wd.destroy();
    });
}

/// Serves `body` for every GET on a loopback port (for resource files); returns the base URL.
fn serve_file(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { break };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

/// resource_file blocks are downloaded into the working directory before the task runs, and
/// the task's environment reaches its command.
#[test]
fn resource_files_and_environment_reach_the_task() {
    let base_url = serve_file("input-data\n");
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);
        wd.write_main(&format!(
            r#"{}{pool_hcl}{}
resource "batch_container_task" "reader" {{
  job_id       = batch_job.job.id
  name         = "reader"
  command_line = "/bin/sh -c 'cat input/data.txt; echo mode=$MODE'"
  environment  = {{ MODE = "fast" }}
  container {{
    image_name = "busybox"
  }}
  resource_file {{
    http_url  = "{base_url}/data.txt?sig=c2VjcmV0"
    file_path = "input/data.txt"
  }}
  wait_for_completion = true
}}
data "batch_task_file" "reader" {{
  job_id  = batch_job.job.id
  task_id = batch_container_task.reader.name
  path    = "stdout.txt"
}}
output "reader" {{
  value = data.batch_task_file.reader.content
}}
"#,
            emu.provider_hcl(),
            job_hcl(&pool_ref, "")
        ));
        let out = wd.apply();
        assert!(
            !out.stdout.contains("c2VjcmV0"),
            "the SAS must not be shown: {}",
            out.stdout
        );
        assert_eq!(wd.output("reader"), json!("input-data\nmode=fast\n"));
        wd.assert_plan_empty();
    });
}
