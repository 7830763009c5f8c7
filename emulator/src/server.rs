//! HTTP front: auth, api-version, fault injection, routing to operation handlers, common headers,
//! and the admin API under `/_emulator`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use std::collections::HashMap;

use crate::app::{
    API_VERSION, App, AppRef, HandlerResult, Reply, Req, into_response, invalid_query,
};
use crate::error::ApiError;
use crate::state::State as St;
use crate::{files, jobs, pools};

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Map a request to its operation id (as in the spec).
fn operation(method: &Method, seg: &[&str]) -> Option<&'static str> {
    let m = method.as_str();
    Some(match (m, seg) {
        ("POST", ["pools"]) => "Pool_Add",
        ("GET", ["pools"]) => "Pool_List",
        ("GET", ["pools", _]) => "Pool_Get",
        ("HEAD", ["pools", _]) => "Pool_Exists",
        ("PATCH", ["pools", _]) => "Pool_Patch",
        ("DELETE", ["pools", _]) => "Pool_Delete",
        ("POST", ["pools", _, "resize"]) => "Pool_Resize",
        ("POST", ["pools", _, "stopresize"]) => "Pool_StopResize",
        ("POST", ["pools", _, "enableautoscale"]) => "Pool_EnableAutoScale",
        ("POST", ["pools", _, "disableautoscale"]) => "Pool_DisableAutoScale",
        ("POST", ["pools", _, "evaluateautoscale"]) => "Pool_EvaluateAutoScale",
        ("POST", ["pools", _, "updateproperties"]) => "Pool_UpdateProperties",
        ("POST", ["pools", _, "removenodes"]) => "Pool_RemoveNodes",
        ("GET", ["pools", _, "nodes"]) => "ComputeNode_List",
        ("GET", ["pools", _, "nodes", _]) => "ComputeNode_Get",
        ("POST", ["pools", _, "nodes", _, "reboot"]) => "ComputeNode_Reboot",
        ("POST", ["pools", _, "nodes", _, "disablescheduling"]) => "ComputeNode_DisableScheduling",
        ("POST", ["pools", _, "nodes", _, "enablescheduling"]) => "ComputeNode_EnableScheduling",
        ("GET", ["pools", _, "nodes", _, "files"]) => "File_ListFromComputeNode",
        ("GET", ["pools", _, "nodes", _, "files", ..]) => "File_GetFromComputeNode",
        ("HEAD", ["pools", _, "nodes", _, "files", ..]) => "File_GetPropertiesFromComputeNode",
        ("POST", ["jobs"]) => "Job_Add",
        ("GET", ["jobs"]) => "Job_List",
        ("GET", ["jobs", _]) => "Job_Get",
        ("PATCH", ["jobs", _]) => "Job_Patch",
        ("PUT", ["jobs", _]) => "Job_Update",
        ("DELETE", ["jobs", _]) => "Job_Delete",
        ("POST", ["jobs", _, "terminate"]) => "Job_Terminate",
        ("POST", ["jobs", _, "disable"]) => "Job_Disable",
        ("POST", ["jobs", _, "enable"]) => "Job_Enable",
        ("GET", ["jobs", _, "taskcounts"]) => "Job_GetTaskCounts",
        ("GET", ["jobs", _, "jobpreparationandreleasetaskstatus"]) => {
            "Job_ListPreparationAndReleaseTaskStatus"
        }
        ("POST", ["jobs", _, "tasks"]) => "Task_Add",
        ("GET", ["jobs", _, "tasks"]) => "Task_List",
        ("POST", ["jobs", _, "addtaskcollection"]) => "Task_AddCollection",
        ("GET", ["jobs", _, "tasks", _]) => "Task_Get",
        ("PUT", ["jobs", _, "tasks", _]) => "Task_Update",
        ("DELETE", ["jobs", _, "tasks", _]) => "Task_Delete",
        ("POST", ["jobs", _, "tasks", _, "terminate"]) => "Task_Terminate",
        ("POST", ["jobs", _, "tasks", _, "reactivate"]) => "Task_Reactivate",
        ("GET", ["jobs", _, "tasks", _, "subtasksinfo"]) => "Task_ListSubtasks",
        ("GET", ["jobs", _, "tasks", _, "files"]) => "File_ListFromTask",
        ("GET", ["jobs", _, "tasks", _, "files", ..]) => "File_GetFromTask",
        ("HEAD", ["jobs", _, "tasks", _, "files", ..]) => "File_GetPropertiesFromTask",
        ("GET", ["supportedimages"]) => "Account_ListSupportedImages",
        ("GET", ["nodecounts"]) => "Account_ListPoolNodeCounts",
        _ => return None,
    })
}

