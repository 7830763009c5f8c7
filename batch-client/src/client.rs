//! The client: configuration, request building, signing, the retry loop and tracing.

use crate::auth::{Auth, Authorizer};
use crate::error::{BatchError, Result, ServiceError};
use crate::recovery::{Failure, Recovery};
use crate::retry::{RetryPolicy, RetryState, is_retryable_status, retry_after};
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

/// The data-plane API version this client speaks.
pub const API_VERSION: &str = "2024-07-01.20.0";
/// Content type of request bodies, exactly as the spec's `consumes` says (and as signed).
pub const CONTENT_TYPE: &str = "application/json; odata=minimalmetadata";

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Account endpoint, e.g. `https://myaccount.westeurope.batch.azure.com`. Must be https,
    /// except http on loopback (127.0.0.0/8, ::1, localhost) for the local service.
    pub endpoint: String,
    /// Authentication.
    pub auth: Auth,
    /// Timeout of one HTTP attempt (connect + response + body). Default 60 s.
    pub attempt_timeout: Duration,
    /// Deadline used when [`RequestOptions::deadline`] is `None`. Default 5 min.
    pub default_deadline: Duration,
    /// Backoff settings.
    pub retry: RetryPolicy,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Extra trusted root certificates (PEM), e.g. a private CA or a test server's certificate.
    /// Trusted in addition to the OS store and the bundled roots (see [`crate::tls`]); used for
    /// the Batch endpoint and for Entra ID token requests.
    pub root_certificates_pem: Vec<Vec<u8>>,
}

impl ClientConfig {
    /// Settings with defaults for everything but the endpoint and auth.
    pub fn new(endpoint: impl Into<String>, auth: Auth) -> Self {
        Self {
            endpoint: endpoint.into(),
            auth,
            attempt_timeout: Duration::from_secs(60),
            default_deadline: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            user_agent: concat!("batch-client-rs/", env!("CARGO_PKG_VERSION")).to_string(),
            root_certificates_pem: Vec::new(),
        }
    }
}

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Bounds the whole call including all retries; `None` = now + `ClientConfig::default_deadline`.
    pub deadline: Option<Instant>,
    /// Sends `If-Match` (optimistic concurrency) on operations that accept it.
    pub if_match: Option<String>,
    /// Aborts the call (including backoff sleeps) with [`BatchError::Cancelled`].
    pub cancel: Option<CancellationToken>,
}

impl RequestOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets an absolute deadline.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }
    /// Sets the deadline to now + `d`.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.deadline = Some(Instant::now() + d);
        self
    }
    /// Sets `If-Match`.
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }
    /// Sets the cancellation token.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// OData query options of list operations (`$filter`, `$select`, `$expand`, `maxresults`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// `$filter`, e.g. `startswith(id,'web')` or `verificationType eq 'verified'`.
    pub filter: Option<String>,
    /// `$select`, a comma-separated property list.
    pub select: Option<String>,
    /// `$expand`, e.g. `stats`.
    pub expand: Option<String>,
    /// `maxresults` page size (1..1000).
    pub max_results: Option<u32>,
}

impl ListQuery {
    /// A query with only `$filter`.
    pub fn filter(filter: impl Into<String>) -> Self {
        Self {
            filter: Some(filter.into()),
            ..Self::default()
        }
    }
}

/// An object read from the service with its version headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The object.
    pub value: T,
    /// `ETag` response header (use with [`RequestOptions::if_match`]).
    pub etag: Option<String>,
    /// `Last-Modified` response header (RFC 1123).
    pub last_modified: Option<String>,
}

/// Result of a write (create, update, delete, action).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteInfo {
    /// HTTP status of the final response (e.g. 201, 200, 202, 204).
    pub status: u16,
    /// New `ETag`, when the service sent one.
    pub etag: Option<String>,
    /// `Last-Modified`, when sent.
    pub last_modified: Option<String>,
    /// `request-id` of the final response.
    pub request_id: Option<String>,
    /// True when an ambiguous earlier attempt was found to have taken effect: a create whose
    /// retry met `…Exists` and whose existing object matched what was sent, or a delete /
    /// terminate whose retry found the work already done.
    pub adopted: bool,
}

