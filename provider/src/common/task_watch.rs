//! Watching tasks: one Task_List per poll per job for every task waiting there, instead of one
//! Task_Get per task. [`TaskWatcher`] lives in the configured client, so concurrent waits of
//! `batch_container_task` resources in the same job share one loop; a collection waits for all
//! its tasks through [`wait_all_completed`]. 429/503 answers are retried by the client as their
//! `Retry-After` says. Also the failure report of a failed task (exit code, failure information,
//! stderr tail).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use batch_client::models::CloudTask;
use batch_client::{BatchError, ByteRange, ListQuery, RequestOptions};
use tfplugin::Diagnostics;
use tfplugin::framework::Ctx;
use tokio::sync::watch;

use super::{Batch, WaitError, batch_error, cancellable_sleep, poll_opts, poll_until};

/// Tasks that have not completed, by id only: what a poll needs.
fn unfinished_query() -> ListQuery {
    ListQuery {
        filter: Some("state ne 'completed'".into()),
        select: Some("id".into()),
        expand: None,
        max_results: Some(1000),
    }
}

/// The ids (lower case: Batch ids are case-insensitive) of the job's unfinished tasks.
async fn unfinished(
    api: &batch_client::BatchClient,
    job: &str,
    o: &RequestOptions,
) -> Result<BTreeSet<String>, BatchError> {
    let l = api.list_tasks(job, &unfinished_query(), o).await?;
    Ok(l.into_iter()
        .filter_map(|t| t.id.map(|i| i.to_ascii_lowercase()))
        .collect())
}

/// The error of a failed Task_List of `job`.
pub fn list_failed(diags: &mut Diagnostics, job: &str, e: &BatchError) {
    batch_error(diags, &format!("list the tasks of job {job:?}"), e, None);
}

/// Every task of `job`, by lower-case id, with the properties `select` names (None: all).
pub async fn list_job_tasks(
    ctx: &Ctx<Batch>,
    job: &str,
    select: Option<&str>,
) -> Result<BTreeMap<String, CloudTask>, BatchError> {
    let q = ListQuery {
        select: select.map(str::to_string),
        max_results: Some(1000),
        ..Default::default()
    };
    let l = ctx.client.api.list_tasks(job, &q, &poll_opts(ctx)).await?;
    Ok(l.into_iter()
        .filter_map(|t| t.id.clone().map(|i| (i.to_ascii_lowercase(), t)))
        .collect())
}

/// Polls until none of `names` (tasks of `job`) is unfinished: one filtered Task_List per poll,
/// whatever their number. Progress goes to the log.
pub async fn wait_all_completed(
    ctx: &Ctx<Batch>,
    job: &str,
    names: &[String],
    dl: tokio::time::Instant,
) -> Result<(), WaitError> {
    let want: BTreeSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let what = format!("{} task(s) of job {job:?} to complete", want.len());
    let last = Mutex::new(usize::MAX);
    let (want, last) = (&want, &last);
    poll_until(ctx, dl, &what, || async move {
        match unfinished(&ctx.client.api, job, &poll_opts(ctx)).await {
            Ok(open) => {
                let left = want.intersection(&open).count();
                let mut seen = last.lock().unwrap_or_else(|e| e.into_inner());
                if *seen != left {
                    tracing::info!(job, left, of = want.len(), "tasks still running");
                    *seen = left;
                }
                Ok((left == 0).then_some(()))
            }
            Err(e) => {
                let mut d = Diagnostics::new();
                list_failed(&mut d, job, &e);
                Err(d)
            }
        }
    })
    .await
}

/// Shared polling for tasks that wait one by one: per job, one loop lists the unfinished tasks
/// each interval and tells every waiter whose task is no longer among them.
#[derive(Default)]
pub struct TaskWatcher {
    jobs: Mutex<HashMap<String, JobWaiters>>,
}

/// The waiters of one job: task id (lower case) -> the channel that says "finished".
type JobWaiters = HashMap<String, Vec<watch::Sender<bool>>>;

impl TaskWatcher {
    /// Registers a waiter for `task` of `job`; starts the job's loop when it is the first.
    fn register(&self, ctx: &Ctx<Batch>, job: &str, task: &str) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        let key = job.to_ascii_lowercase();
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let start = !jobs.contains_key(&key);
        jobs.entry(key.clone())
            .or_default()
            .entry(task.to_ascii_lowercase())
            .or_default()
            .push(tx);
        if start {
            let client = Arc::clone(&ctx.client);
            let cancel = ctx.cancel.clone();
            let job = job.to_string();
            tokio::spawn(async move { job_loop(client, cancel, job, key).await });
        }
        rx
    }

    /// Tells the waiters of the job whose tasks are not in `open`; false when none is left (the
    /// job's entry is then gone, and the loop ends).
    fn settle(&self, key: &str, open: &BTreeSet<String>) -> bool {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(w) = jobs.get_mut(key) else {
            return false;
        };
        w.retain(|task, senders| {
            senders.retain(|s| !s.is_closed());
            if open.contains(task) {
                return !senders.is_empty();
            }
            for s in senders.iter() {
                let _ = s.send(true);
            }
            false
        });
        if w.is_empty() {
            jobs.remove(key);
            return false;
        }
        true
    }
}

