//! Job schedules: validation, runs named and timed as Batch makes them (with a sped-up clock),
//! termination, deletion with the schedule's jobs, and persistence across a restart.

mod common;
use common::*;
use serde_json::{Value, json};

fn schedule(id: &str, schedule: Value, cmd: &str) -> Value {
    json!({"id": id, "schedule": schedule, "jobSpecification": {
        "poolInfo": {"poolId": "p"},
        "jobManagerTask": {"id": "manager", "commandLine": cmd, "killJobOnCompletion": true}}})
}

async fn fast_emu() -> Emu {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    // PT1M becomes one second.
    cfg.schedule_speed = 60;
    Emu::start_with(cfg, dir).await
}

#[tokio::test]
async fn a_recurrence_under_one_minute_is_refused() {
    let emu = Emu::start().await;
    let c = &emu.client;
    for (field, v) in [("recurrenceInterval", "PT30S"), ("startWindow", "PT59S")] {
        let r = c
            .post("/jobschedules", &schedule("s", json!({field: v}), "true"))
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.code(), "InvalidPropertyValue");
        assert_eq!(r.property(), format!("schedule.{field}"));
    }
    let r = c.get("/jobschedules/s").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "JobScheduleNotFound");
    emu.stop().await;
}

#[tokio::test]
async fn recurrences_make_jobs_in_order_each_after_the_previous_completed() {
    let emu = fast_emu().await;
    let c = &emu.client;
    assert_eq!(c.post("/pools", &linux_pool("p", 1)).await.status, 201);
    let r = c
        .post(
            "/jobschedules",
            &schedule(
                "nightly",
                json!({"recurrenceInterval": "PT1M"}),
                "/bin/sh -c 'sleep 1.5'",
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let jobs = c
        .wait_for("/jobschedules/nightly/jobs", "three completed jobs", |b| {
            b["value"]
                .as_array()
                .is_some_and(|a| a.iter().filter(|j| j["state"] == "completed").count() >= 3)
        })
        .await;
    let jobs = jobs["value"].as_array().unwrap();
    for (n, j) in jobs.iter().take(3).enumerate() {
        assert_eq!(j["id"], format!("nightly:job-{}", n + 1));
    }
    for w in jobs.windows(2).take(2) {
        let prev_end = w[0]["executionInfo"]["endTime"].as_str().unwrap();
        let next_start = w[1]["creationTime"].as_str().unwrap();
        assert!(
            next_start >= prev_end,
            "{} made at {next_start}, before {} ended at {prev_end}",
            w[1]["id"],
            w[0]["id"]
        );
    }
    let sc = c.get("/jobschedules/nightly").await.body;
    assert_eq!(sc["state"], "active");
    assert!(sc["executionInfo"]["nextRunTime"].is_string());
    assert!(
        sc["executionInfo"]["recentJob"]["id"]
            .as_str()
            .unwrap()
            .starts_with("nightly:job-")
    );

    // Terminate ends the running job and completes the schedule.
    let r = c
        .call("POST", "/jobschedules/nightly/terminate", None)
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    c.wait_for("/jobschedules/nightly", "completed", |b| {
        b["state"] == "completed"
    })
    .await;
    // Delete takes the schedule's jobs with it.
    assert_eq!(
        c.call("DELETE", "/jobschedules/nightly", None).await.status,
        202
    );
    c.wait_for("/jobs", "no jobs", |b| {
        b["value"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
    c.wait_for("/jobschedules/nightly", "gone", |b| {
        b["code"] == "JobScheduleNotFound"
    })
    .await;
    emu.stop().await;
}

#[tokio::test]
async fn do_not_run_until_patch_disable_and_restart() {
    let mut emu = Emu::start().await;
    let c = emu.client.clone();
    let r = c
        .post(
            "/jobschedules",
            &schedule(
                "later",
                json!({"doNotRunUntil": "2099-01-01T00:00:00Z", "recurrenceInterval": "P1D"}),
                "true",
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sc = c.get("/jobschedules/later").await.body;
    assert_eq!(
        sc["executionInfo"]["nextRunTime"],
        "2099-01-01T00:00:00.0000000Z"
    );
    assert_eq!(sc["jobSpecification"]["priority"], 0);
    // Patch replaces the schedule element; the next run follows it.
    let r = c
        .call(
            "PATCH",
            "/jobschedules/later",
            Some(&json!({"schedule": {"doNotRunUntil": "2098-01-01T00:00:00Z"}, "metadata": [{"name": "a", "value": "b"}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        c.call("POST", "/jobschedules/later/disable", None)
            .await
            .status,
        204
    );
    emu.restart().await;
    let c = emu.client.clone();
    let sc = c.get("/jobschedules/later").await.body;
    assert_eq!(sc["state"], "disabled");
    assert_eq!(sc["metadata"][0]["value"], "b");
    assert_eq!(
        sc["executionInfo"]["nextRunTime"],
        "2098-01-01T00:00:00.0000000Z"
    );
    assert_eq!(
        c.call("POST", "/jobschedules/later/enable", None)
            .await
            .status,
        204
    );
    assert_eq!(c.get("/jobschedules/later").await.body["state"], "active");
    // Update (PUT) replaces: omitted metadata is cleared.
    let r = c
        .call(
            "PUT",
            "/jobschedules/later",
            Some(&json!({"schedule": {"recurrenceInterval": "PT1M"}, "jobSpecification": {"poolInfo": {"poolId": "p"}}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sc = c.get("/jobschedules/later").await.body;
    assert!(sc.get("metadata").is_none(), "{sc}");
    emu.stop().await;
}

#[tokio::test]
async fn schedule_conflicts_use_batchs_documented_codes() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let sched = schedule("daily", json!({"recurrenceInterval": "P1D"}), "true");
    assert_eq!(c.post("/jobschedules", &sched).await.status, 201);
    let r = c.post("/jobschedules", &sched).await;
    assert_eq!((r.status, r.code()), (409, "JobScheduleExists"));
    // Jobs and schedules share one id space.
    let r = c
        .post(
            "/jobs",
            &json!({"id": "DAILY", "poolInfo": {"poolId": "p"}}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "JobScheduleWithSameIdExists"));
    let job = json!({"id": "adhoc", "poolInfo": {"poolId": "p"}});
    assert_eq!(c.post("/jobs", &job).await.status, 201);
    let r = c
        .post("/jobschedules", &schedule("adhoc", json!({}), "true"))
        .await;
    assert_eq!((r.status, r.code()), (409, "JobWithSameIdExists"));
    // A completed (terminated) schedule takes no update.
    let r = c.post("/jobschedules/daily/terminate", &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    c.wait_for("/jobschedules/daily", "completed", |b| {
        b["state"] == "completed"
    })
    .await;
    let r = c
        .call(
            "PATCH",
            "/jobschedules/daily",
            Some(&json!({"metadata": []})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "JobScheduleCompleted"));
    emu.stop().await;
}
