//! `batch_container_task`: one task of a job, run in a container on the job's pool.
//!
//! Batch semantics this file maps onto Terraform:
//! - Task_Add creates the task (Batch id = `name`, Terraform id = `<job_id>/<name>`). The client
//!   retries it safely: after an ambiguous failure it adopts a `TaskExists` only when the
//!   existing task matches what was sent, so a retry never creates a second task.
//! - Only `constraints` can change (Task_Update, with If-Match); everything else replaces.
//! - `wait_for_completion` makes apply wait for the task to finish; a failed task fails the apply
//!   with its exit code, failure information and the end of its stderr, and stays in state as
//!   tainted so that the next apply runs it again.
//! - A finished task is never run again by refresh or plan: read only reads. A task Batch no
//!   longer has (deleted, or removed after its retention time) leaves state with a warning.

use std::time::Duration;

use crate::common::validators::{BatchId, is_batch_id};
use async_trait::async_trait;
use batch_client::models::{
    CloudTask, ComputeNodeIdentityReference, ExitCodeMapping, ExitCodeRangeMapping, ExitConditions,
    ExitOptions, HttpHeader, MultiInstanceSettings, OutputFile, OutputFileBlobContainerDestination,
    OutputFileDestination, OutputFileUploadOptions, TaskAddParameter, TaskConstraints,
    TaskDependencies, TaskIdRange, TaskUpdateParameter,
};
use batch_client::{BatchError, ByteRange, RequestOptions};
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Identity, ImportResponse, PlanRequest,
    PlanResponse, Private, ReadRequest, ReadResponse, Resource, null_object,
};
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema, timeouts_block};
use tfplugin::validators::{IntBetween, Iso8601Duration, NotEmpty, OneOf};
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::container::{
    task_container_block, task_container_from_model, task_container_to_model,
    validate_task_container,
};
use crate::common::task_spec::{
    ResourceFileModel, UNLIMITED_DURATION, duration_from_model, expand_resource_files,
    flatten_resource_files, flatten_url, is_unlimited, resource_file_block, user_identity_block,
    user_identity_from_model, user_identity_to_model, validate_resource_file,
    validate_user_identity,
};
use crate::common::{
    Batch, WaitError, batch_error, deadline, env_from_model, env_to_model, error_code,
    is_not_found, opts, poll_opts, poll_until, wait_error, wait_until_gone,
};

fn resource_files_to_model(v: &Value) -> Option<Vec<batch_client::models::ResourceFile>> {
    expand_resource_files(
        &tfplugin::model::from_value::<Vec<ResourceFileModel>>(v).unwrap_or_default(),
    )
}

fn resource_files_from_model(
    m: Option<&Vec<batch_client::models::ResourceFile>>,
    prior: &Value,
) -> Value {
    let prior: Vec<ResourceFileModel> = tfplugin::model::from_value(prior).unwrap_or_default();
    tfplugin::model::to_value(
        &flatten_resource_files(m, &prior),
        &tfplugin::Type::list(resource_file_block().value_type()),
    )
    .unwrap_or(Value::List(vec![]))
}

fn url_from_model(remote: Option<&String>, prior: &Value) -> Value {
    Value::opt_string(flatten_url(remote.map(String::as_str), prior.as_str()))
}

pub struct ContainerTaskResource;

const CREATE_DEFAULT: Duration = Duration::from_secs(60 * 60);
const UPDATE_DEFAULT: Duration = Duration::from_secs(10 * 60);
const DELETE_DEFAULT: Duration = Duration::from_secs(10 * 60);

/// Computed attributes that describe the task's run.
const RUN_ATTRS: &[&str] = &[
    "state",
    "exit_code",
    "result",
    "node_id",
    "start_time",
    "end_time",
    "retry_count",
];

/// How much of stderr.txt a failure message shows.
const STDERR_TAIL_BYTES: u64 = 4096;
const STDERR_TAIL_LINES: usize = 20;

// ---------------------------------------------------------------------------------------------
// Schema.

fn output_file_block() -> Block {
    Block::new("Files Batch uploads to an Azure Storage blob container after the task ends.")
        .attr(Attribute::string("file_pattern").required().validate(NotEmpty).description("Which files to upload, relative to the task's working directory; wildcards `*` and `**` are allowed, e.g. `output.txt` or `results/**/*.csv`. `../stdout.txt` uploads the task's stdout."))
        .attr(Attribute::string("container_url").required().sensitive().validate(NotEmpty).description("URL of the blob container, with write access (e.g. a SAS URL). Sensitive because SAS tokens are credentials."))
        .attr(Attribute::string("path").optional().description("Blob name (single file) or virtual directory (wildcard pattern) in the container. Default: the file's path under the working directory."))
        .attr(
            Attribute::string("upload_condition")
                .default(Value::string("taskcompletion"))
                .validate(OneOf(&["tasksuccess", "taskfailure", "taskcompletion"]))
                .description("When to upload: `tasksuccess`, `taskfailure` or `taskcompletion` (always; default)."),
        )
        .attr(Attribute::string("identity_reference").optional().description("Resource id of a user-assigned managed identity of the pool to write to Azure Storage with, instead of a SAS in the URL."))
        .attr(Attribute::string_map("upload_headers").optional().description("HTTP headers to set on the uploaded blobs, e.g. `{ \"Content-Type\" = \"text/plain\" }`."))
}

fn constraints_block() -> Block {
    Block::new("Execution limits of the task. Changes apply in place (Task_Update).")
        .attr(Attribute::string("max_wall_clock_time").optional().validate(Iso8601Duration).description("Longest time the task may run, from when it starts, as an ISO 8601 duration such as `PT1H`. Batch terminates a task that runs longer. Default: no limit."))
        .attr(Attribute::string("retention_time").optional().validate(Iso8601Duration).description("How long Batch keeps the task's directory (and its stdout/stderr) on the node after it completes, e.g. `P7D`. Default `P7D`. Batch removes the task itself later; Terraform then plans to create it again."))
        .attr(Attribute::number("max_task_retry_count").optional().validate(IntBetween(-1, 100_000)).description("How often Batch retries the task when its exit code is nonzero; `-1` retries without limit. Default: the job's `constraints.max_task_retry_count` (0 unless set)."))
}

