//! Transitions that involve several resources: tasks and the nodes they run on, jobs and their
//! tasks and auto pools, pools and the tasks on their nodes. Stopping a running task kills its
//! process through [`Runners`].

use serde_json::Value;
use std::path::{Path, PathBuf};

use super::job::TaskNodes;
use super::{JobStep, Node, NodeSite, State, s};
use crate::runtime::{Failure, Outcome, Runners};
use crate::util::now_iso;

/// Where a task runs: its node and the nodes of its subtasks (multi-instance), in one pool.
pub struct Placement {
    pub jk: String,
    pub tk: String,
    pub pk: String,
    pub nid: String,
    /// Nodes of the subtasks of a multi-instance task.
    pub subs: Vec<String>,
}

impl State {
    pub fn node_mut(&mut self, pk: &str, nid: &str) -> Option<&mut Node> {
        self.pools.get_mut(pk).and_then(|p| p.node_mut(nid))
    }

    /// A task leaves its node and the nodes of its subtasks; only the main node counts the run.
    fn release_nodes(
        &mut self,
        (jk, tk): (&str, &str),
        TaskNodes { node, subs, slots }: TaskNodes,
        success: Option<bool>,
    ) {
        if let Some((pk, nid)) = node
            && let Some(n) = self.node_mut(&pk, &nid)
        {
            n.release(jk, tk, slots, success);
        }
        for (pk, nid) in subs {
            if let Some(n) = self.node_mut(&pk, &nid) {
                n.release(jk, tk, slots, None);
            }
        }
    }

    /// After a restart: tasks that were running are requeued (as Batch does when a node reboots)
    /// and nodes that were starting rerun their setup.
    pub fn recover(&mut self) {
        let now = now_iso();
        for job in self.jobs.values_mut() {
            for t in job.tasks.values_mut() {
                if t.is_running() {
                    t.requeue(&now);
                    t.node = None;
                    t.sub_nodes.clear();
                    self.dirty = true;
                }
            }
        }
        for p in self.pools.values_mut() {
            for n in p.nodes.iter_mut() {
                n.recover();
            }
        }
    }

