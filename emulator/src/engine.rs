//! The background "fabric": allocation, node start-up (image prefetch, start task), task scheduling,
//! task completion and retries, job completion, retention. One tick every few tens of milliseconds
//! under the state lock; processes and containers run in spawned tasks that report back.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

use crate::app::{App, AppRef};
use crate::jobs::set_job_state;
use crate::runtime::{Failure, Outcome, RunSpec};
use crate::state::{Node, Pool, State, b, i, s};
use crate::util::{new_node_id, now_iso, now_ms, parse_duration_ms};

pub fn run(app: AppRef) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut iv = tokio::time::interval(std::time::Duration::from_millis(25));
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = iv.tick() => tick(&app).await,
                _ = app.shutdown.cancelled() => break,
            }
        }
    })
}

/// After a restart: tasks that were running are requeued (as Batch does when a node reboots) and
/// nodes that were starting rerun their setup.
pub fn recover(st: &mut State) {
    let now = now_iso();
    for job in st.jobs.values_mut() {
        for t in job.tasks.values_mut() {
            if matches!(s(&t.body, "state"), "running" | "preparing") {
                requeue_body(&mut t.body, &now);
                t.node = None;
                t.sub_nodes.clear();
                st.dirty = true;
            }
        }
    }
    for p in st.pools.values_mut() {
        for n in p.nodes.iter_mut() {
            n.running.clear();
            n.slots_used = 0;
            n.body["runningTasksCount"] = json!(0);
            n.body["runningTaskSlotsCount"] = json!(0);
            match s(&n.body, "state") {
                "running" => set_node_state(n, "idle"),
                "starting" | "waitingforstarttask" | "creating" => {
                    n.setup_started = false;
                    set_node_state(n, "starting");
                }
                _ => {}
            }
        }
    }
}

fn requeue_body(body: &mut Value, now: &str) {
    body["previousState"] = body["state"].clone();
    body["previousStateTransitionTime"] = body["stateTransitionTime"].clone();
    body["state"] = json!("active");
    body["stateTransitionTime"] = json!(now);
    let ei = &mut body["executionInfo"];
    ei["requeueCount"] = json!(i(ei, "requeueCount") + 1);
    ei["lastRequeueTime"] = json!(now);
    if let Some(o) = body.as_object_mut() {
        o.remove("nodeInfo");
    }
}

fn set_node_state(n: &mut Node, state: &str) {
    if s(&n.body, "state") != state {
        n.body["state"] = json!(state);
        n.body["stateTransitionTime"] = json!(now_iso());
    }
}

async fn tick(app: &AppRef) {
    let mut st = app.state.lock().await;
    let now = now_ms();
    let pool_keys: Vec<String> = st.pools.keys().cloned().collect();
    for pk in pool_keys {
        let ov = st.overrides.get(&pk).cloned().unwrap_or_default();
        let delete = st
            .pools
            .get(&pk)
            .and_then(|p| p.delete_done_at)
            .is_some_and(|t| t <= now);
        if delete {
            let p = st.pools.remove(&pk).unwrap();
            for n in &p.nodes {
                for (jk, tk) in n.running.clone() {
                    requeue_task(app, &mut st, &jk, &tk);
                }
                let _ = std::fs::remove_dir_all(&n.root);
            }
            st.dirty = true;
            continue;
        }
        let mut requeue = vec![];
        {
            let p = st.pools.get_mut(&pk).unwrap();
            if p.resize_done_at.is_some_and(|t| t <= now) && s(&p.body, "state") == "active" {
                p.resize_done_at = None;
                requeue = complete_resize(app, p, &ov);
                st.dirty = true;
            }
        }
        for (jk, tk) in requeue {
            requeue_task(app, &mut st, &jk, &tk);
        }
        let p = st.pools.get_mut(&pk).unwrap();
        if b(&p.body, "enableAutoScale")
            && p.next_autoscale_at.is_some_and(|t| t <= now)
            && s(&p.body, "allocationState") == "steady"
        {
            let before = (
                i(&p.body, "targetDedicatedNodes"),
                i(&p.body, "targetLowPriorityNodes"),
            );
            crate::autoscale::apply(p);
            if before
                != (
                    i(&p.body, "targetDedicatedNodes"),
                    i(&p.body, "targetLowPriorityNodes"),
                )
            {
                crate::pools::start_resize(p, app.allocation_delay.as_millis() as i64);
            }
            st.dirty = true;
        }
        let p = st.pools.get_mut(&pk).unwrap();
        for n in p.nodes.iter_mut() {
            if s(&n.body, "state") == "starting" && !n.setup_started && n.ready_at <= now {
                n.setup_started = true;
                let app2 = app.clone();
                let (pk2, nid) = (pk.clone(), s(&n.body, "id").to_string());
                tokio::spawn(async move { node_setup(app2, pk2, nid).await });
            }
        }
    }
    job_transitions(app, &mut st, now);
    schedule(app, &mut st);
    let path = app.state_path.clone();
    st.save_if_dirty(&path);
}

fn node_root(app: &App, pool_id: &str, node_id: &str) -> PathBuf {
    app.data_dir.join("nodes").join(pool_id).join(node_id)
}

