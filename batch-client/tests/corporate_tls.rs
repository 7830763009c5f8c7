//! Corporate networks: a company CA known only through SSL_CERT_FILE, a CONNECT proxy from
//! HTTPS_PROXY (with NO_PROXY exempting 127.0.0.1), and Microsoft Entra ID token authorities
//! that succeed, refuse the secret, are unreachable or untrusted.
//!
//! The variables are process-wide, so this is its own test binary and every test first calls
//! [`corp`], which sets them once before any client exists. Hosts named `localhost` go through
//! the proxy; `127.0.0.1` goes direct.

#[allow(dead_code)]
#[path = "it/server.rs"]
mod server;

use batch_client::{
    Auth, BATCH_SCOPE, BatchClient, BatchError, ClientConfig, EntraConfig, EntraCredentialKind,
    RequestOptions, Secret,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use server::{Reply, Server};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Corp {
    ca: Issuer<'static, KeyPair>,
    /// `host:port` of every CONNECT the proxy received.
    tunnels: Arc<Mutex<Vec<String>>>,
    _bundle: tempfile::TempDir,
}

fn ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.distinguished_name
        .push(DnType::OrganizationName, "Example Corp");
    (p, KeyPair::generate().unwrap())
}

fn corp() -> &'static Corp {
    static CORP: OnceLock<Corp> = OnceLock::new();
    CORP.get_or_init(|| {
        rustls::crypto::aws_lc_rs::default_provider()
            .install_default()
            .ok();
        let (params, key) = ca("Example Corp Inspection CA");
        let pem = params.self_signed(&key).unwrap().pem();
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("corp-ca.pem");
        std::fs::write(&bundle, pem).unwrap();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let proxy_port = start_proxy(tunnels.clone());
        // SAFETY: runs once, before any test of this binary builds a client or reads these.
        unsafe {
            std::env::set_var("SSL_CERT_FILE", &bundle);
            std::env::remove_var("SSL_CERT_DIR");
            for v in [
                "https_proxy",
                "http_proxy",
                "all_proxy",
                "ALL_PROXY",
                "no_proxy",
            ] {
                std::env::remove_var(v);
            }
            std::env::set_var("HTTPS_PROXY", format!("http://127.0.0.1:{proxy_port}"));
            std::env::set_var("HTTP_PROXY", format!("http://127.0.0.1:{proxy_port}"));
            std::env::set_var("NO_PROXY", "127.0.0.1");
        }
        Corp {
            ca: Issuer::new(params, key),
            tunnels,
            _bundle: dir,
        }
    })
}

/// A CONNECT proxy on its own thread (tests' runtimes come and go): tunnels to the target, or
/// answers 502 when the target does not accept.
fn start_proxy(tunnels: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let tunnels = tunnels.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if client.read(&mut b).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(b[0]);
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let mut words = head.split_whitespace();
                    if words.next() != Some("CONNECT") {
                        let _ = client
                            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                            .await;
                        return;
                    }
                    let target = words.next().unwrap_or_default().to_string();
                    tunnels.lock().unwrap().push(target.clone());
                    match tokio::net::TcpStream::connect(&target).await {
                        Ok(mut upstream) => {
                            let ok = b"HTTP/1.1 200 Connection established\r\n\r\n";
                            if client.write_all(ok).await.is_ok() {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                            }
                        }
                        Err(_) => {
                            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        }
                    }
                });
            }
        });
    });
    port
}

/// A TLS server for `localhost` / 127.0.0.1 whose certificate `issuer` signed.
async fn tls_server(
    issuer: &Issuer<'_, KeyPair>,
    handler: impl Fn(&server::Request, usize) -> Reply + Send + Sync + 'static,
) -> Server {
    let mut p = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key_der)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    server::start_with(Arc::new(handler), Some(acceptor)).await
}

fn empty_list(_: &server::Request, _: usize) -> Reply {
    Reply::json(200, serde_json::json!({"value": []}))
}

fn tunnelled(port: u16) -> bool {
    let want = format!("localhost:{port}");
    corp().tunnels.lock().unwrap().contains(&want)
}

#[tokio::test]
async fn batch_endpoint_signed_by_the_company_ca_is_reached_through_the_proxy() {
    let corp = corp();
    let batch = tls_server(&corp.ca, empty_list).await;
    let port = batch.addr.port();
    let client = BatchClient::new(ClientConfig::new(
        format!("https://localhost:{port}"),
        Auth::None,
    ))
    .unwrap();
    let pools = client
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap();
    assert!(pools.is_empty());
    assert_eq!(batch.count(), 1);
    assert!(tunnelled(port), "no CONNECT to localhost:{port}");
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let corp = corp();
    let batch = tls_server(&corp.ca, empty_list).await;
    let port = batch.addr.port();
    let client = BatchClient::new(ClientConfig::new(
        format!("https://127.0.0.1:{port}"),
        Auth::None,
    ))
    .unwrap();
    client
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap();
    assert_eq!(batch.count(), 1);
    let tunnels = corp.tunnels.lock().unwrap();
    assert!(
        !tunnels.iter().any(|t| t.ends_with(&format!(":{port}"))),
        "127.0.0.1 is in NO_PROXY but was tunnelled: {tunnels:?}"
    );
}

