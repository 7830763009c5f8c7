//! Task runs: a placed task's directories, environment and command lines (job preparation task
//! first where needed, multi-instance coordination commands, then the task), run in a spawned
//! task that reports the outcome back to the state; and the job release tasks of ending jobs.

use serde_json::{Value, json};
use std::sync::Arc;

use super::nodes::{base_env, max_wall, resource_files, settings_env};
use crate::app::AppRef;
use crate::runtime::{Failure, Outcome, RunSpec};
use crate::state::{Node, Placement, State, s};
use crate::util::{now_iso, parse_duration_ms};

/// Run the job release task on every node that ran the job's preparation task (once per node).
pub(super) fn spawn_release_tasks(app: &AppRef, st: &mut State, jk: &str) {
    let Some(job) = st.jobs.get(jk) else { return };
    let Some(rt) = job.body.get("jobReleaseTask").cloned() else {
        return;
    };
    let job_body = job.body.clone();
    let job_id = s(&job_body, "id").to_string();
    let pk = job.pool_key();
    let Some(pool) = st.pools.get_mut(&pk) else {
        return;
    };
    let pool_id = s(&pool.body, "id").to_string();
    let pool_registries = pool.container_registries();
    for n in pool.nodes.iter_mut() {
        if !n.take_prep(jk) {
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
            pool_registries: pool_registries.clone(),
        };
        let app2 = app.clone();
        let job_id = job_id.clone();
        let (pk2, nid, jk2) = (pk.clone(), s(&n.body, "id").to_string(), jk.to_string());
        tokio::spawn(async move {
            let started = now_iso();
            let o = app2.runtime.run(spec, app2.shutdown.child_token()).await;
            app2.state
                .lock()
                .await
                .record_release((&pk2, &nid, &jk2), (&dir, &started), &o);
            tracing::info!(job = %job_id, exit = ?o.exit_code, failure = ?o.failure.map(|f| f.code), "job release task finished");
        });
    }
    st.dirty = true;
}

pub(super) fn start_task(app: &AppRef, st: &mut State, a: Placement) {
    let (pool_id, node_url, node_root, mut env, needs_prep, pool_registries) = {
        let p = st.pools.get(&a.pk).unwrap();
        let n = p.node(&a.nid).unwrap();
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
            p.container_registries(),
        )
    };
    let job = &st.jobs[&a.jk];
    let job_id = s(&job.body, "id").to_string();
    let job_body = job.body.clone();
    let task_id = s(&job.tasks[&a.tk].body, "id").to_string();
    let rel = format!("workitems/{job_id}/job-1/{task_id}");
    let task_dir = node_root.join(&rel);
    let _ = std::fs::create_dir_all(task_dir.join("wd"));
    let node_info = json!({"affinityId": format!("TVM:{}", a.nid), "nodeUrl": node_url, "poolId": pool_id, "nodeId": a.nid,
        "taskRootDirectory": rel, "taskRootDirectoryUrl": format!("{node_url}/files/{rel}")});
    st.place_task(&a, task_dir.clone(), needs_prep, node_info);
    let t = &st.jobs[&a.jk].tasks[&a.tk];
    let attempt = t.attempt;
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
            pool_registries: pool_registries.clone(),
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
            .filter_map(|id| pool.node(id))
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
                    pool_registries: pool_registries.clone(),
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
        pool_registries,
    };
    let windows = s(
        &st.pools[&a.pk].body["virtualMachineConfiguration"],
        "nodeAgentSKUId",
    )
    .starts_with("batch.node.windows");
    let cancel = app.cancels.register(&a.jk, &a.tk);
    let app2 = Arc::clone(app);
    tokio::spawn(async move {
        if windows {
            let out = Outcome {
                failure: Some(Failure::user(
                    "WindowsNotSupported",
                    "The task is on a Windows node (batch.node.windows amd64); the local Batch service runs Linux command lines only. Use a Linux image for pools that run tasks locally.",
                )),
                ..Default::default()
            };
            finish(&app2, &a.jk, &a.tk, attempt, out).await;
            return;
        }
        if let Some(ps) = prep_spec {
            let started = now_iso();
            let prep_dir = ps.task_dir.clone();
            let o = app2.runtime.run(ps, cancel.clone()).await;
            let ok = o.failure.is_none();
            app2.state
                .lock()
                .await
                .record_prep(&a, attempt, (&prep_dir, &started), &o);
            if !ok {
                let f = o.failure.unwrap();
                let why = format!("The job preparation task failed on the node: {}", f.message);
                let out = failed_before("JobPreparationTaskFailed", why, &f);
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
                let pool_id = st.pool_id(&a.pk);
                let subtasks = results
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
                st.record_subtasks(&a.jk, &a.tk, attempt, subtasks);
            }
            if let Some((nid, f)) = failed {
                let why = format!(
                    "The coordination command failed on node {nid}: {}",
                    f.message
                );
                let out = failed_before("CoordinationCommandFailed", why, &f);
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

/// The outcome of a task whose command did not run because a command before it failed with `f`.
fn failed_before(code: &str, why: String, f: &Failure) -> Outcome {
    Outcome {
        exit_code: None,
        failure: Some(Failure::user(code, format!("{why} ({})", f.code))),
        container_info: None,
    }
}

/// Record the end of a run: retry, or complete the task.
async fn finish(app: &AppRef, jk: &str, tk: &str, attempt: u64, o: Outcome) {
    let mut st = app.state.lock().await;
    app.cancels.forget(jk, tk);
    st.record_outcome(&app.cancels, jk, tk, attempt, &o);
    let path = app.state_path.clone();
    st.save_if_dirty(&path);
}
