//! A job and its tasks, with their transitions: job states (disable, terminate, complete, delete),
//! task attempts, completion, retries, requeues, reactivation, exit options, dependencies and
//! retention.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{i, s};
use crate::runtime::{Failure, Outcome};
use crate::util::{now_iso, parse_duration_ms};

#[derive(Serialize, Deserialize)]
pub struct Job {
    pub body: Value,
    pub tasks: BTreeMap<String, Task>,
    pub delete_done_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub struct Task {
    pub body: Value,
    pub seq: u64,
    /// Bumped every time the task starts running; a runner whose attempt is stale is ignored.
    pub attempt: u64,
    /// The task directory on its node (files API), once it has been scheduled.
    pub dir: Option<PathBuf>,
    /// (pool key, node id) while running.
    pub node: Option<(String, String)>,
    pub slots: i64,
    pub retry_at: Option<i64>,
    #[serde(default)]
    pub files_deleted: bool,
    /// Multi-instance tasks: the nodes of the subtasks while running (pool key, node id).
    #[serde(default)]
    pub sub_nodes: Vec<(String, String)>,
    /// Multi-instance tasks: `SubtaskInformation` of the last run.
    #[serde(default)]
    pub subtasks: Vec<Value>,
}

/// The nodes a run of a task occupied: (pool key, node id) of its node and of its subtasks' nodes
/// (multi-instance), and the slots it took on each.
pub struct TaskNodes {
    pub node: Option<(String, String)>,
    pub subs: Vec<(String, String)>,
    pub slots: i64,
}

/// How long a job with `onAllTasksComplete: terminatejob` and no task stays active.
pub const EMPTY_JOB_GRACE_MS: i64 = 2000;

/// A transition of a job that is due (the engine's tick carries it out).
#[derive(Debug, PartialEq)]
pub enum JobStep {
    /// A deleting job with nothing running goes away.
    Remove,
    /// A terminating job with nothing running completes.
    Complete,
    /// An active job terminates, for this reason.
    Terminate(&'static str),
}

/// Move a resource body to a new state, keeping the previous one.
fn transition(body: &mut Value, state: &str, now: &str) {
    body["previousState"] = body["state"].clone();
    body["previousStateTransitionTime"] = body["stateTransitionTime"].clone();
    body["state"] = json!(state);
    body["stateTransitionTime"] = json!(now);
}

impl Job {
    pub fn state(&self) -> &str {
        s(&self.body, "state")
    }

    pub fn set_state(&mut self, state: &str) {
        transition(&mut self.body, state, &now_iso());
    }

    /// The key of the pool the job runs on: its poolId, or the auto pool created for it.
    pub fn pool_key(&self) -> String {
        pool_key_of(&self.body)
    }

    /// The key of its auto pool, if the job has one.
    pub fn auto_pool_key(&self) -> Option<String> {
        self.body["poolInfo"]
            .get("autoPoolSpecification")
            .map(|_| self.pool_key())
    }

