//! Create, read, update, delete and import of `batch_container_task_collection`: the Batch
//! calls, in bulk. Adding goes through Task_AddCollection (chunked, several in flight, retried
//! per task); waiting and reading through one paged Task_List per poll for the whole job.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use batch_client::models::{CloudTask, TaskAddParameter, TaskUpdateParameter};
use futures::StreamExt;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, ImportResponse, Private, ReadRequest,
    ReadResponse,
};
use tfplugin::model::{Tf, from_value, to_value};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::model::{
    CollectionModel, ConfigModel, PlanPatch, ResultModel, TasksPatch, retain_tasks, task_entries,
};
use super::plan::{Changes, PriorTask, plan_changes};
use super::schema::schema;
use crate::common::import::already_exists_detail;
use crate::common::task_spec::task_args::{TaskArgs, expand_task_args, flatten_task_args};
use crate::common::task_spec::{
    expand_task_constraints_replacing, flatten_imported_task_constraints,
};
use crate::common::task_watch::{
    failure_report, is_failed, list_failed, list_job_tasks, wait_all_completed,
};
use crate::common::validators::is_batch_id;
use crate::common::{
    Batch, Op, Timeouts, WaitError, batch_error, error_code, is_not_found, opts, overwrite,
    wait_error,
};

const CREATE_DEFAULT: Duration = Duration::from_secs(2 * 60 * 60);
const UPDATE_DEFAULT: Duration = Duration::from_secs(2 * 60 * 60);
const DELETE_DEFAULT: Duration = Duration::from_secs(30 * 60);
/// Task_Delete / Task_Update requests in flight at once.
const CALLS_IN_FLIGHT: usize = 8;
/// How many failed tasks an apply describes in full (each costs two reads of stderr.txt).
const FAILURES_DESCRIBED: usize = 10;
/// `$select` of a listing that only needs the task ids (a Batch property).
const SELECT_IDS: &str = "id";
/// What a results listing needs.
const RESULT_SELECT: &str = "id,state,executionInfo";

/// Private-state marker for the first read after an import.
const IMPORTED: &str = "imported";

fn ty() -> &'static tfplugin::Type {
    schema().value_type()
}

fn read_model(v: &Value, diags: &mut Diagnostics) -> Option<CollectionModel> {
    match from_value(v) {
        Ok(m) => Some(m),
        Err(e) => {
            diags.error(
                "Provider error: unexpected batch_container_task_collection value",
                format!("The value does not fit the provider's model ({e}). Please report this."),
            );
            None
        }
    }
}

/// The path of `job_id`, which job errors point at.
fn job_path() -> AttrPath {
    AttrPath::root().child("job_id")
}

/// The path of one task's entry.
pub fn task_path(name: &str) -> AttrPath {
    AttrPath::root().child("tasks").key(name)
}

pub fn result_of(t: &CloudTask) -> ResultModel {
    let ei = t.execution_info.clone().unwrap_or_default();
    ResultModel {
        state: t.state.clone().into(),
        exit_code: ei.exit_code.map(i64::from).into(),
        result: ei.result.clone().into(),
    }
}

/// The prior tasks as the planner sees them.
pub fn prior_tasks(prior: &CollectionModel) -> BTreeMap<String, PriorTask> {
    let results = prior.results.clone().unwrap_or_default();
    prior
        .tasks
        .iter()
        .flatten()
        .map(|(k, a)| {
            let r = results.get(k);
            let t = PriorTask {
                args: a.clone(),
                failed: r.is_some_and(ResultModel::failed),
                completed: r.is_some_and(ResultModel::completed),
            };
            (k.clone(), t)
        })
        .collect()
}

/// The planned results: unknown for the tasks this apply adds or waits for, as before for the
/// others.
pub fn planned_results(
    prior: &BTreeMap<String, ResultModel>,
    planned: &BTreeMap<String, Option<TaskArgs>>,
    c: &Changes,
) -> BTreeMap<String, ResultModel> {
    let fresh: BTreeSet<String> = c.rerun_or_waited().into_iter().collect();
    planned
        .keys()
        .map(|k| {
            let r = match prior.get(k) {
                Some(r) if !fresh.contains(k) => r.clone(),
                _ => ResultModel::unknown(),
            };
            (k.clone(), r)
        })
        .collect()
}

