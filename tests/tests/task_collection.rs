//! `batch_container_task_collection` end to end: bulk create and an empty plan, update by key
//! (changed entries replaced alone, removed ones deleted, new ones added, the rest untouched),
//! constraints in place, a failing entry (error naming it, re-run of only it), import by job id,
//! a create meeting foreign tasks, exactly-once adds under injected faults, and the request
//! budget of waiting (counted by the service). Each scenario runs on every Terraform version
//! under test.

mod batch_api;

use std::collections::BTreeMap;
use std::time::Duration;

use batch_api::{actions, api, list_tasks, pool, start, wait_until};
use e2e::{Emulator, Runtime, Workdir, for_each_terraform};
use serde_json::{Value, json};

/// name -> (command line, extra attributes of the entry).
type Entries = BTreeMap<String, (String, String)>;

fn entries(names: impl IntoIterator<Item = String>) -> Entries {
    names
        .into_iter()
        .map(|n| {
            let cmd = format!("/bin/sh -c 'echo {n}'");
            (n, (cmd, String::new()))
        })
        .collect()
}

fn config(emu: &Emulator, pool_hcl: &str, pool_ref: &str, tasks: &Entries, wait: bool) -> String {
    let mut map = String::new();
    for (name, (cmd, extra)) in tasks {
        map.push_str(&format!(
            "    \"{name}\" = {{\n      command_line = {cmd:?}\n      container = {{ image_name = \"busybox\" }}\n      {extra}\n    }}\n"
        ));
    }
    format!(
        r#"{}{pool_hcl}
resource "batch_job" "job" {{
  name    = "sweep"
  pool_id = {pool_ref}
}}

resource "batch_container_task_collection" "sweep" {{
  job_id = batch_job.job.id
  tasks = {{
{map}  }}
  wait_for_completion = {wait}
}}
"#,
        emu.provider_hcl()
    )
}

