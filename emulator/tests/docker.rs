//! The docker runtime against a real Docker Engine API (Podman's `podman system service`).
//! Needs DOCKER_HOST (e.g. unix:///run/podman/podman.sock, as scripts/setup-podman.sh prints) and the
//! offline images `busybox:latest` and `hello-entrypoint:latest` that script builds. Without
//! DOCKER_HOST the tests are skipped, or fail under CI (see the `prereq` crate); with it, a service
//! that cannot start is a failure.

mod common;
use batch_emulator::RuntimeKind;
use common::*;
use serde_json::json;

async fn docker_emu() -> Result<Emu, String> {
    if std::env::var("DOCKER_HOST").is_err() {
        return Err(
            "DOCKER_HOST is not set (run scripts/setup-podman.sh and export DOCKER_HOST)".into(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    cfg.runtime = RuntimeKind::Docker;
    let h = batch_emulator::start(cfg.clone())
        .await
        .unwrap_or_else(|e| panic!("docker runtime with DOCKER_HOST set: {e:#}"));
    let client = Client::new(&h.url(), &cfg.account, &cfg.key);
    Ok(Emu {
        handle: Some(h),
        client,
        dir,
    })
}

#[tokio::test]
async fn container_tasks_run_in_containers() {
    let emu = prereq::require!(docker_emu().await);
    let c = &emu.client;
    let mut pool = container_pool("cp", 1, &["busybox:latest"]);
    // The start task runs in a container too, with the node's directories mounted.
    pool["startTask"] = json!({"commandLine": "/bin/sh -c 'echo started-in-container > $AZ_BATCH_NODE_SHARED_DIR/start.txt'",
        "containerSettings": {"imageName": "busybox:latest"}, "waitForSuccess": true});
    let r = c.post("/pools", &pool).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let nodes = c
        .wait_for("/pools/cp/nodes", "idle node", |b| {
            b["value"][0]["state"] == "idle"
        })
        .await;
    assert!(nodes["value"][0].get("errors").is_none(), "{nodes}");
    assert_eq!(nodes["value"][0]["startTaskInfo"]["exitCode"], 0, "{nodes}");
    let node_id = nodes["value"][0]["id"].as_str().unwrap().to_string();
    let start = c
        .get(&format!("/pools/cp/nodes/{node_id}/files/shared/start.txt"))
        .await;
    assert_eq!(
        String::from_utf8_lossy(&start.bytes),
        "started-in-container\n"
    );
    c.post("/jobs", &json!({"id": "cj", "poolInfo": {"poolId": "cp"}}))
        .await;
    // Command line run in the container, in the task working directory, with AZ_BATCH_* variables.
    let r = c
        .post(
            "/jobs/cj/tasks",
            &json!({"id": "echo", "commandLine": "/bin/sh -c 'echo hello from $AZ_BATCH_TASK_ID in $(pwd); cat /etc/hostname >/dev/null; echo x > out.txt; echo err >&2'",
                    "containerSettings": {"imageName": "busybox:latest", "containerRunOptions": "--rm -e GREETING=hi"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = c
        .wait_for("/jobs/cj/tasks/echo", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 0, "{t}");
    assert!(
        t["executionInfo"]["containerInfo"]["containerId"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{t}"
    );
    let out = String::from_utf8_lossy(&c.get("/jobs/cj/tasks/echo/files/stdout.txt").await.bytes)
        .into_owned();
    assert!(out.starts_with("hello from echo in /"), "{out}");
    assert!(
        out.trim_end().ends_with("/workitems/cj/job-1/echo/wd"),
        "{out}"
    );
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/cj/tasks/echo/files/stderr.txt").await.bytes),
        "err\n"
    );
    // The task directory is bind-mounted: files written in the container are served.
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/cj/tasks/echo/files/wd/out.txt").await.bytes),
        "x\n"
    );

    // Empty command line: the image's ENTRYPOINT runs.
    c.post("/jobs/cj/tasks", &json!({"id": "ep", "commandLine": "", "containerSettings": {"imageName": "hello-entrypoint:latest"}})).await;
    let t = c
        .wait_for("/jobs/cj/tasks/ep", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 0, "{t}");
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/cj/tasks/ep/files/stdout.txt").await.bytes),
        "hello from the image entrypoint\n"
    );

    // containerImageDefault keeps the image's working directory ("/" for busybox); -w overrides it.
    c.post("/jobs/cj/tasks", &json!({"id": "imgwd", "commandLine": "pwd", "containerSettings": {"imageName": "busybox:latest", "workingDirectory": "containerImageDefault"}})).await;
    c.post("/jobs/cj/tasks", &json!({"id": "optwd", "commandLine": "pwd", "containerSettings": {"imageName": "busybox:latest", "containerRunOptions": "--rm --workdir /tmp"}})).await;
    c.wait_for("/jobs/cj/tasks/imgwd", "completed", |b| {
        b["state"] == "completed"
    })
    .await;
    c.wait_for("/jobs/cj/tasks/optwd", "completed", |b| {
        b["state"] == "completed"
    })
    .await;
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/cj/tasks/imgwd/files/stdout.txt").await.bytes),
        "/\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&c.get("/jobs/cj/tasks/optwd/files/stdout.txt").await.bytes),
        "/tmp\n"
    );

    // Non-zero exit in a container; a missing image; unsupported run options.
    c.post("/jobs/cj/tasks", &json!({"id": "fail", "commandLine": "/bin/sh -c 'exit 5'", "containerSettings": {"imageName": "busybox:latest"}})).await;
    c.post("/jobs/cj/tasks", &json!({"id": "noimg", "commandLine": "true", "containerSettings": {"imageName": "localhost/definitely-missing-image:1"}})).await;
    c.post("/jobs/cj/tasks", &json!({"id": "opts", "commandLine": "true", "containerSettings": {"imageName": "busybox:latest", "containerRunOptions": "--gpus all"}})).await;
    let t = c
        .wait_for("/jobs/cj/tasks/fail", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["exitCode"], 5);
    assert_eq!(t["executionInfo"]["failureInfo"]["code"], "FailureExitCode");
    let t = c
        .wait_for("/jobs/cj/tasks/noimg", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(
        t["executionInfo"]["failureInfo"]["code"], "ContainerImagePullFailed",
        "{t}"
    );
    let t = c
        .wait_for("/jobs/cj/tasks/opts", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert!(
        t["executionInfo"]["failureInfo"]["message"]
            .as_str()
            .unwrap()
            .contains("--gpus"),
        "{t}"
    );

    // A pool whose image cannot be prefetched: its node becomes unusable with the error.
    c.post(
        "/pools",
        &container_pool("badimg", 1, &["localhost/definitely-missing-image:1"]),
    )
    .await;
    let nodes = c
        .wait_for("/pools/badimg/nodes", "unusable", |b| {
            b["value"][0]["state"] == "unusable"
        })
        .await;
    assert_eq!(
        nodes["value"][0]["errors"][0]["code"],
        "ContainerImagePullFailed"
    );
    emu.stop().await;
}