/// `modify_plan`: the id, and the results of exactly the tasks the apply touches.
pub fn plan(prior_v: &Value, planned_v: &mut Value) {
    let Ok(view) = from_value::<super::model::PlanView>(planned_v) else {
        return;
    };
    let id = view.job_id.clone();
    let patch = match (
        task_entries(planned_v),
        from_value::<CollectionModel>(prior_v),
    ) {
        (Tf::Known(planned), Ok(prior)) if !prior_v.is_null() => {
            let starts = view.wait_for_completion == Tf::Known(true) && !prior.waits();
            let c = plan_changes(&prior_tasks(&prior), &planned, starts);
            let results = planned_results(&prior.results.unwrap_or_default(), &planned, &c);
            PlanPatch {
                id,
                results: Tf::Known(results),
            }
        }
        (Tf::Known(planned), _) => {
            let c = plan_changes(&BTreeMap::new(), &planned, false);
            PlanPatch {
                id,
                results: Tf::Known(planned_results(&BTreeMap::new(), &planned, &c)),
            }
        }
        _ => PlanPatch {
            id,
            results: Tf::Unknown,
        },
    };
    let _ = overwrite(planned_v, &patch, ty());
}

fn respond(state: Value, private: Private, diags: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: state,
        private,
        diags,
    }
}

pub async fn create(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    apply(ctx, req, Op::Create, CREATE_DEFAULT).await
}

pub async fn update(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    apply(ctx, req, Op::Update, UPDATE_DEFAULT).await
}

