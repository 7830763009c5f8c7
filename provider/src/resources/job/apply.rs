//! Apply carries out: create, read, update, delete and import of a job against Batch, with
//! If-Match on updates (the ETag kept in private state).

use std::sync::OnceLock;
use std::time::Duration;

use batch_client::models::{CloudJob, JobPatchParameter, JobUpdateParameter};
use serde::Serialize;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, ImportResponse, Private, ReadRequest,
    ReadResponse,
};
use tfplugin::model::{Tf, from_value};
use tfplugin::{Diagnostics, Value};

use super::expand::{expand_job_add, expand_job_patch, expand_job_update};
use super::flatten::flatten_job;
use super::model::{JobModel, Op, job_path};
use super::plan::{JobCall, plan_job_update};
use super::schema::schema;
use crate::common::apply_flow::{conditional_write, read_object, report, unchanged, update_models};
use crate::common::import::already_exists_detail;
use crate::common::wire_paths::WirePaths;
use crate::common::{
    Batch, batch_error, error_code, is_not_found, opts, poll_opts, wait_until_gone,
};

/// What the messages call the object.
const KIND: &str = "job";
const CREATE_DEFAULT: Duration = Duration::from_secs(5 * 60);
const UPDATE_DEFAULT: Duration = Duration::from_secs(5 * 60);
const DELETE_DEFAULT: Duration = Duration::from_secs(30 * 60);

pub(super) use crate::common::{etag_private, private_etag};

/// Batch property names (`PropertyName` in error details) -> job attributes, derived from the
/// expand functions (every property they send is covered).
pub(super) fn wire_paths() -> &'static WirePaths {
    static PATHS: OnceLock<WirePaths> = OnceLock::new();
    PATHS.get_or_init(|| {
        let ty = schema().block.value_type();
        WirePaths::derive(&ty, |m: &JobModel| expand_job_add(m, None))
    })
}

/// Reads a plan or state into the model.
pub(super) fn read_model(v: &Value, diags: &mut Diagnostics) -> Option<JobModel> {
    crate::common::read_model(v, "the job", diags)
}

/// The model as a state value.
pub(super) fn state_of(m: &JobModel, diags: &mut Diagnostics) -> Value {
    crate::common::model_state(m, schema(), "the job", diags)
}

fn failed(diags: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        private: Private::new(),
        diags,
    }
}

