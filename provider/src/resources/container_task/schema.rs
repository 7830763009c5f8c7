//! The schema of `batch_container_task`. The common task parts (command line, environment,
//! container, resource files, constraints, user identity) come from `common::task_spec`.

use tfplugin::Value;
use tfplugin::schema::{Attribute, Block, Schema, timeouts_block};

#[cfg(test)]
pub use crate::common::task_spec::task_parts::output_file_block;
use crate::common::task_spec::task_parts::task_arguments;
use crate::common::validators::BatchId;

/// The schema, built once: plan, read and apply code asks for it (and its value type) on every
/// call.
pub fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(build_schema)
}

fn build_schema() -> Schema {
    Schema::new(task_arguments(
        Block::new("A task of a Batch job that runs a command in a container on the job's pool. Batch runs it once; Terraform does not run a finished task again unless it is replaced (or it failed while `wait_for_completion` was set, which marks it tainted). For many tasks of one job (parameter sweeps, one task per input), `batch_container_task_collection` adds them in bulk and watches them with one listing per poll. Many separate tasks work too: Terraform applies 10 resources at a time by default, so run `terraform apply -parallelism=100` (or more) to add and wait for them together; tasks of the same job that wait share one listing per job per poll.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("`<job_id>/<name>`."))
            .attr(Attribute::string("job_id").required().requires_replace().validate(BatchId).description("The job to add the task to (`batch_job.<name>.id`). Changing it replaces the task."))
            .attr(Attribute::string("name").required().requires_replace().validate(BatchId).description("The task id in Batch: 1 to 64 letters, digits, hyphens and underscores, unique in the job (case-insensitive). Changing it replaces the task."))
            .attr(Attribute::bool("wait_for_completion").default(Value::Bool(false)).description("Whether apply waits until the task has finished (bounded by `timeouts.create`). A task that fails (nonzero exit code or a failure such as a missing image) then fails the apply with its exit code, failure information and the end of its stderr, and is marked tainted so the next apply runs it again. Default `false`: apply returns once Batch has accepted the task."))
            .attr(Attribute::string("state").computed().description("`active` (queued), `preparing`, `running` or `completed`."))
            .attr(Attribute::number("exit_code").computed().description("The exit code of the task's command, once it completed (null while it has not run)."))
            .attr(Attribute::string("result").computed().description("`success` or `failure` once the task completed, else null."))
            .attr(Attribute::string("node_id").computed().description("The node that ran (or runs) the task."))
            .attr(Attribute::string("start_time").computed().description("When the task started running (RFC 3339), else null."))
            .attr(Attribute::string("end_time").computed().description("When the task completed (RFC 3339), else null."))
            .attr(Attribute::number("retry_count").computed().description("How often Batch retried the task after a nonzero exit code."))
            .block(timeouts_block(&[("create", "60m"), ("update", "10m"), ("delete", "10m")])),
        true,
    ))
}
