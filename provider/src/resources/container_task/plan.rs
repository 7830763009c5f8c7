//! Plan decides, apply carries out: what an in-place update of a task does, as a pure function
//! of (prior, planned) that both `modify_plan` and `update` use.

use serde::{Deserialize, Serialize};
use tfplugin::model::Tf;

use crate::common::task_spec::TaskConstraintsModel;

/// What the plan and apply of an update need to know of a task (prior state or plan). Fields
/// may be unknown in a plan, so everything is `Tf`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct UpdateView {
    pub job_id: Tf<String>,
    pub name: Tf<String>,
    pub state: Tf<String>,
    pub wait_for_completion: Tf<bool>,
    pub constraints: Tf<TaskConstraintsModel>,
}

/// One step of an in-place update, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStep {
    /// Task_Update with If-Match: replace the constraints.
    UpdateConstraints,
    /// Poll until the task completed (apply then reports a failed run).
    WaitForCompletion,
}

/// What an in-place update does. The run attributes (state, exit code, ...) stay as they are
/// unless apply waits for the task, which then reports them after the wait.
pub fn plan_update(prior: &UpdateView, planned: &UpdateView) -> Vec<UpdateStep> {
    let mut steps = Vec::new();
    if planned.constraints != prior.constraints {
        steps.push(UpdateStep::UpdateConstraints);
    }
    // Only an apply that starts waiting for a task that has not finished yet waits.
    let completed = prior.state.known().map(String::as_str) == Some("completed");
    let starts_waiting = planned.wait_for_completion == Tf::Known(true)
        && prior.wait_for_completion != Tf::Known(true);
    if !completed && starts_waiting {
        steps.push(UpdateStep::WaitForCompletion);
    }
    steps
}

/// The plan's `id`, once job and name are known (also on the create half of a replacement).
#[derive(Serialize)]
pub struct IdPatch {
    pub id: String,
}

pub fn planned_id(planned: &UpdateView) -> Option<IdPatch> {
    match (&planned.job_id, &planned.name) {
        (Tf::Known(job), Tf::Known(name)) => Some(IdPatch {
            id: format!("{job}/{name}"),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UpdateStep::*;

    fn view(state: Option<&str>, wait: Option<bool>, wall: Option<&str>) -> UpdateView {
        UpdateView {
            job_id: Tf::Known("j".into()),
            name: Tf::Known("t".into()),
            state: state.map(str::to_string).into(),
            wait_for_completion: wait.into(),
            constraints: match wall {
                Some(w) => Tf::Known(TaskConstraintsModel {
                    max_wall_clock_time: Some(w.into()),
                    ..Default::default()
                }),
                None => Tf::Null,
            },
        }
    }

    #[test]
    fn update_plan_table() {
        let cases: Vec<(UpdateView, UpdateView, Vec<UpdateStep>)> = vec![
            // Only timeouts changed: nothing to call.
            (
                view(Some("active"), Some(false), None),
                view(None, Some(false), None),
                vec![],
            ),
            (
                view(Some("running"), Some(false), Some("PT1H")),
                view(None, Some(false), Some("PT2H")),
                vec![UpdateConstraints],
            ),
            (
                view(Some("running"), Some(false), None),
                view(None, Some(false), Some("PT2H")),
                vec![UpdateConstraints],
            ),
            // Starting to wait for an unfinished task waits.
            (
                view(Some("running"), Some(false), None),
                view(None, Some(true), None),
                vec![WaitForCompletion],
            ),
            (
                view(Some("active"), None, Some("PT1H")),
                view(None, Some(true), None),
                vec![UpdateConstraints, WaitForCompletion],
            ),
            // A completed task, or one already waited for, is not waited for again.
            (
                view(Some("completed"), Some(false), None),
                view(None, Some(true), None),
                vec![],
            ),
            (
                view(Some("running"), Some(true), None),
                view(None, Some(true), None),
                vec![],
            ),
        ];
        for (prior, planned, want) in cases {
            assert_eq!(
                plan_update(&prior, &planned),
                want,
                "{prior:?} -> {planned:?}"
            );
        }
    }

    #[test]
    fn id_is_planned_once_job_and_name_are_known() {
        assert_eq!(
            planned_id(&view(None, None, None)).map(|p| p.id).as_deref(),
            Some("j/t")
        );
        let unknown = UpdateView {
            job_id: Tf::Unknown,
            ..view(None, None, None)
        };
        assert!(planned_id(&unknown).is_none());
    }
}
