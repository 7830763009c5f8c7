//! Running task command lines: on the host (`process`) or in containers through the Docker Engine
//! API (`docker`, also served by `podman system service`).

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::docker_api::call;

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub category: &'static str,
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn user(code: &str, message: impl Into<String>) -> Self {
        Failure {
            category: "UserError",
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn server(code: &str, message: impl Into<String>) -> Self {
        Failure {
            category: "ServerError",
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn to_value(&self) -> Value {
        json!({"category": self.category, "code": self.code, "message": self.message})
    }
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub exit_code: Option<i64>,
    pub failure: Option<Failure>,
    pub container_info: Option<Value>,
}

/// The cancellation tokens of running tasks, keyed by (job key, task key): stopping a task in the
/// state kills its process through these.
#[derive(Default)]
pub struct Runners(
    std::sync::Mutex<std::collections::HashMap<(String, String), CancellationToken>>,
);

impl Runners {
    /// Register a new run of a task and return its token.
    pub fn register(&self, jk: &str, tk: &str) -> CancellationToken {
        let tok = CancellationToken::new();
        self.0
            .lock()
            .unwrap()
            .insert((jk.to_string(), tk.to_string()), tok.clone());
        tok
    }
    /// The run ended by itself: forget its token.
    pub fn forget(&self, jk: &str, tk: &str) {
        self.0
            .lock()
            .unwrap()
            .remove(&(jk.to_string(), tk.to_string()));
    }
    /// Kill the run of a task, if any.
    pub fn cancel(&self, jk: &str, tk: &str) {
        if let Some(tok) = self
            .0
            .lock()
            .unwrap()
            .remove(&(jk.to_string(), tk.to_string()))
        {
            tok.cancel();
        }
    }
    /// Kill every run; true if there was any.
    pub fn cancel_all(&self) -> bool {
        let tokens: Vec<CancellationToken> =
            self.0.lock().unwrap().drain().map(|(_, t)| t).collect();
        let any = !tokens.is_empty();
        for t in tokens {
            t.cancel();
        }
        any
    }
}

/// Everything needed to run one task (or start/prep/release task) on a node.
pub struct RunSpec {
    pub name: String,
    pub command_line: String,
    pub env: Vec<(String, String)>,
    pub task_dir: PathBuf,
    pub working_dir: PathBuf,
    pub node_root: PathBuf,
    /// The task's `containerSettings`, if any.
    pub container: Option<Value>,
    pub max_wall_ms: Option<i64>,
    /// `resourceFiles` to download into the working directory before the command runs.
    pub resource_files: Vec<Value>,
    /// The pool's `containerRegistries`: used when `containerSettings` names no registry.
    pub pool_registries: Vec<Value>,
}

#[derive(Clone)]
pub enum Runtime {
    Process,
    Docker(bollard::Docker),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    Process,
    Docker,
}

impl Runtime {
    /// Connect to the configured runtime. For docker, DOCKER_HOST (default unix:///var/run/docker.sock) must answer.
    /// Every Docker Engine API call is bounded by `timeout` (see [`crate::docker_api`]).
    pub async fn connect(kind: RuntimeKind, timeout: Duration) -> anyhow::Result<Runtime> {
        match kind {
            RuntimeKind::Process => Ok(Runtime::Process),
            RuntimeKind::Docker => {
                let host = std::env::var("DOCKER_HOST")
                    .unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
                let d = bollard::Docker::connect_with_defaults()
                    .map(|d| d.with_timeout(timeout))
                    .map_err(|e| {
                    anyhow::anyhow!(
                        "--runtime docker: cannot use the Docker Engine API at DOCKER_HOST={host} ({e}); start Docker or `podman system service` (scripts/setup-podman.sh)"
                    )
                })?;
                call(&d, d.ping()).await.map_err(|e| {
                    anyhow::anyhow!(
                        "--runtime docker: the Docker Engine API at DOCKER_HOST={} does not answer ({e}); start Docker or `podman system service`",
                        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
                    )
                })?;
                Ok(Runtime::Docker(d))
            }
        }
    }

    /// Make sure the pool's images are available when a node starts (Batch pre-fetches them),
    /// pulling with the pool's `containerRegistries` credentials for the image's registry.
    pub async fn prefetch(&self, images: &[String], registries: &[Value]) -> Result<(), Failure> {
        let Runtime::Docker(d) = self else {
            return Ok(());
        };
        for img in images {
            ensure_image(d, img, credentials_for(img, None, registries)).await?;
        }
        Ok(())
    }

    pub async fn run(&self, spec: RunSpec, cancel: CancellationToken) -> Outcome {
        let _ = std::fs::create_dir_all(&spec.working_dir);
        for rf in &spec.resource_files {
            if let Err(f) = download_resource_file(rf, &spec.working_dir).await {
                return Outcome {
                    failure: Some(f),
                    ..Default::default()
                };
            }
        }
        match (self, spec.container.is_some()) {
            (Runtime::Docker(d), true) => run_container(d, spec, cancel).await,
            _ => run_process(spec, cancel).await,
        }
    }
}

/// Download one `resourceFile` (`httpUrl` only: storage containers need Azure Storage) into `wd`.
async fn download_resource_file(rf: &Value, wd: &std::path::Path) -> Result<(), Failure> {
    let fail = |msg: String| Failure::user("ResourceFileDownloadFailed", msg);
    let Some(url) = rf.get("httpUrl").and_then(Value::as_str) else {
        let kind = if rf.get("autoStorageContainerName").is_some() {
            "autoStorageContainerName"
        } else {
            "storageContainerUrl"
        };
        return Err(fail(format!(
            "Resource files from {kind} need Azure Storage, which the local Batch service cannot reach; use httpUrl."
        )));
    };
    let rel = match rf.get("filePath").and_then(Value::as_str) {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => {
            return Err(fail(format!(
                "The resource file from '{url}' has no filePath."
            )));
        }
    };
    if std::path::Path::new(&rel).components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    }) {
        return Err(fail(format!(
            "The resource file path '{rel}' must be relative and stay inside the working directory."
        )));
    }
    let dest = wd.join(&rel);
    if let Some(parent) = dest.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    crate::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(format!("Downloading '{}' failed: {e}", redact(url))))?;
    if !resp.status().is_success() {
        return Err(fail(format!(
            "Downloading '{}' failed with HTTP status {}.",
            redact(url),
            resp.status().as_u16()
        )));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| fail(format!("Downloading '{}' failed: {e}", redact(url))))?;
    std::fs::write(&dest, &bytes).map_err(|e| fail(format!("Cannot write '{rel}': {e}")))?;
    if let Some(mode) = rf.get("fileMode").and_then(Value::as_str) {
        use std::os::unix::fs::PermissionsExt;
        let m = u32::from_str_radix(mode, 8)
            .map_err(|_| fail(format!("fileMode '{mode}' is not an octal mode.")))?;
        let _ = std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(m));
    }
    Ok(())
}

