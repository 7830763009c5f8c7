//! Starting the local Batch service (`batch-emulator`) for one test.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::binaries::emulator_binary;
use crate::cliconfig::required_providers_hcl;
use crate::docker::docker_host;
use crate::note;

/// The development account of the local service.
pub const DEV_ACCOUNT: &str = "devbatch";
/// The well-known development key (public, like Azurite's; not a secret).
pub const DEV_KEY: &str =
    "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww==";

/// batch-emulator arguments for short pool allocation, node start and delete delays (tests and
/// the bench wait for states, so the service's realistic delays would only slow them down).
pub const SHORT_DELAYS: &[&str] = &[
    "--allocation-delay",
    "200ms",
    "--node-start-delay",
    "100ms",
    "--delete-delay",
    "200ms",
];

/// How the emulator runs tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// Command lines run on the host (no container engine needed).
    Process,
    /// Container tasks run through the Docker Engine API at DOCKER_HOST (Docker or Podman).
    Docker,
}

impl Runtime {
    pub fn as_arg(self) -> &'static str {
        match self {
            Runtime::Process => "process",
            Runtime::Docker => "docker",
        }
    }
}

/// Options for [`Emulator::start_with`].
#[derive(Clone, Debug)]
pub struct EmulatorOptions {
    pub runtime: Runtime,
    pub account: String,
    pub key: String,
    /// Extra command-line arguments for batch-emulator.
    pub extra_args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// How long to wait for the service to accept connections.
    pub startup_timeout: Duration,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            runtime: Runtime::Process,
            account: DEV_ACCOUNT.to_string(),
            key: DEV_KEY.to_string(),
            extra_args: Vec::new(),
            env: Vec::new(),
            startup_timeout: Duration::from_secs(30),
        }
    }
}

/// A running `batch-emulator` on a free loopback port with its own data directory.
/// Killed when dropped (its output is printed if the test is failing).
pub struct Emulator {
    child: Option<Child>,
    opts: EmulatorOptions,
    addr: SocketAddr,
    data_dir: TempDir,
    log: Arc<Mutex<String>>,
}

impl Emulator {
    /// Starts the service with the dev account and key.
    pub fn start(runtime: Runtime) -> Emulator {
        Self::start_with(EmulatorOptions {
            runtime,
            ..Default::default()
        })
    }

    pub fn start_with(opts: EmulatorOptions) -> Emulator {
        let data_dir = tempfile::Builder::new()
            .prefix("e2e-batch-emulator-")
            .tempdir()
            .expect("create emulator data dir");
        let log = Arc::new(Mutex::new(String::new()));
        let (child, addr) = spawn_listening(&opts, data_dir.path(), &log);
        Emulator {
            child: Some(child),
            opts,
            addr,
            data_dir,
            log,
        }
    }

