//! Batch -> Terraform: the job as Batch reports it, written into the model. Server defaults the
//! user left unset stay null.

use batch_client::models::CloudJob;
use tfplugin::model::Tf;

use super::model::JobModel;
pub use crate::common::job_spec::{flatten_constraints, flatten_metadata};
use crate::common::job_tasks::{flatten_preparation_task, flatten_release_task};
use crate::common::manager_task::flatten_manager_task;

/// A Batch enum value in our lower-case spelling, `default` when Batch omits it.
fn flatten_enum(v: Option<&String>, default: &str) -> String {
    v.map_or(default, |s| s.as_str()).to_ascii_lowercase()
}

/// The job as state, normalised against `prior` (the default model on import): server
/// defaults the user left unset stay null. Case-insensitive ids and equal durations keep the
/// prior spelling by the schema's declared semantics (the framework applies them after read).
/// `timeouts` is configuration and comes from `prior`.
pub fn flatten_job(job: &CloudJob, prior: &JobModel) -> JobModel {
    let name = job.id.clone().unwrap_or_default();
    JobModel {
        id: Tf::Known(name.clone()),
        name: Tf::Known(name),
        display_name: job.display_name.clone(),
        pool_id: Some(
            job.pool_info
                .as_ref()
                .and_then(|p| p.pool_id.clone())
                .unwrap_or_default(),
        ),
        priority: Some(job.priority.unwrap_or(0) as i64),
        max_parallel_tasks: Some(job.max_parallel_tasks.unwrap_or(-1) as i64),
        uses_task_dependencies: Some(job.uses_task_dependencies.unwrap_or(false)),
        on_all_tasks_complete: Some(flatten_enum(job.on_all_tasks_complete.as_ref(), "noaction")),
        on_task_failure: Some(flatten_enum(job.on_task_failure.as_ref(), "noaction")),
        metadata: flatten_metadata(job.metadata.as_ref(), prior.metadata.as_ref()),
        state: job.state.clone().into(),
        constraints: flatten_constraints(job.constraints.as_ref(), prior.constraints.as_ref()),
        preparation_task: job
            .job_preparation_task
            .as_ref()
            .map(|t| flatten_preparation_task(t, prior.preparation_task.as_ref())),
        manager_task: job.job_manager_task.as_ref().map(|t| {
            flatten_manager_task(
                t,
                prior.manager_task.as_ref(),
                job.constraints
                    .as_ref()
                    .and_then(|c| c.max_task_retry_count),
            )
        }),
        release_task: job
            .job_release_task
            .as_ref()
            .map(|t| flatten_release_task(t, prior.release_task.as_ref())),
        timeouts: prior.timeouts.clone(),
    }
}
