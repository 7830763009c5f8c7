//! The admin API (not part of Batch): fault injection and per-pool behaviour overrides.
//! Served on the same listener under `/_emulator`, without authentication (loopback only).

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::app::App;
use crate::faults::{FaultRule, Faults};
use crate::state::{PoolOverride, s};

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

pub async fn handle(app: &App, method: &Method, path: &str, body: &[u8]) -> Response {
    let seg: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (method.as_str(), seg.as_slice()) {
        ("GET", ["health"]) => reply(
            StatusCode::OK,
            json!({"status": "ok", "account": app.auth.account, "url": app.base_url}),
        ),
        ("GET", ["faults"]) => reply(
            StatusCode::OK,
            serde_json::to_value(&*app.faults.lock().unwrap()).unwrap(),
        ),
        ("PUT", ["faults"]) => match Faults::parse(&String::from_utf8_lossy(body)) {
            Ok(f) => {
                *app.faults.lock().unwrap() = f;
                reply(
                    StatusCode::OK,
                    serde_json::to_value(&*app.faults.lock().unwrap()).unwrap(),
                )
            }
            Err(e) => bad(format!("invalid fault rules: {e}")),
        },
        ("POST", ["faults"]) => match serde_json::from_slice::<FaultRule>(body) {
            Ok(r) => {
                app.faults.lock().unwrap().rules.push(r);
                reply(
                    StatusCode::OK,
                    serde_json::to_value(&*app.faults.lock().unwrap()).unwrap(),
                )
            }
            Err(e) => bad(format!("invalid fault rule: {e}")),
        },
        ("DELETE", ["faults"]) => {
            app.faults.lock().unwrap().rules.clear();
            reply(StatusCode::OK, json!({"rules": []}))
        }
        ("GET", ["pools", id, "overrides"]) => {
            let st = app.state.lock().await;
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
        ("PUT", ["pools", id, "overrides"]) => match serde_json::from_slice::<PoolOverride>(body) {
            Ok(o) => {
                let mut st = app.state.lock().await;
                st.overrides.insert(id.to_ascii_lowercase(), o.clone());
                st.dirty = true;
                st.save_if_dirty(&app.state_path);
                reply(StatusCode::OK, serde_json::to_value(o).unwrap())
            }
            Err(e) => bad(format!("invalid overrides: {e}")),
        },
        ("DELETE", ["pools", id, "overrides"]) => {
            let mut st = app.state.lock().await;
            st.overrides.remove(&id.to_ascii_lowercase());
            st.dirty = true;
            st.save_if_dirty(&app.state_path);
            reply(StatusCode::OK, json!({}))
        }
        ("POST", ["pools", id, "nodes", node, "state"]) => {
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
            let mut st = app.state.lock().await;
            let Some(p) = st.pools.get_mut(&id.to_ascii_lowercase()) else {
                return reply(StatusCode::NOT_FOUND, json!({"error": "pool not found"}));
            };
            let Some(n) = p.nodes.iter_mut().find(|n| s(&n.body, "id") == *node) else {
                return reply(StatusCode::NOT_FOUND, json!({"error": "node not found"}));
            };
            n.body["state"] = json!(state);
            n.body["stateTransitionTime"] = json!(crate::util::now_iso());
            let out = n.body.clone();
            st.dirty = true;
            st.save_if_dirty(&app.state_path);
            reply(StatusCode::OK, out)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"error": format!("unknown admin endpoint {method} /_emulator{path}")}),
        ),
    }
}
