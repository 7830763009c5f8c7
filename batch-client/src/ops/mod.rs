//! Operations, one module per resource family. All are methods on [`crate::BatchClient`].

mod account;
mod file;
mod job;
mod node;
mod pool;
mod task;

pub use file::{ByteRange, FileContent, FileInfo};

use crate::error::ServiceError;

/// After an ambiguous delete, "not found" or "being deleted" means the delete took effect.
pub(crate) fn delete_done(e: &ServiceError) -> bool {
    e.status == 404 || (e.status == 409 && e.code.to_ascii_lowercase().ends_with("beingdeleted"))
}

/// Nothing can be inferred from an error after an ambiguous attempt.
pub(crate) fn never(_: &ServiceError) -> bool {
    false
}