/// Finish an allocation change: add or remove nodes to reach the targets. Returns tasks to requeue.
fn complete_resize(
    app: &App,
    p: &mut Pool,
    ov: &crate::state::PoolOverride,
) -> Vec<(String, String)> {
    let now = now_iso();
    let mut requeue = vec![];
    let stopping = s(&p.body, "allocationState") == "stopping";
    p.body["allocationState"] = json!("steady");
    p.body["allocationStateTransitionTime"] = json!(now);
    if stopping {
        p.body["resizeErrors"] = json!([{"code": "ResizeStopped", "message": "Desired number of dedicated nodes could not be allocated as the resize was stopped."}]);
        return requeue;
    }
    // Nodes removed through Pool_RemoveNodes leave now.
    let mut leaving: Vec<Node> = vec![];
    p.nodes.retain_mut(|n| {
        if s(&n.body, "state") == "leavingpool" {
            leaving.push(std::mem::replace(n, placeholder()));
            false
        } else {
            true
        }
    });
    let mut errors = vec![];
    if let Some(e) = &ov.resize_error {
        errors.push(e.clone());
    } else {
        for (dedicated, key) in [
            (true, "targetDedicatedNodes"),
            (false, "targetLowPriorityNodes"),
        ] {
            let mut target = i(&p.body, key).max(0) as usize;
            if let Some(max) = ov.max_nodes
                && target > max as usize
            {
                errors.push(json!({"code": "AllocationFailed", "message": format!("Only {max} of the {target} requested nodes could be allocated.")}));
                target = max as usize;
            }
            let have = p
                .nodes
                .iter()
                .filter(|n| b(&n.body, "isDedicated") == dedicated)
                .count();
            if have < target {
                for _ in have..target {
                    let n = new_node(app, p, dedicated);
                    p.nodes.push(n);
                }
            } else if have > target {
                // Remove idle nodes first, then the least busy.
                let mut idx: Vec<usize> = (0..p.nodes.len())
                    .filter(|&k| b(&p.nodes[k].body, "isDedicated") == dedicated)
                    .collect();
                idx.sort_by_key(|&k| (p.nodes[k].slots_used, std::cmp::Reverse(k)));
                let remove: Vec<usize> = idx.into_iter().take(have - target).collect();
                let mut k = 0;
                p.nodes.retain_mut(|n| {
                    let keep = !remove.contains(&k);
                    k += 1;
                    if !keep {
                        leaving.push(std::mem::replace(n, placeholder()));
                    }
                    keep
                });
            }
        }
    }
    for n in leaving {
        requeue.extend(n.running.iter().cloned());
        let _ = std::fs::remove_dir_all(&n.root);
    }
    if errors.is_empty() {
        if let Some(o) = p.body.as_object_mut() {
            o.remove("resizeErrors");
        }
    } else {
        p.body["resizeErrors"] = json!(errors);
    }
    let d = p.nodes.iter().filter(|n| b(&n.body, "isDedicated")).count();
    p.body["currentDedicatedNodes"] = json!(d);
    p.body["currentLowPriorityNodes"] = json!(p.nodes.len() - d);
    requeue
}

fn placeholder() -> Node {
    Node {
        body: Value::Null,
        ready_at: 0,
        setup_started: false,
        slots_used: 0,
        running: vec![],
        prep: Default::default(),
        prep_info: Default::default(),
        release_info: Default::default(),
        root: PathBuf::new(),
    }
}

fn new_node(app: &App, p: &Pool, dedicated: bool) -> Node {
    let id = new_node_id(dedicated);
    let pool_id = s(&p.body, "id");
    let root = node_root(app, pool_id, &id);
    for d in [
        "startup/wd",
        "shared",
        "fsmounts",
        "applications",
        "workitems",
    ] {
        let _ = std::fs::create_dir_all(root.join(d));
    }
    let now = now_iso();
    let n = p.nodes.len() + 4;
    let mut body = json!({
        "id": id,
        "url": format!("{}/nodes/{id}", s(&p.body, "url")),
        "state": "starting",
        "schedulingState": "enabled",
        "stateTransitionTime": now,
        "lastBootTime": now,
        "allocationTime": now,
        "ipAddress": format!("10.0.{}.{}", n / 250, n % 250 + 4),
        "affinityId": format!("TVM:{id}"),
        "vmSize": s(&p.body, "vmSize"),
        "totalTasksRun": 0,
        "runningTasksCount": 0,
        "runningTaskSlotsCount": 0,
        "totalTasksSucceeded": 0,
        "isDedicated": dedicated,
        "nodeAgentInfo": {"version": "1.11.19", "lastUpdateTime": now},
        "virtualMachineInfo": {"imageReference": p.body["virtualMachineConfiguration"]["imageReference"].clone()},
    });
    if let Some(st) = p.body.get("startTask") {
        body["startTask"] = st.clone();
    }
    Node {
        body,
        ready_at: now_ms() + app.node_start_delay.as_millis() as i64,
        setup_started: false,
        slots_used: 0,
        running: vec![],
        prep: Default::default(),
        prep_info: Default::default(),
        release_info: Default::default(),
        root,
    }
}

fn base_env(app: &App, pool_id: &str, node: &Node) -> Vec<(String, String)> {
    let root = node.root.display().to_string();
    vec![
        ("AZ_BATCH_ACCOUNT_NAME".into(), app.auth.account.clone()),
        ("AZ_BATCH_ACCOUNT_URL".into(), app.base_url.clone()),
        ("AZ_BATCH_POOL_ID".into(), pool_id.to_string()),
        ("AZ_BATCH_NODE_ID".into(), s(&node.body, "id").to_string()),
        (
            "AZ_BATCH_NODE_IS_DEDICATED".into(),
            b(&node.body, "isDedicated").to_string(),
        ),
        ("AZ_BATCH_NODE_ROOT_DIR".into(), root.clone()),
        ("AZ_BATCH_NODE_SHARED_DIR".into(), format!("{root}/shared")),
        (
            "AZ_BATCH_NODE_STARTUP_DIR".into(),
            format!("{root}/startup"),
        ),
        (
            "AZ_BATCH_NODE_MOUNTS_DIR".into(),
            format!("{root}/fsmounts"),
        ),
        (
            "AZ_BATCH_TASK_RESERVED_EPHEMERAL_DISK_SPACE_BYTES".into(),
            "1000000000".into(),
        ),
    ]
}

fn settings_env(v: &Value, key: &str, env: &mut Vec<(String, String)>) {
    for e in v.get(key).and_then(Value::as_array).into_iter().flatten() {
        env.push((s(e, "name").to_string(), s(e, "value").to_string()));
    }
}

