//! Operations, one module per resource family. All are methods on [`crate::BatchClient`].

mod account;
mod file;
mod job;
mod node;
mod pool;
mod schedule;
mod task;

pub use file::{ByteRange, FileContent, FileInfo};
pub use task::{
    COLLECTION_CHUNKS_IN_FLIGHT, MAX_COLLECTION_BYTES, MAX_TASKS_PER_COLLECTION, chunk_tasks,
};

use crate::error::ServiceError;

/// After an ambiguous delete, "not found" or "being deleted" means the delete took effect.
pub(crate) fn delete_done(e: &ServiceError) -> bool {
    e.status == 404 || (e.status == 409 && e.code.to_ascii_lowercase().ends_with("beingdeleted"))
}

/// A request body as JSON, for read-back comparison.
pub(crate) fn to_value<B: serde::Serialize>(b: &B) -> crate::Result<serde_json::Value> {
    serde_json::to_value(b)
        .map_err(|e| crate::BatchError::Decode(format!("cannot serialize request body: {e}")))
}
