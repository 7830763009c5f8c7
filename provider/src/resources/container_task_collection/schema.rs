//! The schema of `batch_container_task_collection`: one job, a map of tasks whose objects carry
//! every argument of `batch_container_task` as nested attributes (`common::task_spec`), and the
//! computed results per task.

use tfplugin::Value;
use tfplugin::schema::{Attribute, Block, Nesting, Schema, timeouts_block};

use crate::common::task_spec::task_parts::task_arguments;
use crate::common::validators::BatchId;

/// One task of the map: the arguments of a container task, written as `name = { ... }`. None
/// forces replacement of the collection: the update planner replaces a changed task alone.
pub fn task_object() -> Block {
    task_arguments(
        Block::new("One task: every argument of `batch_container_task` but its job, name, waiting and timeouts, written as nested attributes (`container = { image_name = \"...\" }`, `output_file = [{ ... }]`)."),
        false,
    )
    .to_nested_attributes()
}

fn result_attrs() -> Vec<Attribute> {
    vec![
        Attribute::string("state")
            .computed()
            .description("`active` (queued), `preparing`, `running` or `completed`."),
        Attribute::number("exit_code")
            .computed()
            .description("The exit code of the task's command once it completed, else null."),
        Attribute::string("result")
            .computed()
            .description("`success` or `failure` once the task completed, else null."),
    ]
}

/// The schema, built once.
pub fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(build_schema)
}

fn build_schema() -> Schema {
    Schema::new(
        Block::new("Many container tasks of one job as one resource, for parameter sweeps and fan-out: tasks are added in bulk (Task_AddCollection, 100 per request, several requests at once) and watched with one listing per poll instead of one request per task. Changing the map changes only the tasks whose entries changed: new names are added, removed names are deleted, a changed task is replaced alone (a `constraints` change applies in place), every other task is untouched. For many tasks this is much faster and lighter on the service than as many `batch_container_task` resources.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("The job id (`job_id`)."))
            .attr(Attribute::string("job_id").required().requires_replace().validate(BatchId).description("The job to add the tasks to (`batch_job.<name>.id`). Changing it replaces the collection: its tasks are deleted and added to the new job."))
            .attr(
                Attribute::nested_object("tasks", Nesting::Map, task_object())
                    .required()
                    .description("The tasks, by name: each key is the task id in Batch (1 to 64 letters, digits, hyphens and underscores, unique in the job, case-insensitive), each value the task's arguments. Typically built with a `for` expression, e.g. `{ for i in range(100) : \"frame-${i}\" => { command_line = \"render ${i}\", container = { image_name = \"render:1.4\" } } }`. Adding a key adds that task; removing one deletes it; changing an entry replaces (re-runs) that task alone, except `constraints`, which change in place."),
            )
            .attr(Attribute::bool("wait_for_completion").default(Value::Bool(false)).description("Whether apply waits until every task it added has finished (bounded by `timeouts.create` / `timeouts.update`). Failed tasks then fail the apply, listed by name with exit code, failure information and the end of stderr (the first ten, then a count), and only they run again on the next apply. Default `false`: apply returns once Batch has accepted the tasks."))
            .attr(
                Attribute::nested("results", Nesting::Map, result_attrs())
                    .computed()
                    .description("Per task name: `state`, `exit_code` and `result` as Batch last reported them (refreshed on every read). A task whose `result` is `failure` is planned to run again."),
            )
            .block(timeouts_block(&[("create", "2h"), ("update", "2h"), ("delete", "30m")])),
    )
}
