//! Creates are safe to retry: a committed-but-unanswered first attempt followed by `…Exists`
//! adopts the existing object only when it matches what was sent.

use crate::schema::{container_task, job_with_prep, rich_pool};
use crate::server::{self, Reply};
use crate::transport::client;
use batch_client::models::*;
use batch_client::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the service would return for a pool created from `sent`: server-side normalisation
/// (lower-cased vmSize, `Spread`), defaults, state fields, and no secrets.
fn as_service_returns(mut v: Value) -> Value {
    v["vmSize"] = v["vmSize"].as_str().unwrap().to_lowercase().into();
    if v.get("taskSchedulingPolicy").is_some() {
        v["taskSchedulingPolicy"]["nodeFillType"] = "Spread".into();
    }
    v["state"] = "active".into();
    v["allocationState"] = "resizing".into();
    v["eTag"] = "0xADOPTED".into();
    v["currentDedicatedNodes"] = 0.into();
    v["virtualMachineConfiguration"]["imageReference"]["exactVersion"] = "1.2.3".into();
    strip_passwords(&mut v);
    v
}

fn strip_passwords(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("password");
            o.values_mut().for_each(strip_passwords);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_passwords),
        _ => {}
    }
}

/// A fake pool service whose first create commits and then drops the connection.
async fn pool_service(tamper: fn(&mut Value)) -> server::Server {
    let stored: Arc<Mutex<Option<Value>>> = Arc::default();
    server::start(move |req, _| {
        let mut s = stored.lock().unwrap();
        match req.method.as_str() {
            "POST" => {
                if s.is_some() {
                    return Reply::error(409, "PoolExists", "The specified pool already exists.");
                }
                let mut v = as_service_returns(req.json());
                tamper(&mut v);
                *s = Some(v);
                Reply::Drop
            }
            "GET" => match &*s {
                Some(v) => Reply::json(200, v.clone()).header("ETag", "0xADOPTED"),
                None => Reply::error(404, "PoolNotFound", "no pool"),
            },
            _ => Reply::status(405),
        }
    })
    .await
}

#[tokio::test]
async fn dropped_create_then_exists_adopts_a_matching_pool() {
    let srv = pool_service(|_| {}).await;
    let c = client(&srv.url());
    let w = c
        .add_pool(&rich_pool("containers"), &RequestOptions::new())
        .await
        .unwrap();
    assert!(w.adopted);
    assert_eq!(w.etag.as_deref(), Some("0xADOPTED"));
    let methods: Vec<_> = srv.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "POST", "GET"]);
}

#[tokio::test]
async fn dropped_create_then_exists_with_a_different_pool_is_a_conflict() {
    let srv = pool_service(|v| {
        v["startTask"]["commandLine"] = "/bin/sh -c 'something else'".into();
    })
    .await;
    let c = client(&srv.url());
    let err = c
        .add_pool(&rich_pool("containers"), &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_conflict() && err.is_code("PoolExists"), "{err:?}");
    let mismatch = err
        .service()
        .unwrap()
        .value("AdoptionMismatch")
        .unwrap()
        .to_string();
    assert!(mismatch.starts_with("startTask.commandLine"), "{mismatch}");
    assert!(
        err.to_string()
            .contains("AdoptionMismatch=startTask.commandLine"),
        "{err}"
    );
}

#[tokio::test]
async fn conflict_on_the_first_attempt_is_always_reported() {
    let srv =
        server::start(|_, _| Reply::error(409, "PoolExists", "The specified pool already exists."))
            .await;
    let c = client(&srv.url());
    let err = c
        .add_pool(&rich_pool("containers"), &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_code("PoolExists"));
    assert_eq!(srv.count(), 1, "no GET without ambiguity");
}

