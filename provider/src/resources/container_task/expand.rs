//! Terraform -> Batch: the task model as Task_Add takes it (the arguments' mapping lives in
//! `common::task_spec::task_args`).

use batch_client::models::TaskAddParameter;

use super::model::{TaskConfig, TaskModel};
use crate::common::task_spec::task_args::expand_task_args;
#[cfg(test)]
pub use crate::common::task_spec::task_parts_map::*;

/// The Task_Add body. `config` carries the write-only registry password.
pub fn expand_task(m: &TaskModel, config: &TaskConfig) -> TaskAddParameter {
    expand_task_args(&m.name, &m.args(), config.container.as_ref())
}
