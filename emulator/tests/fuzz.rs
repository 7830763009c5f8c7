//! Fuzzing the local service's request parsing: signed requests with arbitrary and adversarial
//! bodies (deep nesting, huge numbers, wrong types, bytes that are not JSON), query strings and
//! conditional headers, on every kind of route. Whatever arrives, the service answers (no
//! handler panics, which would drop the connection), never with a 5xx, and every error carries a
//! Batch error body with a code and a message.
//!
//! `PROPTEST_CASES` sets the case count (256 by default); `scripts/fuzz.sh` runs more.

mod common;

use common::Emu;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::OnceLock;

struct Shared {
    rt: tokio::runtime::Runtime,
    emu: Emu,
}

/// One service for all cases (started once; cases only add objects to it).
fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let emu = rt.block_on(Emu::start());
        Shared { rt, emu }
    })
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// Path shapes of the REST API; `{}` is filled with an id.
const PATHS: &[&str] = &[
    "/pools",
    "/pools/{}",
    "/pools/{}/resize",
    "/pools/{}/enableautoscale",
    "/pools/{}/evaluateautoscale",
    "/pools/{}/updateproperties",
    "/pools/{}/removenodes",
    "/pools/{}/nodes",
    "/pools/{}/nodes/{}",
    "/pools/{}/nodes/{}/reboot",
    "/pools/{}/nodes/{}/files/{}",
    "/jobs",
    "/jobs/{}",
    "/jobs/{}/terminate",
    "/jobs/{}/disable",
    "/jobs/{}/tasks",
    "/jobs/{}/addtaskcollection",
    "/jobs/{}/tasks/{}",
    "/jobs/{}/tasks/{}/terminate",
    "/jobs/{}/tasks/{}/files",
    "/jobs/{}/tasks/{}/files/{}",
    "/jobschedules",
    "/jobschedules/{}",
    "/supportedimages",
    "/nodecounts",
    "/poolusagemetrics",
    "/nothing/here",
];

const QUERY_NAMES: &[&str] = &[
    "$filter",
    "$select",
    "$expand",
    "maxresults",
    "timeout",
    "recursive",
    "force",
    "api-version",
    "unknown",
];

const HEADERS: &[&str] = &[
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "ocp-range",
    "client-request-id",
    "return-client-request-id",
];

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_-]{1,12}",
        Just("a".repeat(300)),
        // Percent-encoded bytes, including invalid UTF-8.
        prop::collection::vec(any::<u8>(), 1..8)
            .prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect()),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,20}".prop_map(Value::from),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!("P99999999999999D")),
        Just(json!("9999-99-99T99:99:99Z")),
    ]
}

/// Plausible Batch property names with values of any type, nested.
fn body_value() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "id",
        "vmSize",
        "virtualMachineConfiguration",
        "imageReference",
        "nodeAgentSKUId",
        "containerConfiguration",
        "containerImageNames",
        "targetDedicatedNodes",
        "targetLowPriorityNodes",
        "resizeTimeout",
        "enableAutoScale",
        "autoScaleFormula",
        "autoScaleEvaluationInterval",
        "taskSlotsPerNode",
        "startTask",
        "commandLine",
        "environmentSettings",
        "metadata",
        "poolInfo",
        "poolId",
        "constraints",
        "maxWallClockTime",
        "maxTaskRetryCount",
        "containerSettings",
        "imageName",
        "resourceFiles",
        "outputFiles",
        "dependsOn",
        "taskIds",
        "value",
        "nodeList",
        "userIdentity",
        "priority",
    ]);
    scalar().prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(names.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.into(), v)).collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        body_value().prop_map(|v| Some(serde_json::to_vec(&v).unwrap())),
        (1usize..5000)
            .prop_map(|n| Some(format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes())),
        (1usize..5000).prop_map(|n| {
            Some(format!("{}1{}", "{\"id\":".repeat(n), "}".repeat(n)).into_bytes())
        }),
        Just(Some(b"{\"id\":1e999999999999}".to_vec())),
        Just(Some(
            format!("{{\"targetDedicatedNodes\":1{}}}", "0".repeat(10_000)).into_bytes()
        )),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Some),
    ]
}

#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(METHODS),
        prop::sample::select(PATHS),
        prop::collection::vec(id(), 3),
        prop::collection::vec((prop::sample::select(QUERY_NAMES), "\\PC{0,24}"), 0..4),
        prop::collection::vec((prop::sample::select(HEADERS), "[ -~]{0,40}"), 0..3),
        body(),
    )
        .prop_map(|(method, shape, ids, query, headers, body)| {
            let mut ids = ids.into_iter();
            let path = shape
                .split('/')
                .map(|s| {
                    if s == "{}" {
                        ids.next().unwrap()
                    } else {
                        s.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let mut q = vec![format!("api-version={}", common::API)];
            q.extend(query.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))));
            let headers = headers
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_string()))
                .collect();
            Request {
                method,
                path,
                query: q.join("&"),
                headers,
                body,
            }
        })
}

proptest! {
    #[test]
    fn every_request_gets_a_well_formed_answer(req in request()) {
        let s = shared();
        let extra: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = s
            .rt
            .block_on(s.emu.client.raw_bytes(req.method, &req.path, &req.query, req.body.clone(), &extra))
            .map_err(|e| TestCaseError::fail(format!("no answer (handler panic?): {e}")))?;
        prop_assert!(resp.status < 500, "HTTP {}: {}", resp.status, String::from_utf8_lossy(&resp.bytes));
        if resp.status >= 400 && req.method != "HEAD" {
            let code = resp.body.get("code").and_then(Value::as_str).unwrap_or("");
            let message = resp.body.pointer("/message/value").and_then(Value::as_str).unwrap_or("");
            prop_assert!(!code.is_empty() && !message.is_empty(), "error without code or message: {}", String::from_utf8_lossy(&resp.bytes));
        }
    }
}
