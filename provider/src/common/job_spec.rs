//! What jobs and job schedules share at the job level: the `constraints` block and metadata,
//! with their `expand_*`/`flatten_*` pairs.

use std::collections::BTreeMap;

use batch_client::models::{JobConstraints, MetadataItem};
use serde::{Deserialize, Serialize};
use tfplugin::Value;
use tfplugin::schema::{Attribute, Block};
use tfplugin::semantics::SameIsoDuration;
use tfplugin::validators::{IntBetween, Iso8601Duration};

use super::task_spec::{UNLIMITED_DURATION, is_unlimited};

/// The `constraints` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobConstraintsModel {
    pub max_wall_clock_time: Option<String>,
    pub max_task_retry_count: Option<i64>,
}

/// The `constraints` block of a job (or of the jobs a schedule makes); `description` says how
/// changes apply.
pub fn job_constraints_block(description: &str) -> Block {
    Block::new(description)
        .attr(
            Attribute::string("max_wall_clock_time")
                .optional()
                .semantics(SameIsoDuration)
                .server_default(Value::string(UNLIMITED_DURATION))
                .validate(Iso8601Duration)
                .description("Longest time the job may run, from its creation, as an ISO 8601 duration such as `PT2H`. When it passes, Batch terminates the job and its running tasks. Default: no limit."),
        )
        .attr(
            Attribute::number("max_task_retry_count")
                .optional()
                .server_default(Value::int(0))
                .validate(IntBetween(-1, 100_000))
                .description("How often Batch retries a task of this job whose exit code is nonzero (tasks can override it). `-1` retries without limit. Default `0`."),
        )
}

/// The constraints block as Batch takes it (None when the block is absent).
pub fn expand_constraints(c: Option<&JobConstraintsModel>) -> Option<JobConstraints> {
    c.map(|c| JobConstraints {
        max_wall_clock_time: c.max_wall_clock_time.clone(),
        max_task_retry_count: c.max_task_retry_count.map(|n| n as i32),
    })
}

/// Metadata items (None when the attribute is null; an empty map is an empty list).
pub fn expand_metadata(m: Option<&BTreeMap<String, String>>) -> Option<Vec<MetadataItem>> {
    m.map(|m| {
        m.iter()
            .map(|(name, value)| MetadataItem {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    })
}

/// The constraints block. Spelling and per-attribute server defaults are the framework's
/// (declared `SameIsoDuration`/`server_default` in the schema); here only the block itself: no
/// block when the user had none and Batch reports nothing but its defaults.
pub fn flatten_constraints(
    m: Option<&JobConstraints>,
    prior: Option<&JobConstraintsModel>,
) -> Option<JobConstraintsModel> {
    let Some(m) = m else {
        return prior.map(|_| JobConstraintsModel::default());
    };
    let defaults = m.max_wall_clock_time.as_deref().is_none_or(is_unlimited)
        && m.max_task_retry_count.is_none_or(|n| n == 0);
    if prior.is_none() && defaults {
        return None;
    }
    Some(JobConstraintsModel {
        max_wall_clock_time: m.max_wall_clock_time.clone(),
        max_task_retry_count: m.max_task_retry_count.map(i64::from),
    })
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
