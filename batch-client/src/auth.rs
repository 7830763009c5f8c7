//! Authentication: Shared Key request signing and Microsoft Entra ID bearer tokens.
//!
//! Shared Key follows `spec/batch-auth.md` (the documented algorithm): the string-to-sign is the
//! upper-case verb, eleven standard header values (`Date` left empty because `ocp-date` is always
//! sent), the sorted `ocp-*` headers, and the canonicalized resource (`/account/path` plus sorted,
//! decoded, lower-cased query parameters).
//!
//! Entra ID tokens come from the `azure_identity` crate; its HTTP traffic goes through this
//! crate's own `reqwest` client (see [`AzureTransport`]), so only one HTTP stack is linked.

use crate::error::{BatchError, Result};
use crate::models::Secret;
use azure_core::credentials::{TokenCredential, TokenRequestOptions};
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// OAuth scope of the Batch data plane (resource URI with trailing slash + `/.default`, the
/// form the Azure SDKs use).
pub const BATCH_SCOPE: &str = "https://batch.core.windows.net//.default";

/// The authority host Entra ID credentials use unless configured otherwise.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// Bounds one token request, azure_identity's own retries included: an authority that cannot
/// answer (untrusted, unreachable, refusing the secret) fails the operation instead of hanging it.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(25);

/// Account name + account key for Shared Key signing. `Debug` never shows the key.
#[derive(Clone)]
pub struct SharedKeyCredential {
    account: String,
    key: Secret<Vec<u8>>,
}

impl fmt::Debug for SharedKeyCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedKeyCredential")
            .field("account", &self.account)
            .field("key", &"***")
            .finish()
    }
}

impl SharedKeyCredential {
    /// Creates a credential from the account name and the base64 account key (as shown in the
    /// Azure portal).
    pub fn new(account: impl Into<String>, key_base64: &str) -> Result<Self> {
        let account = account.into();
        if account.trim().is_empty() {
            return Err(BatchError::Config(
                "account_name is empty: Shared Key authentication needs the Batch account name"
                    .into(),
            ));
        }
        let key = base64::engine::general_purpose::STANDARD
            .decode(key_base64.trim())
            .map_err(|_| {
                BatchError::Config(
                    "account_key is not valid base64: copy the key exactly as shown in the Azure portal (Batch account > Keys)"
                        .into(),
                )
            })?;
        if key.is_empty() {
            return Err(BatchError::Config("account_key is empty".into()));
        }
        Ok(Self {
            account,
            key: Secret(key),
        })
    }

    /// Creates a credential from raw key bytes.
    pub fn from_key_bytes(account: impl Into<String>, key: Vec<u8>) -> Self {
        Self {
            account: account.into(),
            key: Secret(key),
        }
    }

    /// The account name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Base64(HMAC-SHA256(key, string_to_sign)).
    pub fn sign(&self, string_to_sign: &str) -> String {
        hmac_sha256_base64(self.key.expose(), string_to_sign)
    }

    /// The `Authorization` header value for a request with this method, URL and headers. The
    /// headers must be exactly those that will be sent (content type, content length, ocp-date,
    /// If-Match, ...).
    pub fn authorization(&self, method: &str, url: &url::Url, headers: &HeaderMap) -> String {
        let sts = string_to_sign(&self.account, method, url, headers);
        format!("SharedKey {}:{}", self.account, self.sign(&sts))
    }
}