#[tokio::test]
async fn an_untrusted_endpoint_is_refused_at_once_naming_the_issuer() {
    corp();
    let (params, key) = ca("Rogue Inspection CA");
    let rogue = Issuer::new(params, key);
    let batch = tls_server(&rogue, empty_list).await;
    let port = batch.addr.port();
    let client = BatchClient::new(ClientConfig::new(
        format!("https://localhost:{port}"),
        Auth::None,
    ))
    .unwrap();
    let err = client
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap_err();
    // Refused on the first attempt: a certificate problem is not retried until the deadline.
    assert!(matches!(err, BatchError::Transport { .. }), "{err:?}");
    let msg = err.to_string();
    for want in [
        "not trusted",
        "Rogue Inspection CA",
        "SSL_CERT_FILE",
        &format!("https://localhost:{port}/pools"),
    ] {
        assert!(msg.contains(want), "{want:?} missing from: {msg}");
    }
    assert_eq!(
        batch.count(),
        0,
        "no request may pass an untrusted handshake"
    );
    assert!(tunnelled(port));
}

#[tokio::test]
async fn a_refusing_proxy_is_named() {
    corp();
    // Nothing listens on this port, so the proxy answers the CONNECT with 502.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = ClientConfig::new(format!("https://localhost:{port}"), Auth::None);
    cfg.retry.max_attempts = 2;
    cfg.retry.base_delay = std::time::Duration::from_millis(10);
    let err = BatchClient::new(cfg)
        .unwrap()
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("proxy refused"), "{msg}");
    assert!(msg.contains("HTTPS_PROXY"), "{msg}");
}

fn entra(host: String, secret: &str) -> Auth {
    Auth::Entra(EntraConfig {
        kind: EntraCredentialKind::ClientSecret {
            tenant_id: "corp-tenant".into(),
            client_id: "app-id".into(),
            client_secret: Secret::new(secret.into()),
        },
        authority_host: Some(host),
        scope: BATCH_SCOPE.into(),
    })
}

/// A token authority that accepts only `good-secret`; Batch answers only its token.
async fn authority_and_batch(issuer: &Issuer<'_, KeyPair>) -> (Server, Server) {
    let sts = tls_server(issuer, |req, _| {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        if form.iter().any(|(k, v)| k == "client_secret" && v == "good-secret") {
            Reply::json(
                200,
                serde_json::json!({"access_token": "corp-token", "expires_in": 3600, "token_type": "Bearer"}),
            )
        } else {
            Reply::json(
                401,
                serde_json::json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}),
            )
        }
    })
    .await;
    let batch = server::start(|req, _| {
        if req.header("authorization") != Some("Bearer corp-token") {
            return Reply::error(401, "InvalidAuthenticationInfo", "bad token");
        }
        Reply::json(200, serde_json::json!({"value": []}))
    })
    .await;
    (sts, batch)
}

#[tokio::test]
async fn entra_token_from_an_authority_behind_the_proxy() {
    let corp = corp();
    let (sts, batch) = authority_and_batch(&corp.ca).await;
    let host = format!("https://localhost:{}", sts.addr.port());
    let client =
        BatchClient::new(ClientConfig::new(batch.url(), entra(host, "good-secret"))).unwrap();
    client
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap();
    assert_eq!(sts.count(), 1);
    assert_eq!(batch.count(), 1);
    assert!(tunnelled(sts.addr.port()));
}

/// Lists pools with a client-secret credential at `authority`; the call must fail with an
/// authentication error that names the authority, sending nothing to Batch. Returns the message.
async fn entra_failure(authority: &str, secret: &str, batch: &Server) -> String {
    let client = BatchClient::new(ClientConfig::new(
        batch.url(),
        entra(authority.into(), secret),
    ))
    .unwrap();
    let err = client
        .list_pools(&Default::default(), &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, BatchError::Auth(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{authority}/corp-tenant")), "{msg}");
    assert!(!msg.contains(secret), "{msg}");
    assert_eq!(batch.count(), 0, "no Batch request without a token");
    msg
}

#[tokio::test]
async fn a_wrong_secret_fails_at_once_naming_the_authority() {
    let (sts, batch) = authority_and_batch(&corp().ca).await;
    let host = format!("https://localhost:{}", sts.addr.port());
    let msg = entra_failure(&host, "wrong-secret", &batch).await;
    assert!(msg.contains("AADSTS7000215"), "{msg}");
    // A refused secret is not worth retrying: at most azure_identity's bounded retries.
    let n = sts.count();
    assert!((1..=3).contains(&n), "{n} token requests");
}

#[tokio::test]
async fn an_unreachable_authority_fails_naming_it() {
    let (_sts, batch) = authority_and_batch(&corp().ca).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // 127.0.0.1 is in NO_PROXY: the connection itself is refused.
    let msg = entra_failure(&format!("https://127.0.0.1:{port}"), "good-secret", &batch).await;
    assert!(msg.contains("connection refused"), "{msg}");
}

#[tokio::test]
async fn an_untrusted_authority_fails_naming_it_and_the_issuer() {
    corp();
    let (params, key) = ca("Rogue Inspection CA");
    let (sts, batch) = authority_and_batch(&Issuer::new(params, key)).await;
    let host = format!("https://localhost:{}", sts.addr.port());
    let msg = entra_failure(&host, "good-secret", &batch).await;
    assert!(msg.contains("not trusted"), "{msg}");
    assert!(msg.contains("Rogue Inspection CA"), "{msg}");
    assert_eq!(sts.count(), 0);
}