/// URLs may carry SAS tokens: never show their query.
fn redact(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<redacted>"),
        None => url.to_string(),
    }
}

fn wall_clock(spec: &RunSpec) -> Duration {
    match spec.max_wall_ms {
        Some(ms) if ms > 0 && ms < 10 * 365 * 86_400_000 => Duration::from_millis(ms as u64),
        _ => Duration::from_secs(10 * 365 * 86_400),
    }
}

fn wall_clock_failure() -> Failure {
    Failure::user(
        "MaxWallClockTimeExpiry",
        "The task ran longer than the maximum wall clock time allowed by its constraints.",
    )
}

fn exit_failure(code: i64) -> Failure {
    Failure::user(
        "FailureExitCode",
        format!("The task exited with an exit code representing a failure ({code})."),
    )
}

async fn run_process(spec: RunSpec, cancel: CancellationToken) -> Outcome {
    if spec.container.is_some() && spec.command_line.trim().is_empty() {
        return Outcome {
            failure: Some(Failure::user(
                "ContainerEntrypointNotSupported",
                "The task has an empty command line, which runs the container image's ENTRYPOINT; the local Batch service's process runtime \
                 cannot run the image's ENTRYPOINT. Give the task a command line or start batch-emulator with --runtime docker.",
            )),
            ..Default::default()
        };
    }
    // Batch does not run the command line through a shell: split it like one and exec the program.
    let argv = match shell_words::split(&spec.command_line) {
        Ok(a) if !a.is_empty() => a,
        Ok(_) => {
            return Outcome {
                failure: Some(Failure::user(
                    "CommandProgramNotFound",
                    "The command line is empty.",
                )),
                ..Default::default()
            };
        }
        Err(e) => {
            return Outcome {
                failure: Some(Failure::user(
                    "CommandLineInvalid",
                    format!("The command line cannot be parsed: {e}."),
                )),
                ..Default::default()
            };
        }
    };
    let open = |name: &str| std::fs::File::create(spec.task_dir.join(name));
    let (out, err) = match (open("stdout.txt"), open("stderr.txt")) {
        (Ok(o), Ok(e)) => (o, e),
        (Err(e), _) | (_, Err(e)) => {
            return Outcome {
                failure: Some(Failure::server(
                    "TaskDirectoryError",
                    format!("Cannot create the task's output files: {e}"),
                )),
                ..Default::default()
            };
        }
    };
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(&spec.working_dir)
        // The account key must not leak into tasks through the inherited environment.
        .env_remove("BATCH_EMULATOR_KEY")
        .envs(spec.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .kill_on_drop(true)
        // Its own process group, so that ending the task also ends what it started (`sh -c 'sleep ...'`).
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Outcome {
                failure: Some(Failure::user(
                    "CommandProgramNotFound",
                    format!("The specified command program is not found: '{}'.", argv[0]),
                )),
                ..Default::default()
            };
        }
        Err(e) => {
            return Outcome {
                failure: Some(Failure::user(
                    "CommandProgramStartFailed",
                    format!(
                        "The command program '{}' could not be started: {e}.",
                        argv[0]
                    ),
                )),
                ..Default::default()
            };
        }
    };
    tokio::select! {
        status = child.wait() => {
            let code = status.ok().and_then(|s| {
                use std::os::unix::process::ExitStatusExt;
                s.code().or_else(|| s.signal().map(|sig| 128 + sig))
            }).unwrap_or(-1) as i64;
            Outcome { exit_code: Some(code), failure: (code != 0).then(|| exit_failure(code)), container_info: None }
        }
        _ = tokio::time::sleep(wall_clock(&spec)) => {
            kill_group(&mut child).await;
            Outcome { exit_code: None, failure: Some(wall_clock_failure()), container_info: None }
        }
        _ = cancel.cancelled() => {
            kill_group(&mut child).await;
            Outcome::default()
        }
    }
}

