//! Shared application state, configuration and the request plumbing common to all operations.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthConfig;
use crate::error::ApiError;
use crate::faults::Faults;
use crate::runtime::{Runners, Runtime};
use crate::state::State;

/// The only api-version this service implements.
pub const API_VERSION: &str = "2024-07-01.20.0";

pub struct App {
    pub auth: AuthConfig,
    pub state: Mutex<State>,
    pub state_path: PathBuf,
    pub data_dir: PathBuf,
    pub faults: std::sync::Mutex<Faults>,
    /// Authenticated Batch requests per operation id, for clients' request budgets
    /// (`/_emulator/requests`).
    pub requests: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
    /// Cancellation of running task processes.
    pub cancels: Runners,
    pub runtime: Runtime,
    /// `http://host:port` of this service (for `url` fields and AZ_BATCH_ACCOUNT_URL).
    pub base_url: String,
    pub allocation_delay: Duration,
    pub node_start_delay: Duration,
    pub delete_delay: Duration,
    /// Job schedule clock speed (1 = real time; a development setting for tests).
    pub schedule_speed: u32,
    pub shutdown: CancellationToken,
}

pub type AppRef = Arc<App>;

/// What a request handler produces.
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
}

pub enum ReplyBody {
    Empty,
    Json(Value),
    Bytes(Vec<u8>, &'static str),
}

impl Reply {
    pub fn status(status: StatusCode) -> Self {
        Reply {
            status,
            headers: vec![],
            body: ReplyBody::Empty,
        }
    }
    pub fn json(status: StatusCode, v: Value) -> Self {
        Reply {
            status,
            headers: vec![],
            body: ReplyBody::Json(v),
        }
    }
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_string(), v.into()));
        self
    }
    /// ETag and Last-Modified of a resource body.
    pub fn resource_headers(mut self, body: &Value) -> Self {
        if let Some(e) = body.get("eTag").and_then(Value::as_str) {
            self.headers.push(("ETag".into(), e.to_string()));
        }
        if let Some(ms) = body
            .get("lastModified")
            .and_then(Value::as_str)
            .and_then(crate::util::parse_iso)
        {
            self.headers
                .push(("Last-Modified".into(), crate::util::http_date(ms)));
        }
        self
    }
    /// Headers of a write: ETag, Last-Modified, DataServiceId (and Location on creates).
    pub fn write_headers(self, body: &Value, created: bool) -> Self {
        let url = body
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut r = self
            .resource_headers(body)
            .header("DataServiceId", url.clone());
        if created {
            r = r.header("Location", url);
        }
        r
    }
}

pub type HandlerResult = Result<Reply, ApiError>;

/// The parsed request handed to operation handlers.
pub struct Req {
    pub method: axum::http::Method,
    pub segments: Vec<String>,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: bytes_like::Bytes,
}

pub mod bytes_like {
    pub type Bytes = axum::body::Bytes;
}

impl Req {
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.get(k).and_then(|v| v.to_str().ok())
    }
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }
    pub fn is_head(&self) -> bool {
        self.method == axum::http::Method::HEAD
    }
    /// Parse the JSON body; `required` bodies must be present.
    pub fn json(&self, definition: &str, required: bool) -> Result<Option<Value>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            if required {
                return Err(ApiError::bad(
                    "MissingRequiredProperty",
                    "The request body is missing.",
                )
                .with("PropertyName", "body"));
            }
            return Ok(None);
        }
        let v: Value = serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad(
                "InvalidRequestBody",
                "The specified Request Body is not syntactically valid.",
            )
            .with("Reason", e.to_string())
        })?;
        crate::schema::validate(definition, &v)?;
        Ok(Some(v))
    }
    pub fn bool_q(&self, k: &str) -> Result<bool, ApiError> {
        match self.q(k) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid_query(k, v, "The value must be true or false.")),
        }
    }
}

pub fn invalid_query(name: &str, value: &str, reason: &str) -> ApiError {
    ApiError::bad(
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
    )
    .with("QueryParameterName", name)
    .with("QueryParameterValue", value)
    .with("Reason", reason)
}

/// Evaluate If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since against a resource.
/// Reads answer 304 where the service does; writes answer 412 ConditionNotMet.
pub fn check_conditions(req: &Req, body: &Value, read: bool) -> Result<Option<Reply>, ApiError> {
    let etag = body.get("eTag").and_then(Value::as_str).unwrap_or("");
    let modified = body
        .get("lastModified")
        .and_then(Value::as_str)
        .and_then(crate::util::parse_iso)
        .unwrap_or(0)
        / 1000;
    let matches = |h: &str| {
        h.split(',')
            .map(|t| t.trim().trim_matches('"'))
            .any(|t| t == "*" || t == etag)
    };
    if let Some(h) = req.header("if-match")
        && !matches(h)
    {
        return Err(ApiError::condition_not_met());
    }
    if let Some(h) = req.header("if-none-match")
        && matches(h)
    {
        if read {
            return Ok(Some(
                Reply::status(StatusCode::NOT_MODIFIED).resource_headers(body),
            ));
        }
        return Err(ApiError::condition_not_met());
    }
    if let Some(ms) = req
        .header("if-unmodified-since")
        .and_then(crate::util::parse_http_date)
        && modified > ms / 1000
    {
        return Err(ApiError::condition_not_met());
    }
    if let Some(ms) = req
        .header("if-modified-since")
        .and_then(crate::util::parse_http_date)
        && modified <= ms / 1000
    {
        if read {
            return Ok(Some(
                Reply::status(StatusCode::NOT_MODIFIED).resource_headers(body),
            ));
        }
        return Err(ApiError::condition_not_met());
    }
    Ok(None)
}

