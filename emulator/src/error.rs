//! The service's error body (`BatchError`) and the codes the emulator answers with.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub values: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            values: vec![],
        }
    }
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.values.push((key.to_string(), value.into()));
        self
    }
    pub fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn invalid_property(name: &str, value: Option<&str>, reason: &str) -> Self {
        let mut e = Self::bad(
            "InvalidPropertyValue",
            "The value provided for one of the properties in the request body is invalid.",
        )
        .with("PropertyName", name);
        if let Some(v) = value {
            e = e.with("PropertyValue", v);
        }
        e.with("Reason", reason)
    }
    pub fn missing_property(name: &str) -> Self {
        Self::bad(
            "MissingRequiredProperty",
            "A required property was not specified in the request body.",
        )
        .with("PropertyName", name)
    }
    pub fn pool_not_found() -> Self {
        Self::not_found("PoolNotFound", "The specified pool does not exist.")
    }
    pub fn job_not_found() -> Self {
        Self::not_found("JobNotFound", "The specified job does not exist.")
    }
    pub fn task_not_found() -> Self {
        Self::not_found("TaskNotFound", "The specified task does not exist.")
    }
    pub fn node_not_found() -> Self {
        Self::not_found("NodeNotFound", "The specified node does not exist.")
    }
    pub fn condition_not_met() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "ConditionNotMet",
            "The condition specified using HTTP conditional header(s) is not met.",
        )
    }

    /// The JSON body, with the request id and time appended to the message like the service does.
    pub fn body(&self, account_url: &str, request_id: &str) -> Value {
        let mut v = json!({
            "odata.metadata": format!("{account_url}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"),
            "code": self.code,
            "message": {"lang": "en-US", "value": format!("{}\nRequestId:{}\nTime:{}", self.message, request_id, crate::util::now_iso())},
        });
        if !self.values.is_empty() {
            v["values"] = Value::Array(
                self.values
                    .iter()
                    .map(|(k, val)| json!({"key": k, "value": val}))
                    .collect(),
            );
        }
        v
    }

    /// A response without the request context (used where the context is added by the caller).
    pub fn into_response_with(self, account_url: &str, request_id: &str, head: bool) -> Response {
        let status = self.status;
        if head {
            return status.into_response();
        }
        let body = serde_json::to_vec(&self.body(account_url, request_id)).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/json;odata=minimalmetadata"),
        );
        r
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
