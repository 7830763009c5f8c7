//! The `batch_job` resource as Rust types: one field per Terraform attribute, read from and
//! written to plan and state with `tfplugin::model` (field names are the attribute names).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfplugin::model::Tf;

pub use crate::common::job_spec::JobConstraintsModel;
pub use crate::common::job_tasks::{PreparationTaskModel, ReleaseTaskModel};
use crate::common::manager_task::ManagerTaskModel;
pub use crate::common::{Op, Timeouts};

pub(crate) use crate::common::attr;

/// The path of a top-level attribute of the job (`job_path!(pool_id)`).
macro_rules! job_path {
    ($field:ident) => {
        tfplugin::AttrPath::attr($crate::resources::job::model::attr!(
            $crate::resources::job::model::JobModel,
            $field
        ))
    };
}
pub(crate) use job_path;

/// A `batch_job`: configuration, plan and state. Attributes that can be unknown while planning
/// and that plan-time code must tell apart from null are [`Tf`]; the rest read unknown as `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobModel {
    pub id: Tf<String>,
    pub name: Tf<String>,
    pub display_name: Option<String>,
    pub pool_id: Option<String>,
    pub priority: Option<i64>,
    pub max_parallel_tasks: Option<i64>,
    pub uses_task_dependencies: Option<bool>,
    pub on_all_tasks_complete: Option<String>,
    pub on_task_failure: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub state: Tf<String>,
    pub constraints: Option<JobConstraintsModel>,
    pub preparation_task: Option<PreparationTaskModel>,
    pub release_task: Option<ReleaseTaskModel>,
    pub manager_task: Option<ManagerTaskModel>,
    pub timeouts: Option<Timeouts>,
}

impl JobModel {
    /// The job's name (its id in Batch), or "" while unknown.
    pub fn job_name(&self) -> String {
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
