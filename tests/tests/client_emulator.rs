//! Acceptance of issue 3: the Batch REST client (`batch-client`) driven against the local Batch
//! service (`batch-emulator`) with no Terraform in between. Every operation end to end with its
//! state transitions, typed errors, the spec's request examples through the client's typed
//! operations, resilience under injected faults (503s, connections dropped after commit) and,
//! where a container engine answers, the docker runtime.
//!
//! Each test owns one emulator (a child process started by the harness, killed on drop) and one
//! `e2e::block_on` runtime, so the reqwest client never outlives the runtime it runs on.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use batch_client::models::*;
use batch_client::{
    Auth, BatchClient, BatchError, ClientConfig, ListQuery, RequestOptions, RetryPolicy,
};
use e2e::{BUSYBOX_IMAGE, Emulator, EmulatorOptions, Runtime, block_on};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::Instant;

/// Generous: the machine is shared and often loaded; waits return as soon as the state is seen.
const WAIT: Duration = Duration::from_secs(90);

fn start(runtime: Runtime, delays: &[(&str, &str)]) -> Emulator {
    let mut args = vec![];
    for (flag, default) in [
        ("--allocation-delay", "200ms"),
        ("--node-start-delay", "100ms"),
        ("--delete-delay", "300ms"),
    ] {
        let v = delays
            .iter()
            .find(|(f, _)| *f == flag)
            .map_or(default, |(_, v)| v);
        args.push(flag.to_string());
        args.push(v.to_string());
    }
    Emulator::start_with(EmulatorOptions {
        runtime,
        extra_args: args,
        ..Default::default()
    })
}

/// A client for `emu` signing with `key`, with small retry delays so fault tests stay fast.
fn client_with_key(emu: &Emulator, key: &str) -> BatchClient {
    let mut cfg = ClientConfig::new(
        emu.endpoint(),
        Auth::shared_key(emu.account(), key).expect("valid shared key"),
    );
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_attempts: 12,
    };
    cfg.attempt_timeout = Duration::from_secs(30);
    BatchClient::new(cfg).expect("batch client")
}

fn client(emu: &Emulator) -> BatchClient {
    client_with_key(emu, emu.key())
}

fn opts() -> RequestOptions {
    RequestOptions::new().timeout(Duration::from_secs(120))
}

/// Builds a model from its wire JSON (which also checks that the model reads the wire names).
fn model<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("model from {v}: {e}"))
}

fn linux_pool(id: &str, nodes: i32) -> Value {
    json!({
        "id": id,
        "vmSize": "STANDARD_D2S_V3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
            "nodeAgentSKUId": "batch.node.ubuntu 22.04"
        },
        "targetDedicatedNodes": nodes
    })
}

fn container_pool(id: &str, nodes: i32, images: &[&str]) -> Value {
    json!({
        "id": id,
        "vmSize": "standard_d2s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "microsoft-azure-batch", "offer": "ubuntu-server-container", "sku": "20-04-lts"},
            "nodeAgentSKUId": "batch.node.ubuntu 20.04",
            "containerConfiguration": {"type": "dockerCompatible", "containerImageNames": images}
        },
        "targetDedicatedNodes": nodes
    })
}

fn task(id: &str, command_line: &str) -> TaskAddParameter {
    model(json!({"id": id, "commandLine": command_line}))
}

