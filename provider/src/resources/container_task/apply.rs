//! Create, read, update, delete and import of `batch_container_task`: the Batch calls, on the
//! typed model.

use std::time::Duration;

use batch_client::models::{CloudTask, TaskUpdateParameter};
use batch_client::{BatchError, RequestOptions};
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, ImportResponse, Private, ReadRequest,
    ReadResponse,
};
use tfplugin::model::{Tf, from_value, to_value};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::expand::expand_task;
use super::flatten::{flatten_run, flatten_task};
use super::model::{TaskConfig, TaskModel};
use super::plan::{UpdateStep, UpdateView, plan_update};
use super::schema::schema;
use super::wait::{create_wait_error, is_failed, report, report_failure, wait_completed};
use crate::common::apply_flow::conflict_error;
use crate::common::import::already_exists_detail;
use crate::common::task_spec::task_parts_map::expand_dependencies;
use crate::common::task_spec::{
    expand_task_constraints_replacing, flatten_imported_task_constraints, read_task_constraints,
};
use crate::common::validators::is_batch_id;
use crate::common::{
    Batch, Op, Timeouts, batch_error, error_code, etag_private, is_not_found, opts, poll_opts,
    private_etag, read_response, wait_error, wait_until_gone,
};

const CREATE_DEFAULT: Duration = Duration::from_secs(60 * 60);
const UPDATE_DEFAULT: Duration = Duration::from_secs(10 * 60);
const DELETE_DEFAULT: Duration = Duration::from_secs(10 * 60);

/// Private-state marker for the first read after an import.
pub const IMPORTED: &str = "imported";

fn deadline(m: &TaskModel, op: Op, default: Duration) -> tokio::time::Instant {
    Timeouts::deadline(m.timeouts.as_ref(), op, default)
}

/// A value of the resource's schema read into the model; a mismatch is a provider bug.
pub fn read_model<T: serde::de::DeserializeOwned>(v: &Value, diags: &mut Diagnostics) -> Option<T> {
    match from_value(v) {
        Ok(m) => Some(m),
        Err(e) => {
            diags.error(
                "Provider error: unexpected batch_container_task value",
                format!("The value does not fit the provider's model ({e}). Please report this."),
            );
            None
        }
    }
}

/// The model as a state value.
pub fn state_of(m: &TaskModel) -> Value {
    to_value(m, schema().value_type()).expect("the task model matches its schema")
}

/// The plan with unknown `id` and run attributes filled in from the task.
fn fill_unknown(planned: &TaskModel, t: &CloudTask, id: &str) -> TaskModel {
    let mut st = planned.clone();
    if st.id.is_unknown() {
        st.id = Tf::Known(id.to_string());
    }
    st.fill_unknown_run(flatten_run(t));
    st
}

fn failed(diags: Diagnostics, state: Value, private: Private) -> ApplyResponse {
    ApplyResponse {
        new_state: state,
        private,
        diags,
    }
}

pub async fn create(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let Some(p) = read_model::<TaskModel>(&req.planned, &mut diags) else {
        return failed(diags, Value::Null, Private::new());
    };
    let config: TaskConfig = from_value(&req.config).unwrap_or_default();
    let (job, name) = p.ids();
    let id = format!("{job}/{name}");
    let dl = deadline(&p, Op::Create, CREATE_DEFAULT);
    let body = expand_task(&p, &config);
    match ctx.client.api.add_task(&job, &body, &opts(ctx, dl)).await {
        Ok(w) if w.adopted => tracing::info!(
            job,
            task = name,
            "task add retried: adopted the task the first attempt created"
        ),
        Ok(_) => tracing::info!(job, task = name, "task added"),
        Err(e) => {
            add_error(&mut diags, &job, &name, &e);
            return failed(diags, Value::Null, Private::new());
        }
    }
    let task = if p.waits() {
        match wait_completed(ctx, &job, &name, body.depends_on.as_ref(), dl).await {
            Ok(t) => t,
            Err(e) => {
                create_wait_error(&mut diags, &job, &name, e);
                // The task exists: keep it (tainted) so nothing is orphaned.
                let last = ctx
                    .client
                    .api
                    .get_task(
                        &job,
                        &name,
                        &opts(ctx, tokio::time::Instant::now() + Duration::from_secs(30)),
                    )
                    .await;
                let (state, private) = match last {
                    Ok(Some(t)) => (fill_unknown(&p, &t.value, &id), etag_private(t.etag)),
                    _ => (fill_unknown(&p, &CloudTask::default(), &id), Private::new()),
                };
                return failed(diags, state_of(&state), private);
            }
        }
    } else {
        match ctx.client.api.get_task(&job, &name, &poll_opts(ctx)).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                diags.error(
                    format!("Task {name:?} vanished right after it was added"),
                    "Batch accepted the task but does not return it: it (or its job) may have been deleted. Run terraform apply again to add it again.",
                );
                return failed(diags, Value::Null, Private::new());
            }
            Err(e) => {
                batch_error(
                    &mut diags,
                    &format!("read task {name:?} after adding it"),
                    &e,
                    None,
                );
                let state = fill_unknown(&p, &CloudTask::default(), &id);
                return failed(diags, state_of(&state), Private::new());
            }
        }
    };
    let state = fill_unknown(&p, &task.value, &id);
    if p.waits() && is_failed(&task.value) {
        report_failure(ctx, &job, &name, &task.value, &mut diags).await;
    }
    failed(diags, state_of(&state), etag_private(task.etag))
}

