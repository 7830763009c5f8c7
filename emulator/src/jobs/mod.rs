//! Job operations; the operations on a job's tasks are in [`tasks`].

pub mod tasks;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::{App, HandlerResult, Reply, Req, check_conditions, filter_matches, page, select};
use crate::error::ApiError;
use crate::state::{Job, State, i, s};
use crate::util::{MAX_DURATION, now_iso, now_ms, touch, valid_id};

pub fn find_job<'a>(st: &'a mut State, id: &str) -> Result<&'a mut Job, ApiError> {
    st.jobs
        .get_mut(&id.to_ascii_lowercase())
        .ok_or_else(ApiError::job_not_found)
}

pub(crate) fn bad_id(kind: &str, id: &str) -> ApiError {
    ApiError::invalid_property(
        "id",
        Some(id),
        &format!(
            "The {kind} id can contain any combination of alphanumeric characters including hyphens and underscores, and cannot contain more than 64 characters."
        ),
    )
}

fn job_constraints_default(c: &mut Value) {
    if c.get("maxWallClockTime").is_none() {
        c["maxWallClockTime"] = json!(MAX_DURATION);
    }
    if c.get("maxTaskRetryCount").is_none() {
        c["maxTaskRetryCount"] = json!(0);
    }
}

/// The service's defaults of a job's (or a schedule's job specification's) properties.
pub(crate) fn job_defaults(body: &mut Value) {
    for (k, v) in [
        ("priority", json!(0)),
        ("maxParallelTasks", json!(-1)),
        ("usesTaskDependencies", json!(false)),
        ("allowTaskPreemption", json!(false)),
        ("onAllTasksComplete", json!("noaction")),
        ("onTaskFailure", json!("noaction")),
        ("constraints", json!({})),
    ] {
        if body.get(k).is_none() {
            body[k] = v;
        }
    }
    job_constraints_default(&mut body["constraints"]);
}

pub fn job_add(app: &App, st: &mut State, req: &Req) -> HandlerResult {
    let j = req.json("JobAddParameter", true)?.unwrap_or_default();
    let id = s(&j, "id").to_string();
    if !valid_id(&id) {
        return Err(bad_id("job", &id));
    }
    if st.jobs.contains_key(&id.to_ascii_lowercase()) {
        return Err(ApiError::conflict(
            "JobExists",
            "The specified job already exists.",
        ));
    }
    // Jobs and job schedules share one id space (documented in Batch's error codes).
    if st.schedules.contains_key(&id.to_ascii_lowercase()) {
        return Err(ApiError::conflict(
            "JobScheduleWithSameIdExists",
            "A job schedule with the specified job id exists. Job and job schedule cannot have the same id.",
        ));
    }
    let body = create_job(app, st, &j)?;
    Ok(Reply::status(StatusCode::CREATED).write_headers(&body, true))
}

