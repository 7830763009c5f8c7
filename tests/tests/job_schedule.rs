//! `batch_job_schedule` end to end: a schedule whose first run starts at once makes a job whose
//! container job manager task completes (its output read through `batch_task_file`); the plan
//! after apply is empty; the recurrence and the manager's command line change in place; import
//! by name plans empty; destroy leaves no schedule and no job; and, with the local service's
//! sped-up clock, recurrences make jobs in order, each after the previous one completed; the
//! jobs' preparation, release and manager tasks (output file, limits) run, and their settings
//! change in place. Each scenario runs on every Terraform version under test.

mod batch_api;

use std::time::Duration;

use batch_api::{actions, assert_schedule_gone, get, pool, start, start_with_args, wait_until};
use e2e::{Emulator, Runtime, Workdir, for_each_terraform};
use serde_json::{Value, json};

fn schedule_hcl(pool_ref: &str, recurrence: &str, command_line: &str) -> String {
    format!(
        r#"
resource "batch_job_schedule" "nightly" {{
  name = "nightly"
  schedule {{
    recurrence_interval = "{recurrence}"
  }}
  job {{
    pool_id = {pool_ref}
    manager_task {{
      name         = "report"
      command_line = "{command_line}"
      container {{
        image_name  = "busybox"
        run_options = "--rm --workdir /"
      }}
      kill_job_on_completion = true
    }}
  }}
  metadata = {{ team = "bi" }}
}}
"#
    )
}

const REPORT: &str = r#"/bin/sh -c \"echo report-ok > $AZ_BATCH_TASK_WORKING_DIR/report.txt\""#;

const REPORT_FILE: &str = r#"
data "batch_task_file" "report" {
  job_id  = batch_job_schedule.nightly.recent_job_id
  task_id = "report"
  path    = "wd/report.txt"
}

output "report" {
  value = data.batch_task_file.report.content
}
"#;

/// The jobs the schedule made, oldest first.
fn schedule_jobs(emu: &Emulator, id: &str) -> Vec<Value> {
    get(emu, &format!("/jobschedules/{id}/jobs"))["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until job `id` completed, and returns it.
fn completed_job(emu: &Emulator, id: &str) -> Value {
    wait_until(
        &format!("job {id} to complete"),
        Duration::from_secs(120),
        || {
            let j = get(emu, &format!("/jobs/{id}"));
            (j["state"] == "completed").then_some(j)
        },
    )
}

#[test]
fn schedule_runs_at_once_updates_in_place_imports_and_destroys() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);
        let base = format!("{}{pool_hcl}", emu.provider_hcl());

        // 1. No do_not_run_until: the first job is made at once; its manager does the work.
        wd.write_main(&format!("{base}{}", schedule_hcl(&pool_ref, "P1D", REPORT)));
        wd.apply();
        let job = completed_job(&emu, "nightly:job-1");
        assert_eq!(
            job["executionInfo"]["terminateReason"], "JMComplete",
            "{job}"
        );
        let manager = get(&emu, "/jobs/nightly:job-1/tasks/report");
        assert_eq!(manager["executionInfo"]["exitCode"], 0, "{manager}");
        assert_eq!(manager["containerSettings"]["imageName"], "busybox");

        // Its output file reaches the user through batch_task_file.
        wd.write_main(&format!(
            "{base}{}{REPORT_FILE}",
            schedule_hcl(&pool_ref, "P1D", REPORT)
        ));
        wd.apply();
        assert_eq!(wd.output("report"), json!("report-ok\n"));
        let st = wd.resource("batch_job_schedule.nightly").unwrap();
        assert_eq!(st["id"], "nightly");
        assert_eq!(st["state"], "active");
        assert_eq!(st["recent_job_id"], "nightly:job-1");
        assert!(st["next_run_time"].is_string(), "{st}");
        wd.assert_plan_empty();
        let created = get(&emu, "/jobschedules/nightly")["creationTime"].clone();

        // 2. The recurrence and the manager's command line change in place.
        let report2 = r#"/bin/sh -c \"echo report-v2 > $AZ_BATCH_TASK_WORKING_DIR/report.txt\""#;
        wd.write_main(&format!(
            "{base}{}{REPORT_FILE}",
            schedule_hcl(&pool_ref, "PT12H", report2)
        ));
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_job_schedule.nightly"), ["update"]);
        wd.apply();
        let remote = get(&emu, "/jobschedules/nightly");
        assert_eq!(remote["creationTime"], created, "the schedule was replaced");
        assert_eq!(remote["schedule"]["recurrenceInterval"], "PT12H");
        assert_eq!(
            remote["jobSpecification"]["jobManagerTask"]["commandLine"],
            report2.replace("\\\"", "\"")
        );
        assert_eq!(remote["metadata"][0]["value"], "bi");
        wd.assert_plan_empty();

        // 3. Import by name plans empty.
        wd.run_ok(&["state", "rm", "batch_job_schedule.nightly"]);
        wd.import("batch_job_schedule.nightly", "nightly");
        wd.assert_plan_empty();

        // 4. Destroy leaves no schedule and no job.
        wd.destroy();
        assert_schedule_gone(&emu, "nightly");
    });
}