/// The error of a failed Task_Add, on the attribute it concerns.
fn add_error(diags: &mut Diagnostics, job: &str, name: &str, e: &BatchError) {
    match error_code(e) {
        Some(c) if c.eq_ignore_ascii_case("TaskExists") => diags.attr_error(
            &AttrPath::root().child("name"),
            format!("Task {name:?} already exists in job {job:?}"),
            already_exists_detail(
                &format!("a task {name:?} in job {job:?}"),
                "batch_container_task",
                &format!("{job}/{name}"),
            ),
        ),
        Some(c) if c.eq_ignore_ascii_case("JobNotFound") => batch_error(
            diags,
            &format!("add task {name:?}: job {job:?} does not exist"),
            e,
            Some(&AttrPath::root().child("job_id")),
        ),
        Some(c) if c.eq_ignore_ascii_case("TaskDependenciesNotSpecifiedOnJob") => batch_error(
            diags,
            &format!(
                "add task {name:?}: set uses_task_dependencies = true on job {job:?} to use dependencies"
            ),
            e,
            Some(&AttrPath::root().child("dependencies")),
        ),
        _ => report(diags, &format!("add task {name:?} to job {job:?}"), e, None),
    }
}

pub async fn read(ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
    let mut diags = Diagnostics::new();
    let Some(prior) = read_model::<TaskModel>(&req.state, &mut diags) else {
        return ReadResponse {
            state: req.state,
            private: req.private,
            diags,
        };
    };
    let (job, name) = prior.ids();
    let o = RequestOptions::new()
        .timeout(Duration::from_secs(120))
        .cancel(ctx.cancel.clone());
    let got = ctx.client.api.get_task(&job, &name, &o).await;
    let imported = req.private.contains_key(IMPORTED);
    let mut resp = read_response(
        req,
        got,
        &format!("task {name:?} in job {job:?}"),
        |t, _| {
            let mut state = flatten_task(t, &job, Some(&prior));
            // Right after an import there is no prior constraints block to normalise against:
            // take the task's own limits, so a configuration that states them plans clean.
            if imported && prior.constraints.is_none() {
                state.constraints = flatten_imported_task_constraints(t.constraints.as_ref());
            }
            state_of(&state)
        },
        diags,
    );
    // Tasks are never `deleting`: a null state means Batch no longer has the task.
    if resp.state.is_null() {
        resp.diags.warning(
            format!("Task {name:?} in job {job:?} no longer exists"),
            format!("Batch no longer has task {name:?} of job {job:?}: it was deleted outside Terraform, its job was deleted, or Batch removed it after its retention time (constraints.retention_time, default 7 days). Terraform removed it from the state and will plan to create it again, which runs it again. To keep it from running again, remove the resource from the configuration."),
        );
    }
    resp
}