fn schema() -> Schema {
    Schema::new(
        Block::new("A task of a Batch job that runs a command in a container on the job's pool. Batch runs it once; Terraform does not run a finished task again unless it is replaced (or it failed while `wait_for_completion` was set, which marks it tainted).")
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("`<job_id>/<name>`."))
            .attr(Attribute::string("job_id").required().requires_replace().validate(BatchId).description("The job to add the task to (`batch_job.<name>.id`). Changing it replaces the task."))
            .attr(Attribute::string("name").required().requires_replace().validate(BatchId).description("The task id in Batch: 1 to 64 letters, digits, hyphens and underscores, unique in the job (case-insensitive). Changing it replaces the task."))
            .attr(Attribute::string("display_name").optional().requires_replace().description("A friendly name of up to 1024 characters. Changing it replaces the task."))
            .attr(
                Attribute::string("command_line")
                    .default(Value::string(""))
                    .requires_replace()
                    .description("The command to run in the container. It does not run under a shell: use `/bin/sh -c \"...\"` for `$VARIABLES`, pipes or redirections. `\"\"` (the default) runs the image's ENTRYPOINT. Changing it replaces (re-runs) the task."),
            )
            .attr(Attribute::string_map("environment").optional().requires_replace().description("Environment variables for the task, in addition to Batch's `AZ_BATCH_*` variables. Changing them replaces the task."))
            .attr(Attribute::number("required_slots").default(Value::int(1)).requires_replace().validate(IntBetween(1, 256)).description("How many of a node's task slots the task occupies (at most the pool's `task_slots_per_node`). Default `1`."))
            .attr(Attribute::bool("wait_for_completion").default(Value::Bool(false)).description("Whether apply waits until the task has finished (bounded by `timeouts.create`). A task that fails (nonzero exit code or a failure such as a missing image) then fails the apply with its exit code, failure information and the end of its stderr, and is marked tainted so the next apply runs it again. Default `false`: apply returns once Batch has accepted the task."))
            .attr(Attribute::string("state").computed().description("`active` (queued), `preparing`, `running` or `completed`."))
            .attr(Attribute::number("exit_code").computed().description("The exit code of the task's command, once it completed (null while it has not run)."))
            .attr(Attribute::string("result").computed().description("`success` or `failure` once the task completed, else null."))
            .attr(Attribute::string("node_id").computed().description("The node that ran (or runs) the task."))
            .attr(Attribute::string("start_time").computed().description("When the task started running (RFC 3339), else null."))
            .attr(Attribute::string("end_time").computed().description("When the task completed (RFC 3339), else null."))
            .attr(Attribute::number("retry_count").computed().description("How often Batch retried the task after a nonzero exit code."))
            // Required, but checked in validate(): tfplugin emits min_items=1 on a SINGLE block
            // with max_items=0, which Terraform rejects as an invalid schema.
            .block(NestedBlock::single("container", task_container_block("task")).requires_replace())
            .block(NestedBlock::list("resource_file", resource_file_block()).requires_replace())
            .block(NestedBlock::list("output_file", output_file_block()).requires_replace())
            .block(NestedBlock::single("constraints", constraints_block()))
            .block(NestedBlock::single("user_identity", user_identity_block()).requires_replace())
            .block(
                NestedBlock::single(
                    "dependencies",
                    Block::new("Tasks of the same job that must complete successfully before this one starts. The job needs `uses_task_dependencies = true`.")
                        .attr(Attribute::string_list("task_ids").optional().description("Names of tasks this task waits for."))
                        .block(NestedBlock::list(
                            "task_id_range",
                            Block::new("A range of numeric task names (e.g. 1 to 100) this task waits for.")
                                .attr(Attribute::number("start").required().validate(IntBetween(0, i32::MAX as i64)).description("First task name of the range."))
                                .attr(Attribute::number("end").required().validate(IntBetween(0, i32::MAX as i64)).description("Last task name of the range (inclusive).")),
                        )),
                )
                .requires_replace(),
            )
            .block(
                NestedBlock::single(
                    "multi_instance",
                    Block::new("Run the task on several nodes at once (MPI). The pool needs `inter_node_communication = true`.")
                        .attr(Attribute::number("number_of_instances").optional().validate(IntBetween(1, 1000)).description("How many nodes the task needs. Default `1`."))
                        .attr(Attribute::string("coordination_command_line").required().description("Command Batch runs on every node (primary and subtasks) before the main command runs on the primary, e.g. to start an MPI daemon."))
                        .block(NestedBlock::list("common_resource_file", resource_file_block())),
                )
                .requires_replace(),
            )
            .block(NestedBlock::single("exit_conditions", exit_conditions_block()).requires_replace())
            .block(timeouts_block(&[("create", "60m"), ("update", "10m"), ("delete", "10m")])),
    )
}

const JOB_ACTIONS: &[&str] = &["none", "disable", "terminate"];
const DEPENDENCY_ACTIONS: &[&str] = &["satisfy", "block"];

fn exit_options_attrs(b: Block) -> Block {
    b.attr(
        Attribute::string("job_action")
            .optional()
            .validate(OneOf(JOB_ACTIONS))
            .description("What Batch does to the job: `none` (default), `disable` or `terminate`."),
    )
    .attr(
        Attribute::string("dependency_action")
            .optional()
            .validate(OneOf(DEPENDENCY_ACTIONS))
            .description("Whether tasks that depend on this one may run: `satisfy` (default for success) or `block`."),
    )
}

fn exit_conditions_block() -> Block {
    Block::new("How Batch reacts when the task completes, by exit code or failure kind. Changing it replaces the task.")
        .block(NestedBlock::list(
            "exit_code",
            exit_options_attrs(
                Block::new("Reaction to one exit code.")
                    .attr(Attribute::number("code").required().description("The exit code.")),
            ),
        ))
        .block(NestedBlock::list(
            "exit_code_range",
            exit_options_attrs(
                Block::new("Reaction to a range of exit codes.")
                    .attr(Attribute::number("start").required().description("First exit code of the range."))
                    .attr(Attribute::number("end").required().description("Last exit code of the range (inclusive).")),
            ),
        ))
        .block(NestedBlock::single("pre_processing_error", exit_options_attrs(Block::new("Reaction when the task could not start (e.g. a resource file failed to download)."))))
        .block(NestedBlock::single("file_upload_error", exit_options_attrs(Block::new("Reaction when an output file upload failed."))))
        .block(NestedBlock::single("default", exit_options_attrs(Block::new("Reaction to any exit code not listed otherwise."))))
}

// ---------------------------------------------------------------------------------------------
// Conversions.

fn constraints_to_model(c: &Value) -> TaskConstraints {
    TaskConstraints {
        max_wall_clock_time: c.get_str("max_wall_clock_time").map(str::to_string),
        retention_time: c.get_str("retention_time").map(str::to_string),
        max_task_retry_count: c.get_i64("max_task_retry_count").map(|n| n as i32),
    }
}

