//! Batch -> Terraform: a task as state, normalised against the prior state so that server
//! defaults the user left unset stay unset and the service's spellings do not show as changes.

use batch_client::models::{
    CloudTask, ExitConditions, ExitOptions, MultiInstanceSettings, OutputFile, TaskDependencies,
};
use tfplugin::model::Tf;

use super::model::{
    DependenciesModel, ExitCodeModel, ExitCodeRangeModel, ExitConditionsModel, ExitOptionsModel,
    MultiInstanceModel, OutputFileModel, RunModel, TaskIdRangeModel, TaskModel,
};
use crate::common::task_spec::{
    flatten_environment, flatten_resource_files, flatten_task_constraints, flatten_task_container,
    flatten_user_identity, identity_reference_id,
};

/// The task as state. `prior` is the state before (None on a first read).
pub fn flatten_task(t: &CloudTask, job_id: &str, prior: Option<&TaskModel>) -> TaskModel {
    let tid = t.id.clone().unwrap_or_default();
    // Ids are case-insensitive in Batch: keep the user's spelling.
    let name = match prior.map(|p| p.name.as_str()) {
        Some(p) if p.eq_ignore_ascii_case(&tid) => p.to_string(),
        _ => tid,
    };
    let dependencies = t
        .depends_on
        .as_ref()
        .filter(|d| {
            d.task_ids.as_ref().is_some_and(|l| !l.is_empty())
                || d.task_id_ranges.as_ref().is_some_and(|l| !l.is_empty())
                || prior.is_some_and(|p| p.dependencies.is_some())
        })
        .map(|d| flatten_dependencies(d, prior.and_then(|p| p.dependencies.as_ref())));
    let mut m = TaskModel {
        id: Tf::Known(format!("{job_id}/{name}")),
        job_id: job_id.to_string(),
        name,
        display_name: t.display_name.clone(),
        command_line: Some(t.command_line.clone().unwrap_or_default()),
        environment: flatten_environment(
            t.environment_settings.as_ref(),
            prior.and_then(|p| p.environment.as_ref()),
        ),
        required_slots: Some(t.required_slots.unwrap_or(1) as i64),
        wait_for_completion: Some(prior.and_then(|p| p.wait_for_completion).unwrap_or(false)),
        container: t
            .container_settings
            .as_ref()
            .map(|c| flatten_task_container(c, prior.and_then(|p| p.container.as_ref()))),
        resource_file: flatten_resource_files(t.resource_files.as_ref()),
        output_file: flatten_output_files(
            t.output_files.as_ref(),
            prior.map(|p| p.output_file.as_slice()).unwrap_or_default(),
        ),
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
        timeouts: prior.and_then(|p| p.timeouts.clone()),
        ..Default::default()
    };
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
