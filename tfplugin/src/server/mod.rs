//! The transport Terraform's go-plugin client expects (plugin-handshake.md): magic cookie,
//! protocol negotiation, a Unix socket in a fresh temp dir, automatic mutual TLS, the handshake line
//! on stdout, go-plugin's side services, signals, and debug (reattach) mode.
//!
//! A provider binary's `main` is:
//! ```no_run
//! # struct MyProvider;
//! # #[tonic::async_trait] impl tfplugin_proto::tfplugin6::provider_server::Provider for MyProvider {}
//! fn main() {
//!     let opts = tfplugin::server::ServeOptions::new(
//!         "registry.terraform.io/example/demo", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
//!     tfplugin::server::serve(MyProvider, opts)
//! }
//! ```
//! Tests that drive real Terraform in-process use [`start`] with [`ListenOptions::default`] (plaintext)
//! and put [`RunningServer::reattach_config`] in `TF_REATTACH_PROVIDERS`.

pub mod handshake;
mod lifeline;
pub mod logging;
mod services;
mod tls;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use tfplugin_proto::plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use tfplugin_proto::tfplugin6::provider_server::{Provider, ProviderServer};
use tokio::net::UnixListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use handshake::Mode;
use tls::Conn;

/// gRPC message size limit for the Provider service, both ways (terraform-plugin-go uses the same;
/// tonic's default of 4 MiB breaks large configurations and states).
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;

/// How long a client gets to finish the TLS handshake before its connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`serve`] needs to know about the provider binary.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Fully qualified provider source address, e.g. `registry.terraform.io/example/demo`: the key
    /// of the `TF_REATTACH_PROVIDERS` value printed in debug mode.
    pub address: String,
    /// Binary name for the help text, e.g. `terraform-provider-demo`.
    pub name: String,
    /// Version for `--version` and the help text, e.g. `0.1.0`.
    pub version: String,
}

impl ServeOptions {
    pub fn new(
        address: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        ServeOptions {
            address: address.into(),
            name: name.into(),
            version: version.into(),
        }
    }
}

/// Where and how [`start`] listens.
#[derive(Clone, Debug, Default)]
pub struct ListenOptions {
    /// PEM of the only client certificate to accept (go-plugin AutoMTLS, `PLUGIN_CLIENT_CERT`).
    /// `None` (or empty) serves plaintext, as for reattach/debug mode or `TF_DISABLE_PLUGIN_TLS`.
    pub client_cert_pem: Option<String>,
    /// Parent directory of the fresh socket directory; `None` means `PLUGIN_UNIX_SOCKET_DIR`
    /// if set, else the OS temp dir.
    pub socket_dir: Option<PathBuf>,
}