fn resource_files(task: &Value) -> Vec<Value> {
    task.get("resourceFiles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn max_wall(constraints: &Value) -> Option<i64> {
    constraints
        .get("maxWallClockTime")
        .and_then(Value::as_str)
        .and_then(parse_duration_ms)
}

/// Prefetch images and run the start task of a node that just started.
async fn node_setup(app: AppRef, pk: String, nid: String) {
    let (images, start_task, pool_id, ov, node_root, mut env) = {
        let st = app.state.lock().await;
        let Some(p) = st.pools.get(&pk) else { return };
        let Some(n) = p.nodes.iter().find(|n| s(&n.body, "id") == nid) else {
            return;
        };
        let images: Vec<String> =
            p.body["virtualMachineConfiguration"]["containerConfiguration"]["containerImageNames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
        let pool_id = s(&p.body, "id").to_string();
        let env = base_env(&app, &pool_id, n);
        (
            images,
            p.body.get("startTask").cloned(),
            pool_id,
            st.overrides.get(&pk).cloned().unwrap_or_default(),
            n.root.clone(),
            env,
        )
    };
    let prefetch = app.runtime.prefetch(&images).await;
    {
        let mut st = app.state.lock().await;
        let Some(n) = st
            .pools
            .get_mut(&pk)
            .and_then(|p| p.nodes.iter_mut().find(|n| s(&n.body, "id") == nid))
        else {
            return;
        };
        if let Err(f) = prefetch {
            set_node_state(n, "unusable");
            n.body["errors"] = json!([{"code": f.code, "message": f.message, "errorDetails": []}]);
            st.dirty = true;
            return;
        }
        if let Some(forced) = ov.node_state.as_deref() {
            set_node_state(n, forced);
            if forced == "starttaskfailed" {
                n.body["startTaskInfo"] = json!({"state": "completed", "startTime": now_iso(), "endTime": now_iso(), "exitCode": 1, "retryCount": 0,
                    "result": "failure", "failureInfo": {"category": "UserError", "code": "FailureExitCode", "message": "The start task failed (forced by the emulator's fault injection)."}});
            }
            if forced == "unusable" {
                n.body["errors"] = json!([{"code": "NodeUnusable", "message": "The node is unusable (forced by the emulator's fault injection).", "errorDetails": []}]);
            }
            st.dirty = true;
            return;
        }
        let Some(stt) = &start_task else {
            set_node_state(n, "idle");
            st.dirty = true;
            return;
        };
        let wait = stt
            .get("waitForSuccess")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        set_node_state(n, if wait { "waitingforstarttask" } else { "idle" });
        n.body["startTaskInfo"] =
            json!({"state": "running", "startTime": now_iso(), "retryCount": 0});
        st.dirty = true;
    }
    let stt = start_task.unwrap();
    let task_dir = node_root.join("startup");
    env.push(("AZ_BATCH_TASK_DIR".into(), task_dir.display().to_string()));
    env.push((
        "AZ_BATCH_TASK_WORKING_DIR".into(),
        task_dir.join("wd").display().to_string(),
    ));
    settings_env(&stt, "environmentSettings", &mut env);
    let max_retries = i(&stt, "maxTaskRetryCount");
    let mut retries = 0;
    let (started, outcome) = loop {
        let started = now_iso();
        let spec = RunSpec {
            name: format!("{pool_id}-{}-start", &nid[..nid.len().min(20)]),
            command_line: s(&stt, "commandLine").to_string(),
            env: env.clone(),
            task_dir: task_dir.clone(),
            working_dir: task_dir.join("wd"),
            node_root: node_root.clone(),
            container: stt.get("containerSettings").cloned(),
            max_wall_ms: None,
            resource_files: resource_files(&stt),
        };
        let o = app.runtime.run(spec, app.shutdown.child_token()).await;
        if o.failure.is_none()
            || (max_retries != -1 && retries >= max_retries)
            || app.shutdown.is_cancelled()
        {
            break (started, o);
        }
        retries += 1;
    };
    let mut st = app.state.lock().await;
    let Some(n) = st
        .pools
        .get_mut(&pk)
        .and_then(|p| p.nodes.iter_mut().find(|n| s(&n.body, "id") == nid))
    else {
        return;
    };
    let mut info = json!({"state": "completed", "startTime": started, "endTime": now_iso(), "retryCount": retries,
        "result": if outcome.failure.is_none() { "success" } else { "failure" }});
    if let Some(c) = outcome.exit_code {
        info["exitCode"] = json!(c);
    }
    if let Some(f) = &outcome.failure {
        info["failureInfo"] = f.to_value();
    }
    if let Some(ci) = &outcome.container_info {
        info["containerInfo"] = ci.clone();
    }
    n.body["startTaskInfo"] = info;
    let wait = stt
        .get("waitForSuccess")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if s(&n.body, "state") == "waitingforstarttask" {
        set_node_state(
            n,
            if outcome.failure.is_some() && wait {
                "starttaskfailed"
            } else {
                "idle"
            },
        );
    }
    st.dirty = true;
}

/// How long a job with `onAllTasksComplete: terminatejob` and no task stays active.
pub const EMPTY_JOB_GRACE_MS: i64 = 2000;

fn job_transitions(app: &AppRef, st: &mut State, now: i64) {
    let keys: Vec<String> = st.jobs.keys().cloned().collect();
    for jk in keys {
        let job = st.jobs.get_mut(&jk).unwrap();
        let running = job
            .tasks
            .values()
            .any(|t| matches!(s(&t.body, "state"), "running" | "preparing"));
        match s(&job.body, "state") {
            "deleting" if !running && job.delete_done_at.is_none_or(|t| t <= now) => {
                spawn_release_tasks(app, st, &jk);
                let job = st.jobs.remove(&jk).unwrap();
                for t in job.tasks.values() {
                    if let Some(d) = &t.dir {
                        let _ = std::fs::remove_dir_all(d);
                    }
                }
                st.dirty = true;
            }
            "terminating" if !running => {
                spawn_release_tasks(app, st, &jk);
                let job = st.jobs.get_mut(&jk).unwrap();
                set_job_state(&mut job.body, "completed");
                job.body["executionInfo"]["endTime"] = json!(now_iso());
                let auto_pool = job.body["poolInfo"]
                    .get("autoPoolSpecification")
                    .map(|_| crate::jobs::job_pool_key(&job.body));
                if let Some(pk) = auto_pool
                    && let Some(p) = st.pools.get_mut(&pk)
                    && p.delete_done_at.is_none()
                {
                    p.body["state"] = json!("deleting");
                    p.delete_done_at = Some(now + app.delete_delay.as_millis() as i64);
                }
                st.dirty = true;
            }
            "active"
                if job
                    .body
                    .get("jobManagerTask")
                    .is_some_and(|jm| jm.get("killJobOnCompletion") != Some(&json!(false)))
                    && job
                        .tasks
                        .get(&s(&job.body["jobManagerTask"], "id").to_ascii_lowercase())
                        .is_some_and(|t| s(&t.body, "state") == "completed") =>
            {
                terminate_job(app, st, &jk, "JMComplete");
            }
            // An empty job counts as "all tasks complete" (as the spec says), but only after a grace
            // period like the service's own reaction time, so that tasks added right after the job
            // are not refused.
            "active"
                if s(&job.body, "onAllTasksComplete").eq_ignore_ascii_case("terminatejob")
                    && job
                        .tasks
                        .values()
                        .all(|t| s(&t.body, "state") == "completed")
                    && (!job.tasks.is_empty()
                        || job
                            .body
                            .get("lastModified")
                            .and_then(Value::as_str)
                            .and_then(crate::util::parse_iso)
                            .is_some_and(|m| now - m >= EMPTY_JOB_GRACE_MS)) =>
            {
                terminate_job(app, st, &jk, "AllTasksComplete");
            }
            _ => {}
        }
    }
    // Retention: the task directory is removed once retentionTime has passed after completion.
    for job in st.jobs.values_mut() {
        for t in job.tasks.values_mut() {
            if t.files_deleted || s(&t.body, "state") != "completed" {
                continue;
            }
            let end = t.body["executionInfo"]
                .get("endTime")
                .and_then(Value::as_str)
                .and_then(crate::util::parse_iso);
            let keep = t.body["constraints"]
                .get("retentionTime")
                .and_then(Value::as_str)
                .and_then(parse_duration_ms)
                .unwrap_or(7 * 86_400_000);
            if let (Some(end), Some(dir)) = (end, &t.dir)
                && end.saturating_add(keep) <= now
            {
                let _ = std::fs::remove_dir_all(dir);
                t.files_deleted = true;
                st.dirty = true;
            }
        }
    }
}

/// Run the job release task on every node that ran the job's preparation task (once per node).
fn spawn_release_tasks(app: &AppRef, st: &mut State, jk: &str) {
    let Some(job) = st.jobs.get(jk) else { return };
    let Some(rt) = job.body.get("jobReleaseTask").cloned() else {
        return;
    };
    let job_body = job.body.clone();
    let job_id = s(&job_body, "id").to_string();
    let pk = crate::jobs::job_pool_key(&job_body);
    let Some(pool) = st.pools.get_mut(&pk) else {
        return;
    };
    let pool_id = s(&pool.body, "id").to_string();
    for n in pool.nodes.iter_mut() {
        if n.prep.remove(jk).is_none() {
            continue;
        }
        let dir = n
            .root
            .join(format!("workitems/{job_id}/job-1/{}", s(&rt, "id")));
        let prep_dir = n.root.join(format!(
            "workitems/{job_id}/job-1/{}",
            s(&job_body["jobPreparationTask"], "id")
        ));
        let _ = std::fs::create_dir_all(dir.join("wd"));
        let mut env = base_env(app, &pool_id, n);
        env.push(("AZ_BATCH_JOB_ID".into(), job_id.clone()));
        env.push(("AZ_BATCH_TASK_ID".into(), s(&rt, "id").to_string()));
        env.push(("AZ_BATCH_TASK_DIR".into(), dir.display().to_string()));
        env.push((
            "AZ_BATCH_TASK_WORKING_DIR".into(),
            dir.join("wd").display().to_string(),
        ));
        env.push((
            "AZ_BATCH_JOB_PREP_DIR".into(),
            prep_dir.display().to_string(),
        ));
        env.push((
            "AZ_BATCH_JOB_PREP_WORKING_DIR".into(),
            prep_dir.join("wd").display().to_string(),
        ));
        settings_env(&job_body, "commonEnvironmentSettings", &mut env);
        settings_env(&rt, "environmentSettings", &mut env);
        let spec = RunSpec {
            name: format!("{job_id}-{}", s(&rt, "id")),
            command_line: s(&rt, "commandLine").to_string(),
            env,
            task_dir: dir.clone(),
            working_dir: dir.join("wd"),
            node_root: n.root.clone(),
            container: rt.get("containerSettings").cloned(),
            resource_files: resource_files(&rt),
            // Batch gives release tasks 15 minutes unless told otherwise.
            max_wall_ms: rt
                .get("maxWallClockTime")
                .and_then(Value::as_str)
                .and_then(parse_duration_ms)
                .or(Some(15 * 60_000)),
        };
        let app2 = app.clone();
        let job_id = job_id.clone();
        let (pk2, nid, jk2) = (pk.clone(), s(&n.body, "id").to_string(), jk.to_string());
        tokio::spawn(async move {
            let started = now_iso();
            let o = app2.runtime.run(spec, app2.shutdown.child_token()).await;
            let mut st = app2.state.lock().await;
            if let Some(n) = st
                .pools
                .get_mut(&pk2)
                .and_then(|p| p.nodes.iter_mut().find(|n| s(&n.body, "id") == nid))
            {
                let info = prep_release_info(n, &dir, &started, &o);
                n.release_info.insert(jk2, info);
                st.dirty = true;
            }
            drop(st);
            tracing::info!(job = %job_id, exit = ?o.exit_code, failure = ?o.failure.map(|f| f.code), "job release task finished");
        });
    }
    st.dirty = true;
}

/// JobPreparation/ReleaseTaskExecutionInformation of a finished run on a node.
fn prep_release_info(n: &Node, dir: &std::path::Path, started: &str, o: &Outcome) -> Value {
    let rel = dir
        .strip_prefix(&n.root)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut v = json!({"state": "completed", "startTime": started, "endTime": now_iso(), "retryCount": 0,
        "taskRootDirectory": rel, "taskRootDirectoryUrl": format!("{}/files/{rel}", s(&n.body, "url")),
        "result": if o.failure.is_none() { "success" } else { "failure" }});
    if let Some(c) = o.exit_code {
        v["exitCode"] = json!(c);
    }
    if let Some(f) = &o.failure {
        v["failureInfo"] = f.to_value();
    }
    if let Some(ci) = &o.container_info {
        v["containerInfo"] = ci.clone();
    }
    v
}

/// Move a job to terminating: running tasks are ended; the tick completes it.
pub fn terminate_job(app: &App, st: &mut State, jk: &str, reason: &str) {
    stop_job_tasks(app, st, jk, &format!("The job was terminated ({reason})."));
    let Some(job) = st.jobs.get_mut(jk) else {
        return;
    };
    set_job_state(&mut job.body, "terminating");
    job.body["executionInfo"]["terminateReason"] = json!(reason);
    st.dirty = true;
}

pub fn stop_job_tasks(app: &App, st: &mut State, jk: &str, why: &str) {
    let Some(job) = st.jobs.get(jk) else { return };
    let running: Vec<String> = job
        .tasks
        .iter()
        .filter(|(_, t)| matches!(s(&t.body, "state"), "running" | "preparing"))
        .map(|(k, _)| k.clone())
        .collect();
    for tk in running {
        end_running_task(app, st, jk, &tk, Some(Failure::user("TaskEnded", why)));
    }
}

fn release_node(
    st: &mut State,
    pool_node: Option<(String, String)>,
    jk: &str,
    tk: &str,
    slots: i64,
    success: Option<bool>,
) {
    let Some((pk, nid)) = pool_node else { return };
    let Some(n) = st
        .pools
        .get_mut(&pk)
        .and_then(|p| p.nodes.iter_mut().find(|n| s(&n.body, "id") == nid))
    else {
        return;
    };
    let before = n.running.len();
    n.running.retain(|(j, t)| !(j == jk && t == tk));
    if n.running.len() == before {
        return;
    }
    n.slots_used = (n.slots_used - slots).max(0);
    n.body["runningTasksCount"] = json!(n.running.len());
    n.body["runningTaskSlotsCount"] = json!(n.slots_used);
    if let Some(ok) = success {
        n.body["totalTasksRun"] = json!(i(&n.body, "totalTasksRun") + 1);
        if ok {
            n.body["totalTasksSucceeded"] = json!(i(&n.body, "totalTasksSucceeded") + 1);
        }
    }
    if n.running.is_empty() && s(&n.body, "state") == "running" {
        set_node_state(n, "idle");
    }
}

/// Stop a running task (kill its process). With a failure, the task completes with it; without,
/// the caller decides what happens to the task (delete).
pub fn end_running_task(app: &App, st: &mut State, jk: &str, tk: &str, failure: Option<Failure>) {
    let Some(t) = st.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk)) else {
        return;
    };
    if !matches!(s(&t.body, "state"), "running" | "preparing") {
        return;
    }
    app.cancel_task(jk, tk);
    let node = t.node.take();
    let subs = std::mem::take(&mut t.sub_nodes);
    let slots = t.slots;
    if let Some(f) = &failure {
        complete_task_body(&mut t.body, None, Some(f), None);
    }
    release_node(st, node, jk, tk, slots, Some(false));
    for sn in subs {
        release_node(st, Some(sn), jk, tk, slots, None);
    }
    st.dirty = true;
}

