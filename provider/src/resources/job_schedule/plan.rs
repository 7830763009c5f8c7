//! Plan decides, apply carries out: what an update of a schedule sends, decided from the prior
//! state and the plan alone. Everything but `name` and `display_name` (which the schema marks
//! `requires_replace`) changes in place through JobSchedule_Patch, which replaces each given
//! element whole.

use super::model::JobScheduleModel;

/// Which elements differ between prior state and plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScheduleChanges {
    pub schedule: bool,
    pub job: bool,
    pub metadata: bool,
}

impl ScheduleChanges {
    pub fn any(&self) -> bool {
        self.schedule || self.job || self.metadata
    }
}

/// The JobSchedule_Patch an update makes, None when nothing Batch stores changed (e.g. only
/// `timeouts`).
pub fn plan_schedule_update(
    prior: &JobScheduleModel,
    planned: &JobScheduleModel,
) -> Option<ScheduleChanges> {
    let changes = ScheduleChanges {
        schedule: planned.schedule != prior.schedule,
        job: planned.job != prior.job,
        metadata: planned.metadata != prior.metadata,
    };
    changes.any().then_some(changes)
}
