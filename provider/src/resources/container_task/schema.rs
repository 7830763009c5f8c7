//! The schema of `batch_container_task`. The common task parts (command line, environment,
//! container, resource files, constraints, user identity) come from `common::task_spec`.

use tfplugin::Value;
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema, timeouts_block};
use tfplugin::semantics::{IgnoreCase, UrlIgnoringQuery};
use tfplugin::validators::{IntBetween, NotEmpty, OneOf};

use crate::common::task_spec::{TaskSpecSchema, resource_file_block};
use crate::common::validators::BatchId;

fn command_line_attr() -> Attribute {
    Attribute::string("command_line")
        .default(Value::string(""))
        .description("The command to run in the container. It does not run under a shell: use `/bin/sh -c \"...\"` for `$VARIABLES`, pipes or redirections. `\"\"` (the default) runs the image's ENTRYPOINT. Changing it replaces (re-runs) the task.")
}

fn environment_attr() -> Attribute {
    Attribute::string_map("environment").optional().description("Environment variables for the task, in addition to Batch's `AZ_BATCH_*` variables. Changing them replaces the task.")
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

/// The schema, built once: plan, read and apply code asks for it (and its value type) on every
/// call.
pub fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(build_schema)
}

fn build_schema() -> Schema {
    let spec = TaskSpecSchema::new("task")
        .command_line(command_line_attr())
        .environment(environment_attr())
        .resource_files()
        .constraints(" Changes apply in place (Task_Update).")
        .user_identity()
        .requires_replace();
    Schema::new(spec.add_to(
        Block::new("A task of a Batch job that runs a command in a container on the job's pool. Batch runs it once; Terraform does not run a finished task again unless it is replaced (or it failed while `wait_for_completion` was set, which marks it tainted).")
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("`<job_id>/<name>`."))
            .attr(Attribute::string("job_id").required().requires_replace().validate(BatchId).description("The job to add the task to (`batch_job.<name>.id`). Changing it replaces the task."))
            .attr(Attribute::string("name").required().requires_replace().validate(BatchId).description("The task id in Batch: 1 to 64 letters, digits, hyphens and underscores, unique in the job (case-insensitive). Changing it replaces the task."))
            .attr(Attribute::string("display_name").optional().requires_replace().description("A friendly name of up to 1024 characters. Changing it replaces the task."))
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
            .block(NestedBlock::list("output_file", output_file_block()).requires_replace())
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
                        .attr(Attribute::number("number_of_instances").optional().validate(IntBetween(1, 1000)).server_default(Value::int(1)).description("How many nodes the task needs. Default `1`."))
                        .attr(Attribute::string("coordination_command_line").required().description("Command Batch runs on every node (primary and subtasks) before the main command runs on the primary, e.g. to start an MPI daemon."))
                        .block(NestedBlock::list("common_resource_file", resource_file_block())),
                )
                .requires_replace(),
            )
            .block(NestedBlock::single("exit_conditions", exit_conditions_block()).requires_replace())
            .block(timeouts_block(&[("create", "60m"), ("update", "10m"), ("delete", "10m")])),
    ))
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