pub(crate) fn hmac_sha256_base64(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Builds the Shared Key string-to-sign for a request (see module docs).
pub fn string_to_sign(account: &str, method: &str, url: &url::Url, headers: &HeaderMap) -> String {
    let h = |name: &str| -> String {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut s = String::with_capacity(256);
    s.push_str(&method.to_ascii_uppercase());
    s.push('\n');
    for name in [
        "content-encoding",
        "content-language",
        "content-length",
        "content-md5",
        "content-type",
        "date",
        "if-modified-since",
        "if-match",
        "if-none-match",
        "if-unmodified-since",
        "range",
    ] {
        // With ocp-date present the Date line must be empty.
        if name == "date" && headers.contains_key("ocp-date") {
            s.push('\n');
            continue;
        }
        s.push_str(&h(name));
        s.push('\n');
    }
    let mut ocp: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let n = name.as_str().to_ascii_lowercase();
        if n.starts_with("ocp-") {
            let v = value.to_str().unwrap_or("").replace(['\r', '\n'], " ");
            ocp.insert(n, v.trim_start().to_string());
        }
    }
    for (n, v) in &ocp {
        s.push_str(n);
        s.push(':');
        s.push_str(v);
        s.push('\n');
    }
    s.push('/');
    s.push_str(account);
    let path = url.path();
    s.push_str(if path.is_empty() { "/" } else { path });
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url.query_pairs() {
        params
            .entry(k.to_ascii_lowercase())
            .or_default()
            .push(v.into_owned());
    }
    for (k, mut vs) in params {
        vs.sort();
        s.push('\n');
        s.push_str(&k);
        s.push(':');
        s.push_str(&vs.join(","));
    }
    s
}

/// How Microsoft Entra ID tokens are obtained.
#[derive(Clone)]
pub enum EntraCredentialKind {
    /// Service principal with a client secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`).
    ClientSecret {
        /// Tenant (directory) id.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
    },
    /// Workload identity federation (`AZURE_FEDERATED_TOKEN_FILE` + tenant + client id).
    WorkloadIdentity {
        /// Tenant id.
        tenant_id: String,
        /// Client id.
        client_id: String,
        /// File holding the federated (e.g. Kubernetes service account) token.
        token_file: PathBuf,
    },
    /// Managed identity of the host (system-assigned, or user-assigned by client id).
    ManagedIdentity {
        /// Client id of a user-assigned identity; `None` = system-assigned.
        client_id: Option<String>,
    },
    /// The Azure CLI's logged-in account (`az account get-access-token`).
    AzureCli,
    /// Managed identity first (bounded to a few seconds), then the Azure CLI, like the SDKs'
    /// default credential chain when no environment credential is configured.
    Default,
}

impl fmt::Debug for EntraCredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => f
                .debug_struct("WorkloadIdentity")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("token_file", token_file)
                .finish(),
            Self::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            Self::AzureCli => f.write_str("AzureCli"),
            Self::Default => f.write_str("Default"),
        }
    }
}

/// Microsoft Entra ID settings.
#[derive(Clone, Debug)]
pub struct EntraConfig {
    /// Which credential to use.
    pub kind: EntraCredentialKind,
    /// Authority host, e.g. `https://login.microsoftonline.com` (default; also read from
    /// `AZURE_AUTHORITY_HOST`). Must be https (azure_identity enforces it).
    pub authority_host: Option<String>,
    /// Token scope; defaults to [`BATCH_SCOPE`].
    pub scope: String,
}

impl EntraConfig {
    /// Settings for an explicit credential kind with the default authority and scope.
    pub fn new(kind: EntraCredentialKind) -> Self {
        Self {
            kind,
            authority_host: std::env::var("AZURE_AUTHORITY_HOST")
                .ok()
                .filter(|s| !s.is_empty()),
            scope: BATCH_SCOPE.to_string(),
        }
    }

    /// Picks the credential from the environment, in the SDKs' order:
    /// `AZURE_TENANT_ID`+`AZURE_CLIENT_ID`+`AZURE_CLIENT_SECRET` → client secret;
    /// `AZURE_FEDERATED_TOKEN_FILE`+`AZURE_TENANT_ID`+`AZURE_CLIENT_ID` → workload identity;
    /// `IDENTITY_ENDPOINT`/`MSI_ENDPOINT` → managed identity (user-assigned if `AZURE_CLIENT_ID`);
    /// otherwise [`EntraCredentialKind::Default`] (managed identity, then Azure CLI).
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Like [`EntraConfig::from_env`] with a custom variable lookup (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let tenant = var("AZURE_TENANT_ID");
        let client = var("AZURE_CLIENT_ID");
        let kind = match (
            tenant.clone(),
            client.clone(),
            var("AZURE_CLIENT_SECRET"),
            var("AZURE_FEDERATED_TOKEN_FILE"),
        ) {
            (Some(tenant_id), Some(client_id), Some(secret), _) => {
                EntraCredentialKind::ClientSecret {
                    tenant_id,
                    client_id,
                    client_secret: Secret(secret),
                }
            }
            (Some(tenant_id), Some(client_id), None, Some(file)) => {
                EntraCredentialKind::WorkloadIdentity {
                    tenant_id,
                    client_id,
                    token_file: PathBuf::from(file),
                }
            }
            _ if var("IDENTITY_ENDPOINT").is_some() || var("MSI_ENDPOINT").is_some() => {
                EntraCredentialKind::ManagedIdentity { client_id: client }
            }
            _ => EntraCredentialKind::Default,
        };
        Self {
            kind,
            authority_host: var("AZURE_AUTHORITY_HOST"),
            scope: BATCH_SCOPE.to_string(),
        }
    }
}