pub async fn update(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let (Some(p), Some(prior), Some(pv), Some(priorv)) = (
        read_model::<TaskModel>(&req.planned, &mut diags),
        read_model::<TaskModel>(&req.prior, &mut diags),
        read_model::<UpdateView>(&req.planned, &mut diags),
        read_model::<UpdateView>(&req.prior, &mut diags),
    ) else {
        return failed(diags, req.prior, req.private);
    };
    let (job, name) = prior.ids();
    let id = format!("{job}/{name}");
    let dl = deadline(&p, Op::Update, UPDATE_DEFAULT);
    let api = &ctx.client.api;
    let mut etag = private_etag(&req.private);
    let steps = plan_update(&priorv, &pv);
    if steps.contains(&UpdateStep::UpdateConstraints) {
        // Task_Update replaces the constraints: send every value, with Batch's defaults for the
        // ones left unset (so removing a limit really removes it).
        let mut job_retries = None;
        if p.constraints
            .as_ref()
            .and_then(|c| c.max_task_retry_count)
            .is_none()
        {
            job_retries = match api.get_job(&job, &opts(ctx, dl)).await {
                Ok(Some(j)) => j.value.constraints.and_then(|c| c.max_task_retry_count),
                _ => None,
            };
        }
        let update = TaskUpdateParameter {
            constraints: Some(expand_task_constraints_replacing(
                p.constraints.as_ref(),
                || job_retries,
            )),
        };
        let mut attempt = 0;
        loop {
            let mut o = opts(ctx, dl);
            if let Some(e) = &etag {
                o = o.if_match(e.clone());
            }
            match api.update_task(&job, &name, &update, &o).await {
                Ok(w) => {
                    tracing::info!(job, task = name, "task constraints updated");
                    etag = w.etag.or(etag);
                    break;
                }
                Err(BatchError::Service(se)) if se.status == 412 && attempt == 0 => {
                    // The ETag also changes when the task merely runs (state, times). Retry once
                    // if what Terraform manages (constraints) is still as it was refreshed.
                    attempt += 1;
                    match api.get_task(&job, &name, &opts(ctx, dl)).await {
                        Ok(Some(t))
                            if read_task_constraints(
                                t.value.constraints.as_ref(),
                                prior.constraints.as_ref(),
                            ) == prior.constraints =>
                        {
                            etag = t.etag;
                        }
                        _ => {
                            conflict_error(&mut diags, &format!("Task {name:?}"));
                            return failed(diags, req.prior, req.private);
                        }
                    }
                }
                Err(e) => {
                    let path = AttrPath::root().child("constraints");
                    report(
                        &mut diags,
                        &format!("update the constraints of task {name:?}"),
                        &e,
                        Some(&path),
                    );
                    return failed(diags, req.prior, req.private);
                }
            }
        }
    }
    let waits = steps.contains(&UpdateStep::WaitForCompletion);
    let task = if waits {
        let dl = deadline(&p, Op::Create, CREATE_DEFAULT);
        // Dependencies force replacement: the planned ones are the task's.
        let deps = p.dependencies.as_ref().map(expand_dependencies);
        match wait_completed(ctx, &job, &name, deps.as_ref(), dl).await {
            Ok(t) => Some(t),
            Err(e) => {
                wait_error(
                    &mut diags,
                    &format!("task {name:?} in job {job:?} to complete"),
                    e,
                    Op::Create.name(),
                );
                None
            }
        }
    } else if p.run_unknown() {
        api.get_task(&job, &name, &opts(ctx, dl))
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let mut st = match &task {
        Some(t) => fill_unknown(&p, &t.value, &id),
        None => {
            let mut st = p.clone();
            st.fill_unknown_run(prior.run());
            st
        }
    };
    if st.id.is_unknown() {
        st.id = Tf::Known(id);
    }
    if let Some(t) = &task {
        etag = t.etag.clone().or(etag);
        if waits && is_failed(&t.value) {
            report_failure(ctx, &job, &name, &t.value, &mut diags).await;
        }
    }
    failed(diags, state_of(&st), etag_private(etag))
}

pub async fn delete(ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(prior) = read_model::<TaskModel>(&req.prior, &mut diags) else {
        return diags;
    };
    let (job, name) = prior.ids();
    let dl = deadline(&prior, Op::Delete, DELETE_DEFAULT);
    // No If-Match: the task's ETag changes as it runs, and destroying is the goal anyway.
    match ctx
        .client
        .api
        .delete_task(&job, &name, &opts(ctx, dl))
        .await
    {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return diags,
        Err(e) if error_code(&e).is_some_and(|c| c.eq_ignore_ascii_case("JobBeingDeleted")) => {
            return diags;
        }
        Err(e) => {
            batch_error(
                &mut diags,
                &format!("delete task {name:?} of job {job:?}"),
                &e,
                None,
            );
            return diags;
        }
    }
    let what = format!("task {name:?} of job {job:?}");
    let api = &ctx.client.api;
    let (job, name) = (&job, &name);
    wait_until_gone(ctx, dl, &what, &mut diags, move || async move {
        api.get_task(job, name, &poll_opts(ctx)).await
    })
    .await;
    diags
}

/// `<job>/<task>` as import id, checked.
pub fn parse_import_id(id: &str) -> Result<(String, String), String> {
    match id.split('/').collect::<Vec<_>>()[..] {
        [job, task] if is_batch_id(job) && is_batch_id(task) => Ok((job.into(), task.into())),
        _ => Err(format!(
            "{id:?} is not `<job name>/<task name>`: import a batch_container_task like `terraform import batch_container_task.hello render/hello`."
        )),
    }
}

pub fn import(id: &str) -> ImportResponse {
    let mut diags = Diagnostics::new();
    let (job_id, name) = match parse_import_id(id) {
        Ok(p) => p,
        Err(detail) => {
            diags.error("Invalid import id", detail);
            return ImportResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            };
        }
    };
    let st = TaskModel {
        id: Tf::Known(id.to_string()),
        job_id,
        name,
        ..Default::default()
    };
    ImportResponse {
        state: state_of(&st),
        private: Private::from([(IMPORTED.to_string(), serde_json::Value::Bool(true))]),
        diags,
    }
}
