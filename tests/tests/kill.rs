//! Terraform killed with SIGKILL (OOM killer, `kill -9`, a closed terminal) at seeded random moments
//! while it applies a pool, a job with separate tasks and a job with a task collection, with 503s
//! injected into the creates. After
//! every kill no provider process of that Terraform is left; then the test does what the errors
//! say (runs the `terraform import` command they name, at the address Terraform shows with them)
//! and applies again until it converges: the plan is empty and Batch holds exactly what the state
//! holds (no orphan, no duplicate). Runs on every Terraform version under test.
//!
//! `E2E_KILL_SEED=<n>` replays a run (every run prints its seed).

mod batch_api;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use batch_api::{get, list_tasks, pool, start};
use e2e::{Emulator, Runtime, Terraform, Workdir, for_each_terraform};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;

const JOB: &str = "render";
/// Separate tasks: (name, wait_for_completion).
const TASKS: [(&str, bool); 3] = [("t1", true), ("t2", false), ("t3", true)];
/// The task collection's own job (importing a collection adopts every task of its job) and its
/// number of tasks.
const SWEEP_JOB: &str = "sweep";
const SWEEP_TASKS: usize = 150;
/// Fresh services per version; each round kills Terraform `KILLS` times before recovering.
const ROUNDS: usize = 3;
const KILLS: usize = 2;
/// Marks the environment of one killed Terraform, which its providers inherit.
const MARK_VAR: &str = "E2E_KILL_MARK";
const PROVIDER_EXE: &str = "terraform-provider-batch";

/// The jobs, the separate tasks and the task collection on `pool_ref`.
fn scenario_hcl(pool_ref: &str) -> String {
    let mut hcl = format!(
        r#"
resource "batch_job" "job" {{
  name    = "{JOB}"
  pool_id = {pool_ref}
}}
"#
    );
    for (name, wait) in TASKS {
        hcl.push_str(&format!(
            r#"
resource "batch_container_task" "{name}" {{
  job_id              = batch_job.job.id
  name                = "{name}"
  command_line        = "/bin/sh -c 'sleep 1; echo {name}'"
  wait_for_completion = {wait}
  container {{
    image_name = "busybox"
  }}
}}
"#
        ));
    }
    // A task collection in its own job: more than one Task_AddCollection chunk, waited for.
    hcl.push_str(&format!(
        r#"
resource "batch_job" "sweep" {{
  name    = "{SWEEP_JOB}"
  pool_id = {pool_ref}
}}

resource "batch_container_task_collection" "sweep" {{
  job_id              = batch_job.sweep.id
  wait_for_completion = true
  tasks = {{
    for i in range({SWEEP_TASKS}) : "p${{i}}" => {{
      command_line = "/bin/sh -c 'echo ${{i}}'"
      container    = {{ image_name = "busybox" }}
    }}
  }}
}}
"#
    ));
    hcl
}

/// 503 ServerBusy on every create, now and then, retried by the provider.
const FAULTS: &str = r#"{"rules":[
  {"operation":"Pool_Add","status":503,"rate":0.5,"count":4,"retryAfter":0},
  {"operation":"Job_Add","status":503,"rate":0.5,"count":4,"retryAfter":0},
  {"operation":"Task_Add","status":503,"rate":0.3,"count":8,"retryAfter":0},
  {"operation":"Task_Get","status":503,"rate":0.1,"count":8,"retryAfter":0},
  {"operation":"Task_AddCollection","status":503,"rate":0.3,"count":4,"retryAfter":0}
]}"#;

fn seed() -> u64 {
    match std::env::var("E2E_KILL_SEED") {
        Ok(s) => s.parse().expect("E2E_KILL_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    }
}

/// A running process: its executable's file name and environment (empty for zombies).
fn process(pid: &str) -> Option<(String, Vec<u8>)> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let name = exe.file_name()?.to_string_lossy().into_owned();
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    Some((name, env))
}

/// The parent pid of `pid` (field 4 of /proc/<pid>/stat).
fn parent_of(pid: &str) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn pids() -> Vec<String> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                .collect()
        })
        .unwrap_or_default()
}

/// Live provider processes started by the Terraform whose environment carries `mark` (a zombie
/// has no readable environment, so it counts as ended).
fn providers_marked(mark: &str) -> Vec<String> {
    let needle = format!("{MARK_VAR}={mark}");
    pids()
        .into_iter()
        .filter(|pid| {
            process(pid).is_some_and(|(name, env)| {
                name.starts_with(PROVIDER_EXE)
                    && env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes())
            })
        })
        .collect()
}

/// Provider processes whose parent is `terraform`.
fn providers_of(terraform: u32) -> Vec<String> {
    pids()
        .into_iter()
        .filter(|pid| {
            parent_of(pid) == Some(terraform)
                && process(pid).is_some_and(|(name, _)| name.starts_with(PROVIDER_EXE))
        })
        .collect()
}