fn route(app: &App, st: &mut St, op: &str, req: &Req) -> HandlerResult {
    let seg: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let rest = |from: usize| seg[from..].join("/");
    match op {
        "Pool_Add" => pools::pool_add(app, st, req),
        "Pool_List" => pools::pool_list(app, st, req),
        "Pool_Get" | "Pool_Exists" => pools::pool_get(app, st, req, seg[1]),
        "Pool_Patch" => pools::pool_patch(app, st, req, seg[1]),
        "Pool_Delete" => pools::pool_delete(app, st, req, seg[1]),
        "Pool_Resize" => pools::pool_resize(app, st, req, seg[1]),
        "Pool_StopResize" => pools::pool_stop_resize(app, st, req, seg[1]),
        "Pool_EnableAutoScale" => pools::pool_enable_autoscale(app, st, req, seg[1]),
        "Pool_DisableAutoScale" => pools::pool_disable_autoscale(app, st, req, seg[1]),
        "Pool_EvaluateAutoScale" => pools::pool_evaluate_autoscale(app, st, req, seg[1]),
        "Pool_UpdateProperties" => pools::pool_update_properties(app, st, req, seg[1]),
        "Pool_RemoveNodes" => pools::pool_remove_nodes(app, st, req, seg[1]),
        "ComputeNode_List" => pools::node_list(app, st, req, seg[1]),
        "ComputeNode_Get" => pools::node_get(app, st, req, seg[1], seg[3]),
        "ComputeNode_Reboot" => pools::node_reboot(app, st, req, seg[1], seg[3]),
        "ComputeNode_DisableScheduling" => {
            pools::node_scheduling(app, st, req, seg[1], seg[3], false)
        }
        "ComputeNode_EnableScheduling" => {
            pools::node_scheduling(app, st, req, seg[1], seg[3], true)
        }
        "File_ListFromComputeNode" => files::node_files(app, st, req, seg[1], seg[3]),
        "File_GetFromComputeNode" | "File_GetPropertiesFromComputeNode" => {
            files::node_file(app, st, req, seg[1], seg[3], &rest(5))
        }
        "Job_Add" => jobs::job_add(app, st, req),
        "Job_List" => jobs::job_list(app, st, req),
        "Job_Get" => jobs::job_get(app, st, req, seg[1]),
        "Job_Patch" => jobs::job_patch(app, st, req, seg[1], false),
        "Job_Update" => jobs::job_patch(app, st, req, seg[1], true),
        "Job_Delete" => jobs::job_delete(app, st, req, seg[1]),
        "Job_Terminate" => jobs::job_terminate(app, st, req, seg[1]),
        "Job_Disable" => jobs::job_disable(app, st, req, seg[1]),
        "Job_Enable" => jobs::job_enable(app, st, req, seg[1]),
        "Job_GetTaskCounts" => jobs::task_counts(app, st, req, seg[1]),
        "Job_ListPreparationAndReleaseTaskStatus" => {
            jobs::prep_release_status(app, st, req, seg[1])
        }
        "Task_Add" => jobs::task_add(app, st, req, seg[1]),
        "Task_List" => jobs::task_list(app, st, req, seg[1]),
        "Task_AddCollection" => jobs::task_add_collection(app, st, req, seg[1]),
        "Task_Get" => jobs::task_get(app, st, req, seg[1], seg[3]),
        "Task_Update" => jobs::task_update(app, st, req, seg[1], seg[3]),
        "Task_Delete" => jobs::task_delete(app, st, req, seg[1], seg[3]),
        "Task_Terminate" => jobs::task_terminate(app, st, req, seg[1], seg[3]),
        "Task_Reactivate" => jobs::task_reactivate(app, st, req, seg[1], seg[3]),
        "Task_ListSubtasks" => jobs::task_subtasks(app, st, req, seg[1], seg[3]),
        "File_ListFromTask" => files::task_files(app, st, req, seg[1], seg[3]),
        "File_GetFromTask" | "File_GetPropertiesFromTask" => {
            files::task_file(app, st, req, seg[1], seg[3], &rest(5))
        }
        "Account_ListSupportedImages" => pools::supported_images_list(app, req),
        "Account_ListPoolNodeCounts" => pools::node_counts(app, st, req),
        _ => Err(ApiError::bad(
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        )),
    }
}

/// A response whose body fails immediately: hyper closes the connection without a complete answer.
fn dropped_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("injected connection drop"))
    });
    Response::new(Body::from_stream(stream))
}