/// Apply `$select` (comma-separated top-level property names) to a body.
pub fn select(req: &Req, mut v: Value) -> Value {
    if let Some(sel) = req.q("$select") {
        let keep: Vec<&str> = sel
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(obj) = v.as_object_mut() {
            obj.retain(|k, _| keep.iter().any(|s| s.eq_ignore_ascii_case(k)));
        }
    }
    v
}

/// Page a list: `maxresults` (1..1000) and `$skiptoken` (offset), with `odata.nextLink`.
pub fn page(app: &App, req: &Req, path: &str, items: Vec<Value>, metadata: &str) -> HandlerResult {
    let max = match req.q("maxresults") {
        None => 1000,
        Some(m) => match m.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(1000) as usize,
            Ok(_) => {
                return Err(invalid_query(
                    "maxresults",
                    m,
                    "MaxResults cannot be less than 1",
                ));
            }
            Err(_) => {
                return Err(invalid_query(
                    "maxresults",
                    m,
                    "The value must be an integer.",
                ));
            }
        },
    };
    let skip = match req.q("$skiptoken") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| invalid_query("$skiptoken", t, "The continuation token is not valid."))?,
    };
    let total = items.len();
    let slice: Vec<Value> = items
        .into_iter()
        .skip(skip)
        .take(max)
        .map(|v| select(req, v))
        .collect();
    let mut out = serde_json::json!({
        "odata.metadata": format!("{}/$metadata#{metadata}", app.base_url),
        "value": slice,
    });
    if skip + max < total {
        let mut link = format!(
            "{}{path}?api-version={API_VERSION}&maxresults={max}&$skiptoken={}",
            app.base_url,
            skip + max
        );
        for k in ["$filter", "$select", "$expand", "recursive"] {
            if let Some(v) = req.q(k) {
                link.push_str(&format!(
                    "&{k}={}",
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ));
            }
        }
        out["odata.nextLink"] = Value::String(link);
    }
    Ok(Reply::json(StatusCode::OK, out))
}

/// A tiny `$filter` evaluator: `prop eq 'v'`, `prop ne 'v'`, `startswith(prop,'v')`, joined by `and`.
pub fn filter_matches(filter: Option<&str>, v: &Value) -> Result<bool, ApiError> {
    let Some(f) = filter else { return Ok(true) };
    for clause in split_and(f) {
        let c = clause.trim();
        let ok = if let Some(rest) = c.strip_prefix("startswith(") {
            let inner = rest.strip_suffix(')').ok_or_else(|| bad_filter(f))?;
            let (prop, lit) = inner.split_once(',').ok_or_else(|| bad_filter(f))?;
            let lit = unquote(lit.trim()).ok_or_else(|| bad_filter(f))?;
            lookup(v, prop.trim()).starts_with(&lit)
        } else {
            let parts: Vec<&str> = c.splitn(3, ' ').collect();
            if parts.len() != 3 {
                return Err(bad_filter(f));
            }
            let lit = unquote(parts[2].trim()).unwrap_or_else(|| parts[2].trim().to_string());
            let actual = lookup(v, parts[0]);
            match parts[1] {
                "eq" => actual.eq_ignore_ascii_case(&lit),
                "ne" => !actual.eq_ignore_ascii_case(&lit),
                _ => return Err(bad_filter(f)),
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn split_and(f: &str) -> Vec<&str> {
    f.split(" and ").collect()
}

fn unquote(s: &str) -> Option<String> {
    s.strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .map(|r| r.replace("''", "'"))
}

fn lookup(v: &Value, path: &str) -> String {
    let mut cur = v;
    for p in path.split('/') {
        cur = &cur[p];
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn bad_filter(f: &str) -> ApiError {
    invalid_query(
        "$filter",
        f,
        "The local Batch service supports only 'prop eq|ne value', 'startswith(prop,value)' and 'and'.",
    )
}

/// Turn a reply into an HTTP response.
pub fn into_response(reply: Reply, head: bool) -> Response {
    let (body, ctype) = match reply.body {
        ReplyBody::Empty => (Vec::new(), None),
        ReplyBody::Json(v) => (
            serde_json::to_vec(&v).unwrap_or_default(),
            Some("application/json;odata=minimalmetadata"),
        ),
        ReplyBody::Bytes(b, ct) => (b, Some(ct)),
    };
    let len = body.len();
    let mut resp = if head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    *resp.status_mut() = reply.status;
    let h = resp.headers_mut();
    if let Some(ct) = ctype {
        h.insert("content-type", HeaderValue::from_static(ct));
    }
    if head && ctype.is_some() {
        h.insert("content-length", HeaderValue::from(len));
    }
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.insert(k, v);
        }
    }
    resp
}