/// Azure Batch data-plane client. Cheap to clone (shares one connection pool).
#[derive(Clone)]
pub struct BatchClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for BatchClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchClient")
            .field("endpoint", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) authorizer: Authorizer,
    pub(crate) attempt_timeout: Duration,
    pub(crate) default_deadline: Duration,
    pub(crate) retry: RetryPolicy,
}

/// Checks the endpoint: https anywhere, http only on loopback.
pub fn validate_endpoint(endpoint: &str) -> Result<Url> {
    let url = Url::parse(endpoint.trim()).map_err(|e| {
        BatchError::Config(format!(
            "account_endpoint {endpoint:?} is not a valid URL ({e}); expected e.g. https://<account>.<region>.batch.azure.com"
        ))
    })?;
    let host = url.host_str().unwrap_or("");
    if host.is_empty() {
        return Err(BatchError::Config(format!(
            "account_endpoint {endpoint:?} has no host; expected e.g. https://<account>.<region>.batch.azure.com"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(BatchError::Config(format!(
                "account_endpoint {endpoint:?} uses http, which is only allowed for loopback addresses (127.0.0.1, ::1, localhost); use https://"
            )));
        }
        other => {
            return Err(BatchError::Config(format!(
                "account_endpoint {endpoint:?} has unsupported scheme {other:?}; use https://"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(BatchError::Config(format!(
            "account_endpoint {endpoint:?} must not contain a query or fragment"
        )));
    }
    Ok(url)
}

fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Appends `name=value` with the value percent-encoded (space as `%20`, not `+`: servers differ
/// on whether `+` in a query means a space, and the signature covers the decoded value).
pub(crate) fn append_query(url: &mut Url, name: &str, value: &str) {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // byte_serialize writes a space as '+' and a literal '+' as %2B, so this swap is exact.
    let pair = format!(
        "{}={}",
        enc(name).replace("%24", "$"),
        enc(value).replace('+', "%20")
    );
    let query = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&{pair}"),
        _ => pair,
    };
    url.set_query(Some(&query));
}

/// A request before signing.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<Bytes>,
    pub(crate) if_match: Option<String>,
    pub(crate) headers: Vec<(HeaderName, String)>,
}

/// A fully read response.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub(crate) fn service_error(&self) -> ServiceError {
        ServiceError::from_response(self.status, &self.body, self.header("request-id"))
    }
    pub(crate) fn into_error(self) -> BatchError {
        BatchError::service_error(self.service_error())
    }
    pub(crate) fn write_info(&self, adopted: bool) -> WriteInfo {
        WriteInfo {
            status: self.status,
            etag: self.header("etag"),
            last_modified: self.header("last-modified"),
            request_id: self.header("request-id"),
            adopted,
        }
    }
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            BatchError::Decode(format!(
                "HTTP {} body is not the expected JSON ({e})",
                self.status
            ))
        })
    }
}

/// The final response of a call plus whether an earlier attempt may have taken effect.
pub(crate) struct Outcome {
    pub(crate) resp: Resp,
    /// An earlier attempt failed in a way that leaves open whether the service acted on it
    /// (timeout or dropped connection after sending, or a 5xx).
    pub(crate) ambiguous: bool,
}

enum Attempt {
    Response(Resp),
    Failed { error: BatchError, ambiguous: bool },
}