#[tokio::test]
async fn job_create_after_5xx_then_exists_adopts() {
    let sent = Arc::new(Mutex::new(None::<Value>));
    let s2 = sent.clone();
    let srv = server::start(move |req, i| match (req.method.as_str(), i) {
        ("POST", 0) => {
            *s2.lock().unwrap() = Some(req.json());
            Reply::error(500, "InternalError", "oops")
        }
        ("POST", _) => Reply::error(409, "JobExists", "The specified job already exists."),
        _ => {
            let mut v = s2.lock().unwrap().clone().unwrap();
            v["state"] = "active".into();
            v["constraints"]["maxWallClockTime"] = "PT120M".into(); // normalised duration
            v["onAllTasksComplete"] = "NoAction".into();
            Reply::json(200, v)
        }
    })
    .await;
    let c = client(&srv.url());
    let w = c
        .add_job(
            &job_with_prep("render", "containers"),
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    assert!(w.adopted);
    assert_eq!(srv.count(), 3);
}

#[tokio::test]
async fn task_create_timeout_then_exists_adopts() {
    let sent = Arc::new(Mutex::new(None::<Value>));
    let s2 = sent.clone();
    let srv = server::start(move |req, i| match (req.method.as_str(), i) {
        ("POST", 0) => {
            *s2.lock().unwrap() = Some(req.json());
            Reply::Delay(Duration::from_secs(3), Box::new(Reply::status(201)))
        }
        ("POST", _) => Reply::error(409, "TaskExists", "The specified task already exists."),
        _ => {
            let mut v = s2.lock().unwrap().clone().unwrap();
            strip_passwords(&mut v);
            v["state"] = "active".into();
            v["executionInfo"] = serde_json::json!({"retryCount": 0, "requeueCount": 0});
            Reply::json(200, v)
        }
    })
    .await;
    let mut cfg = ClientConfig::new(srv.url(), Auth::None);
    cfg.attempt_timeout = Duration::from_millis(300);
    cfg.retry.base_delay = Duration::from_millis(10);
    let c = BatchClient::new(cfg).unwrap();
    let w = c
        .add_task("job", &container_task("hello"), &RequestOptions::new())
        .await
        .unwrap();
    assert!(w.adopted);
    assert_eq!(srv.requests()[2].path(), "/jobs/job/tasks/hello");
}

#[tokio::test]
async fn ambiguous_delete_that_took_effect_succeeds() {
    let srv = server::start(|_, i| match i {
        0 => Reply::Drop,
        _ => Reply::error(
            409,
            "PoolBeingDeleted",
            "The specified pool has been marked for deletion.",
        ),
    })
    .await;
    let c = client(&srv.url());
    let w = c.delete_pool("p", &RequestOptions::new()).await.unwrap();
    assert!(w.adopted);
    // Without ambiguity the same conflict is an error.
    let srv =
        server::start(|_, _| Reply::error(409, "PoolBeingDeleted", "marked for deletion")).await;
    let err = client(&srv.url())
        .delete_pool("p", &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_code("PoolBeingDeleted"));
}

fn result(id: &str, status: &str, code: Option<&str>) -> Value {
    let mut v = serde_json::json!({"status": status, "taskId": id});
    if let Some(code) = code {
        v["error"] = serde_json::json!({"code": code, "message": {"lang": "en-US", "value": code}});
    } else {
        v["eTag"] = "0xT".into();
    }
    v
}

#[tokio::test]
async fn add_collection_retries_only_failed_tasks_and_adopts_matching_ones() {
    // Request 0: commits a and b, then drops the connection.
    // Request 1 (retry of a, b, c): a and b exist, c succeeds, d gets a server error.
    // Then GET a (matches), GET b (differs). Request for d alone: success.
    let committed: Arc<Mutex<Vec<Value>>> = Arc::default();
    let c2 = committed.clone();
    let posts = Arc::new(Mutex::new(0));
    let srv = server::start(move |req, _| {
        if req.method == "GET" {
            let id = req.path().rsplit('/').next().unwrap().to_string();
            let mut v = c2
                .lock()
                .unwrap()
                .iter()
                .find(|t| t["id"] == id.as_str())
                .cloned()
                .unwrap();
            strip_passwords(&mut v);
            if id == "b" {
                v["commandLine"] = "echo other".into();
            }
            return Reply::json(200, v);
        }
        let body = req.json();
        let ids: Vec<String> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect();
        let mut n = posts.lock().unwrap();
        *n += 1;
        match *n {
            1 => {
                c2.lock()
                    .unwrap()
                    .extend(body["value"].as_array().unwrap().iter().take(2).cloned());
                Reply::Drop
            }
            2 => {
                assert_eq!(ids, ["a", "b", "c", "d"]);
                Reply::json(
                    200,
                    serde_json::json!({"value": [
                        result("c", "success", None),
                        result("a", "clienterror", Some("TaskExists")),
                        result("b", "clienterror", Some("TaskExists")),
                        result("d", "servererror", Some("ServerBusy")),
                    ]}),
                )
            }
            _ => {
                assert_eq!(ids, ["d"], "only the failed task is retried");
                Reply::json(
                    200,
                    serde_json::json!({"value": [result("d", "success", None)]}),
                )
            }
        }
    })
    .await;
    let c = client(&srv.url());
    let tasks: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| container_task(id))
        .collect();
    let results = c
        .add_task_collection("job", &tasks, &RequestOptions::new())
        .await
        .unwrap();
    let summary: Vec<(String, String)> = results
        .iter()
        .map(|r| (r.task_id.clone(), r.status.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("a".to_string(), "success".to_string()),
            ("b".to_string(), "clienterror".to_string()),
            ("c".to_string(), "success".to_string()),
            ("d".to_string(), "success".to_string()),
        ]
    );
    let b_err = results[1].error.as_ref().unwrap();
    assert_eq!(b_err.code.as_deref(), Some("TaskExists"));
    assert!(
        b_err
            .values
            .as_ref()
            .unwrap()
            .iter()
            .any(|v| v.key.as_deref() == Some("AdoptionMismatch"))
    );
}

