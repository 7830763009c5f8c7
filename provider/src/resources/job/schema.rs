//! The `batch_job` schema: what users write, with descriptions for the docs.

use tfplugin::Value;
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema, timeouts_block};
use tfplugin::semantics::IgnoreCase;
use tfplugin::validators::{IntBetween, NotEmpty, OneOf};

use crate::common::job_spec::job_constraints_block;
use crate::common::job_tasks::{TaskChanges, with_job_tasks};
use crate::common::manager_task::manager_task_block;
use crate::common::validators::BatchId;

/// The schema, built once: plan, read and apply code asks for it (and its value type) on every
/// call.
pub fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(build_schema)
}

fn build_schema() -> Schema {
    let job = Block::new("A Batch job: a queue of tasks that run on one pool. Tasks are added with `batch_container_task`. Destroying the job deletes its tasks and their files.")
            .attr(
                Attribute::string("id")
                    .computed()
                    .semantics(IgnoreCase)
                    .use_state_for_unknown()
                    .description("The job id (the same as `name`)."),
            )
            .attr(
                Attribute::string("name")
                    .required()
                    .semantics(IgnoreCase)
                    .requires_replace()
                    .validate(BatchId)
                    .description("The job id in Batch: 1 to 64 letters, digits, hyphens and underscores, unique in the account (case-insensitive). Changing it, other than in case, replaces the job."),
            )
            .attr(
                Attribute::string("display_name")
                    .optional()
                    .requires_replace()
                    .description("A friendly name of up to 1024 characters. Batch cannot change it later, so a change replaces the job."),
            )
            .attr(
                Attribute::string("pool_id")
                    .required()
                    .semantics(IgnoreCase)
                    .requires_replace()
                    .validate(NotEmpty::like("mypool"))
                    .description("The pool whose nodes run the job's tasks. Batch moves a job to another pool only while the job is disabled, so a change (other than in case) replaces the job (and deletes its tasks)."),
            )
            .attr(
                Attribute::number("priority")
                    .default(Value::int(0))
                    .validate(IntBetween(-1000, 1000))
                    .description("Scheduling priority from -1000 (lowest) to 1000 (highest); Batch runs tasks of higher-priority jobs first. Default `0`. Changes apply in place."),
            )
            .attr(
                Attribute::number("max_parallel_tasks")
                    .default(Value::int(-1))
                    .validate(IntBetween(-1, i32::MAX as i64))
                    .description("The most tasks of this job that run at the same time; `-1` means no limit. Must be `-1` or greater than 0. Default `-1`. Changes apply in place."),
            )
            .attr(
                Attribute::bool("uses_task_dependencies")
                    .default(Value::Bool(false))
                    .requires_replace()
                    .description("Whether tasks of this job may depend on each other (`dependencies` in `batch_container_task`). Default `false`. Batch fixes it at creation, so a change replaces the job."),
            )
            .attr(
                Attribute::string("on_all_tasks_complete")
                    .default(Value::string("noaction"))
                    .validate(OneOf(&["noaction", "terminatejob"]))
                    .description("What Batch does when every task of the job is complete: `noaction` (the job stays active; default) or `terminatejob` (the job completes and accepts no more tasks). Changes apply in place, except from `terminatejob` back to `noaction`, which Batch refuses and which therefore replaces the job."),
            )
            .attr(
                Attribute::string("on_task_failure")
                    .default(Value::string("noaction"))
                    .requires_replace()
                    .validate(OneOf(&["noaction", "performexitoptionsjobaction"]))
                    .description("What Batch does when a task of the job fails: `noaction` (default) or `performexitoptionsjobaction` (apply the `job_action` of the task's `exit_conditions`, e.g. terminate the job). Batch fixes it at creation, so a change replaces the job."),
            )
            .attr(
                Attribute::string_map("metadata")
                    .optional()
                    .description("Name-value pairs Batch stores with the job without interpreting them. Changes apply in place."),
            )
            .attr(
                Attribute::string("state")
                    .computed()
                    .description("The job's state in Batch: `active`, `disabling`, `disabled`, `enabling`, `terminating`, `completed` or `deleting`."),
            )
            .block(NestedBlock::single(
                "constraints",
                job_constraints_block("Execution limits of the job as a whole. Changes apply in place (Job_Patch)."),
            ));
    Schema::new(
        with_job_tasks(job, TaskChanges::Replace)
            .block(
                NestedBlock::single(
                    "manager_task",
                    manager_task_block("The job manager task: Batch starts it with the job, in a container on the pool, and (with `kill_job_on_completion`) completes the job when it ends. Batch cannot change it later, so a change replaces the job."),
                )
                .requires_replace(),
            )
            .block(timeouts_block(&[("create", "5m"), ("update", "5m"), ("delete", "30m")])),
    )
}
