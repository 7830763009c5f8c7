//! Node start-up: image prefetch, then the pool's start task (with its retries), and the
//! environment every command on a node gets.

use serde_json::Value;

use crate::app::{App, AppRef};
use crate::runtime::RunSpec;
use crate::state::{Node, b, i, s};
use crate::util::{now_iso, parse_duration_ms};

pub(super) fn base_env(app: &App, pool_id: &str, node: &Node) -> Vec<(String, String)> {
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

pub(super) fn settings_env(v: &Value, key: &str, env: &mut Vec<(String, String)>) {
    for e in v.get(key).and_then(Value::as_array).into_iter().flatten() {
        env.push((s(e, "name").to_string(), s(e, "value").to_string()));
    }
}

pub(super) fn resource_files(task: &Value) -> Vec<Value> {
    task.get("resourceFiles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(super) fn max_wall(constraints: &Value) -> Option<i64> {
    constraints
        .get("maxWallClockTime")
        .and_then(Value::as_str)
        .and_then(parse_duration_ms)
}

/// Prefetch images and run the start task of a node that just started.
pub(super) async fn node_setup(app: AppRef, pk: String, nid: String) {
    let (images, registries, start_task, pool_id, ov, node_root, mut env) = {
        let st = app.state.lock().await;
        let Some(p) = st.pools.get(&pk) else { return };
        let Some(n) = p.node(&nid) else {
            return;
        };
        let pool_id = s(&p.body, "id").to_string();
        let env = base_env(&app, &pool_id, n);
        (
            p.container_images(),
            p.container_registries(),
            p.start_task_with_secrets(),
            pool_id,
            st.overrides.get(&pk).cloned().unwrap_or_default(),
            n.root.clone(),
            env,
        )
    };
    let wait = start_task.as_ref().is_none_or(|stt| {
        stt.get("waitForSuccess")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    });
    let prefetch = app.runtime.prefetch(&images, &registries).await;
    let run_start_task = {
        let mut st = app.state.lock().await;
        let Some(n) = st.node_mut(&pk, &nid) else {
            return;
        };
        let run = match (prefetch, ov.node_state.as_deref(), &start_task) {
            (Err(f), _, _) => {
                n.prefetch_failed(&f);
                false
            }
            (Ok(()), Some(forced), _) => {
                n.force_state(forced);
                false
            }
            (Ok(()), None, None) => {
                n.set_state("idle");
                false
            }
            (Ok(()), None, Some(_)) => {
                n.begin_start_task(wait);
                true
            }
        };
        st.dirty = true;
        run
    };
    let (true, Some(stt)) = (run_start_task, start_task) else {
        return;
    };
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
            pool_registries: registries.clone(),
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
    if let Some(n) = st.node_mut(&pk, &nid) {
        n.start_task_done(&started, retries, &outcome, wait);
        st.dirty = true;
    }
}
