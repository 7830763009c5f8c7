//! The plugin transport from the client's side: go-plugin AutoMTLS with a P-521 client certificate
//! (as Terraform makes it), the side services, panics in handlers, and the real binary's process
//! life cycle (cookie check, handshake line, SIGINT ignored, Shutdown and SIGTERM exit).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tfplugin::server::{ListenOptions, RunningServer, handshake};
use tfplugin_proto::plugin::Empty;
use tfplugin_proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin_proto::tfplugin6::provider_client::ProviderClient;
use tfplugin_proto::tfplugin6::provider_server::Provider;
use tfplugin_proto::tfplugin6::{get_provider_schema, validate_provider_config};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

/// A client identity shaped like go-plugin's: ECDSA P-521, self-signed, IsCA=true, SAN localhost.
struct ClientIdentity {
    pem: String,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn go_plugin_client_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// Trusts exactly the server certificate from the handshake line, as go-plugin's client does
/// (it uses that certificate as its only root).
#[derive(Debug)]
struct PinnedServer {
    expected: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The parts of a handshake line.
struct Handshake {
    socket: PathBuf,
    server_cert: Option<Vec<u8>>,
}

fn parse_handshake(line: &str) -> Handshake {
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(&fields[..3], ["1", "6", "unix"], "{line:?}");
    assert_eq!(fields[4], "grpc");
    let server_cert = (!fields[5].is_empty()).then(|| {
        assert!(!fields[5].contains('='), "field 6 must be unpadded");
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(fields[5])
            .expect("field 6 is RawStdEncoding base64")
    });
    Handshake {
        socket: PathBuf::from(fields[3]),
        server_cert,
    }
}

/// A gRPC channel over the Unix socket, with mutual TLS when `tls` is given.
async fn connect(
    socket: &Path,
    tls: Option<(&[u8], Option<&ClientIdentity>)>,
) -> Result<Channel, tonic::transport::Error> {
    let socket = socket.to_path_buf();
    let connector = tls.map(|(server_cert, client)| {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedServer {
                expected: server_cert.to_vec(),
                provider,
            }));
        let mut cfg = match client {
            Some(id) => builder
                .with_client_auth_cert(vec![id.cert.clone()], id.key.clone_key())
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        cfg.alpn_protocols = vec![b"h2".to_vec()];
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
    });
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            let connector = connector.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(&socket).await?;
                let io: Box<dyn Io> = match connector {
                    Some(c) => Box::new(
                        c.connect(ServerName::try_from("localhost").unwrap(), stream)
                            .await?,
                    ),
                    None => Box::new(stream),
                };
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(io))
            }
        }))
        .await
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

struct Stub;

