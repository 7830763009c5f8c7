//! Apply carries out: create, read, update, delete and import of a job schedule against Batch,
//! with If-Match on updates (the ETag kept in private state).

use std::sync::OnceLock;
use std::time::Duration;

use batch_client::models::CloudJobSchedule;
use batch_client::{BatchError, ListQuery};
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, ImportResponse, Private, ReadRequest,
    ReadResponse,
};
use tfplugin::model::{Tf, from_value};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::expand::{expand_schedule_add, expand_schedule_patch};
use super::flatten::flatten_job_schedule;
use super::model::{JobScheduleModel, Op, attr};
use super::plan::plan_schedule_update;
use super::schema::schema;
use crate::common::apply_flow::{conditional_write, read_object, report, unchanged, update_models};
use crate::common::import::already_exists_detail;
use crate::common::wire_paths::WirePaths;
use crate::common::{
    Batch, batch_error, error_code, etag_private, is_not_found, opts, poll_opts, private_etag,
    wait_until_gone,
};

/// What the messages call the object.
const KIND: &str = "job schedule";
const CREATE_DEFAULT: Duration = Duration::from_secs(5 * 60);
const UPDATE_DEFAULT: Duration = Duration::from_secs(5 * 60);
const DELETE_DEFAULT: Duration = Duration::from_secs(30 * 60);

/// Batch property names (`PropertyName` in error details) -> attributes, derived from expand.
pub(super) fn wire_paths() -> &'static WirePaths {
    static PATHS: OnceLock<WirePaths> = OnceLock::new();
    PATHS.get_or_init(|| {
        let ty = schema().block.value_type();
        WirePaths::derive(&ty, |m: &JobScheduleModel| expand_schedule_add(m, None))
    })
}

/// Reads a plan or state into the model.
fn read_model(v: &Value, diags: &mut Diagnostics) -> Option<JobScheduleModel> {
    crate::common::read_model(v, "the job schedule", diags)
}

fn state_of(m: &JobScheduleModel, diags: &mut Diagnostics) -> Value {
    crate::common::model_state(m, schema(), "the job schedule", diags)
}

fn failed(diags: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        private: Private::new(),
        diags,
    }
}

/// Fills the computed attributes still unknown in `st` from what Batch reports.
fn computed_from(st: &mut JobScheduleModel, s: &CloudJobSchedule) {
    let info = s.execution_info.clone().unwrap_or_default();
    if st.state.is_unknown() {
        st.state = s.state.clone().into();
    }
    if st.next_run_time.is_unknown() {
        st.next_run_time = info.next_run_time.into();
    }
    if st.recent_job_id.is_unknown() {
        st.recent_job_id = info.recent_job.and_then(|r| r.id).into();
    }
}

/// Unknown computed attributes become null (nothing to read them from).
fn settle_unknown(st: &mut JobScheduleModel) {
    for v in [&mut st.state, &mut st.next_run_time, &mut st.recent_job_id] {
        if v.is_unknown() {
            *v = Tf::Null;
        }
    }
}

pub async fn create(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let Some(planned) = read_model(&req.planned, &mut diags) else {
        return failed(diags);
    };
    let name = planned.schedule_name();
    let dl = planned.deadline(Op::Create, CREATE_DEFAULT);
    let config = from_value::<JobScheduleModel>(&req.config).ok();
    let body = expand_schedule_add(&planned, config.as_ref());
    if let Err(e) = ctx.client.api.add_job_schedule(&body, &opts(ctx, dl)).await {
        if error_code(&e).is_some_and(|c| c.eq_ignore_ascii_case("JobScheduleExists")) {
            diags.attr_error(
                &AttrPath::attr(attr!(JobScheduleModel, name)),
                format!("A job schedule named {name:?} already exists"),
                already_exists_detail(
                    &format!("a job schedule {name:?}"),
                    "batch_job_schedule",
                    &name,
                ),
            );
        } else {
            let doing = format!("create job schedule {name:?}");
            report(&mut diags, &doing, &e, wire_paths(), &body, None);
        }
        return failed(diags);
    }
    tracing::info!(job_schedule = %name, "job schedule created");
    let mut st = planned;
    st.id = Tf::Known(name.clone());
    match ctx
        .client
        .api
        .get_job_schedule(&name, &poll_opts(ctx))
        .await
    {
        Ok(Some(s)) => {
            computed_from(&mut st, &s.value);
            settle_unknown(&mut st);
            let new_state = state_of(&st, &mut diags);
            ApplyResponse {
                new_state,
                private: etag_private(s.etag),
                diags,
            }
        }
        other => {
            if let Err(e) = other {
                batch_error(
                    &mut diags,
                    &format!("read job schedule {name:?} after creating it"),
                    &e,
                    None,
                );
            } else {
                diags.error(
                    format!("Job schedule {name:?} vanished right after creation"),
                    "Batch accepted the job schedule but does not return it: someone may have deleted it. Run terraform apply again to re-create it.",
                );
            }
            // It may exist: keep it in state (tainted) rather than orphan it.
            settle_unknown(&mut st);
            let new_state = state_of(&st, &mut diags);
            ApplyResponse {
                new_state,
                private: Private::new(),
                diags,
            }
        }
    }
}

