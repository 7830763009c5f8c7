//! Job schedule operations (JobSchedule_*, Job_ListFromJobSchedule). The runs themselves (a job
//! per due slot) are made by the engine's tick from [`crate::state::JobSchedule`].
//!
//! Error codes and statuses are those of Batch's "Status and Error Codes" page:
//! JobScheduleNotFound 404; JobScheduleExists, JobWithSameIdExists, JobScheduleBeingDeleted,
//! JobScheduleBeingTerminated, JobScheduleCompleted 409. Which operations each state refuses is
//! inferred from the state descriptions (the page does not list them per operation).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::{App, HandlerResult, Reply, Req, check_conditions, filter_matches, page, select};
use crate::error::ApiError;
use crate::state::{JobSchedule, State, s};
use crate::util::{now_iso, now_ms, parse_duration_ms, touch, valid_id};

fn not_found() -> ApiError {
    ApiError::not_found(
        "JobScheduleNotFound",
        "The specified job schedule does not exist.",
    )
}

fn find<'a>(st: &'a mut State, id: &str) -> Result<&'a mut JobSchedule, ApiError> {
    st.schedules
        .get_mut(&id.to_ascii_lowercase())
        .ok_or_else(not_found)
}

/// The schedule must accept a change: not deleting, terminating or completed.
fn writable<'a>(st: &'a mut State, req: &Req, id: &str) -> Result<&'a mut JobSchedule, ApiError> {
    let sc = find(st, id)?;
    check_conditions(req, &sc.body, false)?;
    match sc.state() {
        "deleting" => Err(ApiError::conflict(
            "JobScheduleBeingDeleted",
            "The specified job schedule has been marked for deletion and is being reclaimed.",
        )),
        "terminating" => Err(ApiError::conflict(
            "JobScheduleBeingTerminated",
            "The specified job schedule is being terminated.",
        )),
        "completed" => Err(ApiError::conflict(
            "JobScheduleCompleted",
            "The specified job schedule is already in completed state.",
        )),
        _ => Ok(sc),
    }
}

/// The `schedule` element: every duration at least one minute, as the service requires.
fn check_schedule(schedule: &Value) -> Result<(), ApiError> {
    for key in ["recurrenceInterval", "startWindow"] {
        let Some(v) = schedule.get(key).and_then(Value::as_str) else {
            continue;
        };
        match parse_duration_ms(v) {
            Some(ms) if ms >= 60_000 => {}
            Some(_) => {
                return Err(ApiError::invalid_property(
                    &format!("schedule.{key}"),
                    Some(v),
                    &format!("The {key} must be at least 1 minute."),
                ));
            }
            None => {
                return Err(ApiError::invalid_property(
                    &format!("schedule.{key}"),
                    Some(v),
                    "The value is not a valid ISO 8601 duration.",
                ));
            }
        }
    }
    for key in ["doNotRunUntil", "doNotRunAfter"] {
        if let Some(v) = schedule.get(key).and_then(Value::as_str)
            && crate::util::parse_iso(v).is_none()
        {
            return Err(ApiError::invalid_property(
                &format!("schedule.{key}"),
                Some(v),
                "The value is not a valid date-time.",
            ));
        }
    }
    Ok(())
}

/// The `jobSpecification` element: checked like Job_Add checks a job, then given the service's
/// defaults (as a schedule's GET shows them).
fn check_job_spec(spec: &Value) -> Result<Value, ApiError> {
    let prefixed = |mut e: ApiError| {
        for (k, v) in e.values.iter_mut() {
            if k == "PropertyName" {
                *v = format!("jobSpecification.{v}");
            }
        }
        e
    };
    let pool = &spec["poolInfo"];
    if s(pool, "poolId").is_empty() && pool.get("autoPoolSpecification").is_none() {
        return Err(ApiError::missing_property(
            "jobSpecification.poolInfo.poolId",
        ));
    }
    if let Some(p) = spec.get("priority").and_then(Value::as_i64)
        && !(-1000..=1000).contains(&p)
    {
        return Err(prefixed(ApiError::invalid_property(
            "priority",
            Some(&p.to_string()),
            "The priority must be between -1000 and 1000.",
        )));
    }
    if let Some(jm) = spec.get("jobManagerTask") {
        let id = s(jm, "id");
        if !valid_id(id) {
            return Err(prefixed(crate::jobs::bad_id("task", id))
                .with("PropertyName", "jobSpecification.jobManagerTask.id"));
        }
        if s(jm, "commandLine").is_empty() {
            return Err(ApiError::missing_property(
                "jobSpecification.jobManagerTask.commandLine",
            ));
        }
    }
    let mut out = spec.clone();
    crate::jobs::job_defaults(&mut out);
    Ok(out)
}

