//! Terraform -> Batch: the schedule model as JobSchedule_Add and JobSchedule_Patch bodies.

use batch_client::models::{
    JobScheduleAddParameter, JobSchedulePatchParameter, JobSpecification, PoolInformation, Schedule,
};

use super::model::{JobScheduleModel, JobSpecModel, ScheduleModel};
use super::plan::ScheduleChanges;
use crate::common::job_spec::{expand_constraints, expand_metadata};
use crate::common::job_tasks::{expand_preparation_task, expand_release_task};
use crate::common::manager_task::expand_manager_task;
use crate::common::task_spec::expand_environment;

/// The `schedule` element (an absent block is an empty element: one job at once).
pub fn expand_schedule(m: Option<&ScheduleModel>) -> Schedule {
    let m = m.cloned().unwrap_or_default();
    Schedule {
        do_not_run_until: m.do_not_run_until,
        do_not_run_after: m.do_not_run_after,
        start_window: m.start_window,
        recurrence_interval: m.recurrence_interval,
    }
}

/// The `jobSpecification` element; `config` is the same block in the configuration
/// (write-only registry passwords of the tasks' containers).
pub fn expand_job_spec(m: &JobSpecModel, config: Option<&JobSpecModel>) -> JobSpecification {
    JobSpecification {
        display_name: m.display_name.clone(),
        priority: m.priority.map(|n| n as i32),
        max_parallel_tasks: m.max_parallel_tasks.map(|n| n as i32),
        uses_task_dependencies: m.uses_task_dependencies,
        on_all_tasks_complete: m.on_all_tasks_complete.clone(),
        on_task_failure: m.on_task_failure.clone(),
        constraints: expand_constraints(m.constraints.as_ref()),
        job_manager_task: m
            .manager_task
            .as_ref()
            .map(|t| expand_manager_task(t, config.and_then(|c| c.manager_task.as_ref()))),
        job_preparation_task: m
            .preparation_task
            .as_ref()
            .map(|t| expand_preparation_task(t, config.and_then(|c| c.preparation_task.as_ref()))),
        job_release_task: m
            .release_task
            .as_ref()
            .map(|t| expand_release_task(t, config.and_then(|c| c.release_task.as_ref()))),
        metadata: expand_metadata(m.metadata.as_ref()),
        common_environment_settings: expand_environment(&m.environment),
        pool_info: PoolInformation {
            pool_id: Some(m.pool_id.clone()),
            auto_pool_specification: None,
        },
        ..Default::default()
    }
}

/// The JobSchedule_Add body. `config` is the configuration (write-only values).
pub fn expand_schedule_add(
    m: &JobScheduleModel,
    config: Option<&JobScheduleModel>,
) -> JobScheduleAddParameter {
    JobScheduleAddParameter {
        id: m.schedule_name(),
        display_name: m.display_name.clone(),
        schedule: expand_schedule(m.schedule.as_ref()),
        job_specification: expand_job_spec(
            &m.job.clone().unwrap_or_default(),
            config.and_then(|c| c.job.as_ref()),
        ),
        metadata: expand_metadata(m.metadata.as_ref()),
    }
}

/// The JobSchedule_Patch body: the elements that changed, each whole (Batch replaces a given
/// `schedule` or `jobSpecification` as a unit and keeps the ones left out).
pub fn expand_schedule_patch(
    m: &JobScheduleModel,
    config: Option<&JobScheduleModel>,
    changes: &ScheduleChanges,
) -> JobSchedulePatchParameter {
    let add = expand_schedule_add(m, config);
    JobSchedulePatchParameter {
        schedule: changes.schedule.then_some(add.schedule),
        job_specification: changes.job.then_some(add.job_specification),
        // An empty list clears the metadata; omitting it would keep the old items.
        metadata: changes.metadata.then(|| add.metadata.unwrap_or_default()),
    }
}