/// Validate a job (a `JobAddParameter`, or a schedule's `jobSpecification` with the id of the
/// run's job) and add it with its job manager task; returns the job's body.
pub fn create_job(app: &App, st: &mut State, j: &Value) -> Result<Value, ApiError> {
    let id = s(j, "id").to_string();
    let auto = j["poolInfo"].get("autoPoolSpecification").cloned();
    if s(&j["poolInfo"], "poolId").is_empty() && auto.is_none() {
        return Err(ApiError::missing_property("poolInfo.poolId"));
    }
    if let Some(p) = j.get("priority").and_then(Value::as_i64)
        && !(-1000..=1000).contains(&p)
    {
        return Err(ApiError::invalid_property(
            "priority",
            Some(&p.to_string()),
            "The priority must be between -1000 and 1000.",
        ));
    }
    let mut pool_id = s(&j["poolInfo"], "poolId").to_string();
    if let Some(auto) = auto {
        // An auto pool: created with the job, named <prefix>_<guid>, deleted with the job (poolLifetimeOption job).
        let prefix = s(&auto, "autoPoolIdPrefix");
        let guid = uuid::Uuid::new_v4().to_string();
        pool_id = if prefix.is_empty() {
            guid
        } else {
            format!("{prefix}_{guid}")
        };
        pool_id.truncate(64);
        let mut spec = auto["pool"].clone();
        spec["id"] = json!(pool_id);
        crate::pools::create_pool(app, st, spec).map_err(|mut e| {
            for (k, v) in e.values.iter_mut() {
                if k == "PropertyName" {
                    *v = format!("poolInfo.autoPoolSpecification.pool.{v}");
                }
            }
            e
        })?;
    }
    let now = now_iso();
    let mut body = json!({"id": id, "url": format!("{}/jobs/{id}", app.base_url), "eTag": "", "lastModified": now,
        "creationTime": now, "state": "active", "stateTransitionTime": now});
    for (k, v) in j.as_object().cloned().unwrap_or_default() {
        if k != "id" {
            body[k] = v;
        }
    }
    job_defaults(&mut body);
    for t in ["jobPreparationTask", "jobReleaseTask"] {
        if let Some(tv) = body.get_mut(t) {
            if tv.get("id").is_none() {
                tv["id"] = json!(if t == "jobPreparationTask" {
                    "jobpreparation"
                } else {
                    "jobrelease"
                });
            }
            if t == "jobPreparationTask" {
                for (k, v) in [
                    ("waitForSuccess", json!(true)),
                    ("rerunOnNodeRebootAfterSuccess", json!(true)),
                ] {
                    if tv.get(k).is_none() {
                        tv[k] = v;
                    }
                }
            }
        }
    }
    body["executionInfo"] = json!({"startTime": now, "poolId": pool_id});
    if let Some(jm) = body.get_mut("jobManagerTask")
        && jm.get("killJobOnCompletion").is_none()
    {
        jm["killJobOnCompletion"] = json!(true);
    }
    touch(&mut body);
    let created = body.clone();
    let key = id.to_ascii_lowercase();
    let jm = body.get("jobManagerTask").cloned();
    st.jobs.insert(
        key.clone(),
        Job {
            body,
            tasks: Default::default(),
            delete_done_at: None,
        },
    );
    if let Some(jm) = jm {
        // The job manager runs as an ordinary task of the job (created with it).
        let mut t = json!({});
        for k in [
            "id",
            "displayName",
            "commandLine",
            "containerSettings",
            "resourceFiles",
            "outputFiles",
            "environmentSettings",
            "constraints",
            "requiredSlots",
            "userIdentity",
            "applicationPackageReferences",
            "authenticationTokenSettings",
        ] {
            if let Some(v) = jm.get(k) {
                t[k] = v.clone();
            }
        }
        match tasks::build_task(st, &key, &t) {
            Ok(task) => {
                st.jobs
                    .get_mut(&key)
                    .unwrap()
                    .tasks
                    .insert(s(&task.body, "id").to_ascii_lowercase(), task);
            }
            Err(mut e) => {
                // Nothing is left behind: neither the job nor its auto pool.
                if let Some(job) = st.jobs.remove(&key)
                    && job.body["poolInfo"].get("autoPoolSpecification").is_some()
                {
                    st.pools.remove(&job.pool_key());
                }
                for (k, v) in e.values.iter_mut() {
                    if k == "PropertyName" {
                        *v = format!("jobManagerTask.{v}");
                    }
                }
                return Err(e);
            }
        }
    }
    st.dirty = true;
    Ok(created)
}

pub fn job_get(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let j = find_job(st, id)?;
    if let Some(r) = check_conditions(req, &j.body, true)? {
        return Ok(r);
    }
    Ok(Reply::json(StatusCode::OK, select(req, j.body.clone())).resource_headers(&j.body))
}

pub fn job_list(app: &App, st: &mut State, req: &Req) -> HandlerResult {
    let mut items = vec![];
    for j in st.jobs.values() {
        if filter_matches(req.q("$filter"), &j.body)? {
            items.push(j.body.clone());
        }
    }
    page(app, req, "/jobs", items, "jobs")
}

