//! Task operations.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{bad_id, find_job};
use crate::app::{App, HandlerResult, Reply, Req, check_conditions, filter_matches, page, select};
use crate::error::ApiError;
use crate::state::{State, Task, b, i, s};
use crate::util::{MAX_DURATION, now_iso, touch, valid_id};

pub fn task_subtasks(
    _app: &App,
    st: &mut State,
    _req: &Req,
    job: &str,
    task: &str,
) -> HandlerResult {
    let t = find_task(st, job, task)?;
    Ok(Reply::json(StatusCode::OK, json!({"value": t.subtasks})))
}

/// Validate one TaskAddParameter against its job and build the stored task.
pub(super) fn build_task(st: &mut State, job_key: &str, t: &Value) -> Result<Task, ApiError> {
    crate::schema::validate("TaskAddParameter", t)?;
    let id = s(t, "id").to_string();
    if !valid_id(&id) {
        return Err(bad_id("task", &id));
    }
    let seq = st.seq();
    let job = st.jobs.get(job_key).ok_or_else(ApiError::job_not_found)?;
    if job.tasks.contains_key(&id.to_ascii_lowercase()) {
        return Err(ApiError::conflict(
            "TaskExists",
            "The specified task already exists.",
        ));
    }
    if t.get("dependsOn").is_some() && !b(&job.body, "usesTaskDependencies") {
        return Err(ApiError::conflict(
            "TaskDependenciesNotSpecifiedOnJob",
            "The task has dependencies but the job does not have usesTaskDependencies set to true.",
        ));
    }
    if !s(&job.body, "onTaskFailure").eq_ignore_ascii_case("performexitoptionsjobaction") {
        let ec = &t["exitConditions"];
        let mut opts: Vec<(String, &Value)> = vec![];
        for (k, list) in [
            ("exitCodes", &ec["exitCodes"]),
            ("exitCodeRanges", &ec["exitCodeRanges"]),
        ] {
            for (n, e) in list.as_array().into_iter().flatten().enumerate() {
                opts.push((
                    format!("exitConditions.{k}[{n}].exitOptions"),
                    &e["exitOptions"],
                ));
            }
        }
        for k in ["preProcessingError", "fileUploadError", "default"] {
            opts.push((format!("exitConditions.{k}"), &ec[k]));
        }
        if let Some((path, _)) = opts.iter().find(|(_, o)| o.get("jobAction").is_some()) {
            return Err(ApiError::invalid_property(
                &format!("{path}.jobAction"),
                None,
                "jobAction can be specified only when the job's onTaskFailure is performexitoptionsjobaction.",
            ));
        }
    }
    if let Some(mi) = t.get("multiInstanceSettings") {
        let n = mi
            .get("numberOfInstances")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if !(1..=100).contains(&n) {
            return Err(ApiError::invalid_property(
                "multiInstanceSettings.numberOfInstances",
                Some(&n.to_string()),
                "The number of instances must be between 1 and 100.",
            ));
        }
    }
    if let Some(n) = t.get("requiredSlots").and_then(Value::as_i64)
        && n < 1
    {
        return Err(ApiError::invalid_property(
            "requiredSlots",
            Some(&n.to_string()),
            "requiredSlots must be at least 1.",
        ));
    }
    let pool_key = job.pool_key();
    if let Some(pool) = st.pools.get(&pool_key) {
        let container_pool = pool.body["virtualMachineConfiguration"]
            .get("containerConfiguration")
            .is_some_and(|c| !c.is_null());
        let container_task = t.get("containerSettings").is_some_and(|c| !c.is_null());
        if container_task && !container_pool {
            return Err(ApiError::invalid_property(
                "containerSettings",
                None,
                "The task specifies containerSettings but its pool has no containerConfiguration: the pool must be a container pool.",
            ));
        }
        if !container_task && container_pool {
            return Err(ApiError::invalid_property(
                "containerSettings",
                None,
                "The pool has a containerConfiguration, so the task must specify containerSettings (imageName).",
            ));
        }
    }
    let now = now_iso();
    let url = format!("{}/tasks/{id}", s(&job.body, "url"));
    let mut body = json!({"id": id, "url": url, "eTag": "", "lastModified": now, "creationTime": now,
        "state": "active", "stateTransitionTime": now});
    for (k, v) in t.as_object().cloned().unwrap_or_default() {
        if k != "id" {
            body[k] = v;
        }
    }
    let mut c = body.get("constraints").cloned().unwrap_or(json!({}));
    if c.get("maxWallClockTime").is_none() {
        c["maxWallClockTime"] = json!(MAX_DURATION);
    }
    if c.get("retentionTime").is_none() {
        c["retentionTime"] = json!("P7D");
    }
    if c.get("maxTaskRetryCount").is_none() {
        c["maxTaskRetryCount"] = json!(i(&job.body["constraints"], "maxTaskRetryCount"));
    }
    body["constraints"] = c;
    if body.get("requiredSlots").is_none() {
        body["requiredSlots"] = json!(1);
    }
    if body.get("userIdentity").is_none() {
        body["userIdentity"] = json!({"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}});
    }
    if let Some(cs) = body.get_mut("containerSettings")
        && cs.get("workingDirectory").is_none()
    {
        cs["workingDirectory"] = json!("taskWorkingDirectory");
    }
    body["executionInfo"] = json!({"retryCount": 0, "requeueCount": 0});
    if let Some(mi) = body.get_mut("multiInstanceSettings")
        && mi.get("numberOfInstances").is_none()
    {
        mi["numberOfInstances"] = json!(1);
    }
    touch(&mut body);
    Ok(Task::new(body, seq))
}

fn addable_job(st: &mut State, id: &str) -> Result<String, ApiError> {
    let j = find_job(st, id)?;
    match s(&j.body, "state") {
        "completed" => Err(ApiError::conflict(
            "JobCompleted",
            "The specified job is already in a completed state.",
        )),
        "terminating" => Err(ApiError::conflict(
            "JobBeingTerminated",
            "The specified job is being terminated.",
        )),
        "deleting" => Err(ApiError::conflict(
            "JobBeingDeleted",
            "The specified job has been marked for deletion and is being garbage collected.",
        )),
        _ => Ok(id.to_ascii_lowercase()),
    }
}

pub fn task_add(_app: &App, st: &mut State, req: &Req, job_id: &str) -> HandlerResult {
    let t = req.json("TaskAddParameter", true)?.unwrap_or_default();
    let key = addable_job(st, job_id)?;
    let task = build_task(st, &key, &t)?;
    let reply = Reply::status(StatusCode::CREATED).write_headers(&task.body, true);
    let job = st.jobs.get_mut(&key).unwrap();
    job.tasks
        .insert(s(&task.body, "id").to_ascii_lowercase(), task);
    st.dirty = true;
    Ok(reply)
}

pub fn task_add_collection(_app: &App, st: &mut State, req: &Req, job_id: &str) -> HandlerResult {
    if req.body.len() > 1024 * 1024 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestBodyTooLarge",
            "The request body is too large and exceeds the maximum permissible limit (1 MB).",
        ));
    }
    // Validate the envelope only; each task is validated on its own and reported in the result.
    let coll: Value = match req.json("__none__", true)? {
        Some(v) => v,
        None => return Err(ApiError::missing_property("value")),
    };
    let Some(tasks) = coll.get("value").and_then(Value::as_array) else {
        return Err(ApiError::missing_property("value"));
    };
    if tasks.len() > 100 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestBodyTooLarge",
            "The number of tasks in the collection exceeds the maximum of 100.",
        )
        .with("Reason", "At most 100 tasks can be added in one call."));
    }
    let key = addable_job(st, job_id)?;
    let mut results = vec![];
    for t in tasks {
        let tid = s(t, "id").to_string();
        match build_task(st, &key, t) {
            Ok(task) => {
                results.push(
                    json!({"status": "success", "taskId": tid, "eTag": task.body["eTag"],
                    "lastModified": task.body["lastModified"], "location": task.body["url"]}),
                );
                st.jobs
                    .get_mut(&key)
                    .unwrap()
                    .tasks
                    .insert(tid.to_ascii_lowercase(), task);
            }
            Err(e) => {
                let mut err =
                    json!({"code": e.code, "message": {"lang": "en-US", "value": e.message}});
                if !e.values.is_empty() {
                    err["values"] = json!(
                        e.values
                            .iter()
                            .map(|(k, v)| json!({"key": k, "value": v}))
                            .collect::<Vec<_>>()
                    );
                }
                let status = if e.status.is_server_error() {
                    "servererror"
                } else {
                    "clienterror"
                };
                results.push(json!({"status": status, "taskId": tid, "error": err}));
            }
        }
    }
    st.dirty = true;
    Ok(Reply::json(StatusCode::OK, json!({"value": results})))
}

