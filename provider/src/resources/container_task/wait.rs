//! Waiting for a task to complete, the report of a failed run (exit code, failure information
//! and the end of its stderr), and Batch errors pointed at the attribute they name.

use std::sync::OnceLock;
use std::time::Duration;

use batch_client::models::CloudTask;
use batch_client::{BatchError, ByteRange, RequestOptions};
use tfplugin::framework::Ctx;
use tfplugin::{AttrPath, Diagnostics};

use super::expand::expand_task;
use super::model::{TaskConfig, TaskModel};
use super::schema::schema;
use crate::common::wire_paths::WirePaths;
use crate::common::{Batch, WaitError, batch_error, poll_opts, poll_until};

/// Batch property names (`PropertyName`) -> task attributes, derived from Task_Add's expand
/// function (Task_Update's body is Task_Add's `constraints`, so it is covered too).
pub fn wire_paths() -> &'static WirePaths {
    static PATHS: OnceLock<WirePaths> = OnceLock::new();
    PATHS.get_or_init(|| {
        WirePaths::derive(schema().value_type(), |m: &TaskModel| {
            expand_task(m, &TaskConfig::default())
        })
    })
}

/// Adds a failed call's diagnostic on the attribute Batch's `PropertyName` names, else on
/// `fallback`.
pub fn report(diags: &mut Diagnostics, doing: &str, err: &BatchError, fallback: Option<&AttrPath>) {
    let named = err
        .service()
        .and_then(|se| se.value("PropertyName"))
        .and_then(|p| wire_paths().lookup(p));
    batch_error(diags, doing, err, named.as_ref().or(fallback));
}

/// How much of stderr.txt a failure message shows.
const STDERR_TAIL_BYTES: u64 = 4096;
const STDERR_TAIL_LINES: usize = 20;

/// True when the task's run failed (a failure result, a nonzero exit code or failure info).
pub fn is_failed(t: &CloudTask) -> bool {
    let Some(ei) = &t.execution_info else {
        return false;
    };
    ei.result
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("failure"))
        || ei.exit_code.is_some_and(|c| c != 0)
        || ei.failure_info.is_some()
}

/// The last lines of the task's stderr.txt (at most 4 KiB), or why it is not available.
pub async fn stderr_tail(ctx: &Ctx<Batch>, job: &str, task: &str) -> String {
    let o = RequestOptions::new()
        .timeout(Duration::from_secs(60))
        .cancel(ctx.cancel.clone());
    let api = &ctx.client.api;
    let size = match api
        .get_task_file_properties(job, task, "stderr.txt", &o)
        .await
    {
        Ok(Some(info)) => info.content_length,
        Ok(None) => {
            return "(stderr.txt is not available: the task's files are gone or it never started)"
                .into();
        }
        Err(e) => return format!("(stderr.txt could not be read: {e})"),
    };
    if size == 0 {
        return "(stderr.txt is empty)".into();
    }
    let range = ByteRange {
        start: size.saturating_sub(STDERR_TAIL_BYTES),
        end: None,
    };
    let data = match api
        .get_task_file(job, task, "stderr.txt", Some(range), &o)
        .await
    {
        Ok(Some(c)) => c.data,
        Ok(None) => return "(stderr.txt is not available)".into(),
        Err(e) => return format!("(stderr.txt could not be read: {e})"),
    };
    let text = String::from_utf8_lossy(&data);
    let mut lines: Vec<&str> = text.lines().collect();
    // A range that starts mid-file begins with a partial line: drop it.
    if size > STDERR_TAIL_BYTES && lines.len() > 1 {
        lines.remove(0);
    }
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[start..].join("\n")
}

/// Adds the error for a failed task: exit code, failure information and the end of stderr.
pub async fn report_failure(
    ctx: &Ctx<Batch>,
    job: &str,
    name: &str,
    t: &CloudTask,
    diags: &mut Diagnostics,
) {
    let summary = match t.execution_info.as_ref().and_then(|e| e.exit_code) {
        Some(c) => format!("Task {name:?} in job {job:?} failed with exit code {c}"),
        None => format!("Task {name:?} in job {job:?} failed"),
    };
    let tail = stderr_tail(ctx, job, name).await;
    diags.error(summary, failure_detail(t, &tail));
}

