//! HTTP front: auth, api-version, fault injection, dispatch through the route table
//! ([`crate::routes`]), common headers, and the control API under `/_emulator`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use std::collections::HashMap;

use crate::app::{API_VERSION, App, AppRef, Reply, Req, into_response, invalid_query};
use crate::error::ApiError;
use crate::routes::{self, Handler};

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
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

    if let Some(control) = path.strip_prefix(routes::CONTROL_PREFIX) {
        let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
            .await
            .unwrap_or_default();
        return finish(handle_control(&app, &parts.method, control, &bytes).await);
    }

    // Read the body before any answer, bounded: an answer that leaves the body unread makes the
    // server close the connection, which a client that reuses it sees as a dropped request.
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
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let seg_refs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let Some((route, params)) = routes::find_op(parts.method.as_str(), &seg_refs) else {
        return err(ApiError::bad(
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        )
        .with("RequestUri", path));
    };
    let Handler::Op(op, handler) = route.handler else {
        unreachable!("find_op returns operations only")
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
    // Counted before fault injection: a throttled request is still one the client made.
    *app.requests.lock().unwrap().entry(op).or_default() += 1;
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
    let req = Req {
        method: parts.method.clone(),
        segments,
        query,
        headers: parts.headers.clone(),
        body,
    };
    let result = {
        let mut st = app.state.lock().await;
        let r = handler(&app, &mut st, &req, &params);
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

/// The control API: no authentication, api-version or fault injection.
async fn handle_control(app: &App, method: &Method, path: &str, body: &[u8]) -> Response {
    let seg: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let Some((route, params)) = routes::find_control(method.as_str(), &seg) else {
        return crate::admin::unknown(method, path);
    };
    match route.handler {
        Handler::Control(f) => f(app, body, &params),
        Handler::ControlState(f) => {
            let mut st = app.state.lock().await;
            let resp = f(app, &mut st, body, &params);
            st.save_if_dirty(&app.state_path);
            resp
        }
        Handler::Op(..) => unreachable!("find_control returns control endpoints only"),
    }
}