    /// `http://127.0.0.1:<port>`: the Batch account endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn account(&self) -> &str {
        &self.opts.account
    }

    pub fn key(&self) -> &str {
        &self.opts.key
    }

    pub fn runtime(&self) -> Runtime {
        self.opts.runtime
    }

    /// Base URL of the emulator's admin API (`<endpoint>/_emulator`: fault injection, pool
    /// behaviour overrides, health), unauthenticated.
    pub fn admin_url(&self) -> String {
        format!("{}/_emulator", self.endpoint())
    }

    /// One request to the admin API, e.g. `admin("PUT", "/faults", Some(json))`:
    /// `(status, body)`. Panics if the service does not answer.
    pub fn admin(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.request(method, &format!("/_emulator{path}"), body)
    }

    /// How often each fault rule fired, in rule order, and the rules as the service reports them.
    pub fn faults_fired(&self) -> (Vec<u64>, serde_json::Value) {
        let (_, faults) = self.admin("GET", "/faults", None);
        let faults: serde_json::Value = serde_json::from_str(&faults).expect("fault rules JSON");
        let fired = faults["rules"]
            .as_array()
            .expect("fault rules")
            .iter()
            .map(|r| r["fired"].as_u64().expect("fired count"))
            .collect();
        (fired, faults)
    }

    /// One unauthenticated request to any path of the service (`(status, body)`); Batch paths
    /// need Shared Key signatures, so this is mostly for the admin API and negative tests.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let addr = self.addr.to_string();
        crate::http::request(crate::http::Target::Tcp(&addr), method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path} on batch-emulator: {e}\n{}", self.log()))
    }

    /// The emulator's data directory (kept across [`Emulator::restart`]).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Everything the emulator printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// `provider "batch" { ... }` pointing at this service, preceded by `required_providers`.
    pub fn provider_hcl(&self) -> String {
        format!(
            "{}\nprovider \"batch\" {{\n  account_name     = \"{}\"\n  account_endpoint = \"{}\"\n  account_key      = \"{}\"\n}}\n",
            required_providers_hcl(),
            self.account(),
            self.endpoint(),
            self.key()
        )
    }

    /// A Batch client for this service (Shared Key), to check what the service really holds.
    /// reqwest clients must not outlive the runtime they first ran on, so create one per
    /// [`crate::block_on`] call:
    /// `e2e::block_on(async { emu.client().get_job("j", &RequestOptions::new()).await })`.
    pub fn client(&self) -> batch_client::BatchClient {
        let auth =
            batch_client::Auth::shared_key(self.account(), self.key()).expect("valid shared key");
        batch_client::BatchClient::new(batch_client::ClientConfig::new(self.endpoint(), auth))
            .expect("batch client")
    }

    /// Environment variables that configure the provider for this service instead of a
    /// provider block (`AZURE_BATCH_ACCOUNT`, `AZURE_BATCH_ENDPOINT`, `AZURE_BATCH_ACCESS_KEY`).
    pub fn provider_env(&self) -> Vec<(String, String)> {
        vec![
            ("AZURE_BATCH_ACCOUNT".into(), self.account().into()),
            ("AZURE_BATCH_ENDPOINT".into(), self.endpoint()),
            ("AZURE_BATCH_ACCESS_KEY".into(), self.key().into()),
        ]
    }

    /// Stops the process (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }

    /// Stops and starts the service again on the same port with the same data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.log.lock().unwrap().push_str("\n--- restart ---\n");
        let deadline = Instant::now() + self.opts.startup_timeout;
        loop {
            match try_spawn(&self.opts, self.data_dir.path(), self.addr, &self.log) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                // The port can stay busy for a moment after the old process exits.
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("batch-emulator did not restart: {e}\n{}", self.log()),
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = self.log();
            let tail: String = {
                let lines: Vec<&str> = log.lines().collect();
                lines[lines.len().saturating_sub(60)..].join("\n")
            };
            note(&format!(
                "batch-emulator at {} (failed test), last output:\n{tail}",
                self.endpoint()
            ));
        }
    }
}

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    l.local_addr().expect("local addr")
}

fn spawn_listening(
    opts: &EmulatorOptions,
    data_dir: &Path,
    log: &Arc<Mutex<String>>,
) -> (Child, SocketAddr) {
    // Another process can take the free port between our probe and the emulator's bind: retry.
    let mut last = String::new();
    for _ in 0..5 {
        let addr = free_port();
        match try_spawn(opts, data_dir, addr, log) {
            Ok(child) => return (child, addr),
            Err(e) => last = e,
        }
    }
    panic!(
        "batch-emulator did not start: {last}\n{}",
        log.lock().unwrap()
    );
}

fn try_spawn(
    opts: &EmulatorOptions,
    data_dir: &Path,
    addr: SocketAddr,
    log: &Arc<Mutex<String>>,
) -> Result<Child, String> {
    let bin: PathBuf = emulator_binary();
    let mut cmd = Command::new(&bin);
    cmd.arg("--listen")
        .arg(addr.to_string())
        .arg("--account")
        .arg(&opts.account)
        .arg("--key")
        .arg(&opts.key)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--runtime")
        .arg(opts.runtime.as_arg())
        .args(&opts.extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_BACKTRACE");
    if opts.runtime == Runtime::Docker
        && let Some(host) = docker_host()
    {
        cmd.env("DOCKER_HOST", host);
    }
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    crate::die_with_parent(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    pump_lines(child.stdout.take().expect("stdout"), log.clone());
    pump_lines(child.stderr.take().expect("stderr"), log.clone());

    // Ready when the port accepts connections (independent of the wording of its startup line).
    let deadline = Instant::now() + opts.startup_timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("batch-emulator exited during startup ({status})"));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            terminate(&mut child);
            return Err(format!(
                "batch-emulator did not listen on {addr} within {:?}",
                opts.startup_timeout
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pump_lines(src: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(src).lines() {
            let Ok(line) = line else { break };
            let mut l = log.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
}

fn terminate(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Pool_Add's body for a container pool of `nodes` x `slots` on the image the local service runs
/// (Ubuntu 22.04, Docker-compatible, busybox prefetched).
pub fn container_pool_body(id: &str, nodes: u32, slots: u32) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "vmSize": "STANDARD_D2S_V3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204", "version": "latest"},
            "nodeAgentSKUId": "batch.node.ubuntu 22.04",
            "containerConfiguration": {"type": "dockerCompatible", "containerImageNames": ["busybox"]}
        },
        "targetDedicatedNodes": nodes,
        "taskSlotsPerNode": slots
    })
}
