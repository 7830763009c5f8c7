//! The `constraints` block of a task: max wall clock time, retention time, max task retry count
//! (Batch's `TaskConstraints`).

use batch_client::models::TaskConstraints;
use serde::{Deserialize, Serialize};
use tfplugin::schema::{Attribute, Block};
use tfplugin::validators::{IntBetween, Iso8601Duration};

use tfplugin::Value;
use tfplugin::model::to_value;
use tfplugin::semantics::SameIsoDuration;

use super::duration::{UNLIMITED_DURATION, is_unlimited, same_duration};

/// Batch's retention time when none is set.
pub const DEFAULT_RETENTION: &str = "P7D";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskConstraintsModel {
    pub max_wall_clock_time: Option<String>,
    pub retention_time: Option<String>,
    pub max_task_retry_count: Option<i64>,
}

/// The block's schema; `what` completes "Execution limits of the ...".
pub fn task_constraints_block(what: &str, update_note: &str) -> Block {
    Block::new(format!("Execution limits of the {what}.{update_note}"))
        .attr(Attribute::string("max_wall_clock_time").optional().validate(Iso8601Duration).semantics(SameIsoDuration).server_default(Value::string(UNLIMITED_DURATION)).description(format!("Longest time the {what} may run, from when it starts, as an ISO 8601 duration such as `PT1H`. Batch terminates a {what} that runs longer. Default: no limit.")))
        .attr(Attribute::string("retention_time").optional().validate(Iso8601Duration).semantics(SameIsoDuration).description(format!("How long Batch keeps the {what}'s directory (and its stdout/stderr) on the node after it completes, e.g. `P7D`. Default `P7D`. Batch removes the {what} itself later.")))
        .attr(Attribute::number("max_task_retry_count").optional().validate(IntBetween(-1, 100_000)).description(format!("How often Batch retries the {what} when its exit code is nonzero; `-1` retries without limit. Default: the job's `constraints.max_task_retry_count` (0 unless set).")))
}

/// Terraform -> Batch: unset limits stay unset (Batch applies its defaults).
pub fn expand_task_constraints(m: &TaskConstraintsModel) -> TaskConstraints {
    TaskConstraints {
        max_wall_clock_time: m.max_wall_clock_time.clone(),
        retention_time: m.retention_time.clone(),
        max_task_retry_count: m.max_task_retry_count.map(|n| n as i32),
    }
}

/// Terraform -> Batch for an update that replaces every limit: unset ones get Batch's defaults
/// (no limit, 7 days, and `job_retries` — the job's retry count — or 0), so that removing a
/// limit really removes it.
pub fn expand_task_constraints_replacing(
    m: Option<&TaskConstraintsModel>,
    job_retries: impl FnOnce() -> Option<i32>,
) -> TaskConstraints {
    let mut c = expand_task_constraints(&m.cloned().unwrap_or_default());
    c.max_wall_clock_time
        .get_or_insert_with(|| UNLIMITED_DURATION.into());
    c.retention_time
        .get_or_insert_with(|| DEFAULT_RETENTION.into());
    if c.max_task_retry_count.is_none() {
        c.max_task_retry_count = Some(job_retries().unwrap_or(0));
    }
    c
}

/// Batch -> Terraform: the limits Batch reports. The attributes' declared semantics keep the
/// user's spelling of a duration and leave "no limit" unset. Batch's default retention stays
/// unset here, not by a declared server default: an imported task keeps a retention it states
/// (see [`flatten_imported_task_constraints`]). A retry count Batch filled in from the job stays
/// unset; without a prior block, limits that are all Batch's defaults give no block.
pub fn flatten_task_constraints(
    m: Option<&TaskConstraints>,
    prior: Option<&TaskConstraintsModel>,
) -> Option<TaskConstraintsModel> {
    let m = m?;
    let max_wall_clock_time = m.max_wall_clock_time.clone();
    let retention_time = m.retention_time.clone().filter(|r| {
        prior.and_then(|p| p.retention_time.as_ref()).is_some()
            || !same_duration(r, DEFAULT_RETENTION)
    });
    let max_task_retry_count = match (
        m.max_task_retry_count,
        prior.and_then(|p| p.max_task_retry_count),
    ) {
        (Some(n), Some(_)) => Some(n as i64),
        _ => None,
    };
    if prior.is_none()
        && max_wall_clock_time.as_deref().is_none_or(is_unlimited)
        && retention_time.is_none()
    {
        return None;
    }
    Some(TaskConstraintsModel {
        max_wall_clock_time,
        retention_time,
        max_task_retry_count,
    })
}

/// The block as state after a read: [`flatten_task_constraints`] with the block's declared
/// semantics and server defaults applied against `prior`, as the framework does.
pub fn read_task_constraints(
    m: Option<&TaskConstraints>,
    prior: Option<&TaskConstraintsModel>,
) -> Option<TaskConstraintsModel> {
    let block = task_constraints_block("task", "");
    let ty = block.value_type();
    let mut v = to_value(&flatten_task_constraints(m, prior), &ty).unwrap_or(Value::Null);
    let p = to_value(&prior, &ty).unwrap_or(Value::Null);
    tfplugin::framework::normalize_read(&block, &p, &mut v);
    tfplugin::model::from_value(&v).unwrap_or_default()
}

