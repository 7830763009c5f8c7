//! Plan decides, apply carries out: what an update of a schedule sends, decided from the prior
//! state and the plan alone. Everything but `name` and `display_name` (which the schema marks
//! `requires_replace`) changes in place through JobSchedule_Patch, which replaces each given
//! element whole. A schedule that has ended (completed or terminating) takes no update at all,
//! so a change to it is planned as a replacement.

use super::model::{JobScheduleModel, attr};
use crate::common::validators::parse_rfc3339;

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

/// States in which Batch refuses every change to a schedule (409 `JobScheduleCompleted`,
/// `JobScheduleBeingTerminated`): it was terminated or passed `do_not_run_after`.
const ENDED: [&str; 2] = ["completed", "terminating"];

/// The elements whose change must replace the schedule: those an in-place update would change
/// while the schedule (as last read) has ended, since Batch would refuse the update at apply.
pub fn replace_ended(prior: &JobScheduleModel, planned: &JobScheduleModel) -> Vec<&'static str> {
    let ended = prior
        .state
        .known()
        .is_some_and(|s| ENDED.contains(&s.as_str()));
    let Some(changes) = plan_schedule_update(prior, planned).filter(|_| ended) else {
        return Vec::new();
    };
    [
        (changes.schedule, attr!(JobScheduleModel, schedule)),
        (changes.job, attr!(JobScheduleModel, job)),
        (changes.metadata, attr!(JobScheduleModel, metadata)),
    ]
    .into_iter()
    .filter_map(|(changed, a)| changed.then_some(a))
    .collect()
}

/// A `do_not_run_after` this plan sets (new, or changed) that is already past at `now`: Batch
/// would accept it and make no job at all, which is never what a new value means.
pub fn past_do_not_run_after(
    prior: Option<&JobScheduleModel>,
    planned: &JobScheduleModel,
    now: time::OffsetDateTime,
) -> Option<String> {
    let after = |m: &JobScheduleModel| {
        m.schedule
            .as_ref()
            .and_then(|s| s.do_not_run_after.as_deref())
            .and_then(|s| parse_rfc3339(s).map(|t| (s.to_string(), t)))
    };
    let (text, at) = after(planned)?;
    let unchanged = prior.and_then(after).is_some_and(|(_, p)| p == at);
    (at <= now && !unchanged).then_some(text)
}
