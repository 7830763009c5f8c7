//! Plan decides, apply carries out: which Batch calls an update of a job makes, decided from
//! the prior state and the plan alone. `modify_plan` uses it to say what forces replacement;
//! `update` makes exactly the call it names.

use super::model::{JobConstraintsModel, JobModel};

/// Which in-place properties differ between prior state and plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobChanges {
    pub priority: bool,
    pub max_parallel_tasks: bool,
    pub on_all_tasks_complete: bool,
    pub metadata: bool,
    pub constraints: bool,
}

impl JobChanges {
    pub fn any(&self) -> bool {
        self.priority
            || self.max_parallel_tasks
            || self.on_all_tasks_complete
            || self.metadata
            || self.constraints
    }
}

/// The Batch call that carries out an in-place update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobCall {
    /// Job_Patch (merge): sends only the changed properties.
    Patch(JobChanges),
    /// Job_Update (PUT, replace semantics): needed when a constraint is removed, so that Batch
    /// resets it to its default (a merge would keep the old value).
    Update,
}

/// Why the job must be replaced rather than updated (beyond the attributes the schema marks
/// `requires_replace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceReason {
    /// Batch refuses `onAllTasksComplete` terminatejob -> noaction.
    OnAllTasksCompleteBackToNoAction,
}

/// What an update of the job does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobUpdatePlan {
    pub replace: Vec<ReplaceReason>,
    /// None: nothing Batch stores changed (e.g. only `timeouts`).
    pub call: Option<JobCall>,
}

fn constraint_removed(
    planned: Option<&JobConstraintsModel>,
    prior: Option<&JobConstraintsModel>,
) -> bool {
    let (p, q) = (
        planned.cloned().unwrap_or_default(),
        prior.cloned().unwrap_or_default(),
    );
    (p.max_wall_clock_time.is_none() && q.max_wall_clock_time.is_some())
        || (p.max_task_retry_count.is_none() && q.max_task_retry_count.is_some())
}

/// Decides the update from the prior state and the plan. Values unknown in the plan read as
/// `None` (they only become known at apply, when this runs again with the final plan).
pub fn plan_job_update(prior: &JobModel, planned: &JobModel) -> JobUpdatePlan {
    let mut replace = Vec::new();
    if prior.on_all_tasks_complete.as_deref() == Some("terminatejob")
        && planned.on_all_tasks_complete.as_deref() == Some("noaction")
    {
        replace.push(ReplaceReason::OnAllTasksCompleteBackToNoAction);
    }
    let changes = JobChanges {
        priority: planned.priority != prior.priority,
        max_parallel_tasks: planned.max_parallel_tasks != prior.max_parallel_tasks,
        on_all_tasks_complete: planned.on_all_tasks_complete != prior.on_all_tasks_complete,
        metadata: planned.metadata != prior.metadata,
        constraints: planned.constraints != prior.constraints,
    };
    let call = if !changes.any() {
        None
    } else if constraint_removed(planned.constraints.as_ref(), prior.constraints.as_ref()) {
        Some(JobCall::Update)
    } else {
        Some(JobCall::Patch(changes))
    };
    JobUpdatePlan { replace, call }
}
