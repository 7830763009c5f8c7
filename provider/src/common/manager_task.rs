//! The job manager task (`manager_task`): the task Batch starts with a job — each run of a
//! `batch_job_schedule`, or a `batch_job` — built on the shared task spec (with output files
//! and constraints as `batch_container_task` has them), plus its own `name` and
//! `kill_job_on_completion`. Its `constraints.maxTaskRetryCount` sits beside the job's: Batch
//! errors naming it bare are told apart by the value sent
//! ([`super::wire_paths::WirePaths::error_path`]).

use batch_client::models::{JobManagerTask, TaskConstraints};
use serde::{Deserialize, Serialize};
use tfplugin::Value;
use tfplugin::schema::{Attribute, Block, NestedBlock};

use super::task_spec::task_parts::{OutputFileModel, output_file_block};
use super::task_spec::task_parts_map::{expand_output_files, flatten_output_files};
use super::task_spec::{
    Environment, ResourceFileModel, TaskConstraintsModel, TaskContainerModel, TaskSpecSchema,
    expand_environment, expand_resource_files, expand_task_constraints, expand_task_container,
    flatten_environment, flatten_resource_files, flatten_task_constraints, flatten_task_container,
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
    pub output_file: Vec<OutputFileModel>,
    pub constraints: Option<TaskConstraintsModel>,
    pub kill_job_on_completion: Option<bool>,
}

/// The block's schema; `owner` says what the task belongs to and how changes apply.
pub fn manager_task_block(description: &str) -> Block {
    TaskSpecSchema::new("job manager task")
        .resource_files()
        .constraints("")
        .add_to(Block::new(description))
        .block(NestedBlock::list("output_file", output_file_block()))
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
        output_files: expand_output_files(&m.output_file),
        environment_settings: expand_environment(&m.environment),
        constraints: m.constraints.as_ref().map(expand_task_constraints),
        kill_job_on_completion: m.kill_job_on_completion,
        ..Default::default()
    }
}

/// The manager's constraints: as a task's ([`flatten_task_constraints`]), and a retry count
/// other than `job_retries` (the job's, which Batch fills in) is the manager's own even without
/// a prior block (on import).
fn flatten_manager_constraints(
    c: Option<&TaskConstraints>,
    prior: Option<&TaskConstraintsModel>,
    job_retries: i32,
) -> Option<TaskConstraintsModel> {
    let mut out = flatten_task_constraints(c, prior);
    if let Some(n) = c
        .and_then(|c| c.max_task_retry_count)
        .filter(|n| *n != job_retries)
    {
        out.get_or_insert_with(Default::default)
            .max_task_retry_count = Some(i64::from(n));
    }
    out
}

/// Batch -> Terraform, normalised against the prior block. `job_retries` is the job's
/// `constraints.maxTaskRetryCount` (Batch's default for the manager's).
pub fn flatten_manager_task(
    t: &JobManagerTask,
    prior: Option<&ManagerTaskModel>,
    job_retries: Option<i32>,
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
        output_file: flatten_output_files(
            t.output_files.as_ref(),
            prior.map(|p| p.output_file.as_slice()).unwrap_or_default(),
        ),
        constraints: flatten_manager_constraints(
            t.constraints.as_ref(),
            prior.and_then(|p| p.constraints.as_ref()),
            job_retries.unwrap_or(0),
        ),
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
            flatten_manager_task(&wire, Some(&m), None),
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
        let m = flatten_manager_task(&t, None, None);
        assert_eq!(m.kill_job_on_completion, Some(true));
        assert_eq!(m.environment, None);
        assert!(m.resource_file.is_empty());
    }

    #[test]
    fn output_files_and_constraints_go_to_batch_and_read_back() {
        use super::super::task_spec::task_parts::OutputFileModel;
        let m = ManagerTaskModel {
            output_file: vec![OutputFileModel {
                file_pattern: "out.txt".into(),
                container_url: "https://a.blob.core.windows.net/c?sas".into(),
                upload_condition: Some("tasksuccess".into()),
                ..Default::default()
            }],
            constraints: Some(TaskConstraintsModel {
                max_wall_clock_time: Some("PT1H".into()),
                retention_time: None,
                max_task_retry_count: Some(1),
            }),
            ..model()
        };
        let wire = expand_manager_task(&m, None);
        let out = &wire.output_files.as_ref().unwrap()[0];
        assert_eq!(out.upload_options.upload_condition, "tasksuccess");
        let c = wire.constraints.as_ref().unwrap();
        assert_eq!(c.max_task_retry_count, Some(1));
        assert_eq!(c.retention_time, None, "unset limits stay Batch's");
        let block = manager_task_block("");
        let read = crate::common::task_spec::normalized_read(
            &block,
            Some(&m),
            flatten_manager_task(&wire, Some(&m), Some(0)),
        );
        assert_eq!(read, m);
    }

    #[test]
    fn a_retry_count_other_than_the_jobs_is_the_managers_own() {
        let c = |n| TaskConstraints {
            max_wall_clock_time: None,
            retention_time: Some("P7D".into()),
            max_task_retry_count: Some(n),
        };
        // On import (no prior block): the job's count is Batch's filling in, another is set.
        assert_eq!(flatten_manager_constraints(Some(&c(3)), None, 3), None);
        assert_eq!(
            flatten_manager_constraints(Some(&c(2)), None, 3),
            Some(TaskConstraintsModel {
                max_task_retry_count: Some(2),
                ..Default::default()
            })
        );
        // A count the user wrote stays, even when it equals the job's.
        let prior = TaskConstraintsModel {
            max_task_retry_count: Some(3),
            ..Default::default()
        };
        assert_eq!(
            flatten_manager_constraints(Some(&c(3)), Some(&prior), 3),
            Some(prior)
        );
        assert_eq!(flatten_manager_constraints(None, None, 0), None);
    }
}