#[tonic::async_trait]
impl Provider for Stub {
    async fn get_provider_schema(
        &self,
        _: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        Ok(Response::new(get_provider_schema::Response {
            server_capabilities: Some(tfplugin_proto::tfplugin6::ServerCapabilities {
                plan_destroy: true,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        _: Request<validate_provider_config::Request>,
    ) -> Result<Response<validate_provider_config::Response>, Status> {
        panic!("validate_provider_config exploded");
    }
}

async fn schema(channel: Channel) -> Result<get_provider_schema::Response, Status> {
    ProviderClient::new(channel)
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .map(Response::into_inner)
}

async fn start_mtls(client: &ClientIdentity) -> (RunningServer, Handshake) {
    let server = tfplugin::server::start(
        Stub,
        ListenOptions {
            client_cert_pem: Some(client.pem.clone()),
            socket_dir: None,
        },
    )
    .await
    .unwrap();
    let hs = parse_handshake(&server.handshake_line());
    assert_eq!(hs.socket, server.socket_path());
    assert_eq!(hs.server_cert.as_deref(), server.server_cert_der());
    (server, hs)
}

#[tokio::test]
async fn mutual_tls_accepts_exactly_the_pinned_p521_client() {
    let client = go_plugin_client_identity();
    let (server, hs) = start_mtls(&client).await;
    let server_cert = hs.server_cert.clone().expect("mTLS server sends its cert");

    let ch = connect(&hs.socket, Some((&server_cert, Some(&client))))
        .await
        .unwrap();
    let resp = schema(ch.clone()).await.unwrap();
    assert!(resp.server_capabilities.unwrap().plan_destroy);

    // go-plugin's Ping: grpc.health.v1.Health/Check for "plugin".
    let health = tonic_health::pb::health_client::HealthClient::new(ch.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // Another P-521 certificate of the same shape is refused (with TLS 1.3 the client learns it
    // on first use, so check the call, not just the connect).
    let stranger = go_plugin_client_identity();
    let rejected = match connect(&hs.socket, Some((&server_cert, Some(&stranger)))).await {
        Err(_) => true,
        Ok(ch) => schema(ch).await.is_err(),
    };
    assert!(rejected, "a different client certificate must be rejected");

    // No client certificate at all is refused too.
    let rejected = match connect(&hs.socket, Some((&server_cert, None))).await {
        Err(_) => true,
        Ok(ch) => schema(ch).await.is_err(),
    };
    assert!(rejected, "a client without a certificate must be rejected");

    // Plaintext on a TLS server gets nowhere.
    let rejected = match connect(&hs.socket, None).await {
        Err(_) => true,
        Ok(ch) => schema(ch).await.is_err(),
    };
    assert!(rejected, "plaintext must be rejected by an mTLS server");

    // The good client still works after the failed attempts.
    schema(ch).await.unwrap();
    let dir = server.socket_path().parent().unwrap().to_path_buf();
    server.stop().await.unwrap();
    assert!(!dir.exists(), "socket directory removed on stop");
}

#[tokio::test]
async fn a_panicking_rpc_answers_internal_and_the_server_keeps_serving() {
    let client = go_plugin_client_identity();
    let (server, hs) = start_mtls(&client).await;
    let ch = connect(&hs.socket, Some((&hs.server_cert.unwrap(), Some(&client))))
        .await
        .unwrap();
    let err = ProviderClient::new(ch.clone())
        .validate_provider_config(validate_provider_config::Request::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal, "{err:?}");
    assert!(
        err.message().contains("validate_provider_config exploded"),
        "{err:?}"
    );
    schema(ch).await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_rpc_stops_an_in_process_server_despite_open_stdio_stream() {
    let server = tfplugin::server::start(Stub, ListenOptions::default())
        .await
        .unwrap();
    let hs = parse_handshake(&server.handshake_line());
    assert!(hs.server_cert.is_none(), "plaintext without a client cert");
    let ch = connect(&hs.socket, None).await.unwrap();
    // Terraform opens the stdio stream first and keeps it open; it must not block Shutdown.
    let mut stdio = tfplugin_proto::plugin::grpc_stdio_client::GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    GrpcControllerClient::new(ch)
        .shutdown(Empty {})
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), server.shutdown_requested())
        .await
        .expect("Shutdown is noticed");
    // The stdio stream ends without ever carrying data.
    let next = tokio::time::timeout(Duration::from_secs(5), stdio.message())
        .await
        .expect("stdio stream ends on shutdown");
    assert!(!matches!(next, Ok(Some(_))), "{next:?}");
    server.stop().await.unwrap();
}

// ---- the real binary (tfplugin/examples/stub_provider.rs) ----

fn stub_binary() -> PathBuf {
    // target/<profile>/deps/transport-<hash> -> target/<profile>/examples/terraform-provider-stub
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples/terraform-provider-stub");
    assert!(
        path.exists(),
        "{} is missing: `cargo test -p tfplugin` builds it, or run \
         `cargo build -p tfplugin --example terraform-provider-stub`",
        path.display()
    );
    path
}

fn plugin_command(client_pem: Option<&str>) -> std::process::Command {
    let mut cmd = std::process::Command::new(stub_binary());
    cmd.env(handshake::MAGIC_COOKIE_KEY, handshake::MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(pem) = client_pem {
        cmd.env("PLUGIN_CLIENT_CERT", pem);
    }
    cmd
}

/// Reads the handshake line and keeps the pipe open, as Terraform does: a managed plugin whose
/// stdout nobody reads any more takes it that Terraform is gone and exits.
fn read_handshake(child: &mut std::process::Child) -> Handshake {
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(stdout);
    reader.read_line(&mut line).unwrap();
    child.stdout = Some(reader.into_inner());
    parse_handshake(&line)
}

fn wait_with_deadline(
    child: &mut std::process::Child,
    deadline: Duration,
) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

#[test]
fn binary_run_by_hand_explains_itself() {
    let out = std::process::Command::new(stub_binary())
        .env_remove(handshake::MAGIC_COOKIE_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Terraform provider plugin"), "{err}");
    assert!(
        err.contains("--debug") && err.contains("--version"),
        "{err}"
    );

    let out = std::process::Command::new(stub_binary())
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("terraform-provider-stub v{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn binary_ignores_sigint_and_exits_promptly_on_shutdown() {
    let client = go_plugin_client_identity();
    let mut child = plugin_command(Some(&client.pem)).spawn().unwrap();
    let hs = read_handshake(&mut child);
    let server_cert = hs.server_cert.clone().expect("mTLS handshake line");
    let dir = hs.socket.parent().unwrap().to_path_buf();
    assert!(hs.socket.exists());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let ch = rt
        .block_on(connect(&hs.socket, Some((&server_cert, Some(&client)))))
        .unwrap();
    rt.block_on(schema(ch.clone())).unwrap();

    // Ctrl-C reaches the whole process group; Terraform handles it, the provider must not die.
    // A pending signal is acted on as soon as any of the process's threads next runs, so an
    // RPC answered after the kill proves the SIGINT was dealt with (no sleep needed).
    signal(&child, "-INT");
    rt.block_on(schema(ch.clone()))
        .expect("the provider answers after SIGINT");
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGINT must be ignored"
    );

    let start = Instant::now();
    rt.block_on(GrpcControllerClient::new(ch).shutdown(Empty {}))
        .unwrap();
    // Terraform kills a provider that has not exited 2 s after Shutdown; the transport takes a
    // few ms. The test asserts the exit, not its speed (a loaded machine must not fail it): the
    // deadline only guards against a hang.
    let status = wait_with_deadline(&mut child, Duration::from_secs(60))
        .expect("the provider exits after Shutdown");
    eprintln!("exited {:?} after Shutdown", start.elapsed());
    assert!(status.success(), "{status:?}");
    assert!(!dir.exists(), "socket directory removed on exit");
}

#[test]
fn binary_exits_cleanly_on_sigterm_and_serves_plaintext_without_client_cert() {
    let mut child = plugin_command(None).spawn().unwrap();
    let hs = read_handshake(&mut child);
    assert!(hs.server_cert.is_none());
    let dir = hs.socket.parent().unwrap().to_path_buf();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ch = rt.block_on(connect(&hs.socket, None)).unwrap();
    rt.block_on(schema(ch)).unwrap();
    signal(&child, "-TERM");
    // The deadline only guards against a hang (a loaded machine must not fail the test).
    let status = wait_with_deadline(&mut child, Duration::from_secs(60)).expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(!dir.exists(), "socket directory removed on exit");
}

#[test]
fn debug_mode_prints_reattach_config_and_stops_on_sigint() {
    let mut cmd = plugin_command(None);
    cmd.arg("--debug").env_remove(handshake::MAGIC_COOKIE_KEY);
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .find(|l| l.starts_with("TF_REATTACH_PROVIDERS='"))
        .expect("a TF_REATTACH_PROVIDERS line");
    let json = line
        .strip_prefix("TF_REATTACH_PROVIDERS='")
        .and_then(|s| s.strip_suffix('\''))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let p = &v["registry.terraform.io/local/stub"];
    assert_eq!(p["Pid"].as_u64(), Some(u64::from(child.id())));
    assert_eq!(p["Addr"]["Network"], "unix");
    let socket = PathBuf::from(p["Addr"]["String"].as_str().unwrap());
    // Debug mode outlives the Terraform runs that reattach to it: with its stdout no longer read
    // (the reader above is gone) it keeps serving, well past the managed-mode check's 200 ms.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        child.try_wait().unwrap().is_none(),
        "debug mode must keep running"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ch = rt.block_on(connect(&socket, None)).unwrap();
    rt.block_on(schema(ch)).unwrap();
    signal(&child, "-INT");
    // The deadline only guards against a hang.
    let status =
        wait_with_deadline(&mut child, Duration::from_secs(60)).expect("Ctrl-C stops debug mode");
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists());
}

/// Whether process `pid` has ended (gone, or a zombie its new parent has not reaped yet).
fn process_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => true,
    }
}

/// Waits until `pid` has ended; returns how long that took, or `None` after `limit`.
fn wait_ended(pid: u32, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if process_ended(pid) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn a_managed_plugin_exits_when_nobody_reads_its_stdout() {
    let mut child = plugin_command(None).spawn().unwrap();
    let hs = read_handshake(&mut child);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(schema(rt.block_on(connect(&hs.socket, None)).unwrap()))
        .unwrap();
    // What a killed Terraform leaves: the reading ends of the plugin's stdout and stderr closed.
    drop(child.stdout.take());
    drop(child.stderr.take());
    // The plugin promises 2 s; the generous bound only keeps a loaded machine from failing.
    let status = wait_with_deadline(&mut child, Duration::from_secs(30))
        .expect("the plugin exits once its Terraform is gone");
    eprintln!("exited after the pipes closed");
    assert!(status.success(), "{status:?}");
    assert!(
        !hs.socket.parent().unwrap().exists(),
        "socket directory removed"
    );
}

#[test]
fn a_managed_plugin_exits_when_its_parent_is_killed_even_with_its_output_elsewhere() {
    // A parent shell starts the plugin with stdout and stderr in a file (so only the parent id
    // tells), prints its pid, and is then killed with SIGKILL.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plugin.out");
    let mut parent = plugin_command(None);
    let program = parent.get_program().to_owned();
    parent = std::process::Command::new("sh");
    parent
        .arg("-c")
        .arg(r#""$0" >"$1" 2>&1 & echo $!; wait"#)
        .arg(&program)
        .arg(&out)
        .env(handshake::MAGIC_COOKIE_KEY, handshake::MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped());
    let mut shell = parent.spawn().unwrap();
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(shell.stdout.take().unwrap());
    reader.read_line(&mut line).unwrap();
    let plugin: u32 = line.trim().parse().expect("the plugin's pid");
    // Wait for the handshake line, i.e. the plugin serving (and watching its parent).
    let start = Instant::now();
    while !std::fs::read_to_string(&out).is_ok_and(|s| s.contains("|unix|")) {
        // Only guards against a hang.
        assert!(start.elapsed() < Duration::from_secs(60), "no handshake");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!process_ended(plugin));
    signal(&shell, "-KILL");
    shell.wait().unwrap();
    let took = wait_ended(plugin, Duration::from_secs(30))
        .expect("the plugin exits once its parent is gone");
    eprintln!("the orphaned plugin exited {took:?} after its parent was killed");
}
