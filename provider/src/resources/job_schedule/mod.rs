//! `batch_job_schedule`: a Batch job schedule, which makes a job (`<name>:job-<n>`) from its
//! `job` block at each run of its `schedule`; each job's manager task does the run's work.
//!
//! Batch semantics this module maps onto Terraform:
//! - JobSchedule_Add creates the schedule (id = `name`); the first job comes at
//!   `do_not_run_until`, or at once.
//! - JobSchedule_Patch changes `schedule`, `job` and `metadata` in place, each element replaced
//!   whole; running jobs keep their specification. Only `name` and `display_name` replace.
//! - Updates carry If-Match with the ETag kept in private state.
//! - Destroy terminates and deletes the schedule and waits until it and its jobs are gone.
//! - `state`, `next_run_time` and `recent_job_id` are read from the service; they move on
//!   their own between runs, which a refresh shows without planning a change. A schedule
//!   disabled outside Terraform stays disabled (`state` shows it; no attribute manages it).
//! - A schedule that ended (terminated, or past `do_not_run_after`) takes no update: a change
//!   to it plans a replacement; without a change the plan stays empty.
//! - A new `do_not_run_after` already past is refused at plan time (no job would ever run).

mod apply;
mod expand;
mod flatten;
#[cfg(test)]
mod in_process_tests;
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
use model::{JobScheduleModel, ScheduleModel, attr};

pub struct JobScheduleResource;

#[async_trait]
impl Resource<Batch> for JobScheduleResource {
    fn type_name(&self) -> &'static str {
        "batch_job_schedule"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: vec![(
                attr!(JobScheduleModel, name),
                "The job schedule's id in the Batch account (its name).",
            )],
        })
    }

    fn schema(&self) -> Schema {
        schema::schema().clone()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Registry rules of the tasks' containers (`release_task` needing a
        // `preparation_task` and `max_parallel_tasks` are rules declared on the schema).
        let job = attr!(JobScheduleModel, job);
        if let Some(spec) = config.get_block(job) {
            validate_job_tasks(spec, &AttrPath::attr(job), diags);
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        let id = attr!(JobScheduleModel, id);
        let schedule = attr!(JobScheduleModel, schedule);
        let prior = (!req.prior.is_null())
            .then(|| from_value::<JobScheduleModel>(req.prior).ok())
            .flatten();
        let planned = from_value::<JobScheduleModel>(&resp.planned).ok();
        if let Some(q) = &planned
            && let Some(at) =
                plan::past_do_not_run_after(prior.as_ref(), q, time::OffsetDateTime::now_utc())
        {
            resp.diags.attr_error(
                &AttrPath::attr(schedule).child(attr!(ScheduleModel, do_not_run_after)),
                "do_not_run_after is in the past",
                format!("{at:?} has already passed: Batch would accept a schedule with it and never make a job (a change to a completed schedule replaces it, so its replacement would not run either). Set a future time, or remove do_not_run_after to run until the schedule is destroyed."),
            );
        }
        if req.prior.is_null() {
            for a in [
                attr!(JobScheduleModel, state),
                attr!(JobScheduleModel, next_run_time),
                attr!(JobScheduleModel, recent_job_id),
            ] {
                resp.planned.set(a, Value::Unknown);
            }
            // The id is the name: show it in the plan rather than "(known after apply)".
            let name = resp.planned.get(attr!(JobScheduleModel, name)).clone();
            resp.planned.set(id, name);
            return;
        }
        if !resp.requires_replace.is_empty() {
            return;
        }
        // Batch refuses any update of an ended schedule: replace it rather than fail at apply.
        if let (Some(p), Some(q)) = (&prior, &planned) {
            let ended = plan::replace_ended(p, q);
            if !ended.is_empty() {
                resp.requires_replace
                    .extend(ended.into_iter().map(AttrPath::attr));
                return;
            }
        }
        // An in-place update leaves the state and the latest job as they are; the next run
        // moves only when the schedule changes.
        let schedule_same = prior
            .as_ref()
            .zip(planned.as_ref())
            .is_some_and(|(p, q)| p.schedule == q.schedule);
        let mut keep = vec![
            attr!(JobScheduleModel, state),
            attr!(JobScheduleModel, recent_job_id),
        ];
        if schedule_same && resp.planned.get(schedule).is_wholly_known() {
            keep.push(attr!(JobScheduleModel, next_run_time));
        }
        for a in keep {
            if resp.planned.get(a).is_unknown() {
                resp.planned.set(a, req.prior.get(a).clone());
            }
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