    /// Stop a running task (kill its process). With a failure, the task completes with it;
    /// without, the caller decides what happens to the task (delete).
    pub fn end_running_task(
        &mut self,
        runners: &Runners,
        jk: &str,
        tk: &str,
        failure: Option<Failure>,
    ) {
        let Some(t) = self.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk)) else {
            return;
        };
        if !t.is_running() {
            return;
        }
        runners.cancel(jk, tk);
        let nodes = t.take_nodes();
        if let Some(f) = &failure {
            t.complete(None, Some(f), None);
        }
        self.release_nodes((jk, tk), nodes, Some(false));
        self.dirty = true;
    }

    /// Task_Terminate: a running task is ended, an active one completes, both with a failure.
    pub fn terminate_task(&mut self, runners: &Runners, jk: &str, tk: &str) {
        let why = "The task was terminated by a Task_Terminate request.";
        self.end_running_task(runners, jk, tk, Some(Failure::user("TaskEnded", why)));
        if let Some(t) = self.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk))
            && s(&t.body, "state") == "active"
        {
            t.complete(None, Some(&Failure::user("TaskEnded", why)), None);
        }
    }

    /// A running task goes back to `active` (its process is killed).
    pub fn requeue_task(&mut self, runners: &Runners, jk: &str, tk: &str) {
        runners.cancel(jk, tk);
        let Some(t) = self.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk)) else {
            return;
        };
        if t.is_running() {
            t.requeue(&now_iso());
            let nodes = t.take_nodes();
            self.release_nodes((jk, tk), nodes, None);
            self.dirty = true;
        }
    }

    /// End every running task of a job.
    pub fn stop_job_tasks(&mut self, runners: &Runners, jk: &str, why: &str) {
        let Some(job) = self.jobs.get(jk) else { return };
        for tk in job.running_tasks() {
            self.end_running_task(runners, jk, &tk, Some(Failure::user("TaskEnded", why)));
        }
    }

    /// Move a job to terminating: running tasks are ended; the tick completes it.
    pub fn terminate_job(&mut self, runners: &Runners, jk: &str, reason: &str) {
        self.stop_job_tasks(runners, jk, &format!("The job was terminated ({reason})."));
        let Some(job) = self.jobs.get_mut(jk) else {
            return;
        };
        job.set_state("terminating");
        job.body["executionInfo"]["terminateReason"] = serde_json::json!(reason);
        self.dirty = true;
    }

    /// Job_Disable (the job is `disabled` already): its running tasks are requeued, ended, or
    /// left to finish (`disableTasks`: requeue, terminate, wait).
    pub fn disable_job_tasks(&mut self, runners: &Runners, jk: &str, disable_tasks: &str) {
        let Some(job) = self.jobs.get(jk) else { return };
        let running = job.running_tasks();
        match disable_tasks.to_ascii_lowercase().as_str() {
            "requeue" => {
                for tk in running {
                    self.requeue_task(runners, jk, &tk);
                }
            }
            "terminate" => {
                for tk in running {
                    self.end_running_task(
                        runners,
                        jk,
                        &tk,
                        Some(Failure::user("TaskEnded", "The job was disabled.")),
                    );
                }
            }
            _ => {}
        }
        self.dirty = true;
    }

    /// The tasks running on a node are requeued, or end with `failure`.
    pub fn clear_node(
        &mut self,
        runners: &Runners,
        running: Vec<(String, String)>,
        failure: Option<&str>,
    ) {
        for (jk, tk) in running {
            match failure {
                Some(why) => {
                    self.end_running_task(runners, &jk, &tk, Some(Failure::user("TaskEnded", why)))
                }
                None => self.requeue_task(runners, &jk, &tk),
            }
        }
    }

    /// A pool whose deletion is due goes away with its nodes; their tasks are requeued.
    pub fn remove_pool(&mut self, runners: &Runners, pk: &str) {
        let Some(p) = self.pools.remove(pk) else {
            return;
        };
        for n in &p.nodes {
            for (jk, tk) in n.running.clone() {
                self.requeue_task(runners, &jk, &tk);
            }
            let _ = std::fs::remove_dir_all(&n.root);
        }
        self.dirty = true;
    }

    /// Complete a pool's allocation change; tasks on nodes that left are requeued.
    pub fn complete_resize(&mut self, runners: &Runners, pk: &str, site: &NodeSite) {
        let ov = self.overrides.get(pk).cloned().unwrap_or_default();
        let Some(p) = self.pools.get_mut(pk) else {
            return;
        };
        let requeue = p.complete_resize(&ov, site);
        self.dirty = true;
        for (jk, tk) in requeue {
            self.requeue_task(runners, &jk, &tk);
        }
    }

    /// Carry out a job's due transition (the release tasks were started by the caller).
    pub fn advance_job(&mut self, runners: &Runners, jk: &str, step: JobStep, auto_delete_at: i64) {
        match step {
            JobStep::Remove => {
                if let Some(job) = self.jobs.remove(jk) {
                    for t in job.tasks.values() {
                        if let Some(d) = &t.dir {
                            let _ = std::fs::remove_dir_all(d);
                        }
                    }
                }
                self.dirty = true;
            }
            JobStep::Complete => {
                let Some(job) = self.jobs.get_mut(jk) else {
                    return;
                };
                job.complete();
                if let Some(pk) = job.auto_pool_key()
                    && let Some(p) = self.pools.get_mut(&pk)
                {
                    p.begin_auto_delete(auto_delete_at);
                }
                self.dirty = true;
            }
            JobStep::Terminate(reason) => self.terminate_job(runners, jk, reason),
        }
    }

    /// Retention of completed tasks' directories.
    pub fn expire_task_files(&mut self, now: i64) {
        for job in self.jobs.values_mut() {
            if job.expire_task_files(now) {
                self.dirty = true;
            }
        }
    }

    /// A task starts on the nodes the scheduler chose.
    pub fn place_task(&mut self, a: &Placement, dir: PathBuf, needs_prep: bool, node_info: Value) {
        let Some(t) = self
            .jobs
            .get_mut(&a.jk)
            .and_then(|j| j.tasks.get_mut(&a.tk))
        else {
            return;
        };
        t.begin_attempt((a.pk.clone(), a.nid.clone()), dir, needs_prep, node_info);
        let slots = t.slots;
        if let Some(p) = self.pools.get_mut(&a.pk) {
            for nid in std::iter::once(&a.nid).chain(a.subs.iter()) {
                if let Some(n) = p.node_mut(nid) {
                    n.occupy(&a.jk, &a.tk, slots);
                }
            }
        }
        if let Some(t) = self
            .jobs
            .get_mut(&a.jk)
            .and_then(|j| j.tasks.get_mut(&a.tk))
        {
            t.sub_nodes = a.subs.iter().map(|n| (a.pk.clone(), n.clone())).collect();
            t.subtasks.clear();
        }
        self.dirty = true;
    }

    /// The job preparation task of a task's attempt ended on its node (it ran in `dir`).
    pub fn record_prep(
        &mut self,
        a: &Placement,
        attempt: u64,
        (dir, started): (&Path, &str),
        o: &Outcome,
    ) {
        let ok = o.failure.is_none();
        if let Some(n) = self.node_mut(&a.pk, &a.nid) {
            n.prep.insert(a.jk.clone(), ok);
            let info = n.prep_release_info(dir, started, o);
            n.prep_info.insert(a.jk.clone(), info);
        }
        if ok
            && let Some(t) = self
                .jobs
                .get_mut(&a.jk)
                .and_then(|j| j.tasks.get_mut(&a.tk))
        {
            t.prepared(attempt);
        }
        self.dirty = true;
    }

    /// The job release task of job `jk` ended on a node (it ran in `dir`).
    pub fn record_release(
        &mut self,
        (pk, nid, jk): (&str, &str, &str),
        (dir, started): (&Path, &str),
        o: &Outcome,
    ) {
        if let Some(n) = self.node_mut(pk, nid) {
            let info = n.prep_release_info(dir, started, o);
            n.release_info.insert(jk.to_string(), info);
            self.dirty = true;
        }
    }

    /// The subtasks of a multi-instance task's attempt ended (`SubtaskInformation`).
    pub fn record_subtasks(&mut self, jk: &str, tk: &str, attempt: u64, subtasks: Vec<Value>) {
        if let Some(t) = self.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk))
            && t.attempt == attempt
        {
            t.subtasks = subtasks;
            self.dirty = true;
        }
    }

    /// Record the end of a run: retry, or complete the task (and perform its job action).
    pub fn record_outcome(
        &mut self,
        runners: &Runners,
        jk: &str,
        tk: &str,
        attempt: u64,
        o: &Outcome,
    ) {
        let Some(t) = self.jobs.get_mut(jk).and_then(|j| j.tasks.get_mut(tk)) else {
            return;
        };
        if t.attempt != attempt || !t.is_running() {
            return;
        }
        let nodes = t.take_nodes();
        let ok = o.failure.is_none();
        if !ok && t.retries_after(o) {
            t.retry(o);
        } else {
            t.complete(o.exit_code, o.failure.as_ref(), o.container_info.as_ref());
            let (job_action, _) = super::exit_options(&t.body);
            let performs = self
                .jobs
                .get(jk)
                .is_some_and(|j| j.performs_exit_job_action());
            if performs && job_action.eq_ignore_ascii_case("terminate") {
                self.terminate_job(runners, jk, "TaskFailed");
            } else if performs
                && job_action.eq_ignore_ascii_case("disable")
                && let Some(j) = self.jobs.get_mut(jk)
                && j.state() == "active"
            {
                j.set_state("disabled");
            }
        }
        self.release_nodes((jk, tk), nodes, Some(ok));
        self.dirty = true;
    }

    /// The pool id of a pool key ("" if it is gone).
    pub fn pool_id(&self, pk: &str) -> String {
        self.pools
            .get(pk)
            .map(|p| s(&p.body, "id").to_string())
            .unwrap_or_default()
    }
}
