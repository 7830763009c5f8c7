//! `batch_job`: a Batch job bound to a pool, with optional preparation and release tasks.
//!
//! Batch semantics this module maps onto Terraform:
//! - Job_Add creates the job (id = `name`); the job is usable at once, nothing to wait for.
//! - Job_Patch (merge) changes priority, max_parallel_tasks, on_all_tasks_complete, constraints
//!   and metadata in place. When a constraint is removed from the configuration, Job_Update (PUT,
//!   replace semantics) is used instead so that the service resets it to its default.
//! - The pool of a job can only be patched while the job is disabled, so `pool_id` (like every
//!   other property) forces replacement.
//! - `onAllTasksComplete` cannot go back from `terminatejob` to `noaction`: that change replaces.
//! - Updates carry If-Match with the ETag kept in private state.
//! - Job_Delete is asynchronous: destroy waits until the job is gone (404).
//!
//! Layout: `schema` (what users write), `model` (the same as Rust types), `expand` (model ->
//! Batch bodies), `flatten` (Batch -> model), `plan` (which calls an update makes), `apply`
//! (the calls). The preparation and release tasks build on the shared task spec
//! (`common::task_spec`).

mod apply;
mod expand;
mod flatten;
#[cfg(test)]
mod in_process_tests;
pub mod list;
pub(crate) mod model;
mod plan;
mod schema;
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

use crate::common::Batch;
use crate::common::job_tasks::validate_job_tasks;
use model::{JobModel, attr, job_path};
use plan::{ReplaceReason, plan_job_update};

pub struct JobResource;

/// A plan or configuration as the model can read it: a top-level collection or block that is
/// only partly known (a map with an unknown value, a task whose command line is known after
/// apply) counts as unknown as a whole. Plan-time decisions need only top-level values.
fn readable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_map_mut() {
        for a in m.values_mut() {
            let nested = matches!(
                a,
                Value::Map(_) | Value::List(_) | Value::Set(_) | Value::Object(_)
            );
            if nested && !a.is_wholly_known() {
                *a = Value::Unknown;
            }
        }
    }
    v
}

/// The model of a configuration or plan, None if it cannot be read (left to the framework).
fn plan_model(v: &Value) -> Option<JobModel> {
    from_value(&readable(v)).ok()
}

#[async_trait]
impl Resource<Batch> for JobResource {
    fn type_name(&self) -> &'static str {
        "batch_job"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: vec![(
                attr!(JobModel, name),
                "The job's id in the Batch account (its name).",
            )],
        })
    }

    fn schema(&self) -> Schema {
        schema::schema().clone()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Registry rules of the tasks' containers (`release_task` needing a
        // `preparation_task` is a rule declared on the schema).
        validate_job_tasks(config, &AttrPath::root(), diags);
        if plan_model(config).and_then(|m| m.max_parallel_tasks) == Some(0) {
            diags.attr_error(
                &job_path!(max_parallel_tasks),
                "Invalid max_parallel_tasks",
                "max_parallel_tasks must be -1 (no limit) or greater than 0.",
            );
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        let state = attr!(JobModel, state);
        if req.prior.is_null() {
            resp.planned.set(state, Value::Unknown);
            // The id is the name (also on the create half of a replacement, planned with a
            // null prior): show it in the plan rather than "(known after apply)".
            let name = resp.planned.get(attr!(JobModel, name)).clone();
            resp.planned.set(attr!(JobModel, id), name);
            return;
        }
        let (Ok(prior), Some(planned)) =
            (from_value::<JobModel>(req.prior), plan_model(&resp.planned))
        else {
            return;
        };
        for reason in plan_job_update(&prior, &planned).replace {
            match reason {
                ReplaceReason::OnAllTasksCompleteBackToNoAction => {
                    resp.requires_replace.push(job_path!(on_all_tasks_complete))
                }
            }
        }
        // An in-place update does not change the job's state: keep it known.
        if resp.requires_replace.is_empty() && planned.state.is_unknown() {
            resp.planned.set(state, req.prior.get(state).clone());
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
        apply::import(id).await
    }
}