#[test]
fn recurrences_make_jobs_in_order_each_after_the_previous_completed() {
    for_each_terraform(|tf| {
        // PT1M recurs every second on the sped-up clock.
        let emu = start_with_args(Runtime::Process, &["--schedule-speed", "60"]);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);
        wd.write_main(&format!(
            "{}{pool_hcl}{}",
            emu.provider_hcl(),
            schedule_hcl(&pool_ref, "PT1M", "/bin/sh -c 'sleep 1.5'")
        ));
        wd.apply();
        let jobs = wait_until("three completed jobs", Duration::from_secs(120), || {
            let jobs = schedule_jobs(&emu, "nightly");
            (jobs.iter().filter(|j| j["state"] == "completed").count() >= 3).then_some(jobs)
        });
        for (n, j) in jobs.iter().take(3).enumerate() {
            assert_eq!(j["id"], format!("nightly:job-{}", n + 1));
        }
        for w in jobs.windows(2).take(2) {
            let prev_end = w[0]["executionInfo"]["endTime"].as_str().unwrap();
            let next_made = w[1]["creationTime"].as_str().unwrap();
            assert!(
                next_made >= prev_end,
                "{} was made at {next_made}, before {} completed at {prev_end}",
                w[1]["id"],
                w[0]["id"]
            );
        }
        wd.destroy();
        assert_schedule_gone(&emu, "nightly");
    });
}

#[test]
fn a_job_with_a_manager_task_completes_when_it_ends() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);
        wd.write_main(&format!(
            r#"{}{pool_hcl}
resource "batch_job" "job" {{
  name    = "once"
  pool_id = {pool_ref}
  manager_task {{
    name         = "manager"
    command_line = "{REPORT}"
    container {{
      image_name = "busybox"
    }}
  }}
}}
"#,
            emu.provider_hcl()
        ));
        wd.apply();
        let job = completed_job(&emu, "once");
        assert_eq!(job["jobManagerTask"]["killJobOnCompletion"], true);
        let manager = get(&emu, "/jobs/once/tasks/manager");
        assert_eq!(manager["executionInfo"]["exitCode"], 0, "{manager}");
        wd.assert_plan_empty();
        wd.destroy();
        let (st, _) = batch_api::api(&emu, "GET", "/jobs/once", None);
        assert_eq!(st, 404);
    });
}

