//! Terraform <-> Batch for the parts of [`super::task_parts`]: output files, dependencies,
//! multi-instance settings and exit conditions.

use batch_client::models::{
    ExitCodeMapping, ExitCodeRangeMapping, ExitConditions, ExitOptions, HttpHeader,
    MultiInstanceSettings, OutputFile, OutputFileBlobContainerDestination, OutputFileDestination,
    OutputFileUploadOptions, TaskDependencies, TaskIdRange,
};

use super::task_parts::{
    DependenciesModel, ExitCodeModel, ExitCodeRangeModel, ExitConditionsModel, ExitOptionsModel,
    MultiInstanceModel, OutputFileModel, TaskIdRangeModel,
};
use super::{
    expand_resource_files, flatten_resource_files, identity_reference, identity_reference_id,
};

/// Batch's upload condition when none is set.
pub const DEFAULT_UPLOAD_CONDITION: &str = "taskcompletion";

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

pub fn flatten_output_files(
    m: Option<&Vec<OutputFile>>,
    prior: &[OutputFileModel],
) -> Vec<OutputFileModel> {
    m.into_iter()
        .flatten()
        .enumerate()
        .map(|(i, o)| {
            let p = prior.get(i);
            let c = o.destination.container.clone().unwrap_or_default();
            let upload_headers = match c.upload_headers {
                Some(h) if !h.is_empty() => Some(
                    h.into_iter()
                        .map(|h| (h.name, h.value.unwrap_or_default()))
                        .collect(),
                ),
                _ => p
                    .and_then(|p| p.upload_headers.as_ref())
                    .map(|_| Default::default()),
            };
            OutputFileModel {
                file_pattern: o.file_pattern.clone(),
                container_url: c.container_url,
                path: c.path,
                // Batch's `taskCompletion` in our vocabulary.
                upload_condition: Some(o.upload_options.upload_condition.to_ascii_lowercase()),
                identity_reference: identity_reference_id(c.identity_reference.as_ref()),
                upload_headers,
            }
        })
        .collect()
}

pub fn flatten_dependencies(
    m: &TaskDependencies,
    prior: Option<&DependenciesModel>,
) -> DependenciesModel {
    let task_ids = match &m.task_ids {
        Some(ids) if !ids.is_empty() => Some(ids.clone()),
        _ => prior.and_then(|p| p.task_ids.as_ref()).map(|_| vec![]),
    };
    DependenciesModel {
        task_ids,
        task_id_range: m
            .task_id_ranges
            .iter()
            .flatten()
            .map(|r| TaskIdRangeModel {
                start: r.start as i64,
                end: r.end as i64,
            })
            .collect(),
    }
}

/// Batch's default of one instance stays unset through the attribute's `server_default`.
pub fn flatten_multi_instance(m: &MultiInstanceSettings) -> MultiInstanceModel {
    MultiInstanceModel {
        number_of_instances: m.number_of_instances.map(i64::from),
        coordination_command_line: m.coordination_command_line.clone(),
        common_resource_file: flatten_resource_files(m.common_resource_files.as_ref()),
    }
}

/// Exit options as state: Batch's values in our (lower-case) vocabulary.
fn flatten_exit_options(o: &ExitOptions) -> ExitOptionsModel {
    let lower = |v: &Option<String>| v.as_deref().map(str::to_ascii_lowercase);
    ExitOptionsModel {
        job_action: lower(&o.job_action),
        dependency_action: lower(&o.dependency_action),
    }
}

fn is_default_options(o: &Option<ExitOptions>) -> bool {
    o.as_ref().is_none_or(|o| {
        o.job_action
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("none"))
            && o.dependency_action
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case("satisfy"))
    })
}

/// Exit conditions are immutable in Batch: once known they stay as configured; on import they
/// come from the service, where options equal to Batch's defaults count as unset.
pub fn flatten_exit_conditions(
    m: Option<&ExitConditions>,
    prior: Option<&ExitConditionsModel>,
) -> Option<ExitConditionsModel> {
    if let Some(p) = prior {
        return Some(p.clone());
    }
    let m = m?;
    let codes = m.exit_codes.clone().unwrap_or_default();
    let ranges = m.exit_code_ranges.clone().unwrap_or_default();
    if codes.is_empty()
        && ranges.is_empty()
        && is_default_options(&m.pre_processing_error)
        && is_default_options(&m.file_upload_error)
        && is_default_options(&m.default)
    {
        return None;
    }
    let single = |o: &Option<ExitOptions>| {
        (!is_default_options(o)).then(|| flatten_exit_options(o.as_ref().expect("not default")))
    };
    Some(ExitConditionsModel {
        exit_code: codes
            .iter()
            .map(|c| {
                let o = flatten_exit_options(&c.exit_options);
                ExitCodeModel {
                    code: c.code as i64,
                    job_action: o.job_action,
                    dependency_action: o.dependency_action,
                }
            })
            .collect(),
        exit_code_range: ranges
            .iter()
            .map(|r| {
                let o = flatten_exit_options(&r.exit_options);
                ExitCodeRangeModel {
                    start: r.start as i64,
                    end: r.end as i64,
                    job_action: o.job_action,
                    dependency_action: o.dependency_action,
                }
            })
            .collect(),
        pre_processing_error: single(&m.pre_processing_error),
        file_upload_error: single(&m.file_upload_error),
        default: single(&m.default),
    })
}