pub async fn handle(State(app): State<AppRef>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().map(str::to_string);
    let head = parts.method == Method::HEAD;
    let echo_client_id = parts
        .headers
        .get("return-client-request-id")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let client_id = parts.headers.get("client-request-id").cloned();
    let finish = |mut resp: Response| {
        let h = resp.headers_mut();
        h.insert("request-id", HeaderValue::from_str(&request_id).unwrap());
        h.insert("DataServiceVersion", HeaderValue::from_static("3.0"));
        h.insert("Server", HeaderValue::from_static("batch-emulator"));
        h.insert(
            "X-Content-Type-Options",
            HeaderValue::from_static("nosniff"),
        );
        if let Ok(v) = HeaderValue::from_str(&crate::util::http_date(crate::util::now_ms())) {
            h.insert("Date", v);
        }
        if echo_client_id && let Some(c) = &client_id {
            h.insert("client-request-id", c.clone());
        }
        resp
    };
    let err = |e: ApiError| finish(e.into_response_with(&app.base_url, &request_id, head));

    if let Some(admin) = path.strip_prefix("/_emulator") {
        let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
            .await
            .unwrap_or_default();
        return finish(crate::admin::handle(&app, &parts.method, admin, &bytes).await);
    }

    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let seg_refs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let Some(op) = operation(&parts.method, &seg_refs) else {
        return err(ApiError::bad(
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        )
        .with("RequestUri", path));
    };
    if let Err(e) = crate::auth::verify(
        &app.auth,
        &parts.method,
        &path,
        raw_query.as_deref(),
        &parts.headers,
    ) {
        tracing::info!(op, code = %e.code, "request rejected by authentication");
        return err(e);
    }
    let mut query = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw_query.as_deref().unwrap_or("").as_bytes()) {
        query.insert(k.into_owned(), v.into_owned());
    }
    match query.get("api-version") {
        None => {
            return err(ApiError::bad(
                "MissingRequiredQueryParameter",
                "A query parameter that's mandatory for this request is not specified.",
            )
            .with("QueryParameterName", "api-version"));
        }
        Some(v) if v != API_VERSION => {
            return err(ApiError::bad(
                "UnsupportedRequestVersion",
                format!("The specified api-version '{v}' is not supported; use {API_VERSION}."),
            )
            .with("QueryParameterName", "api-version")
            .with("QueryParameterValue", v.clone())
            .with(
                "Reason",
                format!("The local Batch service implements only api-version {API_VERSION}."),
            ));
        }
        _ => {}
    }
    if let Some(t) = query.get("timeout")
        && t.parse::<i64>().is_err()
    {
        return err(invalid_query(
            "timeout",
            t,
            "The value must be an integer number of seconds.",
        ));
    }
    let decision = app.faults.lock().unwrap().decide(op);
    if decision.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(decision.latency_ms)).await;
    }
    if let Some((status, retry_after)) = decision.error {
        tracing::info!(op, status, "injected fault");
        let (code, msg) = match status {
            429 => (
                "TooManyRequests",
                "Request failed as server encountered too many requests. Please try again.",
            ),
            503 => (
                "ServerBusy",
                "The server is currently unable to receive requests. Please retry your request.",
            ),
            500 => (
                "InternalError",
                "The server encountered an internal error. Please retry the request.",
            ),
            _ => (
                "InjectedFault",
                "Fault injected by the local Batch service.",
            ),
        };
        let e = ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            code,
            msg,
        );
        let mut resp = e.into_response_with(&app.base_url, &request_id, head);
        resp.headers_mut()
            .insert("Retry-After", HeaderValue::from(retry_after));
        return finish(resp);
    }
    let body = match axum::body::to_bytes(body, 2 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestBodyTooLarge",
                "The request body is too large and exceeds the maximum permissible limit.",
            ));
        }
    };
    let req = Req {
        method: parts.method.clone(),
        segments,
        query,
        headers: parts.headers.clone(),
        body,
    };
    let result = {
        let mut st = app.state.lock().await;
        let r = route(&app, &mut st, op, &req);
        let path = app.state_path.clone();
        st.save_if_dirty(&path);
        r
    };
    match result {
        Ok(reply) => {
            tracing::debug!(op, status = reply.status.as_u16(), "ok");
            if decision.drop_after_commit {
                tracing::info!(op, "injected connection drop after commit");
                return dropped_response();
            }
            finish(into_response(reply, head))
        }
        Err(e) => {
            tracing::info!(op, status = e.status.as_u16(), code = %e.code, "request failed");
            // Pool_Exists answers a bare 404.
            if op == "Pool_Exists" && e.status == StatusCode::NOT_FOUND {
                return finish(into_response(Reply::status(StatusCode::NOT_FOUND), true));
            }
            err(e)
        }
    }
}