pub fn add(app: &App, st: &mut State, req: &Req) -> HandlerResult {
    let j = req
        .json("JobScheduleAddParameter", true)?
        .unwrap_or_default();
    let id = s(&j, "id").to_string();
    if !valid_id(&id) {
        return Err(crate::jobs::bad_id("job schedule", &id));
    }
    let key = id.to_ascii_lowercase();
    if st.schedules.contains_key(&key) {
        return Err(ApiError::conflict(
            "JobScheduleExists",
            "The specified job schedule already exists.",
        ));
    }
    if st.jobs.contains_key(&key) {
        return Err(ApiError::conflict(
            "JobWithSameIdExists",
            "A job with the specified job schedule id exists. Job and job schedule cannot have the same id.",
        ));
    }
    check_schedule(&j["schedule"])?;
    let spec = check_job_spec(&j["jobSpecification"])?;
    let now = now_iso();
    let mut body = json!({"id": id, "url": format!("{}/jobschedules/{id}", app.base_url),
        "creationTime": now, "state": "active", "stateTransitionTime": now,
        "schedule": j["schedule"], "jobSpecification": spec, "executionInfo": {}});
    for k in ["displayName", "metadata"] {
        if let Some(v) = j.get(k) {
            body[k] = v.clone();
        }
    }
    touch(&mut body);
    let sc = JobSchedule::new(body, now_ms(), app.schedule_speed);
    let reply = Reply::status(StatusCode::CREATED).write_headers(&sc.body, true);
    st.schedules.insert(key, sc);
    st.dirty = true;
    Ok(reply)
}

pub fn get(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let sc = find(st, id)?;
    if let Some(r) = check_conditions(req, &sc.body, true)? {
        return Ok(r);
    }
    Ok(Reply::json(StatusCode::OK, select(req, sc.body.clone())).resource_headers(&sc.body))
}

pub fn list(app: &App, st: &mut State, req: &Req) -> HandlerResult {
    let mut items = vec![];
    for sc in st.schedules.values() {
        if filter_matches(req.q("$filter"), &sc.body)? {
            items.push(sc.body.clone());
        }
    }
    page(app, req, "/jobschedules", items, "jobschedules")
}

/// Job_ListFromJobSchedule: the jobs the schedule made that still exist, oldest first.
pub fn jobs(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let sc = find(st, id)?;
    let sid = s(&sc.body, "id").to_string();
    let prefix = JobSchedule::job_prefix(&id.to_ascii_lowercase());
    let mut items: Vec<(u64, Value)> = vec![];
    for (k, j) in st.jobs.range(prefix.clone()..) {
        let Some(n) = k.strip_prefix(&prefix) else {
            break;
        };
        if filter_matches(req.q("$filter"), &j.body)? {
            items.push((n.parse().unwrap_or(0), j.body.clone()));
        }
    }
    items.sort_by_key(|(n, _)| *n);
    let items = items.into_iter().map(|(_, v)| v).collect();
    page(
        app,
        req,
        &format!("/jobschedules/{sid}/jobs"),
        items,
        "jobs",
    )
}