pub fn requeue_task(app: &App, st: &mut State, jk: &str, tk: &str) {
    app.cancel_task(jk, tk);
    let Some(t) = st.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk)) else {
        return;
    };
    if matches!(s(&t.body, "state"), "running" | "preparing") {
        requeue_body(&mut t.body, &now_iso());
        let node = t.node.take();
        let subs = std::mem::take(&mut t.sub_nodes);
        let slots = t.slots;
        release_node(st, node, jk, tk, slots, None);
        for sn in subs {
            release_node(st, Some(sn), jk, tk, slots, None);
        }
        st.dirty = true;
    }
}

/// Put a task body into `completed` with its execution result.
pub fn complete_task_body(
    body: &mut Value,
    exit_code: Option<i64>,
    failure: Option<&Failure>,
    container_info: Option<&Value>,
) {
    let now = now_iso();
    body["previousState"] = body["state"].clone();
    body["previousStateTransitionTime"] = body["stateTransitionTime"].clone();
    body["state"] = json!("completed");
    body["stateTransitionTime"] = json!(now);
    let ei = &mut body["executionInfo"];
    if ei.get("startTime").is_none() {
        ei["startTime"] = json!(now);
    }
    ei["endTime"] = json!(now);
    match exit_code {
        Some(c) => ei["exitCode"] = json!(c),
        None => {
            if let Some(o) = ei.as_object_mut() {
                o.remove("exitCode");
            }
        }
    }
    ei["result"] = json!(if failure.is_none() {
        "success"
    } else {
        "failure"
    });
    match failure {
        Some(f) => ei["failureInfo"] = f.to_value(),
        None => {
            if let Some(o) = ei.as_object_mut() {
                o.remove("failureInfo");
            }
        }
    }
    if let Some(ci) = container_info {
        ei["containerInfo"] = ci.clone();
    }
}

