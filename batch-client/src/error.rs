//! Error type of every client call.

use crate::models::BatchErrorBody;
use std::fmt;
use std::time::Duration;

/// An error returned by the Batch service: HTTP status plus the parsed `BatchError` body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceError {
    /// HTTP status code.
    pub status: u16,
    /// Batch error code, e.g. `PoolNotFound` (empty when the body had none, e.g. on HEAD).
    pub code: String,
    /// Human-readable message from `message.value`.
    pub message: String,
    /// `values[]` as (key, value) pairs, e.g. `("PropertyName", "subnetId")`.
    pub values: Vec<(String, String)>,
    /// The service's `request-id` response header, for support cases.
    pub request_id: Option<String>,
}

impl ServiceError {
    /// Builds a service error from a status and a response body (which may be empty or not JSON).
    pub fn from_response(status: u16, body: &[u8], request_id: Option<String>) -> Self {
        let parsed: Option<BatchErrorBody> = serde_json::from_slice(body).ok();
        let (code, message, values) = match parsed {
            Some(b) => (
                b.code.unwrap_or_default(),
                b.message.and_then(|m| m.value).unwrap_or_default(),
                b.values
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| (v.key.unwrap_or_default(), v.value.unwrap_or_default()))
                    .collect(),
            ),
            None => (
                String::new(),
                String::from_utf8_lossy(body)
                    .trim()
                    .chars()
                    .take(500)
                    .collect(),
                Vec::new(),
            ),
        };
        ServiceError {
            status,
            code,
            message,
            values,
            request_id,
        }
    }

    /// Builds a service error from an inline `TaskAddResult.error` body.
    pub fn from_body(status: u16, body: &BatchErrorBody) -> Self {
        ServiceError {
            status,
            code: body.code.clone().unwrap_or_default(),
            message: body
                .message
                .as_ref()
                .and_then(|m| m.value.clone())
                .unwrap_or_default(),
            values: body
                .values
                .iter()
                .flatten()
                .map(|v| {
                    (
                        v.key.clone().unwrap_or_default(),
                        v.value.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            request_id: None,
        }
    }

    /// The value of `values[]` entry `key` (case-insensitive), e.g. `"PropertyName"`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = if self.code.is_empty() {
            "(no error code)"
        } else {
            &self.code
        };
        write!(f, "Batch service error {code} (HTTP {})", self.status)?;
        // The service appends "\nRequestId:...\nTime:..." to messages; keep only the first line.
        let msg = self.message.lines().next().unwrap_or("").trim();
        if !msg.is_empty() {
            write!(f, ": {msg}")?;
        }
        for (k, v) in &self.values {
            write!(f, "; {k}={v}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request-id {id}]")?;
        }
        Ok(())
    }
}

/// Every way a client call can fail.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The service answered with an error status (after retries, where retryable).
    #[error("{0}")]
    Service(Box<ServiceError>),
    /// The request could not be sent or the response not received (connection, TLS, timeout).
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The caller's deadline passed before the call succeeded; `last` is the last attempt's error.
    #[error("deadline exceeded after {attempts} attempt(s) over {elapsed:?}{}{}",
        retry_after.map(|d| format!("; the service asked to retry after {d:?} (Retry-After), which is past the deadline")).unwrap_or_default(),
        last.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    DeadlineExceeded {
        /// Number of attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The service's `Retry-After` when waiting for it would have passed the deadline (the
        /// call then fails at once instead of sleeping into the deadline).
        retry_after: Option<Duration>,
        /// The error of the last attempt, when there was one.
        last: Option<Box<BatchError>>,
    },
    /// The caller's cancellation token fired.
    #[error("request cancelled")]
    Cancelled,
    /// Getting a Microsoft Entra ID token failed or Shared Key signing was impossible.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Invalid client configuration (endpoint, key, ...); the message names the setting and the fix.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The service answered with a body this client could not understand.
    #[error("invalid response from the Batch service: {0}")]
    Decode(String),
}

impl BatchError {
    /// The service error, if this is one (also looks through `DeadlineExceeded`).
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            BatchError::Service(s) => Some(s),
            BatchError::DeadlineExceeded { last: Some(l), .. } => l.service(),
            _ => None,
        }
    }
    /// HTTP status of a service error.
    pub fn status(&self) -> Option<u16> {
        self.service().map(|s| s.status)
    }
    /// Batch error code of a service error (e.g. `PoolExists`).
    pub fn code(&self) -> Option<&str> {
        self.service().map(|s| s.code.as_str())
    }
    /// True for a service error with the given code (case-insensitive).
    pub fn is_code(&self, code: &str) -> bool {
        self.code().is_some_and(|c| c.eq_ignore_ascii_case(code))
    }
    /// True for a 404 (e.g. `PoolNotFound`, `JobNotFound`, `TaskNotFound`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, BatchError::Service(s) if s.status == 404)
    }
    /// True for a 409 (e.g. `PoolExists`, `PoolBeingDeleted`).
    pub fn is_conflict(&self) -> bool {
        matches!(self, BatchError::Service(s) if s.status == 409)
    }
    /// True for a 412 `ConditionNotMet` (If-Match ETag no longer current).
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, BatchError::Service(s) if s.status == 412)
    }
    /// True when the call was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, BatchError::Cancelled)
    }
    /// True when the deadline passed.
    pub fn is_deadline_exceeded(&self) -> bool {
        matches!(self, BatchError::DeadlineExceeded { .. })
    }

    /// True for a transport failure that no retry can fix: the TLS handshake failed or the
    /// server's certificate was rejected.
    pub fn is_tls_failure(&self) -> bool {
        match self {
            BatchError::Transport {
                source: Some(s), ..
            } => crate::tls::is_tls_failure(s.as_ref()),
            _ => false,
        }
    }

    /// A short description for logs: status and code only for service errors, since service
    /// messages may echo request values.
    pub(crate) fn log_summary(&self) -> String {
        match self {
            BatchError::Service(s) => format!("HTTP {} {}", s.status, s.code),
            other => other.to_string(),
        }
    }

    pub(crate) fn service_error(e: ServiceError) -> Self {
        BatchError::Service(Box::new(e))
    }

    pub(crate) fn transport(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        BatchError::Transport {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Result alias used by the client.
pub type Result<T, E = BatchError> = std::result::Result<T, E>;
