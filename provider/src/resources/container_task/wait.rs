//! Waiting for a task to complete, the report of a failed run (exit code, failure information
//! and the end of its stderr), and Batch errors pointed at the attribute they name.

use std::sync::OnceLock;

use batch_client::BatchError;
use batch_client::models::CloudTask;
use tfplugin::framework::Ctx;
use tfplugin::{AttrPath, Diagnostics};

use super::expand::expand_task;
use super::model::{TaskConfig, TaskModel};
use super::schema::schema;
use crate::common::task_run::failure_report;
pub use crate::common::task_run::is_failed;
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