/// The exit options that apply to a completed task: (jobAction, dependencyAction), from its
/// `exitConditions` and the spec's defaults (none/satisfy on exit code 0, terminate/block otherwise).
pub fn exit_options(task: &Value) -> (String, String) {
    let ei = &task["executionInfo"];
    let success = s(ei, "result") == "success";
    let code = ei.get("exitCode").and_then(Value::as_i64);
    let ec = &task["exitConditions"];
    let mut chosen: Option<&Value> = None;
    if let Some(code) = code {
        chosen = ec["exitCodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| i(e, "code") == code)
            .map(|e| &e["exitOptions"]);
        if chosen.is_none() {
            chosen = ec["exitCodeRanges"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| (i(r, "start")..=i(r, "end")).contains(&code))
                .map(|r| &r["exitOptions"]);
        }
    } else if !success && ec.get("preProcessingError").is_some() {
        chosen = ec.get("preProcessingError");
    }
    if chosen.is_none() && !success {
        chosen = ec.get("default");
    }
    let (dj, dd) = if success {
        ("none", "satisfy")
    } else {
        ("terminate", "block")
    };
    let pick = |k: &str, d: &str| {
        chosen
            .and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or(d)
            .to_string()
    };
    (pick("jobAction", dj), pick("dependencyAction", dd))
}

fn deps_satisfied(job: &crate::state::Job, t: &Value) -> bool {
    let Some(dep) = t.get("dependsOn") else {
        return true;
    };
    let done = |id: &str| {
        job.tasks.get(&id.to_ascii_lowercase()).is_some_and(|d| {
            s(&d.body, "state") == "completed" && exit_options(&d.body).1 == "satisfy"
        })
    };
    for id in dep
        .get("taskIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !done(id.as_str().unwrap_or("")) {
            return false;
        }
    }
    for r in dep
        .get("taskIdRanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for n in i(r, "start")..=i(r, "end") {
            if !done(&n.to_string()) {
                return false;
            }
        }
    }
    true
}

struct Assignment {
    jk: String,
    tk: String,
    pk: String,
    nid: String,
    /// Nodes of the subtasks of a multi-instance task.
    subs: Vec<String>,
}

