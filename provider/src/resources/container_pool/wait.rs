//! Waiting for the pool (`wait_for`): a steady allocation, and with `nodes_ready` every node
//! usable with its start task done. Resize, autoscale, node and start-task errors become
//! diagnostics; Batch errors point at the attribute Batch names.

use std::sync::OnceLock;
use std::time::Duration;

use batch_client::models::{CloudPool, ComputeNode, NameValuePair};
use batch_client::{BatchError, ListQuery, RequestOptions, Versioned};
use tfplugin::framework::Ctx;
use tfplugin::{Diagnostics, Severity};

use super::expand::{expand_enable_autoscale, expand_pool_add, expand_resize};
use super::model::{PoolModel, block, pool_type};
use crate::common::apply_flow::conflict_error;
use crate::common::wire_paths::WirePaths;
use crate::common::{Batch, WaitError, batch_error, opts, poll_opts, poll_until};

/// Batch property names (`PropertyName`) -> pool attributes, derived from the expand functions.
pub fn wire_paths() -> &'static WirePaths {
    static PATHS: OnceLock<WirePaths> = OnceLock::new();
    PATHS.get_or_init(|| {
        WirePaths::derive(pool_type(), |m: &PoolModel| expand_pool_add(m))
            .merge(WirePaths::derive(pool_type(), |m: &PoolModel| {
                expand_resize(&block(&m.fixed_scale))
            }))
            .merge(WirePaths::derive(pool_type(), |m: &PoolModel| {
                expand_enable_autoscale(&block(&m.auto_scale))
            }))
    })
}

/// Adds a failed call's diagnostic, pointing at the attribute Batch's `PropertyName` names.
pub fn report(diags: &mut Diagnostics, doing: &str, err: &BatchError) {
    let path = err
        .service()
        .and_then(|se| se.value("PropertyName"))
        .and_then(|p| wire_paths().lookup(p));
    batch_error(diags, doing, err, path.as_ref());
    if err.is_precondition_failed() {
        conflict_error(diags, "The pool");
    }
}

pub fn pool_opts(
    ctx: &Ctx<Batch>,
    deadline: tokio::time::Instant,
    etag: Option<&str>,
) -> RequestOptions {
    let o = opts(ctx, deadline);
    match etag {
        Some(e) => o.if_match(e),
        None => o,
    }
}

/// Batch's name-value details, one `\nname: value` line each.
fn name_values(values: Option<&[NameValuePair]>) -> String {
    values
        .into_iter()
        .flatten()
        .map(|v| {
            format!(
                "\n{}: {}",
                v.name.as_deref().unwrap_or(""),
                v.value.as_deref().unwrap_or("")
            )
        })
        .collect()
}

pub fn resize_error_diags(p: &CloudPool, name: &str) -> Option<Diagnostics> {
    let errs = p.resize_errors.as_ref().filter(|e| !e.is_empty())?;
    let mut d = Diagnostics::new();
    for e in errs {
        let values = name_values(e.values.as_deref());
        d.error(
            format!(
                "Pool {name} resize failed: {}",
                e.code.as_deref().unwrap_or("Unknown")
            ),
            format!(
                "Batch reported a resize error for pool {name} ({} of the target nodes were allocated).\nBatch error code: {}\nMessage: {}{values}",
                p.current_dedicated_nodes.unwrap_or(0) + p.current_low_priority_nodes.unwrap_or(0),
                e.code.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("")
            ),
        );
    }
    Some(d)
}

pub fn autoscale_error_diags(p: &CloudPool, name: &str) -> Option<Diagnostics> {
    let e = p.auto_scale_run.as_ref()?.error.as_ref()?;
    let mut d = Diagnostics::new();
    let values = name_values(e.values.as_deref());
    d.push(
        Severity::Error,
        format!(
            "Autoscale formula of pool {name} failed: {}",
            e.code.as_deref().unwrap_or("Unknown")
        ),
        format!(
            "Batch could not evaluate the autoscale formula.\nBatch error code: {}\nMessage: {}{values}",
            e.code.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("")
        ),
        wire_paths().lookup("autoScaleFormula"),
    );
    Some(d)
}