async fn kill_group(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) with a negative pid signals the process group created for the task.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
    let _ = child.kill().await;
}

/// The registry host of an image reference, as Docker reads it: the first path component when it
/// looks like a host (has `.` or `:`, or is `localhost`), else Docker Hub.
fn image_registry(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// A `registryServer` as a bare host (Batch accepts `https://host/` too); absent means Docker Hub.
fn registry_host(r: &Value) -> String {
    let server = r
        .get("registryServer")
        .and_then(Value::as_str)
        .unwrap_or("docker.io");
    let host = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        _ => host,
    }
}

/// The credentials to pull `image` with (sent as the Docker Engine API's X-Registry-Auth): the
/// task's own `registry` when it has one, else the pool's registry for the image's host.
pub fn credentials_for(
    image: &str,
    task_registry: Option<&Value>,
    pool_registries: &[Value],
) -> Option<bollard::auth::DockerCredentials> {
    let host = image_registry(image).to_ascii_lowercase();
    let r = task_registry.or_else(|| pool_registries.iter().find(|r| registry_host(r) == host))?;
    let field = |k: &str| r.get(k).and_then(Value::as_str).map(String::from);
    Some(bollard::auth::DockerCredentials {
        username: field("username"),
        password: field("password"),
        serveraddress: Some(registry_host(r)),
        ..Default::default()
    })
}

