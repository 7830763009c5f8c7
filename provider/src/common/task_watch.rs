//! Watching tasks: one Task_List per poll per job for every task waiting there, instead of one
//! Task_Get per task. [`TaskWatcher`] lives in the configured client, so concurrent waits of
//! `batch_container_task` resources in the same job share one loop; a collection waits for all
//! its tasks through [`wait_all_completed`]. 429/503 answers are retried by the client as their
//! `Retry-After` says. How a failed run is reported lives in [`super::task_run`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use batch_client::models::CloudTask;
use batch_client::{BatchError, ListQuery, RequestOptions};
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

pub use super::task_run::{failure_detail, failure_report, is_failed, stderr_tail};

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