impl BatchClient {
    /// Creates a client. Fails with [`BatchError::Config`] on a bad endpoint or credential setup.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let base = validate_endpoint(&config.endpoint)?;
        crate::install_crypto_provider();
        // Proxies come from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY (reqwest's default,
        // which nothing here turns off).
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .use_preconfigured_tls(crate::tls::client_config(&config.root_certificates_pem)?)
            .build()
            .map_err(|e| BatchError::Config(format!("cannot build the HTTP client: {e}")))?;
        let authorizer = Authorizer::build(config.auth, &http)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                authorizer,
                attempt_timeout: config.attempt_timeout,
                default_deadline: config.default_deadline,
                retry: config.retry,
            }),
        })
    }

    /// The validated account endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.inner.base
    }

    /// URL of `segments` under the endpoint (each segment percent-encoded), with `api-version`.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        {
            let mut p = url.path_segments_mut().expect("http(s) URLs have a path");
            p.pop_if_empty();
            for s in segments {
                p.push(s);
            }
        }
        append_query(&mut url, "api-version", API_VERSION);
        url
    }

    pub(crate) fn deadline(&self, opts: &RequestOptions) -> Instant {
        opts.deadline
            .unwrap_or_else(|| Instant::now() + self.inner.default_deadline)
    }

    /// Sends `req`, retrying transient failures until success, a non-retryable status, the
    /// attempt limit, the deadline or cancellation. Non-2xx statuses are returned as responses.
    pub(crate) async fn send(&self, req: &Req, opts: &RequestOptions) -> Result<Outcome> {
        let mut state = RetryState::new(self.deadline(opts));
        self.send_with_state(req, opts, &mut state).await
    }

    pub(crate) async fn send_with_state(
        &self,
        req: &Req,
        opts: &RequestOptions,
        state: &mut RetryState,
    ) -> Result<Outcome> {
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let mut ambiguous = false;
        loop {
            if opts.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                return Err(BatchError::Cancelled);
            }
            let now = Instant::now();
            if now >= state.deadline {
                let last = state.last.take();
                return Err(state.deadline_error(last, None));
            }
            state.attempts += 1;
            let budget = (state.deadline - now).min(self.inner.attempt_timeout);
            let attempt = self.attempt(req, &client_request_id, state.attempts, budget);
            let result = match &opts.cancel {
                Some(c) => tokio::select! {
                    _ = c.cancelled() => return Err(BatchError::Cancelled),
                    r = attempt => r,
                },
                None => attempt.await,
            };
            let (error, hint, this_ambiguous) = match result {
                Attempt::Response(resp) if is_retryable_status(resp.status) => {
                    let hint = retry_after(&resp.headers);
                    // 429 means "not processed"; a 5xx or 408 may have been acted on.
                    let amb = resp.status != 429;
                    (resp.into_error(), hint, amb)
                }
                Attempt::Response(resp) => return Ok(Outcome { resp, ambiguous }),
                Attempt::Failed {
                    error: e @ (BatchError::Auth(_) | BatchError::Config(_)),
                    ..
                } => return Err(e),
                Attempt::Failed { error, .. } if error.is_tls_failure() => return Err(error),
                Attempt::Failed { error, ambiguous } => (error, None, ambiguous),
            };
            ambiguous |= this_ambiguous;
            state
                .wait(&self.inner.retry, hint, error, opts.cancel.as_ref())
                .await?;
        }
    }

    async fn attempt(&self, req: &Req, crid: &str, attempt: u32, budget: Duration) -> Attempt {
        let started = Instant::now();
        let path = req.url.path().to_string();
        // Building includes getting an Entra ID token, so it shares the attempt's time budget.
        let built = match tokio::time::timeout(budget, self.build(req, crid)).await {
            Ok(Ok(r)) => r,
            Ok(Err(error)) => {
                return Attempt::Failed {
                    error,
                    ambiguous: false,
                };
            }
            Err(_) => {
                return Attempt::Failed {
                    error: BatchError::Transport {
                        message: format!("getting an access token timed out after {budget:?}"),
                        source: None,
                    },
                    ambiguous: false,
                };
            }
        };
        let budget = budget.saturating_sub(started.elapsed());
        let http = self.inner.http.clone();
        let exchange = async move {
            let rsp = http.execute(built).await?;
            let status = rsp.status().as_u16();
            let headers = rsp.headers().clone();
            let body = rsp.bytes().await?;
            Ok::<_, reqwest::Error>(Resp {
                status,
                headers,
                body,
            })
        };
        let result = tokio::time::timeout(budget, exchange).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(Ok(resp)) => {
                tracing::debug!(
                    method = %req.method,
                    path = %path,
                    status = resp.status,
                    request_id = resp.header("request-id").unwrap_or_default(),
                    client_request_id = crid,
                    attempt,
                    elapsed_ms,
                    "batch request"
                );
                Attempt::Response(resp)
            }
            Ok(Err(e)) => {
                // A connect failure means nothing reached the service; anything later may have.
                let ambiguous = !e.is_connect();
                let e = e.without_url();
                tracing::debug!(
                    method = %req.method,
                    path = %path,
                    client_request_id = crid,
                    attempt,
                    elapsed_ms,
                    ambiguous,
                    error = %e,
                    "batch request failed"
                );
                let what = format!(
                    "{} {}{} failed: {}",
                    req.method,
                    req.url.origin().ascii_serialization(),
                    path,
                    crate::tls::describe(&e)
                );
                Attempt::Failed {
                    error: BatchError::transport(what, e),
                    ambiguous,
                }
            }
            Err(_) => {
                tracing::debug!(
                    method = %req.method,
                    path = %path,
                    client_request_id = crid,
                    attempt,
                    elapsed_ms,
                    "batch request timed out"
                );
                Attempt::Failed {
                    error: BatchError::Transport {
                        message: format!("{} {} timed out after {budget:?}", req.method, path),
                        source: None,
                    },
                    ambiguous: true,
                }
            }
        }
    }

    /// Builds the reqwest request with all protocol headers and the Authorization header.
    async fn build(&self, req: &Req, crid: &str) -> Result<reqwest::Request> {
        let mut headers = HeaderMap::new();
        let hv = |v: &str| {
            HeaderValue::from_str(v)
                .map_err(|_| BatchError::Config(format!("invalid header value {v:?}")))
        };
        headers.insert("client-request-id", hv(crid)?);
        headers.insert("return-client-request-id", HeaderValue::from_static("true"));
        headers.insert("ocp-date", hv(&httpdate::fmt_http_date(SystemTime::now()))?);
        headers.insert("accept", HeaderValue::from_static("application/json"));
        let needs_body = matches!(req.method, Method::POST | Method::PUT | Method::PATCH);
        if let Some(body) = &req.body {
            headers.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
            headers.insert("content-length", hv(&body.len().to_string())?);
        } else if needs_body {
            // Bodiless POSTs (stopresize, terminate, ...) send and sign an explicit zero length.
            headers.insert("content-length", HeaderValue::from_static("0"));
        }
        if let Some(etag) = &req.if_match {
            headers.insert("if-match", hv(etag)?);
        }
        for (name, value) in &req.headers {
            headers.insert(name.clone(), hv(value)?);
        }
        match &self.inner.authorizer {
            Authorizer::SharedKey(cred) => {
                let auth = cred.authorization(req.method.as_str(), &req.url, &headers);
                let mut v = hv(&auth)?;
                v.set_sensitive(true);
                headers.insert("authorization", v);
            }
            Authorizer::Token {
                credential,
                scope,
                source,
            } => {
                let token = Authorizer::bearer(credential, scope, source).await?;
                let mut v = hv(&format!("Bearer {token}"))
                    .map_err(|_| BatchError::Auth("token is not a valid header value".into()))?;
                v.set_sensitive(true);
                headers.insert("authorization", v);
            }
            Authorizer::None => {}
        }
        let mut r = reqwest::Request::new(req.method.clone(), req.url.clone());
        *r.headers_mut() = headers;
        if let Some(body) = &req.body {
            *r.body_mut() = Some(reqwest::Body::from(body.clone()));
        } else if needs_body {
            *r.body_mut() = Some(reqwest::Body::from(Bytes::new()));
        }
        Ok(r)
    }

    // ---- helpers used by the operation modules ----

    pub(crate) fn req(&self, method: Method, url: Url) -> Req {
        Req {
            method,
            url,
            body: None,
            if_match: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn json_body<B: Serialize>(body: &B) -> Result<Bytes> {
        serde_json::to_vec(body)
            .map(Bytes::from)
            .map_err(|e| BatchError::Decode(format!("cannot serialize request body: {e}")))
    }

    /// GET a JSON object; 404 → `Ok(None)`.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        url: Url,
        opts: &RequestOptions,
    ) -> Result<Option<Versioned<T>>> {
        let req = self.req(Method::GET, url);
        let out = self.send(&req, opts).await?;
        let resp = out.resp;
        if resp.status == 404 {
            return Ok(None);
        }
        if !resp.is_success() {
            return Err(resp.into_error());
        }
        Ok(Some(Versioned {
            value: resp.json()?,
            etag: resp.header("etag"),
            last_modified: resp.header("last-modified"),
        }))
    }

    /// A write with optional JSON body. `recovery` says how to recognise, after an ambiguous
    /// earlier attempt, that a failed retry means the first attempt took effect (see
    /// [`crate::recovery`]).
    pub(crate) async fn write<B: Serialize>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        if_match: bool,
        opts: &RequestOptions,
        recovery: Recovery,
    ) -> Result<WriteInfo> {
        let opts = RequestOptions {
            deadline: Some(self.deadline(opts)),
            ..opts.clone()
        };
        let mut req = self.req(method, url);
        if let Some(b) = body {
            req.body = Some(Self::json_body(b)?);
        }
        if if_match {
            req.if_match = opts.if_match.clone();
        }
        let out = self.send(&req, &opts).await?;
        if out.resp.is_success() {
            return Ok(out.resp.write_info(false));
        }
        let failure = Failure::response(&out.resp, out.ambiguous);
        self.settle(failure, &recovery, &opts).await?.into_result()
    }

    /// GET every page of a list operation, following `odata.nextLink`.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        url: Url,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<T>> {
        let mut pages = self.list_pages(url, query, opts);
        let mut items = Vec::new();
        while let Some(page) = pages.next_page().await? {
            items.extend(page);
        }
        Ok(items)
    }

    /// The pages of a list operation one at a time, for callers that may stop early.
    pub(crate) fn list_pages<T: DeserializeOwned>(
        &self,
        mut url: Url,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> ListPages<'_, T> {
        if let Some(f) = &query.filter {
            append_query(&mut url, "$filter", f);
        }
        if let Some(s) = &query.select {
            append_query(&mut url, "$select", s);
        }
        if let Some(e) = &query.expand {
            append_query(&mut url, "$expand", e);
        }
        if let Some(m) = query.max_results {
            append_query(&mut url, "maxresults", &m.to_string());
        }
        // One deadline for all pages.
        let opts = RequestOptions {
            deadline: Some(self.deadline(opts)),
            ..opts.clone()
        };
        ListPages {
            client: self,
            next: Some(url),
            opts,
            pages: 0,
            _item: std::marker::PhantomData,
        }
    }

    /// Resolves an `odata.nextLink`; refuses links to another origin so credentials are never
    /// sent elsewhere.
    fn next_link(&self, link: &str) -> Result<Url> {
        let u = self
            .inner
            .base
            .join(link)
            .map_err(|e| BatchError::Decode(format!("invalid odata.nextLink {link:?}: {e}")))?;
        if u.origin() != self.inner.base.origin() {
            return Err(BatchError::Decode(format!(
                "odata.nextLink points to another host ({}); refusing to follow it",
                u.origin().ascii_serialization()
            )));
        }
        Ok(u)
    }
}

