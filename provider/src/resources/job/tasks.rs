//! The job's preparation and release tasks, still on values until the shared task spec
//! (common/task_spec) gives them typed models.

use batch_client::models::{CloudJob, JobAddParameter, JobPreparationTask, JobReleaseTask};
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::container::{
    task_container_from_model, task_container_to_model, validate_task_container,
};
use crate::common::{env_from_model, env_to_model};
use crate::resources::container_task::{user_identity_from_model, user_identity_to_model};

const PREPARATION_TASK: &str = "preparation_task";
const RELEASE_TASK: &str = "release_task";
const CONTAINER: &str = "container";

fn prep_to_model(planned: &Value, config: &Value) -> JobPreparationTask {
    JobPreparationTask {
        command_line: planned
            .get_str("command_line")
            .unwrap_or_default()
            .to_string(),
        container_settings: planned.get_block("container").map(|c| {
            task_container_to_model(c, config.get_block("container").unwrap_or(&Value::Null))
        }),
        environment_settings: env_to_model(planned.get("environment")),
        wait_for_success: planned.get_bool("wait_for_success"),
        rerun_on_node_reboot_after_success: planned.get_bool("rerun_on_node_reboot_after_success"),
        user_identity: planned
            .get_block("user_identity")
            .map(user_identity_to_model),
        ..Default::default()
    }
}

fn release_to_model(planned: &Value, config: &Value) -> JobReleaseTask {
    JobReleaseTask {
        command_line: planned
            .get_str("command_line")
            .unwrap_or_default()
            .to_string(),
        container_settings: planned.get_block("container").map(|c| {
            task_container_to_model(c, config.get_block("container").unwrap_or(&Value::Null))
        }),
        environment_settings: env_to_model(planned.get("environment")),
        user_identity: planned
            .get_block("user_identity")
            .map(user_identity_to_model),
        ..Default::default()
    }
}

fn prep_from_model(m: &JobPreparationTask, prior: &Value) -> Value {
    Value::object([
        ("command_line", Value::string(m.command_line.clone())),
        (
            "environment",
            env_from_model(m.environment_settings.as_ref(), prior.get("environment")),
        ),
        (
            "wait_for_success",
            Value::Bool(m.wait_for_success.unwrap_or(true)),
        ),
        (
            "rerun_on_node_reboot_after_success",
            Value::Bool(m.rerun_on_node_reboot_after_success.unwrap_or(true)),
        ),
        (
            "container",
            m.container_settings
                .as_ref()
                .map(|c| task_container_from_model(c, prior.get("container")))
                .unwrap_or(Value::Null),
        ),
        (
            "user_identity",
            user_identity_from_model(m.user_identity.as_ref(), prior.get("user_identity")),
        ),
    ])
}
fn release_from_model(m: &JobReleaseTask, prior: &Value) -> Value {
    Value::object([
        ("command_line", Value::string(m.command_line.clone())),
        (
            "environment",
            env_from_model(m.environment_settings.as_ref(), prior.get("environment")),
        ),
        (
            "container",
            m.container_settings
                .as_ref()
                .map(|c| task_container_from_model(c, prior.get("container")))
                .unwrap_or(Value::Null),
        ),
        (
            "user_identity",
            user_identity_from_model(m.user_identity.as_ref(), prior.get("user_identity")),
        ),
    ])
}

/// Adds the preparation and release tasks of the plan to a Job_Add body.
pub fn expand_tasks(body: &mut JobAddParameter, planned: &Value, config: &Value) {
    let cfg = |name: &str| config.get_block(name).unwrap_or(&Value::Null);
    body.job_preparation_task = planned
        .get_block(PREPARATION_TASK)
        .map(|t| prep_to_model(t, cfg(PREPARATION_TASK)));
    body.job_release_task = planned
        .get_block(RELEASE_TASK)
        .map(|t| release_to_model(t, cfg(RELEASE_TASK)));
}

/// Writes the job's preparation and release tasks into `state` (a job object).
pub fn flatten_tasks(job: &CloudJob, prior: &Value, state: &mut Value) {
    let prep = job
        .job_preparation_task
        .as_ref()
        .map(|p| prep_from_model(p, prior.get(PREPARATION_TASK)))
        .unwrap_or(Value::Null);
    let release = job
        .job_release_task
        .as_ref()
        .map(|r| release_from_model(r, prior.get(RELEASE_TASK)))
        .unwrap_or(Value::Null);
    state.set(PREPARATION_TASK, prep);
    state.set(RELEASE_TASK, release);
}

/// Copies the tasks of `from` (plan or prior state) into `to`.
pub fn copy_tasks(from: &Value, to: &mut Value) {
    to.set(PREPARATION_TASK, from.get(PREPARATION_TASK).clone());
    to.set(RELEASE_TASK, from.get(RELEASE_TASK).clone());
}

/// Registry rules of the tasks' containers, and a release task needs a preparation task.
pub fn validate_tasks(config: &Value, diags: &mut Diagnostics) {
    let root = AttrPath::root();
    for t in [PREPARATION_TASK, RELEASE_TASK] {
        if let Some(c) = config.get_block(t).and_then(|b| b.get_block(CONTAINER)) {
            validate_task_container(c, &root.child(t).child(CONTAINER), diags);
        }
    }
    let release = config.get(RELEASE_TASK);
    let prep = config.get(PREPARATION_TASK);
    if !release.is_null() && !release.is_unknown() && prep.is_null() {
        diags.attr_error(
            &root.child(RELEASE_TASK),
            "release_task needs a preparation_task",
            "Batch runs a job release task only on nodes where the job preparation task ran: add a preparation_task block (it may be as small as `command_line = \"/bin/true\"`).",
        );
    }
}
