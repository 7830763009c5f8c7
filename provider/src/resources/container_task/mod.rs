//! `batch_container_task`: one task of a job, run in a container on the job's pool.
//!
//! Batch semantics this resource maps onto Terraform:
//! - Task_Add creates the task (Batch id = `name`, Terraform id = `<job_id>/<name>`). The client
//!   retries it safely: after an ambiguous failure it adopts a `TaskExists` only when the
//!   existing task matches what was sent, so a retry never creates a second task.
//! - Only `constraints` can change (Task_Update, with If-Match); everything else replaces.
//! - `wait_for_completion` makes apply wait for the task to finish; a failed task fails the apply
//!   with its exit code, failure information and the end of its stderr, and stays in state as
//!   tainted so that the next apply runs it again.
//! - A finished task is never run again by refresh or plan: read only reads. A task Batch no
//!   longer has (deleted, or removed after its retention time) leaves state with a warning.

//!
//! Layout: `model.rs` (typed model), `schema.rs`, `expand.rs` / `flatten.rs` (Terraform <->
//! Batch), `plan.rs` (what an update does, shared by plan and apply), `apply.rs` (the Batch
//! calls), `wait.rs` (waiting for completion and failure reports). The common task parts live
//! in `common::task_spec`.

mod apply;
mod expand;
mod flatten;
pub mod list;
mod model;
mod plan;
mod schema;
mod wait;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Identity, ImportResponse, PlanRequest,
    PlanResponse, ReadRequest, ReadResponse, Resource,
};
use tfplugin::model::from_value;
use tfplugin::schema::Schema;
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::task_spec::task_parts::check_task_arguments;
use crate::common::{Batch, overwrite};
use model::{TaskCheck, TaskModel};
use plan::{UpdateStep, UpdateView, plan_update, planned_id};

pub struct ContainerTaskResource;

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
        schema::schema().clone()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Ok(c) = from_value::<TaskCheck>(config) {
            validate_task(&c, diags);
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        let ty = schema::schema().value_type();
        let Ok(planned) = from_value::<UpdateView>(&resp.planned) else {
            return;
        };
        if req.prior.is_null() {
            // `<job_id>/<name>` is known once both are (also on the create half of a
            // replacement, which Terraform plans with a null prior): show it in the plan.
            if let Some(id) = planned_id(&planned) {
                let _ = overwrite(&mut resp.planned, &id, ty);
            }
            return;
        }
        if !resp.requires_replace.is_empty() {
            return;
        }
        let (Ok(prior), Ok(prior_model)) = (
            from_value::<UpdateView>(req.prior),
            from_value::<TaskModel>(req.prior),
        ) else {
            return;
        };
        // An in-place update (constraints, wait_for_completion, timeouts) leaves the run as it
        // is, unless apply has to wait for a task that has not finished yet.
        if !plan_update(&prior, &planned).contains(&UpdateStep::WaitForCompletion) {
            let _ = overwrite(&mut resp.planned, &prior_model.run(), ty);
        }
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

/// The rules that span attributes beyond those declared on the blocks.
fn validate_task(c: &TaskCheck, diags: &mut Diagnostics) {
    check_task_arguments(c, &AttrPath::root(), diags);
}
