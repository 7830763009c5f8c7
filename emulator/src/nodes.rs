//! Compute-node operations.

use axum::http::StatusCode;
use serde_json::Value;

use crate::app::{App, HandlerResult, Reply, Req, filter_matches, page, select};
use crate::error::ApiError;
use crate::pools::find_pool;
use crate::state::{Node, State, s};

pub fn node_list(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let p = find_pool(st, id)?;
    let mut items = vec![];
    for n in &p.nodes {
        if filter_matches(req.q("$filter"), &n.body)? {
            items.push(n.body.clone());
        }
    }
    page(
        app,
        req,
        &format!("/pools/{}/nodes", s(&p.body, "id")),
        items,
        "nodes",
    )
}

pub fn node_get(_app: &App, st: &mut State, req: &Req, id: &str, node: &str) -> HandlerResult {
    let p = find_pool(st, id)?;
    let n = p
        .nodes
        .iter()
        .find(|n| s(&n.body, "id") == node)
        .ok_or_else(ApiError::node_not_found)?;
    Ok(Reply::json(StatusCode::OK, select(req, n.body.clone())))
}

fn find_node<'a>(st: &'a mut State, pool: &str, node: &str) -> Result<&'a mut Node, ApiError> {
    find_pool(st, pool)?
        .node_mut(node)
        .ok_or_else(ApiError::node_not_found)
}

/// ComputeNode_Reboot: running tasks are requeued (or terminated), then the node starts again and
/// reruns its start task.
pub fn node_reboot(app: &App, st: &mut State, req: &Req, pool: &str, node: &str) -> HandlerResult {
    let opt = req.json("NodeRebootParameter", false)?.unwrap_or_default();
    let running = find_node(st, pool, node)?.running.clone();
    let terminate = s(&opt, "nodeRebootOption").eq_ignore_ascii_case("terminate");
    st.clear_node(
        &app.cancels,
        running,
        terminate.then_some("The node was rebooted."),
    );
    find_node(st, pool, node)?.reboot(app.node_start_delay.as_millis() as i64);
    st.dirty = true;
    Ok(Reply::status(StatusCode::ACCEPTED))
}

/// ComputeNode_DisableScheduling / EnableScheduling.
pub fn node_scheduling(
    app: &App,
    st: &mut State,
    req: &Req,
    pool: &str,
    node: &str,
    enable: bool,
) -> HandlerResult {
    let opt = if enable {
        Value::Null
    } else {
        req.json("NodeDisableSchedulingParameter", false)?
            .unwrap_or_default()
    };
    let running = find_node(st, pool, node)?.running.clone();
    if !enable {
        match s(&opt, "nodeDisableSchedulingOption")
            .to_ascii_lowercase()
            .as_str()
        {
            "terminate" => st.clear_node(
                &app.cancels,
                running,
                Some("Scheduling was disabled on the node."),
            ),
            "taskcompletion" => {}
            _ => st.clear_node(&app.cancels, running, None),
        }
    }
    find_node(st, pool, node)?.set_scheduling(enable);
    st.dirty = true;
    Ok(Reply::status(StatusCode::OK))
}