fn writable_job<'a>(st: &'a mut State, req: &Req, id: &str) -> Result<&'a mut Job, ApiError> {
    let j = find_job(st, id)?;
    check_conditions(req, &j.body, false)?;
    match s(&j.body, "state") {
        "deleting" => Err(ApiError::conflict(
            "JobBeingDeleted",
            "The specified job has been marked for deletion and is being garbage collected.",
        )),
        "completed" => Err(ApiError::conflict(
            "JobCompleted",
            "The specified job is already in a completed state.",
        )),
        "terminating" => Err(ApiError::conflict(
            "JobBeingTerminated",
            "The specified job is being terminated.",
        )),
        _ => Ok(j),
    }
}

pub fn job_patch(_app: &App, st: &mut State, req: &Req, id: &str, replace: bool) -> HandlerResult {
    let def = if replace {
        "JobUpdateParameter"
    } else {
        "JobPatchParameter"
    };
    let upd = req.json(def, true)?.unwrap_or_default();
    let j = writable_job(st, req, id)?;
    if upd
        .get("poolInfo")
        .is_some_and(|p| s(p, "poolId") != s(&j.body["poolInfo"], "poolId"))
        && s(&j.body, "state") != "disabled"
    {
        return Err(ApiError::conflict(
            "JobNotDisabled",
            "The poolInfo of a job can be changed only while the job is disabled.",
        )
        .with("PropertyName", "poolInfo"));
    }
    if s(&j.body, "onAllTasksComplete") == "terminatejob"
        && s(&upd, "onAllTasksComplete").eq_ignore_ascii_case("noaction")
    {
        return Err(ApiError::invalid_property(
            "onAllTasksComplete",
            Some("noaction"),
            "onAllTasksComplete cannot be changed from terminatejob to noaction.",
        ));
    }
    if replace {
        // Replace semantics: omitted updatable properties go back to their defaults.
        let obj = j.body.as_object_mut().unwrap();
        obj.insert(
            "priority".into(),
            upd.get("priority").cloned().unwrap_or(json!(0)),
        );
        obj.insert(
            "maxParallelTasks".into(),
            upd.get("maxParallelTasks").cloned().unwrap_or(json!(-1)),
        );
        obj.insert(
            "allowTaskPreemption".into(),
            upd.get("allowTaskPreemption")
                .cloned()
                .unwrap_or(json!(false)),
        );
        obj.insert(
            "constraints".into(),
            upd.get("constraints").cloned().unwrap_or(json!({})),
        );
        match upd.get("metadata") {
            Some(m) => obj.insert("metadata".into(), m.clone()),
            None => obj.remove("metadata"),
        };
        if let Some(o) = upd.get("onAllTasksComplete") {
            obj.insert("onAllTasksComplete".into(), o.clone());
        }
        obj.insert("poolInfo".into(), upd["poolInfo"].clone());
    } else {
        for (k, v) in upd.as_object().cloned().unwrap_or_default() {
            if k == "constraints" {
                for (ck, cv) in v.as_object().cloned().unwrap_or_default() {
                    j.body["constraints"][ck] = cv;
                }
            } else {
                j.body[k] = v;
            }
        }
    }
    job_constraints_default(&mut j.body["constraints"]);
    touch(&mut j.body);
    st.dirty = true;
    let j = find_job(st, id)?;
    Ok(Reply::status(StatusCode::OK).write_headers(&j.body, false))
}

pub fn job_delete(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let j = find_job(st, id)?;
    check_conditions(req, &j.body, false)?;
    if s(&j.body, "state") == "deleting" {
        return Err(ApiError::conflict(
            "JobBeingDeleted",
            "The specified job has been marked for deletion and is being garbage collected.",
        ));
    }
    j.set_state("deleting");
    j.delete_done_at = Some(now_ms() + app.delete_delay.as_millis() as i64);
    touch(&mut j.body);
    st.stop_job_tasks(
        &app.cancels,
        &id.to_ascii_lowercase(),
        "The job was deleted.",
    );
    st.dirty = true;
    let j = find_job(st, id)?;
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&j.body, false))
}