fn schedule(app: &AppRef, st: &mut State) {
    let mut jobs: Vec<(&String, &crate::state::Job)> = st
        .jobs
        .iter()
        .filter(|(_, j)| s(&j.body, "state") == "active")
        .collect();
    jobs.sort_by_key(|(_, j)| std::cmp::Reverse(i(&j.body, "priority")));
    let mut plan: Vec<Assignment> = vec![];
    // Slots planned in this round, per (pool, node index).
    let mut extra: std::collections::HashMap<(String, usize), i64> = Default::default();
    for (jk, job) in jobs {
        let pk = crate::jobs::job_pool_key(&job.body);
        let Some(pool) = st.pools.get(&pk) else {
            continue;
        };
        if s(&pool.body, "state") != "active" {
            continue;
        }
        let slots_per_node = i(&pool.body, "taskSlotsPerNode").max(1);
        let pack =
            s(&pool.body["taskSchedulingPolicy"], "nodeFillType").eq_ignore_ascii_case("pack");
        let max_parallel = i(&job.body, "maxParallelTasks");
        let mut running = job
            .tasks
            .values()
            .filter(|t| matches!(s(&t.body, "state"), "running" | "preparing"))
            .count() as i64;
        let mut tasks: Vec<(&String, &crate::state::Task)> = job
            .tasks
            .iter()
            .filter(|(_, t)| s(&t.body, "state") == "active")
            .collect();
        tasks.sort_by_key(|(_, t)| t.seq);
        for (tk, t) in tasks {
            if max_parallel >= 0 && running >= max_parallel {
                break;
            }
            if !deps_satisfied(job, &t.body) {
                continue;
            }
            let need = i(&t.body, "requiredSlots").max(1);
            let instances = t.body["multiInstanceSettings"]
                .get("numberOfInstances")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .max(1) as usize;
            if instances > 1 {
                // A multi-instance task needs that many distinct nodes at once.
                let mut cands: Vec<(usize, i64)> = vec![];
                for (k, n) in pool.nodes.iter().enumerate() {
                    if !matches!(s(&n.body, "state"), "idle" | "running")
                        || s(&n.body, "schedulingState") == "disabled"
                    {
                        continue;
                    }
                    let used = n.slots_used + extra.get(&(pk.clone(), k)).copied().unwrap_or(0);
                    if used + need <= slots_per_node {
                        cands.push((k, used));
                    }
                }
                cands.sort_by_key(|(_, u)| *u);
                if cands.len() >= instances {
                    let picked: Vec<usize> = cands[..instances].iter().map(|(k, _)| *k).collect();
                    for k in &picked {
                        *extra.entry((pk.clone(), *k)).or_default() += need;
                    }
                    running += 1;
                    plan.push(Assignment {
                        jk: jk.clone(),
                        tk: tk.clone(),
                        pk: pk.clone(),
                        nid: s(&pool.nodes[picked[0]].body, "id").to_string(),
                        subs: picked[1..]
                            .iter()
                            .map(|k| s(&pool.nodes[*k].body, "id").to_string())
                            .collect(),
                    });
                }
                continue;
            }
            let mut best: Option<(usize, i64)> = None;
            for (k, n) in pool.nodes.iter().enumerate() {
                if !matches!(s(&n.body, "state"), "idle" | "running")
                    || s(&n.body, "schedulingState") == "disabled"
                {
                    continue;
                }
                if job.body.get("jobPreparationTask").is_some()
                    && n.prep.get(jk.as_str()) == Some(&false)
                {
                    continue;
                }
                let used = n.slots_used + extra.get(&(pk.clone(), k)).copied().unwrap_or(0);
                if used + need > slots_per_node {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((_, u)) => (pack && used > u) || (!pack && used < u),
                };
                if better {
                    best = Some((k, used));
                }
            }
            if let Some((k, _)) = best {
                *extra.entry((pk.clone(), k)).or_default() += need;
                running += 1;
                plan.push(Assignment {
                    jk: jk.clone(),
                    tk: tk.clone(),
                    pk: pk.clone(),
                    nid: s(&pool.nodes[k].body, "id").to_string(),
                    subs: vec![],
                });
            }
        }
    }
    for a in plan {
        start_task(app, st, a);
    }
}

