//! A pool and its compute nodes, with their transitions: allocation (resize, stop, remove nodes,
//! autoscale, delete), node start-up and start task, node occupancy by tasks, reboot.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{b, i, s};
use crate::runtime::{Failure, Outcome};
use crate::util::{new_node_id, now_iso, now_ms};

#[derive(Serialize, Deserialize, Default, Clone)]
pub struct PoolOverride {
    /// Reported in `resizeErrors` when a resize completes (the resize then adds no node).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "resizeError"
    )]
    pub resize_error: Option<Value>,
    /// Force new nodes into this state after they start (`unusable`, `starttaskfailed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "nodeState")]
    pub node_state: Option<String>,
    /// Allocate at most this many nodes per resize, whatever the target (a partial allocation).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "maxNodes")]
    pub max_nodes: Option<u32>,
    /// Keep the pool `resizing` for this long instead of the configured allocation delay.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "allocationDelayMs"
    )]
    pub allocation_delay_ms: Option<u64>,
}

#[derive(Serialize, Deserialize)]
pub struct Pool {
    pub body: Value,
    pub nodes: Vec<Node>,
    /// When the current allocation change (resize, stop, delete) completes.
    pub resize_done_at: Option<i64>,
    pub delete_done_at: Option<i64>,
    pub last_enable_autoscale: Option<i64>,
    pub next_autoscale_at: Option<i64>,
    /// The pool's properties as last sent, passwords included (reads strip them from `body`):
    /// nodes pull container images with these credentials.
    #[serde(default)]
    pub secrets: Value,
}

#[derive(Serialize, Deserialize)]
pub struct Node {
    pub body: Value,
    /// When the node leaves `starting` and begins its setup (image prefetch, start task).
    pub ready_at: i64,
    pub setup_started: bool,
    pub slots_used: i64,
    /// (job key, task key) of tasks running on the node.
    pub running: Vec<(String, String)>,
    /// Job key -> whether the job preparation task succeeded on this node.
    #[serde(default)]
    pub prep: BTreeMap<String, bool>,
    /// Job key -> JobPreparationTaskExecutionInformation / JobReleaseTaskExecutionInformation.
    #[serde(default)]
    pub prep_info: BTreeMap<String, Value>,
    #[serde(default)]
    pub release_info: BTreeMap<String, Value>,
    pub root: PathBuf,
}

/// Where new nodes live and when they finish starting.
pub struct NodeSite<'a> {
    /// `<data dir>/nodes`: a node's root is `<nodes dir>/<pool id>/<node id>`.
    pub nodes_dir: &'a Path,
    pub start_delay_ms: i64,
}

