//! Batch -> Terraform: the job as Batch reports it, written into the model. Server defaults the
//! user left unset stay null; values that mean the same as the prior state keep its spelling.

use std::collections::BTreeMap;

use batch_client::models::{CloudJob, JobConstraints, MetadataItem};
use tfplugin::Value;
use tfplugin::model::Tf;

use super::model::{JobConstraintsModel, JobModel};

/// What the service returns for an unset duration: .NET's TimeSpan.MaxValue.
pub(crate) const UNLIMITED_DURATION: &str = "P10675199DT2H48M5.4775807S";

/// Seconds of an ISO 8601 duration, if it parses.
fn duration_secs(s: &str) -> Option<f64> {
    tfplugin::validators::parse_iso8601_duration(s)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// True for the "no limit" value the service reports (about 29,000 years).
pub(crate) fn is_unlimited(s: &str) -> bool {
    duration_secs(s).is_some_and(|v| v >= 10_675_199.0 * 86_400.0)
}

/// A duration as state: the prior spelling when it means the same length of time (the service
/// may rewrite `PT60M` as `PT1H`), None when the user left it unset and the service reports
/// `server_default` (or "unlimited").
pub fn flatten_duration(
    remote: Option<&str>,
    prior: Option<&str>,
    server_default: Option<&str>,
) -> Option<String> {
    let r = remote?;
    let same = |a: &str, b: &str| match (duration_secs(a), duration_secs(b)) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-3,
        _ => a == b,
    };
    match prior {
        Some(p) if same(p, r) => Some(p.to_string()),
        None if is_unlimited(r) || server_default.is_some_and(|d| same(d, r)) => None,
        _ => Some(r.to_string()),
    }
}

/// [`flatten_duration`] on values, for the resources not yet on typed models.
pub(crate) fn duration_from_model(
    remote: Option<&str>,
    prior: &Value,
    server_default: Option<&str>,
) -> Value {
    if prior.is_unknown() {
        return Value::opt_string(remote.map(str::to_string));
    }
    Value::opt_string(flatten_duration(remote, prior.as_str(), server_default))
}

/// Batch ids compare case-insensitively: keep the prior spelling when it names the same thing.
fn keep_prior_case(remote: String, prior: Option<&str>) -> String {
    match prior {
        Some(p) if p.eq_ignore_ascii_case(&remote) => p.to_string(),
        _ => remote,
    }
}

/// The constraints block: null when the user had none and Batch reports its defaults (no wall
/// clock limit, no retries).
pub fn flatten_constraints(
    m: Option<&JobConstraints>,
    prior: Option<&JobConstraintsModel>,
) -> Option<JobConstraintsModel> {
    let Some(m) = m else {
        return prior.map(|_| JobConstraintsModel::default());
    };
    let max_wall_clock_time = flatten_duration(
        m.max_wall_clock_time.as_deref(),
        prior.and_then(|p| p.max_wall_clock_time.as_deref()),
        None,
    );
    let max_task_retry_count = match (
        m.max_task_retry_count,
        prior.and_then(|p| p.max_task_retry_count),
    ) {
        (Some(0), None) | (None, _) => None,
        (Some(n), _) => Some(n as i64),
    };
    let c = JobConstraintsModel {
        max_wall_clock_time,
        max_task_retry_count,
    };
    if prior.is_none() && c == JobConstraintsModel::default() {
        return None;
    }
    Some(c)
}

/// Metadata as a map: null when Batch has none and the prior value was null.
pub fn flatten_metadata(
    m: Option<&Vec<MetadataItem>>,
    prior: Option<&BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    match m {
        Some(list) if !list.is_empty() => Some(
            list.iter()
                .map(|e| (e.name.clone(), e.value.clone()))
                .collect(),
        ),
        _ => prior.map(|_| BTreeMap::new()),
    }
}

/// A Batch enum value in our lower-case spelling, `default` when Batch omits it.
fn flatten_enum(v: Option<&String>, default: &str) -> String {
    v.map_or(default, |s| s.as_str()).to_ascii_lowercase()
}

/// The job as state, normalised against `prior` (the default model on import). The
/// preparation and release tasks are flattened by `tasks`; `timeouts` is configuration and
/// comes from `prior`.
pub fn flatten_job(job: &CloudJob, prior: &JobModel) -> JobModel {
    let name = keep_prior_case(
        job.id.clone().unwrap_or_default(),
        prior.name.known().map(String::as_str),
    );
    let pool = job
        .pool_info
        .as_ref()
        .and_then(|p| p.pool_id.clone())
        .unwrap_or_default();
    JobModel {
        id: Tf::Known(name.clone()),
        name: Tf::Known(name),
        display_name: job.display_name.clone(),
        pool_id: Some(keep_prior_case(pool, prior.pool_id.as_deref())),
        priority: Some(job.priority.unwrap_or(0) as i64),
        max_parallel_tasks: Some(job.max_parallel_tasks.unwrap_or(-1) as i64),
        uses_task_dependencies: Some(job.uses_task_dependencies.unwrap_or(false)),
        on_all_tasks_complete: Some(flatten_enum(job.on_all_tasks_complete.as_ref(), "noaction")),
        on_task_failure: Some(flatten_enum(job.on_task_failure.as_ref(), "noaction")),
        metadata: flatten_metadata(job.metadata.as_ref(), prior.metadata.as_ref()),
        state: job.state.clone().into(),
        constraints: flatten_constraints(job.constraints.as_ref(), prior.constraints.as_ref()),
        timeouts: prior.timeouts.clone(),
    }
}