pub async fn create(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let Some(planned) = read_model(&req.planned, &mut diags) else {
        return failed(diags);
    };
    let name = planned.job_name();
    let dl = planned.deadline(Op::Create, CREATE_DEFAULT);
    let config = from_value::<JobModel>(&req.config).ok();
    let body = expand_job_add(&planned, config.as_ref());
    if let Err(e) = ctx.client.api.add_job(&body, &opts(ctx, dl)).await {
        let path = match error_code(&e) {
            Some(c) if c.eq_ignore_ascii_case("JobExists") => {
                diags.attr_error(
                    &job_path!(name),
                    format!("A job named {name:?} already exists"),
                    already_exists_detail(&format!("a job {name:?}"), "batch_job", &name),
                );
                return failed(diags);
            }
            Some(c) if c.eq_ignore_ascii_case("PoolNotFound") => Some(job_path!(pool_id)),
            _ => None,
        };
        let doing = format!("create job {name:?}");
        report(&mut diags, &doing, &e, wire_paths(), &body, path);
        return failed(diags);
    }
    tracing::info!(job = %name, "job created");
    let mut st = planned;
    st.id = Tf::Known(name.clone());
    match ctx.client.api.get_job(&name, &poll_opts(ctx)).await {
        Ok(Some(j)) => {
            st.state = j.value.state.clone().into();
            let new_state = state_of(&st, &mut diags);
            ApplyResponse {
                new_state,
                private: etag_private(j.etag),
                diags,
            }
        }
        Ok(None) => {
            diags.error(
                format!("Job {name:?} vanished right after creation"),
                "Batch accepted the job but does not return it: someone may have deleted it. Run terraform apply again to re-create it.",
            );
            failed(diags)
        }
        Err(e) => {
            batch_error(
                &mut diags,
                &format!("read job {name:?} after creating it"),
                &e,
                None,
            );
            // The job exists: keep it in state (tainted) rather than orphan it.
            st.state = Tf::Null;
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
        JobModel::job_name,
        |name, o| async move { api.get_job(&name, &o).await },
        |x, prior: &JobModel, d| state_of(&flatten_job(x, prior), d),
    )
    .await
}

/// The body of an in-place update: Job_Update or Job_Patch (serialized as sent, for the
/// attribute an error names).
#[derive(Serialize)]
#[serde(untagged)]
enum JobWrite {
    Update(JobUpdateParameter),
    Patch(JobPatchParameter),
}

pub async fn update(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let (planned, prior) = match update_models::<JobModel>(&req, KIND) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let name = planned.job_name();
    let dl = planned.deadline(Op::Update, UPDATE_DEFAULT);
    let mut etag = private_etag(&req.private);
    if let Some(call) = plan_job_update(&prior, &planned).call {
        let body = match call {
            JobCall::Update => {
                // Job_Update resets what it omits: carry the properties Terraform does not manage.
                let current = match ctx.client.api.get_job(&name, &opts(ctx, dl)).await {
                    Ok(Some(j)) => j.value,
                    Ok(None) => CloudJob::default(),
                    Err(e) => {
                        batch_error(&mut diags, &format!("read job {name:?}"), &e, None);
                        return unchanged(&req, diags);
                    }
                };
                JobWrite::Update(expand_job_update(&planned, &current))
            }
            JobCall::Patch(changes) => JobWrite::Patch(expand_job_patch(&planned, &changes)),
        };
        let api = &ctx.client.api;
        let (n, b) = (&name, &body);
        let written = conditional_write(
            ctx,
            dl,
            &mut etag,
            &format!("Job {name:?}"),
            &mut diags,
            |o| async move {
                match b {
                    JobWrite::Update(u) => api.update_job(n, u, &o).await,
                    JobWrite::Patch(p) => api.patch_job(n, p, &o).await,
                }
            },
            |d, e| report(d, &format!("update job {n:?}"), e, wire_paths(), b, None),
        )
        .await;
        if !written {
            return unchanged(&req, diags);
        }
    }
    let mut st = planned;
    if st.state.is_unknown()
        && let Ok(Some(j)) = ctx.client.api.get_job(&name, &poll_opts(ctx)).await
    {
        st.state = j.value.state.clone().into();
    }
    if st.state.is_unknown() {
        st.state = prior.state.clone();
    }
    let new_state = state_of(&st, &mut diags);
    ApplyResponse {
        new_state,
        private: etag_private(etag),
        diags,
    }
}

pub async fn delete(ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(prior) = read_model(&req.prior, &mut diags) else {
        return diags;
    };
    let name = prior.job_name();
    let dl = prior.deadline(Op::Delete, DELETE_DEFAULT);
    // No If-Match: destroying is the goal whatever changed on the job since the refresh.
    if let Err(e) = ctx.client.api.delete_job(&name, &opts(ctx, dl)).await
        && !is_not_found(&e)
    {
        batch_error(&mut diags, &format!("delete job {name:?}"), &e, None);
        return diags;
    }
    let what = format!("job {name:?}");
    let api = &ctx.client.api;
    let name = &name;
    wait_until_gone(ctx, dl, &what, &mut diags, move || async move {
        api.get_job(name, &poll_opts(ctx)).await
    })
    .await;
    diags
}

/// The state an import starts from: just the name (Terraform reads the rest right after).
pub fn import_state(id: &str, diags: &mut Diagnostics) -> Value {
    if !crate::common::validators::is_batch_id(id) {
        diags.error(
            "Invalid import id",
            format!("{id:?} is not a job name: import a batch_job by its name, e.g. `terraform import batch_job.example render`."),
        );
        return Value::Null;
    }
    let m = JobModel {
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