impl ListenOptions {
    /// What Terraform asks for through the environment: `PLUGIN_CLIENT_CERT` and
    /// `PLUGIN_UNIX_SOCKET_DIR`.
    pub fn from_env() -> Self {
        ListenOptions {
            client_cert_pem: std::env::var("PLUGIN_CLIENT_CERT")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            socket_dir: std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// A server started by [`start`], serving on a Unix socket until stopped.
pub struct RunningServer {
    socket_path: PathBuf,
    server_cert: Option<Vec<u8>>,
    stop: CancellationToken,
    stdio_ended: Arc<Notify>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
    dir: Option<tempfile::TempDir>,
}

impl RunningServer {
    /// The Unix socket the server listens on.
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// DER of the server certificate when serving mutual TLS.
    pub fn server_cert_der(&self) -> Option<&[u8]> {
        self.server_cert.as_deref()
    }

    /// The go-plugin handshake line for this server (without the newline).
    pub fn handshake_line(&self) -> String {
        handshake::handshake_line(&self.socket_path, self.server_cert.as_deref())
    }

    /// The `TF_REATTACH_PROVIDERS` JSON for this server under the provider `address`
    /// (e.g. `registry.terraform.io/example/demo`). Only meaningful for a plaintext server.
    pub fn reattach_config(&self, address: &str) -> String {
        handshake::reattach_config(address, std::process::id(), &self.socket_path)
    }

    /// Resolves once a client called `plugin.GRPCController/Shutdown` (or [`Self::stop`] began).
    pub async fn shutdown_requested(&self) {
        self.stop.cancelled().await
    }

    /// Stops accepting, ends the idle side streams, lets in-flight RPCs finish (at most 2 s), and
    /// removes the socket directory.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        let res = match tokio::time::timeout(Duration::from_secs(2), &mut self.task).await {
            Ok(joined) => joined
                .context("the gRPC server task failed")?
                .context("the gRPC server failed"),
            Err(_) => {
                self.task.abort();
                Ok(())
            }
        };
        self.remove_socket_dir();
        res
    }

    /// Removes the socket directory now (before `std::process::exit`, which runs no destructors).
    pub fn remove_socket_dir(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }

    /// Resolves if the server stops on its own (an error, or after a Shutdown request).
    async fn finished(&mut self) -> anyhow::Result<()> {
        (&mut self.task)
            .await
            .context("the gRPC server task failed")?
            .context("the gRPC server failed")
    }
}

/// Starts serving `provider` (plus go-plugin's controller, stdio and broker services and
/// `grpc.health.v1.Health` reporting `plugin` SERVING) on a Unix socket in a fresh temp dir.
/// Returns once the socket is listening. Must be called inside a tokio runtime.
pub async fn start<P: Provider>(
    provider: P,
    listen: ListenOptions,
) -> anyhow::Result<RunningServer> {
    let parent = listen
        .socket_dir
        .clone()
        .or_else(|| ListenOptions::from_env().socket_dir)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("plugin")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a socket directory in {}", parent.display()))?;
    let socket_path = dir.path().join("plugin.sock");
    let listener = UnixListener::bind(&socket_path)
        .with_context(|| format!("listening on {}", socket_path.display()))?;

    let (acceptor, server_cert) = match listen
        .client_cert_pem
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        Some(pem) => {
            let client_certs = tls::parse_client_certs(pem)?;
            let identity = tls::generate_server_identity()?;
            let config = tls::server_config(&identity, client_certs)?;
            let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
            (Some(acceptor), Some(identity.cert.as_ref().to_vec()))
        }
        None => (None, None),
    };

    let stop = CancellationToken::new();
    let stdio_ended = Arc::new(Notify::new());
    let incoming = accept_loop(listener, acceptor, stop.clone());

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider = ProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let router = tonic::transport::Server::builder()
        .layer(services::CatchPanicLayer)
        .add_service(provider)
        .add_service(GrpcControllerServer::new(services::Controller {
            stop: stop.clone(),
        }))
        .add_service(GrpcStdioServer::new(services::Stdio {
            stop: stop.clone(),
            ended: stdio_ended.clone(),
        }))
        .add_service(GrpcBrokerServer::new(services::Broker {
            stop: stop.clone(),
        }))
        .add_service(health_service);
    let signal = stop.clone().cancelled_owned();
    let task = tokio::spawn(async move {
        // Keep the reporter alive: dropping it would end Watch streams.
        let _health = health;
        router.serve_with_incoming_shutdown(incoming, signal).await
    });
    tracing::debug!(socket = %socket_path.display(), tls = server_cert.is_some(), "plugin server listening");

    Ok(RunningServer {
        socket_path,
        server_cert,
        stop,
        stdio_ended,
        task,
        dir: Some(dir),
    })
}

/// Accepts connections until `stop`, doing each TLS handshake in its own task so one slow client
/// cannot hold up the others, and yields the ready connections.
fn accept_loop(
    listener: UnixListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    stop: CancellationToken,
) -> impl futures::Stream<Item = Result<Conn, std::io::Error>> {
    let (tx, rx) = mpsc::channel::<Conn>(16);
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = stop.cancelled() => break,
                r = listener.accept() => match r {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // e.g. EMFILE: back off instead of spinning.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            match &acceptor {
                None => {
                    if tx.send(Conn::Plain(stream)).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(tls)) => {
                                let _ = tx.send(Conn::Tls(Box::new(tls))).await;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "TLS handshake with the plugin client failed")
                            }
                            Err(_) => {
                                tracing::warn!("TLS handshake with the plugin client timed out")
                            }
                        }
                    });
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok)
}

