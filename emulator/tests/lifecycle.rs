//! Pools, nodes, jobs and tasks through their lifecycles with the process runtime.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn pool_job_task_run_with_process_runtime() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let r = c.post("/pools", &linux_pool("p1", 1)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.header("etag").unwrap().starts_with("0x"));
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/pools/p1", emu.url())
    );
    let p = c.get("/pools/p1").await;
    assert_eq!(p.status, 200);
    assert_eq!(p.body["allocationState"], "resizing");
    assert_eq!(p.body["vmSize"], "standard_d2s_v3");
    assert_eq!(p.body["taskSlotsPerNode"], 1);
    let p = c
        .wait_for("/pools/p1", "steady", |b| b["allocationState"] == "steady")
        .await;
    assert_eq!(p["currentDedicatedNodes"], 1);
    let nodes = c
        .wait_for("/pools/p1/nodes", "idle node", |b| {
            b["value"][0]["state"] == "idle"
        })
        .await;
    let node_id = nodes["value"][0]["id"].as_str().unwrap().to_string();
    assert!(
        node_id.starts_with("tvmps_") && node_id.ends_with("_d"),
        "{node_id}"
    );

    assert_eq!(
        c.post("/jobs", &json!({"id": "j1", "poolInfo": {"poolId": "p1"}}))
            .await
            .status,
        201
    );
    let r = c
        .post(
            "/jobs/j1/tasks",
            &json!({"id": "t1", "commandLine": "/bin/sh -c 'echo hello $AZ_BATCH_TASK_ID from \"$AZ_BATCH_JOB_ID\"; echo oops >&2'",
                    "environmentSettings": [{"name": "X", "value": "1"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = c
        .wait_for("/jobs/j1/tasks/t1", "task completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 0, "{t}");
    assert_eq!(t["executionInfo"]["result"], "success");
    assert_eq!(t["nodeInfo"]["nodeId"], node_id.as_str());
    let out = c.get("/jobs/j1/tasks/t1/files/stdout.txt").await;
    assert_eq!(out.status, 200);
    assert_eq!(String::from_utf8_lossy(&out.bytes), "hello t1 from j1\n");
    assert_eq!(
        out.header("ocp-batch-file-isdirectory").as_deref(),
        Some("false")
    );
    assert_eq!(out.header("content-length").as_deref(), Some("17"));
    assert!(out.header("ocp-creation-time").is_some());
    let err = c.get("/jobs/j1/tasks/t1/files/stderr.txt").await;
    assert_eq!(String::from_utf8_lossy(&err.bytes), "oops\n");
    let head = c
        .call("HEAD", "/jobs/j1/tasks/t1/files/stdout.txt", None)
        .await;
    assert_eq!(
        (head.status, head.header("content-length").as_deref()),
        (200, Some("17"))
    );
    let wd = c.call("HEAD", "/jobs/j1/tasks/t1/files/wd", None).await;
    assert_eq!(
        wd.header("ocp-batch-file-isdirectory").as_deref(),
        Some("true")
    );
    let missing = c.get("/jobs/j1/tasks/t1/files/nope.txt").await;
    assert_eq!((missing.status, missing.code()), (404, "FileNotFound"));
    let list = c
        .raw(
            "GET",
            "/jobs/j1/tasks/t1/files",
            "recursive=true",
            None,
            &[],
        )
        .await
        .unwrap();
    let names: Vec<&str> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"stdout.txt") && names.contains(&"wd"),
        "{names:?}"
    );

    // A failing command: exit code and failureInfo; retries counted.
    c.post("/jobs/j1/tasks", &json!({"id": "bad", "commandLine": "/bin/sh -c 'exit 3'", "constraints": {"maxTaskRetryCount": 2}})).await;
    let t = c
        .wait_for("/jobs/j1/tasks/bad", "failed task", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 3);
    assert_eq!(t["executionInfo"]["result"], "failure");
    assert_eq!(t["executionInfo"]["retryCount"], 2);
    assert_eq!(t["executionInfo"]["failureInfo"]["code"], "FailureExitCode");
    assert_eq!(t["executionInfo"]["failureInfo"]["category"], "UserError");

    // Not run through a shell: `$HOME` stays literal and a missing program is reported.
    c.post(
        "/jobs/j1/tasks",
        &json!({"id": "lit", "commandLine": "echo $HOME"}),
    )
    .await;
    c.post(
        "/jobs/j1/tasks",
        &json!({"id": "missing", "commandLine": "no-such-program-xyz arg"}),
    )
    .await;
    c.wait_for("/jobs/j1/tasks/lit", "done", |b| b["state"] == "completed")
        .await;
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/j1/tasks/lit/files/stdout.txt").await.bytes),
        "$HOME\n"
    );
    let t = c
        .wait_for("/jobs/j1/tasks/missing", "done", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(
        t["executionInfo"]["failureInfo"]["code"],
        "CommandProgramNotFound"
    );

    let counts = c.get("/jobs/j1/taskcounts").await;
    assert_eq!(counts.body["taskCounts"]["succeeded"], 2, "{}", counts.body);
    assert_eq!(counts.body["taskCounts"]["failed"], 2);

    // Terminate the job, then delete pool: deleting, then 404.
    assert_eq!(c.call("POST", "/jobs/j1/terminate", None).await.status, 202);
    c.wait_for("/jobs/j1", "job completed", |b| b["state"] == "completed")
        .await;
    assert_eq!(c.call("DELETE", "/pools/p1", None).await.status, 202);
    assert_eq!(c.get("/pools/p1").await.body["state"], "deleting");
    let again = c.call("DELETE", "/pools/p1", None).await;
    assert_eq!((again.status, again.code()), (409, "PoolBeingDeleted"));
    assert_eq!(c.call("DELETE", "/jobs/j1", None).await.status, 202);
    let again = c.call("DELETE", "/jobs/j1", None).await;
    assert_eq!((again.status, again.code()), (409, "JobBeingDeleted"));
    let t = c.call("DELETE", "/jobs/j1/tasks/t1", None).await;
    assert_eq!((t.status, t.code()), (409, "JobBeingDeleted"));
    let gone = c
        .wait_for("/pools/p1", "pool gone", |b| b["code"] == "PoolNotFound")
        .await;
    assert_eq!(gone["code"], "PoolNotFound");
    assert_eq!(c.call("HEAD", "/pools/p1", None).await.status, 404);
    emu.stop().await;
}

#[tokio::test]
async fn start_task_dependencies_slots_and_terminatejob() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let mut pool = linux_pool("p2", 1);
    pool["taskSlotsPerNode"] = json!(2);
    pool["startTask"] = json!({"commandLine": "/bin/sh -c 'echo started > $AZ_BATCH_NODE_SHARED_DIR/marker'", "waitForSuccess": true});
    assert_eq!(c.post("/pools", &pool).await.status, 201);
    let nodes = c
        .wait_for("/pools/p2/nodes", "idle", |b| {
            b["value"][0]["state"] == "idle"
        })
        .await;
    let n = &nodes["value"][0];
    assert_eq!(n["startTaskInfo"]["state"], "completed");
    assert_eq!(n["startTaskInfo"]["exitCode"], 0);
    let marker = c
        .get(&format!(
            "/pools/p2/nodes/{}/files/shared/marker",
            n["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(String::from_utf8_lossy(&marker.bytes), "started\n");

    // As the spec recommends: create with noaction, add the tasks, then switch to terminatejob.
    let r = c
        .post(
            "/jobs",
            &json!({"id": "j2", "poolInfo": {"poolId": "p2"}, "usesTaskDependencies": true}),
        )
        .await;
    assert_eq!(r.status, 201);
    // b depends on a; a sleeps a little. b must start after a ends.
    let coll = json!({"value": [
        {"id": "b", "commandLine": "/bin/sh -c 'date +%s%N'", "dependsOn": {"taskIds": ["a"]}},
        {"id": "a", "commandLine": "/bin/sh -c 'sleep 0.3; date +%s%N'"},
        {"id": "big", "commandLine": "/bin/true", "requiredSlots": 2},
    ]});
    let r = c.post("/jobs/j2/addtaskcollection", &coll).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["status"] == "success"),
        "{}",
        r.body
    );
    let r = c
        .call(
            "PATCH",
            "/jobs/j2",
            Some(&json!({"onAllTasksComplete": "terminatejob"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = c
        .wait_for("/jobs/j2", "job completed by terminatejob", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(job["executionInfo"]["terminateReason"], "AllTasksComplete");
    let a = c.get("/jobs/j2/tasks/a").await.body;
    let b = c.get("/jobs/j2/tasks/b").await.body;
    assert!(
        b["executionInfo"]["startTime"].as_str().unwrap()
            >= a["executionInfo"]["endTime"].as_str().unwrap(),
        "{a} {b}"
    );
    assert_eq!(
        c.get("/jobs/j2/tasks/big").await.body["executionInfo"]["result"],
        "success"
    );

    // Dependencies on a job without usesTaskDependencies are refused.
    c.post("/jobs", &json!({"id": "j3", "poolInfo": {"poolId": "p2"}}))
        .await;
    let r = c
        .post(
            "/jobs/j3/tasks",
            &json!({"id": "x", "commandLine": "/bin/true", "dependsOn": {"taskIds": ["y"]}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "TaskDependenciesNotSpecifiedOnJob")
    );
    emu.stop().await;
}

#[tokio::test]
async fn failing_start_task_and_forced_states() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let mut pool = linux_pool("sf", 1);
    pool["startTask"] = json!({"commandLine": "/bin/sh -c 'exit 7'", "maxTaskRetryCount": 1});
    c.post("/pools", &pool).await;
    let nodes = c
        .wait_for("/pools/sf/nodes", "starttaskfailed", |b| {
            b["value"][0]["state"] == "starttaskfailed"
        })
        .await;
    assert_eq!(nodes["value"][0]["startTaskInfo"]["exitCode"], 7);
    assert_eq!(nodes["value"][0]["startTaskInfo"]["retryCount"], 1);
    let counts = c.get("/nodecounts").await;
    assert_eq!(
        counts.body["value"][0]["dedicated"]["startTaskFailed"], 1,
        "{}",
        counts.body
    );

    // Overrides set before the pool exists.
    batch_emulator::install_crypto_provider();
    let http = reqwest::Client::new();
    let r = http
        .put(format!("{}/_emulator/pools/un/overrides", emu.url()))
        .body(r#"{"nodeState":"unusable"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    http.put(format!("{}/_emulator/pools/re/overrides", emu.url()))
        .body(r#"{"resizeError":{"code":"AccountCoreQuotaReached","message":"quota"}}"#)
        .send()
        .await
        .unwrap();
    c.post("/pools", &linux_pool("un", 2)).await;
    c.post("/pools", &linux_pool("re", 2)).await;
    let nodes = c
        .wait_for("/pools/un/nodes", "unusable", |b| {
            b["value"]
                .as_array()
                .is_some_and(|a| a.len() == 2 && a.iter().all(|n| n["state"] == "unusable"))
        })
        .await;
    assert_eq!(nodes["value"].as_array().unwrap().len(), 2);
    let p = c
        .wait_for("/pools/re", "steady", |b| b["allocationState"] == "steady")
        .await;
    assert_eq!(p["resizeErrors"][0]["code"], "AccountCoreQuotaReached");
    assert_eq!(p["currentDedicatedNodes"], 0);
    emu.stop().await;
}

#[tokio::test]
async fn resize_conflicts_autoscale_and_patch_rules() {
    let emu = Emu::start().await;
    let c = &emu.client;
    c.post("/pools", &linux_pool("r", 0)).await;
    let r = c
        .post("/pools/r/resize", &json!({"targetDedicatedNodes": 2}))
        .await;
    assert_eq!((r.status, r.code()), (409, "PoolBeingResized"));
    c.wait_for("/pools/r", "steady", |b| b["allocationState"] == "steady")
        .await;
    // Patch of an empty-pool-only property works while empty.
    let r = c
        .call(
            "PATCH",
            "/pools/r",
            Some(&json!({"taskSlotsPerNode": 3, "taskSchedulingPolicy": {"nodeFillType": "pack"}, "metadata": [{"name": "a", "value": "b"}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        c.post("/pools/r/resize", &json!({"targetDedicatedNodes": 2}))
            .await
            .status,
        202
    );
    let p = c
        .wait_for("/pools/r", "2 nodes", |b| {
            b["allocationState"] == "steady" && b["currentDedicatedNodes"] == 2
        })
        .await;
    assert_eq!(p["taskSlotsPerNode"], 3);
    assert_eq!(p["taskSchedulingPolicy"]["nodeFillType"], "Pack");
    let r = c
        .call(
            "PATCH",
            "/pools/r",
            Some(&json!({"vmSize": "standard_d4s_v3"})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.property(), "vmSize");
    // updateproperties replaces: no startTask => removed; metadata replaced.
    let r = c.post("/pools/r/updateproperties", &json!({"certificateReferences": [], "applicationPackageReferences": [], "metadata": [{"name": "x", "value": "y"}]})).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        c.get("/pools/r").await.body["metadata"],
        json!([{"name": "x", "value": "y"}])
    );
    // Autoscale.
    let r = c.post("/pools/r/enableautoscale", &json!({"autoScaleFormula": "$TargetDedicatedNodes = 1;", "autoScaleEvaluationInterval": "PT5M"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = c
        .wait_for("/pools/r", "autoscaled to 1", |b| {
            b["allocationState"] == "steady" && b["currentDedicatedNodes"] == 1
        })
        .await;
    // At most one Pool_EnableAutoScale every 30 seconds.
    let again = c
        .post(
            "/pools/r/enableautoscale",
            &json!({"autoScaleFormula": "$TargetDedicatedNodes = 1;"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (409, "TooManyEnableAutoScaleRequests")
    );
    assert!(
        p["autoScaleRun"]["results"]
            .as_str()
            .unwrap()
            .contains("$TargetDedicatedNodes=1"),
        "{p}"
    );
    let r = c
        .post("/pools/r/resize", &json!({"targetDedicatedNodes": 2}))
        .await;
    assert_eq!(r.status, 409);
    let r = c
        .post(
            "/pools/r/evaluateautoscale",
            &json!({"autoScaleFormula": "$TargetDedicatedNodes = = 2"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["error"]["code"], "AutoScalingFormulaSyntaxError",
        "{}",
        r.body
    );
    let r = c
        .post(
            "/pools/r/evaluateautoscale",
            &json!({"autoScaleFormula": "$TargetDedicatedNodes = 4;"}),
        )
        .await;
    assert!(
        r.body["results"]
            .as_str()
            .unwrap()
            .contains("$TargetDedicatedNodes=4")
    );
    assert_eq!(
        c.post("/pools/r/disableautoscale", &json!({})).await.status,
        200
    );
    assert_eq!(c.get("/pools/r").await.body["enableAutoScale"], false);
    // Unparseable formula at creation => autoScaleRun.error, no nodes.
    let mut bad = linux_pool("bad", 0);
    bad.as_object_mut().unwrap().remove("targetDedicatedNodes");
    bad["enableAutoScale"] = json!(true);
    bad["autoScaleFormula"] = json!("this is not a formula");
    assert_eq!(c.post("/pools", &bad).await.status, 201);
    let p = c.get("/pools/bad").await.body;
    assert_eq!(
        p["autoScaleRun"]["error"]["code"],
        "AutoScalingFormulaSyntaxError"
    );
    emu.stop().await;
}

/// Runs a `/bin/true` task in `job` to completion: the scheduler has had its passes since the
/// tasks added before, so "that task did not run" is checked after an event, not a short sleep.
async fn witness(c: &Client, job: &str, id: &str) {
    run_to_completion(c, job, id, "/bin/true").await;
}

/// Adds task `id` running `command_line` to `job` and waits until it completed.
async fn run_to_completion(c: &Client, job: &str, id: &str, command_line: &str) {
    c.post(
        &format!("/jobs/{job}/tasks"),
        &json!({"id": id, "commandLine": command_line}),
    )
    .await;
    c.wait_for(
        &format!("/jobs/{job}/tasks/{id}"),
        "the task to complete",
        |b| b["state"] == "completed",
    )
    .await;
}

#[tokio::test]
async fn terminate_running_task_and_wall_clock() {
    let emu = Emu::start().await;
    let c = &emu.client;
    c.post("/pools", &linux_pool("p", 1)).await;
    c.post("/jobs", &json!({"id": "j", "poolInfo": {"poolId": "p"}}))
        .await;
    c.post(
        "/jobs/j/tasks",
        &json!({"id": "long", "commandLine": "sleep 30"}),
    )
    .await;
    c.post("/jobs/j/tasks", &json!({"id": "wall", "commandLine": "sleep 30", "constraints": {"maxWallClockTime": "PT0.3S"}})).await;
    c.wait_for("/jobs/j/tasks/long", "running", |b| b["state"] == "running")
        .await;
    let r = c.call("POST", "/jobs/j/tasks/long/terminate", None).await;
    assert_eq!(r.status, 204);
    let t = c.get("/jobs/j/tasks/long").await.body;
    assert_eq!(t["state"], "completed");
    assert_eq!(t["executionInfo"]["failureInfo"]["code"], "TaskEnded");
    let r = c.call("POST", "/jobs/j/tasks/long/terminate", None).await;
    assert_eq!((r.status, r.code()), (409, "TaskCompleted"));
    // What the task started in the background dies with it (its process group is killed).
    c.post(
        "/jobs/j/tasks",
        &json!({"id": "bg", "commandLine": "/bin/sh -c '(sleep 1; touch $AZ_BATCH_NODE_SHARED_DIR/late) & wait'",
                "constraints": {"maxWallClockTime": "PT0.2S"}}),
    )
    .await;
    let t = c
        .wait_for("/jobs/j/tasks/bg", "killed", |b| b["state"] == "completed")
        .await;
    assert_eq!(
        t["executionInfo"]["failureInfo"]["code"],
        "MaxWallClockTimeExpiry"
    );
    let node = t["nodeInfo"]["nodeId"].as_str().unwrap().to_string();
    // A witness started after `bg` and sleeping longer: once it is done, `late` would exist.
    run_to_completion(c, "j", "bg-witness", "/bin/sh -c 'sleep 1.5'").await;
    assert_eq!(
        c.get(&format!("/pools/p/nodes/{node}/files/shared/late"))
            .await
            .status,
        404
    );
    let t = c
        .wait_for("/jobs/j/tasks/wall", "wall clock", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(
        t["executionInfo"]["failureInfo"]["code"],
        "MaxWallClockTimeExpiry"
    );
    assert_eq!(
        c.call("DELETE", "/jobs/j/tasks/wall", None).await.status,
        200
    );
    assert_eq!(c.get("/jobs/j/tasks/wall").await.status, 404);
    emu.stop().await;
}

#[tokio::test]
async fn preparation_release_and_retention() {
    let emu = Emu::start().await;
    let c = &emu.client;
    c.post("/pools", &linux_pool("pp", 1)).await;
    let r = c
        .post(
            "/jobs",
            &json!({"id": "pj", "poolInfo": {"poolId": "pp"},
                "jobPreparationTask": {"commandLine": "/bin/sh -c 'echo prepared > $AZ_BATCH_NODE_SHARED_DIR/prep.txt'"},
                "jobReleaseTask": {"commandLine": "/bin/sh -c 'echo released > $AZ_BATCH_NODE_SHARED_DIR/release.txt'"},
                "commonEnvironmentSettings": [{"name": "COMMON", "value": "c1"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    c.post(
        "/jobs/pj/tasks",
        &json!({"id": "t", "commandLine": "/bin/sh -c 'cat $AZ_BATCH_NODE_SHARED_DIR/prep.txt; echo $COMMON; test -d $AZ_BATCH_JOB_PREP_WORKING_DIR'",
                "constraints": {"retentionTime": "PT1S"}}),
    )
    .await;
    let t = c
        .wait_for("/jobs/pj/tasks/t", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 0, "{t}");
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/pj/tasks/t/files/stdout.txt").await.bytes),
        "prepared\nc1\n"
    );
    let node = t["nodeInfo"]["nodeId"].as_str().unwrap().to_string();
    // Retention: the task directory goes away after retentionTime; the task stays.
    c.wait_for("/jobs/pj/tasks/t/files/stdout.txt", "files removed", |b| {
        b["code"] == "FileNotFound"
    })
    .await;
    assert_eq!(c.get("/jobs/pj/tasks/t").await.status, 200);
    // Terminating the job runs the release task on the node.
    c.call("POST", "/jobs/pj/terminate", None).await;
    let status = c
        .wait_for(
            "/jobs/pj/jobpreparationandreleasetaskstatus",
            "release recorded",
            |b| b["value"][0]["jobReleaseTaskExecutionInfo"]["state"] == "completed",
        )
        .await;
    let rel = c
        .get(&format!("/pools/pp/nodes/{node}/files/shared/release.txt"))
        .await;
    assert_eq!(String::from_utf8_lossy(&rel.bytes), "released\n");
    let item = &status["value"][0];
    assert_eq!(item["nodeId"], node.as_str());
    assert_eq!(item["jobPreparationTaskExecutionInfo"]["exitCode"], 0);
    assert_eq!(item["jobReleaseTaskExecutionInfo"]["result"], "success");
    emu.stop().await;
}

#[tokio::test]
async fn auto_pool_and_job_manager() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let pool_spec = linux_pool("ignored", 1);
    let mut spec = pool_spec.clone();
    spec.as_object_mut().unwrap().remove("id");
    let r = c
        .post(
            "/jobs",
            &json!({"id": "aj", "poolInfo": {"autoPoolSpecification": {"autoPoolIdPrefix": "auto", "poolLifetimeOption": "job", "pool": spec}},
                    "jobManagerTask": {"id": "jm", "commandLine": "/bin/sh -c 'echo manager'"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // A bad job manager rejects the job and leaves no auto pool behind.
    let r = c
        .post(
            "/jobs",
            &json!({"id": "bad", "poolInfo": {"autoPoolSpecification": {"autoPoolIdPrefix": "orphan", "poolLifetimeOption": "job", "pool": spec}},
                    "jobManagerTask": {"id": "bad id", "commandLine": "x"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.property().as_str()),
        (400, "jobManagerTask.id"),
        "{}",
        r.body
    );
    let pools = c.get("/pools").await.body;
    assert!(
        pools["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| !p["id"].as_str().unwrap().starts_with("orphan")),
        "{pools}"
    );
    assert_eq!(c.get("/jobs/bad").await.status, 404);
    let job = c.get("/jobs/aj").await.body;
    let pool_id = job["executionInfo"]["poolId"].as_str().unwrap().to_string();
    assert!(pool_id.starts_with("auto_"), "{job}");
    assert_eq!(c.get(&format!("/pools/{pool_id}")).await.status, 200);
    let job = c
        .wait_for("/jobs/aj", "completed by the job manager", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(job["executionInfo"]["terminateReason"], "JMComplete");
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/aj/tasks/jm/files/stdout.txt").await.bytes),
        "manager\n"
    );
    c.wait_for(&format!("/pools/{pool_id}"), "auto pool deleted", |b| {
        b["code"] == "PoolNotFound"
    })
    .await;
    emu.stop().await;
}

/// A one-file HTTP server on loopback for resource-file downloads.
async fn serve_file(body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let resp = if req.starts_with("GET /input.csv") {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_string()
            };
            let _ = s.write_all(resp.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn resource_files_are_downloaded() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let base = serve_file("a,b\n1,2\n").await;
    c.post("/pools", &linux_pool("rf", 1)).await;
    c.post("/jobs", &json!({"id": "j", "poolInfo": {"poolId": "rf"}}))
        .await;
    c.post(
        "/jobs/j/tasks",
        &json!({"id": "ok", "commandLine": "cat data/input.csv",
                "resourceFiles": [{"httpUrl": format!("{base}/input.csv?sig=secret"), "filePath": "data/input.csv", "fileMode": "0755"}]}),
    )
    .await;
    c.post(
        "/jobs/j/tasks",
        &json!({"id": "missing", "commandLine": "true", "resourceFiles": [{"httpUrl": format!("{base}/nope?sig=secret"), "filePath": "x"}]}),
    )
    .await;
    let t = c
        .wait_for("/jobs/j/tasks/ok", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 0, "{t}");
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/j/tasks/ok/files/stdout.txt").await.bytes),
        "a,b\n1,2\n"
    );
    let t = c
        .wait_for("/jobs/j/tasks/missing", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    let f = &t["executionInfo"]["failureInfo"];
    assert_eq!(f["code"], "ResourceFileDownloadFailed");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("404") && !msg.contains("secret"), "{msg}");
    emu.stop().await;
}

#[tokio::test]
async fn exit_conditions_and_job_disable() {
    let emu = Emu::start().await;
    let c = &emu.client;
    c.post("/pools", &linux_pool("ec", 1)).await;
    c.post(
        "/jobs",
        &json!({"id": "deps", "poolInfo": {"poolId": "ec"}, "usesTaskDependencies": true}),
    )
    .await;
    // Exit code 3 satisfies dependents by its exit conditions; exit code 4 blocks them (default).
    c.post(
        "/jobs/deps/tasks",
        &json!({"id": "three", "commandLine": "/bin/sh -c 'exit 3'", "exitConditions": {"exitCodes": [{"code": 3, "exitOptions": {"dependencyAction": "satisfy"}}]}}),
    )
    .await;
    c.post(
        "/jobs/deps/tasks",
        &json!({"id": "four", "commandLine": "/bin/sh -c 'exit 4'"}),
    )
    .await;
    c.post(
        "/jobs/deps/tasks",
        &json!({"id": "after3", "commandLine": "/bin/true", "dependsOn": {"taskIds": ["three"]}}),
    )
    .await;
    c.post(
        "/jobs/deps/tasks",
        &json!({"id": "after4", "commandLine": "/bin/true", "dependsOn": {"taskIds": ["four"]}}),
    )
    .await;
    c.wait_for("/jobs/deps/tasks/after3", "after3 ran", |b| {
        b["state"] == "completed"
    })
    .await;
    assert_eq!(
        c.get("/jobs/deps/tasks/four").await.body["state"],
        "completed"
    );
    witness(c, "deps", "after4-witness").await;
    assert_eq!(
        c.get("/jobs/deps/tasks/after4").await.body["state"],
        "active"
    );

    // jobAction needs onTaskFailure=performexitoptionsjobaction.
    let ec = json!({"exitCodeRanges": [{"start": 2, "end": 4, "exitOptions": {"jobAction": "terminate"}}]});
    let r = c
        .post(
            "/jobs/deps/tasks",
            &json!({"id": "x", "commandLine": "/bin/true", "exitConditions": ec}),
        )
        .await;
    assert_eq!(
        (r.status, r.property().as_str()),
        (
            400,
            "exitConditions.exitCodeRanges[0].exitOptions.jobAction"
        )
    );
    c.post("/jobs", &json!({"id": "act", "poolInfo": {"poolId": "ec"}, "onTaskFailure": "performexitoptionsjobaction"})).await;
    let r = c
        .post(
            "/jobs/act/tasks",
            &json!({"id": "x", "commandLine": "/bin/sh -c 'exit 3'", "exitConditions": ec}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let job = c
        .wait_for("/jobs/act", "terminated by the task's exit", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(job["executionInfo"]["terminateReason"], "TaskFailed");

    // Disable: no task is scheduled until the job is enabled again.
    c.post("/jobs", &json!({"id": "dis", "poolInfo": {"poolId": "ec"}}))
        .await;
    assert_eq!(
        c.post("/jobs/dis/disable", &json!({"disableTasks": "requeue"}))
            .await
            .status,
        202
    );
    assert_eq!(c.get("/jobs/dis").await.body["state"], "disabled");
    c.post(
        "/jobs/dis/tasks",
        &json!({"id": "t", "commandLine": "/bin/true"}),
    )
    .await;
    c.post(
        "/jobs",
        &json!({"id": "dis-witness", "poolInfo": {"poolId": "ec"}}),
    )
    .await;
    witness(c, "dis-witness", "w").await;
    assert_eq!(c.get("/jobs/dis/tasks/t").await.body["state"], "active");
    assert_eq!(c.call("POST", "/jobs/dis/enable", None).await.status, 202);
    c.wait_for("/jobs/dis/tasks/t", "runs after enable", |b| {
        b["state"] == "completed"
    })
    .await;
    emu.stop().await;
}

#[tokio::test]
async fn multi_instance_task_uses_several_nodes() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let mut pool = linux_pool("mi", 2);
    pool["enableInterNodeCommunication"] = json!(true);
    c.post("/pools", &pool).await;
    c.wait_for("/pools/mi/nodes", "2 idle nodes", |b| {
        b["value"]
            .as_array()
            .is_some_and(|a| a.len() == 2 && a.iter().all(|n| n["state"] == "idle"))
    })
    .await;
    c.post("/jobs", &json!({"id": "mj", "poolInfo": {"poolId": "mi"}}))
        .await;
    let r = c
        .post(
            "/jobs/mj/tasks",
            &json!({"id": "mpi",
                "commandLine": "/bin/sh -c 'ls $AZ_BATCH_TASK_SHARED_DIR/wd | sort; echo $AZ_BATCH_IS_CURRENT_NODE_MASTER'",
                "multiInstanceSettings": {"numberOfInstances": 2,
                    "coordinationCommandLine": "/bin/sh -c 'touch $AZ_BATCH_TASK_SHARED_DIR/wd/$AZ_BATCH_IS_CURRENT_NODE_MASTER-$AZ_BATCH_NODE_ID; echo $AZ_BATCH_HOST_LIST'"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = c
        .wait_for("/jobs/mj/tasks/mpi", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 0, "{t}");
    let out = String::from_utf8_lossy(&c.get("/jobs/mj/tasks/mpi/files/stdout.txt").await.bytes)
        .into_owned();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("false-tvmps_") && lines[1].starts_with("true-tvmps_"),
        "{out}"
    );
    assert_eq!(lines[2], "true");
    let subs = c.get("/jobs/mj/tasks/mpi/subtasksinfo").await.body;
    assert_eq!(subs["value"].as_array().unwrap().len(), 1, "{subs}");
    assert_ne!(
        subs["value"][0]["nodeInfo"]["nodeId"],
        t["nodeInfo"]["nodeId"]
    );
    // Both nodes are free again.
    let nodes = c
        .wait_for("/pools/mi/nodes", "idle", |b| {
            b["value"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["state"] == "idle")
        })
        .await;
    assert!(
        nodes["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["runningTasksCount"] == 0)
    );
    emu.stop().await;
}

#[tokio::test]
async fn node_reboot_scheduling_and_reactivate() {
    let emu = Emu::start().await;
    let c = &emu.client;
    // A second pool runs the witness tasks while nr's only node does not schedule.
    c.post("/pools", &linux_pool("nr-witness", 1)).await;
    c.post(
        "/jobs",
        &json!({"id": "wj", "poolInfo": {"poolId": "nr-witness"}}),
    )
    .await;
    let mut pool = linux_pool("nr", 1);
    pool["startTask"] =
        json!({"commandLine": "/bin/sh -c 'echo boot >> $AZ_BATCH_NODE_SHARED_DIR/boots'"});
    c.post("/pools", &pool).await;
    let nodes = c
        .wait_for("/pools/nr/nodes", "idle", |b| {
            b["value"][0]["state"] == "idle"
        })
        .await;
    let node = nodes["value"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        c.post(&format!("/pools/nr/nodes/{node}/reboot"), &json!({}))
            .await
            .status,
        202
    );
    // The reboot is recorded at once (the node then starts again and reruns its start task).
    assert_ne!(
        c.get(&format!("/pools/nr/nodes/{node}")).await.body["lastBootTime"],
        nodes["value"][0]["lastBootTime"]
    );
    c.wait_for(&format!("/pools/nr/nodes/{node}"), "idle again", |b| {
        b["state"] == "idle"
    })
    .await;
    let boots = c
        .get(&format!("/pools/nr/nodes/{node}/files/shared/boots"))
        .await;
    assert_eq!(String::from_utf8_lossy(&boots.bytes), "boot\nboot\n");

    // Scheduling disabled: tasks wait; enabled: they run.
    assert_eq!(
        c.post(
            &format!("/pools/nr/nodes/{node}/disablescheduling"),
            &json!({})
        )
        .await
        .status,
        200
    );
    c.post("/jobs", &json!({"id": "j", "poolInfo": {"poolId": "nr"}}))
        .await;
    c.post(
        "/jobs/j/tasks",
        &json!({"id": "flaky", "commandLine": "/bin/sh -c 'test -f $AZ_BATCH_NODE_SHARED_DIR/ok'"}),
    )
    .await;
    witness(c, "wj", "w").await;
    assert_eq!(c.get("/jobs/j/tasks/flaky").await.body["state"], "active");
    assert_eq!(
        c.call(
            "POST",
            &format!("/pools/nr/nodes/{node}/enablescheduling"),
            None
        )
        .await
        .status,
        200
    );
    let t = c
        .wait_for("/jobs/j/tasks/flaky", "failed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["result"], "failure");
    // Reactivate after fixing the cause: it runs again and succeeds.
    c.post(
        "/jobs/j/tasks",
        &json!({"id": "fix", "commandLine": "/bin/sh -c 'touch $AZ_BATCH_NODE_SHARED_DIR/ok'"}),
    )
    .await;
    c.wait_for("/jobs/j/tasks/fix", "fixed", |b| b["state"] == "completed")
        .await;
    assert_eq!(
        c.call("POST", "/jobs/j/tasks/flaky/reactivate", None)
            .await
            .status,
        204
    );
    let t = c
        .wait_for("/jobs/j/tasks/flaky", "succeeded", |b| {
            b["executionInfo"]["result"] == "success"
        })
        .await;
    assert_eq!(t["state"], "completed");
    let r = c.call("POST", "/jobs/j/tasks/flaky/reactivate", None).await;
    assert_eq!(r.status, 409);
    emu.stop().await;
}

#[tokio::test]
async fn empty_terminatejob_job_completes_after_a_grace_period() {
    let emu = Emu::start().await;
    let c = &emu.client;
    c.post("/jobs", &json!({"id": "empty", "poolInfo": {"poolId": "none"}, "onAllTasksComplete": "terminatejob"})).await;
    // Tasks added right after creation are accepted.
    let r = c
        .post(
            "/jobs/empty/tasks",
            &json!({"id": "t", "commandLine": "/bin/true"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    c.post("/jobs", &json!({"id": "empty2", "poolInfo": {"poolId": "none"}, "onAllTasksComplete": "terminatejob"})).await;
    let job = c
        .wait_for("/jobs/empty2", "completed", |b| b["state"] == "completed")
        .await;
    assert_eq!(job["executionInfo"]["terminateReason"], "AllTasksComplete");
    // The job with a (never scheduled) task stays active.
    assert_eq!(c.get("/jobs/empty").await.body["state"], "active");
    emu.stop().await;
}