impl Pool {
    pub fn targets(&self) -> (i64, i64) {
        (
            i(&self.body, "targetDedicatedNodes"),
            i(&self.body, "targetLowPriorityNodes"),
        )
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| s(&n.body, "id") == id)
    }

    pub fn node_mut(&mut self, id: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| s(&n.body, "id") == id)
    }

    fn set_allocation_state(&mut self, state: &str) {
        self.body["allocationState"] = json!(state);
        self.body["allocationStateTransitionTime"] = json!(now_iso());
    }

    /// Start an allocation change towards the current targets; it completes after `delay` ms.
    pub fn begin_resize(&mut self, delay: i64) {
        self.set_allocation_state("resizing");
        if let Some(o) = self.body.as_object_mut() {
            o.remove("resizeErrors");
        }
        self.resize_done_at = Some(now_ms() + delay);
    }

    /// Pool_StopResize: a resize in progress stops at once (the tick completes it).
    pub fn stop_resize(&mut self) -> bool {
        if s(&self.body, "allocationState") != "resizing" {
            return false;
        }
        self.set_allocation_state("stopping");
        self.resize_done_at = Some(now_ms());
        true
    }

    /// Pool_RemoveNodes: the nodes leave the pool and the targets shrink to what is left.
    pub fn remove_nodes(&mut self, ids: &[String]) {
        for n in self.nodes.iter_mut() {
            if ids.iter().any(|x| x == s(&n.body, "id")) {
                n.body["state"] = json!("leavingpool");
                n.body["stateTransitionTime"] = json!(now_iso());
            }
        }
        let staying = |dedicated: bool| {
            self.nodes
                .iter()
                .filter(|n| {
                    s(&n.body, "state") != "leavingpool" && b(&n.body, "isDedicated") == dedicated
                })
                .count()
        };
        let (dedicated, spot) = (staying(true), staying(false));
        self.body["targetDedicatedNodes"] = json!(dedicated);
        self.body["targetLowPriorityNodes"] = json!(spot);
        self.set_allocation_state("resizing");
        self.resize_done_at = Some(now_ms());
    }

    /// Pool_Delete: the pool goes to `deleting`; the tick removes it after `delay` ms.
    pub fn begin_delete(&mut self, delay: i64) {
        let now = now_iso();
        self.body["state"] = json!("deleting");
        self.body["stateTransitionTime"] = json!(now);
        self.body["allocationState"] = json!("resizing");
        self.body["allocationStateTransitionTime"] = json!(now);
        self.body["targetDedicatedNodes"] = json!(0);
        self.body["targetLowPriorityNodes"] = json!(0);
        self.delete_done_at = Some(now_ms() + delay);
    }

    /// The pool of a completed job with an auto pool goes away (once).
    pub fn begin_auto_delete(&mut self, done_at: i64) {
        if self.delete_done_at.is_none() {
            self.body["state"] = json!("deleting");
            self.delete_done_at = Some(done_at);
        }
    }

    pub fn delete_due(&self, now: i64) -> bool {
        self.delete_done_at.is_some_and(|t| t <= now)
    }

    pub fn resize_due(&self, now: i64) -> bool {
        self.resize_done_at.is_some_and(|t| t <= now) && s(&self.body, "state") == "active"
    }

    pub fn autoscale_due(&self, now: i64) -> bool {
        b(&self.body, "enableAutoScale")
            && self.next_autoscale_at.is_some_and(|t| t <= now)
            && s(&self.body, "allocationState") == "steady"
    }

    /// Evaluate the autoscale formula; a change of targets starts a resize.
    pub fn apply_autoscale(&mut self, delay: i64) {
        let before = self.targets();
        crate::autoscale::apply(self);
        if before != self.targets() {
            self.begin_resize(delay);
        }
    }

    /// Pool_DisableAutoScale.
    pub fn disable_autoscale(&mut self) {
        self.body["enableAutoScale"] = json!(false);
        if let Some(o) = self.body.as_object_mut() {
            o.remove("autoScaleFormula");
            o.remove("autoScaleEvaluationInterval");
            o.remove("autoScaleRun");
        }
        self.body["resizeTimeout"] = json!("PT15M");
        self.next_autoscale_at = None;
    }

    /// Finish an allocation change: add or remove nodes to reach the targets. Returns the tasks
    /// that were running on nodes that left (to requeue).
    pub fn complete_resize(&mut self, ov: &PoolOverride, site: &NodeSite) -> Vec<(String, String)> {
        self.resize_done_at = None;
        let mut requeue = vec![];
        let stopping = s(&self.body, "allocationState") == "stopping";
        self.set_allocation_state("steady");
        if stopping {
            self.body["resizeErrors"] = json!([{"code": "ResizeStopped", "message": "Desired number of dedicated nodes could not be allocated as the resize was stopped."}]);
            return requeue;
        }
        // Nodes removed through Pool_RemoveNodes leave now.
        let mut leaving: Vec<Node> = vec![];
        self.nodes.retain_mut(|n| {
            if s(&n.body, "state") == "leavingpool" {
                leaving.push(std::mem::replace(n, Node::placeholder()));
                false
            } else {
                true
            }
        });
        let mut errors = vec![];
        if let Some(e) = &ov.resize_error {
            errors.push(e.clone());
        } else {
            for (dedicated, key) in [
                (true, "targetDedicatedNodes"),
                (false, "targetLowPriorityNodes"),
            ] {
                let mut target = i(&self.body, key).max(0) as usize;
                if let Some(max) = ov.max_nodes
                    && target > max as usize
                {
                    errors.push(json!({"code": "AllocationFailed", "message": format!("Only {max} of the {target} requested nodes could be allocated.")}));
                    target = max as usize;
                }
                let have = self
                    .nodes
                    .iter()
                    .filter(|n| b(&n.body, "isDedicated") == dedicated)
                    .count();
                if have < target {
                    for _ in have..target {
                        let n = Node::new(self, dedicated, site);
                        self.nodes.push(n);
                    }
                } else if have > target {
                    leaving.extend(self.shrink(dedicated, have - target));
                }
            }
        }
        for n in leaving {
            requeue.extend(n.running.iter().cloned());
            let _ = std::fs::remove_dir_all(&n.root);
        }
        if errors.is_empty() {
            if let Some(o) = self.body.as_object_mut() {
                o.remove("resizeErrors");
            }
        } else {
            self.body["resizeErrors"] = json!(errors);
        }
        let d = self
            .nodes
            .iter()
            .filter(|n| b(&n.body, "isDedicated"))
            .count();
        self.body["currentDedicatedNodes"] = json!(d);
        self.body["currentLowPriorityNodes"] = json!(self.nodes.len() - d);
        requeue
    }

    /// Take `count` nodes of a kind out of the pool: idle nodes first, then the least busy.
    fn shrink(&mut self, dedicated: bool, count: usize) -> Vec<Node> {
        let mut idx: Vec<usize> = (0..self.nodes.len())
            .filter(|&k| b(&self.nodes[k].body, "isDedicated") == dedicated)
            .collect();
        idx.sort_by_key(|&k| (self.nodes[k].slots_used, std::cmp::Reverse(k)));
        let remove: Vec<usize> = idx.into_iter().take(count).collect();
        let mut out = vec![];
        let mut k = 0;
        self.nodes.retain_mut(|n| {
            let keep = !remove.contains(&k);
            k += 1;
            if !keep {
                out.push(std::mem::replace(n, Node::placeholder()));
            }
            keep
        });
        out
    }

    /// The pool's `containerRegistries` with their passwords: the credentials its nodes pull with.
    pub fn container_registries(&self) -> Vec<Value> {
        let path = |v: &Value| {
            v["virtualMachineConfiguration"]["containerConfiguration"]["containerRegistries"]
                .as_array()
                .cloned()
        };
        path(&self.secrets)
            .or_else(|| path(&self.body))
            .unwrap_or_default()
    }

    /// The start task with the password of its container registry, if it has one.
    pub fn start_task_with_secrets(&self) -> Option<Value> {
        let mut stt = self.body.get("startTask").cloned()?;
        let sent = &self.secrets["startTask"]["containerSettings"]["registry"];
        if sent.is_object() && stt["containerSettings"].is_object() {
            stt["containerSettings"]["registry"] = sent.clone();
        }
        Some(stt)
    }

    /// The container images its nodes prefetch.
    pub fn container_images(&self) -> Vec<String> {
        self.body["virtualMachineConfiguration"]["containerConfiguration"]["containerImageNames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    }
}

impl Node {
    fn placeholder() -> Node {
        Node {
            body: Value::Null,
            ready_at: 0,
            setup_started: false,
            slots_used: 0,
            running: vec![],
            prep: Default::default(),
            prep_info: Default::default(),
            release_info: Default::default(),
            root: PathBuf::new(),
        }
    }

    /// A node joining `p`: `starting`, with its directories created.
    fn new(p: &Pool, dedicated: bool, site: &NodeSite) -> Node {
        let id = new_node_id(dedicated);
        let pool_id = s(&p.body, "id");
        let root = site.nodes_dir.join(pool_id).join(&id);
        for d in [
            "startup/wd",
            "shared",
            "fsmounts",
            "applications",
            "workitems",
        ] {
            let _ = std::fs::create_dir_all(root.join(d));
        }
        let now = now_iso();
        let n = p.nodes.len() + 4;
        let mut body = json!({
            "id": id,
            "url": format!("{}/nodes/{id}", s(&p.body, "url")),
            "state": "starting",
            "schedulingState": "enabled",
            "stateTransitionTime": now,
            "lastBootTime": now,
            "allocationTime": now,
            "ipAddress": format!("10.0.{}.{}", n / 250, n % 250 + 4),
            "affinityId": format!("TVM:{id}"),
            "vmSize": s(&p.body, "vmSize"),
            "totalTasksRun": 0,
            "runningTasksCount": 0,
            "runningTaskSlotsCount": 0,
            "totalTasksSucceeded": 0,
            "isDedicated": dedicated,
            "nodeAgentInfo": {"version": "1.11.19", "lastUpdateTime": now},
            "virtualMachineInfo": {"imageReference": p.body["virtualMachineConfiguration"]["imageReference"].clone()},
        });
        if let Some(st) = p.body.get("startTask") {
            body["startTask"] = st.clone();
        }
        Node {
            body,
            ready_at: now_ms() + site.start_delay_ms,
            root,
            ..Node::placeholder()
        }
    }

    pub fn id(&self) -> &str {
        s(&self.body, "id")
    }

    pub fn set_state(&mut self, state: &str) {
        if s(&self.body, "state") != state {
            self.body["state"] = json!(state);
            self.body["stateTransitionTime"] = json!(now_iso());
        }
    }

    /// Whether the scheduler may place tasks on the node.
    pub fn schedulable(&self) -> bool {
        matches!(s(&self.body, "state"), "idle" | "running")
            && s(&self.body, "schedulingState") != "disabled"
    }

    /// A `starting` node whose start delay has passed and whose setup has not begun yet begins
    /// it now; true if it did.
    pub fn begin_setup(&mut self, now: i64) -> bool {
        if s(&self.body, "state") == "starting" && !self.setup_started && self.ready_at <= now {
            self.setup_started = true;
            return true;
        }
        false
    }

    /// After a restart nothing runs on the node; a node that was starting sets up again.
    pub fn recover(&mut self) {
        self.running.clear();
        self.slots_used = 0;
        self.body["runningTasksCount"] = json!(0);
        self.body["runningTaskSlotsCount"] = json!(0);
        match s(&self.body, "state") {
            "running" => self.set_state("idle"),
            "starting" | "waitingforstarttask" | "creating" => {
                self.setup_started = false;
                self.set_state("starting");
            }
            _ => {}
        }
    }

    /// The image prefetch failed: the node is unusable.
    pub fn prefetch_failed(&mut self, f: &Failure) {
        self.set_state("unusable");
        self.body["errors"] = json!([{"code": f.code, "message": f.message, "errorDetails": []}]);
    }

    /// A state forced by the pool's overrides instead of the start task.
    pub fn force_state(&mut self, forced: &str) {
        self.set_state(forced);
        if forced == "starttaskfailed" {
            self.body["startTaskInfo"] = json!({"state": "completed", "startTime": now_iso(), "endTime": now_iso(), "exitCode": 1, "retryCount": 0,
                "result": "failure", "failureInfo": {"category": "UserError", "code": "FailureExitCode", "message": "The start task failed (forced by the emulator's fault injection)."}});
        }
        if forced == "unusable" {
            self.body["errors"] = json!([{"code": "NodeUnusable", "message": "The node is unusable (forced by the emulator's fault injection).", "errorDetails": []}]);
        }
    }

    /// The start task begins: the node waits for it, or is idle already without `waitForSuccess`.
    pub fn begin_start_task(&mut self, wait: bool) {
        self.set_state(if wait { "waitingforstarttask" } else { "idle" });
        self.body["startTaskInfo"] =
            json!({"state": "running", "startTime": now_iso(), "retryCount": 0});
    }

    /// The start task ended after `retries` retries.
    pub fn start_task_done(&mut self, started: &str, retries: i64, outcome: &Outcome, wait: bool) {
        let mut info = json!({"state": "completed", "startTime": started, "endTime": now_iso(), "retryCount": retries});
        add_outcome(&mut info, outcome);
        self.body["startTaskInfo"] = info;
        if s(&self.body, "state") == "waitingforstarttask" {
            self.set_state(if outcome.failure.is_some() && wait {
                "starttaskfailed"
            } else {
                "idle"
            });
        }
    }

    /// A task starts on the node.
    pub fn occupy(&mut self, jk: &str, tk: &str, slots: i64) {
        self.running.push((jk.to_string(), tk.to_string()));
        self.slots_used += slots;
        self.body["runningTasksCount"] = json!(self.running.len());
        self.body["runningTaskSlotsCount"] = json!(self.slots_used);
        self.set_state("running");
    }

    /// A task leaves the node; `success` counts it as run (and succeeded) for the node's totals.
    pub fn release(&mut self, jk: &str, tk: &str, slots: i64, success: Option<bool>) {
        let before = self.running.len();
        self.running.retain(|(j, t)| !(j == jk && t == tk));
        if self.running.len() == before {
            return;
        }
        self.slots_used = (self.slots_used - slots).max(0);
        self.body["runningTasksCount"] = json!(self.running.len());
        self.body["runningTaskSlotsCount"] = json!(self.slots_used);
        if let Some(ok) = success {
            self.body["totalTasksRun"] = json!(i(&self.body, "totalTasksRun") + 1);
            if ok {
                self.body["totalTasksSucceeded"] = json!(i(&self.body, "totalTasksSucceeded") + 1);
            }
        }
        if self.running.is_empty() && s(&self.body, "state") == "running" {
            self.set_state("idle");
        }
    }

    /// ComputeNode_Reboot (after its tasks were dealt with): it starts again and reruns its setup.
    pub fn reboot(&mut self, start_delay_ms: i64) {
        // Goes through `rebooting` conceptually; it is reported as `starting` until its setup runs again.
        self.body["state"] = json!("starting");
        self.body["stateTransitionTime"] = json!(now_iso());
        self.body["lastBootTime"] = json!(now_iso());
        self.setup_started = false;
        self.ready_at = now_ms() + start_delay_ms;
    }

    /// The job release task of `jk` runs where the job preparation task ran: true (once) if it
    /// ran on this node.
    pub fn take_prep(&mut self, jk: &str) -> bool {
        self.prep.remove(jk).is_some()
    }

    pub fn set_scheduling(&mut self, enable: bool) {
        self.body["schedulingState"] = json!(if enable { "enabled" } else { "disabled" });
    }

    /// JobPreparation/ReleaseTaskExecutionInformation of a finished run on this node.
    pub fn prep_release_info(&self, dir: &Path, started: &str, o: &Outcome) -> Value {
        let rel = dir
            .strip_prefix(&self.root)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut v = json!({"state": "completed", "startTime": started, "endTime": now_iso(), "retryCount": 0,
            "taskRootDirectory": rel, "taskRootDirectoryUrl": format!("{}/files/{rel}", s(&self.body, "url"))});
        add_outcome(&mut v, o);
        v
    }
}

/// The result of a run in an execution information body: result, exitCode, failureInfo,
/// containerInfo.
fn add_outcome(info: &mut Value, o: &Outcome) {
    info["result"] = json!(if o.failure.is_none() {
        "success"
    } else {
        "failure"
    });
    if let Some(c) = o.exit_code {
        info["exitCode"] = json!(c);
    }
    if let Some(f) = &o.failure {
        info["failureInfo"] = f.to_value();
    }
    if let Some(ci) = &o.container_info {
        info["containerInfo"] = ci.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(targets: (i64, i64)) -> Pool {
        Pool {
            body: json!({"id": "p", "url": "http://x/pools/p", "state": "active", "allocationState": "steady",
                "targetDedicatedNodes": targets.0, "targetLowPriorityNodes": targets.1}),
            nodes: vec![],
            resize_done_at: None,
            delete_done_at: None,
            last_enable_autoscale: None,
            next_autoscale_at: None,
            secrets: Value::Null,
        }
    }

    #[test]
    fn resize_reaches_targets_within_the_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let site = NodeSite {
            nodes_dir: dir.path(),
            start_delay_ms: 0,
        };
        let mut p = pool((3, 1));
        p.begin_resize(0);
        assert_eq!(s(&p.body, "allocationState"), "resizing");
        assert!(p.resize_due(now_ms()));
        let ov = PoolOverride {
            max_nodes: Some(2),
            ..Default::default()
        };
        assert!(p.complete_resize(&ov, &site).is_empty());
        assert_eq!(s(&p.body, "allocationState"), "steady");
        assert_eq!(i(&p.body, "currentDedicatedNodes"), 2);
        assert_eq!(i(&p.body, "currentLowPriorityNodes"), 1);
        assert_eq!(p.body["resizeErrors"][0]["code"], "AllocationFailed");
        assert!(p.nodes.iter().all(|n| n.root.join("startup/wd").is_dir()));

        // A busy node leaves last; its task is handed back.
        p.nodes[0].occupy("j", "t", 1);
        p.body["targetDedicatedNodes"] = json!(1);
        p.begin_resize(0);
        let requeue = p.complete_resize(&PoolOverride::default(), &site);
        assert!(requeue.is_empty());
        assert_eq!(i(&p.body, "currentDedicatedNodes"), 1);
        assert!(p.body.get("resizeErrors").is_none());
        p.remove_nodes(&[p.nodes[0].id().to_string()]);
        assert_eq!(p.targets(), (0, 1));
        let requeue = p.complete_resize(&PoolOverride::default(), &site);
        assert_eq!(requeue, vec![("j".to_string(), "t".to_string())]);
    }

    #[test]
    fn stop_resize_only_while_resizing() {
        let mut p = pool((1, 0));
        assert!(!p.stop_resize());
        p.begin_resize(60_000);
        assert!(p.stop_resize());
        let dir = tempfile::tempdir().unwrap();
        let site = NodeSite {
            nodes_dir: dir.path(),
            start_delay_ms: 0,
        };
        p.complete_resize(&PoolOverride::default(), &site);
        assert!(p.nodes.is_empty());
        assert_eq!(p.body["resizeErrors"][0]["code"], "ResizeStopped");
    }

    #[test]
    fn node_occupancy_and_release() {
        let dir = tempfile::tempdir().unwrap();
        let site = NodeSite {
            nodes_dir: dir.path(),
            start_delay_ms: 0,
        };
        let p = pool((1, 0));
        let mut n = Node::new(&p, true, &site);
        assert!(n.begin_setup(now_ms()));
        assert!(!n.begin_setup(now_ms()));
        n.set_state("idle");
        n.occupy("j", "t", 2);
        assert_eq!(s(&n.body, "state"), "running");
        assert_eq!(n.slots_used, 2);
        n.release("j", "t", 2, Some(true));
        assert_eq!(s(&n.body, "state"), "idle");
        assert_eq!(i(&n.body, "totalTasksSucceeded"), 1);
        // Releasing a task that is not there changes nothing.
        n.release("j", "t", 2, Some(true));
        assert_eq!(i(&n.body, "totalTasksRun"), 1);
    }
}
