//! The arguments of a container task beyond the common task spec — display name, slots, output
//! files, dependencies, multi-instance settings, exit conditions — as one schema piece
//! ([`task_arguments`]) and their models: shared by `batch_container_task` (blocks) and
//! `batch_container_task_collection` (the same arguments as nested attributes of each task).

use serde::{Deserialize, Serialize};
use tfplugin::model::Tf;
use tfplugin::schema::{Attribute, Block, NestedBlock};
use tfplugin::semantics::{IgnoreCase, UrlIgnoringQuery};
use tfplugin::validators::{IntBetween, NotEmpty, OneOf};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::{
    ResourceFileModel, TaskContainerCheck, TaskSpecSchema, check_task_container,
    resource_file_block,
};

fn command_line_attr() -> Attribute {
    Attribute::string("command_line")
        .default(Value::string(""))
        .description("The command to run in the container. It does not run under a shell: use `/bin/sh -c \"...\"` for `$VARIABLES`, pipes or redirections. `\"\"` (the default) runs the image's ENTRYPOINT. Changing it replaces (re-runs) the task.")
}

fn environment_attr() -> Attribute {
    Attribute::string_map("environment").optional().description("Environment variables for the task, in addition to Batch's `AZ_BATCH_*` variables. Changing them replaces the task.")
}