/// The constraints of an imported task (no prior to normalise against): None when they are all
/// Batch's defaults (no limit, 7 days' retention, no retries), otherwise every limit as the task
/// has it.
pub fn flatten_imported_task_constraints(
    m: Option<&TaskConstraints>,
) -> Option<TaskConstraintsModel> {
    let m = m?;
    let wall = m
        .max_wall_clock_time
        .as_deref()
        .filter(|w| !is_unlimited(w));
    let retention = m.retention_time.as_deref();
    let retries = m.max_task_retry_count.unwrap_or(0);
    let default_retention = retention.is_none_or(|r| same_duration(r, DEFAULT_RETENTION));
    if wall.is_none() && default_retention && retries == 0 {
        return None;
    }
    Some(TaskConstraintsModel {
        max_wall_clock_time: wall.map(str::to_string),
        retention_time: retention.map(str::to_string),
        max_task_retry_count: Some(retries as i64),
    })
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

    fn remote(w: Option<&str>, r: Option<&str>, n: Option<i32>) -> TaskConstraints {
        TaskConstraints {
            max_wall_clock_time: w.map(str::to_string),
            retention_time: r.map(str::to_string),
            max_task_retry_count: n,
        }
    }

    fn model(w: Option<&str>, r: Option<&str>, n: Option<i64>) -> TaskConstraintsModel {
        TaskConstraintsModel {
            max_wall_clock_time: w.map(str::to_string),
            retention_time: r.map(str::to_string),
            max_task_retry_count: n,
        }
    }

    #[test]
    fn model_covers_schema() {
        tfplugin::model::check_round_trip::<TaskConstraintsModel>(
            &task_constraints_block("task", "").value_type(),
        )
        .unwrap();
    }

    #[test]
    fn flatten_table() {
        let p1 = model(Some("PT60M"), None, Some(1));
        let p0 = model(None, None, Some(0));
        let cases: Vec<(
            Option<TaskConstraints>,
            Option<&TaskConstraintsModel>,
            Option<TaskConstraintsModel>,
        )> = vec![
            (None, Some(&p1), None),
            // All Batch's defaults, unset by the user.
            (
                Some(remote(Some(UNLIMITED_DURATION), Some("P7D"), Some(2))),
                None,
                None,
            ),
            // Same durations in another spelling keep the user's.
            (
                Some(remote(Some("PT1H"), Some("P7D"), Some(1))),
                Some(&p1),
                Some(p1.clone()),
            ),
            // A retry count Batch took from the job stays unset.
            (
                Some(remote(Some("PT2H"), Some("P7D"), Some(3))),
                None,
                Some(model(Some("PT2H"), None, None)),
            ),
            (
                Some(remote(None, Some("P1D"), Some(0))),
                Some(&p0),
                Some(model(None, Some("P1D"), Some(0))),
            ),
        ];
        for (r, prior, want) in cases {
            assert_eq!(
                read_task_constraints(r.as_ref(), prior),
                want,
                "{r:?} {prior:?}"
            );
        }
        // flatten alone reports Batch's values: the semantics keep the user's spelling.
        let raw = flatten_task_constraints(Some(&remote(Some("PT1H"), None, Some(1))), Some(&p1));
        assert_eq!(raw, Some(model(Some("PT1H"), None, Some(1))));
    }

    #[test]
    fn imported_table() {
        assert_eq!(flatten_imported_task_constraints(None), None);
        assert_eq!(
            flatten_imported_task_constraints(Some(&remote(
                Some(UNLIMITED_DURATION),
                Some("PT168H"),
                Some(0)
            ))),
            None
        );
        assert_eq!(
            flatten_imported_task_constraints(Some(&remote(
                Some(UNLIMITED_DURATION),
                Some("P7D"),
                Some(2)
            ))),
            Some(model(None, Some("P7D"), Some(2)))
        );
        assert_eq!(
            flatten_imported_task_constraints(Some(&remote(Some("PT1H"), None, None))),
            Some(model(Some("PT1H"), None, Some(0)))
        );
    }

    #[test]
    fn replacing_update_fills_defaults() {
        let c = expand_task_constraints_replacing(None, || Some(4));
        assert_eq!(c, remote(Some(UNLIMITED_DURATION), Some("P7D"), Some(4)));
        let c =
            expand_task_constraints_replacing(Some(&model(Some("PT1H"), None, Some(1))), || {
                panic!("the job is not asked when the task sets a retry count")
            });
        assert_eq!(c, remote(Some("PT1H"), Some("P7D"), Some(1)));
        assert_eq!(
            expand_task_constraints_replacing(None, || None).max_task_retry_count,
            Some(0)
        );
    }
}
