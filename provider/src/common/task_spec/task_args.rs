//! Every argument of a container task as one model ([`TaskArgs`], field names = attribute
//! names), with its Task_Add mapping both ways. `batch_container_task` holds these as its own
//! attributes and blocks; `batch_container_task_collection` holds one per map entry.

use batch_client::models::{CloudTask, TaskAddParameter};
use serde::{Deserialize, Serialize};

use super::task_parts::{
    DependenciesModel, ExitConditionsModel, MultiInstanceModel, OutputFileModel,
};
use super::task_parts_map::{
    expand_dependencies, expand_exit_conditions, expand_multi_instance, expand_output_files,
    flatten_dependencies, flatten_exit_conditions, flatten_multi_instance, flatten_output_files,
};
use super::{
    Environment, ResourceFileModel, TaskConstraintsModel, TaskContainerModel, UserIdentityModel,
    expand_environment, expand_resource_files, expand_task_constraints, expand_task_container,
    expand_user_identity, flatten_environment, flatten_resource_files, flatten_task_constraints,
    flatten_task_container, flatten_user_identity,
};

/// The arguments of one container task. Lists are `None` when unset (a collection's nested
/// attributes are null then; a task's blocks are empty lists).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskArgs {
    pub display_name: Option<String>,
    /// Defaults to "" in plan; null only in a freshly imported state.
    pub command_line: Option<String>,
    pub environment: Environment,
    pub required_slots: Option<i64>,
    pub container: Option<TaskContainerModel>,
    pub resource_file: Option<Vec<ResourceFileModel>>,
    pub output_file: Option<Vec<OutputFileModel>>,
    pub constraints: Option<TaskConstraintsModel>,
    pub user_identity: Option<UserIdentityModel>,
    pub dependencies: Option<DependenciesModel>,
    pub multi_instance: Option<MultiInstanceModel>,
    pub exit_conditions: Option<ExitConditionsModel>,
}

impl TaskArgs {
    /// The arguments but `constraints`, the one part Task_Update changes in place.
    pub fn without_constraints(&self) -> TaskArgs {
        TaskArgs {
            constraints: None,
            ..self.clone()
        }
    }
}

fn slice<T>(l: &Option<Vec<T>>) -> &[T] {
    l.as_deref().unwrap_or_default()
}

fn non_empty<T>(l: Vec<T>) -> Option<Vec<T>> {
    (!l.is_empty()).then_some(l)
}

/// The Task_Add body of task `name`. `config_container` is the configuration's container (it
/// carries the write-only registry password, which plans and state never hold).
pub fn expand_task_args(
    name: &str,
    a: &TaskArgs,
    config_container: Option<&TaskContainerModel>,
) -> TaskAddParameter {
    TaskAddParameter {
        id: name.to_string(),
        display_name: a.display_name.clone(),
        // Sent even when empty: "" makes Batch run the image's ENTRYPOINT.
        command_line: a.command_line.clone().unwrap_or_default(),
        container_settings: a
            .container
            .as_ref()
            .map(|c| expand_task_container(c, config_container)),
        resource_files: expand_resource_files(slice(&a.resource_file)),
        output_files: expand_output_files(slice(&a.output_file)),
        environment_settings: expand_environment(&a.environment),
        constraints: a.constraints.as_ref().map(expand_task_constraints),
        required_slots: a.required_slots.map(|n| n as i32),
        user_identity: a.user_identity.as_ref().map(expand_user_identity),
        multi_instance_settings: a.multi_instance.as_ref().map(expand_multi_instance),
        depends_on: a.dependencies.as_ref().map(expand_dependencies),
        exit_conditions: a.exit_conditions.as_ref().map(expand_exit_conditions),
        ..Default::default()
    }
}

/// The arguments of a task as Batch reports it; `prior` (None on import) decides whether parts
/// the user left out appear.
pub fn flatten_task_args(t: &CloudTask, prior: Option<&TaskArgs>) -> TaskArgs {
    let dependencies = t
        .depends_on
        .as_ref()
        .filter(|d| {
            d.task_ids.as_ref().is_some_and(|l| !l.is_empty())
                || d.task_id_ranges.as_ref().is_some_and(|l| !l.is_empty())
                || prior.is_some_and(|p| p.dependencies.is_some())
        })
        .map(|d| flatten_dependencies(d, prior.and_then(|p| p.dependencies.as_ref())));
    TaskArgs {
        display_name: t.display_name.clone(),
        command_line: Some(t.command_line.clone().unwrap_or_default()),
        environment: flatten_environment(
            t.environment_settings.as_ref(),
            prior.and_then(|p| p.environment.as_ref()),
        ),
        required_slots: Some(t.required_slots.unwrap_or(1) as i64),
        container: t
            .container_settings
            .as_ref()
            .map(|c| flatten_task_container(c, prior.and_then(|p| p.container.as_ref()))),
        resource_file: non_empty(flatten_resource_files(t.resource_files.as_ref())),
        output_file: non_empty(flatten_output_files(
            t.output_files.as_ref(),
            prior.map(|p| slice(&p.output_file)).unwrap_or_default(),
        )),
        constraints: flatten_task_constraints(
            t.constraints.as_ref(),
            prior.and_then(|p| p.constraints.as_ref()),
        ),
        user_identity: flatten_user_identity(
            t.user_identity.as_ref(),
            prior.and_then(|p| p.user_identity.as_ref()),
        ),
        dependencies,
        multi_instance: t
            .multi_instance_settings
            .as_ref()
            .map(flatten_multi_instance),
        exit_conditions: flatten_exit_conditions(
            t.exit_conditions.as_ref(),
            prior.and_then(|p| p.exit_conditions.as_ref()),
        ),
    }
}
