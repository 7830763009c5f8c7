//! Fan-out (issue 11): many short container tasks on a small pool, against the local Batch
//! service with added latency on every request. Phases on one service and one pool, one job
//! each (deleted before the next phase, so every phase sees the same service state):
//!
//! 1. the floor: a plain client (batch-client used directly) adds the tasks in chunks of 100,
//!    all chunks at once, then lists the unfinished ones (`$filter`, `$select=id`) once a second
//!    until none is left;
//! 2. `batch_container_task_collection` with the same tasks and `wait_for_completion = true`:
//!    wall time of `terraform apply`;
//! 3. the floor again (a shared machine drifts: the collection is compared with the mean of the
//!    floors measured before and after it);
//! 4. separate `batch_container_task` resources with `wait_for_completion = true`, applied with
//!    `-parallelism=<count>`.
//!
//! Requests are counted by the service (`/_emulator/requests`), per operation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use batch_client::models::{JobAddParameter, PoolAddParameter, TaskAddParameter};
use batch_client::{BatchClient, ListQuery, RequestOptions};
use e2e::{Emulator, EmulatorOptions, Runtime, Terraform, Workdir, dev_overrides_config};
use serde_json::json;

const POOL: &str = "fanout";
/// Goals of the acceptance line, printed beside the measured ratios.
const GOAL_TIME: f64 = 1.3;
const GOAL_COLLECTION_REQ: f64 = 0.3;
const GOAL_SEPARATE_REQ: f64 = 3.0;

pub struct FanoutOpts {
    pub tasks: usize,
    pub separate: usize,
    pub nodes: u32,
    pub slots: u32,
    pub latency_ms: u64,
    pub sleep_s: u32,
    /// `batch-emulator` to run (default: target/release, built unless `--no-build`).
    pub emulator: Option<PathBuf>,
}

impl Default for FanoutOpts {
    fn default() -> Self {
        FanoutOpts {
            tasks: 1000,
            separate: 100,
            nodes: 4,
            slots: 8,
            latency_ms: 50,
            sleep_s: 2,
            emulator: None,
        }
    }
}

/// Requests per operation id, as the service counted them.
type Counts = BTreeMap<String, u64>;

struct Phase {
    label: String,
    tasks: usize,
    wall: Result<Duration, String>,
    requests: Counts,
}

impl Phase {
    fn total(&self) -> u64 {
        self.requests.values().sum()
    }
    fn per_task(&self) -> f64 {
        self.total() as f64 / self.tasks.max(1) as f64
    }
}

fn command_line(o: &FanoutOpts) -> String {
    format!("/bin/sh -c 'sleep {}'", o.sleep_s)
}

/// The release emulator (built here unless `build` is false), or the one given.
fn locate_emulator(o: &FanoutOpts, build: bool) -> Result<PathBuf, String> {
    if let Some(p) = &o.emulator {
        return Ok(p.clone());
    }
    if build && !crate::cargo_build_release(&["-p", "batch-emulator"]) {
        return Err("batch-emulator not built (cargo build failed)".into());
    }
    let bin = e2e::target_dir().join("release/batch-emulator");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{} missing", bin.display()))
    }
}

fn client(emu: &Emulator) -> BatchClient {
    emu.client()
}

fn opts() -> RequestOptions {
    RequestOptions::new().timeout(Duration::from_secs(120))
}

fn counts(emu: &Emulator) -> Counts {
    let (st, body) = emu.admin("GET", "/requests", None);
    assert_eq!(st, 200, "GET /_emulator/requests: {body}");
    serde_json::from_str(&body).expect("request counts")
}

fn reset_counts(emu: &Emulator) {
    let (st, body) = emu.admin("DELETE", "/requests", None);
    assert_eq!(st, 200, "DELETE /_emulator/requests: {body}");
}

/// A pool of `nodes` x `slots` on the service's Ubuntu image, waited for until its nodes are idle.
fn make_pool(emu: &Emulator, o: &FanoutOpts) {
    let pool: PoolAddParameter =
        serde_json::from_value(e2e::container_pool_body(POOL, o.nodes, o.slots))
            .expect("pool body");
    e2e::block_on(async { client(emu).add_pool(&pool, &opts()).await }).expect("Pool_Add");
    e2e::wait_until(
        "the pool's nodes to be idle",
        Duration::from_secs(120),
        || {
            let nodes = e2e::block_on(async {
                client(emu)
                    .list_compute_nodes(POOL, &ListQuery::default(), &opts())
                    .await
            })
            .ok()?;
            (nodes.len() == o.nodes as usize
                && nodes.iter().all(|n| n.state.as_deref() == Some("idle")))
            .then_some(())
        },
    );
}

