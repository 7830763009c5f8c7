//! Batch -> Terraform: the schedule as Batch reports it, written into the model. Server
//! defaults the user left unset stay null (declared on the attributes).

use batch_client::models::{CloudJobSchedule, JobSpecification, Schedule};
use tfplugin::model::Tf;

use super::model::{JobScheduleModel, JobSpecModel, ScheduleModel};
use crate::common::job_spec::{flatten_constraints, flatten_metadata};
use crate::common::job_tasks::{flatten_preparation_task, flatten_release_task};
use crate::common::manager_task::flatten_manager_task;
use crate::common::task_spec::flatten_environment;

/// The `schedule` block: none when Batch reports an empty element and the user had no block.
pub fn flatten_schedule(
    s: Option<&Schedule>,
    prior: Option<&ScheduleModel>,
) -> Option<ScheduleModel> {
    let s = s.cloned().unwrap_or_default();
    let m = ScheduleModel {
        recurrence_interval: s.recurrence_interval,
        do_not_run_until: s.do_not_run_until,
        do_not_run_after: s.do_not_run_after,
        start_window: s.start_window,
    };
    (prior.is_some() || m != ScheduleModel::default()).then_some(m)
}

/// The `job` block, normalised against the prior block.
pub fn flatten_job_spec(j: &JobSpecification, prior: Option<&JobSpecModel>) -> JobSpecModel {
    JobSpecModel {
        pool_id: j.pool_info.pool_id.clone().unwrap_or_default(),
        display_name: j.display_name.clone(),
        priority: Some(i64::from(j.priority.unwrap_or(0))),
        max_parallel_tasks: Some(i64::from(j.max_parallel_tasks.unwrap_or(-1))),
        uses_task_dependencies: Some(j.uses_task_dependencies.unwrap_or(false)),
        on_all_tasks_complete: Some(
            j.on_all_tasks_complete
                .as_deref()
                .unwrap_or("noaction")
                .to_ascii_lowercase(),
        ),
        on_task_failure: Some(
            j.on_task_failure
                .as_deref()
                .unwrap_or("noaction")
                .to_ascii_lowercase(),
        ),
        environment: flatten_environment(
            j.common_environment_settings.as_ref(),
            prior.and_then(|p| p.environment.as_ref()),
        ),
        constraints: flatten_constraints(
            j.constraints.as_ref(),
            prior.and_then(|p| p.constraints.as_ref()),
        ),
        manager_task: j.job_manager_task.as_ref().map(|t| {
            flatten_manager_task(
                t,
                prior.and_then(|p| p.manager_task.as_ref()),
                j.constraints.as_ref().and_then(|c| c.max_task_retry_count),
            )
        }),
        preparation_task: j
            .job_preparation_task
            .as_ref()
            .map(|t| flatten_preparation_task(t, prior.and_then(|p| p.preparation_task.as_ref()))),
        release_task: j
            .job_release_task
            .as_ref()
            .map(|t| flatten_release_task(t, prior.and_then(|p| p.release_task.as_ref()))),
        metadata: flatten_metadata(j.metadata.as_ref(), prior.and_then(|p| p.metadata.as_ref())),
    }
}

/// The schedule as state, normalised against `prior` (the default model on import).
pub fn flatten_job_schedule(s: &CloudJobSchedule, prior: &JobScheduleModel) -> JobScheduleModel {
    let name = s.id.clone().unwrap_or_default();
    let info = s.execution_info.clone().unwrap_or_default();
    JobScheduleModel {
        id: Tf::Known(name.clone()),
        name: Tf::Known(name),
        display_name: s.display_name.clone(),
        schedule: flatten_schedule(s.schedule.as_ref(), prior.schedule.as_ref()),
        job: s
            .job_specification
            .as_ref()
            .map(|j| flatten_job_spec(j, prior.job.as_ref())),
        metadata: flatten_metadata(s.metadata.as_ref(), prior.metadata.as_ref()),
        state: s.state.clone().into(),
        next_run_time: info.next_run_time.into(),
        recent_job_id: info.recent_job.and_then(|r| r.id).into(),
        timeouts: prior.timeouts.clone(),
    }
}
