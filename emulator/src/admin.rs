//! The admin API (not part of Batch): fault injection and per-pool behaviour overrides.
//! Served on the same listener under `/_emulator`, without authentication (loopback only); the
//! endpoints are listed in [`crate::routes`].

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::app::App;
use crate::faults::{FaultRule, Faults};
use crate::state::{PoolOverride, State, s};

fn reply(status: StatusCode, v: Value) -> Response {
    let mut r = Response::new(Body::from(serde_json::to_vec(&v).unwrap_or_default()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn bad(msg: impl Into<String>) -> Response {
    reply(StatusCode::BAD_REQUEST, json!({"error": msg.into()}))
}

pub fn health(app: &App) -> Response {
    reply(
        StatusCode::OK,
        json!({"status": "ok", "account": app.auth.account, "url": app.base_url}),
    )
}

fn faults_reply(app: &App) -> Response {
    reply(
        StatusCode::OK,
        serde_json::to_value(&*app.faults.lock().unwrap()).unwrap(),
    )
}

pub fn faults_get(app: &App) -> Response {
    faults_reply(app)
}

pub fn faults_put(app: &App, body: &[u8]) -> Response {
    match Faults::parse(&String::from_utf8_lossy(body)) {
        Ok(f) => {
            *app.faults.lock().unwrap() = f;
            faults_reply(app)
        }
        Err(e) => bad(format!("invalid fault rules: {e}")),
    }
}

pub fn faults_add(app: &App, body: &[u8]) -> Response {
    match serde_json::from_slice::<FaultRule>(body) {
        Ok(r) => {
            app.faults.lock().unwrap().rules.push(r);
            faults_reply(app)
        }
        Err(e) => bad(format!("invalid fault rule: {e}")),
    }
}

pub fn faults_clear(app: &App) -> Response {
    app.faults.lock().unwrap().rules.clear();
    reply(StatusCode::OK, json!({"rules": []}))
}

/// Authenticated Batch requests so far, per operation id: `{"Task_List": 12, ...}`.
pub fn requests_get(app: &App) -> Response {
    reply(StatusCode::OK, json!(*app.requests.lock().unwrap()))
}

/// Resets the request counts (a client measures one phase at a time).
pub fn requests_clear(app: &App) -> Response {
    app.requests.lock().unwrap().clear();
    reply(StatusCode::OK, json!({}))
}

pub fn overrides_get(st: &mut State, id: &str) -> Response {
    reply(
        StatusCode::OK,
        serde_json::to_value(
            st.overrides
                .get(&id.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default(),
        )
        .unwrap(),
    )
}

/// Sets a pool's overrides. A new allocation delay also applies to an allocation in progress,
/// counted from now: a test can hold a pool `resizing` for as long as it needs and then release
/// it, instead of racing a fixed delay.
pub fn overrides_put(app: &App, st: &mut State, body: &[u8], id: &str) -> Response {
    match serde_json::from_slice::<PoolOverride>(body) {
        Ok(o) => {
            st.overrides.insert(id.to_ascii_lowercase(), o.clone());
            reschedule_allocation(app, st, id);
            st.dirty = true;
            reply(StatusCode::OK, serde_json::to_value(o).unwrap())
        }
        Err(e) => bad(format!("invalid overrides: {e}")),
    }
}

/// Clears a pool's overrides (an allocation in progress then ends after the configured delay).
pub fn overrides_delete(app: &App, st: &mut State, id: &str) -> Response {
    st.overrides.remove(&id.to_ascii_lowercase());
    reschedule_allocation(app, st, id);
    st.dirty = true;
    reply(StatusCode::OK, json!({}))
}

fn reschedule_allocation(app: &App, st: &mut State, id: &str) {
    let delay = crate::pools::alloc_delay(app, st, id);
    let now = crate::util::now_ms();
    if let Some(pool) = st.pools.get_mut(&id.to_ascii_lowercase())
        && pool.resize_done_at.is_some_and(|t| t > now)
    {
        pool.resize_done_at = Some(now + delay);
    }
}

/// Force a node into a state (to test how clients react to unusable or failed nodes).
pub fn node_state(st: &mut State, body: &[u8], pool: &str, node: &str) -> Response {
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    let state = s(&v, "state").to_string();
    const ALLOWED: [&str; 6] = [
        "idle",
        "unusable",
        "starttaskfailed",
        "offline",
        "preempted",
        "unknown",
    ];
    if !ALLOWED.contains(&state.as_str()) {
        return bad(format!("state must be one of {ALLOWED:?}"));
    }
    let Some(p) = st.pools.get_mut(&pool.to_ascii_lowercase()) else {
        return reply(StatusCode::NOT_FOUND, json!({"error": "pool not found"}));
    };
    let Some(n) = p.nodes.iter_mut().find(|n| s(&n.body, "id") == node) else {
        return reply(StatusCode::NOT_FOUND, json!({"error": "node not found"}));
    };
    n.body["state"] = json!(state);
    n.body["stateTransitionTime"] = json!(crate::util::now_iso());
    let out = n.body.clone();
    st.dirty = true;
    reply(StatusCode::OK, out)
}

/// An endpoint of the control API that does not exist.
pub fn unknown(method: &Method, path: &str) -> Response {
    reply(
        StatusCode::NOT_FOUND,
        json!({"error": format!("unknown admin endpoint {method} /_emulator{path}")}),
    )
}