pub async fn read(ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
    let api = &ctx.client.api;
    read_object(
        ctx,
        req,
        KIND,
        JobScheduleModel::schedule_name,
        |name, o| async move { api.get_job_schedule(&name, &o).await },
        |x, prior: &JobScheduleModel, d| state_of(&flatten_job_schedule(x, prior), d),
    )
    .await
}

pub async fn update(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let (planned, prior) = match update_models::<JobScheduleModel>(&req, KIND) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let name = planned.schedule_name();
    let dl = planned.deadline(Op::Update, UPDATE_DEFAULT);
    let mut etag = private_etag(&req.private);
    if let Some(changes) = plan_schedule_update(&prior, &planned) {
        let config = from_value::<JobScheduleModel>(&req.config).ok();
        let body = expand_schedule_patch(&planned, config.as_ref(), &changes);
        let (api, n, b) = (&ctx.client.api, &name, &body);
        let written = conditional_write(
            ctx,
            dl,
            &mut etag,
            &format!("Job schedule {name:?}"),
            &mut diags,
            |o| async move { api.patch_job_schedule(n, b, &o).await },
            |d, e| {
                let doing = format!("update job schedule {n:?}");
                report(d, &doing, e, wire_paths(), b, None)
            },
        )
        .await;
        if !written {
            return unchanged(&req, diags);
        }
    }
    let mut st = planned;
    if (st.state.is_unknown() || st.next_run_time.is_unknown() || st.recent_job_id.is_unknown())
        && let Ok(Some(s)) = ctx
            .client
            .api
            .get_job_schedule(&name, &poll_opts(ctx))
            .await
    {
        computed_from(&mut st, &s.value);
    }
    settle_unknown(&mut st);
    let new_state = state_of(&st, &mut diags);
    ApplyResponse {
        new_state,
        private: etag_private(etag),
        diags,
    }
}

/// Destroy: terminate (no new job; the active one ends), delete, and wait until the schedule
/// and every job it made are gone.
pub async fn delete(ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(prior) = read_model(&req.prior, &mut diags) else {
        return diags;
    };
    let name = prior.schedule_name();
    let dl = prior.deadline(Op::Delete, DELETE_DEFAULT);
    let api = &ctx.client.api;
    // Its jobs, to wait for after the schedule is gone (Batch deletes them with it).
    let jobs: Vec<String> = match api
        .list_jobs_from_schedule(&name, &ListQuery::default(), &opts(ctx, dl))
        .await
    {
        Ok(jobs) => jobs.into_iter().filter_map(|j| j.id).collect(),
        Err(e) if is_not_found(&e) => return diags,
        Err(e) => {
            batch_error(
                &mut diags,
                &format!("list the jobs of job schedule {name:?}"),
                &e,
                None,
            );
            return diags;
        }
    };
    let done = |e: &BatchError| {
        is_not_found(e)
            || error_code(e).is_some_and(|c| {
                let c = c.to_ascii_lowercase();
                c == "jobschedulecompleted"
                    || c == "jobschedulebeingterminated"
                    || c == "jobschedulebeingdeleted"
            })
    };
    if let Err(e) = api.terminate_job_schedule(&name, &opts(ctx, dl)).await
        && !done(&e)
    {
        batch_error(
            &mut diags,
            &format!("terminate job schedule {name:?}"),
            &e,
            None,
        );
        return diags;
    }
    // No If-Match: destroying is the goal whatever changed since the refresh.
    if let Err(e) = api.delete_job_schedule(&name, &opts(ctx, dl)).await
        && !done(&e)
    {
        batch_error(
            &mut diags,
            &format!("delete job schedule {name:?}"),
            &e,
            None,
        );
        return diags;
    }
    let what = format!("job schedule {name:?}");
    let n = &name;
    wait_until_gone(ctx, dl, &what, &mut diags, move || async move {
        api.get_job_schedule(n, &poll_opts(ctx)).await
    })
    .await;
    for job in jobs.iter() {
        if diags.has_errors() {
            break;
        }
        let what = format!("job {job:?} of job schedule {name:?}");
        wait_until_gone(ctx, dl, &what, &mut diags, move || async move {
            api.get_job(job, &poll_opts(ctx)).await
        })
        .await;
    }
    diags
}

/// The state an import starts from: just the name (Terraform reads the rest right after).
pub(super) fn import_state(id: &str, diags: &mut Diagnostics) -> Value {
    if !crate::common::validators::is_batch_id(id) {
        diags.error(
            "Invalid import id",
            format!("{id:?} is not a job schedule name: import a batch_job_schedule by its name, e.g. `terraform import batch_job_schedule.nightly nightly-report`."),
        );
        return Value::Null;
    }
    let m = JobScheduleModel {
        id: Tf::Known(id.to_string()),
        name: Tf::Known(id.to_string()),
        ..Default::default()
    };
    state_of(&m, diags)
}

pub async fn import(id: &str) -> ImportResponse {
    let mut diags = Diagnostics::new();
    let state = import_state(id, &mut diags);
    ImportResponse {
        state,
        private: Private::new(),
        diags,
    }
}