/// Private-state marker for the first read after an import.
const IMPORTED: &str = "imported";

/// The constraints of an imported task: null when they are all Batch's defaults (no limit, 7 days'
/// retention, no retries), otherwise every limit as the task has it.
fn imported_constraints(m: Option<&TaskConstraints>) -> Value {
    let Some(m) = m else {
        return Value::Null;
    };
    let wall = m
        .max_wall_clock_time
        .as_deref()
        .filter(|w| !is_unlimited(w));
    let retention = m.retention_time.as_deref();
    let retries = m.max_task_retry_count.unwrap_or(0);
    let default_retention =
        retention.is_none_or(|r| duration_from_model(Some(r), &Value::Null, Some("P7D")).is_null());
    if wall.is_none() && default_retention && retries == 0 {
        return Value::Null;
    }
    Value::object([
        ("max_wall_clock_time", Value::opt_string(wall)),
        ("retention_time", Value::opt_string(retention)),
        ("max_task_retry_count", Value::int(retries as i64)),
    ])
}

fn constraints_from_model(m: Option<&TaskConstraints>, prior: &Value) -> Value {
    let Some(m) = m else {
        return Value::Null;
    };
    let wall = duration_from_model(
        m.max_wall_clock_time.as_deref(),
        prior.get("max_wall_clock_time"),
        None,
    );
    let retention = duration_from_model(
        m.retention_time.as_deref(),
        prior.get("retention_time"),
        Some("P7D"),
    );
    // Batch fills an unset retry count in from the job: an unset value stays unset.
    let retries = match (m.max_task_retry_count, prior.get("max_task_retry_count")) {
        (Some(n), p) if !p.is_null() => Value::int(n as i64),
        _ => Value::Null,
    };
    if prior.is_null() && wall.is_null() && retention.is_null() {
        return Value::Null;
    }
    Value::object([
        ("max_wall_clock_time", wall),
        ("retention_time", retention),
        ("max_task_retry_count", retries),
    ])
}

fn output_files_to_model(v: &Value) -> Option<Vec<OutputFile>> {
    let l: Vec<OutputFile> = v
        .elements()
        .iter()
        .map(|o| {
            let headers: Vec<HttpHeader> = o
                .get_string_map("upload_headers")
                .into_iter()
                .map(|(name, value)| HttpHeader {
                    name,
                    value: Some(value),
                })
                .collect();
            OutputFile {
                file_pattern: o.get_str("file_pattern").unwrap_or_default().to_string(),
                destination: OutputFileDestination {
                    container: Some(OutputFileBlobContainerDestination {
                        path: o.get_str("path").map(str::to_string),
                        container_url: o.get_str("container_url").unwrap_or_default().to_string(),
                        identity_reference: o.get_str("identity_reference").map(|id| {
                            ComputeNodeIdentityReference {
                                resource_id: Some(id.to_string()),
                            }
                        }),
                        upload_headers: (!headers.is_empty()).then_some(headers),
                    }),
                },
                upload_options: OutputFileUploadOptions {
                    upload_condition: o
                        .get_str("upload_condition")
                        .unwrap_or("taskcompletion")
                        .to_string(),
                },
            }
        })
        .collect();
    (!l.is_empty()).then_some(l)
}

fn output_files_from_model(m: Option<&Vec<OutputFile>>, prior: &Value) -> Value {
    Value::List(
        m.into_iter()
            .flatten()
            .enumerate()
            .map(|(i, o)| {
                let p = prior.elements().get(i).unwrap_or(&Value::Null);
                let c = o.destination.container.clone().unwrap_or_default();
                let cond = match p.get_str("upload_condition") {
                    Some(pc) if pc.eq_ignore_ascii_case(&o.upload_options.upload_condition) => {
                        pc.to_string()
                    }
                    _ => o.upload_options.upload_condition.to_ascii_lowercase(),
                };
                let headers = match c.upload_headers {
                    Some(h) if !h.is_empty() => Value::string_map(
                        h.into_iter().map(|h| (h.name, h.value.unwrap_or_default())),
                    ),
                    _ if p.get("upload_headers").is_null() => Value::Null,
                    _ => Value::Map(Default::default()),
                };
                Value::object([
                    ("file_pattern", Value::string(o.file_pattern.clone())),
                    (
                        "container_url",
                        url_from_model(Some(&c.container_url), p.get("container_url")),
                    ),
                    ("path", Value::opt_string(c.path)),
                    ("upload_condition", Value::string(cond)),
                    (
                        "identity_reference",
                        Value::opt_string(c.identity_reference.and_then(|i| i.resource_id)),
                    ),
                    ("upload_headers", headers),
                ])
            })
            .collect(),
    )
}

fn dependencies_to_model(v: &Value) -> TaskDependencies {
    let ids = v.get_string_list("task_ids");
    let ranges: Vec<TaskIdRange> = v
        .get("task_id_range")
        .elements()
        .iter()
        .map(|r| TaskIdRange {
            start: r.get_i64("start").unwrap_or(0) as i32,
            end: r.get_i64("end").unwrap_or(0) as i32,
        })
        .collect();
    TaskDependencies {
        task_ids: (!ids.is_empty()).then_some(ids),
        task_id_ranges: (!ranges.is_empty()).then_some(ranges),
    }
}