fn meta(items: &[(&str, &str)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

fn metadata_of(m: &Option<Vec<MetadataItem>>) -> Vec<(String, String)> {
    m.iter()
        .flatten()
        .map(|i| (i.name.clone(), i.value.clone()))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Polls `check` until it yields a value; panics naming `what` after `timeout`.
async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_pool(c: &BatchClient, id: &str) -> CloudPool {
    c.get_pool(id, &opts())
        .await
        .expect("Pool_Get")
        .unwrap_or_else(|| panic!("pool {id} not found"))
        .value
}

async fn wait_steady(c: &BatchClient, id: &str) -> CloudPool {
    wait_for(&format!("pool {id} steady"), WAIT, async || {
        let p = get_pool(c, id).await;
        p.is_steady().then_some(p)
    })
    .await
}

async fn wait_idle_nodes(c: &BatchClient, pool: &str, n: usize) -> Vec<ComputeNode> {
    wait_for(&format!("{n} idle nodes in {pool}"), WAIT, async || {
        let nodes = c
            .list_compute_nodes(pool, &ListQuery::default(), &opts())
            .await
            .expect("ComputeNode_List");
        (nodes.len() == n && nodes.iter().all(|x| x.state.as_deref() == Some("idle")))
            .then_some(nodes)
    })
    .await
}

async fn add_steady_pool(c: &BatchClient, pool: Value) -> CloudPool {
    let p: PoolAddParameter = model(pool);
    let w = c.add_pool(&p, &opts()).await.expect("Pool_Add");
    assert_eq!(w.status, 201);
    wait_steady(c, &p.id).await
}

async fn get_task(c: &BatchClient, job: &str, id: &str) -> CloudTask {
    c.get_task(job, id, &opts())
        .await
        .expect("Task_Get")
        .unwrap_or_else(|| panic!("task {job}/{id} not found"))
        .value
}

async fn wait_task_state(c: &BatchClient, job: &str, id: &str, state: &str) -> CloudTask {
    wait_for(&format!("task {job}/{id} {state}"), WAIT, async || {
        let t = get_task(c, job, id).await;
        (t.state.as_deref() == Some(state)).then_some(t)
    })
    .await
}

fn exec(t: &CloudTask) -> &TaskExecutionInformation {
    t.execution_info
        .as_ref()
        .unwrap_or_else(|| panic!("task {:?} has no executionInfo", t.id))
}

fn service(e: &BatchError) -> &batch_client::ServiceError {
    e.service()
        .unwrap_or_else(|| panic!("expected a service error, got {e}"))
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> Option<&String>) -> BTreeSet<String> {
    items.iter().filter_map(|i| id(i).cloned()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Every operation end to end
// ---------------------------------------------------------------------------------------------

#[test]
fn pool_operations_end_to_end() {
    let emu = start(Runtime::Process, &[("--delete-delay", "1s")]);
    // The allocation is held until the test releases it (below), so Pool_Get sees it in progress.
    let (st, body) = emu.admin(
        "PUT",
        "/pools/lc-pool/overrides",
        Some(r#"{"allocationDelayMs":3600000}"#),
    );
    assert_eq!(st, 200, "{body}");
    block_on(async {
        let c = client(&emu);
        let mut body = linux_pool("lc-pool", 2);
        body["metadata"] = meta(&[("owner", "a")]);
        let w = c.add_pool(&model(body), &opts()).await.expect("Pool_Add");
        assert_eq!(w.status, 201);
        assert!(!w.adopted);
        assert!(w.etag.is_some(), "Pool_Add returns an ETag");

        // resizing → steady, nodes appear and become idle.
        let p = get_pool(&c, "lc-pool").await;
        assert_eq!(p.state.as_deref(), Some("active"));
        assert_eq!(p.allocation_state.as_deref(), Some("resizing"));
        assert_eq!(p.target_dedicated_nodes, Some(2));
        let (st, body) = emu.admin("DELETE", "/pools/lc-pool/overrides", None);
        assert_eq!(st, 200, "{body}");
        let p = wait_steady(&c, "lc-pool").await;
        assert_eq!(p.current_dedicated_nodes, Some(2));
        let nodes = wait_idle_nodes(&c, "lc-pool", 2).await;
        for n in &nodes {
            let id = n.id.as_deref().expect("node id");
            let got = c
                .get_compute_node("lc-pool", id, &opts())
                .await
                .expect("ComputeNode_Get")
                .expect("node exists");
            assert_eq!(got.value.id.as_deref(), Some(id));
        }

        // Exists.
        assert!(c.pool_exists("lc-pool", &opts()).await.unwrap());
        assert!(!c.pool_exists("no-such-pool", &opts()).await.unwrap());

        // List with $filter, and paging (one pool per page) following odata.nextLink.
        for id in ["lc-other", "zz-unrelated"] {
            c.add_pool(&model(linux_pool(id, 0)), &opts())
                .await
                .expect("Pool_Add");
        }
        let filtered = c
            .list_pools(&ListQuery::filter("startswith(id,'lc-')"), &opts())
            .await
            .expect("Pool_List filtered");
        assert_eq!(
            ids(&filtered, |p| p.id.as_ref()),
            set(&["lc-pool", "lc-other"])
        );
        let paged = c
            .list_pools(
                &ListQuery {
                    max_results: Some(1),
                    ..Default::default()
                },
                &opts(),
            )
            .await
            .expect("Pool_List paged");
        assert_eq!(
            paged.len(),
            3,
            "3 pages of one pool each: {:?}",
            ids(&paged, |p| p.id.as_ref())
        );
        assert_eq!(
            ids(&paged, |p| p.id.as_ref()),
            set(&["lc-pool", "lc-other", "zz-unrelated"])
        );

        // Patch with If-Match; a stale ETag is a typed 412 ConditionNotMet.
        let v1 = c.get_pool("lc-pool", &opts()).await.unwrap().unwrap();
        let e1 = v1.etag.clone().expect("Pool_Get ETag");
        let patch: PoolPatchParameter = model(json!({
            "metadata": meta(&[("owner", "b"), ("env", "test")]),
            "startTask": {"commandLine": "/bin/true"}
        }));
        let w = c
            .patch_pool("lc-pool", &patch, &opts().if_match(e1.clone()))
            .await
            .expect("Pool_Patch with the current ETag");
        assert_ne!(
            w.etag.as_deref(),
            Some(e1.as_str()),
            "a change gets a new ETag"
        );
        let p = get_pool(&c, "lc-pool").await;
        assert_eq!(
            metadata_of(&p.metadata),
            pairs(&[("owner", "b"), ("env", "test")])
        );
        assert_eq!(
            p.start_task.as_ref().map(|s| s.command_line.as_str()),
            Some("/bin/true")
        );
        let stale = c
            .patch_pool(
                "lc-pool",
                &model(json!({"metadata": meta(&[("owner", "c")])})),
                &opts().if_match(e1),
            )
            .await
            .expect_err("a stale ETag must fail");
        assert!(stale.is_precondition_failed(), "{stale}");
        assert_eq!(stale.code(), Some("ConditionNotMet"));
        assert_eq!(
            metadata_of(&get_pool(&c, "lc-pool").await.metadata),
            pairs(&[("owner", "b"), ("env", "test")]),
            "the refused patch changed nothing"
        );

        // UpdateProperties replaces: metadata wholesale, the omitted start task is removed.
        let props: PoolUpdatePropertiesParameter = model(json!({
            "certificateReferences": [], "applicationPackageReferences": [],
            "metadata": meta(&[("team", "x")])
        }));
        c.update_pool_properties("lc-pool", &props, &opts())
            .await
            .expect("Pool_UpdateProperties");
        let p = get_pool(&c, "lc-pool").await;
        assert_eq!(metadata_of(&p.metadata), pairs(&[("team", "x")]));
        assert!(p.start_task.is_none(), "{:?}", p.start_task);

        // Resize, then StopResize while it is still resizing (held until the StopResize).
        let (st, body) = emu.admin(
            "PUT",
            "/pools/lc-pool/overrides",
            Some(r#"{"allocationDelayMs":3600000}"#),
        );
        assert_eq!(st, 200, "{body}");
        let w = c
            .resize_pool(
                "lc-pool",
                &model(json!({"targetDedicatedNodes": 3})),
                &opts(),
            )
            .await
            .expect("Pool_Resize");
        assert_eq!(w.status, 202);
        let p = get_pool(&c, "lc-pool").await;
        assert_eq!(p.allocation_state.as_deref(), Some("resizing"));
        assert_eq!(p.target_dedicated_nodes, Some(3));
        let again = c
            .resize_pool(
                "lc-pool",
                &model(json!({"targetDedicatedNodes": 1})),
                &opts(),
            )
            .await
            .expect_err("a second resize while resizing is refused");
        assert!(again.is_conflict(), "{again}");
        assert_eq!(again.code(), Some("PoolBeingResized"));
        c.stop_resize_pool("lc-pool", &opts())
            .await
            .expect("Pool_StopResize");
        let p = get_pool(&c, "lc-pool").await;
        assert!(
            matches!(p.allocation_state.as_deref(), Some("stopping" | "steady")),
            "{:?}",
            p.allocation_state
        );
        let p = wait_steady(&c, "lc-pool").await;
        assert!(
            p.current_dedicated_nodes.unwrap_or(0) < 3,
            "the stopped resize did not complete: {:?}",
            p.current_dedicated_nodes
        );
        emu.admin("DELETE", "/pools/lc-pool/overrides", None);

        // EnableAutoScale with a constant formula → target nodes; DisableAutoScale.
        let w = c
            .enable_pool_auto_scale(
                "lc-pool",
                &model(json!({
                    "autoScaleFormula": "$TargetDedicatedNodes = 1;",
                    "autoScaleEvaluationInterval": "PT5M"
                })),
                &opts(),
            )
            .await
            .expect("Pool_EnableAutoScale");
        assert_eq!(w.status, 200);
        let p = get_pool(&c, "lc-pool").await;
        assert_eq!(p.enable_auto_scale, Some(true));
        assert_eq!(p.target_dedicated_nodes, Some(1));
        let run = p.auto_scale_run.expect("autoScaleRun after enabling");
        assert!(run.error.is_none(), "{:?}", run.error);
        assert!(
            run.results
                .as_deref()
                .unwrap_or("")
                .contains("$TargetDedicatedNodes=1"),
            "{:?}",
            run.results
        );
        let p = wait_for("autoscaled pool at 1 node", WAIT, async || {
            let p = get_pool(&c, "lc-pool").await;
            (p.is_steady() && p.current_dedicated_nodes == Some(1)).then_some(p)
        })
        .await;
        assert_eq!(p.target_dedicated_nodes, Some(1));
        let manual = c
            .resize_pool(
                "lc-pool",
                &model(json!({"targetDedicatedNodes": 2})),
                &opts(),
            )
            .await
            .expect_err("manual resize with autoscale on");
        assert_eq!(manual.code(), Some("AutoScalingEnabled"), "{manual}");
        let eval = c
            .evaluate_pool_auto_scale("lc-pool", "$TargetDedicatedNodes = max(2, 1);", &opts())
            .await
            .expect("Pool_EvaluateAutoScale");
        assert!(
            eval.results.as_deref().unwrap_or("").contains("=2"),
            "{eval:?}"
        );
        c.disable_pool_auto_scale("lc-pool", &opts())
            .await
            .expect("Pool_DisableAutoScale");
        let p = get_pool(&c, "lc-pool").await;
        assert_eq!(p.enable_auto_scale, Some(false));
        assert!(p.auto_scale_formula.is_none());

        // Node counts for the pool.
        let counts = c
            .list_pool_node_counts(&ListQuery::filter("poolId eq 'lc-pool'"), &opts())
            .await
            .expect("Account_ListPoolNodeCounts");
        assert_eq!(counts.len(), 1, "{counts:?}");
        assert_eq!(counts[0].pool_id, "lc-pool");
        assert_eq!(counts[0].dedicated.as_ref().map(|d| d.total), Some(1));

        // Delete → deleting → gone (Get None, Exists false, a second delete 404).
        let w = c
            .delete_pool("lc-pool", &opts())
            .await
            .expect("Pool_Delete");
        assert_eq!(w.status, 202);
        assert!(!w.adopted);
        let p = get_pool(&c, "lc-pool").await;
        assert_eq!(p.state.as_deref(), Some("deleting"));
        wait_for("pool deleted", WAIT, async || {
            c.get_pool("lc-pool", &opts())
                .await
                .expect("Pool_Get")
                .is_none()
                .then_some(())
        })
        .await;
        assert!(!c.pool_exists("lc-pool", &opts()).await.unwrap());
        let gone = c
            .delete_pool("lc-pool", &opts())
            .await
            .expect_err("deleting a deleted pool");
        assert!(gone.is_not_found(), "{gone}");
        assert_eq!(gone.code(), Some("PoolNotFound"));
    });
}

#[test]
fn job_task_file_operations_end_to_end() {
    let emu = start(Runtime::Process, &[("--delete-delay", "1s")]);
    block_on(async {
        let c = client(&emu);
        let mut pool = linux_pool("jt-pool", 2);
        pool["taskSlotsPerNode"] = json!(4);
        add_steady_pool(&c, pool).await;
        wait_idle_nodes(&c, "jt-pool", 2).await;

        // Job Add / Get / List.
        let job: JobAddParameter = model(json!({
            "id": "jt-job", "priority": 10, "poolInfo": {"poolId": "jt-pool"},
            "metadata": meta(&[("owner", "a")])
        }));
        let w = c.add_job(&job, &opts()).await.expect("Job_Add");
        assert_eq!(w.status, 201);
        for id in ["jt-other", "zz-job"] {
            c.add_job(
                &model(json!({"id": id, "poolInfo": {"poolId": "jt-pool"}})),
                &opts(),
            )
            .await
            .expect("Job_Add");
        }
        let j = c.get_job("jt-job", &opts()).await.unwrap().unwrap();
        assert_eq!(j.value.state.as_deref(), Some("active"));
        assert_eq!(j.value.priority, Some(10));
        assert_eq!(
            j.value
                .pool_info
                .as_ref()
                .and_then(|p| p.pool_id.as_deref()),
            Some("jt-pool")
        );
        let listed = c
            .list_jobs(
                &ListQuery {
                    filter: Some("startswith(id,'jt-')".into()),
                    max_results: Some(1),
                    ..Default::default()
                },
                &opts(),
            )
            .await
            .expect("Job_List");
        assert_eq!(
            ids(&listed, |j| j.id.as_ref()),
            set(&["jt-job", "jt-other"])
        );

        // Job Patch (merge) with If-Match, then Update (replace: omitted metadata is removed).
        let w = c
            .patch_job(
                "jt-job",
                &model(json!({"priority": 20})),
                &opts().if_match(j.etag.clone().unwrap()),
            )
            .await
            .expect("Job_Patch");
        assert!(w.etag.is_some());
        let j2 = c.get_job("jt-job", &opts()).await.unwrap().unwrap().value;
        assert_eq!(j2.priority, Some(20));
        assert_eq!(metadata_of(&j2.metadata), pairs(&[("owner", "a")]));
        let stale = c
            .patch_job(
                "jt-job",
                &model(json!({"priority": 30})),
                &opts().if_match(j.etag.clone().unwrap()),
            )
            .await
            .expect_err("stale ETag");
        assert!(stale.is_precondition_failed(), "{stale}");
        c.update_job(
            "jt-job",
            &model(json!({"priority": 5, "poolInfo": {"poolId": "jt-pool"}})),
            &opts(),
        )
        .await
        .expect("Job_Update");
        let j3 = c.get_job("jt-job", &opts()).await.unwrap().unwrap().value;
        assert_eq!(j3.priority, Some(5));
        assert!(
            metadata_of(&j3.metadata).is_empty(),
            "Job_Update replaces metadata: {:?}",
            j3.metadata
        );

        // Task Add: runs without a shell; active/running → completed with execution info.
        let w = c
            .add_task("jt-job", &task("echo", "/bin/echo hello-client"), &opts())
            .await
            .expect("Task_Add");
        assert_eq!(w.status, 201);
        let t = get_task(&c, "jt-job", "echo").await;
        assert!(
            matches!(
                t.state.as_deref(),
                Some("active" | "preparing" | "running" | "completed")
            ),
            "{:?}",
            t.state
        );
        assert_eq!(t.command_line.as_deref(), Some("/bin/echo hello-client"));
        let t = wait_task_state(&c, "jt-job", "echo", "completed").await;
        let x = exec(&t);
        assert_eq!(x.exit_code, Some(0));
        assert_eq!(x.result.as_deref(), Some("success"));
        assert!(x.failure_info.is_none(), "{:?}", x.failure_info);
        assert!(x.start_time.is_some() && x.end_time.is_some(), "{x:?}");
        assert!(x.start_time <= x.end_time, "{x:?}");
        assert!(t.node_info.is_some(), "completed task names its node");

        // Files: stdout.txt content, HEAD properties, a missing file.
        let out = c
            .get_task_file("jt-job", "echo", "stdout.txt", None, &opts())
            .await
            .expect("File_GetFromTask")
            .expect("stdout.txt exists");
        assert_eq!(String::from_utf8_lossy(&out.data), "hello-client\n");
        let props = c
            .get_task_file_properties("jt-job", "echo", "stdout.txt", &opts())
            .await
            .expect("File_GetPropertiesFromTask")
            .expect("stdout.txt exists");
        assert_eq!(props.content_length, out.data.len() as u64);
        assert!(!props.is_directory);
        let part = c
            .get_task_file(
                "jt-job",
                "echo",
                "stdout.txt",
                Some(batch_client::ByteRange {
                    start: 0,
                    end: Some(4),
                }),
                &opts(),
            )
            .await
            .expect("ranged File_GetFromTask")
            .expect("stdout.txt exists");
        assert_eq!(&part.data[..], b"hello");
        assert!(
            c.get_task_file("jt-job", "echo", "nope.txt", None, &opts())
                .await
                .expect("missing file is not an error")
                .is_none()
        );
        assert!(
            c.get_task_file_properties("jt-job", "echo", "nope.txt", &opts())
                .await
                .expect("missing file is not an error")
                .is_none()
        );
        let files = c
            .list_task_files("jt-job", "echo", true, &ListQuery::default(), &opts())
            .await
            .expect("File_ListFromTask");
        assert!(
            files
                .iter()
                .any(|f| f.name.as_deref() == Some("stdout.txt")),
            "{files:?}"
        );

        // A failing task: exit 3 → failure with failureInfo.
        c.add_task("jt-job", &task("fail", "/bin/sh -c \"exit 3\""), &opts())
            .await
            .expect("Task_Add");
        let t = wait_task_state(&c, "jt-job", "fail", "completed").await;
        let x = exec(&t);
        assert_eq!(x.exit_code, Some(3));
        assert_eq!(x.result.as_deref(), Some("failure"));
        let fi = x.failure_info.as_ref().expect("failureInfo");
        assert_eq!(fi.category, "UserError");
        assert_eq!(fi.code.as_deref(), Some("FailureExitCode"), "{fi:?}");

        // AddCollection: per-task results (an existing id is a clienterror TaskExists).
        let mut coll: Vec<TaskAddParameter> = (1..=5)
            .map(|i| task(&format!("c{i}"), &format!("/bin/echo item-{i}")))
            .collect();
        coll.push(task("echo", "/bin/echo duplicate"));
        let results = c
            .add_task_collection("jt-job", &coll, &opts())
            .await
            .expect("Task_AddCollection");
        assert_eq!(results.len(), 6);
        for (r, t) in results.iter().zip(&coll) {
            assert_eq!(r.task_id, t.id, "results come in input order");
        }
        for r in &results[..5] {
            assert_eq!(r.status, "success", "{r:?}");
            assert!(r.e_tag.is_some());
        }
        assert_eq!(results[5].status, "clienterror");
        assert_eq!(
            results[5].error.as_ref().and_then(|e| e.code.as_deref()),
            Some("TaskExists")
        );
        for i in 1..=5 {
            let id = format!("c{i}");
            wait_task_state(&c, "jt-job", &id, "completed").await;
            let f = c
                .get_task_file("jt-job", &id, "stdout.txt", None, &opts())
                .await
                .unwrap()
                .expect("stdout.txt");
            assert_eq!(String::from_utf8_lossy(&f.data), format!("item-{i}\n"));
        }

        // A long task: running → Update (constraints) → Terminate → Delete.
        c.add_task("jt-job", &task("slow", "/bin/sleep 30"), &opts())
            .await
            .expect("Task_Add");
        let t = wait_task_state(&c, "jt-job", "slow", "running").await;
        assert!(exec(&t).start_time.is_some());
        assert!(exec(&t).end_time.is_none());
        let update: TaskUpdateParameter = model(json!({"constraints": {
            "maxWallClockTime": "PT1H", "maxTaskRetryCount": 2, "retentionTime": "P1D"}}));
        c.update_task("jt-job", "slow", &update, &opts())
            .await
            .expect("Task_Update");
        let t = get_task(&c, "jt-job", "slow").await;
        let k = t.constraints.as_ref().expect("constraints");
        assert_eq!(k.max_task_retry_count, Some(2));
        assert_eq!(k.max_wall_clock_time.as_deref(), Some("PT1H"));
        assert_eq!(k.retention_time.as_deref(), Some("P1D"));
        c.terminate_task("jt-job", "slow", &opts())
            .await
            .expect("Task_Terminate");
        let t = wait_task_state(&c, "jt-job", "slow", "completed").await;
        assert_eq!(exec(&t).result.as_deref(), Some("failure"));
        assert_eq!(
            exec(&t)
                .failure_info
                .as_ref()
                .and_then(|f| f.code.as_deref()),
            Some("TaskEnded")
        );
        c.delete_task("jt-job", "slow", &opts())
            .await
            .expect("Task_Delete");
        assert!(
            c.get_task("jt-job", "slow", &opts())
                .await
                .unwrap()
                .is_none()
        );
        let gone = c
            .delete_task("jt-job", "slow", &opts())
            .await
            .expect_err("second delete");
        assert!(gone.is_not_found(), "{gone}");
        assert_eq!(gone.code(), Some("TaskNotFound"));

        // Task List: all, paged, filtered.
        let all = c
            .list_tasks(
                "jt-job",
                &ListQuery {
                    max_results: Some(2),
                    ..Default::default()
                },
                &opts(),
            )
            .await
            .expect("Task_List");
        assert_eq!(
            ids(&all, |t| t.id.as_ref()),
            set(&["echo", "fail", "c1", "c2", "c3", "c4", "c5"])
        );
        let failed = c
            .list_tasks(
                "jt-job",
                &ListQuery::filter("executionInfo/result eq 'failure'"),
                &opts(),
            )
            .await;
        let failed = failed.expect("Task_List filtered on executionInfo/result");
        assert_eq!(ids(&failed, |t| t.id.as_ref()), set(&["fail"]));
        let done = c
            .list_tasks(
                "jt-job",
                &ListQuery::filter("state eq 'completed'"),
                &opts(),
            )
            .await
            .expect("Task_List filtered");
        assert_eq!(done.len(), 7);

        // ListSupportedImages with a filter.
        let images = c
            .list_supported_images(&ListQuery::filter("osType eq 'linux'"), &opts())
            .await
            .expect("Account_ListSupportedImages");
        assert!(!images.is_empty());
        assert!(images.iter().all(|i| i.os_type == "linux"));
        let docker: Vec<_> = images
            .iter()
            .filter(|i| {
                i.capabilities
                    .iter()
                    .flatten()
                    .any(|c| c == "DockerCompatible")
            })
            .collect();
        assert!(
            docker
                .iter()
                .any(|i| i.image_reference.offer.as_deref() == Some("ubuntu-server-container")),
            "{docker:?}"
        );
        let by_sku = c
            .list_supported_images(
                &ListQuery::filter("nodeAgentSKUId eq 'batch.node.ubuntu 20.04'"),
                &opts(),
            )
            .await
            .expect("Account_ListSupportedImages filtered");
        assert!(!by_sku.is_empty());
        assert!(
            by_sku
                .iter()
                .all(|i| i.node_agent_sku_id == "batch.node.ubuntu 20.04"),
            "{by_sku:?}"
        );
        assert!(by_sku.len() < images.len());

        // Job Terminate → completed, then Delete → deleting → gone.
        c.terminate_job("jt-job", Some("done testing"), &opts())
            .await
            .expect("Job_Terminate");
        let j = wait_for("job completed", WAIT, async || {
            let j = c.get_job("jt-job", &opts()).await.unwrap().unwrap().value;
            (j.state.as_deref() == Some("completed")).then_some(j)
        })
        .await;
        let ji = j.execution_info.expect("job executionInfo");
        assert_eq!(ji.terminate_reason.as_deref(), Some("done testing"));
        assert!(ji.end_time.is_some());
        let again = c
            .terminate_job("jt-job", None, &opts())
            .await
            .expect_err("terminating a completed job");
        assert!(again.is_conflict(), "{again}");
        assert_eq!(again.code(), Some("JobCompleted"));
        let w = c.delete_job("jt-job", &opts()).await.expect("Job_Delete");
        assert_eq!(w.status, 202);
        let j = c.get_job("jt-job", &opts()).await.unwrap();
        assert!(
            j.as_ref()
                .is_none_or(|j| j.value.state.as_deref() == Some("deleting")),
            "{j:?}"
        );
        wait_for("job deleted", WAIT, async || {
            c.get_job("jt-job", &opts())
                .await
                .unwrap()
                .is_none()
                .then_some(())
        })
        .await;
    });
}

// ---------------------------------------------------------------------------------------------
// 2. Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn errors_are_typed() {
    let emu = start(Runtime::Process, &[]);
    block_on(async {
        let c = client(&emu);
        // 409 …Exists on a first (unambiguous) attempt: a conflict, never adopted.
        let pool: PoolAddParameter = model(linux_pool("err-pool", 1));
        c.add_pool(&pool, &opts()).await.expect("Pool_Add");
        let e = c
            .add_pool(&pool, &opts())
            .await
            .expect_err("duplicate pool");
        assert!(e.is_conflict(), "{e}");
        assert_eq!(e.code(), Some("PoolExists"));
        assert!(!service(&e).message.is_empty());
        assert!(service(&e).request_id.is_some());
        // Case-insensitive duplicates.
        let e = c
            .add_pool(&model(linux_pool("ERR-POOL", 1)), &opts())
            .await
            .expect_err("case-insensitive duplicate pool");
        assert_eq!(e.code(), Some("PoolExists"));

        let job: JobAddParameter =
            model(json!({"id": "err-job", "poolInfo": {"poolId": "err-pool"}}));
        c.add_job(&job, &opts()).await.expect("Job_Add");
        let e = c.add_job(&job, &opts()).await.expect_err("duplicate job");
        assert!(e.is_conflict(), "{e}");
        assert_eq!(e.code(), Some("JobExists"));

        let t = task("t1", "/bin/true");
        c.add_task("err-job", &t, &opts()).await.expect("Task_Add");
        let e = c
            .add_task("err-job", &t, &opts())
            .await
            .expect_err("duplicate task");
        assert!(e.is_conflict(), "{e}");
        assert_eq!(e.code(), Some("TaskExists"));

        // 404s: Get → None; writes → typed not-found errors.
        assert!(c.get_pool("nope", &opts()).await.unwrap().is_none());
        assert!(c.get_job("nope", &opts()).await.unwrap().is_none());
        assert!(
            c.get_task("err-job", "nope", &opts())
                .await
                .unwrap()
                .is_none()
        );
        assert!(c.get_task("nope", "t1", &opts()).await.unwrap().is_none());
        let e = c
            .patch_pool("nope", &model(json!({"metadata": []})), &opts())
            .await
            .expect_err("patch missing pool");
        assert!(e.is_not_found(), "{e}");
        assert_eq!(e.code(), Some("PoolNotFound"));
        let e = c
            .delete_job("nope", &opts())
            .await
            .expect_err("delete missing job");
        assert_eq!(e.code(), Some("JobNotFound"));
        let e = c
            .add_task("nope", &t, &opts())
            .await
            .expect_err("task in missing job");
        assert!(e.is_not_found(), "{e}");
        assert_eq!(e.code(), Some("JobNotFound"));
        let e = c
            .terminate_task("err-job", "nope", &opts())
            .await
            .expect_err("terminate missing task");
        assert_eq!(e.code(), Some("TaskNotFound"));

        // 400 InvalidPropertyValue naming the property.
        let e = c
            .add_job(
                &model(json!({"id": "bad-job", "poolInfo": {"poolId": "err-pool"},
                    "onAllTasksComplete": "sometimes"})),
                &opts(),
            )
            .await
            .expect_err("bad enum");
        assert_eq!(e.status(), Some(400), "{e}");
        assert_eq!(e.code(), Some("InvalidPropertyValue"));
        assert_eq!(
            service(&e).value("PropertyName"),
            Some("onAllTasksComplete"),
            "{e}"
        );
        let mut p = linux_pool("bad-pool", 1);
        p["resizeTimeout"] = json!("PT1M");
        let e = c
            .add_pool(&model(p), &opts())
            .await
            .expect_err("resize timeout below 5 minutes");
        assert_eq!(e.code(), Some("InvalidPropertyValue"), "{e}");
        assert_eq!(service(&e).value("PropertyName"), Some("resizeTimeout"));
        assert!(!c.pool_exists("bad-pool", &opts()).await.unwrap());

        // An unsupported request: a container task on a pool without containerConfiguration.
        let ct: TaskAddParameter = model(json!({"id": "ct", "commandLine": "/bin/true",
            "containerSettings": {"imageName": "busybox"}}));
        let e = c
            .add_task("err-job", &ct, &opts())
            .await
            .expect_err("container task on a non-container pool");
        assert_eq!(e.status(), Some(400), "{e}");
        assert_eq!(e.code(), Some("InvalidPropertyValue"));
        assert_eq!(service(&e).value("PropertyName"), Some("containerSettings"));
        assert!(
            c.get_task("err-job", "ct", &opts())
                .await
                .unwrap()
                .is_none()
        );
        // A container pool on an image without the DockerCompatible capability.
        let mut cp = container_pool("bad-container-pool", 1, &[]);
        cp["virtualMachineConfiguration"]["imageReference"] =
            linux_pool("x", 0)["virtualMachineConfiguration"]["imageReference"].clone();
        cp["virtualMachineConfiguration"]["nodeAgentSKUId"] = json!("batch.node.ubuntu 22.04");
        let e = c
            .add_pool(&model(cp), &opts())
            .await
            .expect_err("container pool on a non-container image");
        assert_eq!(e.status(), Some(400), "{e}");
        assert_eq!(
            service(&e).value("PropertyName"),
            Some("containerConfiguration")
        );

        // 409 PoolBeingDeleted on changes to a deleting pool.
        c.delete_pool("err-pool", &opts())
            .await
            .expect("Pool_Delete");
        let e = c
            .patch_pool("err-pool", &model(json!({"metadata": []})), &opts())
            .await;
        if let Err(e) = e {
            // (The pool may already be gone after the short delete delay.)
            assert!(
                e.is_code("PoolBeingDeleted") || e.is_not_found(),
                "patch of a deleting pool: {e}"
            );
        } else {
            panic!("patching a deleting pool succeeded");
        }
    });

    // A wrong key → 403 AuthenticationFailed, not retried: the service sees one request per call.
    let log_start = emu.log().len();
    let rejected = |op: &str| -> usize {
        emu.log()[log_start..]
            .lines()
            .filter(|l| l.contains("request rejected by authentication"))
            .filter(|l| l.contains(&format!("op=\"{op}\"")) || l.contains(&format!("op={op} ")))
            .count()
    };
    block_on(async {
        let other_key = "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IHRoZSBkZXYga2V5IGF0IGFsbCEhISEhISEhISEhISEhISEhISEhISE=";
        let bad = client_with_key(&emu, other_key);
        let e = bad
            .get_pool("any", &opts())
            .await
            .expect_err("wrong key must fail");
        assert_eq!(e.status(), Some(403), "{e}");
        assert_eq!(e.code(), Some("AuthenticationFailed"));
        assert!(
            service(&e).value("AuthenticationErrorDetail").is_some(),
            "{e}"
        );
        let e = bad
            .add_job(
                &model(json!({"id": "x", "poolInfo": {"poolId": "p"}})),
                &opts(),
            )
            .await
            .expect_err("wrong key must fail writes too");
        assert_eq!(e.code(), Some("AuthenticationFailed"));
        let good = client(&emu);
        assert!(good.get_job("x", &opts()).await.unwrap().is_none());
        // Pool_Exists is a HEAD: the error has no body, but keeps its status.
        let e = bad
            .pool_exists("any", &opts())
            .await
            .expect_err("wrong key on HEAD");
        assert_eq!(e.status(), Some(403), "{e}");
        // A last rejected call marks the end: once the service logged it, every attempt of
        // the calls above is in the log too (one service, one ordered log).
        let e = bad
            .get_job("marker", &opts())
            .await
            .expect_err("wrong key must fail");
        assert_eq!(e.status(), Some(403), "{e}");
    });
    e2e::wait_until(
        "the service to log the last rejected request",
        Duration::from_secs(30),
        || (rejected("Job_Get") == 1).then_some(()),
    );
    for op in ["Pool_Get", "Job_Add", "Pool_Exists"] {
        assert_eq!(
            rejected(op),
            1,
            "{op} with a wrong key must reach the service once (403 is not retried):\n{}",
            emu.log()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. The spec's request examples through the client's typed operations
// ---------------------------------------------------------------------------------------------

/// Examples whose operation this client does not offer (checked so a new example is noticed).
const NO_CLIENT_OPERATION: &[&str] = &["PoolRemoveNodes.json"];

fn example_files() -> Vec<(String, Value)> {
    let dir = e2e::repo_root().join("spec").join("examples");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn param<'a>(ex: &'a Value, name: &str) -> &'a str {
    ex["parameters"][name]
        .as_str()
        .unwrap_or_else(|| panic!("example has no parameter {name}"))
}

/// Does the example's request body (a task or a collection of tasks) use containers?
fn uses_containers(body: &Value) -> bool {
    body.get("containerSettings").is_some()
        || body["value"]
            .as_array()
            .is_some_and(|a| a.iter().any(|t| t.get("containerSettings").is_some()))
}

/// Creates what the example names: its pool (steady), or a pool + job (+ task) for job paths.
async fn prepare_example(c: &BatchClient, file: &str, ex: &Value) {
    let p = &ex["parameters"];
    let job_scoped = p.get("jobId").is_some() && !file.starts_with("JobAdd");
    if let Some(pool) = p.get("poolId").and_then(Value::as_str) {
        let nodes = if file.starts_with("Node") || file == "PoolResize.json" {
            1
        } else {
            0
        };
        let mut body = linux_pool(pool, nodes);
        if matches!(
            file,
            "PoolEvaluateAutoscale.json" | "PoolDisableAutoScale.json"
        ) {
            body.as_object_mut().unwrap().remove("targetDedicatedNodes");
            body["enableAutoScale"] = json!(true);
            body["autoScaleFormula"] = json!("$TargetDedicatedNodes = 0;");
        }
        add_steady_pool(c, body).await;
        if nodes > 0 {
            wait_idle_nodes(c, pool, nodes as usize).await;
        }
    }
    if matches!(
        file,
        "AccountListPoolNodeCounts.json" | "PoolList_Basic.json"
    ) {
        add_steady_pool(c, linux_pool("listed-pool", 1)).await;
    }
    let schedule = match file {
        "JobScheduleList.json" => Some("listed-schedule"),
        f if f.starts_with("JobScheduleAdd") => None,
        _ => p.get("jobScheduleId").and_then(Value::as_str),
    };
    if let Some(id) = schedule {
        add_steady_pool(c, linux_pool("poolId", 0)).await;
        // Runs at once and then hourly: its first job exists right after the add.
        c.add_job_schedule(
            &model(json!({"id": id,
                "schedule": {"recurrenceInterval": "PT1H"},
                "jobSpecification": {"poolInfo": {"poolId": "poolId"}}})),
            &opts(),
        )
        .await
        .expect("setup JobSchedule_Add");
    }
    if job_scoped {
        let job = param(ex, "jobId");
        let body = p
            .as_object()
            .unwrap()
            .values()
            .find(|v| v.is_object())
            .cloned()
            .unwrap_or(Value::Null);
        let pool = if uses_containers(&body) {
            container_pool("poolId", 1, &[])
        } else {
            linux_pool("poolId", 1)
        };
        add_steady_pool(c, pool).await;
        // A task whose exit conditions name a jobAction needs a job that performs them.
        let on_failure = if body.get("exitConditions").is_some() {
            "performexitoptionsjobaction"
        } else {
            "noaction"
        };
        c.add_job(
            &model(json!({"id": job, "poolInfo": {"poolId": "poolId"},
                "onTaskFailure": on_failure})),
            &opts(),
        )
        .await
        .expect("setup Job_Add");
        // TaskList names only the job: give it one task to list.
        let task_id = match file {
            "TaskList.json" => Some("listed-task"),
            _ => p.get("taskId").and_then(Value::as_str),
        };
        if let Some(t) = task_id {
            let (cmd, state) = if file == "TaskTerminate.json" {
                ("/bin/sleep 30", "running")
            } else {
                (
                    "/bin/sh -c 'echo 12345678901234567 > testFile.txt'",
                    "completed",
                )
            };
            c.add_task(job, &task(t, cmd), &opts())
                .await
                .expect("setup Task_Add");
            wait_task_state(c, job, t, state).await;
        }
    }
}

/// Runs the client operation equivalent to the example's request; every typed result is parsed
/// by the client (writes are followed by a typed read of the object they changed).
async fn run_example(c: &BatchClient, file: &str, ex: &Value) -> Result<String, BatchError> {
    let p = &ex["parameters"];
    let o = opts();
    let name = file.trim_end_matches(".json");
    let fp = |k: &str| param(ex, k).replace('\\', "/");
    let body = |k: &str| p[k].clone();
    let summary = match name {
        "AccountListPoolNodeCounts" => {
            let v = c.list_pool_node_counts(&ListQuery::default(), &o).await?;
            assert!(v.iter().any(|n| n.pool_id == "listed-pool"), "{v:?}");
            format!("{} pool(s)", v.len())
        }
        "AccountListSupportedImages" => {
            let v = c.list_supported_images(&ListQuery::default(), &o).await?;
            assert!(!v.is_empty());
            format!("{} image(s)", v.len())
        }
        "FileGetFromTask" => {
            let f = c
                .get_task_file(
                    param(ex, "jobId"),
                    param(ex, "taskId"),
                    &fp("filePath"),
                    None,
                    &o,
                )
                .await?
                .expect("file exists");
            assert_eq!(&f.data[..], b"12345678901234567\n");
            format!("{} byte(s)", f.data.len())
        }
        "FileGetPropertiesFromTask" => {
            let f = c
                .get_task_file_properties(
                    param(ex, "jobId"),
                    param(ex, "taskId"),
                    &fp("filePath"),
                    &o,
                )
                .await?
                .expect("file exists");
            assert_eq!(f.content_length, 18);
            format!("{f:?}")
        }
        "FileListFromTask" => {
            let recursive = p["recursive"].as_bool().unwrap_or(false);
            let v = c
                .list_task_files(
                    param(ex, "jobId"),
                    param(ex, "taskId"),
                    recursive,
                    &ListQuery::default(),
                    &o,
                )
                .await?;
            assert!(
                v.iter().any(|f| f.name.as_deref() == Some("stdout.txt")),
                "{v:?}"
            );
            format!("{} file(s)", v.len())
        }
        n if n.starts_with("JobAdd") => {
            let job: JobAddParameter = model(body("job"));
            c.add_job(&job, &o).await?;
            let got = c.get_job(&job.id, &o).await?.expect("added job");
            assert_eq!(got.value.id.as_deref(), Some(job.id.as_str()));
            format!("{:?}", got.value.state)
        }
        "JobDelete" => {
            c.delete_job(param(ex, "jobId"), &o).await?;
            let j = c.get_job(param(ex, "jobId"), &o).await?;
            format!("{:?}", j.map(|j| j.value.state))
        }
        "JobGet" => {
            let j = c.get_job(param(ex, "jobId"), &o).await?.expect("job");
            format!("{:?}", j.value.state)
        }
        "JobPatch" => {
            let patch: JobPatchParameter = model(body("jobPatchParameter"));
            c.patch_job(param(ex, "jobId"), &patch, &o).await?;
            let j = c.get_job(param(ex, "jobId"), &o).await?.expect("job");
            if let Some(pr) = patch.priority {
                assert_eq!(j.value.priority, Some(pr));
            }
            format!("{:?}", j.value.priority)
        }
        "JobTerminate" => {
            let reason = p["jobTerminateParameter"]["terminateReason"].as_str();
            c.terminate_job(param(ex, "jobId"), reason, &o).await?;
            let j = c.get_job(param(ex, "jobId"), &o).await?.expect("job");
            format!("{:?}", j.value.state)
        }
        "JobUpdate" => {
            let mut u: JobUpdateParameter = model(body("jobUpdateParameter"));
            // The example's pool is one we did not create; keep the job on ours.
            u.pool_info = model(json!({"poolId": "poolId"}));
            c.update_job(param(ex, "jobId"), &u, &o).await?;
            let j = c.get_job(param(ex, "jobId"), &o).await?.expect("job");
            format!("{:?}", j.value.priority)
        }
        "NodeGet_Basic" => {
            let pool = param(ex, "poolId");
            // Node ids are generated by the service: use the pool's node instead of the example's.
            let nodes = c
                .list_compute_nodes(pool, &ListQuery::default(), &o)
                .await?;
            let id = nodes[0].id.clone().expect("node id");
            let n = c.get_compute_node(pool, &id, &o).await?.expect("node");
            format!("{:?}", n.value.state)
        }
        "NodeList" => {
            let v = c
                .list_compute_nodes(param(ex, "poolId"), &ListQuery::default(), &o)
                .await?;
            assert_eq!(v.len(), 1);
            format!("{} node(s)", v.len())
        }
        n if n.starts_with("PoolAdd") => {
            let pool: PoolAddParameter = model(body("pool"));
            c.add_pool(&pool, &o).await?;
            let got = c.get_pool(&pool.id, &o).await?.expect("added pool");
            assert_eq!(got.value.id.as_deref(), Some(pool.id.as_str()));
            format!("{:?}", got.value.allocation_state)
        }
        "PoolDelete" => {
            c.delete_pool(param(ex, "poolId"), &o).await?;
            let pl = c.get_pool(param(ex, "poolId"), &o).await?;
            format!("{:?}", pl.map(|p| p.value.state))
        }
        "PoolDisableAutoScale" => {
            c.disable_pool_auto_scale(param(ex, "poolId"), &o).await?;
            let pl = get_pool(c, param(ex, "poolId")).await;
            assert_eq!(pl.enable_auto_scale, Some(false));
            "disabled".into()
        }
        "PoolEnableAutoscale" => {
            let params: PoolEnableAutoScaleParameter = model(body("poolEnableAutoScaleParameter"));
            c.enable_pool_auto_scale(param(ex, "poolId"), &params, &o)
                .await?;
            let pl = get_pool(c, param(ex, "poolId")).await;
            assert_eq!(pl.enable_auto_scale, Some(true));
            format!("{:?}", pl.auto_scale_run)
        }
        "PoolEvaluateAutoscale" => {
            let formula = p["poolEvaluateAutoScaleParameter"]["autoScaleFormula"]
                .as_str()
                .expect("formula");
            let run = c
                .evaluate_pool_auto_scale(param(ex, "poolId"), formula, &o)
                .await?;
            format!("{run:?}")
        }
        "PoolExists" => {
            assert!(c.pool_exists(param(ex, "poolId"), &o).await?);
            assert!(!c.pool_exists("not-there", &o).await?);
            "exists".into()
        }
        n if n.starts_with("PoolGet") => {
            let pl = c.get_pool(param(ex, "poolId"), &o).await?.expect("pool");
            format!("{:?}", pl.value.allocation_state)
        }
        "PoolList_Basic" => {
            let v = c.list_pools(&ListQuery::default(), &o).await?;
            assert_eq!(v.len(), 1);
            format!("{} pool(s)", v.len())
        }
        "PoolPatch" => {
            let patch: PoolPatchParameter = model(body("poolPatchParameter"));
            c.patch_pool(param(ex, "poolId"), &patch, &o).await?;
            let pl = get_pool(c, param(ex, "poolId")).await;
            format!("{:?}", pl.metadata)
        }
        "PoolResize" => {
            let r: PoolResizeParameter = model(body("poolResizeParameter"));
            c.resize_pool(param(ex, "poolId"), &r, &o).await?;
            let pl = get_pool(c, param(ex, "poolId")).await;
            assert_eq!(pl.target_dedicated_nodes, r.target_dedicated_nodes);
            format!("{:?}", pl.allocation_state)
        }
        "PoolStopResize" => {
            c.stop_resize_pool(param(ex, "poolId"), &o).await?;
            let pl = get_pool(c, param(ex, "poolId")).await;
            format!("{:?}", pl.allocation_state)
        }
        "PoolUpdate" => {
            let u: PoolUpdatePropertiesParameter = model(body("poolUpdatePropertiesParameter"));
            c.update_pool_properties(param(ex, "poolId"), &u, &o)
                .await?;
            let pl = get_pool(c, param(ex, "poolId")).await;
            assert_eq!(pl.metadata.clone().unwrap_or_default(), u.metadata);
            format!("{:?}", pl.metadata)
        }
        "TaskAddCollection_Basic" => {
            let coll: TaskAddCollectionParameter = model(body("taskCollection"));
            let results = c
                .add_task_collection(param(ex, "jobId"), &coll.value, &o)
                .await?;
            assert!(results.iter().all(|r| r.status == "success"), "{results:?}");
            let listed = c
                .list_tasks(param(ex, "jobId"), &ListQuery::default(), &o)
                .await?;
            assert_eq!(listed.len(), coll.value.len());
            format!("{} task(s)", results.len())
        }
        n if n.starts_with("TaskAdd_") => {
            let t: TaskAddParameter = model(body("task"));
            c.add_task(param(ex, "jobId"), &t, &o).await?;
            let got = get_task(c, param(ex, "jobId"), &t.id).await;
            assert_eq!(got.command_line.as_deref(), Some(t.command_line.as_str()));
            format!("{:?}", got.state)
        }
        "TaskDelete" => {
            c.delete_task(param(ex, "jobId"), param(ex, "taskId"), &o)
                .await?;
            assert!(
                c.get_task(param(ex, "jobId"), param(ex, "taskId"), &o)
                    .await?
                    .is_none()
            );
            "deleted".into()
        }
        "TaskGet" => {
            let t = get_task(c, param(ex, "jobId"), param(ex, "taskId")).await;
            assert_eq!(exec(&t).exit_code, Some(0));
            format!("{:?}", t.state)
        }
        "TaskList" => {
            let v = c
                .list_tasks(param(ex, "jobId"), &ListQuery::default(), &o)
                .await?;
            assert_eq!(v.len(), 1);
            format!("{} task(s)", v.len())
        }
        "TaskTerminate" => {
            c.terminate_task(param(ex, "jobId"), param(ex, "taskId"), &o)
                .await?;
            let t = wait_task_state(c, param(ex, "jobId"), param(ex, "taskId"), "completed").await;
            format!("{:?}", t.execution_info.map(|x| x.result))
        }
        "TaskUpdate" => {
            let u: TaskUpdateParameter = model(body("taskUpdateParameter"));
            c.update_task(param(ex, "jobId"), param(ex, "taskId"), &u, &o)
                .await?;
            let t = get_task(c, param(ex, "jobId"), param(ex, "taskId")).await;
            format!("{:?}", t.constraints)
        }
        n if n.starts_with("JobScheduleAdd") => {
            let js: JobScheduleAddParameter = model(body("cloudJobSchedule"));
            c.add_job_schedule(&js, &o).await?;
            let got = c
                .get_job_schedule(&js.id, &o)
                .await?
                .expect("added schedule");
            assert_eq!(got.value.id.as_deref(), Some(js.id.as_str()));
            format!("{:?}", got.value.state)
        }
        "JobScheduleGet" => {
            let js = c
                .get_job_schedule(param(ex, "jobScheduleId"), &o)
                .await?
                .expect("schedule");
            assert_eq!(js.value.id.as_deref(), Some(param(ex, "jobScheduleId")));
            format!("{:?}", js.value.state)
        }
        "JobScheduleList" => {
            let v = c.list_job_schedules(&ListQuery::default(), &o).await?;
            assert_eq!(v.len(), 1);
            format!("{} schedule(s)", v.len())
        }
        "JobListFromJobSchedule" => {
            // The schedule's first job is made by the service's clock: wait for it.
            let id = param(ex, "jobScheduleId");
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let v = c
                    .list_jobs_from_schedule(id, &ListQuery::default(), &o)
                    .await?;
                if !v.is_empty() {
                    break format!("{} job(s)", v.len());
                }
                assert!(Instant::now() < deadline, "no job of schedule {id}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        "JobScheduleTerminate" => {
            c.terminate_job_schedule(param(ex, "jobScheduleId"), &o)
                .await?;
            let js = c
                .get_job_schedule(param(ex, "jobScheduleId"), &o)
                .await?
                .expect("schedule");
            assert!(
                matches!(js.value.state.as_deref(), Some("terminating" | "completed")),
                "{:?}",
                js.value.state
            );
            format!("{:?}", js.value.state)
        }
        "JobScheduleUpdate" => {
            let u: JobScheduleUpdateParameter = model(body("jobScheduleUpdateParameter"));
            c.update_job_schedule(param(ex, "jobScheduleId"), &u, &o)
                .await?;
            let js = c
                .get_job_schedule(param(ex, "jobScheduleId"), &o)
                .await?
                .expect("schedule");
            let want = u.schedule.do_not_run_until.clone();
            let got = js.value.schedule.and_then(|s| s.do_not_run_until);
            assert_eq!(got.is_some(), want.is_some(), "{got:?} vs {want:?}");
            format!("{got:?}")
        }
        other => panic!("no client call mapped for the spec example {other}"),
    };
    Ok(summary)
}

/// The example's own success response body parses with the client's model of that operation
/// (the same models the typed operations use).
fn example_response_parses(file: &str, ex: &Value) -> Result<(), String> {
    fn parse<T: DeserializeOwned>(body: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(body.clone())
            .map(|_| ())
            .map_err(|e| format!("the spec's response body does not parse: {e}"))
    }
    let Some(body) = ex["responses"]["200"].get("body") else {
        return Ok(());
    };
    let name = file.trim_end_matches(".json");
    match name {
        "AccountListPoolNodeCounts" => parse::<PoolNodeCountsListResult>(body),
        "AccountListSupportedImages" => parse::<AccountListSupportedImagesResult>(body),
        "FileListFromTask" => parse::<NodeFileListResult>(body),
        "JobGet" => parse::<CloudJob>(body),
        "NodeGet_Basic" => parse::<ComputeNode>(body),
        "NodeList" => parse::<ComputeNodeListResult>(body),
        "PoolEvaluateAutoscale" => parse::<AutoScaleRun>(body),
        "PoolList_Basic" => parse::<CloudPoolListResult>(body),
        "TaskAddCollection_Basic" => parse::<TaskAddCollectionResult>(body),
        "TaskGet" => parse::<CloudTask>(body),
        "TaskList" => parse::<CloudTaskListResult>(body),
        n if n.starts_with("PoolGet") => parse::<CloudPool>(body),
        _ => Ok(()),
    }
}

#[test]
fn spec_examples_through_the_client() {
    let examples = example_files();
    assert!(examples.len() >= 50, "found {} examples", examples.len());
    let mut failures = vec![];
    let mut ran = 0;
    for (file, ex) in &examples {
        if NO_CLIENT_OPERATION.contains(&file.as_str()) {
            e2e::note(&format!(
                "spec example {file}: no client operation, not run"
            ));
            continue;
        }
        // A fresh service per example: the examples reuse the same ids.
        let emu = start(
            Runtime::Process,
            &[
                ("--allocation-delay", "50ms"),
                ("--node-start-delay", "50ms"),
            ],
        );
        let result = block_on(async {
            let c = client(&emu);
            prepare_example(&c, file, ex).await;
            run_example(&c, file, ex).await
        });
        ran += 1;
        let result = result.and_then(|summary| {
            example_response_parses(file, ex)
                .map(|()| summary)
                .map_err(BatchError::Decode)
        });
        match result {
            Ok(summary) => eprintln!("{file}: ok ({summary})"),
            Err(e) => failures.push(format!("{file}: {e}")),
        }
    }
    assert!(ran >= 50, "ran {ran} examples");
    assert!(
        failures.is_empty(),
        "{} example(s) failed through the client:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Resilience under injected faults
// ---------------------------------------------------------------------------------------------

fn fired(emu: &Emulator) -> Vec<(String, bool, Option<u64>, u64)> {
    let (st, body) = emu.admin("GET", "/faults", None);
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let rules = v
        .get("rules")
        .cloned()
        .unwrap_or(v)
        .as_array()
        .cloned()
        .unwrap_or_default();
    rules
        .iter()
        .map(|r| {
            (
                r["operation"].as_str().unwrap_or("").to_string(),
                r["dropAfterCommit"].as_bool().unwrap_or(false),
                r["status"].as_u64(),
                r["fired"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// How often the rules for `op` of one kind (error answer or `dropAfterCommit`) fired.
fn fired_of_in(rules: &[(String, bool, Option<u64>, u64)], op: &str, drop: bool) -> u64 {
    rules
        .iter()
        .filter(|r| r.0 == op && r.1 == drop)
        .map(|r| r.3)
        .sum()
}

#[test]
fn creates_survive_503s_and_dropped_connections() {
    const TASKS: usize = 1000;
    const CONCURRENCY: usize = 16;
    let emu = start(Runtime::Process, &[]);
    block_on(async {
        let c = client(&emu);
        // No nodes: the tasks stay queued, so this measures the API path only.
        add_steady_pool(&c, linux_pool("res-pool", 0)).await;
        c.add_job(
            &model(json!({"id": "res-job", "poolInfo": {"poolId": "res-pool"}})),
            &opts(),
        )
        .await
        .expect("Job_Add");

        // ~20% of Task_Add answered 503 (half with Retry-After: 1, half with 0 = client backoff),
        // ~10% committed and then the connection dropped. Seeded: the n-th request meets the same
        // draws in every run, so the schedule (and that every rule fires) is reproducible.
        let rules = json!({"rules": [
            {"operation": "Task_Add", "status": 503, "rate": 0.1, "retryAfter": 1, "seed": 1},
            {"operation": "Task_Add", "status": 503, "rate": 0.11, "retryAfter": 0, "seed": 2},
            {"operation": "Task_Add", "dropAfterCommit": true, "rate": 0.1, "seed": 3},
            {"operation": "Pool_Add", "dropAfterCommit": true, "count": 1},
            {"operation": "Job_Add", "dropAfterCommit": true, "count": 1},
            {"operation": "Task_AddCollection", "status": 503, "rate": 0.3, "retryAfter": 0, "seed": 7},
            {"operation": "Task_AddCollection", "dropAfterCommit": true, "rate": 0.3, "seed": 9}
        ]});
        let (st, body) = emu.admin("PUT", "/faults", Some(&rules.to_string()));
        assert_eq!(st, 200, "{body}");

        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..CONCURRENCY {
            let c = c.clone();
            let next = next.clone();
            workers.spawn(async move {
                let mut out = vec![];
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TASKS {
                        return out;
                    }
                    let id = format!("t{i:04}");
                    let r = c
                        .add_task("res-job", &task(&id, &format!("/bin/echo {id}")), &opts())
                        .await;
                    out.push((id, r));
                }
            });
        }
        let mut results = vec![];
        while let Some(r) = workers.join_next().await {
            results.extend(r.expect("worker"));
        }
        let took = started.elapsed();
        assert_eq!(results.len(), TASKS);
        let failed: Vec<String> = results
            .iter()
            .filter_map(|(id, r)| r.as_ref().err().map(|e| format!("{id}: {e}")))
            .collect();
        assert!(
            failed.is_empty(),
            "{} of {TASKS} Task_Add calls failed:\n{}",
            failed.len(),
            failed.join("\n")
        );
        let adopted = results
            .iter()
            .filter(|(_, r)| r.as_ref().is_ok_and(|w| w.adopted))
            .count();
        let rules_fired = fired(&emu);
        let (busy, dropped) = (
            fired_of_in(&rules_fired, "Task_Add", false),
            fired_of_in(&rules_fired, "Task_Add", true),
        );
        e2e::note(&format!(
            "{TASKS} Task_Add with faults in {took:?}: {busy} answered 503, {dropped} dropped \
             after commit, {adopted} create(s) adopted"
        ));
        // 1000+ requests at ~21% / ~10%: zero firings would mean the rules did not apply.
        assert!(busy >= 50, "503 rules fired {busy} times: {rules_fired:?}");
        for (i, rule) in rules_fired
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0 == "Task_Add")
        {
            assert!(rule.3 > 0, "Task_Add rule {i} never fired: {rules_fired:?}");
        }
        assert!(
            dropped >= 20,
            "drop rule fired {dropped} times: {rules_fired:?}"
        );
        // Each dropped-but-committed create must have been adopted by its retry (TaskExists on
        // an ambiguous retry + matching task); several drops can hit the same task.
        assert!(
            adopted >= 1 && adopted as u64 <= dropped,
            "adopted {adopted}, dropped {dropped}"
        );

        // Pool_Add and Job_Add whose first attempt is committed and then dropped: adopted.
        let phase = Instant::now();
        let pool: PoolAddParameter = model(linux_pool("res-pool-2", 0));
        let w = c
            .add_pool(&pool, &opts())
            .await
            .expect("Pool_Add after a drop");
        assert!(w.adopted, "the committed pool was adopted: {w:?}");
        let job: JobAddParameter =
            model(json!({"id": "res-job-2", "poolInfo": {"poolId": "res-pool-2"}}));
        let w = c
            .add_job(&job, &opts())
            .await
            .expect("Job_Add after a drop");
        assert!(w.adopted, "the committed job was adopted: {w:?}");

        // Task_AddCollection with 503s and drops: every task reported success, exactly once.
        let coll: Vec<TaskAddParameter> = (0..300)
            .map(|i| task(&format!("k{i:03}"), "/bin/true"))
            .collect();
        let results = c
            .add_task_collection("res-job-2", &coll, &opts())
            .await
            .expect("Task_AddCollection under faults");
        assert_eq!(results.len(), coll.len());
        let not_ok: Vec<_> = results.iter().filter(|r| r.status != "success").collect();
        assert!(not_ok.is_empty(), "{not_ok:?}");
        let rules_fired = fired(&emu);
        // The collection met both of its faults (a 503 and a committed-then-dropped chunk).
        for drop in [false, true] {
            assert!(
                fired_of_in(&rules_fired, "Task_AddCollection", drop) > 0,
                "Task_AddCollection (dropAfterCommit: {drop}) never fired: {rules_fired:?}"
            );
        }
        assert_eq!(
            rules_fired
                .iter()
                .filter(|r| r.0 == "Pool_Add" || r.0 == "Job_Add")
                .map(|r| r.3)
                .collect::<Vec<_>>(),
            vec![1, 1],
            "{rules_fired:?}"
        );
        emu.admin("DELETE", "/faults", None);

        e2e::note(&format!(
            "pool/job/collection under faults in {:?}",
            phase.elapsed()
        ));
        let phase = Instant::now();
        // Every task exists exactly once; one pool res-pool-2, one job res-job-2.
        let listed = c
            .list_tasks("res-job", &ListQuery::default(), &opts())
            .await
            .expect("Task_List");
        let unique: HashSet<&str> = listed.iter().filter_map(|t| t.id.as_deref()).collect();
        assert_eq!(listed.len(), TASKS, "Task_List count");
        assert_eq!(unique.len(), TASKS, "task ids are unique");
        for i in 0..TASKS {
            assert!(
                unique.contains(format!("t{i:04}").as_str()),
                "t{i:04} missing"
            );
        }
        let listed = c
            .list_tasks("res-job-2", &ListQuery::default(), &opts())
            .await
            .expect("Task_List");
        assert_eq!(
            ids(&listed, |t| t.id.as_ref()),
            coll.iter().map(|t| t.id.clone()).collect::<BTreeSet<_>>()
        );
        assert_eq!(listed.len(), coll.len());
        let pools = c
            .list_pools(&ListQuery::filter("id eq 'res-pool-2'"), &opts())
            .await
            .unwrap();
        assert_eq!(pools.len(), 1);
        let jobs = c
            .list_jobs(&ListQuery::filter("id eq 'res-job-2'"), &opts())
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1);
        e2e::note(&format!("final checks in {:?}", phase.elapsed()));

        // Adoption only when the existing object is what was sent: a retried create (after a
        // 503) that meets someone else's different task is a conflict, not a success.
        c.add_task("res-job-2", &task("mine", "/bin/echo theirs"), &opts())
            .await
            .expect("Task_Add");
        let (st, body) = emu.admin(
            "PUT",
            "/faults",
            Some(r#"[{"operation":"Task_Add","status":503,"retryAfter":0,"count":1}]"#),
        );
        assert_eq!(st, 200, "{body}");
        let e = c
            .add_task("res-job-2", &task("mine", "/bin/echo mine"), &opts())
            .await
            .expect_err("a different existing task must not be adopted");
        assert_eq!(e.code(), Some("TaskExists"), "{e}");
        assert!(
            service(&e)
                .value("AdoptionMismatch")
                .is_some_and(|d| d.contains("commandLine")),
            "{e}"
        );
        assert_eq!(
            get_task(&c, "res-job-2", "mine")
                .await
                .command_line
                .as_deref(),
            Some("/bin/echo theirs")
        );
    });
}

// ---------------------------------------------------------------------------------------------
// 5. Docker runtime
// ---------------------------------------------------------------------------------------------

#[test]
fn container_tasks_on_the_docker_runtime() {
    e2e::require_docker!();
    let emu = start(Runtime::Docker, &[]);
    block_on(async {
        let c = client(&emu);
        let pool: PoolAddParameter = model(container_pool("dk-pool", 1, &[BUSYBOX_IMAGE]));
        assert_eq!(
            pool.virtual_machine_configuration
                .as_ref()
                .and_then(|v| v.container_configuration.as_ref())
                .map(|cc| cc.type_.as_str()),
            Some("dockerCompatible")
        );
        c.add_pool(&pool, &opts()).await.expect("Pool_Add");
        wait_steady(&c, "dk-pool").await;
        // Nodes prefetch containerImageNames before they become idle.
        wait_idle_nodes(&c, "dk-pool", 1).await;
        c.add_job(
            &model(json!({"id": "dk-job", "poolInfo": {"poolId": "dk-pool"}})),
            &opts(),
        )
        .await
        .expect("Job_Add");
        let container = |id: &str, cmd: &str| -> TaskAddParameter {
            model(json!({"id": id, "commandLine": cmd, "containerSettings": {
                "imageName": BUSYBOX_IMAGE, "containerRunOptions": "--rm"}}))
        };
        c.add_task(
            "dk-job",
            &container("hello", "/bin/sh -c \"echo container-says-hello\""),
            &opts(),
        )
        .await
        .expect("Task_Add");
        c.add_task(
            "dk-job",
            &container("seven", "/bin/sh -c \"exit 7\""),
            &opts(),
        )
        .await
        .expect("Task_Add");

        let t = wait_task_state(&c, "dk-job", "hello", "completed").await;
        let x = exec(&t);
        assert_eq!(x.exit_code, Some(0), "{x:?}");
        assert_eq!(x.result.as_deref(), Some("success"));
        assert!(x.container_info.is_some(), "containerInfo recorded: {x:?}");
        let out = c
            .get_task_file("dk-job", "hello", "stdout.txt", None, &opts())
            .await
            .expect("File_GetFromTask")
            .expect("stdout.txt");
        let text = String::from_utf8_lossy(&out.data);
        assert!(text.contains("container-says-hello"), "stdout: {text:?}");

        let t = wait_task_state(&c, "dk-job", "seven", "completed").await;
        let x = exec(&t);
        assert_eq!(x.exit_code, Some(7), "{x:?}");
        assert_eq!(x.result.as_deref(), Some("failure"));
        assert_eq!(
            x.failure_info.as_ref().and_then(|f| f.code.as_deref()),
            Some("FailureExitCode")
        );
    });
}

/// Writes whose first attempt is committed and then loses its connection: the retry meets the
/// changed object (412, 409 …Being…, 404) and the client recognises its own change.
#[test]
fn writes_committed_then_dropped_are_recognised() {
    let emu = start(Runtime::Process, &[("--delete-delay", "2s")]);
    let drop_once = |op: &str| {
        let rule = json!([{"operation": op, "dropAfterCommit": true, "count": 1}]);
        let (st, body) = emu.admin("PUT", "/faults", Some(&rule.to_string()));
        assert_eq!(st, 200, "{body}");
    };
    let fired_once = |op: &str| {
        let f = fired(&emu);
        assert_eq!(
            f.iter().find(|r| r.0 == op).map(|r| r.3),
            Some(1),
            "{op} drop rule: {f:?}"
        );
    };
    block_on(async {
        let c = client(&emu);
        add_steady_pool(&c, linux_pool("dr-pool", 1)).await;
        wait_idle_nodes(&c, "dr-pool", 1).await;

        // Pool_Patch with If-Match: the retry gets 412 (new ETag); the read-back shows the patch.
        let etag = c
            .get_pool("dr-pool", &opts())
            .await
            .unwrap()
            .unwrap()
            .etag
            .unwrap();
        drop_once("Pool_Patch");
        let w = c
            .patch_pool(
                "dr-pool",
                &model(json!({"metadata": meta(&[("k", "v")])})),
                &opts().if_match(etag),
            )
            .await
            .expect("Pool_Patch after a dropped connection");
        fired_once("Pool_Patch");
        assert!(w.adopted, "{w:?}");
        assert_eq!(
            metadata_of(&get_pool(&c, "dr-pool").await.metadata),
            pairs(&[("k", "v")])
        );

        // Pool_Resize: the retry meets PoolBeingResized; the targets show the resize.
        drop_once("Pool_Resize");
        let w = c
            .resize_pool(
                "dr-pool",
                &model(json!({"targetDedicatedNodes": 2})),
                &opts(),
            )
            .await
            .expect("Pool_Resize after a dropped connection");
        fired_once("Pool_Resize");
        assert!(w.adopted, "{w:?}");
        let p = wait_steady(&c, "dr-pool").await;
        assert_eq!(p.current_dedicated_nodes, Some(2));

        // Pool_EnableAutoScale: the retry meets TooManyEnableAutoScaleRequests (30 s rule).
        drop_once("Pool_EnableAutoScale");
        let w = c
            .enable_pool_auto_scale(
                "dr-pool",
                &model(json!({"autoScaleFormula": "$TargetDedicatedNodes = 2;",
                    "autoScaleEvaluationInterval": "PT5M"})),
                &opts(),
            )
            .await
            .expect("Pool_EnableAutoScale after a dropped connection");
        fired_once("Pool_EnableAutoScale");
        assert!(w.adopted, "{w:?}");
        assert_eq!(get_pool(&c, "dr-pool").await.enable_auto_scale, Some(true));

        // Job_Terminate: the retry meets JobBeingTerminated / JobCompleted.
        c.add_job(
            &model(json!({"id": "dr-job", "poolInfo": {"poolId": "dr-pool"}})),
            &opts(),
        )
        .await
        .expect("Job_Add");
        c.add_task("dr-job", &task("sleeper", "/bin/sleep 30"), &opts())
            .await
            .expect("Task_Add");
        c.add_task("dr-job", &task("gone", "/bin/true"), &opts())
            .await
            .expect("Task_Add");
        wait_task_state(&c, "dr-job", "sleeper", "running").await;

        // Task_Terminate: the retry meets TaskCompleted.
        drop_once("Task_Terminate");
        let w = c
            .terminate_task("dr-job", "sleeper", &opts())
            .await
            .expect("Task_Terminate after a dropped connection");
        fired_once("Task_Terminate");
        assert!(w.adopted, "{w:?}");
        wait_task_state(&c, "dr-job", "sleeper", "completed").await;

        // Task_Delete: the retry meets 404.
        wait_task_state(&c, "dr-job", "gone", "completed").await;
        drop_once("Task_Delete");
        let w = c
            .delete_task("dr-job", "gone", &opts())
            .await
            .expect("Task_Delete after a dropped connection");
        fired_once("Task_Delete");
        assert!(w.adopted, "{w:?}");
        assert!(
            c.get_task("dr-job", "gone", &opts())
                .await
                .unwrap()
                .is_none()
        );

        drop_once("Job_Terminate");
        let w = c
            .terminate_job("dr-job", None, &opts())
            .await
            .expect("Job_Terminate after a dropped connection");
        fired_once("Job_Terminate");
        assert!(w.adopted, "{w:?}");

        // Pool_Delete: the retry meets PoolBeingDeleted.
        drop_once("Pool_Delete");
        let w = c
            .delete_pool("dr-pool", &opts())
            .await
            .expect("Pool_Delete after a dropped connection");
        fired_once("Pool_Delete");
        assert!(w.adopted, "{w:?}");
        assert_eq!(
            get_pool(&c, "dr-pool").await.state.as_deref(),
            Some("deleting")
        );
        emu.admin("DELETE", "/faults", None);
    });
}

/// JobSchedule_* through the client: add (and the adopted retry), get with ETag, patch with
/// If-Match, disable/enable, the jobs it makes, terminate and delete.
#[test]
fn job_schedule_operations_end_to_end() {
    let emu = start(Runtime::Process, &[]);
    block_on(async {
        let c = client(&emu);
        let add = JobScheduleAddParameter {
            id: "nightly".into(),
            schedule: Schedule {
                do_not_run_until: Some("2099-01-01T00:00:00Z".into()),
                recurrence_interval: Some("P1D".into()),
                ..Default::default()
            },
            job_specification: JobSpecification {
                pool_info: PoolInformation {
                    pool_id: Some("p".into()),
                    auto_pool_specification: None,
                },
                ..Default::default()
            },
            ..Default::default()
        };
        c.add_job_schedule(&add, &opts()).await.unwrap();
        let err = c.add_job_schedule(&add, &opts()).await.unwrap_err();
        assert_eq!(err.service().unwrap().code, "JobScheduleExists");
        assert!(c.job_schedule_exists("nightly", &opts()).await.unwrap());
        assert!(!c.job_schedule_exists("other", &opts()).await.unwrap());
        let got = c
            .get_job_schedule("nightly", &opts())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.value.state.as_deref(), Some("active"));
        let etag = got.etag.clone().expect("etag");

        let patch = JobSchedulePatchParameter {
            metadata: Some(vec![MetadataItem {
                name: "team".into(),
                value: "bi".into(),
            }]),
            ..Default::default()
        };
        c.patch_job_schedule("nightly", &patch, &opts().if_match(etag.clone()))
            .await
            .unwrap();
        // The old ETag no longer matches.
        let err = c
            .patch_job_schedule("nightly", &patch, &opts().if_match(etag))
            .await
            .unwrap_err();
        assert_eq!(err.service().unwrap().status, 412);

        c.disable_job_schedule("nightly", &opts()).await.unwrap();
        let got = c
            .get_job_schedule("nightly", &opts())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.value.state.as_deref(), Some("disabled"));
        assert_eq!(
            metadata_of(&got.value.metadata),
            [("team".into(), "bi".into())]
        );
        c.enable_job_schedule("nightly", &opts()).await.unwrap();
        assert!(
            c.list_jobs_from_schedule("nightly", &ListQuery::default(), &opts())
                .await
                .unwrap()
                .is_empty()
        );
        let all = c
            .list_job_schedules(&ListQuery::default(), &opts())
            .await
            .unwrap();
        assert_eq!(all.len(), 1);

        c.terminate_job_schedule("nightly", &opts()).await.unwrap();
        c.delete_job_schedule("nightly", &opts()).await.unwrap();
        let deadline = Instant::now() + WAIT;
        while c
            .get_job_schedule("nightly", &opts())
            .await
            .unwrap()
            .is_some()
        {
            assert!(Instant::now() < deadline, "the schedule was not deleted");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}