/// creationTime per task id of the job.
fn creation_times(emu: &Emulator, job: &str) -> BTreeMap<String, String> {
    list_tasks(emu, job)
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["creationTime"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn results(wd: &Workdir) -> Value {
    wd.resource("batch_container_task_collection.sweep")
        .expect("collection in state")["results"]
        .clone()
}

const ADDR: &str = "batch_container_task_collection.sweep";

#[test]
fn update_by_key_failures_and_import() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 8);
        let mut tasks = entries((0..30).map(|i| format!("t{i}")));

        // 1. Create: every task added and finished; the plan after apply is empty.
        wd.write_main(&config(&emu, &pool_hcl, &pool_ref, &tasks, true));
        wd.apply();
        let r = results(&wd);
        assert_eq!(r.as_object().unwrap().len(), 30, "{r}");
        for name in tasks.keys() {
            assert_eq!(r[name]["state"], "completed", "{name}: {r}");
            assert_eq!(r[name]["result"], "success", "{name}: {r}");
            assert_eq!(r[name]["exit_code"], 0, "{name}: {r}");
        }
        let st = wd.resource(ADDR).unwrap();
        assert_eq!(st["id"], "sweep");
        wd.assert_plan_empty();
        let before = creation_times(&emu, "sweep");
        assert_eq!(before.len(), 30);

        // 2. Change 10 entries, remove 5, add 5: exactly those tasks change.
        for i in 0..10 {
            tasks.get_mut(&format!("t{i}")).unwrap().0 = format!("/bin/sh -c 'echo changed {i}'");
        }
        for i in 25..30 {
            tasks.remove(&format!("t{i}"));
        }
        tasks.extend(entries((0..5).map(|i| format!("n{i}"))));
        wd.write_main(&config(&emu, &pool_hcl, &pool_ref, &tasks, true));
        let plan = wd.plan_json();
        assert_eq!(
            actions(&plan, ADDR),
            vec!["update"],
            "an update in place, by key"
        );
        wd.apply();
        let after = creation_times(&emu, "sweep");
        let names: Vec<&String> = after.keys().collect();
        let want: Vec<&String> = tasks.keys().collect();
        assert_eq!(names, want, "the job holds exactly the tasks of the map");
        for i in 0..10 {
            let n = format!("t{i}");
            assert_ne!(after[&n], before[&n], "{n} was changed: re-created");
        }
        for i in 10..25 {
            let n = format!("t{i}");
            assert_eq!(after[&n], before[&n], "{n} is untouched");
        }
        let remote = api(&emu, "GET", "/jobs/sweep/tasks/t3", None).1;
        assert_eq!(remote["commandLine"], "/bin/sh -c 'echo changed 3'");
        wd.assert_plan_empty();

        // 3. Constraints change in place: Task_Update, the task is not re-created.
        tasks.get_mut("t11").unwrap().1 =
            "constraints = { max_wall_clock_time = \"PT1H\", retention_time = \"P7D\", max_task_retry_count = 1 }".into();
        wd.write_main(&config(&emu, &pool_hcl, &pool_ref, &tasks, true));
        wd.apply();
        let remote = api(&emu, "GET", "/jobs/sweep/tasks/t11", None).1;
        assert_eq!(remote["constraints"]["maxTaskRetryCount"], 1, "{remote}");
        assert_eq!(remote["creationTime"].as_str().unwrap(), before["t11"]);
        wd.assert_plan_empty();

        // 4. A failing entry fails the apply, named with its exit code and stderr tail ...
        tasks.get_mut("t12").unwrap().0 = "/bin/sh -c 'echo boom-on-stderr >&2; exit 3'".into();
        wd.write_main(&config(&emu, &pool_hcl, &pool_ref, &tasks, true));
        let out = wd.try_apply();
        assert!(!out.success(), "a failed task fails the apply");
        let err = out.combined();
        assert!(err.contains("\"t12\""), "names the task: {err}");
        assert!(err.contains("exit code 3"), "{err}");
        assert!(err.contains("boom-on-stderr"), "stderr tail: {err}");
        assert_eq!(results(&wd)["t12"]["result"], "failure");
        // ... and the next apply runs only it again.
        let mid = creation_times(&emu, "sweep");
        let plan = wd.plan_json();
        assert_eq!(
            actions(&plan, ADDR),
            vec!["update"],
            "the failed task runs again"
        );
        let out = wd.try_apply();
        assert!(!out.success(), "it fails again");
        let again = creation_times(&emu, "sweep");
        for (n, t) in &again {
            if n == "t12" {
                assert_ne!(t, &mid[n], "t12 ran again");
            } else {
                assert_eq!(t, &mid[n], "{n} did not run again");
            }
        }
        tasks.get_mut("t12").unwrap().0 = "/bin/sh -c 'echo fixed'".into();
        wd.write_main(&config(&emu, &pool_hcl, &pool_ref, &tasks, true));
        wd.apply();
        assert_eq!(results(&wd)["t12"]["result"], "success");
        wd.assert_plan_empty();

        // 5. A task deleted outside Terraform is planned again.
        let (st, _) = api(&emu, "DELETE", "/jobs/sweep/tasks/t20", None);
        assert_eq!(st, 200);
        wait_until("t20 to be gone", Duration::from_secs(30), || {
            (api(&emu, "GET", "/jobs/sweep/tasks/t20", None).0 == 404).then_some(())
        });
        assert_eq!(actions(&wd.plan_json(), ADDR), vec!["update"]);
        wd.apply();
        assert_eq!(api(&emu, "GET", "/jobs/sweep/tasks/t20", None).0, 200);
        wd.assert_plan_empty();

        // 6. Import by job id adopts every task; the plan after it is empty. An import cannot
        // know whether the tasks were waited for: it reads `wait_for_completion` as the default.
        wd.write_main(&config(&emu, &pool_hcl, &pool_ref, &tasks, false));
        wd.apply();
        wd.run_ok(&["state", "rm", ADDR]);
        wd.import(ADDR, "sweep");
        let r = results(&wd);
        assert_eq!(r.as_object().unwrap().len(), tasks.len(), "{r}");
        wd.assert_plan_empty();

        // 7. Destroy deletes every task.
        wd.destroy();
        assert_eq!(api(&emu, "GET", "/jobs/sweep", None).0, 404);
    });
}

