//! Local Batch-compatible service.
