//! The `batch_job_schedule` resource as Rust types: one field per Terraform attribute (field
//! names are the attribute names), read from and written to plan and state with
//! `tfplugin::model`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfplugin::model::Tf;

pub(crate) use crate::common::attr;
pub use crate::common::job_spec::JobConstraintsModel;
pub use crate::common::job_tasks::{PreparationTaskModel, ReleaseTaskModel};
use crate::common::manager_task::ManagerTaskModel;
use crate::common::task_spec::Environment;
pub use crate::common::{Op, Timeouts};

/// A `batch_job_schedule`: configuration, plan and state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobScheduleModel {
    pub id: Tf<String>,
    pub name: Tf<String>,
    pub display_name: Option<String>,
    pub schedule: Option<ScheduleModel>,
    pub job: Option<JobSpecModel>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub state: Tf<String>,
    pub next_run_time: Tf<String>,
    pub recent_job_id: Tf<String>,
    pub timeouts: Option<Timeouts>,
}

/// The `schedule` block: when Batch makes the jobs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScheduleModel {
    pub recurrence_interval: Option<String>,
    pub do_not_run_until: Option<String>,
    pub do_not_run_after: Option<String>,
    pub start_window: Option<String>,
}

/// The `job` block: the job Batch makes at each run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobSpecModel {
    pub pool_id: String,
    pub display_name: Option<String>,
    pub priority: Option<i64>,
    pub max_parallel_tasks: Option<i64>,
    pub uses_task_dependencies: Option<bool>,
    pub on_all_tasks_complete: Option<String>,
    pub on_task_failure: Option<String>,
    pub environment: Environment,
    pub metadata: Option<BTreeMap<String, String>>,
    pub constraints: Option<JobConstraintsModel>,
    pub manager_task: Option<ManagerTaskModel>,
    pub preparation_task: Option<PreparationTaskModel>,
    pub release_task: Option<ReleaseTaskModel>,
}

impl JobScheduleModel {
    /// The schedule's name (its id in Batch), or "" while unknown.
    pub fn schedule_name(&self) -> String {
        self.name
            .known()
            .or(self.id.known())
            .cloned()
            .unwrap_or_default()
    }

    /// The instant `timeouts.<op>` from now (`default` when unset).
    pub fn deadline(&self, op: Op, default: std::time::Duration) -> tokio::time::Instant {
        Timeouts::deadline(self.timeouts.as_ref(), op, default)
    }
}