/// A schedule whose jobs have a preparation task (it leaves a file on the node), a release task
/// (it removes the file) and a manager task that reads the file into its output file, with its
/// own limits.
fn tasks_hcl(pool_ref: &str, max_parallel_tasks: i32, manager_retries: i32) -> String {
    format!(
        r#"
resource "batch_job_schedule" "nightly" {{
  name = "nightly"
  schedule {{
    recurrence_interval = "P1D"
  }}
  job {{
    pool_id            = {pool_ref}
    max_parallel_tasks = {max_parallel_tasks}
    metadata           = {{ run = "nightly" }}
    preparation_task {{
      command_line = "/bin/sh -c 'echo prepared > $AZ_BATCH_NODE_SHARED_DIR/nightly.txt'"
      container {{
        image_name = "busybox"
      }}
    }}
    release_task {{
      command_line = "/bin/sh -c 'rm $AZ_BATCH_NODE_SHARED_DIR/nightly.txt'"
      container {{
        image_name = "busybox"
      }}
    }}
    manager_task {{
      name         = "report"
      command_line = "/bin/sh -c 'cat $AZ_BATCH_NODE_SHARED_DIR/nightly.txt > $AZ_BATCH_TASK_WORKING_DIR/report.txt'"
      container {{
        image_name  = "busybox"
        run_options = "--rm --workdir /"
      }}
      output_file {{
        file_pattern  = "report.txt"
        container_url = "https://acct.blob.core.windows.net/reports?sv=1&sig=c2VjcmV0"
        path          = "nightly/report.txt"
      }}
      constraints {{
        max_wall_clock_time  = "PT10M"
        max_task_retry_count = {manager_retries}
      }}
    }}
  }}
}}
"#
    )
}

#[test]
fn a_schedules_jobs_run_preparation_release_and_manager_tasks_and_change_in_place() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);
        let base = format!("{}{pool_hcl}", emu.provider_hcl());

        // 1. The first job runs the preparation task, then the manager (which reads what the
        //    preparation task left), and the release task when the manager completes the job.
        wd.write_main(&format!("{base}{}", tasks_hcl(&pool_ref, 2, 1)));
        wd.apply();
        let job = completed_job(&emu, "nightly:job-1");
        assert_eq!(job["maxParallelTasks"], 2, "{job}");
        assert_eq!(job["metadata"][0]["value"], "nightly", "{job}");
        let manager = get(&emu, "/jobs/nightly:job-1/tasks/report");
        assert_eq!(manager["executionInfo"]["exitCode"], 0, "{manager}");
        assert_eq!(manager["constraints"]["maxTaskRetryCount"], 1, "{manager}");
        assert_eq!(manager["outputFiles"][0]["filePattern"], "report.txt");
        assert_eq!(
            manager["outputFiles"][0]["destination"]["container"]["path"],
            "nightly/report.txt"
        );
        // The manager's file, read once the job exists (its id is known after the first run).
        wd.write_main(&format!(
            "{base}{}{REPORT_FILE}",
            tasks_hcl(&pool_ref, 2, 1)
        ));
        wd.apply();
        assert_eq!(wd.output("report"), json!("prepared\n"));
        let status = wait_until(
            "the release task of nightly:job-1 to complete",
            Duration::from_secs(60),
            || {
                let s = get(
                    &emu,
                    "/jobs/nightly:job-1/jobpreparationandreleasetaskstatus",
                );
                let node = s["value"][0].clone();
                (node["jobReleaseTaskExecutionInfo"]["state"] == "completed").then_some(node)
            },
        );
        assert_eq!(
            status["jobPreparationTaskExecutionInfo"]["exitCode"], 0,
            "{status}"
        );
        assert_eq!(
            status["jobReleaseTaskExecutionInfo"]["exitCode"], 0,
            "{status}"
        );
        wd.assert_plan_empty();
        let created = get(&emu, "/jobschedules/nightly")["creationTime"].clone();

        // 2. The jobs' parallelism and the manager's limits change in place.
        wd.write_main(&format!(
            "{base}{}{REPORT_FILE}",
            tasks_hcl(&pool_ref, 3, 2)
        ));
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_job_schedule.nightly"), ["update"]);
        wd.apply();
        let remote = get(&emu, "/jobschedules/nightly");
        assert_eq!(remote["creationTime"], created, "the schedule was replaced");
        let spec = &remote["jobSpecification"];
        assert_eq!(spec["maxParallelTasks"], 3, "{spec}");
        assert_eq!(
            spec["jobManagerTask"]["constraints"]["maxTaskRetryCount"], 2,
            "{spec}"
        );
        assert_eq!(
            spec["jobPreparationTask"]["containerSettings"]["imageName"],
            "busybox"
        );
        wd.assert_plan_empty();

        // 3. Import by name reads the tasks back: the plan is empty.
        wd.run_ok(&["state", "rm", "batch_job_schedule.nightly"]);
        wd.import("batch_job_schedule.nightly", "nightly");
        wd.assert_plan_empty();

        // 4. max_parallel_tasks = 0 is refused at plan time, naming the attribute.
        wd.write_main(&format!(
            "{base}{}{REPORT_FILE}",
            tasks_hcl(&pool_ref, 0, 2)
        ));
        let out = wd
            .run(&["plan", "-input=false", "-no-color"])
            .assert_failure()
            .combined();
        assert!(out.contains("max_parallel_tasks must be -1"), "{out}");
        // Terraform quotes the attribute's line: the diagnostic carries its path.
        assert!(out.contains("max_parallel_tasks = 0"), "{out}");

        wd.write_main(&format!(
            "{base}{}{REPORT_FILE}",
            tasks_hcl(&pool_ref, 3, 2)
        ));
        wd.destroy();
        assert_schedule_gone(&emu, "nightly");
    });
}