/// How requests are authenticated.
#[derive(Clone)]
pub enum Auth {
    /// Shared Key signing with the account key.
    SharedKey(SharedKeyCredential),
    /// Microsoft Entra ID; the credential is built by `BatchClient::new` over the client's HTTP stack.
    Entra(EntraConfig),
    /// A ready `azure_core` token credential (any `azure_identity` credential) and its scope.
    TokenCredential(Arc<dyn TokenCredential>, String),
    /// No `Authorization` header (only useful against test servers).
    None,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::SharedKey(c) => f.debug_tuple("SharedKey").field(c).finish(),
            Auth::Entra(c) => f.debug_tuple("Entra").field(c).finish(),
            Auth::TokenCredential(_, s) => f.debug_tuple("TokenCredential").field(s).finish(),
            Auth::None => f.write_str("None"),
        }
    }
}

impl Auth {
    /// Shared Key auth from the account name and base64 key.
    pub fn shared_key(account: impl Into<String>, key_base64: &str) -> Result<Self> {
        Ok(Auth::SharedKey(SharedKeyCredential::new(
            account, key_base64,
        )?))
    }

    /// Entra ID with the credential chosen from the environment (see [`EntraConfig::from_env`]).
    /// This is what the provider uses when no account key is configured.
    pub fn entra_from_env() -> Self {
        Auth::Entra(EntraConfig::from_env())
    }
}

/// A token source resolved at client construction.
#[derive(Clone)]
pub(crate) enum Authorizer {
    SharedKey(SharedKeyCredential),
    Token {
        credential: Arc<dyn TokenCredential>,
        scope: String,
        /// Where tokens come from, for error messages (e.g. the authority URL).
        source: String,
    },
    None,
}

impl Authorizer {
    pub(crate) fn build(auth: Auth, http: &reqwest::Client) -> Result<Self> {
        Ok(match auth {
            Auth::SharedKey(c) => Authorizer::SharedKey(c),
            Auth::TokenCredential(credential, scope) => Authorizer::Token {
                credential,
                scope,
                source: "the configured token credential".into(),
            },
            Auth::None => Authorizer::None,
            Auth::Entra(cfg) => Authorizer::Token {
                credential: build_entra_credential(&cfg, http)?,
                scope: cfg.scope.clone(),
                source: token_source(&cfg),
            },
        })
    }

