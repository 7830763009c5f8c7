//! Azure Batch data-plane client (API `2024-07-01.20.0`). Knows Batch, not Terraform.
//!
//! * [`models`]: typed request/response bodies with the service's exact wire names.
//! * [`BatchClient`]: async operations on pools, jobs, tasks, nodes, files and images. Every
//!   call takes [`RequestOptions`] (deadline bounding all retries, `If-Match`, cancellation).
//! * [`auth`]: Shared Key signing and Microsoft Entra ID tokens (`azure_identity`).
//! * Retries: exponential backoff with full jitter on 408/429/5xx and connection failures,
//!   honouring `Retry-After`. Creates are safe to retry (see [`idempotent`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), batch_client::BatchError> {
//! use batch_client::{Auth, BatchClient, ClientConfig, RequestOptions};
//! let auth = Auth::shared_key("devbatch", "aGVsbG8=")?;
//! let client = BatchClient::new(ClientConfig::new("http://127.0.0.1:10100", auth))?;
//! let pool = client.get_pool("p1", &RequestOptions::new()).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod auth;
mod client;
pub mod error;
pub mod idempotent;
pub mod models;
mod ops;
mod recovery;
pub mod retry;
pub mod tls;

pub use auth::{Auth, BATCH_SCOPE, EntraConfig, EntraCredentialKind, SharedKeyCredential};
pub use client::{
    API_VERSION, BatchClient, CONTENT_TYPE, ClientConfig, ListPages, ListQuery, RequestOptions,
    Versioned, WriteInfo, validate_endpoint,
};
pub use error::{BatchError, Result, ServiceError};
pub use models::Secret;
pub use ops::{
    ByteRange, COLLECTION_CHUNKS_IN_FLIGHT, FileContent, FileInfo, MAX_COLLECTION_BYTES,
    MAX_TASKS_PER_COLLECTION, chunk_tasks,
};
pub use retry::RetryPolicy;
pub use tokio_util::sync::CancellationToken;

/// Makes aws-lc-rs the process's rustls crypto provider unless one is installed already.
///
/// reqwest is built without a crypto provider of its own (its default would add ring beside
/// aws-lc-rs) and takes the process default; [`BatchClient::new`] calls this, and so must any
/// other code of the process that builds a `reqwest::Client` first.
pub fn install_crypto_provider() {
    // Err only means a provider is installed already, which is all that is needed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
