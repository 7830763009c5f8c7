//! Typed request and response bodies of the Batch data-plane API (2024-07-01.20.0).
//!
//! Field names on the wire are the service's exact camelCase names. Optional properties are
//! `Option` and omitted when `None`; unknown properties in responses are ignored; enum-like
//! properties are plain `String`s (see the `Wire values` note on each field), so a value added by
//! a newer service version never fails parsing. Date-times and ISO 8601 durations are kept as the
//! strings the service sent.
//!
//! The structs are generated from the official swagger by `tools/gen_models.py`; hand-written
//! helpers live in this file.

mod common;
mod file;
mod image;
mod job;
mod node;
mod pool;
mod schedule;
mod task;

pub use common::*;
pub use file::*;
pub use image::*;
pub use job::*;
pub use node::*;
pub use pool::*;
pub use schedule::*;
pub use task::*;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A write-only secret (registry password, account key, ...). Serializes transparently as its
/// inner value but never shows it in `Debug` output, so models can be logged safely.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T = String>(pub T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }
    /// The secret value; only for sending it to the service.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret<String> {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret<String> {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

/// Wire values of commonly used enum-like string fields.
pub mod values {
    /// `ContainerConfiguration.type`
    pub const DOCKER_COMPATIBLE: &str = "dockerCompatible";
    /// `ContainerConfiguration.type`
    pub const CRI_COMPATIBLE: &str = "criCompatible";
    /// `TaskContainerSettings.workingDirectory`
    pub const TASK_WORKING_DIRECTORY: &str = "taskWorkingDirectory";
    /// `TaskContainerSettings.workingDirectory`
    pub const CONTAINER_IMAGE_DEFAULT: &str = "containerImageDefault";
    /// `CloudPool.allocationState`
    pub const ALLOCATION_STEADY: &str = "steady";
    /// `CloudPool.allocationState`
    pub const ALLOCATION_RESIZING: &str = "resizing";
    /// `CloudPool.allocationState`
    pub const ALLOCATION_STOPPING: &str = "stopping";
    /// `CloudPool.state` / `CloudJob.state` / `CloudTask.state`
    pub const STATE_ACTIVE: &str = "active";
    /// `CloudPool.state` / `CloudJob.state`
    pub const STATE_DELETING: &str = "deleting";
    /// `CloudTask.state` / `CloudJob.state`
    pub const STATE_COMPLETED: &str = "completed";
    /// `CloudTask.state`
    pub const STATE_RUNNING: &str = "running";
    /// `CloudTask.state`
    pub const STATE_PREPARING: &str = "preparing";
    /// `TaskExecutionInformation.result`
    pub const RESULT_SUCCESS: &str = "success";
    /// `TaskExecutionInformation.result`
    pub const RESULT_FAILURE: &str = "failure";
    /// `TaskAddResult.status`
    pub const TASK_ADD_SUCCESS: &str = "success";
    /// `TaskAddResult.status`
    pub const TASK_ADD_CLIENT_ERROR: &str = "clienterror";
    /// `TaskAddResult.status`
    pub const TASK_ADD_SERVER_ERROR: &str = "servererror";
}

/// Case-insensitive comparison of a wire enum value (the service does not always echo the case
/// it was sent, e.g. `nodeFillType` comes back as `Spread`).
pub fn wire_eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl CloudTask {
    /// True when the task reached the `completed` state.
    pub fn is_completed(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| wire_eq(s, values::STATE_COMPLETED))
    }
}

impl CloudPool {
    /// True when the pool's allocation state is `steady`.
    pub fn is_steady(&self) -> bool {
        self.allocation_state
            .as_deref()
            .is_some_and(|s| wire_eq(s, values::ALLOCATION_STEADY))
    }
}