    /// Keys of its tasks that are running (or preparing).
    pub fn running_tasks(&self) -> Vec<String> {
        self.tasks
            .iter()
            .filter(|(_, t)| t.is_running())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The transition that is due now, if any.
    pub fn due_step(&self, now: i64) -> Option<JobStep> {
        let running = self.tasks.values().any(Task::is_running);
        match self.state() {
            "deleting" if !running && self.delete_done_at.is_none_or(|t| t <= now) => {
                Some(JobStep::Remove)
            }
            "terminating" if !running => Some(JobStep::Complete),
            "active" if self.job_manager_completed() => Some(JobStep::Terminate("JMComplete")),
            "active" if self.all_tasks_complete(now) => {
                Some(JobStep::Terminate("AllTasksComplete"))
            }
            _ => None,
        }
    }

    fn job_manager_completed(&self) -> bool {
        self.body
            .get("jobManagerTask")
            .is_some_and(|jm| jm.get("killJobOnCompletion") != Some(&json!(false)))
            && self
                .tasks
                .get(&s(&self.body["jobManagerTask"], "id").to_ascii_lowercase())
                .is_some_and(|t| s(&t.body, "state") == "completed")
    }

    /// An empty job counts as "all tasks complete" (as the spec says), but only after a grace
    /// period like the service's own reaction time, so that tasks added right after the job are
    /// not refused.
    fn all_tasks_complete(&self, now: i64) -> bool {
        s(&self.body, "onAllTasksComplete").eq_ignore_ascii_case("terminatejob")
            && self
                .tasks
                .values()
                .all(|t| s(&t.body, "state") == "completed")
            && (!self.tasks.is_empty()
                || self
                    .body
                    .get("lastModified")
                    .and_then(Value::as_str)
                    .and_then(crate::util::parse_iso)
                    .is_some_and(|m| now - m >= EMPTY_JOB_GRACE_MS))
    }

    /// A terminating job whose tasks have all ended completes.
    pub fn complete(&mut self) {
        self.set_state("completed");
        self.body["executionInfo"]["endTime"] = json!(now_iso());
    }

    /// Whether the job performs the exit options' job action when a task fails.
    pub fn performs_exit_job_action(&self) -> bool {
        s(&self.body, "onTaskFailure").eq_ignore_ascii_case("performexitoptionsjobaction")
    }

    /// Whether the dependencies of a task body are satisfied.
    pub fn deps_satisfied(&self, t: &Value) -> bool {
        let Some(dep) = t.get("dependsOn") else {
            return true;
        };
        let done = |id: &str| {
            self.tasks.get(&id.to_ascii_lowercase()).is_some_and(|d| {
                s(&d.body, "state") == "completed" && exit_options(&d.body).1 == "satisfy"
            })
        };
        for id in dep
            .get("taskIds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !done(id.as_str().unwrap_or("")) {
                return false;
            }
        }
        for r in dep
            .get("taskIdRanges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for n in i(r, "start")..=i(r, "end") {
                if !done(&n.to_string()) {
                    return false;
                }
            }
        }
        true
    }