/// A list operation read page by page (`odata.nextLink` followed); see e.g.
/// [`BatchClient::pool_pages`].
pub struct ListPages<'a, T> {
    client: &'a BatchClient,
    next: Option<Url>,
    opts: RequestOptions,
    pages: u32,
    _item: std::marker::PhantomData<T>,
}

impl<T: DeserializeOwned> ListPages<'_, T> {
    /// The next page, or None after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        #[derive(serde::Deserialize)]
        struct Page<T> {
            #[serde(default = "Vec::new")]
            value: Vec<T>,
            #[serde(rename = "odata.nextLink", default)]
            next_link: Option<String>,
        }
        let Some(u) = self.next.take() else {
            return Ok(None);
        };
        self.pages += 1;
        if self.pages > 10_000 {
            return Err(BatchError::Decode(
                "more than 10000 pages; giving up".into(),
            ));
        }
        let c = self.client;
        let out = c.send(&c.req(Method::GET, u), &self.opts).await?;
        if !out.resp.is_success() {
            return Err(out.resp.into_error());
        }
        let page: Page<T> = out.resp.json()?;
        if let Some(link) = page.next_link.filter(|l| !l.is_empty()) {
            self.next = Some(c.next_link(&link)?);
        }
        Ok(Some(page.value))
    }
}
