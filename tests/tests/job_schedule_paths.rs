//! `batch_job_schedule` drift and failure paths end to end: a schedule deleted, changed,
//! disabled or terminated outside Terraform (through the Batch client), what the next plan shows
//! and what Batch holds after apply; plan-time refusals (a recurrence under one minute, a
//! `do_not_run_after` already past), a name Batch already holds (the import wording), destroy
//! while the manager task runs, and a delete that outlasts `timeouts.delete`. Each scenario runs
//! on every Terraform version under test.

mod batch_api;

use std::time::Duration;

use batch_api::{actions, api, assert_schedule_gone, pool, start_with_args, wait_until};
use batch_client::RequestOptions;
use batch_client::models::{JobSchedulePatchParameter, MetadataItem};
use e2e::{Emulator, Runtime, Terraform, Workdir, block_on, for_each_terraform};
use serde_json::{Value, json};

const ADDR: &str = "batch_job_schedule.nightly";
const SLEEP: &str = "/bin/sh -c 'sleep 600'";
const QUICK: &str = "/bin/sh -c 'exit 0'";

/// The schedule `nightly`; `schedule_extra` and `extra` go into the `schedule` block and the
/// resource body.
fn schedule_hcl(pool_ref: &str, schedule_extra: &str, command_line: &str, extra: &str) -> String {
    format!(
        r#"
resource "batch_job_schedule" "nightly" {{
  name = "nightly"
  schedule {{
    {schedule_extra}
  }}
  job {{
    pool_id = {pool_ref}
    manager_task {{
      name         = "report"
      command_line = "{command_line}"
      container {{
        image_name = "busybox"
      }}
      kill_job_on_completion = true
    }}
  }}
  metadata = {{ team = "bi" }}
  {extra}
}}
"#
    )
}

fn daily(pool_ref: &str, command_line: &str) -> String {
    schedule_hcl(pool_ref, r#"recurrence_interval = "P1D""#, command_line, "")
}

/// A local Batch service (with more `args`), a working directory, the HCL of the provider and
/// the pool, and the pool's reference.
fn setup(tf: &Terraform, args: &[&str]) -> (Emulator, Workdir, String, String) {
    let emu = start_with_args(Runtime::Process, args);
    let wd = Workdir::new(tf);
    let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);
    let base = format!("{}{pool_hcl}", emu.provider_hcl());
    (emu, wd, base, pool_ref)
}

/// A state change made to the schedule `nightly` outside Terraform, through the Batch client.
enum Outside {
    Disable,
    Enable,
    Terminate,
    Delete,
}

fn outside(emu: &Emulator, op: Outside) {
    block_on(async {
        let (c, o, id) = (emu.client(), RequestOptions::new(), "nightly");
        match op {
            Outside::Disable => c.disable_job_schedule(id, &o).await,
            Outside::Enable => c.enable_job_schedule(id, &o).await,
            Outside::Terminate => c.terminate_job_schedule(id, &o).await,
            Outside::Delete => c.delete_job_schedule(id, &o).await,
        }
        .expect("the Batch call outside Terraform succeeds");
    });
}

/// The schedule as Batch reports it, or None once it is gone.
fn remote(emu: &Emulator, id: &str) -> Option<Value> {
    let (st, v) = api(emu, "GET", &format!("/jobschedules/{id}"), None);
    match st {
        200 => Some(v),
        404 => None,
        _ => panic!("JobSchedule_Get {id}: {st} {v}"),
    }
}

/// The plan's change for `address`.
fn change(plan: &Value, address: &str) -> Value {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["address"] == address)
        .map(|c| c["change"].clone())
        .unwrap_or_else(|| panic!("no change for {address} in {plan}"))
}

/// The top-level attributes whose planned value differs from the prior one (unknowns, which
/// `after` leaves out, count).
fn changed_attributes(plan: &Value, address: &str) -> Vec<String> {
    let c = change(plan, address);
    let mut out: Vec<String> = c["before"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| c["after"][k.as_str()] != **v || c["after_unknown"][k.as_str()] == true)
        .map(|(k, _)| k.clone())
        .collect();
    out.sort();
    out
}