    /// Retention: task directories are removed once retentionTime has passed after completion.
    /// True if any was removed.
    pub fn expire_task_files(&mut self, now: i64) -> bool {
        let mut any = false;
        for t in self.tasks.values_mut() {
            any |= t.expire_files(now);
        }
        any
    }
}

/// The key of the pool a job body runs on: its poolId, or the auto pool created for it.
pub fn pool_key_of(body: &Value) -> String {
    match s(&body["poolInfo"], "poolId") {
        "" => s(&body["executionInfo"], "poolId").to_ascii_lowercase(),
        p => p.to_ascii_lowercase(),
    }
}

impl Task {
    /// A new task: `active`, never run.
    pub fn new(body: Value, seq: u64) -> Task {
        Task {
            body,
            seq,
            attempt: 0,
            dir: None,
            node: None,
            slots: 0,
            retry_at: None,
            files_deleted: false,
            sub_nodes: vec![],
            subtasks: vec![],
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(s(&self.body, "state"), "running" | "preparing")
    }

    /// Back to `active` without counting a retry (its node went away or rebooted).
    pub fn requeue(&mut self, now: &str) {
        let body = &mut self.body;
        transition(body, "active", now);
        let ei = &mut body["executionInfo"];
        ei["requeueCount"] = json!(i(ei, "requeueCount") + 1);
        ei["lastRequeueTime"] = json!(now);
        if let Some(o) = body.as_object_mut() {
            o.remove("nodeInfo");
        }
    }

    /// Put the task into `completed` with its execution result.
    pub fn complete(
        &mut self,
        exit_code: Option<i64>,
        failure: Option<&Failure>,
        container_info: Option<&Value>,
    ) {
        let now = now_iso();
        let body = &mut self.body;
        transition(body, "completed", &now);
        let ei = &mut body["executionInfo"];
        if ei.get("startTime").is_none() {
            ei["startTime"] = json!(now);
        }
        ei["endTime"] = json!(now);
        match exit_code {
            Some(c) => ei["exitCode"] = json!(c),
            None => {
                if let Some(o) = ei.as_object_mut() {
                    o.remove("exitCode");
                }
            }
        }
        ei["result"] = json!(if failure.is_none() {
            "success"
        } else {
            "failure"
        });
        match failure {
            Some(f) => ei["failureInfo"] = f.to_value(),
            None => {
                if let Some(o) = ei.as_object_mut() {
                    o.remove("failureInfo");
                }
            }
        }
        if let Some(ci) = container_info {
            ei["containerInfo"] = ci.clone();
        }
    }

    /// Whether a run that ended with `o` is retried (a failure other than of the job preparation
    /// task, with retries left).
    pub fn retries_after(&self, o: &Outcome) -> bool {
        let max_retries = i(&self.body["constraints"], "maxTaskRetryCount");
        let retries = i(&self.body["executionInfo"], "retryCount");
        let retryable = o
            .failure
            .as_ref()
            .is_some_and(|f| f.code != "JobPreparationTaskFailed");
        retryable && (max_retries == -1 || retries < max_retries)
    }

    /// Back to `active` for another try after a failed run.
    pub fn retry(&mut self, o: &Outcome) {
        let now = now_iso();
        let retries = i(&self.body["executionInfo"], "retryCount");
        transition(&mut self.body, "active", &now);
        let ei = &mut self.body["executionInfo"];
        ei["retryCount"] = json!(retries + 1);
        ei["lastRetryTime"] = json!(now);
        if let Some(c) = o.exit_code {
            ei["exitCode"] = json!(c);
        }
        if let Some(f) = &o.failure {
            ei["failureInfo"] = f.to_value();
        }
        ei["result"] = json!("failure");
    }

    /// Task_Reactivate: a task that completed with a failure becomes active again, its retry count
    /// reset.
    pub fn reactivate(&mut self) {
        let now = now_iso();
        self.body["previousState"] = json!("completed");
        self.body["previousStateTransitionTime"] = self.body["stateTransitionTime"].clone();
        self.body["state"] = json!("active");
        self.body["stateTransitionTime"] = json!(now);
        let ei = &mut self.body["executionInfo"];
        ei["retryCount"] = json!(0);
        if let Some(o) = ei.as_object_mut() {
            for k in ["endTime", "exitCode", "result", "failureInfo"] {
                o.remove(k);
            }
        }
    }

    /// A new attempt starts on a node: `preparing` while the job preparation task runs first,
    /// else `running`. `node_info` is the body's new `nodeInfo`.
    pub fn begin_attempt(
        &mut self,
        node: (String, String),
        dir: PathBuf,
        needs_prep: bool,
        node_info: Value,
    ) {
        let now = now_iso();
        self.attempt += 1;
        self.dir = Some(dir);
        self.files_deleted = false;
        self.node = Some(node);
        self.slots = i(&self.body, "requiredSlots").max(1);
        transition(
            &mut self.body,
            if needs_prep { "preparing" } else { "running" },
            &now,
        );
        self.body["executionInfo"]["startTime"] = json!(now);
        for k in [
            "endTime",
            "exitCode",
            "result",
            "failureInfo",
            "containerInfo",
        ] {
            if let Some(o) = self.body["executionInfo"].as_object_mut() {
                o.remove(k);
            }
        }
        self.body["nodeInfo"] = node_info;
    }

    /// The job preparation task of this attempt succeeded: the task runs.
    pub fn prepared(&mut self, attempt: u64) {
        if self.attempt == attempt && s(&self.body, "state") == "preparing" {
            self.body["previousState"] = json!("preparing");
            self.body["state"] = json!("running");
            self.body["stateTransitionTime"] = json!(now_iso());
        }
    }

    /// The run ended: the task lets go of its nodes.
    pub fn take_nodes(&mut self) -> TaskNodes {
        TaskNodes {
            node: self.node.take(),
            subs: std::mem::take(&mut self.sub_nodes),
            slots: self.slots,
        }
    }

    fn expire_files(&mut self, now: i64) -> bool {
        if self.files_deleted || s(&self.body, "state") != "completed" {
            return false;
        }
        let end = self.body["executionInfo"]
            .get("endTime")
            .and_then(Value::as_str)
            .and_then(crate::util::parse_iso);
        let keep = self.body["constraints"]
            .get("retentionTime")
            .and_then(Value::as_str)
            .and_then(parse_duration_ms)
            .unwrap_or(7 * 86_400_000);
        if let (Some(end), Some(dir)) = (end, &self.dir)
            && end.saturating_add(keep) <= now
        {
            let _ = std::fs::remove_dir_all(dir);
            self.files_deleted = true;
            return true;
        }
        false
    }
}

/// The exit options that apply to a completed task: (jobAction, dependencyAction), from its
/// `exitConditions` and the spec's defaults (none/satisfy on exit code 0, terminate/block otherwise).
pub fn exit_options(task: &Value) -> (String, String) {
    let ei = &task["executionInfo"];
    let success = s(ei, "result") == "success";
    let code = ei.get("exitCode").and_then(Value::as_i64);
    let ec = &task["exitConditions"];
    let mut chosen: Option<&Value> = None;
    if let Some(code) = code {
        chosen = ec["exitCodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| i(e, "code") == code)
            .map(|e| &e["exitOptions"]);
        if chosen.is_none() {
            chosen = ec["exitCodeRanges"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| (i(r, "start")..=i(r, "end")).contains(&code))
                .map(|r| &r["exitOptions"]);
        }
    } else if !success && ec.get("preProcessingError").is_some() {
        chosen = ec.get("preProcessingError");
    }
    if chosen.is_none() && !success {
        chosen = ec.get("default");
    }
    let (dj, dd) = if success {
        ("none", "satisfy")
    } else {
        ("terminate", "block")
    };
    let pick = |k: &str, d: &str| {
        chosen
            .and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or(d)
            .to_string()
    };
    (pick("jobAction", dj), pick("dependencyAction", dd))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(body: Value, tasks: &[(&str, Value)]) -> Job {
        Job {
            body,
            tasks: tasks
                .iter()
                .enumerate()
                .map(|(k, (id, b))| (id.to_string(), Task::new(b.clone(), k as u64)))
                .collect(),
            delete_done_at: None,
        }
    }

    #[test]
    fn exit_options_default_by_result() {
        let ok = json!({"executionInfo": {"result": "success", "exitCode": 0}});
        assert_eq!(exit_options(&ok), ("none".into(), "satisfy".into()));
        let failed = json!({"executionInfo": {"result": "failure", "exitCode": 3},
            "exitConditions": {"exitCodeRanges": [{"start": 2, "end": 4, "exitOptions": {"dependencyAction": "satisfy"}}]}});
        assert_eq!(
            exit_options(&failed),
            ("terminate".into(), "satisfy".into())
        );
    }

    #[test]
    fn due_steps() {
        let t_done = json!({"state": "completed", "executionInfo": {"result": "success"}});
        let t_run = json!({"state": "running"});
        let j = job(
            json!({"state": "terminating"}),
            &[("a", t_done.clone()), ("b", t_run.clone())],
        );
        assert_eq!(j.due_step(0), None);
        let j = job(json!({"state": "terminating"}), &[("a", t_done.clone())]);
        assert_eq!(j.due_step(0), Some(JobStep::Complete));
        let j = job(
            json!({"state": "active", "onAllTasksComplete": "terminatejob"}),
            &[("a", t_done.clone())],
        );
        assert_eq!(j.due_step(0), Some(JobStep::Terminate("AllTasksComplete")));
        let j = job(
            json!({"state": "active", "jobManagerTask": {"id": "JM"}}),
            &[("jm", t_done)],
        );
        assert_eq!(j.due_step(0), Some(JobStep::Terminate("JMComplete")));
        let j = job(json!({"state": "deleting"}), &[("b", t_run)]);
        assert_eq!(j.due_step(0), None);
    }

    #[test]
    fn dependencies_need_satisfying_predecessors() {
        let done =
            json!({"state": "completed", "executionInfo": {"result": "success", "exitCode": 0}});
        let failed =
            json!({"state": "completed", "executionInfo": {"result": "failure", "exitCode": 1}});
        let j = job(json!({}), &[("1", done), ("2", failed)]);
        assert!(j.deps_satisfied(&json!({"dependsOn": {"taskIds": ["1"]}})));
        assert!(
            !j.deps_satisfied(&json!({"dependsOn": {"taskIdRanges": [{"start": 1, "end": 2}]}}))
        );
        assert!(j.deps_satisfied(&json!({})));
    }
}