/// The detail of a failed task's error; parts Batch left empty are left out, not printed blank.
pub fn failure_detail(t: &CloudTask, stderr_tail: &str) -> String {
    fn given(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    let ei = t.execution_info.clone().unwrap_or_default();
    let mut detail = String::new();
    if let Some(c) = ei.exit_code {
        detail.push_str(&format!("Exit code: {c}\n"));
    }
    if let Some(f) = &ei.failure_info {
        let mut line = format!("Failure: category {}", f.category);
        if let Some(code) = given(f.code.as_deref()) {
            line.push_str(&format!(", code {code}"));
        }
        if let Some(msg) = given(f.message.as_deref()) {
            line.push_str(&format!(", message: {msg}"));
        }
        detail.push_str(&line);
        detail.push('\n');
        for d in f.details.iter().flatten() {
            match (given(d.name.as_deref()), given(d.value.as_deref())) {
                (Some(n), Some(v)) => detail.push_str(&format!("  {n}: {v}\n")),
                (None, Some(v)) | (Some(v), None) => detail.push_str(&format!("  {v}\n")),
                (None, None) => {}
            }
        }
    }
    if let Some(ci) = given(ei.container_info.as_ref().and_then(|c| c.error.as_deref())) {
        detail.push_str(&format!("Container error: {ci}\n"));
    }
    if ei.retry_count > 0 {
        detail.push_str(&format!("Retries: {}\n", ei.retry_count));
    }
    if let Some(n) = given(t.node_info.as_ref().and_then(|n| n.node_id.as_deref())) {
        detail.push_str(&format!("Node: {n}\n"));
    }
    if let Some(tail) = given(Some(stderr_tail)) {
        detail.push_str(&format!("\nLast lines of stderr.txt:\n{tail}\n"));
    }
    detail.push_str("\nThe task stays in the state as tainted: the next terraform apply deletes it and runs it again.");
    detail
}

/// A create that stopped waiting leaves a tainted task: say what that means and how to keep it.
pub fn create_wait_error(diags: &mut Diagnostics, job: &str, name: &str, e: WaitError) {
    let keep = "The task keeps running in Batch, but Terraform marks it tainted: the next apply deletes it and runs it again. To keep this run instead, run `terraform untaint` on the resource (and raise timeouts.create for next time).";
    match e {
        WaitError::Failed(d) => diags.extend(d),
        WaitError::TimedOut => diags.error(
            format!("Timed out waiting for task {name:?} in job {job:?} to complete"),
            format!("The task did not complete within timeouts.create. {keep}"),
        ),
        WaitError::Cancelled => diags.error(
            format!("Interrupted while waiting for task {name:?} in job {job:?}"),
            format!("Terraform asked the provider to stop. {keep}"),
        ),
    }
}

/// Polls the task until it completed. Ok(task) or a wait error.
pub async fn wait_completed(
    ctx: &Ctx<Batch>,
    job: &str,
    name: &str,
    dl: tokio::time::Instant,
) -> Result<batch_client::Versioned<CloudTask>, WaitError> {
    let what = format!("task {name:?} in job {job:?} to complete");
    let last_state = std::sync::Mutex::new(String::new());
    let last_state = &last_state;
    poll_until(ctx, dl, &what, || {
        async move {
            match ctx.client.api.get_task(job, name, &poll_opts(ctx)).await {
                Ok(Some(t)) => {
                    let s = t.value.state.clone().unwrap_or_default();
                    let mut seen = last_state.lock().unwrap_or_else(|e| e.into_inner());
                    if *seen != s {
                        tracing::info!(job, task = name, state = %s, "task state");
                        *seen = s;
                    }
                    Ok(t.value.is_completed().then_some(t))
                }
                Ok(None) => {
                    let mut d = Diagnostics::new();
                    d.error(
                        format!("Task {name:?} in job {job:?} disappeared"),
                        "The task was deleted (or its job was) while Terraform waited for it to complete.",
                    );
                    Err(d)
                }
                Err(e) => {
                    let mut d = Diagnostics::new();
                    batch_error(&mut d, &format!("read task {name:?} in job {job:?}"), &e, None);
                    Err(d)
                }
            }
        }
    })
    .await
}
