//! Terraform -> Batch: the job model as Job_Add, Job_Patch and Job_Update bodies.

use batch_client::models::{
    CloudJob, JobAddParameter, JobPatchParameter, JobUpdateParameter, PoolInformation,
};

use super::model::JobModel;
use super::plan::JobChanges;
pub use crate::common::job_spec::{expand_constraints, expand_metadata};
use crate::common::job_tasks::{expand_preparation_task, expand_release_task};
use crate::common::manager_task::expand_manager_task;

fn int(v: Option<i64>) -> Option<i32> {
    v.map(|n| n as i32)
}

fn pool_info(m: &JobModel) -> PoolInformation {
    PoolInformation {
        pool_id: m.pool_id.clone(),
        auto_pool_specification: None,
    }
}

/// The Job_Add body. `config` is the configuration (write-only values of the tasks).
pub fn expand_job_add(m: &JobModel, config: Option<&JobModel>) -> JobAddParameter {
    JobAddParameter {
        id: m.job_name(),
        display_name: m.display_name.clone(),
        priority: int(m.priority),
        max_parallel_tasks: int(m.max_parallel_tasks),
        constraints: expand_constraints(m.constraints.as_ref()),
        pool_info: pool_info(m),
        on_all_tasks_complete: m.on_all_tasks_complete.clone(),
        on_task_failure: m.on_task_failure.clone(),
        metadata: expand_metadata(m.metadata.as_ref()),
        uses_task_dependencies: m.uses_task_dependencies,
        job_preparation_task: m
            .preparation_task
            .as_ref()
            .map(|t| expand_preparation_task(t, config.and_then(|c| c.preparation_task.as_ref()))),
        job_manager_task: m
            .manager_task
            .as_ref()
            .map(|t| expand_manager_task(t, config.and_then(|c| c.manager_task.as_ref()))),
        job_release_task: m
            .release_task
            .as_ref()
            .map(|t| expand_release_task(t, config.and_then(|c| c.release_task.as_ref()))),
        ..Default::default()
    }
}

/// The Job_Patch (merge) body: only what changed, so that concurrent changes to other
/// properties are not overwritten.
pub fn expand_job_patch(m: &JobModel, changes: &JobChanges) -> JobPatchParameter {
    JobPatchParameter {
        priority: changes.priority.then(|| m.priority.unwrap_or(0) as i32),
        max_parallel_tasks: changes
            .max_parallel_tasks
            .then(|| m.max_parallel_tasks.unwrap_or(-1) as i32),
        on_all_tasks_complete: changes.on_all_tasks_complete.then(|| {
            m.on_all_tasks_complete
                .clone()
                .unwrap_or_else(|| "noaction".into())
        }),
        constraints: changes
            .constraints
            .then(|| expand_constraints(m.constraints.as_ref()).unwrap_or_default()),
        // An empty list clears the metadata; omitting it would keep the old items.
        metadata: changes
            .metadata
            .then(|| expand_metadata(m.metadata.as_ref()).unwrap_or_default()),
        ..Default::default()
    }
}

/// The Job_Update (PUT) body: Batch resets what it omits, so it carries every property we
/// manage and, from `current`, the ones we do not.
pub fn expand_job_update(m: &JobModel, current: &CloudJob) -> JobUpdateParameter {
    JobUpdateParameter {
        priority: int(m.priority),
        max_parallel_tasks: int(m.max_parallel_tasks),
        allow_task_preemption: current.allow_task_preemption,
        constraints: Some(expand_constraints(m.constraints.as_ref()).unwrap_or_default()),
        pool_info: pool_info(m),
        metadata: Some(expand_metadata(m.metadata.as_ref()).unwrap_or_default()),
        on_all_tasks_complete: m.on_all_tasks_complete.clone(),
    }
}