/// Create and update: the planner's changes, carried out.
async fn apply(ctx: &Ctx<Batch>, req: ApplyRequest, op: Op, default: Duration) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let Some(p) = read_model(&req.planned, &mut diags) else {
        return respond(req.prior, req.private, diags);
    };
    let prior = if req.prior.is_null() {
        CollectionModel::default()
    } else {
        match read_model(&req.prior, &mut diags) {
            Some(m) => m,
            None => return respond(req.prior, req.private, diags),
        }
    };
    let config: ConfigModel = from_value(&req.config).unwrap_or_default();
    let job = p.job_id.clone();
    let dl = Timeouts::deadline(p.timeouts.as_ref(), op, default);
    let planned: BTreeMap<String, Option<TaskArgs>> = p
        .tasks
        .iter()
        .flatten()
        .map(|(k, a)| (k.clone(), Some(a.clone())))
        .collect();
    let starts_waiting = p.waits() && !req.prior.is_null() && !prior.waits();
    let c = plan_changes(&prior_tasks(&prior), &planned, starts_waiting);
    tracing::info!(
        job,
        add = c.add.len(),
        replace = c.replace.len(),
        delete = c.delete.len(),
        update_constraints = c.update_constraints.len(),
        "applying task collection"
    );
    let mut state = req.planned.clone();
    let mut results = prior.results.clone().unwrap_or_default();
    results.retain(|k, _| planned.contains_key(k));
    // Tasks that are not in Batch after this apply (their add failed): left out of the state, so
    // the next plan adds them again.
    let mut missing: BTreeSet<String> = BTreeSet::new();

    if req.prior.is_null() && !check_no_existing(ctx, &job, &planned, &mut diags).await {
        return respond(Value::Null, Private::new(), diags);
    }
    let doomed: Vec<String> = c.delete.iter().chain(&c.replace).cloned().collect();
    if !doomed.is_empty() && !delete_tasks(ctx, &job, &doomed, dl, &mut diags).await {
        // Nothing was added yet: the replaced tasks that are still there stay as they were.
        let mut st = req.prior.clone();
        let left = list_job_tasks(ctx, &job, Some(SELECT_IDS))
            .await
            .unwrap_or_default();
        retain_tasks(&mut st, |k| left.contains_key(&k.to_ascii_lowercase()));
        return respond(st, req.private, diags);
    }
    for k in &c.replace {
        results.remove(k);
    }
    let added = c.added();
    if !added.is_empty() {
        let bodies: Vec<TaskAddParameter> = added
            .iter()
            .map(|k| {
                let cfg = config.tasks.as_ref().and_then(|t| t.get(k));
                let args = p
                    .tasks
                    .as_ref()
                    .and_then(|t| t.get(k))
                    .cloned()
                    .unwrap_or_default();
                expand_task_args(k, &args, cfg.and_then(|c| c.container.as_ref()))
            })
            .collect();
        missing = add_tasks(ctx, &job, &bodies, dl, &mut diags).await;
    }
    if !c.update_constraints.is_empty() {
        update_constraints(ctx, &job, &p, &c.update_constraints, dl, &mut diags).await;
    }
    let touched: Vec<String> = c
        .rerun_or_waited()
        .into_iter()
        .filter(|k| !missing.contains(k))
        .collect();
    let wait_ok = if p.waits() && !touched.is_empty() {
        match wait_all_completed(ctx, &job, &touched, dl).await {
            Ok(()) => true,
            Err(e) => {
                wait_failed(&mut diags, &job, e, op, req.prior.is_null());
                false
            }
        }
    } else {
        true
    };
    if !touched.is_empty() {
        match list_job_tasks(ctx, &job, Some(RESULT_SELECT)).await {
            Ok(listed) => {
                let mut failed = Vec::new();
                for k in &touched {
                    match listed.get(&k.to_ascii_lowercase()) {
                        Some(t) => {
                            results.insert(k.clone(), result_of(t));
                            if p.waits() && wait_ok && is_failed(t) {
                                failed.push((k.clone(), t.clone()));
                            }
                        }
                        None => {
                            missing.insert(k.clone());
                        }
                    }
                }
                report_failures(ctx, &job, &failed, req.prior.is_null(), &mut diags).await;
            }
            Err(e) => {
                list_failed(&mut diags, &job, &e);
                for k in &touched {
                    results.insert(k.clone(), ResultModel::default());
                }
            }
        }
    }
    retain_tasks(&mut state, |k| !missing.contains(k));
    results.retain(|k, _| !missing.contains(k));
    let patch = PlanPatch {
        id: Tf::Known(job.clone()),
        results: Tf::Known(results),
    };
    let _ = overwrite(&mut state, &patch, ty());
    respond(state, Private::new(), diags)
}

/// A create meets no task of its own in the job: tasks there already are not adopted silently
/// (they may run something else); the error names them and the import that adopts them.
async fn check_no_existing(
    ctx: &Ctx<Batch>,
    job: &str,
    planned: &BTreeMap<String, Option<TaskArgs>>,
    diags: &mut Diagnostics,
) -> bool {
    let existing = match list_job_tasks(ctx, job, Some(SELECT_IDS)).await {
        Ok(l) => l,
        Err(e) if error_code(&e).is_some_and(|c| c.eq_ignore_ascii_case("JobNotFound")) => {
            batch_error(
                diags,
                &format!("add tasks: job {job:?} does not exist"),
                &e,
                Some(&job_path()),
            );
            return false;
        }
        Err(e) => {
            list_failed(diags, job, &e);
            return false;
        }
    };
    let clash: Vec<&String> = planned
        .keys()
        .filter(|k| existing.contains_key(&k.to_ascii_lowercase()))
        .collect();
    if clash.is_empty() {
        return true;
    }
    let shown: Vec<String> = clash.iter().take(20).map(|k| format!("{k:?}")).collect();
    let more = clash.len().saturating_sub(shown.len());
    diags.error(
        format!("{} task(s) of this collection already exist in job {job:?}", clash.len()),
        format!(
            "Nothing was added. {}\n\nImporting by the job id adopts every task of the job into this resource (also through an `import {{ to = ..., id = \"{job}\" }}` block); the next plan then shows what differs.",
            already_exists_detail(
                &format!(
                    "tasks named {}{} in job {job:?}",
                    shown.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() },
                ),
                "batch_container_task_collection",
                job,
            ),
        ),
    );
    false
}

