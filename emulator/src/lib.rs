//! A local Azure Batch-compatible service (the Batch data-plane REST API, api-version
//! 2024-07-01.20.0) for development and offline end-to-end tests.
//!
//! Start it in-process with [`start`]; the `batch-emulator` binary wraps the same function.

pub mod account;
pub mod admin;
pub mod app;
pub mod auth;
pub mod autoscale;
mod docker_api;
pub mod engine;
pub mod error;
pub mod faults;
pub mod files;
pub mod jobs;
pub mod nodes;
pub mod pools;
pub mod routes;
pub mod runtime;
pub mod schedules;
pub mod schema;
pub mod server;
pub mod state;
pub mod util;

use anyhow::Context;
use base64::Engine;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use runtime::RuntimeKind;

/// Makes aws-lc-rs the process's rustls crypto provider unless one is installed already:
/// reqwest (resource file downloads) is built without one of its own.
pub fn install_crypto_provider() {
    // Err only means a provider is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The well-known development account key (like Azurite's). Not a secret.
pub const DEV_KEY: &str =
    "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww==";
pub const DEV_ACCOUNT: &str = "devbatch";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:10100";

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub account: String,
    /// Base64 account key.
    pub key: String,
    pub data_dir: PathBuf,
    pub runtime: RuntimeKind,
    /// How long one Docker Engine API call may take (`--runtime docker`); a call that takes
    /// longer fails the task instead of leaving it running forever.
    pub docker_timeout: Duration,
    /// How long a pool stays `resizing` before its nodes are allocated.
    pub allocation_delay: Duration,
    /// How long new nodes stay `starting` before their setup (image prefetch, start task).
    pub node_start_delay: Duration,
    /// How long pools and jobs stay `deleting`.
    pub delete_delay: Duration,
    /// Job schedules run this many times faster than the API says (1 = as documented): their
    /// recurrence intervals and start windows are divided by it. For tests only.
    pub schedule_speed: u32,
    /// Accept `Authorization: Bearer <anything>` (for Entra ID tests).
    pub accept_bearer: bool,
    /// Initial fault rules (JSON, see README.md).
    pub faults: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().unwrap(),
            account: DEV_ACCOUNT.into(),
            key: DEV_KEY.into(),
            data_dir: PathBuf::from(".batch-emulator"),
            runtime: RuntimeKind::Process,
            docker_timeout: Duration::from_secs(120),
            allocation_delay: Duration::from_secs(1),
            node_start_delay: Duration::from_millis(500),
            delete_delay: Duration::from_millis(500),
            schedule_speed: 1,
            accept_bearer: false,
            faults: None,
        }
    }
}

/// A running service.
pub struct EmulatorHandle {
    addr: SocketAddr,
    app: app::AppRef,
    server: tokio::task::JoinHandle<()>,
    engine: tokio::task::JoinHandle<()>,
}

impl EmulatorHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:port`, the account endpoint to give clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn account(&self) -> &str {
        &self.app.auth.account
    }
    /// Stop serving, end running tasks, and write the final state snapshot.
    pub async fn shutdown(self) {
        self.app.shutdown.cancel();
        let _ = self.engine.await;
        let _ = self.server.await;
        if self.app.cancels.cancel_all() {
            // Let the runners kill their process groups before the runtime goes away.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let mut st = self.app.state.lock().await;
        st.dirty = true;
        st.save_if_dirty(&self.app.state_path);
    }
    /// Wait until the server stops (after a signal handled by the caller, or forever).
    pub async fn wait(&mut self) {
        let _ = (&mut self.server).await;
    }
}

/// Start the service: bind, load state from `data_dir`, start the scheduler, serve.
pub async fn start(cfg: Config) -> anyhow::Result<EmulatorHandle> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(cfg.key.trim())
        .context("--key must be base64")?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data dir {}", cfg.data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&cfg.data_dir)?;
    let state_path = data_dir.join("state.json");
    let mut st = state::State::load(&state_path)
        .with_context(|| format!("cannot read {}", state_path.display()))?;
    st.recover();
    let faults = match &cfg.faults {
        Some(f) => faults::Faults::parse(f).context("invalid --faults")?,
        None => faults::Faults::default(),
    };
    let runtime = runtime::Runtime::connect(cfg.runtime, cfg.docker_timeout).await?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let app = Arc::new(app::App {
        auth: auth::AuthConfig {
            account: cfg.account.clone(),
            key,
            accept_bearer: cfg.accept_bearer,
        },
        state: tokio::sync::Mutex::new(st),
        state_path,
        data_dir,
        faults: std::sync::Mutex::new(faults),
        requests: Default::default(),
        cancels: Default::default(),
        runtime,
        base_url: format!("http://{addr}"),
        allocation_delay: cfg.allocation_delay,
        node_start_delay: cfg.node_start_delay,
        delete_delay: cfg.delete_delay,
        schedule_speed: cfg.schedule_speed.max(1),
        shutdown: shutdown.clone(),
    });
    let router = axum::Router::new()
        .fallback(server::handle)
        .with_state(app.clone());
    let sd = shutdown.clone();
    let server = tokio::spawn(async move {
        let r = axum::serve(listener, router)
            .with_graceful_shutdown(async move { sd.cancelled().await })
            .await;
        if let Err(e) = r {
            tracing::error!("server error: {e}");
        }
    });
    let engine = engine::run(app.clone());
    tracing::info!(%addr, account = %cfg.account, runtime = ?cfg.runtime, "local Batch service started");
    Ok(EmulatorHandle {
        addr,
        app,
        server,
        engine,
    })
}
