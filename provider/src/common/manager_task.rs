//! The job manager task (`manager_task`): the task Batch starts with a job — each run of a
//! `batch_job_schedule`, or a `batch_job` — built on the shared task spec, plus its own
//! `name` and `kill_job_on_completion`. (Task constraints are left out for now: a job's
//! Batch errors name `maxTaskRetryCount` bare, and a second such property under the manager
//! would make that name ambiguous for the attribute mapping.)

use batch_client::models::JobManagerTask;
use serde::{Deserialize, Serialize};
use tfplugin::Value;
use tfplugin::schema::{Attribute, Block};

use super::task_spec::{
    Environment, ResourceFileModel, TaskContainerModel, TaskSpecSchema, expand_environment,
    expand_resource_files, expand_task_container, flatten_environment, flatten_resource_files,
    flatten_task_container,
};
use super::validators::BatchId;

/// The `manager_task` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManagerTaskModel {
    pub name: String,
    pub command_line: String,
    pub environment: Environment,
    pub container: Option<TaskContainerModel>,
    pub resource_file: Vec<ResourceFileModel>,
    pub kill_job_on_completion: Option<bool>,
}

/// The block's schema; `owner` says what the task belongs to and how changes apply.
pub fn manager_task_block(description: &str) -> Block {
    TaskSpecSchema::new("job manager task")
        .resource_files()
        .add_to(Block::new(description))
        .attr(
            Attribute::string("name")
                .required()
                .validate(BatchId)
                .description("The task id of the job manager in its job: 1 to 64 letters, digits, hyphens and underscores."),
        )
        .attr(
            Attribute::bool("kill_job_on_completion")
                .default(Value::Bool(true))
                .description("Whether the job completes when the job manager task completes (Batch then ends the job's other tasks). Default `true`, as in Batch."),
        )
}

/// Terraform -> Batch. `config` is the same block in the configuration (write-only registry
/// passwords live only there).
pub fn expand_manager_task(
    m: &ManagerTaskModel,
    config: Option<&ManagerTaskModel>,
) -> JobManagerTask {
    JobManagerTask {
        id: m.name.clone(),
        command_line: m.command_line.clone(),
        container_settings: m
            .container
            .as_ref()
            .map(|c| expand_task_container(c, config.and_then(|c| c.container.as_ref()))),
        resource_files: expand_resource_files(&m.resource_file),
        environment_settings: expand_environment(&m.environment),
        kill_job_on_completion: m.kill_job_on_completion,
        ..Default::default()
    }
}

/// Batch -> Terraform, normalised against the prior block.
pub fn flatten_manager_task(
    t: &JobManagerTask,
    prior: Option<&ManagerTaskModel>,
) -> ManagerTaskModel {
    ManagerTaskModel {
        name: t.id.clone(),
        command_line: t.command_line.clone(),
        environment: flatten_environment(
            t.environment_settings.as_ref(),
            prior.and_then(|p| p.environment.as_ref()),
        ),
        container: t
            .container_settings
            .as_ref()
            .map(|c| flatten_task_container(c, prior.and_then(|p| p.container.as_ref()))),
        resource_file: flatten_resource_files(t.resource_files.as_ref()),
        kill_job_on_completion: Some(t.kill_job_on_completion.unwrap_or(true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use batch_client::models::{EnvironmentSetting, TaskContainerSettings};
    use std::collections::BTreeMap;

    fn model() -> ManagerTaskModel {
        ManagerTaskModel {
            name: "report".into(),
            command_line: "python report.py".into(),
            environment: Some(BTreeMap::from([("STAGE".into(), "prod".into())])),
            container: Some(TaskContainerModel {
                image_name: "myregistry.azurecr.io/report:3".into(),
                // As planned: the attribute's default.
                working_directory: Some("taskWorkingDirectory".into()),
                ..Default::default()
            }),
            kill_job_on_completion: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn expand_and_flatten_are_inverse() {
        let m = model();
        let wire = expand_manager_task(&m, None);
        assert_eq!(wire.id, "report");
        assert_eq!(wire.kill_job_on_completion, Some(true));
        assert_eq!(
            wire.container_settings
                .as_ref()
                .map(|c| c.image_name.as_str()),
            Some("myregistry.azurecr.io/report:3")
        );
        assert_eq!(
            wire.environment_settings,
            Some(vec![EnvironmentSetting {
                name: "STAGE".into(),
                value: Some("prod".into())
            }])
        );
        assert!(wire.resource_files.is_none());
        // What the framework keeps after read (the container's server default left unset).
        let block = manager_task_block("");
        let read = crate::common::task_spec::normalized_read(
            &block,
            Some(&m),
            flatten_manager_task(&wire, Some(&m)),
        );
        assert_eq!(read, m);
    }

    #[test]
    fn flatten_fills_the_batch_default_of_kill_job_on_completion() {
        let t = JobManagerTask {
            id: "m".into(),
            command_line: "true".into(),
            container_settings: Some(TaskContainerSettings {
                image_name: "alpine".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = flatten_manager_task(&t, None);
        assert_eq!(m.kill_job_on_completion, Some(true));
        assert_eq!(m.environment, None);
        assert!(m.resource_file.is_empty());
    }
}