async fn ensure_image(
    d: &bollard::Docker,
    image: &str,
    credentials: Option<bollard::auth::DockerCredentials>,
) -> Result<(), Failure> {
    if call(d, d.inspect_image(image)).await.is_ok() {
        return Ok(());
    }
    use futures::StreamExt;
    let opts = bollard::query_parameters::CreateImageOptionsBuilder::new()
        .from_image(image)
        .build();
    let mut stream = d.create_image(Some(opts), None, credentials);
    let pulled = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(item) = stream.next().await {
            item.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })
    .await;
    match pulled {
        Ok(Ok(())) if call(d, d.inspect_image(image)).await.is_ok() => Ok(()),
        Ok(Err(e)) => Err(Failure::user(
            "ContainerImagePullFailed",
            format!(
                "The container image '{image}' is not present on the node and could not be pulled: {e}"
            ),
        )),
        _ => Err(Failure::user(
            "ContainerImagePullFailed",
            format!(
                "The container image '{image}' is not present on the node and could not be pulled."
            ),
        )),
    }
}

/// The subset of `docker create` options the emulator understands in `containerRunOptions`.
#[derive(Default, Debug, PartialEq)]
pub struct RunOptions {
    pub rm: bool,
    pub workdir: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Option<String>,
    pub user: Option<String>,
    pub network: Option<String>,
    pub volumes: Vec<String>,
    pub init: bool,
    pub privileged: bool,
}

pub fn parse_run_options(s: &str) -> Result<RunOptions, String> {
    let args =
        shell_words::split(s).map_err(|e| format!("containerRunOptions cannot be parsed: {e}"))?;
    let mut o = RunOptions::default();
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("containerRunOptions: '{name}' needs a value"))
        };
        match flag.as_str() {
            "--rm" => o.rm = true,
            "--init" => o.init = true,
            "--privileged" => o.privileged = true,
            "-w" | "--workdir" => o.workdir = Some(value(&flag)?),
            "-e" | "--env" => o.env.push(value(&flag)?),
            "--entrypoint" => o.entrypoint = Some(value(&flag)?),
            "-u" | "--user" => o.user = Some(value(&flag)?),
            "--network" | "--net" => o.network = Some(value(&flag)?),
            "-v" | "--volume" => o.volumes.push(value(&flag)?),
            // Resource limits have no meaning for the local service: accepted and ignored.
            "--cpus" | "-m" | "--memory" | "--shm-size" | "--memory-swap" | "--cpu-shares"
            | "--ulimit" | "--ipc" | "--pids-limit" => {
                value(&flag)?;
            }
            other => {
                return Err(format!(
                    "containerRunOptions: option '{other}' is not supported by the local Batch service (supported: --rm, -w/--workdir, -e/--env, \
                     --entrypoint, -u/--user, --network/--net, -v/--volume, --init, --privileged; ignored: --cpus, --memory, --shm-size, --ulimit, --ipc, --pids-limit)"
                ));
            }
        }
    }
    Ok(o)
}