fn add_job(emu: &Emulator, job: &str) {
    let body: JobAddParameter =
        serde_json::from_value(json!({"id": job, "poolInfo": {"poolId": POOL}})).expect("job");
    e2e::block_on(async { client(emu).add_job(&body, &opts()).await }).expect("Job_Add");
}

/// Deletes the job and waits until the service no longer has it (its tasks go with it).
fn delete_job(emu: &Emulator, job: &str) {
    e2e::block_on(async { client(emu).delete_job(job, &opts()).await }).expect("Job_Delete");
    e2e::wait_until("the job to be deleted", Duration::from_secs(300), || {
        let j = e2e::block_on(async { client(emu).get_job(job, &opts()).await });
        matches!(j, Ok(None)).then_some(())
    });
}

/// The floor: all chunks of 100 at once, then one filtered listing a second until none is left.
fn floor(emu: &Emulator, o: &FanoutOpts, job: &str) -> Phase {
    add_job(emu, job);
    let cmd = command_line(o);
    let tasks: Vec<TaskAddParameter> = (0..o.tasks)
        .map(|i| {
            serde_json::from_value(json!({
                "id": format!("t{i}"),
                "commandLine": cmd,
                "containerSettings": {"imageName": "busybox"}
            }))
            .expect("task")
        })
        .collect();
    reset_counts(emu);
    let start = Instant::now();
    let wall = e2e::block_on(async {
        let (c, o) = (client(emu), opts());
        let adds = tasks
            .chunks(100)
            .map(|chunk| c.add_task_collection(job, chunk, &o));
        for r in futures::future::join_all(adds).await {
            let r = r.map_err(|e| format!("Task_AddCollection: {e}"))?;
            if let Some(bad) = r.iter().find(|t| t.status != "success") {
                return Err(format!("task {} not added: {}", bad.task_id, bad.status));
            }
        }
        let q = ListQuery {
            filter: Some("state ne 'completed'".into()),
            select: Some("id".into()),
            max_results: Some(1000),
            ..Default::default()
        };
        loop {
            let open = c
                .list_tasks(job, &q, &opts())
                .await
                .map_err(|e| format!("Task_List: {e}"))?;
            if open.is_empty() {
                return Ok(start.elapsed());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let requests = counts(emu);
    delete_job(emu, job);
    Phase {
        label: format!("{job}: plain client, chunks of 100 at once, 1 listing/s"),
        tasks: o.tasks,
        wall,
        requests,
    }
}

fn workdir(tf: &Terraform, emu: &Emulator, provider_dir: &Path) -> Workdir {
    let wd = Workdir::with_cli_config(tf, &dev_overrides_config(Some(provider_dir)));
    wd.write_main(&emu.provider_hcl());
    wd
}

/// `terraform apply` of `hcl` (after the provider block), timed; the job is deleted afterwards.
fn timed_apply(
    emu: &Emulator,
    wd: &Workdir,
    job: &str,
    hcl: &str,
    extra: &[&str],
) -> (Result<Duration, String>, Counts) {
    add_job(emu, job);
    wd.write_main(&format!("{}\n{hcl}", emu.provider_hcl()));
    reset_counts(emu);
    let mut args = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
    args.extend_from_slice(extra);
    let out = wd.run(&args);
    let requests = counts(emu);
    let wall = if out.success() {
        Ok(out.duration)
    } else {
        let all = out.combined();
        let tail: Vec<&str> = all.lines().rev().take(8).collect();
        Err(format!(
            "apply failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ))
    };
    // The state is dropped with the job: the next phase starts from an empty service.
    let _ = std::fs::remove_file(wd.path().join("terraform.tfstate"));
    delete_job(emu, job);
    (wall, requests)
}

fn collection(emu: &Emulator, wd: &Workdir, o: &FanoutOpts) -> Phase {
    let cmd = command_line(o);
    let mut map = String::new();
    for i in 0..o.tasks {
        map.push_str(&format!(
            "    \"t{i}\" = {{ command_line = {cmd:?}, container = {{ image_name = \"busybox\" }} }}\n"
        ));
    }
    let hcl = format!(
        "resource \"batch_container_task_collection\" \"fan\" {{\n  job_id = \"coll\"\n  tasks = {{\n{map}  }}\n  wait_for_completion = true\n}}\n"
    );
    let (wall, requests) = timed_apply(emu, wd, "coll", &hcl, &[]);
    Phase {
        label: "batch_container_task_collection, terraform apply".into(),
        tasks: o.tasks,
        wall,
        requests,
    }
}

fn separate(emu: &Emulator, wd: &Workdir, o: &FanoutOpts) -> Phase {
    let n = o.separate;
    let hcl = format!(
        "resource \"batch_container_task\" \"t\" {{\n  count  = {n}\n  job_id = \"sep\"\n  name   = \"s${{count.index}}\"\n  container {{\n    image_name = \"busybox\"\n  }}\n  command_line        = {:?}\n  wait_for_completion = true\n}}\n",
        command_line(o)
    );
    let par = format!("-parallelism={n}");
    let (wall, requests) = timed_apply(emu, wd, "sep", &hcl, &[&par]);
    Phase {
        label: format!("{n} x batch_container_task, terraform apply {par}"),
        tasks: n,
        wall,
        requests,
    }
}

fn fmt_wall(w: &Result<Duration, String>) -> String {
    match w {
        Ok(d) => format!("{:.1}s", d.as_secs_f64()),
        Err(e) => e.clone(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "goal met" } else { "goal MISSED" }
}

/// Runs the three phases and prints their tables and the ratios the goals are read from.
pub fn run(tf: &Terraform, provider_dir: Option<&Path>, o: &FanoutOpts, build: bool) {
    println!(
        "\n## Fan-out: {} tasks of `sleep {}` on {} nodes x {} slots, {} ms added to every request (Terraform v{})\n",
        o.tasks, o.sleep_s, o.nodes, o.slots, o.latency_ms, tf.version
    );
    let Some(provider_dir) = provider_dir else {
        println!("provider not built: fan-out not measured");
        return;
    };
    let emulator = match locate_emulator(o, build) {
        Ok(p) => p,
        Err(e) => {
            println!("{e}: fan-out not measured");
            return;
        }
    };
    println!("emulator: {}, task runtime: process", emulator.display());
    // SAFETY: set before the first service starts, while this process runs no other thread.
    unsafe { std::env::set_var("E2E_EMULATOR_BIN", &emulator) };
    let emu = Emulator::start_with(EmulatorOptions {
        runtime: Runtime::Process,
        extra_args: e2e::SHORT_DELAYS.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    });
    make_pool(&emu, o);
    let rule = json!({"rules": [{"operation": "*", "latencyMs": o.latency_ms}]}).to_string();
    let (st, body) = emu.admin("PUT", "/faults", Some(&rule));
    assert_eq!(st, 200, "latency rule: {body}");

    let wd = workdir(tf, &emu, provider_dir);
    eprintln!("bench: fan-out floor ({} tasks)", o.tasks);
    let floor1 = floor(&emu, o, "floor1");
    eprintln!("bench: fan-out collection ({} tasks)", o.tasks);
    let coll = collection(&emu, &wd, o);
    eprintln!("bench: fan-out floor again");
    let floor2 = floor(&emu, o, "floor2");
    eprintln!("bench: fan-out separate tasks ({})", o.separate);
    let sep = separate(&emu, &wd, o);
    let phases = [&floor1, &coll, &floor2, &sep];

    println!("| phase | tasks | wall time | Batch requests | requests / task |");
    println!("|---|---:|---:|---:|---:|");
    for p in phases {
        println!(
            "| {} | {} | {} | {} | {:.3} |",
            p.label,
            p.tasks,
            fmt_wall(&p.wall),
            p.total(),
            p.per_task()
        );
    }
    let ops: std::collections::BTreeSet<&String> =
        phases.iter().flat_map(|p| p.requests.keys()).collect();
    println!("\nRequests per task, per operation (counted by the service):\n");
    println!("| operation | floor1 | collection | floor2 | separate |");
    println!("|---|---:|---:|---:|---:|");
    for op in ops {
        let cell = |p: &Phase| {
            let n = p.requests.get(op).copied().unwrap_or(0);
            format!("{:.3} ({n})", n as f64 / p.tasks.max(1) as f64)
        };
        let cells: Vec<String> = phases.iter().map(|p| cell(p)).collect();
        println!("| {op} | {} |", cells.join(" | "));
    }
    println!();
    match (&coll.wall, &floor1.wall, &floor2.wall) {
        (Ok(c), Ok(f1), Ok(f2)) => {
            let f = (f1.as_secs_f64() + f2.as_secs_f64()) / 2.0;
            let r = c.as_secs_f64() / f;
            println!(
                "collection apply / floor (mean of {:.1}s and {:.1}s): {r:.2}x (goal <= {GOAL_TIME}x: {})",
                f1.as_secs_f64(),
                f2.as_secs_f64(),
                verdict(r <= GOAL_TIME)
            );
        }
        _ => println!("collection apply / floor: - (a phase failed)"),
    }
    let (c, s) = (coll.per_task(), sep.per_task());
    println!(
        "collection requests / task: {c:.3} (goal <= {GOAL_COLLECTION_REQ}: {})",
        verdict(coll.wall.is_ok() && c <= GOAL_COLLECTION_REQ)
    );
    println!(
        "separate tasks requests / task: {s:.3} (goal <= {GOAL_SEPARATE_REQ}: {})",
        verdict(sep.wall.is_ok() && s <= GOAL_SEPARATE_REQ)
    );
}