/// Node states that mean "usable"; failure states; everything else is "not yet" unless it is a
/// state that does not block readiness (preempted, offline, leaving).
pub fn node_failure(n: &ComputeNode) -> Option<String> {
    let state = n.state.as_deref().unwrap_or("unknown");
    if !matches!(state, "unusable" | "starttaskfailed") {
        return None;
    }
    let id = n.id.as_deref().unwrap_or("?");
    let mut msg = format!("Node {id} is {state}.");
    for e in n.errors.iter().flatten() {
        msg.push_str(&format!(
            "\nNode error {}: {}",
            e.code.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("")
        ));
        for d in e.error_details.iter().flatten() {
            msg.push_str(&format!(
                "\n  {}: {}",
                d.name.as_deref().unwrap_or(""),
                d.value.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(info) = &n.start_task_info {
        if let Some(code) = info.exit_code {
            msg.push_str(&format!("\nStart task exit code: {code}"));
        }
        if let Some(f) = &info.failure_info {
            msg.push_str(&format!(
                "\nStart task failure ({}) {}: {}",
                f.category,
                f.code.as_deref().unwrap_or(""),
                f.message.as_deref().unwrap_or("")
            ));
            for d in f.details.iter().flatten() {
                msg.push_str(&format!(
                    "\n  {}: {}",
                    d.name.as_deref().unwrap_or(""),
                    d.value.as_deref().unwrap_or("")
                ));
            }
        }
    }
    Some(msg)
}

pub fn node_pending(n: &ComputeNode) -> bool {
    match n.state.as_deref().unwrap_or("unknown") {
        // Usable, but with `wait_for_success = false` a node is idle while its start task still
        // runs: ready means the start task is done too.
        "idle" | "running" => {
            n.start_task.is_some()
                && n.start_task_info
                    .as_ref()
                    .is_none_or(|i| !i.state.eq_ignore_ascii_case("completed"))
        }
        "unusable" | "starttaskfailed" | "preempted" | "offline" | "leavingpool"
        | "deallocated" | "deallocating" => false,
        _ => true,
    }
}

/// Waits as `mode` says (`steady` / `nodes_ready`). `check_scale_errors`: this apply started a
/// resize or enabled autoscaling, so resize/autoscale errors are ours (stale errors from an
/// earlier resize stay on the pool until the next one and must not fail unrelated updates).
pub async fn wait_pool(
    ctx: &Ctx<Batch>,
    name: &str,
    mode: &str,
    deadline: tokio::time::Instant,
    check_scale_errors: bool,
) -> Result<Versioned<CloudPool>, WaitError> {
    let what = if mode == "nodes_ready" {
        format!("pool {name} to reach a steady allocation with every node ready")
    } else {
        format!("pool {name} to reach a steady allocation")
    };
    poll_until(ctx, deadline, &what, || {
        let api = &ctx.client.api;
        async move {
            let o = poll_opts(ctx);
            let pool = match api.get_pool(name, &o).await {
                Ok(Some(p)) => p,
                Ok(None) => {
                    let mut d = Diagnostics::new();
                    d.error(
                        format!("Pool {name} disappeared"),
                        format!("Pool {name} was deleted while Terraform waited for it."),
                    );
                    return Err(d);
                }
                Err(e) => return Err(wait_call_error(e, &format!("read pool {name}"))),
            };
            let p = &pool.value;
            let alloc = p.allocation_state.as_deref().unwrap_or("");
            if !alloc.eq_ignore_ascii_case("steady") {
                tracing::info!(
                    pool = name,
                    allocation_state = alloc,
                    current_dedicated = p.current_dedicated_nodes.unwrap_or(0),
                    target_dedicated = p.target_dedicated_nodes.unwrap_or(0),
                    "waiting for the pool allocation"
                );
                return Ok(None);
            }
            if check_scale_errors {
                if let Some(d) = resize_error_diags(p, name) {
                    return Err(d);
                }
                if p.enable_auto_scale == Some(true)
                    && let Some(d) = autoscale_error_diags(p, name)
                {
                    return Err(d);
                }
            }
            if mode != "nodes_ready" {
                return Ok(Some(pool));
            }
            let nodes = match api.list_compute_nodes(name, &ListQuery::default(), &o).await {
                Ok(n) => n,
                Err(e) => return Err(wait_call_error(e, &format!("list the nodes of pool {name}"))),
            };
            let failures: Vec<String> = nodes.iter().filter_map(node_failure).collect();
            if !failures.is_empty() {
                let mut d = Diagnostics::new();
                d.error(
                    format!("{} node(s) of pool {name} failed", failures.len()),
                    format!(
                        "{}\n\nFix the cause (image, start task, registry credentials) and apply again; the pool stays in state.",
                        failures.join("\n\n")
                    ),
                );
                return Err(d);
            }
            let pending = nodes.iter().filter(|n| node_pending(n)).count();
            let expected = (p.current_dedicated_nodes.unwrap_or(0)
                + p.current_low_priority_nodes.unwrap_or(0)) as usize;
            if pending > 0 || nodes.len() < expected {
                tracing::info!(
                    pool = name,
                    nodes = nodes.len(),
                    pending,
                    "waiting for the nodes to become ready"
                );
                return Ok(None);
            }
            Ok(Some(pool))
        }
    })
    .await
}

pub fn wait_call_error(e: BatchError, doing: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    report(&mut d, doing, &e);
    d
}

/// A GET that still works after StopProvider (to record what exists), bounded to 15 s.
pub async fn get_pool_uncancelled(ctx: &Ctx<Batch>, name: &str) -> Option<Versioned<CloudPool>> {
    ctx.client
        .api
        .get_pool(
            name,
            &RequestOptions::new().timeout(Duration::from_secs(15)),
        )
        .await
        .ok()
        .flatten()
}