/// The loop of one job: lists its unfinished tasks each interval (backing off to `poll_max`
/// while nothing changes) until no waiter is left. A failed listing is retried next interval;
/// the waiters' own deadlines bound the wait.
async fn job_loop(
    client: Arc<Batch>,
    cancel: batch_client::CancellationToken,
    job: String,
    key: String,
) {
    let mut interval = client.poll_initial;
    loop {
        let o = RequestOptions::new()
            .timeout(Duration::from_secs(60))
            .cancel(cancel.clone());
        match unfinished(&client.api, &job, &o).await {
            Ok(open) => {
                if !client.watcher.settle(&key, &open) {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(job, error = %e, "listing unfinished tasks failed; retrying");
                if client.watcher.is_idle(&key) {
                    return;
                }
            }
        }
        if cancellable_sleep(&cancel, interval).await {
            client.watcher.drop_job(&key);
            return;
        }
        interval = (interval * 2).min(client.poll_max);
    }
}

impl TaskWatcher {
    fn is_idle(&self, key: &str) -> bool {
        !self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(key)
    }
    fn drop_job(&self, key: &str) {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// Waits through the provider-wide [`TaskWatcher`] until `task` of `job` has completed, then
/// reads it once. Ok(task) or a wait error.
pub async fn wait_task_completed(
    ctx: &Ctx<Batch>,
    job: &str,
    task: &str,
    dl: tokio::time::Instant,
) -> Result<batch_client::Versioned<CloudTask>, WaitError> {
    loop {
        let mut rx = ctx.client.watcher.register(ctx, job, task);
        let finished = tokio::select! {
            r = rx.wait_for(|done| *done) => r.is_ok(),
            _ = tokio::time::sleep_until(dl) => return Err(WaitError::TimedOut),
            _ = ctx.cancel.cancelled() => return Err(WaitError::Cancelled),
        };
        let mut d = Diagnostics::new();
        if !finished {
            d.error(
                format!("Stopped watching task {task:?} in job {job:?}"),
                "The provider's task watcher ended before the task completed (the provider is stopping). Run terraform apply again to continue.",
            );
            return Err(WaitError::Failed(d));
        }
        match ctx.client.api.get_task(job, task, &poll_opts(ctx)).await {
            // A listing may lag behind a task just added: watch again until it says completed.
            Ok(Some(t)) if !t.value.is_completed() => {}
            Ok(Some(t)) => return Ok(t),
            Ok(None) => {
                d.error(
                    format!("Task {task:?} in job {job:?} disappeared"),
                    "The task was deleted (or its job was) while Terraform waited for it to complete.",
                );
                return Err(WaitError::Failed(d));
            }
            Err(e) => {
                batch_error(
                    &mut d,
                    &format!("read task {task:?} in job {job:?}"),
                    &e,
                    None,
                );
                return Err(WaitError::Failed(d));
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn watcher_with(job: &str, tasks: &[&str]) -> (TaskWatcher, Vec<watch::Receiver<bool>>) {
        let w = TaskWatcher::default();
        let mut rxs = Vec::new();
        {
            let mut jobs = w.jobs.lock().unwrap();
            let entry = jobs.entry(job.to_string()).or_default();
            for t in tasks {
                let (tx, rx) = watch::channel(false);
                entry.entry(t.to_string()).or_default().push(tx);
                rxs.push(rx);
            }
        }
        (w, rxs)
    }

    #[test]
    fn one_listing_settles_every_waiter_of_the_job() {
        let (w, rxs) = watcher_with("j", &["a", "b", "c"]);
        // b is still running; a and c are no longer listed as unfinished.
        let open = BTreeSet::from(["b".to_string(), "other".to_string()]);
        assert!(w.settle("j", &open), "b still waits: the loop goes on");
        assert!(*rxs[0].borrow());
        assert!(!*rxs[1].borrow());
        assert!(*rxs[2].borrow());
        assert!(
            !w.settle("j", &BTreeSet::new()),
            "nobody left: the loop ends"
        );
        assert!(*rxs[1].borrow());
        assert!(w.is_idle("j"));
    }

    #[test]
    fn waiters_that_gave_up_are_dropped() {
        let (w, mut rxs) = watcher_with("j", &["a"]);
        rxs.clear();
        let open = BTreeSet::from(["a".to_string()]);
        assert!(!w.settle("j", &open), "the only waiter is gone");
        assert!(w.is_idle("j"));
    }
}
