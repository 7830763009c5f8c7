//! The typed model of `batch_container_task_collection` (field names = attribute names) and the
//! few places the tasks map is handled as a value: a plan's entries may hold unknowns, and state
//! keeps each entry exactly as planned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfplugin::Value;
use tfplugin::model::{Tf, from_value};

use crate::common::Timeouts;
use crate::common::task_spec::TaskContainerModel;
use crate::common::task_spec::task_args::TaskArgs;
use crate::common::task_spec::task_parts::TaskCheck;

/// The resource as state (everything known).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectionModel {
    pub id: Tf<String>,
    pub job_id: String,
    pub tasks: Option<BTreeMap<String, TaskArgs>>,
    pub wait_for_completion: Option<bool>,
    pub results: Option<BTreeMap<String, ResultModel>>,
    pub timeouts: Option<Timeouts>,
}

impl CollectionModel {
    pub fn waits(&self) -> bool {
        self.wait_for_completion == Some(true)
    }
}

/// One task's run as Batch last reported it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultModel {
    pub state: Tf<String>,
    pub exit_code: Tf<i64>,
    pub result: Tf<String>,
}

impl ResultModel {
    /// All unknown: the task is (re)added by this apply.
    pub fn unknown() -> Self {
        ResultModel {
            state: Tf::Unknown,
            exit_code: Tf::Unknown,
            result: Tf::Unknown,
        }
    }
    pub fn failed(&self) -> bool {
        self.result
            .known()
            .is_some_and(|r| r.eq_ignore_ascii_case("failure"))
    }
    pub fn completed(&self) -> bool {
        self.state
            .known()
            .is_some_and(|s| s.eq_ignore_ascii_case("completed"))
    }
}

/// What a plan decides besides the tasks: the id and the results (a patch of the plan).
#[derive(Debug, Serialize)]
pub struct PlanPatch {
    pub id: Tf<String>,
    pub results: Tf<BTreeMap<String, ResultModel>>,
}

/// The state's tasks, written on import (typed: lists left out are null, as in configuration).
#[derive(Debug, Serialize)]
pub struct TasksPatch {
    pub tasks: BTreeMap<String, TaskArgs>,
}

/// The parts of a plan that may be unknown.
#[derive(Debug, Deserialize)]
pub struct PlanView {
    pub job_id: Tf<String>,
    pub wait_for_completion: Tf<bool>,
}

/// Only what adding needs from the configuration: each task's container, which carries the
/// write-only registry password.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigModel {
    pub tasks: Option<BTreeMap<String, ConfigTask>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfigTask {
    pub container: Option<TaskContainerModel>,
}

/// The configuration view for validation.
#[derive(Deserialize)]
pub struct CollectionCheck {
    pub tasks: Tf<BTreeMap<String, TaskCheck>>,
}

/// The tasks map of a plan or state value: per name, the arguments, or None while an entry
/// still holds unknown values. Unknown as a whole while the map is.
pub fn task_entries(v: &Value) -> Tf<BTreeMap<String, Option<TaskArgs>>> {
    let tasks = v.get("tasks");
    if tasks.is_unknown() {
        return Tf::Unknown;
    }
    match tasks.as_map() {
        None => Tf::Null,
        Some(m) => Tf::Known(
            m.iter()
                .map(|(k, e)| (k.clone(), from_value::<TaskArgs>(e).ok()))
                .collect(),
        ),
    }
}

/// Keeps only the tasks `keep` accepts in the value's tasks map (state after a partial apply or
/// a read that found tasks gone); each kept entry stays exactly as it was.
pub fn retain_tasks(v: &mut Value, keep: impl Fn(&str) -> bool) {
    if let Value::Object(o) = v
        && let Some(m) = o.get_mut("tasks").and_then(Value::as_map_mut)
    {
        m.retain(|k, _| keep(k));
    }
}