pub fn job_terminate(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let t = req.json("JobTerminateParameter", false)?;
    let reason = t
        .as_ref()
        .map(|t| s(t, "terminateReason"))
        .filter(|r| !r.is_empty())
        .unwrap_or("UserTerminate")
        .to_string();
    writable_job(st, req, id)?;
    st.terminate_job(&app.cancels, &id.to_ascii_lowercase(), &reason);
    let j = find_job(st, id)?;
    touch(&mut j.body);
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&j.body, false))
}

pub fn job_disable(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let d = req.json("JobDisableParameter", true)?.unwrap_or_default();
    let j = writable_job(st, req, id)?;
    if s(&j.body, "state") != "active" {
        return Err(ApiError::conflict(
            "JobNotActive",
            "The specified job is not in the active state.",
        ));
    }
    j.set_state("disabled");
    touch(&mut j.body);
    // requeue: running tasks go back to active; terminate: they end; wait: they finish.
    st.disable_job_tasks(
        &app.cancels,
        &id.to_ascii_lowercase(),
        s(&d, "disableTasks"),
    );
    let j = find_job(st, id)?;
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&j.body, false))
}

pub fn job_enable(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let j = find_job(st, id)?;
    check_conditions(req, &j.body, false)?;
    match s(&j.body, "state") {
        "disabled" | "disabling" => {
            j.set_state("active");
            touch(&mut j.body);
            st.dirty = true;
        }
        "active" | "enabling" => {}
        _ => {
            return Err(ApiError::conflict(
                "JobNotDisabled",
                "The specified job is not disabled.",
            ));
        }
    }
    let j = find_job(st, id)?;
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&j.body, false))
}

pub fn task_counts(_app: &App, st: &mut State, _req: &Req, id: &str) -> HandlerResult {
    let j = find_job(st, id)?;
    let (mut a, mut r, mut c, mut ok, mut f) = (0, 0, 0, 0, 0);
    let (mut sa, mut sr, mut sc, mut sok, mut sf) = (0, 0, 0, 0, 0);
    for t in j.tasks.values() {
        let slots = i(&t.body, "requiredSlots").max(1);
        match s(&t.body, "state") {
            "active" => (a, sa) = (a + 1, sa + slots),
            "running" | "preparing" => (r, sr) = (r + 1, sr + slots),
            _ => {
                (c, sc) = (c + 1, sc + slots);
                if s(&t.body["executionInfo"], "result") == "success" {
                    (ok, sok) = (ok + 1, sok + slots);
                } else {
                    (f, sf) = (f + 1, sf + slots);
                }
            }
        }
    }
    Ok(Reply::json(
        StatusCode::OK,
        json!({"taskCounts": {"active": a, "running": r, "completed": c, "succeeded": ok, "failed": f},
               "taskSlotCounts": {"active": sa, "running": sr, "completed": sc, "succeeded": sok, "failed": sf}}),
    ))
}

/// Job_ListPreparationAndReleaseTaskStatus.
pub fn prep_release_status(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let j = find_job(st, id)?;
    if j.body.get("jobPreparationTask").is_none() && j.body.get("jobReleaseTask").is_none() {
        return Err(ApiError::conflict(
            "JobPreparationTaskOrReleaseTaskNotSpecified",
            "The job does not have a job preparation or release task.",
        ));
    }
    let jk = id.to_ascii_lowercase();
    let pk = j.pool_key();
    let job_url_id = s(&j.body, "id").to_string();
    let mut items = vec![];
    if let Some(p) = st.pools.get(&pk) {
        for n in &p.nodes {
            let Some(prep) = n.prep_info.get(&jk) else {
                continue;
            };
            let mut v = json!({"poolId": s(&p.body, "id"), "nodeId": s(&n.body, "id"), "nodeUrl": s(&n.body, "url"),
                "jobPreparationTaskExecutionInfo": prep});
            if let Some(rel) = n.release_info.get(&jk) {
                v["jobReleaseTaskExecutionInfo"] = rel.clone();
            }
            items.push(v);
        }
    }
    crate::app::page(
        app,
        req,
        &format!("/jobs/{job_url_id}/jobpreparationandreleasetaskstatus"),
        items,
        "jobpreparationandreleasetaskstatuslist",
    )
}