#[tokio::test]
async fn add_collection_without_ambiguity_reports_task_exists() {
    let srv = server::start(|_, _| {
        Reply::json(200, serde_json::json!({"value": [result("a", "clienterror", Some("TaskExists")), result("b", "success", None)]}))
    })
    .await;
    let c = client(&srv.url());
    let tasks = vec![container_task("a"), container_task("b")];
    let results = c
        .add_task_collection("job", &tasks, &RequestOptions::new())
        .await
        .unwrap();
    assert_eq!(results[0].status, "clienterror");
    assert_eq!(results[1].status, "success");
    assert_eq!(srv.count(), 1, "no GET and no retry");
}

#[tokio::test]
async fn add_collection_chunks_by_100() {
    let srv = server::start(|req, _| {
        let body = req.json();
        let v: Vec<Value> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| result(t["id"].as_str().unwrap(), "success", None))
            .collect();
        Reply::json(200, serde_json::json!({"value": v}))
    })
    .await;
    let c = client(&srv.url());
    let tasks: Vec<_> = (0..250)
        .map(|i| TaskAddParameter {
            id: format!("t{i}"),
            command_line: "x".into(),
            ..Default::default()
        })
        .collect();
    let results = c
        .add_task_collection("job", &tasks, &RequestOptions::new())
        .await
        .unwrap();
    assert_eq!(results.len(), 250);
    assert!(
        results
            .iter()
            .enumerate()
            .all(|(i, r)| r.task_id == format!("t{i}") && r.status == "success")
    );
    let sizes: Vec<usize> = srv
        .requests()
        .iter()
        .map(|r| r.json()["value"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
}

#[tokio::test]
async fn ambiguous_patch_with_if_match_meets_412_and_reads_back() {
    // The first PATCH is applied (ETag changes) but its answer is lost; the retry's If-Match
    // no longer matches. The read-back shows the patched values, so the write succeeded.
    let applied: Arc<Mutex<Option<Value>>> = Arc::default();
    let a2 = applied.clone();
    let srv = server::start(move |req, i| match (req.method.as_str(), i) {
        ("PATCH", 0) => {
            assert_eq!(req.header("if-match"), Some("0xOLD"));
            *a2.lock().unwrap() = Some(req.json());
            Reply::Drop
        }
        ("PATCH", _) => Reply::error(
            412,
            "ConditionNotMet",
            "The condition specified using HTTP conditional header(s) is not met.",
        ),
        _ => {
            let mut v =
                serde_json::json!({"id": "p", "vmSize": "standard_d2s_v3", "eTag": "0xNEW"});
            for (k, val) in a2.lock().unwrap().clone().unwrap().as_object().unwrap() {
                v[k] = val.clone();
            }
            Reply::json(200, v).header("ETag", "0xNEW")
        }
    })
    .await;
    let c = client(&srv.url());
    let patch = PoolPatchParameter {
        display_name: Some("renamed".into()),
        metadata: Some(vec![MetadataItem {
            name: "team".into(),
            value: "render".into(),
        }]),
        ..Default::default()
    };
    let w = c
        .patch_pool("p", &patch, &RequestOptions::new().if_match("0xOLD"))
        .await
        .unwrap();
    assert!(w.adopted);
    assert_eq!(w.etag.as_deref(), Some("0xNEW"));
    let methods: Vec<_> = srv.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["PATCH", "PATCH", "GET"]);
    let get = &srv.requests()[2];
    assert_eq!(get.header("if-match"), None, "read-back is unconditional");
}