/// Waits until the schedule is in `state` in Batch.
fn wait_for_state(emu: &Emulator, id: &str, state: &str) -> Value {
    wait_until(
        &format!("job schedule {id} to be {state}"),
        Duration::from_secs(60),
        || remote(emu, id).filter(|s| s["state"] == state),
    )
}

/// Waits until the manager task of the schedule's first job runs.
fn wait_for_running_manager(emu: &Emulator) {
    wait_until(
        "the manager task of nightly:job-1 to run",
        Duration::from_secs(60),
        || {
            let (st, t) = api(emu, "GET", "/jobs/nightly:job-1/tasks/report", None);
            (st == 200 && t["state"] == "running").then_some(())
        },
    );
}

/// The error of a failed run that mentions `needle`.
fn error_with(out: &e2e::TfOutput, needle: &str) -> e2e::Diagnostic {
    out.errors()
        .into_iter()
        .find(|d| d.summary.contains(needle) || d.detail.contains(needle))
        .unwrap_or_else(|| panic!("no error mentioning {needle:?}:\n{}", out.describe()))
}

#[test]
fn drift_outside_terraform_is_planned_back_and_applied() {
    for_each_terraform(|tf| {
        let (emu, wd, base, pool_ref) = setup(tf, &[]);
        wd.write_main(&format!("{base}{}", daily(&pool_ref, QUICK)));
        wd.apply();
        wd.assert_plan_empty();
        let created = remote(&emu, "nightly").unwrap()["creationTime"].clone();

        // 1. Recurrence, manager command line and metadata changed outside: the plan is
        // exactly the update back to the configuration, made in place.
        block_on(async {
            let c = emu.client();
            let o = RequestOptions::new();
            let s = c
                .get_job_schedule("nightly", &o)
                .await
                .unwrap()
                .unwrap()
                .value;
            let mut schedule = s.schedule.unwrap();
            schedule.recurrence_interval = Some("PT6H".into());
            let mut spec = s.job_specification.unwrap();
            spec.job_manager_task.as_mut().unwrap().command_line = "/bin/true".into();
            let patch = JobSchedulePatchParameter {
                schedule: Some(schedule),
                job_specification: Some(spec),
                metadata: Some(vec![MetadataItem {
                    name: "team".into(),
                    value: "ops".into(),
                }]),
            };
            c.patch_job_schedule("nightly", &patch, &o).await.unwrap();
        });
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, ADDR), ["update"]);
        // next_run_time follows the schedule: Batch plans the next run again.
        assert_eq!(
            changed_attributes(&plan, ADDR),
            ["job", "metadata", "next_run_time", "schedule"]
        );
        let c = change(&plan, ADDR);
        assert_eq!(c["before"]["schedule"]["recurrence_interval"], "PT6H");
        assert_eq!(c["after"]["schedule"]["recurrence_interval"], "P1D");
        let manager = |v: &Value| v["job"]["manager_task"]["command_line"].clone();
        assert_eq!(manager(&c["before"]), "/bin/true");
        assert_eq!(manager(&c["after"]), QUICK);
        assert_eq!(c["before"]["metadata"], json!({"team": "ops"}));
        assert_eq!(c["after"]["metadata"], json!({"team": "bi"}));
        wd.apply();
        let s = remote(&emu, "nightly").unwrap();
        assert_eq!(s["creationTime"], created, "the schedule was replaced");
        assert_eq!(s["schedule"]["recurrenceInterval"], "P1D");
        assert_eq!(
            s["jobSpecification"]["jobManagerTask"]["commandLine"],
            QUICK
        );
        assert_eq!(s["metadata"], json!([{"name": "team", "value": "bi"}]));
        wd.assert_plan_empty();

        // 2. Disabled outside: Terraform does not manage the state (documented on `state`),
        // so the plan stays empty, the state shows it and Batch keeps it disabled.
        outside(&emu, Outside::Disable);
        wd.assert_plan_empty();
        wd.run_ok(&["apply", "-refresh-only", "-auto-approve", "-input=false"]);
        assert_eq!(wd.resource(ADDR).unwrap()["state"], "disabled");
        wd.assert_plan_empty();
        assert_eq!(remote(&emu, "nightly").unwrap()["state"], "disabled");
        outside(&emu, Outside::Enable);

        // 3. Terminated outside (completed): Batch refuses updates to it, so without a change
        // the plan stays empty and a change replaces the schedule instead of failing at apply.
        outside(&emu, Outside::Terminate);
        wait_for_state(&emu, "nightly", "completed");
        wd.assert_plan_empty();
        let every_12h = schedule_hcl(&pool_ref, r#"recurrence_interval = "PT12H""#, QUICK, "");
        wd.write_main(&format!("{base}{every_12h}"));
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, ADDR), ["delete", "create"]);
        assert_eq!(
            change(&plan, ADDR)["replace_paths"],
            json!([["schedule"]]),
            "{plan}"
        );
        assert_eq!(change(&plan, ADDR)["before"]["state"], "completed");
        wd.apply();
        let s = remote(&emu, "nightly").unwrap();
        assert_eq!(s["state"], "active");
        assert_eq!(s["schedule"]["recurrenceInterval"], "PT12H");
        assert_ne!(s["creationTime"], created, "the schedule was not replaced");
        assert_eq!(wd.resource(ADDR).unwrap()["state"], "active");
        wd.assert_plan_empty();

        // 4. Deleted outside: refresh drops it, the plan creates it again, apply converges.
        outside(&emu, Outside::Delete);
        wait_until("the schedule to be gone", Duration::from_secs(60), || {
            remote(&emu, "nightly").is_none().then_some(())
        });
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, ADDR), ["create"]);
        wd.apply();
        let s = remote(&emu, "nightly").unwrap();
        assert_eq!(s["state"], "active");
        assert_eq!(s["schedule"]["recurrenceInterval"], "PT12H");
        wd.assert_plan_empty();

        // 5. do_not_run_after passes: the schedule completes on its own. The unchanged (now
        // past) value plans empty; a change would replace the completed schedule by one that
        // never runs, which the plan refuses; without the end, the replacement runs. The end
        // leaves room for the plan and apply below to happen before it (their check would fail).
        let end = time::OffsetDateTime::now_utc() + time::Duration::seconds(15);
        let end = end
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let ending = schedule_hcl(
            &pool_ref,
            &format!("recurrence_interval = \"PT12H\"\n    do_not_run_after = \"{end}\""),
            QUICK,
            "",
        );
        wd.write_main(&format!("{base}{ending}"));
        assert_eq!(actions(&wd.plan_json(), ADDR), ["update"]);
        wd.apply();
        let before = wait_for_state(&emu, "nightly", "completed");
        wd.assert_plan_empty();
        let to_ops = ending.replace(r#"team = "bi""#, r#"team = "ops""#);
        wd.write_main(&format!("{base}{to_ops}"));
        let out = wd.plan_ui_json().assert_failure();
        let e = error_with(&out, "do_not_run_after is in the past");
        assert!(
            e.detail.contains("replacement would not run"),
            "{}",
            e.text()
        );
        wd.write_main(&format!("{base}{every_12h}"));
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, ADDR), ["delete", "create"]);
        assert_eq!(change(&plan, ADDR)["replace_paths"], json!([["schedule"]]));
        wd.apply();
        let s = remote(&emu, "nightly").unwrap();
        assert_ne!(s["creationTime"], before["creationTime"]);
        assert_eq!(s["state"], "active");
        assert_eq!(s["schedule"].get("doNotRunAfter"), None, "{s}");
        wd.assert_plan_empty();

        wd.destroy();
        assert_schedule_gone(&emu, "nightly");
    });
}

