//! Waiting for a task to complete, the report of a failed run (exit code, failure information
//! and the end of its stderr), and Batch errors pointed at the attribute they name.

use std::sync::OnceLock;

use batch_client::BatchError;
use batch_client::models::{CloudTask, TaskDependencies};
use tfplugin::framework::Ctx;
use tfplugin::{AttrPath, Diagnostics};

use super::expand::expand_task;
use super::model::{TaskConfig, TaskModel};
use super::schema::schema;
use crate::common::task_deps::watch_blocked;
pub use crate::common::task_watch::is_failed;
use crate::common::task_watch::{failure_report, wait_task_completed};
use crate::common::wire_paths::WirePaths;
use crate::common::{Batch, WaitError, batch_error};

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

/// Adds the error for a failed task: exit code, failure information and the end of stderr.
pub async fn report_failure(
    ctx: &Ctx<Batch>,
    job: &str,
    name: &str,
    t: &CloudTask,
    diags: &mut Diagnostics,
) {
    let (summary, mut detail) = failure_report(ctx, job, name, t).await;
    detail.push_str("\nThe task stays in the state as tainted: the next terraform apply deletes it and runs it again.");
    diags.error(summary, detail);
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

/// Waits until the task completed, through the provider-wide watcher (one listing per job per
/// interval for every waiting task). Ok(task) or a wait error.
pub async fn wait_completed(
    ctx: &Ctx<Batch>,
    job: &str,
    name: &str,
    deps: Option<&TaskDependencies>,
    dl: tokio::time::Instant,
) -> Result<batch_client::Versioned<CloudTask>, WaitError> {
    tracing::info!(job, task = name, "waiting for the task to complete");
    // A task whose dependency failed never runs: end the wait with that failure. Only a task
    // with dependencies (`deps`, as sent to Batch) costs listings of its own.
    tokio::select! {
        r = wait_task_completed(ctx, job, name, dl) => r,
        d = watch_blocked(ctx, job, name, deps) => Err(WaitError::Failed(d)),
    }
}