#[test]
fn create_meeting_foreign_tasks_names_them_and_the_import() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 4);
        let tasks = entries((0..3).map(|i| format!("t{i}")));
        // The job first, then a task of the same name added outside Terraform.
        let cfg = config(&emu, &pool_hcl, &pool_ref, &tasks, false);
        wd.write_main(&cfg);
        wd.run_ok(&["apply", "-auto-approve", "-target=batch_job.job"]);
        let body = json!({
            "id": "t1",
            "commandLine": "/bin/sh -c 'echo foreign'",
            "containerSettings": {"imageName": "busybox"}
        });
        let (st, v) = api(&emu, "POST", "/jobs/sweep/tasks", Some(&body));
        assert_eq!(st, 201, "{v}");
        let out = wd.try_apply();
        assert!(!out.success());
        let err = out.combined();
        assert!(err.contains("\"t1\""), "names the task: {err}");
        assert!(err.contains("terraform import"), "names the import: {err}");
        assert!(err.contains("sweep"), "{err}");
        // Nothing was added, nothing is in state.
        assert_eq!(list_tasks(&emu, "sweep").len(), 1);
        assert!(wd.resource(ADDR).is_none());

        // The import it names, as an `import {}` block with `-generate-config-out`: the
        // generated configuration adopts the task as it is and plans clean.
        let adopted = "batch_container_task_collection.adopted";
        wd.write_main(&format!(
            "{}{pool_hcl}
resource \"batch_job\" \"job\" {{\n  name    = \"sweep\"\n  pool_id = {pool_ref}\n}}\n\
             import {{\n  to = {adopted}\n  id = \"sweep\"\n}}\n",
            emu.provider_hcl()
        ));
        wd.run_ok(&[
            "plan",
            "-input=false",
            "-no-color",
            "-generate-config-out=generated.tf",
        ]);
        let generated = wd.read_file("generated.tf");
        assert!(generated.contains("echo foreign"), "{generated}");
        assert_eq!(actions(&wd.plan_json(), adopted), ["no-op"], "{generated}");
        wd.apply();
        wd.assert_plan_empty();
        assert_eq!(list_tasks(&emu, "sweep").len(), 1);
    });
}