#[tokio::test]
async fn ambiguous_patch_412_with_other_values_stays_an_error() {
    let srv = server::start(|req, i| match (req.method.as_str(), i) {
        ("PATCH", 0) => Reply::Drop,
        ("PATCH", _) => Reply::error(412, "ConditionNotMet", "not met"),
        _ => Reply::json(
            200,
            serde_json::json!({"id": "p", "displayName": "someone else's name"}),
        ),
    })
    .await;
    let c = client(&srv.url());
    let patch = PoolPatchParameter {
        display_name: Some("renamed".into()),
        ..Default::default()
    };
    let err = c
        .patch_pool("p", &patch, &RequestOptions::new().if_match("0xOLD"))
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err:?}");
    // Without ambiguity there is no read-back at all.
    let srv = server::start(|_, _| Reply::error(412, "ConditionNotMet", "not met")).await;
    let err = client(&srv.url())
        .patch_pool("p", &patch, &RequestOptions::new().if_match("0xOLD"))
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed());
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn ambiguous_resize_meets_409_and_checks_targets() {
    let srv = server::start(|req, i| match (req.method.as_str(), i) {
        ("POST", 0) => Reply::error(503, "ServerBusy", "busy"),
        ("POST", _) => Reply::error(409, "PoolBeingResized", "The pool is being resized."),
        _ => Reply::json(200, serde_json::json!({"id": "p", "allocationState": "resizing", "targetDedicatedNodes": 3, "targetLowPriorityNodes": 0})),
    })
    .await;
    let c = client(&srv.url());
    let resize = PoolResizeParameter {
        target_dedicated_nodes: Some(3),
        target_low_priority_nodes: Some(0),
        node_deallocation_option: Some("taskcompletion".into()),
        ..Default::default()
    };
    let w = c
        .resize_pool("p", &resize, &RequestOptions::new())
        .await
        .unwrap();
    assert!(w.adopted);
    let other = PoolResizeParameter {
        target_dedicated_nodes: Some(5),
        ..resize
    };
    let srv2 = server::start(|req, i| match (req.method.as_str(), i) {
        ("POST", 0) => Reply::error(503, "ServerBusy", "busy"),
        ("POST", _) => Reply::error(409, "PoolBeingResized", "The pool is being resized."),
        _ => Reply::json(
            200,
            serde_json::json!({"id": "p", "targetDedicatedNodes": 3}),
        ),
    })
    .await;
    let err = client(&srv2.url())
        .resize_pool("p", &other, &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_code("PoolBeingResized"), "{err:?}");
}
