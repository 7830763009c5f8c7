//! Protocol behaviour: authentication, api-version, validation errors, conditional requests,
//! paging, persistence across restarts, and fault injection.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn authentication_failures() {
    let emu = Emu::start().await;
    batch_emulator::install_crypto_provider();
    let http = reqwest::Client::new();
    // No Authorization header.
    let r = http
        .get(format!("{}/pools?api-version={API}", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "AuthenticationFailed");
    assert_eq!(body["message"]["lang"], "en-US");
    // Wrong key.
    let bad = Client::new(
        &emu.url(),
        "devbatch",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    );
    let r = bad.get("/pools").await;
    assert_eq!((r.status, r.code()), (403, "AuthenticationFailed"));
    assert!(
        r.value("AuthenticationErrorDetail")
            .contains("string to sign"),
        "{}",
        r.body
    );
    // Wrong account name.
    let other = Client::new(&emu.url(), "otheraccount", batch_emulator::DEV_KEY);
    assert_eq!(other.get("/pools").await.status, 403);
    // A date more than 15 minutes off, correctly signed.
    let old = httpdate::fmt_http_date(
        std::time::SystemTime::now() - std::time::Duration::from_secs(20 * 60),
    );
    let c = &emu.client;
    let sts = string_to_sign(
        "GET",
        "/pools",
        &format!("api-version={API}"),
        &[("ocp-date".into(), old.clone())],
        "devbatch",
    );
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&c.key).unwrap();
    mac.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let r = http
        .get(format!("{}/pools?api-version={API}", emu.url()))
        .header("ocp-date", &old)
        .header("authorization", format!("SharedKey devbatch:{sig}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["values"][0]["value"]
            .as_str()
            .unwrap()
            .contains("15 minutes"),
        "{body}"
    );
    // Bearer refused unless enabled.
    let r = http
        .get(format!("{}/pools?api-version={API}", emu.url()))
        .bearer_auth("token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The Date header may be signed instead of ocp-date.
    let now = httpdate::fmt_http_date(std::time::SystemTime::now());
    let sts = format!("GET\n\n\n\n\n\n{now}\n\n\n\n\n\n/devbatch/pools\napi-version:{API}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&c.key).unwrap();
    mac.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let r = http
        .get(format!("{}/pools?api-version={API}", emu.url()))
        .header("date", &now)
        .header("authorization", format!("SharedKey devbatch:{sig}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    emu.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    cfg.accept_bearer = true;
    let emu = Emu::start_with(cfg, dir).await;
    let r = http
        .get(format!("{}/pools?api-version={API}", emu.url()))
        .bearer_auth("token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    emu.stop().await;
}

#[tokio::test]
async fn api_version_and_unknown_paths() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let r = c
        .raw("GET", "/pools", "api-version=2023-05-01.17.0", None, &[])
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (400, "UnsupportedRequestVersion"));
    assert_eq!(r.value("QueryParameterName"), "api-version");
    let r = c
        .raw("GET", "/pools", "maxresults=0", None, &[])
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (400, "InvalidQueryParameterValue"));
    let r = c.get("/nothing/here").await;
    assert_eq!(r.status, 400);
    emu.stop().await;
}

#[tokio::test]
async fn validation_names_the_property() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let cases = [
        (
            json!({"id": "p", "virtualMachineConfiguration": linux_pool("x", 0)["virtualMachineConfiguration"]}),
            "MissingRequiredProperty",
            "vmSize",
        ),
        (
            json!({"id": "bad.id", "vmSize": "a", "virtualMachineConfiguration": linux_pool("x", 0)["virtualMachineConfiguration"]}),
            "InvalidPropertyValue",
            "id",
        ),
        (
            {
                let mut p = linux_pool("p", 0);
                p["targetDedicatedNodes"] = json!("2");
                p
            },
            "InvalidRequestBody",
            "targetDedicatedNodes",
        ),
        (
            {
                let mut p = linux_pool("p", 0);
                p["unknownThing"] = json!(1);
                p
            },
            "InvalidRequestBody",
            "unknownThing",
        ),
        (
            {
                let mut p = linux_pool("p", 0);
                p["resizeTimeout"] = json!("PT1M");
                p
            },
            "InvalidPropertyValue",
            "resizeTimeout",
        ),
        (
            {
                let mut p = linux_pool("p", 0);
                p["startTask"] = json!({"waitForSuccess": true});
                p
            },
            "MissingRequiredProperty",
            "startTask.commandLine",
        ),
        (
            {
                let mut p = linux_pool("p", 0);
                p["taskSchedulingPolicy"] = json!({"nodeFillType": "random"});
                p
            },
            "InvalidPropertyValue",
            "taskSchedulingPolicy.nodeFillType",
        ),
        (
            json!({"id": "p", "vmSize": "a"}),
            "MissingRequiredProperty",
            "virtualMachineConfiguration",
        ),
    ];
    for (body, code, prop) in cases {
        let r = c.post("/pools", &body).await;
        assert_eq!(
            (r.status, r.code(), r.property().as_str()),
            (400, code, prop),
            "{body} -> {}",
            r.body
        );
    }
    // A container configuration on an image without container support.
    let mut p = linux_pool("p", 0);
    p["virtualMachineConfiguration"]["containerConfiguration"] =
        json!({"type": "dockerCompatible"});
    let r = c.post("/pools", &p).await;
    assert_eq!(
        (r.status, r.property().as_str()),
        (400, "containerConfiguration"),
        "{}",
        r.body
    );
    // Malformed JSON.
    let r = c
        .raw(
            "POST",
            "/pools",
            "",
            None,
            &[("content-type", "application/json")],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 400);

    // Duplicates, case-insensitively.
    assert_eq!(c.post("/pools", &linux_pool("Dup", 0)).await.status, 201);
    let r = c.post("/pools", &linux_pool("dup", 0)).await;
    assert_eq!((r.status, r.code()), (409, "PoolExists"));
    assert_eq!(c.get("/pools/DUP").await.body["id"], "Dup");
    c.post("/jobs", &json!({"id": "j", "poolInfo": {"poolId": "Dup"}}))
        .await;
    let r = c
        .post("/jobs", &json!({"id": "J", "poolInfo": {"poolId": "Dup"}}))
        .await;
    assert_eq!((r.status, r.code()), (409, "JobExists"));
    c.post(
        "/jobs/j/tasks",
        &json!({"id": "t", "commandLine": "/bin/true"}),
    )
    .await;
    let r = c
        .post(
            "/jobs/j/tasks",
            &json!({"id": "T", "commandLine": "/bin/true"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "TaskExists"));
    // containerSettings on a non-container pool.
    let r = c
        .post(
            "/jobs/j/tasks",
            &json!({"id": "ct", "commandLine": "", "containerSettings": {"imageName": "busybox"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.property().as_str()),
        (400, "containerSettings")
    );
    // A task without containerSettings on a container pool.
    c.post("/pools", &container_pool("cp", 0, &[])).await;
    c.post("/jobs", &json!({"id": "cj", "poolInfo": {"poolId": "cp"}}))
        .await;
    let r = c
        .post(
            "/jobs/cj/tasks",
            &json!({"id": "plain", "commandLine": "/bin/true"}),
        )
        .await;
    assert_eq!(
        (r.status, r.property().as_str()),
        (400, "containerSettings")
    );
    // Collection: per-task results.
    let r = c.post("/jobs/j/addtaskcollection", &json!({"value": [{"id": "ok1", "commandLine": "/bin/true"}, {"id": "t", "commandLine": "x"}, {"id": "bad id", "commandLine": "x"}]})).await;
    assert_eq!(r.status, 200);
    let st: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(st, ["success", "clienterror", "clienterror"]);
    assert_eq!(r.body["value"][1]["error"]["code"], "TaskExists");
    // Missing resources.
    assert_eq!(c.get("/pools/none").await.code(), "PoolNotFound");
    assert_eq!(c.get("/jobs/none").await.code(), "JobNotFound");
    assert_eq!(c.get("/jobs/j/tasks/none").await.code(), "TaskNotFound");
    emu.stop().await;
}

#[tokio::test]
async fn etags_conditions_and_paging() {
    let emu = Emu::start().await;
    let c = &emu.client;
    c.post("/pools", &linux_pool("e", 0)).await;
    let g = c.get("/pools/e").await;
    let etag = g.header("etag").unwrap();
    assert_eq!(g.body["eTag"], etag.as_str());
    assert!(g.header("last-modified").is_some());
    let r = c
        .raw("GET", "/pools/e", "", None, &[("if-none-match", &etag)])
        .await
        .unwrap();
    assert_eq!(r.status, 304);
    let r = c
        .raw(
            "PATCH",
            "/pools/e",
            "",
            Some(&json!({"metadata": []})),
            &[("if-match", "0x8D0000000000000")],
        )
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (412, "ConditionNotMet"));
    let r = c
        .raw(
            "PATCH",
            "/pools/e",
            "",
            Some(&json!({"metadata": [{"name": "a", "value": "b"}]})),
            &[("if-match", &etag)],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let new_etag = r.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(c.get("/pools/e").await.header("etag").unwrap(), new_etag);
    let r = c
        .raw("DELETE", "/pools/e", "", None, &[("if-match", &etag)])
        .await
        .unwrap();
    assert_eq!(r.status, 412);

    for k in 0..5 {
        c.post(
            "/jobs",
            &json!({"id": format!("job{k}"), "poolInfo": {"poolId": "e"}}),
        )
        .await;
    }
    let mut seen = vec![];
    let mut r = c
        .raw("GET", "/jobs", "maxresults=2", None, &[])
        .await
        .unwrap();
    loop {
        seen.extend(
            r.body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_string()),
        );
        let Some(next) = r.body["odata.nextLink"].as_str() else {
            break;
        };
        let u = url::Url::parse(next).unwrap();
        r = c
            .raw("GET", u.path(), u.query().unwrap(), None, &[])
            .await
            .unwrap();
    }
    assert_eq!(seen, ["job0", "job1", "job2", "job3", "job4"]);
    let r = c
        .raw("GET", "/jobs", "$filter=startswith(id,'job3')", None, &[])
        .await
        .unwrap();
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    // Spaces encoded as '+' (form encoding) are decoded before signing and filtering.
    let r = c
        .raw("GET", "/jobs", "$filter=id+eq+'job3'", None, &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["value"][0]["id"], "job3");
    let r = c
        .raw("GET", "/jobs/job1", "$select=id,state", None, &[])
        .await
        .unwrap();
    assert_eq!(r.body.as_object().unwrap().len(), 2, "{}", r.body);
    emu.stop().await;
}

#[tokio::test]
async fn state_survives_restart_and_running_tasks_are_requeued() {
    let mut emu = Emu::start().await;
    let c = emu.client.clone();
    c.post("/pools", &linux_pool("keep", 1)).await;
    c.post(
        "/jobs",
        &json!({"id": "kj", "poolInfo": {"poolId": "keep"}}),
    )
    .await;
    c.post(
        "/jobs/kj/tasks",
        &json!({"id": "done", "commandLine": "echo persisted"}),
    )
    .await;
    c.wait_for("/jobs/kj/tasks/done", "done", |b| b["state"] == "completed")
        .await;
    c.post(
        "/jobs/kj/tasks",
        &json!({"id": "slow", "commandLine": "sleep 5"}),
    )
    .await;
    c.wait_for("/jobs/kj/tasks/slow", "running", |b| {
        b["state"] == "running"
    })
    .await;
    let etag = c.get("/pools/keep").await.header("etag").unwrap();
    emu.restart().await;
    let c = emu.client.clone();
    let p = c.get("/pools/keep").await;
    assert_eq!(p.status, 200);
    assert_eq!(p.header("etag").unwrap(), etag);
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/kj/tasks/done/files/stdout.txt").await.bytes),
        "persisted\n"
    );
    // The interrupted task was requeued (as after a node reboot) and runs again.
    let t = c
        .wait_for("/jobs/kj/tasks/slow", "requeued and running", |b| {
            b["executionInfo"]["requeueCount"] == 1
        })
        .await;
    assert!(t["state"] == "running" || t["state"] == "active", "{t}");
    c.call("POST", "/jobs/kj/tasks/slow/terminate", None).await;
    emu.stop().await;
}

#[tokio::test]
async fn fault_injection() {
    let emu = Emu::start().await;
    let c = &emu.client;
    batch_emulator::install_crypto_provider();
    let http = reqwest::Client::new();
    let admin = format!("{}/_emulator/faults", emu.url());
    let r = http
        .put(&admin)
        .body(r#"{"rules":[{"operation":"Pool_Get","status":429,"count":2,"retryAfter":3},{"operation":"Job_Add","dropAfterCommit":true,"count":1},{"operation":"Pool_List","status":503,"skip":1,"count":1}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    c.post("/pools", &linux_pool("f", 0)).await;
    for _ in 0..2 {
        let r = c.get("/pools/f").await;
        assert_eq!((r.status, r.code()), (429, "TooManyRequests"));
        assert_eq!(r.header("retry-after").as_deref(), Some("3"));
    }
    assert_eq!(c.get("/pools/f").await.status, 200);
    assert_eq!(c.get("/pools").await.status, 200);
    let r = c.get("/pools").await;
    assert_eq!((r.status, r.code()), (503, "ServerBusy"));
    assert_eq!(c.get("/pools").await.status, 200);
    // The job is created, but the caller sees a connection error.
    let err = c
        .raw(
            "POST",
            "/jobs",
            "",
            Some(&json!({"id": "dropped", "poolInfo": {"poolId": "f"}})),
            &[],
        )
        .await;
    assert!(
        err.is_err(),
        "expected a connection error, got {:?}",
        err.map(|r| r.status)
    );
    assert_eq!(c.get("/jobs/dropped").await.status, 200);
    let rules: serde_json::Value = http.get(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(rules["rules"][1]["fired"], 1);
    http.delete(&admin).send().await.unwrap();
    // Latency.
    http.post(&admin)
        .body(r#"{"operation":"Job_Get","latencyMs":300}"#)
        .send()
        .await
        .unwrap();
    let t0 = std::time::Instant::now();
    assert_eq!(c.get("/jobs/dropped").await.status, 200);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(300));
    emu.stop().await;

    // Faults given at start-up.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    cfg.faults = Some(r#"[{"operation":"*","status":503,"count":1}]"#.into());
    let emu = Emu::start_with(cfg, dir).await;
    assert_eq!(emu.client.get("/pools").await.status, 503);
    assert_eq!(emu.client.get("/pools").await.status, 200);
    emu.stop().await;
}

#[tokio::test]
async fn request_counts_per_operation() {
    let emu = Emu::start().await;
    let c = &emu.client;
    batch_emulator::install_crypto_provider();
    let http = reqwest::Client::new();
    let admin = format!("{}/_emulator/requests", emu.url());
    let counts = || async {
        let v: serde_json::Value = http.get(&admin).send().await.unwrap().json().await.unwrap();
        v
    };
    http.delete(&admin).send().await.unwrap();
    http.post(format!("{}/_emulator/faults", emu.url()))
        .body(r#"{"operation":"Pool_List","status":503,"count":1}"#)
        .send()
        .await
        .unwrap();
    // A throttled answer counts: the client made the request.
    assert_eq!(c.get("/pools").await.status, 503);
    assert_eq!(c.get("/pools").await.status, 200);
    assert_eq!(c.get("/pools/none").await.status, 404);
    // Control API calls are not Batch requests.
    assert_eq!(counts().await, json!({"Pool_List": 2, "Pool_Get": 1}));
    http.delete(&admin).send().await.unwrap();
    assert_eq!(counts().await, json!({}));
    emu.stop().await;
}

#[tokio::test]
async fn container_task_with_empty_command_line_fails_clearly_on_process_runtime() {
    let emu = Emu::start().await;
    let c = &emu.client;
    c.post("/pools", &container_pool("cp", 1, &["busybox"]))
        .await;
    c.post("/jobs", &json!({"id": "j", "poolInfo": {"poolId": "cp"}}))
        .await;
    let r = c
        .post(
            "/jobs/j/tasks",
            &json!({"id": "ep", "commandLine": "", "containerSettings": {"imageName": "busybox"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = c
        .wait_for("/jobs/j/tasks/ep", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(
        t["containerSettings"]["workingDirectory"],
        "taskWorkingDirectory"
    );
    let msg = t["executionInfo"]["failureInfo"]["message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("ENTRYPOINT") && msg.contains("--runtime docker"),
        "{msg}"
    );
    emu.stop().await;
}