/// JobSchedule_Patch (`replace` false: given elements replace theirs, others stay) and
/// JobSchedule_Update (`replace` true: omitted metadata is cleared). Running jobs keep the
/// specification they were made with.
pub fn patch(app: &App, st: &mut State, req: &Req, id: &str, replace: bool) -> HandlerResult {
    let def = if replace {
        "JobScheduleUpdateParameter"
    } else {
        "JobSchedulePatchParameter"
    };
    let upd = req.json(def, true)?.unwrap_or_default();
    if let Some(schedule) = upd.get("schedule") {
        check_schedule(schedule)?;
    }
    let spec = match upd.get("jobSpecification") {
        Some(spec) => Some(check_job_spec(spec)?),
        None => None,
    };
    let speed = app.schedule_speed;
    let sc = writable(st, req, id)?;
    if let Some(spec) = spec {
        sc.body["jobSpecification"] = spec;
    }
    match upd.get("metadata") {
        Some(m) => sc.body["metadata"] = m.clone(),
        None if replace => {
            sc.body.as_object_mut().unwrap().remove("metadata");
        }
        None => {}
    }
    if let Some(schedule) = upd.get("schedule") {
        sc.body["schedule"] = schedule.clone();
        sc.plan_next(now_ms(), speed);
    }
    touch(&mut sc.body);
    let reply = Reply::status(StatusCode::OK).write_headers(&sc.body, false);
    st.dirty = true;
    Ok(reply)
}

/// JobSchedule_Delete: the schedule goes `deleting`, its jobs are deleted; it disappears once
/// they are gone.
pub fn delete(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let sc = find(st, id)?;
    check_conditions(req, &sc.body, false)?;
    if sc.state() == "deleting" {
        return Err(ApiError::conflict(
            "JobScheduleBeingDeleted",
            "The specified job schedule has been marked for deletion and is being reclaimed.",
        ));
    }
    sc.set_state("deleting");
    sc.delete_done_at = Some(now_ms() + app.delete_delay.as_millis() as i64);
    touch(&mut sc.body);
    let reply = Reply::status(StatusCode::ACCEPTED).write_headers(&sc.body, false);
    let prefix = JobSchedule::job_prefix(&id.to_ascii_lowercase());
    let keys: Vec<String> = st
        .jobs
        .range(prefix.clone()..)
        .map(|(k, _)| k.clone())
        .take_while(|k| k.starts_with(&prefix))
        .collect();
    for jk in keys {
        let j = st.jobs.get_mut(&jk).unwrap();
        if j.state() != "deleting" {
            j.set_state("deleting");
            j.delete_done_at = Some(now_ms() + app.delete_delay.as_millis() as i64);
            touch(&mut j.body);
            st.stop_job_tasks(&app.cancels, &jk, "The job schedule was deleted.");
        }
    }
    st.dirty = true;
    Ok(reply)
}

/// JobSchedule_Terminate: the active job is terminated, then the schedule completes.
pub fn terminate(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let sc = writable(st, req, id)?;
    sc.set_state("terminating");
    touch(&mut sc.body);
    let reply = Reply::status(StatusCode::ACCEPTED).write_headers(&sc.body, false);
    let prefix = JobSchedule::job_prefix(&id.to_ascii_lowercase());
    let active: Vec<String> = st
        .jobs
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(_, j)| matches!(j.state(), "active" | "disabled" | "disabling" | "enabling"))
        .map(|(k, _)| k.clone())
        .collect();
    for jk in active {
        st.terminate_job(&app.cancels, &jk, "UserTerminate");
    }
    st.dirty = true;
    Ok(reply)
}

/// JobSchedule_Disable / JobSchedule_Enable: a disabled schedule makes no jobs.
pub fn set_enabled(app: &App, st: &mut State, req: &Req, id: &str, enable: bool) -> HandlerResult {
    let sc = writable(st, req, id)?;
    let (from, to) = if enable {
        ("disabled", "active")
    } else {
        ("active", "disabled")
    };
    if sc.state() == from {
        sc.set_state(to);
        if enable {
            sc.plan_next(now_ms(), app.schedule_speed);
        }
        touch(&mut sc.body);
    }
    let reply = Reply::status(StatusCode::NO_CONTENT).write_headers(&sc.body, false);
    st.dirty = true;
    Ok(reply)
}
