//! A container task's run as people read it: whether it failed, the end of its stderr, and
//! the report of a failed run. Shared by `batch_container_task` and the `batch_container_run` action.

use std::time::Duration;

use batch_client::models::CloudTask;
use batch_client::{ByteRange, RequestOptions};
use tfplugin::framework::Ctx;

use super::Batch;

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

/// The summary and detail of a failed task's error: exit code, failure information and the end
/// of stderr.
pub async fn failure_report(
    ctx: &Ctx<Batch>,
    job: &str,
    name: &str,
    t: &CloudTask,
) -> (String, String) {
    let ei = t.execution_info.clone().unwrap_or_default();
    let summary = match ei.exit_code {
        Some(c) => format!("Task {name:?} in job {job:?} failed with exit code {c}"),
        None => format!("Task {name:?} in job {job:?} failed"),
    };
    let tail = stderr_tail(ctx, job, name).await;
    (summary, failure_detail(t, &tail))
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
    detail
}