#[test]
fn bad_schedules_fail_at_plan_and_a_taken_name_names_the_import() {
    for_each_terraform(|tf| {
        let (emu, wd, base, pool_ref) = setup(tf, &[]);

        // 1. A recurrence under one minute: refused at plan time, at the attribute.
        let hcl = schedule_hcl(&pool_ref, r#"recurrence_interval = "PT30S""#, QUICK, "");
        wd.write_main(&format!("{base}{hcl}"));
        let out = wd.plan_ui_json().assert_failure();
        let e = error_with(&out, "schedule.recurrence_interval");
        assert_eq!(e.highlight(), Some("\"PT30S\""), "{}", e.text());
        assert!(e.detail.contains("PT1M"), "{}", e.text());

        // 2. A do_not_run_after already past: refused at plan time, at the attribute.
        let hcl = schedule_hcl(
            &pool_ref,
            "recurrence_interval = \"P1D\"\n    do_not_run_after = \"2020-01-01T00:00:00Z\"",
            QUICK,
            "",
        );
        wd.write_main(&format!("{base}{hcl}"));
        let out = wd.plan_ui_json().assert_failure();
        let e = error_with(&out, "do_not_run_after is in the past");
        assert_eq!(
            e.highlight(),
            Some("\"2020-01-01T00:00:00Z\""),
            "{}",
            e.text()
        );
        assert!(e.detail.contains("future time"), "{}", e.text());
        assert_eq!(
            remote(&emu, "nightly"),
            None,
            "a refused plan made a schedule"
        );

        // 3. The name is taken in Batch (in another case): the create fails with the import
        // command, nothing enters the state and the existing schedule is left as it was.
        let taken = json!({"id": "NIGHTLY", "schedule": {"recurrenceInterval": "P1D"},
            "jobSpecification": {"poolInfo": {"poolId": batch_api::POOL}},
            "metadata": [{"name": "owner", "value": "someone-else"}]});
        let (st, v) = api(&emu, "POST", "/jobschedules", Some(&taken));
        assert_eq!(st, 201, "{v}");
        wd.write_main(&format!("{base}{}", daily(&pool_ref, QUICK)));
        let out = wd.apply_json().assert_failure();
        let e = error_with(&out, "already exists");
        assert!(
            e.detail.contains("\n  terraform import ADDRESS nightly\n"),
            "{}",
            e.text()
        );
        assert!(
            e.detail.contains("batch_job_schedule's address"),
            "{}",
            e.text()
        );
        assert_eq!(e.address.as_deref(), Some(ADDR), "{}", e.text());
        assert!(
            wd.resource(ADDR).is_none(),
            "the failed create entered the state"
        );
        let s = remote(&emu, "nightly").unwrap();
        assert_eq!(s["id"], "NIGHTLY");
        assert_eq!(s["metadata"], taken["metadata"]);
        // The command it names works; apply then brings the schedule to the configuration.
        wd.import(ADDR, "nightly");
        wd.apply();
        let s = remote(&emu, "nightly").unwrap();
        assert_eq!(s["metadata"], json!([{"name": "team", "value": "bi"}]));
        wd.assert_plan_empty();
        wd.destroy();
        assert_schedule_gone(&emu, "nightly");
    });
}

#[test]
fn destroy_waits_for_the_running_manager_and_a_slow_delete_times_out() {
    for_each_terraform(|tf| {
        // 1. Destroy while the job's manager task runs: terminate, delete, and wait until the
        // schedule and its job are gone.
        let (emu, wd, base, pool_ref) = setup(tf, &[]);
        wd.write_main(&format!("{base}{}", daily(&pool_ref, SLEEP)));
        wd.apply();
        wait_for_running_manager(&emu);
        wd.destroy();
        assert_schedule_gone(&emu, "nightly");
        drop(emu);

        // 2. A service whose deletes take longer than timeouts.delete: destroy fails naming the
        // timeout and keeps the schedule in state; once Batch finished, destroy converges. The
        // delay leaves room to see the schedule still deleting after the failed destroy.
        let (emu, wd, base, pool_ref) = setup(tf, &["--delete-delay", "12s"]);
        let timeouts = "timeouts {\n    delete = \"1s\"\n  }";
        let every_day = r#"recurrence_interval = "P1D""#;
        wd.write_main(&format!(
            "{base}{}",
            schedule_hcl(&pool_ref, every_day, SLEEP, timeouts)
        ));
        wd.apply();
        wait_for_running_manager(&emu);
        let out = wd.try_destroy().assert_failure();
        assert!(
            out.combined().contains("timeouts.delete"),
            "{}",
            out.describe()
        );
        assert!(
            wd.resource(ADDR).is_some(),
            "the schedule left the state: {}",
            out.describe()
        );
        assert_eq!(remote(&emu, "nightly").unwrap()["state"], "deleting");
        wait_until(
            "Batch to finish the delete",
            Duration::from_secs(60),
            || remote(&emu, "nightly").is_none().then_some(()),
        );
        wd.destroy();
        assert!(wd.resource(ADDR).is_none());
        assert_schedule_gone(&emu, "nightly");
    });
}