/// Starts `terraform apply`, kills it with SIGKILL after `after`, and waits until no provider it
/// started is left. Returns how many were running at the kill and how long the last took to exit.
fn kill_apply_at(wd: &mut Workdir, mark: &str, after: Duration) -> (usize, Duration) {
    wd.set_env(MARK_VAR, mark);
    let running = wd.spawn(&["apply", "-auto-approve", "-input=false", "-json"]);
    let terraform = running.pid();
    // The random moment is the point of this test (not a wait for the service).
    std::thread::sleep(after);
    let children = providers_of(terraform);
    running.kill_terraform_only();
    let killed = Instant::now();
    let _ = running.wait();
    // The provider promises to be gone within 2 s; this bound only catches one that never goes.
    loop {
        let left = providers_marked(mark);
        if left.is_empty() {
            break;
        }
        if killed.elapsed() >= Duration::from_secs(60) {
            // Fail without leaving them running.
            for pid in &left {
                if let Ok(pid) = pid.parse::<libc::pid_t>() {
                    // SAFETY: kill(2) of a provider process this test started; no memory involved.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            panic!(
                "provider processes {left:?} outlived the Terraform (pid {terraform}) killed {:?} ago (its children at the kill: {children:?})",
                killed.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (children.len(), killed.elapsed())
}

/// The id in "terraform import ADDRESS <id>", if the detail names such a command.
fn import_id(detail: &str) -> Option<&str> {
    detail
        .lines()
        .find_map(|l| l.trim().strip_prefix("terraform import ADDRESS "))
        .map(str::trim)
}

/// Applies until it succeeds, running each import command the errors name (at the address
/// Terraform reports with the error). Returns the imports run.
fn converge(wd: &Workdir) -> Vec<(String, String)> {
    let mut imports = Vec::new();
    for _ in 0..8 {
        let out = wd.apply_json();
        if out.success() {
            return imports;
        }
        let errors = out.errors();
        let mut acted = false;
        for e in &errors {
            if let Some(id) = import_id(&e.detail) {
                let addr = e
                    .address
                    .clone()
                    .unwrap_or_else(|| panic!("an import error without an address: {}", e.text()));
                wd.import(&addr, id);
                imports.push((addr, id.to_string()));
                acted = true;
            }
        }
        assert!(
            acted,
            "apply failed with errors that name no import command:\n{}",
            errors
                .iter()
                .map(|e| e.text())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    panic!("apply did not converge after 8 rounds of imports: {imports:?}");
}

fn ids(v: &Value) -> BTreeSet<String> {
    v["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_str().map(str::to_string))
        .collect()
}

/// (pools, jobs, tasks as `job/task`) in Batch.
fn in_batch(emu: &Emulator) -> [BTreeSet<String>; 3] {
    let jobs = ids(&get(emu, "/jobs"));
    let tasks = jobs
        .iter()
        .flat_map(|j| {
            list_tasks(emu, j)
                .into_iter()
                .filter_map(|t| t["id"].as_str().map(|id| format!("{j}/{id}")))
                .collect::<Vec<_>>()
        })
        .collect();
    [ids(&get(emu, "/pools")), jobs, tasks]
}

/// (pools, jobs, tasks) in the state, by their `id` attribute.
fn in_state(wd: &Workdir) -> [BTreeSet<String>; 3] {
    let state = wd.state_json();
    let mut out: [BTreeSet<String>; 3] = Default::default();
    for r in state["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let slot = match r["type"].as_str() {
            Some("batch_container_pool") => 0,
            Some("batch_job") => 1,
            Some("batch_container_task") => 2,
            Some("batch_container_task_collection") => {
                let job = r["values"]["job_id"].as_str().unwrap_or_default();
                for name in r["values"]["tasks"].as_object().into_iter().flatten() {
                    out[2].insert(format!("{job}/{}", name.0));
                }
                continue;
            }
            _ => continue,
        };
        if let Some(id) = r["values"]["id"].as_str() {
            out[slot].insert(id.to_string());
        }
    }
    out
}

fn round(tf: &Terraform, rng: &mut StdRng, label: &str) {
    let emu = start(Runtime::Process);
    let mut wd = Workdir::new(tf);
    let (pool_hcl, pool_ref) = pool(&emu, &wd, 4);
    wd.write_main(&format!(
        "{}{pool_hcl}{}",
        emu.provider_hcl(),
        scenario_hcl(&pool_ref)
    ));
    let (st, v) = emu.admin("PUT", "/faults", Some(FAULTS));
    assert_eq!(st, 200, "{v}");

    for kill in 0..KILLS {
        // From Terraform's start-up to well past a whole apply (a few seconds here).
        let after = Duration::from_millis(rng.random_range(300..5000));
        let mark = format!("{label}-{kill}-{}", std::process::id());
        let (providers, exited) = kill_apply_at(&mut wd, &mark, after);
        e2e::note(&format!(
            "{label}: killed Terraform {after:?} into the apply; its {providers} provider process(es) were gone {exited:?} later"
        ));
    }

    let imports = converge(&wd);
    e2e::note(&format!("{label}: converged after importing {imports:?}"));
    wd.assert_plan_empty();

    let (st, v) = emu.admin("DELETE", "/faults", None);
    assert_eq!(st, 200, "{v}");
    let state = in_state(&wd);
    assert_eq!(in_batch(&emu), state, "Batch and the state disagree");
    // Everything configured is there, each once.
    assert_eq!(
        state[1],
        BTreeSet::from([JOB.to_string(), SWEEP_JOB.to_string()])
    );
    let tasks: BTreeSet<String> = TASKS
        .iter()
        .map(|(n, _)| format!("{JOB}/{n}"))
        .chain((0..SWEEP_TASKS).map(|i| format!("{SWEEP_JOB}/p{i}")))
        .collect();
    assert_eq!(state[2], tasks);
    if !pool_hcl.is_empty() {
        assert_eq!(state[0], BTreeSet::from([batch_api::POOL.to_string()]));
    }
}

#[test]
fn killed_applies_leave_no_provider_and_converge_by_the_imports_the_errors_name() {
    let seed = seed();
    e2e::note(&format!(
        "kill test seed: {seed} (E2E_KILL_SEED={seed} replays it)"
    ));
    for_each_terraform(|tf| {
        let mut rng = StdRng::seed_from_u64(seed ^ u64::from(tf.at_least(1, 12)));
        for r in 0..ROUNDS {
            round(tf, &mut rng, &format!("{} round {r}", tf.label()));
        }
    });
}
