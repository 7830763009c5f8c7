//! The `batch_job_schedule` schema: what users write, with descriptions for the docs.

use tfplugin::Value;
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema, timeouts_block};
use tfplugin::semantics::{IgnoreCase, SameIsoDuration};
use tfplugin::validators::{IntBetween, Iso8601Duration, NotEmpty, OneOf};

use crate::common::job_spec::job_constraints_block;
use crate::common::job_tasks::{TaskChanges, with_job_tasks};
use crate::common::manager_task::manager_task_block;
use crate::common::validators::{
    AtLeastOneMinute, BatchId, MaxParallelTasks, Rfc3339, SameInstant,
};

fn schedule_block() -> Block {
    Block::new("When Batch makes the jobs. Without it (or with none of its attributes) Batch makes one job at once. Changes apply in place (JobSchedule_Patch) and affect future runs only.")
        .attr(
            Attribute::string("recurrence_interval")
                .optional()
                .semantics(SameIsoDuration)
                .validate(Iso8601Duration)
                .validate(AtLeastOneMinute)
                .description("Time between the starts of two jobs, as an ISO 8601 duration of at least one minute, e.g. `P1D`. Batch never runs two jobs of the schedule at once: a run that comes due while the previous job is active waits until it completes (within `start_window`). Unset: one job only, after which the schedule completes."),
        )
        .attr(
            Attribute::string("do_not_run_until")
                .optional()
                .semantics(SameInstant)
                .validate(Rfc3339)
                .description("The earliest time of the first job (RFC 3339, e.g. `2026-12-06T02:00:00Z`). Unset or past: the first job is made at once."),
        )
        .attr(
            Attribute::string("do_not_run_after")
                .optional()
                .semantics(SameInstant)
                .validate(Rfc3339)
                .description("No job is made after this time (RFC 3339); the schedule completes once it passes and no job is active. Unset: the schedule runs until it is terminated or destroyed."),
        )
        .attr(
            Attribute::string("start_window")
                .optional()
                .semantics(SameIsoDuration)
                .validate(Iso8601Duration)
                .validate(AtLeastOneMinute)
                .description("How long after its due time a run may still start (ISO 8601, at least one minute). A run that cannot start within it (because the previous job is still active) is skipped. Unset: no limit."),
        )
}

fn job_block() -> Block {
    let job = Block::new("The job Batch makes at each run (`<name>:job-<n>`). Changes apply in place (JobSchedule_Patch) to future jobs; a job already running keeps the specification it was made with.")
        .attr(
            Attribute::string("pool_id")
                .required()
                .semantics(IgnoreCase)
                .validate(NotEmpty)
                .description("The pool whose nodes run each job's tasks."),
        )
        .attr(
            Attribute::string("display_name")
                .optional()
                .description("A friendly name for each job, up to 1024 characters."),
        )
        .attr(
            Attribute::number("priority")
                .default(Value::int(0))
                .validate(IntBetween(-1000, 1000))
                .description("Scheduling priority of each job, from -1000 (lowest) to 1000 (highest). Default `0`."),
        )
        .attr(
            Attribute::number("max_parallel_tasks")
                .default(Value::int(-1))
                .validate(IntBetween(-1, i32::MAX as i64))
                .validate(MaxParallelTasks)
                .description("The most tasks of each job that run at the same time; `-1` means no limit. Must be `-1` or greater than 0. Default `-1`."),
        )
        .attr(
            Attribute::bool("uses_task_dependencies")
                .default(Value::Bool(false))
                .description("Whether tasks of each job may depend on each other. Default `false`."),
        )
        .attr(
            Attribute::string("on_all_tasks_complete")
                .default(Value::string("noaction"))
                .validate(OneOf(&["noaction", "terminatejob"]))
                .description("What Batch does when every task of a job is complete: `noaction` (default) or `terminatejob`."),
        )
        .attr(
            Attribute::string("on_task_failure")
                .default(Value::string("noaction"))
                .validate(OneOf(&["noaction", "performexitoptionsjobaction"]))
                .description("What Batch does when a task of a job fails: `noaction` (default) or `performexitoptionsjobaction`."),
        )
        .attr(
            Attribute::string_map("environment")
                .optional()
                .description("Environment variables for every task of each job (tasks may override them)."),
        )
        .attr(
            Attribute::string_map("metadata")
                .optional()
                .description("Name-value pairs Batch stores with each job without interpreting them (the schedule's own are the top-level `metadata`)."),
        )
        .block(NestedBlock::single(
            "constraints",
            job_constraints_block("Execution limits of each job. Changes apply to future jobs."),
        ))
        .block(NestedBlock::single(
            "manager_task",
            manager_task_block("The job manager task: Batch starts it with each job, in a container on the pool, and (with `kill_job_on_completion`) completes the job when it ends."),
        ));
    with_job_tasks(job, TaskChanges::InPlace)
}

/// The schema, built once.
pub fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(build_schema)
}

fn build_schema() -> Schema {
    Schema::new(
        Block::new("A Batch job schedule: Batch makes a job from the `job` block at each run of the `schedule` (a nightly report, an hourly ingest), its job manager task doing the work in a container. Destroying the schedule terminates and deletes it with all its jobs.")
            .attr(
                Attribute::string("id")
                    .computed()
                    .semantics(IgnoreCase)
                    .use_state_for_unknown()
                    .description("The schedule id (the same as `name`)."),
            )
            .attr(
                Attribute::string("name")
                    .required()
                    .semantics(IgnoreCase)
                    .requires_replace()
                    .validate(BatchId)
                    .description("The schedule id in Batch: 1 to 64 letters, digits, hyphens and underscores, unique in the account (case-insensitive). Its jobs are named `<name>:job-<n>`. Changing it, other than in case, replaces the schedule."),
            )
            .attr(
                Attribute::string("display_name")
                    .optional()
                    .requires_replace()
                    .description("A friendly name of up to 1024 characters. Batch cannot change it later, so a change replaces the schedule."),
            )
            .attr(
                Attribute::string_map("metadata")
                    .optional()
                    .description("Name-value pairs Batch stores with the schedule without interpreting them. Changes apply in place."),
            )
            .attr(
                Attribute::string("state")
                    .computed()
                    .description("The schedule's state in Batch: `active`, `disabled`, `terminating`, `completed` or `deleting`. Terraform does not manage it: a schedule disabled outside Terraform stays disabled (enable it through Batch). A `completed` schedule (terminated, or past `do_not_run_after`) takes no update, so a change to its configuration replaces it; `terraform apply -replace` starts it again without one."),
            )
            .attr(
                Attribute::string("next_run_time")
                    .computed()
                    .description("When Batch makes the next job (RFC 3339), if the schedule is active and another run is planned."),
            )
            .attr(
                Attribute::string("recent_job_id")
                    .computed()
                    .description("The id of the job of the latest run (`<name>:job-<n>`), once Batch made one."),
            )
            .block(NestedBlock::single("schedule", schedule_block()))
            .block(NestedBlock::single("job", job_block()).min_items(1))
            .block(timeouts_block(&[("create", "5m"), ("update", "5m"), ("delete", "30m")])),
    )
}