fn dependencies_from_model(m: &TaskDependencies, prior: &Value) -> Value {
    let ids = match &m.task_ids {
        Some(ids) if !ids.is_empty() => Value::string_list(ids.iter().cloned()),
        _ if prior.get("task_ids").is_null() => Value::Null,
        _ => Value::List(vec![]),
    };
    Value::object([
        ("task_ids", ids),
        (
            "task_id_range",
            Value::List(
                m.task_id_ranges
                    .iter()
                    .flatten()
                    .map(|r| {
                        Value::object([
                            ("start", Value::int(r.start as i64)),
                            ("end", Value::int(r.end as i64)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

fn multi_instance_from_model(m: &MultiInstanceSettings, prior: &Value) -> Value {
    let n = match (m.number_of_instances, prior.get_i64("number_of_instances")) {
        (Some(1), None) | (None, _) => Value::Null,
        (Some(n), _) => Value::int(n as i64),
    };
    Value::object([
        ("number_of_instances", n),
        (
            "coordination_command_line",
            Value::string(m.coordination_command_line.clone()),
        ),
        (
            "common_resource_file",
            resource_files_from_model(
                m.common_resource_files.as_ref(),
                prior.get("common_resource_file"),
            ),
        ),
    ])
}

fn exit_options_to_model(v: &Value) -> ExitOptions {
    ExitOptions {
        job_action: v.get_str("job_action").map(str::to_string),
        dependency_action: v.get_str("dependency_action").map(str::to_string),
    }
}

fn exit_conditions_to_model(v: &Value) -> ExitConditions {
    let codes: Vec<ExitCodeMapping> = v
        .get("exit_code")
        .elements()
        .iter()
        .map(|c| ExitCodeMapping {
            code: c.get_i64("code").unwrap_or(0) as i32,
            exit_options: exit_options_to_model(c),
        })
        .collect();
    let ranges: Vec<ExitCodeRangeMapping> = v
        .get("exit_code_range")
        .elements()
        .iter()
        .map(|r| ExitCodeRangeMapping {
            start: r.get_i64("start").unwrap_or(0) as i32,
            end: r.get_i64("end").unwrap_or(0) as i32,
            exit_options: exit_options_to_model(r),
        })
        .collect();
    ExitConditions {
        exit_codes: (!codes.is_empty()).then_some(codes),
        exit_code_ranges: (!ranges.is_empty()).then_some(ranges),
        pre_processing_error: v
            .get_block("pre_processing_error")
            .map(exit_options_to_model),
        file_upload_error: v.get_block("file_upload_error").map(exit_options_to_model),
        default: v.get_block("default").map(exit_options_to_model),
    }
}

/// Exit options as state; an enum keeps the prior spelling when it matches case-insensitively.
fn exit_options_from_model(m: &ExitOptions, prior: &Value) -> Value {
    let keep = |remote: &Option<String>, p: &Value| match (remote, p.as_str()) {
        (Some(r), Some(q)) if r.eq_ignore_ascii_case(q) => Value::string(q),
        (r, _) => Value::opt_string(r.as_ref().map(|s| s.to_ascii_lowercase())),
    };
    Value::object([
        ("job_action", keep(&m.job_action, prior.get("job_action"))),
        (
            "dependency_action",
            keep(&m.dependency_action, prior.get("dependency_action")),
        ),
    ])
}

/// Exit conditions are immutable in Batch: once known they stay as configured; on import they
/// come from the service, where options equal to Batch's defaults count as unset.
fn exit_conditions_from_model(m: Option<&ExitConditions>, prior: &Value) -> Value {
    if !prior.is_null() {
        return prior.clone();
    }
    let Some(m) = m else { return Value::Null };
    let is_default = |o: &Option<ExitOptions>| {
        o.as_ref().is_none_or(|o| {
            o.job_action
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case("none"))
                && o.dependency_action
                    .as_deref()
                    .is_none_or(|a| a.eq_ignore_ascii_case("satisfy"))
        })
    };
    let codes = m.exit_codes.clone().unwrap_or_default();
    let ranges = m.exit_code_ranges.clone().unwrap_or_default();
    if codes.is_empty()
        && ranges.is_empty()
        && is_default(&m.pre_processing_error)
        && is_default(&m.file_upload_error)
        && is_default(&m.default)
    {
        return Value::Null;
    }
    let single = |o: &Option<ExitOptions>| {
        if is_default(o) {
            Value::Null
        } else {
            exit_options_from_model(o.as_ref().expect("not default"), &Value::Null)
        }
    };
    let with = |mut base: Value, o: &ExitOptions| {
        let opts = exit_options_from_model(o, &Value::Null);
        base.set("job_action", opts.get("job_action").clone());
        base.set("dependency_action", opts.get("dependency_action").clone());
        base
    };
    Value::object([
        (
            "exit_code",
            Value::List(
                codes
                    .iter()
                    .map(|c| {
                        with(
                            Value::object([("code", Value::int(c.code as i64))]),
                            &c.exit_options,
                        )
                    })
                    .collect(),
            ),
        ),
        (
            "exit_code_range",
            Value::List(
                ranges
                    .iter()
                    .map(|r| {
                        with(
                            Value::object([
                                ("start", Value::int(r.start as i64)),
                                ("end", Value::int(r.end as i64)),
                            ]),
                            &r.exit_options,
                        )
                    })
                    .collect(),
            ),
        ),
        ("pre_processing_error", single(&m.pre_processing_error)),
        ("file_upload_error", single(&m.file_upload_error)),
        ("default", single(&m.default)),
    ])
}

fn task_to_model(p: &Value, config: &Value) -> TaskAddParameter {
    TaskAddParameter {
        id: p.get_str("name").unwrap_or_default().to_string(),
        display_name: p.get_str("display_name").map(str::to_string),
        // Sent even when empty: "" makes Batch run the image's ENTRYPOINT.
        command_line: p.get_str("command_line").unwrap_or_default().to_string(),
        container_settings: p.get_block("container").map(|c| {
            task_container_to_model(c, config.get_block("container").unwrap_or(&Value::Null))
        }),
        resource_files: resource_files_to_model(p.get("resource_file")),
        output_files: output_files_to_model(p.get("output_file")),
        environment_settings: env_to_model(p.get("environment")),
        constraints: p.get_block("constraints").map(constraints_to_model),
        required_slots: p.get_i64("required_slots").map(|n| n as i32),
        user_identity: p.get_block("user_identity").map(user_identity_to_model),
        multi_instance_settings: p
            .get_block("multi_instance")
            .map(|m| MultiInstanceSettings {
                number_of_instances: m.get_i64("number_of_instances").map(|n| n as i32),
                coordination_command_line: m
                    .get_str("coordination_command_line")
                    .unwrap_or_default()
                    .to_string(),
                common_resource_files: resource_files_to_model(m.get("common_resource_file")),
            }),
        depends_on: p.get_block("dependencies").map(dependencies_to_model),
        exit_conditions: p.get_block("exit_conditions").map(exit_conditions_to_model),
        ..Default::default()
    }
}

/// The computed run attributes of a task.
fn run_values(t: &CloudTask) -> Vec<(&'static str, Value)> {
    let ei = t.execution_info.clone().unwrap_or_default();
    vec![
        ("state", Value::opt_string(t.state.clone())),
        ("exit_code", Value::opt_int(ei.exit_code.map(i64::from))),
        ("result", Value::opt_string(ei.result.clone())),
        (
            "node_id",
            Value::opt_string(t.node_info.as_ref().and_then(|n| n.node_id.clone())),
        ),
        ("start_time", Value::opt_string(ei.start_time.clone())),
        ("end_time", Value::opt_string(ei.end_time.clone())),
        ("retry_count", Value::int(ei.retry_count as i64)),
    ]
}

/// Fills the attributes that are unknown in `planned` from the task.
fn fill_unknown(planned: &Value, t: &CloudTask, id: &str) -> Value {
    let mut st = planned.clone();
    if st.get("id").is_unknown() {
        st.set("id", Value::string(id));
    }
    for (k, v) in run_values(t) {
        if st.get(k).is_unknown() {
            st.set(k, v);
        }
    }
    st
}

/// The task as state, normalised against `prior`.
fn task_to_state(t: &CloudTask, job_id: &str, prior: &Value) -> Value {
    let mut v = if prior.is_null() {
        null_object(&schema().block)
    } else {
        prior.clone()
    };
    let tid = t.id.clone().unwrap_or_default();
    let name = match prior.get_str("name") {
        Some(p) if p.eq_ignore_ascii_case(&tid) => p.to_string(),
        _ => tid,
    };
    v.set("id", Value::string(format!("{job_id}/{name}")));
    v.set("job_id", Value::string(job_id));
    v.set("name", Value::string(name));
    v.set("display_name", Value::opt_string(t.display_name.clone()));
    v.set(
        "command_line",
        Value::string(t.command_line.clone().unwrap_or_default()),
    );
    v.set(
        "container",
        t.container_settings
            .as_ref()
            .map(|c| task_container_from_model(c, prior.get("container")))
            .unwrap_or(Value::Null),
    );
    v.set(
        "environment",
        env_from_model(t.environment_settings.as_ref(), prior.get("environment")),
    );
    v.set(
        "required_slots",
        Value::int(t.required_slots.unwrap_or(1) as i64),
    );
    v.set(
        "resource_file",
        resource_files_from_model(t.resource_files.as_ref(), prior.get("resource_file")),
    );
    v.set(
        "output_file",
        output_files_from_model(t.output_files.as_ref(), prior.get("output_file")),
    );
    v.set(
        "constraints",
        constraints_from_model(t.constraints.as_ref(), prior.get("constraints")),
    );
    v.set(
        "user_identity",
        user_identity_from_model(t.user_identity.as_ref(), prior.get("user_identity")),
    );
    v.set(
        "dependencies",
        t.depends_on
            .as_ref()
            .filter(|d| {
                d.task_ids.as_ref().is_some_and(|l| !l.is_empty())
                    || d.task_id_ranges.as_ref().is_some_and(|l| !l.is_empty())
                    || !prior.get("dependencies").is_null()
            })
            .map(|d| dependencies_from_model(d, prior.get("dependencies")))
            .unwrap_or(Value::Null),
    );
    v.set(
        "multi_instance",
        t.multi_instance_settings
            .as_ref()
            .map(|m| multi_instance_from_model(m, prior.get("multi_instance")))
            .unwrap_or(Value::Null),
    );
    v.set(
        "exit_conditions",
        exit_conditions_from_model(t.exit_conditions.as_ref(), prior.get("exit_conditions")),
    );
    if v.get("wait_for_completion").is_null() {
        v.set("wait_for_completion", Value::Bool(false));
    }
    for (k, val) in run_values(t) {
        v.set(k, val);
    }
    v
}

fn ids_of(v: &Value) -> (String, String) {
    let job = v.get_str("job_id").map(str::to_string);
    let name = v.get_str("name").map(str::to_string);
    match (job, name) {
        (Some(j), Some(n)) => (j, n),
        _ => {
            let id = v.get_str("id").unwrap_or_default();
            let (j, n) = id.split_once('/').unwrap_or(("", id));
            (j.to_string(), n.to_string())
        }
    }
}

fn etag_private(etag: Option<String>) -> Private {
    let mut p = Private::new();
    if let Some(e) = etag {
        p.insert("etag".into(), serde_json::Value::String(e));
    }
    p
}

fn is_failed(t: &CloudTask) -> bool {
    let Some(ei) = &t.execution_info else {
        return false;
    };
    ei.result
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("failure"))
        || ei.exit_code.is_some_and(|c| c != 0)
        || ei.failure_info.is_some()
}

// ---------------------------------------------------------------------------------------------
// Waiting and failure reports.

/// The last lines of the task's stderr.txt (at most 4 KiB), or why it is not available.
async fn stderr_tail(ctx: &Ctx<Batch>, job: &str, task: &str) -> String {
    let o = RequestOptions::new()
        .timeout(Duration::from_secs(60))
        .cancel(ctx.cancel.clone());
    let api = &ctx.client.api;
    let size = match api
        .get_task_file_properties(job, task, "stderr.txt", &o)
        .await
    {
        Ok(Some(info)) => info.content_length,
        Ok(None) => {
            return "(stderr.txt is not available: the task's files are gone or it never started)"
                .into();
        }
        Err(e) => return format!("(stderr.txt could not be read: {e})"),
    };
    if size == 0 {
        return "(stderr.txt is empty)".into();
    }
    let range = ByteRange {
        start: size.saturating_sub(STDERR_TAIL_BYTES),
        end: None,
    };
    let data = match api
        .get_task_file(job, task, "stderr.txt", Some(range), &o)
        .await
    {
        Ok(Some(c)) => c.data,
        Ok(None) => return "(stderr.txt is not available)".into(),
        Err(e) => return format!("(stderr.txt could not be read: {e})"),
    };
    let text = String::from_utf8_lossy(&data);
    let mut lines: Vec<&str> = text.lines().collect();
    // A range that starts mid-file begins with a partial line: drop it.
    if size > STDERR_TAIL_BYTES && lines.len() > 1 {
        lines.remove(0);
    }
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[start..].join("\n")
}

/// Adds the error for a failed task: exit code, failure information and the end of stderr.
async fn report_failure(
    ctx: &Ctx<Batch>,
    job: &str,
    name: &str,
    t: &CloudTask,
    diags: &mut Diagnostics,
) {
    let ei = t.execution_info.clone().unwrap_or_default();
    let summary = match ei.exit_code {
        Some(c) => format!("Task {name:?} in job {job:?} failed with exit code {c}"),
        None => format!("Task {name:?} in job {job:?} failed"),
    };
    let mut detail = String::new();
    if let Some(c) = ei.exit_code {
        detail.push_str(&format!("Exit code: {c}\n"));
    }
    if let Some(f) = &ei.failure_info {
        detail.push_str(&format!(
            "Failure: category {}, code {}, message: {}\n",
            f.category,
            f.code.as_deref().unwrap_or("-"),
            f.message.as_deref().unwrap_or("-")
        ));
        for d in f.details.iter().flatten() {
            detail.push_str(&format!(
                "  {}: {}\n",
                d.name.as_deref().unwrap_or(""),
                d.value.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(ci) = ei.container_info.as_ref().and_then(|c| c.error.as_deref()) {
        detail.push_str(&format!("Container error: {ci}\n"));
    }
    if ei.retry_count > 0 {
        detail.push_str(&format!("Retries: {}\n", ei.retry_count));
    }
    if let Some(n) = t.node_info.as_ref().and_then(|n| n.node_id.as_deref()) {
        detail.push_str(&format!("Node: {n}\n"));
    }
    let tail = stderr_tail(ctx, job, name).await;
    detail.push_str(&format!("\nLast lines of stderr.txt:\n{tail}\n"));
    detail.push_str("\nThe task stays in the state as tainted: the next terraform apply deletes it and runs it again.");
    diags.error(summary, detail);
}

/// A create that stopped waiting leaves a tainted task: say what that means and how to keep it.
fn create_wait_error(diags: &mut Diagnostics, job: &str, name: &str, e: WaitError) {
    let keep = "The task keeps running in Batch, but Terraform marks it tainted: the next apply deletes it and runs it again. To keep this run instead, run `terraform untaint` on the resource (and raise timeouts.create for next time).";
    match e {
        WaitError::Failed(d) => diags.extend(d),
        WaitError::TimedOut => diags.error(
            format!("Timed out waiting for task {name:?} in job {job:?} to complete"),
            format!("The task did not complete within timeouts.create. {keep}"),
        ),
        WaitError::Cancelled => diags.error(
            format!("Interrupted while waiting for task {name:?} in job {job:?}"),
            format!("Terraform asked the provider to stop. {keep}"),
        ),
    }
}

/// Polls the task until it completed. Ok(task) or a wait error.
async fn wait_completed(
    ctx: &Ctx<Batch>,
    job: &str,
    name: &str,
    dl: tokio::time::Instant,
) -> Result<batch_client::Versioned<CloudTask>, WaitError> {
    let what = format!("task {name:?} in job {job:?} to complete");
    let last_state = std::sync::Mutex::new(String::new());
    let last_state = &last_state;
    poll_until(ctx, dl, &what, || {
        async move {
            match ctx.client.api.get_task(job, name, &poll_opts(ctx)).await {
                Ok(Some(t)) => {
                    let s = t.value.state.clone().unwrap_or_default();
                    let mut seen = last_state.lock().unwrap_or_else(|e| e.into_inner());
                    if *seen != s {
                        tracing::info!(job, task = name, state = %s, "task state");
                        *seen = s;
                    }
                    Ok(t.value.is_completed().then_some(t))
                }
                Ok(None) => {
                    let mut d = Diagnostics::new();
                    d.error(
                        format!("Task {name:?} in job {job:?} disappeared"),
                        "The task was deleted (or its job was) while Terraform waited for it to complete.",
                    );
                    Err(d)
                }
                Err(e) => {
                    let mut d = Diagnostics::new();
                    batch_error(&mut d, &format!("read task {name:?} in job {job:?}"), &e, None);
                    Err(d)
                }
            }
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------

#[async_trait]
impl Resource<Batch> for ContainerTaskResource {
    fn type_name(&self) -> &'static str {
        "batch_container_task"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: vec![
                ("job_id", "The id of the job the task belongs to."),
                ("name", "The task's id within its job (its name)."),
            ],
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let root = AttrPath::root();
        match config.get("container") {
            Value::Null => diags.error(
                "Missing container block",
                "batch_container_task needs a `container { image_name = \"...\" }` block: the image the task runs in.",
            ),
            Value::Unknown => {}
            c => validate_task_container(c, &root.child("container"), diags),
        }
        if let Some(u) = config.get_block("user_identity") {
            validate_user_identity(u, &root.child("user_identity"), diags);
        }
        for (i, r) in config.get("resource_file").elements().iter().enumerate() {
            validate_resource_file(r, &root.child("resource_file").index(i), diags);
        }
        if let Some(m) = config.get_block("multi_instance") {
            for (i, r) in m.get("common_resource_file").elements().iter().enumerate() {
                validate_resource_file(
                    r,
                    &root
                        .child("multi_instance")
                        .child("common_resource_file")
                        .index(i),
                    diags,
                );
            }
        }
        if let Some(d) = config.get_block("dependencies") {
            for (i, r) in d.get("task_id_range").elements().iter().enumerate() {
                if let (Some(s), Some(e)) = (r.get_i64("start"), r.get_i64("end"))
                    && s > e
                {
                    diags.attr_error(
                        &root
                            .child("dependencies")
                            .child("task_id_range")
                            .index(i)
                            .child("end"),
                        "Invalid task id range",
                        format!("end ({e}) must not be smaller than start ({s})."),
                    );
                }
            }
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        if req.prior.is_null() {
            // `<job_id>/<name>` is known once both are (also on the create half of a
            // replacement, which Terraform plans with a null prior): show it in the plan.
            if let (Some(job), Some(name)) =
                (resp.planned.get_str("job_id"), resp.planned.get_str("name"))
            {
                let id = Value::string(format!("{job}/{name}"));
                resp.planned.set("id", id);
            }
            return;
        }
        if !resp.requires_replace.is_empty() {
            return;
        }
        // An in-place update (constraints, wait_for_completion, timeouts) leaves the run as it is,
        // unless apply now has to wait for a task that has not finished yet.
        let completed = req.prior.get_str("state") == Some("completed");
        let starts_waiting = resp.planned.get_bool("wait_for_completion") == Some(true)
            && req.prior.get_bool("wait_for_completion") != Some(true);
        if completed || !starts_waiting {
            for k in RUN_ATTRS {
                resp.planned.set(k, req.prior.get(k).clone());
            }
        }
    }

    async fn create(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        let mut diags = Diagnostics::new();
        let p = &req.planned;
        let (job, name) = ids_of(p);
        let id = format!("{job}/{name}");
        let dl = deadline(p, "create", CREATE_DEFAULT);
        let body = task_to_model(p, &req.config);
        match ctx.client.api.add_task(&job, &body, &opts(ctx, dl)).await {
            Ok(w) if w.adopted => {
                tracing::info!(
                    job,
                    task = name,
                    "task add retried: adopted the task the first attempt created"
                )
            }
            Ok(_) => tracing::info!(job, task = name, "task added"),
            Err(e) => {
                match error_code(&e) {
                    Some(c) if c.eq_ignore_ascii_case("TaskExists") => diags.attr_error(
                        &AttrPath::root().child("name"),
                        format!("Task {name:?} already exists in job {job:?}"),
                        format!("The job already has a task {name:?} (task ids are case-insensitive) that Terraform does not manage; Terraform never adds a second one. Import it with `terraform import <address> {job}/{name}`, delete it, or choose another name."),
                    ),
                    Some(c) if c.eq_ignore_ascii_case("JobNotFound") => batch_error(
                        &mut diags,
                        &format!("add task {name:?}: job {job:?} does not exist"),
                        &e,
                        Some(&AttrPath::root().child("job_id")),
                    ),
                    Some(c) if c.eq_ignore_ascii_case("TaskDependenciesNotSpecifiedOnJob") => batch_error(
                        &mut diags,
                        &format!("add task {name:?}: set uses_task_dependencies = true on job {job:?} to use dependencies"),
                        &e,
                        Some(&AttrPath::root().child("dependencies")),
                    ),
                    _ => batch_error(&mut diags, &format!("add task {name:?} to job {job:?}"), &e, None),
                }
                return ApplyResponse {
                    new_state: Value::Null,
                    private: Private::new(),
                    diags,
                };
            }
        }
        let task = if p.get_bool("wait_for_completion") == Some(true) {
            match wait_completed(ctx, &job, &name, dl).await {
                Ok(t) => t,
                Err(e) => {
                    create_wait_error(&mut diags, &job, &name, e);
                    // The task exists: keep it (tainted) so nothing is orphaned.
                    let last = ctx
                        .client
                        .api
                        .get_task(
                            &job,
                            &name,
                            &opts(ctx, tokio::time::Instant::now() + Duration::from_secs(30)),
                        )
                        .await;
                    let (state, private) = match last {
                        Ok(Some(t)) => (fill_unknown(p, &t.value, &id), etag_private(t.etag)),
                        _ => (fill_unknown(p, &CloudTask::default(), &id), Private::new()),
                    };
                    return ApplyResponse {
                        new_state: state,
                        private,
                        diags,
                    };
                }
            }
        } else {
            match ctx.client.api.get_task(&job, &name, &poll_opts(ctx)).await {
                Ok(Some(t)) => t,
                Ok(None) => {
                    diags.error(
                        format!("Task {name:?} vanished right after it was added"),
                        "Batch accepted the task but does not return it: it (or its job) may have been deleted. Run terraform apply again to add it again.",
                    );
                    return ApplyResponse {
                        new_state: Value::Null,
                        private: Private::new(),
                        diags,
                    };
                }
                Err(e) => {
                    batch_error(
                        &mut diags,
                        &format!("read task {name:?} after adding it"),
                        &e,
                        None,
                    );
                    return ApplyResponse {
                        new_state: fill_unknown(p, &CloudTask::default(), &id),
                        private: Private::new(),
                        diags,
                    };
                }
            }
        };
        let state = fill_unknown(p, &task.value, &id);
        if p.get_bool("wait_for_completion") == Some(true) && is_failed(&task.value) {
            report_failure(ctx, &job, &name, &task.value, &mut diags).await;
        }
        ApplyResponse {
            new_state: state,
            private: etag_private(task.etag),
            diags,
        }
    }

    async fn read(&self, ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
        let mut diags = Diagnostics::new();
        let (job, name) = ids_of(&req.state);
        let o = RequestOptions::new()
            .timeout(Duration::from_secs(120))
            .cancel(ctx.cancel.clone());
        match ctx.client.api.get_task(&job, &name, &o).await {
            Ok(Some(t)) => {
                let mut state = task_to_state(&t.value, &job, &req.state);
                // Right after an import there is no prior constraints block to normalise against:
                // take the task's own limits, so a configuration that states them plans clean.
                if req.private.contains_key(IMPORTED) && req.state.get("constraints").is_null() {
                    state.set(
                        "constraints",
                        imported_constraints(t.value.constraints.as_ref()),
                    );
                }
                ReadResponse {
                    state,
                    private: etag_private(t.etag),
                    diags,
                }
            }
            Ok(None) => {
                diags.warning(
                    format!("Task {name:?} in job {job:?} no longer exists"),
                    format!("Batch no longer has task {name:?} of job {job:?}: it was deleted outside Terraform, its job was deleted, or Batch removed it after its retention time (constraints.retention_time, default 7 days). Terraform removed it from the state and will plan to create it again, which runs it again. To keep it from running again, remove the resource from the configuration."),
                );
                ReadResponse {
                    state: Value::Null,
                    private: Private::new(),
                    diags,
                }
            }
            Err(e) => {
                batch_error(
                    &mut diags,
                    &format!("read task {name:?} in job {job:?}"),
                    &e,
                    None,
                );
                ReadResponse {
                    state: req.state,
                    private: req.private,
                    diags,
                }
            }
        }
    }

    async fn update(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        let mut diags = Diagnostics::new();
        let (p, prior) = (&req.planned, &req.prior);
        let (job, name) = ids_of(prior);
        let id = format!("{job}/{name}");
        let dl = deadline(p, "update", UPDATE_DEFAULT);
        let api = &ctx.client.api;
        let mut etag = req
            .private
            .get("etag")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        if p.get("constraints") != prior.get("constraints") {
            // Task_Update replaces the constraints: send every value, with Batch's defaults for
            // the ones left unset (so removing a limit really removes it).
            let c = p.get_block("constraints").cloned().unwrap_or(Value::Null);
            let mut body = constraints_to_model(&c);
            if body.max_wall_clock_time.is_none() {
                body.max_wall_clock_time = Some(UNLIMITED_DURATION.into());
            }
            if body.retention_time.is_none() {
                body.retention_time = Some("P7D".into());
            }
            if body.max_task_retry_count.is_none() {
                body.max_task_retry_count = match api.get_job(&job, &opts(ctx, dl)).await {
                    Ok(Some(j)) => j.value.constraints.and_then(|c| c.max_task_retry_count),
                    _ => None,
                }
                .or(Some(0));
            }
            let update = TaskUpdateParameter {
                constraints: Some(body),
            };
            let mut attempt = 0;
            loop {
                let mut o = opts(ctx, dl);
                if let Some(e) = &etag {
                    o = o.if_match(e.clone());
                }
                match api.update_task(&job, &name, &update, &o).await {
                    Ok(w) => {
                        tracing::info!(job, task = name, "task constraints updated");
                        etag = w.etag.or(etag);
                        break;
                    }
                    Err(BatchError::Service(se)) if se.status == 412 && attempt == 0 => {
                        // The ETag also changes when the task merely runs (state, times). Retry once
                        // if what Terraform manages (constraints) is still as it was refreshed.
                        attempt += 1;
                        match api.get_task(&job, &name, &opts(ctx, dl)).await {
                            Ok(Some(t))
                                if constraints_from_model(
                                    t.value.constraints.as_ref(),
                                    prior.get("constraints"),
                                ) == *prior.get("constraints") =>
                            {
                                etag = t.etag;
                            }
                            _ => {
                                diags.error(
                                    format!("Task {name:?} changed outside Terraform"),
                                    "The task's constraints changed outside Terraform since the last refresh (Batch answered 412 ConditionNotMet). Nothing was overwritten; run terraform apply again to see the difference.",
                                );
                                return ApplyResponse {
                                    new_state: prior.clone(),
                                    private: req.private,
                                    diags,
                                };
                            }
                        }
                    }
                    Err(e) => {
                        let path = AttrPath::root().child("constraints");
                        batch_error(
                            &mut diags,
                            &format!("update the constraints of task {name:?}"),
                            &e,
                            Some(&path),
                        );
                        return ApplyResponse {
                            new_state: prior.clone(),
                            private: req.private,
                            diags,
                        };
                    }
                }
            }
        }
        let waits = p.get_bool("wait_for_completion") == Some(true)
            && RUN_ATTRS.iter().any(|k| p.get(k).is_unknown());
        let task = if waits {
            match wait_completed(ctx, &job, &name, deadline(p, "create", CREATE_DEFAULT)).await {
                Ok(t) => Some(t),
                Err(e) => {
                    wait_error(
                        &mut diags,
                        &format!("task {name:?} in job {job:?} to complete"),
                        e,
                        "create",
                    );
                    None
                }
            }
        } else if RUN_ATTRS.iter().any(|k| p.get(k).is_unknown()) {
            api.get_task(&job, &name, &opts(ctx, dl))
                .await
                .ok()
                .flatten()
        } else {
            None
        };
        let mut st = match &task {
            Some(t) => fill_unknown(p, &t.value, &id),
            None => {
                let mut st = p.clone();
                for k in RUN_ATTRS {
                    if st.get(k).is_unknown() {
                        st.set(k, prior.get(k).clone());
                    }
                }
                st
            }
        };
        if st.get("id").is_unknown() {
            st.set("id", Value::string(id));
        }
        if let Some(t) = &task {
            etag = t.etag.clone().or(etag);
            if waits && is_failed(&t.value) {
                report_failure(ctx, &job, &name, &t.value, &mut diags).await;
            }
        }
        ApplyResponse {
            new_state: st,
            private: etag_private(etag),
            diags,
        }
    }

    async fn delete(&self, ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let (job, name) = ids_of(&req.prior);
        let dl = deadline(&req.prior, "delete", DELETE_DEFAULT);
        // No If-Match: the task's ETag changes as it runs, and destroying is the goal anyway.
        match ctx
            .client
            .api
            .delete_task(&job, &name, &opts(ctx, dl))
            .await
        {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => return diags,
            Err(e) if error_code(&e).is_some_and(|c| c.eq_ignore_ascii_case("JobBeingDeleted")) => {
                return diags;
            }
            Err(e) => {
                batch_error(
                    &mut diags,
                    &format!("delete task {name:?} of job {job:?}"),
                    &e,
                    None,
                );
                return diags;
            }
        }
        let what = format!("task {name:?} of job {job:?}");
        let api = &ctx.client.api;
        let (job, name) = (&job, &name);
        wait_until_gone(ctx, dl, &what, &mut diags, move || async move {
            api.get_task(job, name, &poll_opts(ctx)).await
        })
        .await;
        diags
    }

    async fn import(&self, _ctx: &Ctx<Batch>, id: &str) -> ImportResponse {
        let mut diags = Diagnostics::new();
        let parts: Vec<&str> = id.split('/').collect();
        if parts.len() != 2 || !is_batch_id(parts[0]) || !is_batch_id(parts[1]) {
            diags.error(
                "Invalid import id",
                format!("{id:?} is not `<job name>/<task name>`: import a batch_container_task like `terraform import batch_container_task.hello render/hello`."),
            );
            return ImportResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            };
        }
        let mut st = null_object(&schema().block);
        st.set("id", Value::string(id));
        st.set("job_id", Value::string(parts[0]));
        st.set("name", Value::string(parts[1]));
        ImportResponse {
            state: st,
            private: Private::from([(IMPORTED.to_string(), serde_json::Value::Bool(true))]),
            diags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_constraints_normalise() {
        let m = TaskConstraints {
            max_wall_clock_time: Some(UNLIMITED_DURATION.into()),
            retention_time: Some("P7D".into()),
            max_task_retry_count: Some(2),
        };
        assert_eq!(constraints_from_model(Some(&m), &Value::Null), Value::Null);
        let prior = Value::object([
            ("max_wall_clock_time", Value::string("PT60M")),
            ("retention_time", Value::Null),
            ("max_task_retry_count", Value::int(1)),
        ]);
        let m = TaskConstraints {
            max_wall_clock_time: Some("PT1H".into()),
            retention_time: Some("P7D".into()),
            max_task_retry_count: Some(1),
        };
        assert_eq!(constraints_from_model(Some(&m), &prior), prior);
    }

    #[test]
    fn exit_conditions_defaults_are_unset_and_known_ones_stay() {
        let defaults = ExitConditions {
            default: Some(ExitOptions {
                job_action: Some("none".into()),
                dependency_action: Some("satisfy".into()),
            }),
            ..Default::default()
        };
        assert_eq!(
            exit_conditions_from_model(Some(&defaults), &Value::Null),
            Value::Null
        );
        let m = ExitConditions {
            exit_codes: Some(vec![ExitCodeMapping {
                code: 3,
                exit_options: ExitOptions {
                    job_action: Some("Terminate".into()),
                    dependency_action: None,
                },
            }]),
            ..Default::default()
        };
        let v = exit_conditions_from_model(Some(&m), &Value::Null);
        let first = &v.get("exit_code").elements()[0];
        assert_eq!(first.get("code"), &Value::int(3));
        assert_eq!(first.get("job_action"), &Value::string("terminate"));
        assert_eq!(v.get("default"), &Value::Null);
        // Immutable in Batch: a known value is kept as configured.
        assert_eq!(exit_conditions_from_model(Some(&defaults), &v), v);
    }

    #[test]
    fn ids_come_from_attributes_or_the_id() {
        let v = Value::object([("id", Value::string("j/t"))]);
        assert_eq!(ids_of(&v), ("j".to_string(), "t".to_string()));
    }
}
