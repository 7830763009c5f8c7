//! `action "batch_job_terminate"` (Terraform 1.14+): terminates a job (Job_Terminate: running
//! tasks are stopped, queued ones never start) and waits until the job completed and none of
//! its tasks is still preparing or running, streaming progress.

use std::time::Duration;

use async_trait::async_trait;
use batch_client::ListQuery;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Action, Ctx, Progress};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::{GoDuration, NotEmpty, parse_go_duration};
use tfplugin::{Diagnostics, Value};

use super::read_config;
use crate::common::validators::BatchId;
use crate::common::{Batch, WaitError, batch_error, error_code, opts, poll_opts, poll_until};

const DEFAULT_TIMEOUT: &str = "10m";

/// The `config { … }` of the action block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobTerminateConfig {
    pub job_id: String,
    pub reason: Option<String>,
    pub timeout: Option<String>,
}

impl JobTerminateConfig {
    pub fn timeout(&self) -> Duration {
        let t = self.timeout.as_deref().unwrap_or(DEFAULT_TIMEOUT);
        parse_go_duration(t).unwrap_or(Duration::from_secs(600))
    }
}

/// How many tasks are still on a node (preparing or running), from a task list's states.
/// Queued (`active`) tasks of a terminated job never start, so they count as stopped.
pub fn unstopped<'a>(states: impl IntoIterator<Item = Option<&'a str>>) -> usize {
    states
        .into_iter()
        .filter(|s| matches!(s, Some("running" | "preparing")))
        .count()
}

pub struct JobTerminateAction;

#[async_trait]
impl Action<Batch> for JobTerminateAction {
    fn type_name(&self) -> &'static str {
        "batch_job_terminate"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Terminates a job now: Batch stops its running tasks and starts no queued ones, and the job completes. Waits until the job has completed and none of its tasks is still running. Needs Terraform 1.14 or later: run it with `terraform apply -invoke=action.batch_job_terminate.<name>` or from a resource's `lifecycle { action_trigger { ... } }`. A `batch_job` resource for the same job then reads `state = \"completed\"`.")
                .attr(Attribute::string("job_id").required().validate(BatchId).description("The job to terminate."))
                .attr(Attribute::string("reason").optional().validate(NotEmpty).description("Text Batch records as the job's terminate reason (`executionInfo.terminateReason`). Default: Batch's `UserTerminate`."))
                .attr(Attribute::string("timeout").optional().validate(GoDuration).description("How long to wait for the job's tasks to stop, e.g. `10m` (the default).")),
        )
    }

    async fn invoke(&self, ctx: &Ctx<Batch>, config: Value, progress: Progress) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Some(c) = read_config::<JobTerminateConfig>(&config, &mut diags) else {
            return diags;
        };
        let job = c.job_id.as_str();
        let deadline = tokio::time::Instant::now() + c.timeout();
        let api = &ctx.client.api;
        match api
            .terminate_job(job, c.reason.as_deref(), &opts(ctx, deadline))
            .await
        {
            Ok(_) => progress.send(format!("Job {job:?} terminating")).await,
            // Terminating a job that already completed is not an error here: the goal holds.
            Err(e) if error_code(&e) == Some("JobCompleted") => {
                progress
                    .send(format!("Job {job:?} had already completed"))
                    .await
            }
            Err(e) => {
                batch_error(&mut diags, &format!("terminate job {job:?}"), &e, None);
                return diags;
            }
        }
        let query = ListQuery {
            select: Some("id,state".into()),
            ..Default::default()
        };
        let what = format!("job {job:?} and its tasks to stop");
        let last = std::sync::Mutex::new(None);
        let waited = poll_until(ctx, deadline, &what, || {
            let (query, progress, last) = (&query, &progress, &last);
            async move {
                let fail = |doing: String, e: &batch_client::BatchError| {
                    let mut d = Diagnostics::new();
                    batch_error(&mut d, &doing, e, None);
                    d
                };
                let state = match api.get_job(job, &poll_opts(ctx)).await {
                    Ok(Some(j)) => j.value.state.unwrap_or_default(),
                    Ok(None) => {
                        let mut d = Diagnostics::new();
                        d.error(
                            format!("Job {job:?} not found"),
                            "The job does not exist (or was deleted while the action waited).",
                        );
                        return Err(d);
                    }
                    Err(e) => return Err(fail(format!("read job {job:?}"), &e)),
                };
                let tasks = api
                    .list_tasks(job, query, &poll_opts(ctx))
                    .await
                    .map_err(|e| fail(format!("list the tasks of job {job:?}"), &e))?;
                let left = unstopped(tasks.iter().map(|t| t.state.as_deref()));
                let now = Some((state.clone(), left));
                let changed = {
                    let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                    std::mem::replace(&mut *last, now.clone()) != now
                };
                if changed {
                    progress
                        .send(format!("Job {job:?} {state}; {left} task(s) still running"))
                        .await;
                }
                Ok((state == "completed" && left == 0).then_some(tasks.len()))
            }
        })
        .await;
        match waited {
            Ok(n) => progress.send(format!("Job {job:?} terminated; all {n} task(s) stopped")).await,
            Err(WaitError::Failed(d)) => diags.extend(d),
            Err(WaitError::TimedOut) => diags.error(
                format!("Timed out waiting for job {job:?} to stop"),
                format!("The job was terminated but its tasks did not all stop within timeout ({}). Raise timeout to wait longer.", c.timeout.as_deref().unwrap_or(DEFAULT_TIMEOUT)),
            ),
            Err(WaitError::Cancelled) => diags.error(
                format!("Interrupted while waiting for job {job:?} to stop"),
                "Terraform asked the provider to stop. The job was terminated; Batch keeps stopping its tasks.",
            ),
        }
        diags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_on_a_node_have_not_stopped() {
        let states = [
            Some("completed"),
            Some("running"),
            Some("preparing"),
            Some("active"),
            None,
        ];
        assert_eq!(unstopped(states), 2);
        assert_eq!(unstopped([Some("completed")]), 0);
        let c = JobTerminateConfig::default();
        assert_eq!(c.timeout(), Duration::from_secs(600));
    }
}