/// Runs the provider binary: handles `--version`/`--help`/`--debug`, checks the magic cookie, and
/// serves until Terraform calls Shutdown (or SIGTERM; SIGINT too in debug mode), or, outside debug
/// mode, until Terraform is gone without a word (killed: see `lifeline`). Never returns.
/// Installs the JSON logger and panic hook first ([`logging::init`]).
pub fn serve<P: Provider>(provider: P, opts: ServeOptions) -> ! {
    logging::init();
    let usage = || handshake::usage(&opts.name, &opts.version, &opts.address);
    let code = match handshake::parse_args(std::env::args().skip(1)) {
        Mode::Version => {
            println!("{} v{}", opts.name, opts.version);
            0
        }
        Mode::Help => {
            print!("{}", usage());
            0
        }
        Mode::Unknown(arg) => {
            eprint!("{}: unknown argument {arg:?}\n\n{}", opts.name, usage());
            2
        }
        Mode::Managed
            if std::env::var(handshake::MAGIC_COOKIE_KEY).ok().as_deref()
                != Some(handshake::MAGIC_COOKIE_VALUE) =>
        {
            eprint!("{}", usage());
            1
        }
        mode => run(provider, &opts, mode == Mode::Debug),
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

fn run<P: Provider>(provider: P, opts: &ServeOptions, debug: bool) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: cannot start the async runtime: {e}", opts.name);
            return 1;
        }
    };
    let code = runtime.block_on(async {
        match run_async(provider, opts, debug).await {
            Ok(()) => 0,
            Err(e) => {
                tracing::error!("{e:#}");
                eprintln!("{}: {e:#}", opts.name);
                1
            }
        }
    });
    // Do not wait for tasks still holding connections: the process exits right after this.
    runtime.shutdown_background();
    code
}

async fn run_async<P: Provider>(
    provider: P,
    opts: &ServeOptions,
    debug: bool,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    // Handlers first, so a Ctrl-C that arrives while we start up is ignored too.
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    // Managed mode only: in debug mode the plugin outlives the Terraform runs that reattach to it.
    let lifeline = (!debug).then(lifeline::Lifeline::capture);

    let listen = if debug {
        // Terraform uses no TLS for reattached providers.
        ListenOptions {
            client_cert_pem: None,
            ..ListenOptions::from_env()
        }
    } else {
        let offered = std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok();
        let (_, ok) = handshake::negotiate_protocol(offered.as_deref());
        if !ok {
            tracing::warn!(
                offered = offered.as_deref().unwrap_or(""),
                "the plugin client does not offer protocol 6; answering 6 anyway so it can report the mismatch"
            );
        }
        ListenOptions::from_env()
    };
    let mut server = start(provider, listen).await?;

    {
        let mut out = std::io::stdout().lock();
        if debug {
            writeln!(
                out,
                "{} v{} is running in debug mode (plugin protocol {}, pid {}).\n\
                 To use it, run Terraform with this variable set (in another shell):\n\n\
                 TF_REATTACH_PROVIDERS='{}'\n\n\
                 Press Ctrl-C to stop.",
                opts.name,
                opts.version,
                handshake::PROTOCOL_VERSION,
                std::process::id(),
                server.reattach_config(&opts.address)
            )?;
        } else {
            // Must be the first line on stdout.
            writeln!(out, "{}", server.handshake_line())?;
        }
        out.flush()?;
    }

    let stop = server.stop.clone();
    let stdio_ended = server.stdio_ended.clone();
    let orphaned = async move {
        match lifeline {
            Some(l) => l.watch(stdio_ended).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(orphaned);
    let result = loop {
        tokio::select! {
            _ = stop.cancelled() => {
                // Give the Shutdown reply a moment to leave; the client ignores it anyway.
                tokio::time::sleep(Duration::from_millis(5)).await;
                break Ok(());
            }
            _ = sigint.recv() => {
                if debug {
                    break Ok(());
                }
                tracing::debug!("ignoring SIGINT: Terraform stops providers with StopProvider and Shutdown");
            }
            _ = sigterm.recv() => {
                tracing::debug!("SIGTERM received, exiting");
                break Ok(());
            }
            why = &mut orphaned => {
                // Nobody will read a reply; exiting cancels every wait still running.
                tracing::warn!("Terraform is gone ({why}); exiting");
                break Ok(());
            }
            r = server.finished() => {
                if stop.is_cancelled() {
                    break r;
                }
                break r.and_then(|()| anyhow::bail!("the gRPC server stopped unexpectedly"));
            }
        }
    };
    server.remove_socket_dir();
    result
}