#[test]
fn a_thousand_tasks_under_faults_are_each_added_once() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 8);
        let tasks = entries((0..1000).map(|i| format!("t{i}")));
        wd.write_main(&config(&emu, &pool_hcl, &pool_ref, &tasks, false));
        wd.run_ok(&["apply", "-auto-approve", "-target=batch_job.job"]);
        // A fifth of the bulk adds throttled, some committed with their answer lost.
        let (st, v) = emu.admin(
            "PUT",
            "/faults",
            Some(r#"{"rules":[{"operation":"Task_AddCollection","status":503,"rate":0.2,"retryAfter":0},{"operation":"Task_AddCollection","dropAfterCommit":true,"rate":0.2,"count":4}]}"#),
        );
        assert_eq!(st, 200, "{v}");
        wd.apply();
        let (fired, faults) = emu.faults_fired();
        e2e::note(&format!(
            "{}: Task_AddCollection faults fired {fired:?}",
            tf.label()
        ));
        assert!(fired[0] > 0, "the 503 rule fired: {faults}");
        assert!(fired[1] > 0, "the drop-after-commit rule fired: {faults}");
        let (st, _) = emu.admin("PUT", "/faults", Some(r#"{"rules":[]}"#));
        assert_eq!(st, 200);
        let listed = list_tasks(&emu, "sweep");
        let mut ids: Vec<&str> = listed.iter().map(|t| t["id"].as_str().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(listed.len(), 1000, "exactly one task per entry");
        assert_eq!(ids.len(), 1000);
        assert_eq!(results(&wd).as_object().unwrap().len(), 1000);
        wd.assert_plan_empty();
    });
}

/// Batch requests per operation since the last call, as the service counted them (and reset).
fn take_request_counts(emu: &Emulator) -> BTreeMap<String, u64> {
    let (st, body) = emu.admin("GET", "/requests", None);
    assert_eq!(st, 200, "{body}");
    let (st, _) = emu.admin("DELETE", "/requests", None);
    assert_eq!(st, 200);
    serde_json::from_str(&body).unwrap()
}

/// Waiting must not go back to one request per task: a collection adds its tasks in chunks of
/// 100 and waits with job-wide listings (no Task_Get at all), and separate waiting tasks of one
/// job share one listing loop (one Task_Get each, after it completed).
#[test]
fn waiting_costs_listings_not_requests_per_task() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 8);
        // 1. A collection of 250 tasks, waited for.
        const N: u64 = 250;
        let mut tasks = entries((0..N).map(|i| format!("t{i}")));
        for (cmd, _) in tasks.values_mut() {
            *cmd = "/bin/sh -c 'sleep 0.2'".into();
        }
        let cfg = config(&emu, &pool_hcl, &pool_ref, &tasks, true);
        wd.write_main(&cfg);
        wd.run_ok(&["apply", "-auto-approve", "-target=batch_job.job"]);
        take_request_counts(&emu);
        wd.apply();
        let c = take_request_counts(&emu);
        let n = |op: &str| c.get(op).copied().unwrap_or(0);
        e2e::note(&format!("{}: {N} tasks in a collection: {c:?}", tf.label()));
        assert_eq!(
            n("Task_AddCollection"),
            N.div_ceil(100),
            "chunks of 100: {c:?}"
        );
        assert_eq!(n("Task_Get"), 0, "no read per task: {c:?}");
        assert_eq!(n("Task_Add"), 0, "{c:?}");
        // One listing per poll for the whole job: far fewer than one per task.
        assert!(n("Task_List") < N / 2, "listings: {c:?}");
        let r = results(&wd);
        assert_eq!(r.as_object().unwrap().len(), N as usize);
        assert!(
            r.as_object()
                .unwrap()
                .values()
                .all(|t| t["state"] == "completed"),
            "{r}"
        );

        // 2. Separate waiting tasks in the same job, all at once.
        const M: u64 = 40;
        let separate = format!(
            r#"
resource "batch_container_task" "s" {{
  count  = {M}
  job_id = batch_job.job.id
  name   = "s${{count.index}}"
  container {{
    image_name = "busybox"
  }}
  command_line        = "/bin/sh -c 'sleep 1'"
  wait_for_completion = true
}}
"#
        );
        wd.write_main(&format!("{cfg}{separate}"));
        take_request_counts(&emu);
        wd.run_ok(&[
            "apply",
            "-auto-approve",
            "-input=false",
            &format!("-parallelism={M}"),
        ]);
        let c = take_request_counts(&emu);
        let n = |op: &str| c.get(op).copied().unwrap_or(0);
        e2e::note(&format!("{}: {M} separate tasks: {c:?}", tf.label()));
        assert_eq!(n("Task_Add"), M, "{c:?}");
        // One read after each task completed (a second only when a listing raced its add), not
        // one per poll.
        assert!(n("Task_Get") >= M && n("Task_Get") < 2 * M, "reads: {c:?}");
        // Every waiter polling on its own would list at least once per task.
        assert!(n("Task_List") < M, "listings: {c:?}");
        for i in 0..M {
            let t = wd
                .resource(&format!("batch_container_task.s[{i}]"))
                .unwrap();
            assert_eq!(t["state"], "completed", "s{i}: {t}");
        }
        wd.assert_plan_empty();
    });
}
