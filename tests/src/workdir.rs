//! A temporary Terraform working directory and the commands tests run in it.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::binaries::provider_dir;
use crate::cliconfig::{dev_overrides_config, mirror_config};
use crate::note;
use crate::output::{TfOutput, Validation};
use crate::terraform::Terraform;

/// Variables removed from Terraform's environment so that the developer's shell cannot change
/// what a test sees.
const SCRUBBED_ENV: &[&str] = &[
    "RUST_BACKTRACE",
    "TF_CLI_ARGS",
    "TF_CLI_ARGS_plan",
    "TF_CLI_ARGS_apply",
    "TF_CLI_ARGS_destroy",
    "TF_CLI_ARGS_import",
    "TF_CLI_ARGS_init",
    "TF_DATA_DIR",
    "TF_WORKSPACE",
    "TF_PLUGIN_CACHE_DIR",
    "TF_REATTACH_PROVIDERS",
    "TF_INPUT",
    "AZURE_BATCH_ACCOUNT",
    "AZURE_BATCH_ENDPOINT",
    "AZURE_BATCH_ACCESS_KEY",
];

fn default_timeout() -> Duration {
    let secs = std::env::var("E2E_TF_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// A temporary directory with a `main.tf`, its own CLI config and local state.
pub struct Workdir {
    dir: Option<TempDir>,
    /// Holds the CLI config when the working directory is not ours ([`Workdir::in_dir`]).
    _cli_dir: Option<TempDir>,
    path: PathBuf,
    tf: Terraform,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
    timeout: Duration,
}

impl Workdir {
    /// A working directory that loads `terraform-provider-batch` through `dev_overrides`
    /// (building it first if needed); no `terraform init` is required.
    pub fn new(tf: &Terraform) -> Workdir {
        let dir = provider_dir();
        Self::with_cli_config(tf, &dev_overrides_config(Some(&dir)))
    }

    /// A working directory for configurations that use only Terraform's built-in provider
    /// (`terraform_data`); nothing is built.
    pub fn without_provider(tf: &Terraform) -> Workdir {
        Self::with_cli_config(tf, &dev_overrides_config(None))
    }

    /// A working directory whose providers are installed by `terraform init` from filesystem
    /// mirrors (`hashicorp/null` from `.tools/mirror`, plus `local/batch` when `with_batch`).
    /// Call [`Workdir::init`] after writing the configuration.
    pub fn with_mirror(tf: &Terraform, with_batch: bool) -> Workdir {
        Self::with_cli_config(tf, &mirror_config(with_batch))
    }

    /// A working directory with the given CLI configuration text.
    pub fn with_cli_config(tf: &Terraform, cli_config: &str) -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("e2e-tf{}-", tf.version))
            .tempdir()
            .expect("create temp dir");
        let path = dir.path().to_path_buf();
        // Terraform reads only *.tf / *.tf.json from the directory, so this file does not interfere.
        let cli_path = path.join(".terraformrc");
        std::fs::write(&cli_path, cli_config).expect("write CLI config");
        let keep = std::env::var_os("E2E_KEEP_WORKDIRS").is_some();
        if keep {
            note(&format!("keeping working directory {}", path.display()));
        }
        Workdir {
            dir: if keep {
                let _ = dir.keep();
                None
            } else {
                Some(dir)
            },
            _cli_dir: None,
            path,
            tf: tf.clone(),
            cli_config: cli_path,
            env: Vec::new(),
            timeout: default_timeout(),
        }
    }

    /// Runs Terraform in an existing directory (e.g. a copy of `examples/`), which is left in
    /// place on drop; the CLI config goes to a temporary directory of its own.
    pub fn in_dir(tf: &Terraform, dir: &Path, cli_config: &str) -> Workdir {
        let cli_dir = tempfile::Builder::new()
            .prefix("e2e-cliconfig-")
            .tempdir()
            .expect("create temp dir");
        let cli_path = cli_dir.path().join("terraformrc");
        std::fs::write(&cli_path, cli_config).expect("write CLI config");
        Workdir {
            dir: None,
            _cli_dir: Some(cli_dir),
            path: dir.to_path_buf(),
            tf: tf.clone(),
            cli_config: cli_path,
            env: Vec::new(),
            timeout: default_timeout(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn terraform(&self) -> &Terraform {
        &self.tf
    }

    /// Path of the CLI configuration file passed as `TF_CLI_CONFIG_FILE`.
    pub fn cli_config_path(&self) -> &Path {
        &self.cli_config
    }

    /// Replaces `main.tf`.
    pub fn write_main(&self, hcl: &str) {
        self.write_file("main.tf", hcl);
    }

    /// Writes a file relative to the working directory (creating parent directories).
    pub fn write_file(&self, name: &str, content: &str) {
        let p = self.path.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// Reads a file relative to the working directory.
    pub fn read_file(&self, name: &str) -> String {
        let p = self.path.join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }

    /// Adds an environment variable for every later command (e.g. `TF_LOG`, `TF_VAR_x`).
    pub fn set_env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Changes the timeout of later commands (default `E2E_TF_TIMEOUT_SECS`, 300 s).
    pub fn set_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.tf.path);
        cmd.args(args)
            .current_dir(&self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1");
        for k in SCRUBBED_ENV {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        // Own process group: a timeout kills Terraform and the providers it started, and
        // `Running::interrupt` can deliver SIGINT to the whole group like a terminal's Ctrl-C.
        cmd.process_group(0);
        crate::die_with_parent(&mut cmd);
        cmd
    }

    /// Starts a command without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut cmd = self.command(args);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.tf.path.display()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            pump(child.stdout.take().expect("piped stdout"), stdout.clone()),
            pump(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        Running {
            child,
            args: args.iter().map(|s| s.to_string()).collect(),
            stdout,
            stderr,
            readers,
            start,
            timeout: self.timeout,
        }
    }

    /// Runs a command to completion (or its timeout) and returns what happened; never panics
    /// on a failing command.
    pub fn run(&self, args: &[&str]) -> TfOutput {
        self.spawn(args).wait()
    }

    /// Runs a command with a specific timeout.
    pub fn run_timeout(&self, args: &[&str], timeout: Duration) -> TfOutput {
        let mut r = self.spawn(args);
        r.timeout = timeout;
        r.wait()
    }

    /// Runs a command and panics unless it succeeds.
    #[track_caller]
    pub fn run_ok(&self, args: &[&str]) -> TfOutput {
        self.run(args).assert_success()
    }

    /// Starts a command, sends SIGINT (to its process group) after `after`, and waits for it.
    pub fn run_interrupted(&self, args: &[&str], after: Duration) -> TfOutput {
        let r = self.spawn(args);
        std::thread::sleep(after);
        r.interrupt();
        r.wait()
    }

    /// `terraform init` (for [`Workdir::with_mirror`] directories).
    #[track_caller]
    pub fn init(&self) -> TfOutput {
        self.run_ok(&["init", "-input=false", "-no-color"])
    }

    /// `terraform apply -auto-approve`; panics unless it succeeds.
    #[track_caller]
    pub fn apply(&self) -> TfOutput {
        self.try_apply().assert_success()
    }

    /// `terraform apply -auto-approve`, whatever its outcome.
    pub fn try_apply(&self) -> TfOutput {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform apply -auto-approve -json`, whatever its outcome; see
    /// [`TfOutput::diagnostics`] for the parsed errors.
    pub fn apply_json(&self) -> TfOutput {
        self.run(&["apply", "-auto-approve", "-input=false", "-json"])
    }

    /// `terraform plan -json` (machine-readable UI), whatever its outcome; use it to check
    /// plan-time diagnostics with [`TfOutput::diagnostics`].
    pub fn plan_ui_json(&self) -> TfOutput {
        self.run(&["plan", "-input=false", "-json"])
    }

    /// `terraform plan -out` + `terraform show -json`: the full JSON plan representation
    /// (`resource_changes`, `planned_values`, `prior_state`, ...). Panics if planning fails.
    #[track_caller]
    pub fn plan_json(&self) -> Value {
        self.plan_json_args(&[])
    }

    /// [`Workdir::plan_json`] with extra plan arguments (e.g. `-refresh=false`, `-destroy`,
    /// `-generate-config-out=gen.tf`).
    #[track_caller]
    pub fn plan_json_args(&self, extra: &[&str]) -> Value {
        let mut args = vec!["plan", "-input=false", "-no-color", "-out=e2e.tfplan"];
        args.extend_from_slice(extra);
        self.run_ok(&args);
        let shown = self.run_ok(&["show", "-json", "e2e.tfplan"]);
        serde_json::from_str(&shown.stdout).expect("show -json prints JSON")
    }

    /// `terraform plan -detailed-exitcode` (with `-refresh=false` unless `refresh`):
    /// true when nothing would change (resources and outputs). Panics if planning fails.
    #[track_caller]
    pub fn plan_is_empty(&self, refresh: bool) -> bool {
        let refresh_arg = format!("-refresh={refresh}");
        let out = self.run(&[
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            &refresh_arg,
        ]);
        match out.code {
            Some(0) if !out.timed_out => true,
            Some(2) => false,
            _ => panic!("plan failed:\n{}", out.describe()),
        }
    }

    /// terraform-plugin-testing's post-apply check: the plan without refresh and the plan with
    /// refresh must both be empty. On failure the message shows the plan.
    #[track_caller]
    pub fn assert_plan_empty(&self) {
        for refresh in [false, true] {
            if !self.plan_is_empty(refresh) {
                let shown = self.run(&[
                    "plan",
                    "-input=false",
                    "-no-color",
                    &format!("-refresh={refresh}"),
                ]);
                panic!(
                    "the {} plan is not empty ({}):\n{}",
                    if refresh { "refresh" } else { "non-refresh" },
                    self.tf.label(),
                    shown.stdout
                );
            }
        }
    }

    /// `terraform import <addr> <id>`; panics unless it succeeds.
    #[track_caller]
    pub fn import(&self, addr: &str, id: &str) -> TfOutput {
        self.try_import(addr, id).assert_success()
    }

    /// `terraform import <addr> <id>`, whatever its outcome.
    pub fn try_import(&self, addr: &str, id: &str) -> TfOutput {
        self.run(&["import", "-input=false", "-no-color", addr, id])
    }

    /// `terraform show -json`: the state (`{"values": {"root_module": {"resources": [...]}}}`;
    /// no `values` key when the state is empty).
    #[track_caller]
    pub fn state_json(&self) -> Value {
        let out = self.run_ok(&["show", "-json"]);
        serde_json::from_str(&out.stdout).expect("show -json prints JSON")
    }

    /// The `values` of one resource instance in the state (root module or child modules),
    /// by address such as `batch_job.j` or `module.m.batch_job.j[0]`.
    #[track_caller]
    pub fn resource(&self, address: &str) -> Option<Value> {
        let state = self.state_json();
        find_resource(&state["values"]["root_module"], address)
    }

    /// Addresses of every resource instance in the state.
    #[track_caller]
    pub fn state_addresses(&self) -> Vec<String> {
        let state = self.state_json();
        let mut out = Vec::new();
        collect_addresses(&state["values"]["root_module"], &mut out);
        out
    }

    /// `terraform output -json`: `{name: {"sensitive": .., "type": .., "value": ..}}`.
    #[track_caller]
    pub fn output_json(&self) -> Value {
        let out = self.run_ok(&["output", "-json"]);
        serde_json::from_str(&out.stdout).expect("output -json prints JSON")
    }

    /// The value of one root output (panics if it does not exist).
    #[track_caller]
    pub fn output(&self, name: &str) -> Value {
        let all = self.output_json();
        match all.get(name) {
            Some(o) => o["value"].clone(),
            None => panic!("no output {name:?}; outputs: {all}"),
        }
    }

    /// `terraform destroy -auto-approve`; panics unless it succeeds.
    #[track_caller]
    pub fn destroy(&self) -> TfOutput {
        self.try_destroy().assert_success()
    }

    /// `terraform destroy -auto-approve`, whatever its outcome.
    pub fn try_destroy(&self) -> TfOutput {
        self.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform validate -json`, parsed (the dev_overrides warning removed).
    #[track_caller]
    pub fn validate_json(&self) -> Validation {
        let out = self.run(&["validate", "-json", "-no-color"]);
        serde_json::from_str::<Validation>(&out.stdout)
            .unwrap_or_else(|e| {
                panic!(
                    "validate -json output is not JSON ({e}):\n{}",
                    out.describe()
                )
            })
            .without_dev_overrides_warning()
    }

    /// `terraform providers schema -json`.
    #[track_caller]
    pub fn providers_schema_json(&self) -> Value {
        let out = self.run_ok(&["providers", "schema", "-json"]);
        serde_json::from_str(&out.stdout).expect("providers schema -json prints JSON")
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if std::thread::panicking() && self.dir.is_some() {
            note(&format!(
                "working directory of the failed test ({}): {} (removed; set E2E_KEEP_WORKDIRS=1 to keep it)",
                self.tf.label(),
                self.path.display()
            ));
        }
    }
}

/// Copies a directory tree (files and directories; symlinks are followed), skipping Terraform's
/// working files (`.terraform`, `.terraform.lock.hcl`, `terraform.tfstate*`).
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let name = entry.file_name();
        let n = name.to_string_lossy();
        if n == ".terraform" || n == ".terraform.lock.hcl" || n.starts_with("terraform.tfstate") {
            continue;
        }
        let from = entry.path();
        let to = dst.join(&name);
        if from.is_dir() {
            copy_tree(&from, &to)?;
        } else {
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

fn find_resource(module: &Value, address: &str) -> Option<Value> {
    if let Some(rs) = module["resources"].as_array()
        && let Some(r) = rs.iter().find(|r| r["address"] == address)
    {
        return Some(r["values"].clone());
    }
    module["child_modules"]
        .as_array()?
        .iter()
        .find_map(|m| find_resource(m, address))
}

fn collect_addresses(module: &Value, out: &mut Vec<String>) {
    if let Some(rs) = module["resources"].as_array() {
        out.extend(
            rs.iter()
                .filter_map(|r| r["address"].as_str().map(String::from)),
        );
    }
    if let Some(ms) = module["child_modules"].as_array() {
        for m in ms {
            collect_addresses(m, out);
        }
    }
}

fn pump(mut src: impl Read + Send + 'static, dst: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match src.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => dst.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

/// A Terraform command started with [`Workdir::spawn`].
pub struct Running {
    child: Child,
    args: Vec<String>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    start: Instant,
    timeout: Duration,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// stdout printed so far.
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Waits until stdout contains `needle` (true) or the process exits / `timeout` passes (false).
    pub fn wait_for_stdout(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stdout_so_far().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline || matches!(self.child.try_wait(), Ok(Some(_))) {
                return self.stdout_so_far().contains(needle);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGINT to Terraform's process group (Terraform and its providers), as Ctrl-C in a
    /// terminal does. Terraform then stops gracefully; providers are expected to ignore it.
    pub fn interrupt(&self) {
        self.signal_group(libc::SIGINT);
    }

    /// Sends SIGINT to the Terraform process only.
    pub fn interrupt_terraform_only(&self) {
        // SAFETY: kill(2) with a pid we own; no memory is involved.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
    }

    /// Kills the Terraform process only, with SIGKILL (no chance to clean up), as the OOM killer
    /// or a `kill -9` does; the providers it started are left to notice on their own.
    pub fn kill_terraform_only(&self) {
        // SAFETY: kill(2) with a pid we own; no memory is involved.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGKILL);
        }
    }

    fn signal_group(&self, sig: libc::c_int) {
        // The child is the leader of its own group (process_group(0)), so -pid names the group.
        // SAFETY: kill(2) with a process group we created; no memory is involved.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), sig);
        }
    }

    /// Waits for the command to finish; after the timeout, kills its whole process group.
    pub fn wait(mut self) -> TfOutput {
        let deadline = self.start + self.timeout;
        let mut timed_out = false;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    self.signal_group(libc::SIGKILL);
                    break self.child.wait().ok();
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("waiting for terraform: {e}"),
            }
        };
        let duration = self.start.elapsed();
        // Providers that outlive Terraform (they should not) would keep the pipes open; do not
        // wait for them forever.
        let join_deadline = Instant::now() + Duration::from_secs(10);
        for r in self.readers.drain(..) {
            while !r.is_finished() && Instant::now() < join_deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if r.is_finished() {
                let _ = r.join();
            }
        }
        TfOutput {
            args: std::mem::take(&mut self.args),
            code: status.and_then(|s| s.code()),
            stdout: String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned(),
            duration,
            timed_out,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A Running dropped without wait() (e.g. a panicking test) must not leave processes.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal_group(libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}