/// DONE.md's import line: `-generate-config-out` writes, for a schedule made outside Terraform
/// (manager, preparation and release tasks, limits, metadata), a configuration that plans clean.
#[test]
fn an_imported_schedule_generates_a_configuration_that_plans_clean() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, _) = pool(&emu, &wd, 2);
        let base = format!("{}{pool_hcl}", emu.provider_hcl());
        wd.write_main(&base);
        wd.apply();
        let container = json!({"imageName": "busybox", "containerRunOptions": "--rm"});
        let body = json!({
            "id": "adopted",
            "displayName": "Adopted",
            "schedule": {"recurrenceInterval": "P1D", "doNotRunUntil": "2099-01-01T00:00:00Z"},
            "jobSpecification": {
                "poolInfo": {"poolId": batch_api::POOL},
                "priority": 10,
                "maxParallelTasks": 3,
                "onAllTasksComplete": "terminatejob",
                "commonEnvironmentSettings": [{"name": "STAGE", "value": "prod"}],
                "metadata": [{"name": "run", "value": "nightly"}],
                "jobManagerTask": {"id": "report", "commandLine": "/bin/true",
                    "containerSettings": container, "killJobOnCompletion": false,
                    "constraints": {"maxTaskRetryCount": 2}},
                "jobPreparationTask": {"commandLine": "/bin/true", "containerSettings": container},
                "jobReleaseTask": {"commandLine": "/bin/true", "containerSettings": container}
            },
            "metadata": [{"name": "team", "value": "bi"}]
        });
        let (st, v) = batch_api::api(&emu, "POST", "/jobschedules", Some(&body));
        assert_eq!(st, 201, "JobSchedule_Add: {v}");
        let created = get(&emu, "/jobschedules/adopted")["creationTime"].clone();

        wd.write_main(&format!(
            "{base}\nimport {{\n  to = batch_job_schedule.adopted\n  id = \"adopted\"\n}}\n"
        ));
        wd.run_ok(&[
            "plan",
            "-input=false",
            "-no-color",
            "-generate-config-out=generated.tf",
        ]);
        let generated = wd.read_file("generated.tf");
        for want in [
            "max_parallel_tasks",
            "preparation_task",
            "release_task",
            "max_task_retry_count",
            "kill_job_on_completion = false",
            "STAGE",
        ] {
            assert!(generated.contains(want), "{want} missing:\n{generated}");
        }
        let plan = wd.plan_json();
        assert_eq!(
            actions(&plan, "batch_job_schedule.adopted"),
            ["no-op"],
            "{generated}"
        );
        wd.apply();
        wd.assert_plan_empty();
        let remote = get(&emu, "/jobschedules/adopted");
        assert_eq!(remote["creationTime"], created, "adopted, not re-created");
        wd.destroy();
        assert_schedule_gone(&emu, "adopted");
    });
}
