//! `batch_container_task_collection`: many container tasks of one job as one resource.
//!
//! Batch semantics this resource maps onto Terraform:
//! - Create adds every task with Task_AddCollection (the client sends chunks of at most 100
//!   tasks and under 1 MB, several at once, retries server errors for the affected tasks alone
//!   and adopts a task an ambiguous attempt created only when it matches what was sent). A
//!   create that finds tasks of its names already in the job adds nothing and names the import
//!   that adopts them.
//! - Update by key, decided by a pure planner (`plan.rs`) that plan and apply share: new names
//!   are added in bulk, removed names deleted, a changed entry replaced alone (deleted, then
//!   added), a `constraints` change applied in place (Task_Update), a task whose run failed
//!   replaced; every other task is untouched.
//! - Waiting and reading use one paged Task_List for the whole job per poll (`$filter` to the
//!   unfinished tasks while waiting, `$select` on read). Tasks Batch no longer has leave the
//!   state and are planned again.
//! - Import by `<job_id>` adopts every task of the job.
//!
//! Layout: `model.rs`, `schema.rs`, `plan.rs` (the planner), `apply.rs` (the Batch calls). The
//! task arguments and their mapping live in `common::task_spec`, the listing and failure
//! reports in `common::task_watch`.

mod apply;
mod model;
mod plan;
mod schema;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, ImportResponse, PlanRequest, PlanResponse,
    ReadRequest, ReadResponse, Resource,
};
use tfplugin::model::{Tf, from_value};
use tfplugin::schema::Schema;
use tfplugin::{Diagnostics, Value};

use crate::common::Batch;
use crate::common::task_spec::task_parts::check_task_arguments;
use crate::common::validators::is_batch_id;
use model::CollectionCheck;

pub struct ContainerTaskCollectionResource;

#[async_trait]
impl Resource<Batch> for ContainerTaskCollectionResource {
    fn type_name(&self) -> &'static str {
        "batch_container_task_collection"
    }

    fn schema(&self) -> Schema {
        schema::schema().clone()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Ok(c) = from_value::<CollectionCheck>(config) {
            validate_tasks(&c, diags);
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        if resp.planned.is_null() {
            return;
        }
        apply::plan(req.prior, &mut resp.planned);
    }

    async fn create(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        apply::create(ctx, req).await
    }

    async fn read(&self, ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
        apply::read(ctx, req).await
    }

    async fn update(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        apply::update(ctx, req).await
    }

    async fn delete(&self, ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
        apply::delete(ctx, req).await
    }

    async fn import(&self, _ctx: &Ctx<Batch>, id: &str) -> ImportResponse {
        apply::import(id)
    }
}

/// Each name is a Batch task id, unique in the job ignoring case; each entry follows the rules
/// of a container task.
fn validate_tasks(c: &CollectionCheck, diags: &mut Diagnostics) {
    let Tf::Known(tasks) = &c.tasks else {
        return;
    };
    let mut seen = std::collections::BTreeMap::new();
    for (name, t) in tasks {
        let path = apply::task_path(name);
        if !is_batch_id(name) {
            diags.attr_error(
                &path,
                "Invalid task name",
                format!("{name:?} is not a valid task id: use 1 to 64 letters, digits, hyphens and underscores (e.g. \"frame-1\")."),
            );
        }
        if let Some(other) = seen.insert(name.to_ascii_lowercase(), name) {
            diags.attr_error(
                &path,
                "Duplicate task name",
                format!("{name:?} and {other:?} name the same task: Batch task ids are case-insensitive. Rename one of them."),
            );
        }
        check_task_arguments(t, &path, diags);
    }
}