fn start_task(app: &AppRef, st: &mut State, a: Assignment) {
    let now = now_iso();
    let (pool_id, node_url, node_root, mut env, needs_prep) = {
        let p = st.pools.get(&a.pk).unwrap();
        let n = p.nodes.iter().find(|n| s(&n.body, "id") == a.nid).unwrap();
        let job = &st.jobs[&a.jk];
        let needs_prep =
            job.body.get("jobPreparationTask").is_some() && !n.prep.contains_key(&a.jk);
        let pool_id = s(&p.body, "id").to_string();
        (
            pool_id.clone(),
            s(&n.body, "url").to_string(),
            n.root.clone(),
            base_env(app, &pool_id, n),
            needs_prep,
        )
    };
    let job = st.jobs.get_mut(&a.jk).unwrap();
    let job_id = s(&job.body, "id").to_string();
    let job_body = job.body.clone();
    let t = job.tasks.get_mut(&a.tk).unwrap();
    let task_id = s(&t.body, "id").to_string();
    let rel = format!("workitems/{job_id}/job-1/{task_id}");
    let task_dir = node_root.join(&rel);
    let _ = std::fs::create_dir_all(task_dir.join("wd"));
    t.attempt += 1;
    t.dir = Some(task_dir.clone());
    t.files_deleted = false;
    t.node = Some((a.pk.clone(), a.nid.clone()));
    t.slots = i(&t.body, "requiredSlots").max(1);
    t.body["previousState"] = t.body["state"].clone();
    t.body["previousStateTransitionTime"] = t.body["stateTransitionTime"].clone();
    t.body["state"] = json!(if needs_prep { "preparing" } else { "running" });
    t.body["stateTransitionTime"] = json!(now);
    t.body["executionInfo"]["startTime"] = json!(now);
    for k in [
        "endTime",
        "exitCode",
        "result",
        "failureInfo",
        "containerInfo",
    ] {
        if let Some(o) = t.body["executionInfo"].as_object_mut() {
            o.remove(k);
        }
    }
    t.body["nodeInfo"] = json!({"affinityId": format!("TVM:{}", a.nid), "nodeUrl": node_url, "poolId": pool_id, "nodeId": a.nid,
        "taskRootDirectory": rel, "taskRootDirectoryUrl": format!("{node_url}/files/{rel}")});
    let attempt = t.attempt;
    let slots = t.slots;
    let task_body = t.body.clone();
    let prep_dir = node_root.join(format!(
        "workitems/{job_id}/job-1/{}",
        s(&job_body["jobPreparationTask"], "id")
    ));
    env.push(("AZ_BATCH_JOB_ID".into(), job_id.clone()));
    if job_body.get("jobPreparationTask").is_some() {
        env.push((
            "AZ_BATCH_JOB_PREP_DIR".into(),
            prep_dir.display().to_string(),
        ));
        env.push((
            "AZ_BATCH_JOB_PREP_WORKING_DIR".into(),
            prep_dir.join("wd").display().to_string(),
        ));
    }
    settings_env(&job_body, "commonEnvironmentSettings", &mut env);
    let mut prep_spec = None;
    if needs_prep {
        let pt = &job_body["jobPreparationTask"];
        let _ = std::fs::create_dir_all(prep_dir.join("wd"));
        let mut penv = env.clone();
        penv.push(("AZ_BATCH_TASK_ID".into(), s(pt, "id").to_string()));
        penv.push(("AZ_BATCH_TASK_DIR".into(), prep_dir.display().to_string()));
        penv.push((
            "AZ_BATCH_TASK_WORKING_DIR".into(),
            prep_dir.join("wd").display().to_string(),
        ));
        settings_env(pt, "environmentSettings", &mut penv);
        prep_spec = Some(RunSpec {
            name: format!("{job_id}-{}", s(pt, "id")),
            command_line: s(pt, "commandLine").to_string(),
            env: penv,
            task_dir: prep_dir.clone(),
            working_dir: prep_dir.join("wd"),
            node_root: node_root.clone(),
            container: pt.get("containerSettings").cloned(),
            resource_files: resource_files(pt),
            max_wall_ms: max_wall(&pt["constraints"]),
        });
    }
    env.push(("AZ_BATCH_TASK_ID".into(), task_id.clone()));
    env.push(("AZ_BATCH_TASK_DIR".into(), task_dir.display().to_string()));
    env.push((
        "AZ_BATCH_TASK_WORKING_DIR".into(),
        task_dir.join("wd").display().to_string(),
    ));
    settings_env(&task_body, "environmentSettings", &mut env);
    // Multi-instance: the coordination command runs on every node first (subtasks on the others).
    let mut coord: Vec<(String, RunSpec)> = vec![];
    if let Some(mi) = task_body.get("multiInstanceSettings") {
        let pool = &st.pools[&a.pk];
        let nodes: Vec<&Node> = std::iter::once(&a.nid)
            .chain(a.subs.iter())
            .filter_map(|id| pool.nodes.iter().find(|n| s(&n.body, "id") == id))
            .collect();
        let ips: Vec<String> = nodes
            .iter()
            .map(|n| s(&n.body, "ipAddress").to_string())
            .collect();
        let mut ccp = vec![ips.len().to_string()];
        for ip in &ips {
            ccp.push(ip.clone());
            ccp.push("1".into());
        }
        let shared = task_dir.display().to_string();
        let common = [
            ("AZ_BATCH_HOST_LIST".to_string(), ips.join(",")),
            ("AZ_BATCH_NODE_LIST".to_string(), ips.join(";")),
            (
                "AZ_BATCH_MASTER_NODE".to_string(),
                format!("{}:6000", ips[0]),
            ),
            ("AZ_BATCH_TASK_SHARED_DIR".to_string(), shared),
            ("CCP_NODES".to_string(), ccp.join(" ")),
        ];
        env.extend(common.iter().cloned());
        env.push(("AZ_BATCH_IS_CURRENT_NODE_MASTER".into(), "true".into()));
        let coord_cmd = s(mi, "coordinationCommandLine").to_string();
        let common_files = mi
            .get("commonResourceFiles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (k, n) in nodes.iter().enumerate() {
            let dir = n.root.join(&rel);
            let _ = std::fs::create_dir_all(dir.join("wd"));
            let cenv = if k == 0 {
                env.clone()
            } else {
                let mut e = base_env(app, &pool_id, n);
                e.push(("AZ_BATCH_JOB_ID".into(), job_id.clone()));
                settings_env(&job_body, "commonEnvironmentSettings", &mut e);
                e.push(("AZ_BATCH_TASK_ID".into(), task_id.clone()));
                e.push(("AZ_BATCH_TASK_DIR".into(), dir.display().to_string()));
                e.push((
                    "AZ_BATCH_TASK_WORKING_DIR".into(),
                    dir.join("wd").display().to_string(),
                ));
                settings_env(&task_body, "environmentSettings", &mut e);
                e.extend(common.iter().cloned());
                e.push(("AZ_BATCH_IS_CURRENT_NODE_MASTER".into(), "false".into()));
                e
            };
            // The coordination command's output is kept apart from the application command's.
            let out_dir = dir.join("coordination");
            let _ = std::fs::create_dir_all(&out_dir);
            coord.push((
                s(&n.body, "id").to_string(),
                RunSpec {
                    name: format!("{job_id}-{task_id}-coord{k}"),
                    command_line: coord_cmd.clone(),
                    env: cenv,
                    task_dir: out_dir,
                    working_dir: dir.join("wd"),
                    node_root: n.root.clone(),
                    container: task_body.get("containerSettings").cloned(),
                    resource_files: common_files.clone(),
                    max_wall_ms: max_wall(&task_body["constraints"]),
                },
            ));
        }
    }
    let spec = RunSpec {
        name: format!("{job_id}-{task_id}"),
        command_line: s(&task_body, "commandLine").to_string(),
        env,
        task_dir,
        working_dir: node_root.join(&rel).join("wd"),
        node_root,
        container: task_body.get("containerSettings").cloned(),
        resource_files: resource_files(&task_body),
        max_wall_ms: max_wall(&task_body["constraints"]),
    };
    let node = st
        .pools
        .get_mut(&a.pk)
        .unwrap()
        .nodes
        .iter_mut()
        .find(|n| s(&n.body, "id") == a.nid)
        .unwrap();
    node.running.push((a.jk.clone(), a.tk.clone()));
    node.slots_used += slots;
    node.body["runningTasksCount"] = json!(node.running.len());
    node.body["runningTaskSlotsCount"] = json!(node.slots_used);
    set_node_state(node, "running");
    let pool = st.pools.get_mut(&a.pk).unwrap();
    for sub in &a.subs {
        if let Some(n) = pool.nodes.iter_mut().find(|n| s(&n.body, "id") == *sub) {
            n.running.push((a.jk.clone(), a.tk.clone()));
            n.slots_used += slots;
            n.body["runningTasksCount"] = json!(n.running.len());
            n.body["runningTaskSlotsCount"] = json!(n.slots_used);
            set_node_state(n, "running");
        }
    }
    if let Some(t) = st.jobs.get_mut(&a.jk).and_then(|j| j.tasks.get_mut(&a.tk)) {
        t.sub_nodes = a.subs.iter().map(|n| (a.pk.clone(), n.clone())).collect();
        t.subtasks.clear();
    }
    st.dirty = true;
    let cancel = CancellationToken::new();
    app.cancels
        .lock()
        .unwrap()
        .insert((a.jk.clone(), a.tk.clone()), cancel.clone());
    let app2 = Arc::clone(app);
    tokio::spawn(async move {
        if let Some(ps) = prep_spec {
            let started = now_iso();
            let prep_dir = ps.task_dir.clone();
            let o = app2.runtime.run(ps, cancel.clone()).await;
            let ok = o.failure.is_none();
            {
                let mut st = app2.state.lock().await;
                if let Some(n) = st
                    .pools
                    .get_mut(&a.pk)
                    .and_then(|p| p.nodes.iter_mut().find(|n| s(&n.body, "id") == a.nid))
                {
                    n.prep.insert(a.jk.clone(), ok);
                    let info = prep_release_info(n, &prep_dir, &started, &o);
                    n.prep_info.insert(a.jk.clone(), info);
                }
                if let Some(t) = st.jobs.get_mut(&a.jk).and_then(|j| j.tasks.get_mut(&a.tk))
                    && t.attempt == attempt
                    && s(&t.body, "state") == "preparing"
                    && ok
                {
                    t.body["previousState"] = json!("preparing");
                    t.body["state"] = json!("running");
                    t.body["stateTransitionTime"] = json!(now_iso());
                }
                st.dirty = true;
            }
            if !ok {
                let f = o.failure.unwrap();
                let out = Outcome {
                    exit_code: None,
                    failure: Some(Failure::user(
                        "JobPreparationTaskFailed",
                        format!(
                            "The job preparation task failed on the node: {} ({})",
                            f.message, f.code
                        ),
                    )),
                    container_info: None,
                };
                finish(&app2, &a.jk, &a.tk, attempt, out).await;
                return;
            }
            if cancel.is_cancelled() {
                return;
            }
        }
        if !coord.is_empty() {
            let runs = coord.into_iter().map(|(nid, cs)| {
                let app3 = app2.clone();
                let c = cancel.clone();
                async move {
                    let start = now_iso();
                    let o = app3.runtime.run(cs, c).await;
                    (nid, start, now_iso(), o)
                }
            });
            let results = futures::future::join_all(runs).await;
            if cancel.is_cancelled() {
                return;
            }
            let failed = results
                .iter()
                .find_map(|(nid, _, _, o)| o.failure.clone().map(|f| (nid.clone(), f)));
            {
                let mut st = app2.state.lock().await;
                let pool_id = st
                    .pools
                    .get(&a.pk)
                    .map(|p| s(&p.body, "id").to_string())
                    .unwrap_or_default();
                if let Some(t) = st.jobs.get_mut(&a.jk).and_then(|j| j.tasks.get_mut(&a.tk))
                    && t.attempt == attempt
                {
                    t.subtasks = results
                        .iter()
                        .skip(1)
                        .enumerate()
                        .map(|(k, (nid, start, end, o))| {
                            let mut v = json!({"id": k + 1, "startTime": start, "endTime": end, "state": "completed",
                                "nodeInfo": {"nodeId": nid, "poolId": pool_id, "affinityId": format!("TVM:{nid}")},
                                "result": if o.failure.is_none() { "success" } else { "failure" }});
                            if let Some(c) = o.exit_code {
                                v["exitCode"] = json!(c);
                            }
                            if let Some(f) = &o.failure {
                                v["failureInfo"] = f.to_value();
                            }
                            v
                        })
                        .collect();
                    st.dirty = true;
                }
            }
            if let Some((nid, f)) = failed {
                let out = Outcome {
                    exit_code: None,
                    failure: Some(Failure::user(
                        "CoordinationCommandFailed",
                        format!(
                            "The coordination command failed on node {nid}: {} ({})",
                            f.message, f.code
                        ),
                    )),
                    container_info: None,
                };
                finish(&app2, &a.jk, &a.tk, attempt, out).await;
                return;
            }
        }
        let o = app2.runtime.run(spec, cancel.clone()).await;
        if cancel.is_cancelled() {
            return;
        }
        finish(&app2, &a.jk, &a.tk, attempt, o).await;
    });
}

