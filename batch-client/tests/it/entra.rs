//! Microsoft Entra ID through azure_identity against a token endpoint on loopback (TLS with a
//! self-signed certificate, since azure_identity requires an https authority host).

use crate::server::{self, Handler, Reply};
use batch_client::{
    Auth, BATCH_SCOPE, BatchClient, ClientConfig, EntraConfig, EntraCredentialKind, RequestOptions,
    Secret,
};
use std::sync::Arc;

fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, Vec<u8>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let pem = ck.cert.pem().into_bytes();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem)
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

async fn token_server(answer: fn(&[(String, String)]) -> Reply) -> (server::Server, Vec<u8>) {
    let (acc, pem) = tls_acceptor();
    let handler: Handler = Arc::new(move |req, _| {
        if req.method != "POST" || !req.path().ends_with("/oauth2/v2.0/token") {
            return Reply::status(404);
        }
        answer(&form(&req.body))
    });
    (server::start_with(handler, Some(acc)).await, pem)
}

fn batch_server() -> impl std::future::Future<Output = server::Server> {
    server::start(|req, _| {
        if req.header("authorization") != Some("Bearer token-from-loopback") {
            return Reply::error(401, "InvalidAuthenticationInfo", "bad token");
        }
        Reply::json(200, serde_json::json!({"value": []}))
    })
}

#[tokio::test]
async fn client_secret_credential_gets_and_caches_a_token() {
    let (logs, guard) = crate::transport::Captured::install();
    let (sts, pem) = token_server(|f| {
        let ok = field(f, "grant_type") == Some("client_credentials")
            && field(f, "client_id") == Some("app-id")
            && field(f, "client_secret") == Some("app-secret")
            && field(f, "scope") == Some(BATCH_SCOPE);
        if ok {
            Reply::json(
                200,
                serde_json::json!({"access_token": "token-from-loopback", "expires_in": 3600, "token_type": "Bearer"}),
            )
        } else {
            Reply::json(400, serde_json::json!({"error": "invalid_request", "error_description": "unexpected form", "error_codes": [900144]}))
        }
    })
    .await;
    let batch = batch_server().await;
    let entra = EntraConfig {
        kind: EntraCredentialKind::ClientSecret {
            tenant_id: "tenant-1".into(),
            client_id: "app-id".into(),
            client_secret: Secret::new("app-secret".into()),
        },
        authority_host: Some(format!("https://localhost:{}", sts.addr.port())),
        scope: BATCH_SCOPE.into(),
    };
    let mut cfg = ClientConfig::new(batch.url(), Auth::Entra(entra));
    cfg.root_certificates_pem.push(pem);
    let client = BatchClient::new(cfg).unwrap();
    let o = RequestOptions::new();
    assert!(
        client
            .list_pools(&Default::default(), &o)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        client
            .list_jobs(&Default::default(), &o)
            .await
            .unwrap()
            .is_empty()
    );
    // One token request served both calls (azure_identity's cache).
    let token_reqs = sts.requests();
    assert_eq!(token_reqs.len(), 1);
    assert_eq!(token_reqs[0].path(), "/tenant-1/oauth2/v2.0/token");
    let reqs = batch.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some("Bearer token-from-loopback"))
    );
    drop(guard);
    let text = logs.text();
    assert!(text.contains("batch request"), "{text}");
    assert!(
        !text.contains("token-from-loopback"),
        "token logged:\n{text}"
    );
    assert!(
        !text.contains("app-secret"),
        "client secret logged:\n{text}"
    );
}

#[tokio::test]
async fn workload_identity_sends_the_federated_token() {
    let (sts, pem) = token_server(|f| {
        if field(f, "client_assertion") == Some("federated-jwt")
            && field(f, "client_assertion_type")
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            && field(f, "scope") == Some(BATCH_SCOPE)
        {
            Reply::json(200, serde_json::json!({"access_token": "token-from-loopback", "expires_in": 3600, "token_type": "Bearer"}))
        } else {
            Reply::json(400, serde_json::json!({"error_description": "bad assertion"}))
        }
    })
    .await;
    let batch = batch_server().await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "federated-jwt").unwrap();
    let entra = EntraConfig {
        kind: EntraCredentialKind::WorkloadIdentity {
            tenant_id: "tenant-2".into(),
            client_id: "app-2".into(),
            token_file,
        },
        authority_host: Some(format!("https://localhost:{}", sts.addr.port())),
        scope: BATCH_SCOPE.into(),
    };
    let mut cfg = ClientConfig::new(batch.url(), Auth::Entra(entra));
    cfg.root_certificates_pem.push(pem);
    let client = BatchClient::new(cfg).unwrap();
    client
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap();
    assert_eq!(sts.count(), 1);
}

