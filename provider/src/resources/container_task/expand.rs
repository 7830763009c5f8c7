//! Terraform -> Batch: the task model as Task_Add takes it.

use batch_client::models::{
    ExitCodeMapping, ExitCodeRangeMapping, ExitConditions, ExitOptions, HttpHeader,
    MultiInstanceSettings, OutputFile, OutputFileBlobContainerDestination, OutputFileDestination,
    OutputFileUploadOptions, TaskAddParameter, TaskDependencies, TaskIdRange,
};

use super::model::{
    DependenciesModel, ExitConditionsModel, ExitOptionsModel, MultiInstanceModel, OutputFileModel,
    TaskConfig, TaskModel,
};
use crate::common::task_spec::{
    expand_environment, expand_resource_files, expand_task_constraints, expand_task_container,
    expand_user_identity, identity_reference,
};

/// Batch's upload condition when none is set.
pub const DEFAULT_UPLOAD_CONDITION: &str = "taskcompletion";

/// The Task_Add body. `config` carries the write-only registry password.
pub fn expand_task(m: &TaskModel, config: &TaskConfig) -> TaskAddParameter {
    TaskAddParameter {
        id: m.name.clone(),
        display_name: m.display_name.clone(),
        // Sent even when empty: "" makes Batch run the image's ENTRYPOINT.
        command_line: m.command_line.clone().unwrap_or_default(),
        container_settings: m
            .container
            .as_ref()
            .map(|c| expand_task_container(c, config.container.as_ref())),
        resource_files: expand_resource_files(&m.resource_file),
        output_files: expand_output_files(&m.output_file),
        environment_settings: expand_environment(&m.environment),
        constraints: m.constraints.as_ref().map(expand_task_constraints),
        required_slots: m.required_slots.map(|n| n as i32),
        user_identity: m.user_identity.as_ref().map(expand_user_identity),
        multi_instance_settings: m.multi_instance.as_ref().map(expand_multi_instance),
        depends_on: m.dependencies.as_ref().map(expand_dependencies),
        exit_conditions: m.exit_conditions.as_ref().map(expand_exit_conditions),
        ..Default::default()
    }
}

pub fn expand_output_file(o: &OutputFileModel) -> OutputFile {
    let headers: Vec<HttpHeader> = o
        .upload_headers
        .iter()
        .flatten()
        .map(|(name, value)| HttpHeader {
            name: name.clone(),
            value: Some(value.clone()),
        })
        .collect();
    OutputFile {
        file_pattern: o.file_pattern.clone(),
        destination: OutputFileDestination {
            container: Some(OutputFileBlobContainerDestination {
                path: o.path.clone(),
                container_url: o.container_url.clone(),
                identity_reference: identity_reference(o.identity_reference.as_deref()),
                upload_headers: (!headers.is_empty()).then_some(headers),
            }),
        },
        upload_options: OutputFileUploadOptions {
            upload_condition: o
                .upload_condition
                .clone()
                .unwrap_or_else(|| DEFAULT_UPLOAD_CONDITION.into()),
        },
    }
}

pub fn expand_output_files(l: &[OutputFileModel]) -> Option<Vec<OutputFile>> {
    (!l.is_empty()).then(|| l.iter().map(expand_output_file).collect())
}

pub fn expand_dependencies(d: &DependenciesModel) -> TaskDependencies {
    let ids = d.task_ids.clone().unwrap_or_default();
    let ranges: Vec<TaskIdRange> = d
        .task_id_range
        .iter()
        .map(|r| TaskIdRange {
            start: r.start as i32,
            end: r.end as i32,
        })
        .collect();
    TaskDependencies {
        task_ids: (!ids.is_empty()).then_some(ids),
        task_id_ranges: (!ranges.is_empty()).then_some(ranges),
    }
}

pub fn expand_multi_instance(m: &MultiInstanceModel) -> MultiInstanceSettings {
    MultiInstanceSettings {
        number_of_instances: m.number_of_instances.map(|n| n as i32),
        coordination_command_line: m.coordination_command_line.clone(),
        common_resource_files: expand_resource_files(&m.common_resource_file),
    }
}

pub fn expand_exit_options(
    job_action: &Option<String>,
    dependency_action: &Option<String>,
) -> ExitOptions {
    ExitOptions {
        job_action: job_action.clone(),
        dependency_action: dependency_action.clone(),
    }
}

fn expand_single(o: &ExitOptionsModel) -> ExitOptions {
    expand_exit_options(&o.job_action, &o.dependency_action)
}

pub fn expand_exit_conditions(e: &ExitConditionsModel) -> ExitConditions {
    let codes: Vec<ExitCodeMapping> = e
        .exit_code
        .iter()
        .map(|c| ExitCodeMapping {
            code: c.code as i32,
            exit_options: expand_exit_options(&c.job_action, &c.dependency_action),
        })
        .collect();
    let ranges: Vec<ExitCodeRangeMapping> = e
        .exit_code_range
        .iter()
        .map(|r| ExitCodeRangeMapping {
            start: r.start as i32,
            end: r.end as i32,
            exit_options: expand_exit_options(&r.job_action, &r.dependency_action),
        })
        .collect();
    ExitConditions {
        exit_codes: (!codes.is_empty()).then_some(codes),
        exit_code_ranges: (!ranges.is_empty()).then_some(ranges),
        pre_processing_error: e.pre_processing_error.as_ref().map(expand_single),
        file_upload_error: e.file_upload_error.as_ref().map(expand_single),
        default: e.default.as_ref().map(expand_single),
    }
}
