//! The service's state: pools with their nodes, jobs with their tasks. Resource bodies are kept as
//! the JSON the service returns (`CloudPool`, `ComputeNode`, `CloudJob`, `CloudTask`); fields the
//! service does not return live beside them. The whole state is persisted as one JSON snapshot.
//!
//! Each kind of resource owns its transitions as methods: [`pool`] (pools and nodes) and [`job`]
//! (jobs and tasks). Transitions that involve several resources (a task leaving its node, a job
//! ending its tasks, a pool going away with its nodes) are methods of [`State`] here and in
//! [`transitions`].

mod job;
mod pool;
mod schedule;
mod transitions;

pub use job::{EMPTY_JOB_GRACE_MS, Job, JobStep, Task, exit_options, pool_key_of};
pub use pool::{Node, NodeSite, Pool, PoolOverride};
pub use schedule::{JobSchedule, ScheduleStep};
pub use transitions::Placement;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Serialize, Deserialize, Default)]
pub struct State {
    /// Keyed by the lower-cased id: ids are case-insensitive and case-preserving.
    pub pools: BTreeMap<String, Pool>,
    pub jobs: BTreeMap<String, Job>,
    /// Job schedules, keyed like jobs.
    #[serde(default)]
    pub schedules: BTreeMap<String, JobSchedule>,
    /// Per-pool behaviour overrides set through the admin API (may exist before the pool does).
    #[serde(default)]
    pub overrides: BTreeMap<String, PoolOverride>,
    #[serde(default)]
    pub next_seq: u64,
    #[serde(skip)]
    pub dirty: bool,
}

impl State {
    pub fn load(path: &Path) -> anyhow::Result<State> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Write the snapshot atomically (temp file + rename) if anything changed.
    pub fn save_if_dirty(&mut self, path: &Path) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let tmp = path.with_extension("json.tmp");
        let res = serde_json::to_vec(self)
            .map_err(anyhow::Error::from)
            .and_then(|b| std::fs::write(&tmp, b).map_err(Into::into))
            .and_then(|_| std::fs::rename(&tmp, path).map_err(Into::into));
        if let Err(e) = res {
            tracing::error!("cannot persist state to {}: {e:#}", path.display());
        }
    }

    pub fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

/// Helpers to read fields of the JSON bodies.
pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}
pub fn i(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}
pub fn b(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(false)
}
