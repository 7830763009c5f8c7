//! Batch -> Terraform: a task as state, normalised against the prior state so that server
//! defaults the user left unset stay unset and the service's spellings do not show as changes.

use batch_client::models::CloudTask;
use tfplugin::model::Tf;

use super::model::{RunModel, TaskModel};
use crate::common::task_spec::task_args::flatten_task_args;

/// The task as state. `prior` is the state before (None on a first read).
pub fn flatten_task(t: &CloudTask, job_id: &str, prior: Option<&TaskModel>) -> TaskModel {
    let tid = t.id.clone().unwrap_or_default();
    // Ids are case-insensitive in Batch: keep the user's spelling.
    let name = match prior.map(|p| p.name.as_str()) {
        Some(p) if p.eq_ignore_ascii_case(&tid) => p.to_string(),
        _ => tid,
    };
    let mut m = TaskModel {
        id: Tf::Known(format!("{job_id}/{name}")),
        job_id: job_id.to_string(),
        name,
        wait_for_completion: Some(prior.and_then(|p| p.wait_for_completion).unwrap_or(false)),
        timeouts: prior.and_then(|p| p.timeouts.clone()),
        ..Default::default()
    };
    m.set_args(flatten_task_args(t, prior.map(TaskModel::args).as_ref()));
    m.set_run(flatten_run(t));
    m
}

/// The computed run attributes of a task.
pub fn flatten_run(t: &CloudTask) -> RunModel {
    let ei = t.execution_info.clone().unwrap_or_default();
    RunModel {
        state: t.state.clone().into(),
        exit_code: ei.exit_code.map(i64::from).into(),
        result: ei.result.clone().into(),
        node_id: t.node_info.as_ref().and_then(|n| n.node_id.clone()).into(),
        start_time: ei.start_time.clone().into(),
        end_time: ei.end_time.clone().into(),
        retry_count: Tf::Known(ei.retry_count as i64),
    }
}