/// Task changes are refused while the job is being deleted.
fn job_not_deleting(st: &mut State, job: &str) -> Result<(), ApiError> {
    if s(&find_job(st, job)?.body, "state") == "deleting" {
        return Err(ApiError::conflict(
            "JobBeingDeleted",
            "The specified job has been marked for deletion and is being garbage collected.",
        ));
    }
    Ok(())
}

pub fn find_task<'a>(st: &'a mut State, job: &str, task: &str) -> Result<&'a mut Task, ApiError> {
    find_job(st, job)?
        .tasks
        .get_mut(&task.to_ascii_lowercase())
        .ok_or_else(ApiError::task_not_found)
}

pub fn task_get(_app: &App, st: &mut State, req: &Req, job: &str, task: &str) -> HandlerResult {
    let t = find_task(st, job, task)?;
    if let Some(r) = check_conditions(req, &t.body, true)? {
        return Ok(r);
    }
    Ok(Reply::json(StatusCode::OK, select(req, t.body.clone())).resource_headers(&t.body))
}

pub fn task_list(app: &App, st: &mut State, req: &Req, job: &str) -> HandlerResult {
    let j = find_job(st, job)?;
    let mut tasks: Vec<&Task> = j.tasks.values().collect();
    tasks.sort_by_key(|t| t.seq);
    let mut items = vec![];
    for t in tasks {
        if filter_matches(req.q("$filter"), &t.body)? {
            items.push(t.body.clone());
        }
    }
    let path = format!("/jobs/{}/tasks", s(&j.body, "id"));
    page(app, req, &path, items, "tasks")
}