    /// A bearer token for the scope (cached and refreshed by azure_identity). Fails within
    /// [`TOKEN_TIMEOUT`] with a message naming the token source and the cause.
    pub(crate) async fn bearer(
        credential: &Arc<dyn TokenCredential>,
        scope: &str,
        source: &str,
    ) -> Result<String> {
        let scopes = [scope];
        let request = credential.get_token(&scopes, None::<TokenRequestOptions<'_>>);
        let token = match tokio::time::timeout(TOKEN_TIMEOUT, request).await {
            Ok(Ok(token)) => token,
            Ok(Err(e)) => {
                return Err(BatchError::Auth(format!(
                    "Microsoft Entra ID token request to {source} failed: {}",
                    crate::tls::describe(&e)
                )));
            }
            Err(_) => {
                return Err(BatchError::Auth(format!(
                    "Microsoft Entra ID token request to {source} failed: no token within {TOKEN_TIMEOUT:?} (timed out)"
                )));
            }
        };
        Ok(token.token.secret().to_string())
    }
}

/// Where `cfg`'s tokens come from, in words (an authority URL with the tenant, or the source).
fn token_source(cfg: &EntraConfig) -> String {
    let host = cfg
        .authority_host
        .as_deref()
        .unwrap_or(DEFAULT_AUTHORITY_HOST)
        .trim_end_matches('/');
    match &cfg.kind {
        EntraCredentialKind::ClientSecret { tenant_id, .. }
        | EntraCredentialKind::WorkloadIdentity { tenant_id, .. } => {
            format!("authority {host}/{tenant_id}")
        }
        EntraCredentialKind::ManagedIdentity { .. } => {
            "the managed identity endpoint (IMDS or IDENTITY_ENDPOINT)".into()
        }
        EntraCredentialKind::AzureCli => "the Azure CLI (az account get-access-token)".into(),
        EntraCredentialKind::Default => "managed identity, then the Azure CLI".into(),
    }
}

fn client_options(
    cfg: &EntraConfig,
    http: &reqwest::Client,
) -> Result<azure_core::http::ClientOptions> {
    use azure_core::time::Duration as AzDuration;
    // Few, short retries: a transient authority hiccup is retried, a failing authority is not
    // retried for a minute (the default) while the apply waits.
    let retry = azure_core::http::ExponentialRetryOptions {
        initial_delay: AzDuration::milliseconds(200),
        max_retries: 2,
        max_total_elapsed: AzDuration::seconds(10),
        max_delay: AzDuration::seconds(2),
    };
    let mut options = azure_core::http::ClientOptions {
        transport: Some(azure_core::http::Transport::new(Arc::new(AzureTransport(
            http.clone(),
        )))),
        retry: azure_core::http::RetryOptions::exponential(retry),
        ..Default::default()
    };
    if let Some(host) = &cfg.authority_host {
        let parsed = url::Url::parse(host).map_err(|e| {
            BatchError::Config(format!("authority host {host:?} is not a valid URL: {e}"))
        })?;
        if parsed.scheme() != "https" {
            return Err(BatchError::Config(format!(
                "authority host {host:?} must use https (Microsoft Entra ID requires TLS)"
            )));
        }
        let mut custom = azure_core::cloud::CustomConfiguration::default();
        custom.authority_host = host.trim_end_matches('/').to_string();
        options.cloud = Some(Arc::new(custom.into()));
    }
    Ok(options)
}

fn build_entra_credential(
    cfg: &EntraConfig,
    http: &reqwest::Client,
) -> Result<Arc<dyn TokenCredential>> {
    use azure_identity as id;
    let err = |what: &str, e: azure_core::Error| {
        BatchError::Config(format!("cannot create the {what} credential: {e}"))
    };
    Ok(match &cfg.kind {
        EntraCredentialKind::ClientSecret {
            tenant_id,
            client_id,
            client_secret,
        } => id::ClientSecretCredential::new(
            tenant_id,
            client_id.clone(),
            client_secret.expose().clone().into(),
            Some(id::ClientSecretCredentialOptions {
                client_options: client_options(cfg, http)?,
            }),
        )
        .map_err(|e| err("client secret (AZURE_CLIENT_SECRET)", e))?,
        EntraCredentialKind::WorkloadIdentity {
            tenant_id,
            client_id,
            token_file,
        } => {
            let mut o = id::WorkloadIdentityCredentialOptions::default();
            o.credential_options.client_options = client_options(cfg, http)?;
            o.tenant_id = Some(tenant_id.clone());
            o.client_id = Some(client_id.clone());
            o.token_file_path = Some(token_file.clone());
            id::WorkloadIdentityCredential::new(Some(o))
                .map_err(|e| err("workload identity (AZURE_FEDERATED_TOKEN_FILE)", e))?
        }
        EntraCredentialKind::ManagedIdentity { client_id } => {
            managed_identity(cfg, http, client_id)?
        }
        EntraCredentialKind::AzureCli => {
            id::AzureCliCredential::new(None).map_err(|e| err("Azure CLI", e))?
        }
        EntraCredentialKind::Default => Arc::new(ChainCredential {
            first: managed_identity(cfg, http, &None)?,
            first_timeout: Duration::from_secs(10),
            second: id::AzureCliCredential::new(None).map_err(|e| err("Azure CLI", e))?,
        }),
    })
}

fn managed_identity(
    cfg: &EntraConfig,
    http: &reqwest::Client,
    client_id: &Option<String>,
) -> Result<Arc<dyn TokenCredential>> {
    let o = azure_identity::ManagedIdentityCredentialOptions {
        user_assigned_id: client_id
            .clone()
            .map(azure_identity::UserAssignedId::ClientId),
        client_options: client_options(cfg, http)?,
    };
    let c = azure_identity::ManagedIdentityCredential::new(Some(o)).map_err(|e| {
        BatchError::Config(format!(
            "cannot create the managed identity credential: {e}"
        ))
    })?;
    Ok(c)
}

/// Managed identity, then Azure CLI; reports both failures when neither works.
#[derive(Debug)]
struct ChainCredential {
    first: Arc<dyn TokenCredential>,
    first_timeout: Duration,
    second: Arc<dyn TokenCredential>,
}

#[async_trait::async_trait]
impl TokenCredential for ChainCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        let first = match tokio::time::timeout(
            self.first_timeout,
            self.first.get_token(scopes, options.clone()),
        )
        .await
        {
            Ok(Ok(t)) => return Ok(t),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {:?}", self.first_timeout),
        };
        self.second.get_token(scopes, options).await.map_err(|e| {
            azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!(
                    "no Microsoft Entra ID credential worked. Set account_key (or AZURE_BATCH_ACCESS_KEY), or AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or AZURE_FEDERATED_TOKEN_FILE, or run `az login`. Managed identity: {first}. Azure CLI: {e}"
                ),
            )
        })
    }
}