#[tokio::test]
async fn token_errors_are_auth_errors_without_the_secret() {
    let (sts, pem) = token_server(|_| {
        Reply::json(
            401,
            serde_json::json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}),
        )
    })
    .await;
    let batch = batch_server().await;
    let entra = EntraConfig {
        kind: EntraCredentialKind::ClientSecret {
            tenant_id: "tenant-1".into(),
            client_id: "app-id".into(),
            client_secret: Secret::new("wrong-secret-value".into()),
        },
        authority_host: Some(format!("https://localhost:{}", sts.addr.port())),
        scope: BATCH_SCOPE.into(),
    };
    let mut cfg = ClientConfig::new(batch.url(), Auth::Entra(entra));
    cfg.root_certificates_pem.push(pem);
    let client = BatchClient::new(cfg).unwrap();
    let err = client
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, batch_client::BatchError::Auth(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("AADSTS7000215"), "{msg}");
    assert!(!msg.contains("wrong-secret-value"), "{msg}");
    assert_eq!(batch.count(), 0, "no Batch request without a token");
}

#[test]
fn environment_selects_the_credential() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let c = EntraConfig::from_lookup(env(&[
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "s"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
    ]));
    assert!(matches!(c.kind, EntraCredentialKind::ClientSecret { .. }));
    assert!(
        !format!("{c:?}").contains("\"s\""),
        "secret in Debug: {c:?}"
    );
    let c = EntraConfig::from_lookup(env(&[
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ("AZURE_AUTHORITY_HOST", "https://login.example"),
    ]));
    assert!(matches!(
        c.kind,
        EntraCredentialKind::WorkloadIdentity { .. }
    ));
    assert_eq!(c.authority_host.as_deref(), Some("https://login.example"));
    let c = EntraConfig::from_lookup(env(&[
        ("IDENTITY_ENDPOINT", "http://x"),
        ("AZURE_CLIENT_ID", "c"),
    ]));
    assert!(
        matches!(c.kind, EntraCredentialKind::ManagedIdentity { client_id: Some(ref id) } if id == "c")
    );
    let c = EntraConfig::from_lookup(env(&[]));
    assert!(matches!(c.kind, EntraCredentialKind::Default));
    assert_eq!(c.scope, "https://batch.core.windows.net//.default");
}

#[test]
fn http_authority_hosts_are_rejected() {
    let entra = EntraConfig {
        kind: EntraCredentialKind::ClientSecret {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s".into()),
        },
        authority_host: Some("http://127.0.0.1:1".into()),
        scope: BATCH_SCOPE.into(),
    };
    let err =
        BatchClient::new(ClientConfig::new("http://127.0.0.1:1", Auth::Entra(entra))).unwrap_err();
    assert!(err.to_string().contains("must use https"), "{err}");
}

/// Every credential kind builds over our transport (azure_core has no HTTP client of its own
/// here, so a missing transport would panic).
#[test]
fn every_credential_kind_builds() {
    let kinds = [
        EntraCredentialKind::ManagedIdentity { client_id: None },
        EntraCredentialKind::ManagedIdentity {
            client_id: Some("00000000-0000-0000-0000-000000000001".into()),
        },
        EntraCredentialKind::AzureCli,
        EntraCredentialKind::Default,
        EntraCredentialKind::ClientSecret {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s".into()),
        },
    ];
    for kind in kinds {
        let what = format!("{kind:?}");
        let cfg = EntraConfig {
            kind,
            authority_host: None,
            scope: BATCH_SCOPE.into(),
        };
        BatchClient::new(ClientConfig::new(
            "https://acct.region.batch.azure.com",
            Auth::Entra(cfg),
        ))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
}
