//! The service's state: pools with their nodes, jobs with their tasks. Resource bodies are kept as
//! the JSON the service returns (`CloudPool`, `ComputeNode`, `CloudJob`, `CloudTask`); fields the
//! service does not return live beside them. The whole state is persisted as one JSON snapshot.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize, Default)]
pub struct State {
    /// Keyed by the lower-cased id: ids are case-insensitive and case-preserving.
    pub pools: BTreeMap<String, Pool>,
    pub jobs: BTreeMap<String, Job>,
    /// Per-pool behaviour overrides set through the admin API (may exist before the pool does).
    #[serde(default)]
    pub overrides: BTreeMap<String, PoolOverride>,
    #[serde(default)]
    pub next_seq: u64,
    #[serde(skip)]
    pub dirty: bool,
}

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
    /// Password-bearing fields are not returned by the service; kept here for completeness only.
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