async fn run_container(d: &bollard::Docker, spec: RunSpec, cancel: CancellationToken) -> Outcome {
    use bollard::models::{ContainerCreateBody, HostConfig};
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;

    let cs = spec.container.clone().unwrap_or_default();
    let image = cs
        .get("imageName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let opts = match parse_run_options(
        cs.get("containerRunOptions")
            .and_then(Value::as_str)
            .unwrap_or(""),
    ) {
        Ok(o) => o,
        Err(e) => {
            return Outcome {
                failure: Some(Failure::user("ContainerInvalidRunOptions", e)),
                ..Default::default()
            };
        }
    };
    let creds = credentials_for(&image, cs.get("registry"), &spec.pool_registries);
    if let Err(f) = ensure_image(d, &image, creds).await {
        return Outcome {
            failure: Some(f),
            ..Default::default()
        };
    }
    let argv = match shell_words::split(&spec.command_line) {
        Ok(a) => a,
        Err(e) => {
            return Outcome {
                failure: Some(Failure::user(
                    "CommandLineInvalid",
                    format!("The command line cannot be parsed: {e}."),
                )),
                ..Default::default()
            };
        }
    };
    let image_default = cs
        .get("workingDirectory")
        .and_then(Value::as_str)
        .is_some_and(|w| w.eq_ignore_ascii_case("containerImageDefault"));
    let working_dir = opts
        .workdir
        .clone()
        .or_else(|| (!image_default).then(|| spec.working_dir.to_string_lossy().into_owned()));
    let mut binds: Vec<String> = vec![];
    match cs
        .get("containerHostBatchBindMounts")
        .and_then(Value::as_array)
    {
        None => binds.push(format!("{0}:{0}", spec.node_root.display())),
        Some(list) => {
            binds.push(format!("{0}:{0}", spec.task_dir.display()));
            for m in list {
                let sub = match m
                    .get("source")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "shared" => "shared",
                    "startup" => "startup",
                    "vfsmounts" => "fsmounts",
                    "applications" => "applications",
                    "jobprep" | "task" => continue,
                    _ => continue,
                };
                let ro = if m.get("isReadOnly").and_then(Value::as_bool) == Some(true) {
                    ":ro"
                } else {
                    ""
                };
                let p = spec.node_root.join(sub);
                let _ = std::fs::create_dir_all(&p);
                binds.push(format!("{0}:{0}{ro}", p.display()));
            }
        }
    }
    binds.extend(opts.volumes.iter().cloned());
    let mut env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    for e in &opts.env {
        if e.contains('=') {
            env.push(e.clone());
        } else if let Ok(v) = std::env::var(e) {
            env.push(format!("{e}={v}"));
        }
    }
    let name = format!(
        "batchemu-{}-{}",
        spec.name,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let body = ContainerCreateBody {
        image: Some(image.clone()),
        cmd: (!argv.is_empty()).then_some(argv),
        entrypoint: opts.entrypoint.as_ref().map(|e| vec![e.clone()]),
        env: Some(env),
        working_dir,
        user: opts.user.clone(),
        host_config: Some(HostConfig {
            binds: Some(binds),
            network_mode: opts.network.clone(),
            init: opts.init.then_some(true),
            privileged: opts.privileged.then_some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let create_opts = bollard::query_parameters::CreateContainerOptionsBuilder::new()
        .name(&name)
        .build();
    let created = match call(d, d.create_container(Some(create_opts), body)).await {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                failure: Some(e.failure("ContainerCreateFailed", "create the container", &image)),
                ..Default::default()
            };
        }
    };
    let id = created.id;
    let remove = |d: bollard::Docker, id: String| async move {
        let o = bollard::query_parameters::RemoveContainerOptionsBuilder::new()
            .force(true)
            .build();
        let _ = call(&d, d.remove_container(&id, Some(o))).await;
    };
    let start = d.start_container(
        &id,
        None::<bollard::query_parameters::StartContainerOptions>,
    );
    if let Err(e) = call(d, start).await {
        remove(d.clone(), id.clone()).await;
        return Outcome {
            failure: Some(e.failure("ContainerStartFailed", "start the container", &image)),
            container_info: Some(
                json!({"containerId": id, "state": "created", "error": e.to_string()}),
            ),
            ..Default::default()
        };
    }
    let mut log_task = {
        let d = d.clone();
        let id = id.clone();
        let dir = spec.task_dir.clone();
        tokio::spawn(async move {
            let mut out = tokio::fs::File::create(dir.join("stdout.txt")).await.ok();
            let mut err = tokio::fs::File::create(dir.join("stderr.txt")).await.ok();
            let o = bollard::query_parameters::LogsOptionsBuilder::new()
                .follow(true)
                .stdout(true)
                .stderr(true)
                .build();
            let mut logs = d.logs(&id, Some(o));
            while let Some(Ok(chunk)) = logs.next().await {
                use bollard::container::LogOutput;
                match chunk {
                    LogOutput::StdErr { message } => {
                        if let Some(f) = err.as_mut() {
                            let _ = f.write_all(&message).await;
                        }
                    }
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        if let Some(f) = out.as_mut() {
                            let _ = f.write_all(&message).await;
                        }
                    }
                    _ => {}
                }
            }
            for f in [out.as_mut(), err.as_mut()].into_iter().flatten() {
                let _ = f.flush().await;
            }
        })
    };
    let wait = async {
        let mut w = d.wait_container(&id, None::<bollard::query_parameters::WaitContainerOptions>);
        match w.next().await {
            Some(Ok(r)) => r.status_code,
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
            _ => -1,
        }
    };
    let outcome = tokio::select! {
        code = wait => Outcome {
            exit_code: Some(code),
            failure: (code != 0).then(|| exit_failure(code)),
            container_info: Some(json!({"containerId": id, "state": "exited", "error": ""})),
        },
        _ = tokio::time::sleep(wall_clock(&spec)) => Outcome {
            exit_code: None,
            failure: Some(wall_clock_failure()),
            container_info: Some(json!({"containerId": id, "state": "killed", "error": ""})),
        },
        _ = cancel.cancelled() => Outcome::default(),
    };
    // A log stream the engine never ends must not outlive the task.
    if tokio::time::timeout(Duration::from_secs(10), &mut log_task)
        .await
        .is_err()
    {
        log_task.abort();
    }
    // Containers are always removed once their output is captured (Batch keeps them only until cleanup).
    remove(d.clone(), id).await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_options() {
        let o = parse_run_options(
            "--rm -w /x -e A=1 --env=B=2 --entrypoint /bin/sh -u 1000 --net host --cpus 2",
        )
        .unwrap();
        assert!(o.rm);
        assert_eq!(o.workdir.as_deref(), Some("/x"));
        assert_eq!(o.env, vec!["A=1", "B=2"]);
        assert_eq!(o.entrypoint.as_deref(), Some("/bin/sh"));
        assert_eq!(o.user.as_deref(), Some("1000"));
        assert_eq!(o.network.as_deref(), Some("host"));
        let e = parse_run_options("--rm --gpus all").unwrap_err();
        assert!(e.contains("--gpus"), "{e}");
        assert!(parse_run_options("-w").is_err());
    }

    #[test]
    fn pull_credentials_come_from_the_task_registry_else_the_pool_registry_of_the_image_host() {
        let pool = vec![
            json!({"registryServer": "https://Reg.example.io/", "username": "u1", "password": "p1"}),
            json!({"username": "hub", "password": "p2"}),
            json!({"registryServer": "127.0.0.1:5000", "username": "u3", "password": "p3"}),
        ];
        let task = json!({"registryServer": "127.0.0.1:5000", "username": "t", "password": "tp"});
        let who = |image: &str, task: Option<&Value>| {
            credentials_for(image, task, &pool).map(|c| {
                (
                    c.username.unwrap(),
                    c.password.unwrap(),
                    c.serveraddress.unwrap(),
                )
            })
        };
        let c = |u: &str, p: &str, s: &str| Some((u.into(), p.into(), s.into()));
        type Creds = Option<(String, String, String)>;
        let table: &[(&str, Option<&Value>, Creds)] = &[
            (
                "reg.example.io/tools/w:1",
                None,
                c("u1", "p1", "reg.example.io"),
            ),
            ("ubuntu", None, c("hub", "p2", "docker.io")),
            ("library/ubuntu:22.04", None, c("hub", "p2", "docker.io")),
            (
                "127.0.0.1:5000/x/y:z",
                None,
                c("u3", "p3", "127.0.0.1:5000"),
            ),
            (
                "127.0.0.1:5000/x/y:z",
                Some(&task),
                c("t", "tp", "127.0.0.1:5000"),
            ),
            ("other.io/x", None, None),
            ("localhost/busybox", None, None),
        ];
        for (image, task, want) in table {
            assert_eq!(&who(image, *task), want, "{image}");
        }
        assert_eq!(credentials_for("other.io/x", None, &[]), None);
    }
}