/// `azure_core` HTTP transport over this crate's `reqwest` client, so `azure_identity` does not
/// bring its own HTTP stack.
#[derive(Debug, Clone)]
pub struct AzureTransport(pub reqwest::Client);

#[async_trait::async_trait]
impl azure_core::http::HttpClient for AzureTransport {
    async fn execute_request(
        &self,
        request: &azure_core::http::Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        use azure_core::error::{Error, ErrorKind};
        use azure_core::http::{Body, Method};
        let method = match request.method() {
            Method::Delete => reqwest::Method::DELETE,
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Patch => reqwest::Method::PATCH,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            #[allow(unreachable_patterns)]
            other => {
                return Err(Error::with_message(
                    ErrorKind::Other,
                    format!("unsupported method {other:?}"),
                ));
            }
        };
        let mut req = self.0.request(method, request.url().clone());
        for (name, value) in request.headers().iter() {
            req = req.header(name.as_str(), value.as_str());
        }
        match request.body() {
            Body::Bytes(b) => req = req.body(b.clone()),
            #[allow(unreachable_patterns)]
            _ => {
                return Err(Error::with_message(
                    ErrorKind::Other,
                    "streaming request bodies are not supported by this transport",
                ));
            }
        }
        let rsp = req.send().await.map_err(|e| {
            let kind = if e.is_connect() {
                ErrorKind::Connection
            } else {
                ErrorKind::Io
            };
            Error::with_error(kind, e, "token request failed")
        })?;
        let status = rsp.status().as_u16();
        let mut headers = std::collections::HashMap::new();
        for (k, v) in rsp.headers() {
            if let Ok(v) = v.to_str() {
                headers.insert(
                    azure_core::http::headers::HeaderName::from(k.as_str().to_owned()),
                    azure_core::http::headers::HeaderValue::from(v.to_owned()),
                );
            }
        }
        let body = rsp
            .bytes()
            .await
            .map_err(|e| Error::with_error(ErrorKind::Io, e, "reading token response failed"))?;
        Ok(azure_core::http::AsyncRawResponse::from_bytes(
            status.into(),
            azure_core::http::headers::Headers::from(headers),
            body,
        ))
    }
}