pub fn task_update(_app: &App, st: &mut State, req: &Req, job: &str, task: &str) -> HandlerResult {
    let u = req.json("TaskUpdateParameter", true)?.unwrap_or_default();
    job_not_deleting(st, job)?;
    let t = find_task(st, job, task)?;
    check_conditions(req, &t.body, false)?;
    if let Some(c) = u.get("constraints").and_then(Value::as_object) {
        for (k, v) in c {
            t.body["constraints"][k] = v.clone();
        }
    }
    touch(&mut t.body);
    st.dirty = true;
    let t = find_task(st, job, task)?;
    Ok(Reply::status(StatusCode::OK).write_headers(&t.body, false))
}

pub fn task_delete(app: &App, st: &mut State, req: &Req, job: &str, task: &str) -> HandlerResult {
    job_not_deleting(st, job)?;
    let t = find_task(st, job, task)?;
    check_conditions(req, &t.body, false)?;
    let (jk, tk) = (job.to_ascii_lowercase(), task.to_ascii_lowercase());
    st.end_running_task(&app.cancels, &jk, &tk, None);
    let t = st.jobs.get_mut(&jk).and_then(|j| j.tasks.remove(&tk));
    if let Some(dir) = t.and_then(|t| t.dir) {
        let _ = std::fs::remove_dir_all(dir);
    }
    st.dirty = true;
    Ok(Reply::status(StatusCode::OK))
}

pub fn task_terminate(
    app: &App,
    st: &mut State,
    req: &Req,
    job: &str,
    task: &str,
) -> HandlerResult {
    job_not_deleting(st, job)?;
    let t = find_task(st, job, task)?;
    check_conditions(req, &t.body, false)?;
    if s(&t.body, "state") == "completed" {
        return Err(ApiError::conflict(
            "TaskCompleted",
            "The specified task is already completed.",
        ));
    }
    let (jk, tk) = (job.to_ascii_lowercase(), task.to_ascii_lowercase());
    st.terminate_task(&app.cancels, &jk, &tk);
    let t = find_task(st, job, task)?;
    touch(&mut t.body);
    st.dirty = true;
    let t = find_task(st, job, task)?;
    Ok(Reply::status(StatusCode::NO_CONTENT).write_headers(&t.body, false))
}

/// Task_Reactivate: a task that completed with a failure becomes active again, its retry count reset.
pub fn task_reactivate(
    _app: &App,
    st: &mut State,
    req: &Req,
    job: &str,
    task: &str,
) -> HandlerResult {
    let state = s(&find_job(st, job)?.body, "state").to_string();
    if matches!(state.as_str(), "completed" | "terminating" | "deleting") {
        return Err(ApiError::conflict(
            "JobCompleted",
            "The task's job is completed, terminating or being deleted.",
        ));
    }
    let t = find_task(st, job, task)?;
    check_conditions(req, &t.body, false)?;
    if s(&t.body, "state") != "completed" || s(&t.body["executionInfo"], "result") != "failure" {
        return Err(ApiError::conflict(
            "TaskNotFailed",
            "Only a task that completed with a failure can be reactivated.",
        ));
    }
    t.reactivate();
    touch(&mut t.body);
    st.dirty = true;
    let t = find_task(st, job, task)?;
    Ok(Reply::status(StatusCode::NO_CONTENT).write_headers(&t.body, false))
}