/// Record the end of a run: retry, or complete the task.
async fn finish(app: &AppRef, jk: &str, tk: &str, attempt: u64, o: Outcome) {
    let mut st = app.state.lock().await;
    app.cancels
        .lock()
        .unwrap()
        .remove(&(jk.to_string(), tk.to_string()));
    let Some(t) = st.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk)) else {
        return;
    };
    if t.attempt != attempt || !matches!(s(&t.body, "state"), "running" | "preparing") {
        return;
    }
    let node = t.node.take();
    let subs = std::mem::take(&mut t.sub_nodes);
    let slots = t.slots;
    let ok = o.failure.is_none();
    let max_retries = i(&t.body["constraints"], "maxTaskRetryCount");
    let retries = i(&t.body["executionInfo"], "retryCount");
    let retryable = o
        .failure
        .as_ref()
        .is_some_and(|f| f.code != "JobPreparationTaskFailed");
    if !ok && retryable && (max_retries == -1 || retries < max_retries) {
        let now = now_iso();
        t.body["previousState"] = t.body["state"].clone();
        t.body["previousStateTransitionTime"] = t.body["stateTransitionTime"].clone();
        t.body["state"] = json!("active");
        t.body["stateTransitionTime"] = json!(now);
        let ei = &mut t.body["executionInfo"];
        ei["retryCount"] = json!(retries + 1);
        ei["lastRetryTime"] = json!(now);
        if let Some(c) = o.exit_code {
            ei["exitCode"] = json!(c);
        }
        if let Some(f) = &o.failure {
            ei["failureInfo"] = f.to_value();
        }
        ei["result"] = json!("failure");
    } else {
        complete_task_body(
            &mut t.body,
            o.exit_code,
            o.failure.as_ref(),
            o.container_info.as_ref(),
        );
        let (job_action, _) = exit_options(&t.body);
        let performs = st.jobs.get(jk).is_some_and(|j| {
            s(&j.body, "onTaskFailure").eq_ignore_ascii_case("performexitoptionsjobaction")
        });
        if performs && job_action.eq_ignore_ascii_case("terminate") {
            terminate_job(app, &mut st, jk, "TaskFailed");
        } else if performs
            && job_action.eq_ignore_ascii_case("disable")
            && let Some(j) = st.jobs.get_mut(jk)
            && s(&j.body, "state") == "active"
        {
            set_job_state(&mut j.body, "disabled");
        }
    }
    release_node(&mut st, node, jk, tk, slots, Some(ok));
    for sn in subs {
        release_node(&mut st, Some(sn), jk, tk, slots, None);
    }
    st.dirty = true;
    let path = app.state_path.clone();
    st.save_if_dirty(&path);
}