/// Adds the tasks in bulk; errors name the task's entry and Batch's message. Returns the names
/// that were not added.
async fn add_tasks(
    ctx: &Ctx<Batch>,
    job: &str,
    bodies: &[TaskAddParameter],
    dl: tokio::time::Instant,
    diags: &mut Diagnostics,
) -> BTreeSet<String> {
    let names = bodies.iter().map(|b| b.id.clone());
    let results = match ctx
        .client
        .api
        .add_task_collection(job, bodies, &opts(ctx, dl))
        .await
    {
        Ok(r) => r,
        Err(e) => {
            let path = error_code(&e)
                .is_some_and(|c| c.eq_ignore_ascii_case("JobNotFound"))
                .then(job_path);
            batch_error(
                diags,
                &format!("add tasks to job {job:?}"),
                &e,
                path.as_ref(),
            );
            // Which chunks made it is unknown: the read-back below finds the ones that did.
            return BTreeSet::new();
        }
    };
    let mut missing = BTreeSet::new();
    for (name, r) in names.zip(results) {
        if r.status.eq_ignore_ascii_case("success") {
            continue;
        }
        let (code, msg) = r
            .error
            .as_ref()
            .map(|e| {
                (
                    e.code.clone().unwrap_or_default(),
                    e.message
                        .as_ref()
                        .and_then(|m| m.value.clone())
                        .unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        let detail = if code.eq_ignore_ascii_case("TaskExists") {
            format!(
                "Job {job:?} already has a task {name:?} that does not match this entry (another one was added meanwhile). Batch says: {msg}"
            )
        } else {
            format!(
                "Batch error code: {code}\nMessage: {msg}\nStatus: {}\nThe other tasks were added; this one is left out of the state and is added again by the next apply once the entry is fixed.",
                r.status
            )
        };
        diags.attr_error(
            &task_path(&name),
            format!("Failed to add task {name:?} to job {job:?}: {code}"),
            detail,
        );
        missing.insert(name);
    }
    missing
}

/// Deletes the tasks (several at once) and waits until Batch no longer lists them. False when
/// something failed (diagnostics say what).
async fn delete_tasks(
    ctx: &Ctx<Batch>,
    job: &str,
    names: &[String],
    dl: tokio::time::Instant,
    diags: &mut Diagnostics,
) -> bool {
    let api = &ctx.client.api;
    let outcomes: Vec<(String, Result<(), batch_client::BatchError>)> =
        futures::stream::iter(names.iter().cloned())
            .map(|n| async move {
                let r = api.delete_task(job, &n, &opts(ctx, dl)).await.map(|_| ());
                (n, r)
            })
            .buffer_unordered(CALLS_IN_FLIGHT)
            .collect()
            .await;
    let mut ok = true;
    for (n, r) in outcomes {
        match r {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => {
                ok = false;
                batch_error(
                    diags,
                    &format!("delete task {n:?} of job {job:?}"),
                    &e,
                    Some(&task_path(&n)),
                );
            }
        }
    }
    if !ok {
        return false;
    }
    let gone: BTreeSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let what = format!("{} task(s) of job {job:?} to be deleted", gone.len());
    let gone = &gone;
    let r = crate::common::poll_until(ctx, dl, &what, || async move {
        match list_job_tasks(ctx, job, Some(SELECT_IDS)).await {
            Ok(l) => Ok((!l.keys().any(|k| gone.contains(k))).then_some(())),
            Err(e) if is_not_found(&e) => Ok(Some(())),
            Err(e) => {
                let mut d = Diagnostics::new();
                list_failed(&mut d, job, &e);
                Err(d)
            }
        }
    })
    .await;
    match r {
        Ok(()) => true,
        Err(e) => {
            wait_error(diags, &what, e, "delete");
            false
        }
    }
}

/// Task_Update (constraints, replaced as a whole) for the named tasks, several at once.
async fn update_constraints(
    ctx: &Ctx<Batch>,
    job: &str,
    p: &CollectionModel,
    names: &[String],
    dl: tokio::time::Instant,
    diags: &mut Diagnostics,
) {
    let api = &ctx.client.api;
    let constraints = |n: &str| {
        p.tasks
            .as_ref()
            .and_then(|t| t.get(n))
            .and_then(|a| a.constraints.clone())
    };
    // Unset retry counts take the job's (Batch's default for a task), read once.
    let need_job = names.iter().any(|n| {
        constraints(n)
            .and_then(|c| c.max_task_retry_count)
            .is_none()
    });
    let job_retries = if need_job {
        match api.get_job(job, &opts(ctx, dl)).await {
            Ok(Some(j)) => j.value.constraints.and_then(|c| c.max_task_retry_count),
            _ => None,
        }
    } else {
        None
    };
    let outcomes: Vec<(String, Result<(), batch_client::BatchError>)> =
        futures::stream::iter(names.iter().cloned())
            .map(|n| {
                let update = TaskUpdateParameter {
                    constraints: Some(expand_task_constraints_replacing(
                        constraints(&n).as_ref(),
                        || job_retries,
                    )),
                };
                async move {
                    let r = api
                        .update_task(job, &n, &update, &opts(ctx, dl))
                        .await
                        .map(|_| ());
                    (n, r)
                }
            })
            .buffer_unordered(CALLS_IN_FLIGHT)
            .collect()
            .await;
    for (n, r) in outcomes {
        if let Err(e) = r {
            batch_error(
                diags,
                &format!("update the constraints of task {n:?}"),
                &e,
                Some(&task_path(&n).child("constraints")),
            );
        }
    }
}

/// What to do about failed tasks, by whether this was the create (which Terraform marks
/// tainted when it fails) or an update.
fn rerun_note(create: bool) -> &'static str {
    if create {
        "Terraform marks a collection whose create failed as tainted, which would replace every task on the next apply: run `terraform untaint <address>` first, and the next apply runs again only the failed tasks."
    } else {
        "The next apply runs again only the failed tasks; the others are left alone."
    }
}

fn wait_failed(diags: &mut Diagnostics, job: &str, e: WaitError, op: Op, create: bool) {
    let what = format!("the tasks of job {job:?} to complete");
    wait_error(diags, &what, e, op.name());
    if create {
        diags.warning("The tasks keep running", rerun_note(true));
    }
}

/// One error per failed task for the first ten (exit code, failure information, stderr tail),
/// then one naming the rest.
async fn report_failures(
    ctx: &Ctx<Batch>,
    job: &str,
    failed: &[(String, CloudTask)],
    create: bool,
    diags: &mut Diagnostics,
) {
    for (name, t) in failed.iter().take(FAILURES_DESCRIBED) {
        let (summary, mut detail) = failure_report(ctx, job, name, t).await;
        detail.push_str(&format!("\n{}", rerun_note(create)));
        diags.attr_error(&task_path(name), summary, detail);
    }
    if failed.len() > FAILURES_DESCRIBED {
        let rest: Vec<&str> = failed[FAILURES_DESCRIBED..]
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        diags.error(
            format!("{} more task(s) of job {job:?} failed", rest.len()),
            format!("Also failed: {}.\n{}", rest.join(", "), rerun_note(create)),
        );
    }
}

pub async fn read(ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
    let mut diags = Diagnostics::new();
    let Some(prior) = read_model(&req.state, &mut diags) else {
        return ReadResponse {
            state: req.state,
            private: req.private,
            diags,
        };
    };
    let job = prior.job_id.clone();
    let imported = req.private.contains_key(IMPORTED);
    let select = (!imported).then_some(RESULT_SELECT);
    let listed = match list_job_tasks(ctx, &job, select).await {
        Ok(l) => l,
        Err(e) if is_not_found(&e) => {
            diags.warning(
                format!("Job {job:?} no longer exists"),
                "The job of this task collection is gone, and its tasks with it: Terraform removed the collection from the state and will plan to add its tasks again.",
            );
            return ReadResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            };
        }
        Err(e) => {
            list_failed(&mut diags, &job, &e);
            return ReadResponse {
                state: req.state,
                private: req.private,
                diags,
            };
        }
    };
    let mut state = req.state.clone();
    if imported {
        // Adopt every task of the job, as Batch has it.
        let tasks: BTreeMap<String, TaskArgs> = listed
            .values()
            .map(|t| {
                let mut a = flatten_task_args(t, None);
                a.constraints = flatten_imported_task_constraints(t.constraints.as_ref());
                (t.id.clone().unwrap_or_default(), a)
            })
            .collect();
        let _ = overwrite(&mut state, &TasksPatch { tasks }, ty());
        // Lists left out of configuration are null in nested attributes (not empty as in blocks).
        empty_lists_to_null(&mut state);
    } else {
        let gone: Vec<&String> = prior
            .tasks
            .iter()
            .flatten()
            .map(|(k, _)| k)
            .filter(|k| !listed.contains_key(&k.to_ascii_lowercase()))
            .collect();
        if !gone.is_empty() {
            let shown: Vec<&str> = gone.iter().take(20).map(|s| s.as_str()).collect();
            diags.warning(
                format!("{} task(s) of job {job:?} no longer exist", gone.len()),
                format!("Batch no longer has tasks {}{}: deleted outside Terraform or removed after their retention time. Terraform plans to add them again, which runs them again; remove them from the map to keep them from running.", shown.join(", "), if gone.len() > shown.len() { ", ..." } else { "" }),
            );
        }
        retain_tasks(&mut state, |k| listed.contains_key(&k.to_ascii_lowercase()));
    }
    let Some(now) = read_model(&state, &mut diags) else {
        return ReadResponse {
            state: req.state,
            private: req.private,
            diags,
        };
    };
    let results: BTreeMap<String, ResultModel> = now
        .tasks
        .iter()
        .flatten()
        .filter_map(|(k, _)| {
            listed
                .get(&k.to_ascii_lowercase())
                .map(|t| (k.clone(), result_of(t)))
        })
        .collect();
    let patch = PlanPatch {
        id: Tf::Known(job.clone()),
        results: Tf::Known(results),
    };
    let _ = overwrite(&mut state, &patch, ty());
    ReadResponse {
        state,
        private: Private::new(),
        diags,
    }
}

/// Every empty list in `v` (the imported state: nothing in it is a list the user wrote) as null.
fn empty_lists_to_null(v: &mut Value) {
    match v {
        Value::List(l) if l.is_empty() => *v = Value::Null,
        Value::List(l) | Value::Set(l) => l.iter_mut().for_each(empty_lists_to_null),
        Value::Map(m) | Value::Object(m) => m.values_mut().for_each(empty_lists_to_null),
        _ => {}
    }
}

pub async fn delete(ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(prior) = read_model(&req.prior, &mut diags) else {
        return diags;
    };
    let job = prior.job_id.clone();
    let dl = Timeouts::deadline(prior.timeouts.as_ref(), Op::Delete, DELETE_DEFAULT);
    let names: Vec<String> = prior
        .tasks
        .iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .collect();
    if !names.is_empty() {
        delete_tasks(ctx, &job, &names, dl, &mut diags).await;
    }
    diags
}

pub fn import(id: &str) -> ImportResponse {
    let mut diags = Diagnostics::new();
    if !is_batch_id(id) {
        diags.error(
            "Invalid import id",
            format!("{id:?} is not a job id: import a batch_container_task_collection by the id of its job, like `terraform import batch_container_task_collection.frames render`; every task of the job is adopted."),
        );
        return ImportResponse {
            state: Value::Null,
            private: Private::new(),
            diags,
        };
    }
    let st = CollectionModel {
        id: Tf::Known(id.to_string()),
        job_id: id.to_string(),
        wait_for_completion: Some(false),
        ..Default::default()
    };
    ImportResponse {
        state: to_value(&st, ty()).expect("the collection model matches its schema"),
        private: Private::from([(IMPORTED.to_string(), serde_json::Value::Bool(true))]),
        diags,
    }
}
