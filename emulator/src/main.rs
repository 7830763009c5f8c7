use clap::Parser;
use std::time::Duration;

use batch_emulator::{Config, DEFAULT_LISTEN, DEV_ACCOUNT, DEV_KEY, RuntimeKind};

/// A local Azure Batch-compatible service (api-version 2024-07-01.20.0).
#[derive(Parser, Debug)]
#[command(name = "batch-emulator", version)]
struct Cli {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = DEFAULT_LISTEN, env = "BATCH_EMULATOR_LISTEN")]
    listen: std::net::SocketAddr,
    /// Batch account name clients sign with.
    #[arg(long, default_value = DEV_ACCOUNT, env = "BATCH_EMULATOR_ACCOUNT")]
    account: String,
    /// Base64 account key (default: the well-known development key).
    #[arg(long, default_value = DEV_KEY, env = "BATCH_EMULATOR_KEY", hide_default_value = true)]
    key: String,
    /// Where state and node directories are kept (survives restarts).
    #[arg(
        long,
        default_value = ".batch-emulator",
        env = "BATCH_EMULATOR_DATA_DIR"
    )]
    data_dir: std::path::PathBuf,
    /// How task command lines run: on the host, or in containers through DOCKER_HOST.
    #[arg(
        long,
        value_enum,
        default_value = "process",
        env = "BATCH_EMULATOR_RUNTIME"
    )]
    runtime: RuntimeKind,
    /// How long one Docker Engine API call may take before the task fails with a server error
    /// (e.g. 2m, 30s; a pull has its own 60 s, a running container its wall clock).
    #[arg(long, default_value = "2m", value_parser = parse_duration, env = "BATCH_EMULATOR_DOCKER_TIMEOUT")]
    docker_timeout: Duration,
    /// Time a pool stays `resizing` before nodes are allocated (e.g. 1s, 250ms).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    allocation_delay: Duration,
    /// Time new nodes stay `starting` before image prefetch and the start task.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    node_start_delay: Duration,
    /// Time pools and jobs stay `deleting` before they disappear.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    delete_delay: Duration,
    /// Development only: run job schedules this many times faster (recurrence intervals and
    /// start windows are divided by it). The default, 1, follows the API.
    #[arg(long, default_value_t = 1, env = "BATCH_EMULATOR_SCHEDULE_SPEED")]
    schedule_speed: u32,
    /// Accept any `Authorization: Bearer` token (for Microsoft Entra ID tests).
    #[arg(long)]
    accept_bearer: bool,
    /// Initial fault-injection rules: JSON (`{"rules":[...]}` or `[...]`) or `@file.json`.
    #[arg(long)]
    faults: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mul) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (use e.g. 1s, 250ms, 2m)"))?;
    if v < 0.0 {
        return Err("durations must not be negative".into());
    }
    Ok(Duration::from_secs_f64(v * mul))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let faults = match cli.faults {
        Some(f) if f.starts_with('@') => Some(std::fs::read_to_string(&f[1..])?),
        other => other,
    };
    let cfg = Config {
        listen: cli.listen,
        account: cli.account,
        key: cli.key,
        data_dir: cli.data_dir,
        runtime: cli.runtime,
        docker_timeout: cli.docker_timeout,
        allocation_delay: cli.allocation_delay,
        node_start_delay: cli.node_start_delay,
        delete_delay: cli.delete_delay,
        schedule_speed: cli.schedule_speed,
        accept_bearer: cli.accept_bearer,
        faults,
    };
    if !cfg.listen.ip().is_loopback() {
        tracing::warn!(
            "listening on a non-loopback address ({}): anyone who can reach it and knows the key can run commands on this machine",
            cfg.listen
        );
    }
    let handle = match batch_emulator::start(cfg).await {
        Ok(h) => h,
        Err(e) => {
            // A short, clear message (no backtrace) for configuration problems.
            eprintln!("batch-emulator: {e:#}");
            std::process::exit(1);
        }
    };
    println!(
        "batch-emulator listening on {} (account {})",
        handle.url(),
        handle.account()
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = sigterm.recv() => {}
    }
    tracing::info!("shutting down");
    handle.shutdown().await;
    Ok(())
}