/// Adds every argument of a container task (but its job, name, waiting and timeouts) to `b`.
/// `replace`: each of them, but `constraints`, forces replacement (a resource per task); a
/// collection decides per task instead.
pub fn task_arguments(b: Block, replace: bool) -> Block {
    let mut spec = TaskSpecSchema::new("task")
        .command_line(command_line_attr())
        .environment(environment_attr())
        .resource_files()
        .constraints(" Changes apply in place (Task_Update). A task Batch removed after its `retention_time` is planned for creation again.")
        .user_identity();
    if replace {
        spec = spec.requires_replace();
    }
    let attr = |a: Attribute| if replace { a.requires_replace() } else { a };
    let block = |n: NestedBlock| if replace { n.requires_replace() } else { n };
    let b = b
        .attr(attr(Attribute::string("display_name").optional().description("A friendly name of up to 1024 characters. Changing it replaces the task.")))
        .attr(attr(Attribute::number("required_slots").default(Value::int(1)).validate(IntBetween(1, 256)).description("How many of a node's task slots the task occupies (at most the pool's `task_slots_per_node`). Default `1`.")))
        .block(block(NestedBlock::list("output_file", output_file_block())))
        .block(block(NestedBlock::single(
            "dependencies",
            Block::new("Tasks of the same job that must complete successfully before this one starts. The job needs `uses_task_dependencies = true`.")
                .attr(Attribute::string_list("task_ids").optional().description("Names of tasks this task waits for."))
                .block(NestedBlock::list(
                    "task_id_range",
                    Block::new("A range of numeric task names (e.g. 1 to 100) this task waits for.")
                        .attr(Attribute::number("start").required().validate(IntBetween(0, i32::MAX as i64)).description("First task name of the range."))
                        .attr(Attribute::number("end").required().validate(IntBetween(0, i32::MAX as i64)).description("Last task name of the range (inclusive).")),
                )),
        )))
        .block(block(NestedBlock::single(
            "multi_instance",
            Block::new("Run the task on several nodes at once (MPI). The pool needs `inter_node_communication = true`.")
                .attr(Attribute::number("number_of_instances").optional().validate(IntBetween(1, 1000)).server_default(Value::int(1)).description("How many nodes the task needs. Default `1`."))
                .attr(Attribute::string("coordination_command_line").required().description("Command Batch runs on every node (primary and subtasks) before the main command runs on the primary, e.g. to start an MPI daemon."))
                .block(NestedBlock::list("common_resource_file", resource_file_block())),
        )))
        .block(block(NestedBlock::single("exit_conditions", exit_conditions_block())));
    spec.add_to(b)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputFileModel {
    pub file_pattern: String,
    pub container_url: String,
    pub path: Option<String>,
    pub upload_condition: Option<String>,
    pub identity_reference: Option<String>,
    pub upload_headers: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DependenciesModel {
    pub task_ids: Option<Vec<String>>,
    #[serde(default)]
    pub task_id_range: Vec<TaskIdRangeModel>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskIdRangeModel {
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiInstanceModel {
    pub number_of_instances: Option<i64>,
    pub coordination_command_line: String,
    #[serde(default)]
    pub common_resource_file: Vec<ResourceFileModel>,
}

/// `job_action` / `dependency_action` of one exit condition (strings: OneOf validators).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExitOptionsModel {
    pub job_action: Option<String>,
    pub dependency_action: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExitCodeModel {
    pub code: i64,
    pub job_action: Option<String>,
    pub dependency_action: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExitCodeRangeModel {
    pub start: i64,
    pub end: i64,
    pub job_action: Option<String>,
    pub dependency_action: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExitConditionsModel {
    #[serde(default)]
    pub exit_code: Vec<ExitCodeModel>,
    #[serde(default)]
    pub exit_code_range: Vec<ExitCodeRangeModel>,
    pub pre_processing_error: Option<ExitOptionsModel>,
    pub file_upload_error: Option<ExitOptionsModel>,
    pub default: Option<ExitOptionsModel>,
}

/// The configuration view for validation: the parts whose rules span attributes.
#[derive(Deserialize)]
pub struct TaskCheck {
    pub container: Tf<TaskContainerCheck>,
    pub dependencies: Option<DependenciesCheck>,
}

#[derive(Deserialize)]
pub struct DependenciesCheck {
    pub task_id_range: Option<Vec<RangeCheck>>,
}

#[derive(Deserialize)]
pub struct RangeCheck {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

pub fn output_file_block() -> Block {
    Block::new("Files Batch uploads to an Azure Storage blob container after the task ends.")
        .attr(Attribute::string("file_pattern").required().validate(NotEmpty::like("output.txt")).description("Which files to upload, relative to the task's working directory; wildcards `*` and `**` are allowed, e.g. `output.txt` or `results/**/*.csv`. `../stdout.txt` uploads the task's stdout."))
        .attr(Attribute::string("container_url").required().sensitive().validate(NotEmpty::like("https://mystorage.blob.core.windows.net/results?<SAS token>")).semantics(UrlIgnoringQuery).description("URL of the blob container, with write access (e.g. a SAS URL). Sensitive because SAS tokens are credentials."))
        .attr(Attribute::string("path").optional().description("Blob name (single file) or virtual directory (wildcard pattern) in the container. Default: the file's path under the working directory."))
        .attr(
            Attribute::string("upload_condition")
                .default(Value::string("taskcompletion"))
                .validate(OneOf(&["tasksuccess", "taskfailure", "taskcompletion"]))
                .semantics(IgnoreCase)
                .description("When to upload: `tasksuccess`, `taskfailure` or `taskcompletion` (always; default)."),
        )
        .attr(Attribute::string("identity_reference").optional().description("Resource id of a user-assigned managed identity of the pool to write to Azure Storage with, instead of a SAS in the URL."))
        .attr(Attribute::string_map("upload_headers").optional().description("HTTP headers to set on the uploaded blobs, e.g. `{ \"Content-Type\" = \"text/plain\" }`."))
}

const JOB_ACTIONS: &[&str] = &["none", "disable", "terminate"];
const DEPENDENCY_ACTIONS: &[&str] = &["satisfy", "block"];

fn exit_options_attrs(b: Block) -> Block {
    b.attr(
        Attribute::string("job_action")
            .optional()
            .validate(OneOf(JOB_ACTIONS))
            .semantics(IgnoreCase)
            .description("What Batch does to the job: `none` (default), `disable` or `terminate`."),
    )
    .attr(
        Attribute::string("dependency_action")
            .optional()
            .validate(OneOf(DEPENDENCY_ACTIONS))
            .semantics(IgnoreCase)
            .description("Whether tasks that depend on this one may run: `satisfy` (default for success) or `block`."),
    )
}

pub fn exit_conditions_block() -> Block {
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

/// The rules of a task's arguments that span attributes beyond those declared on the blocks: a
/// container is required; task id ranges run upwards. `root` is where the task's arguments are.
pub fn check_task_arguments(c: &TaskCheck, root: &AttrPath, diags: &mut Diagnostics) {
    match &c.container {
        Tf::Null => diags.attr_error(
            &root.child("container"),
            "Missing container",
            "A container task needs `container` with an `image_name`: the image the task runs in.",
        ),
        Tf::Unknown => {}
        Tf::Known(k) => check_task_container(k, &root.child("container"), diags),
    }
    let ranges = c
        .dependencies
        .as_ref()
        .and_then(|d| d.task_id_range.as_ref());
    for (i, r) in ranges.into_iter().flatten().enumerate() {
        if let (Some(s), Some(e)) = (r.start, r.end)
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
