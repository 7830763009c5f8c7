//! Is a Docker Engine API (Docker or Podman) reachable for `--runtime docker` tests?

use std::path::Path;
use std::sync::OnceLock;

/// Image built by scripts/setup-podman.sh whose ENTRYPOINT prints [`HELLO_ENTRYPOINT_LINE`]
/// (for tasks with an empty command line). Also tagged `docker.io/library/hello-entrypoint:latest`.
pub const HELLO_ENTRYPOINT_IMAGE: &str = "localhost/hello-entrypoint:latest";
/// The line printed by [`HELLO_ENTRYPOINT_IMAGE`]'s ENTRYPOINT.
pub const HELLO_ENTRYPOINT_LINE: &str = "hello from the image entrypoint";
/// Busybox image built offline by scripts/setup-podman.sh (also `busybox:latest`,
/// `docker.io/library/busybox:latest`).
pub const BUSYBOX_IMAGE: &str = "busybox";

/// The socket that scripts/setup-podman.sh starts.
const PODMAN_SOCKET: &str = "/run/podman/podman.sock";

/// `DOCKER_HOST`, or the podman socket of scripts/setup-podman.sh when it exists.
pub fn docker_host() -> Option<String> {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => Some(h),
        _ if Path::new(PODMAN_SOCKET).exists() => Some(format!("unix://{PODMAN_SOCKET}")),
        _ => None,
    }
}

/// Ok(DOCKER_HOST) when `GET /_ping` answers OK, else why not (checked once per process).
pub fn docker_available() -> Result<String, String> {
    static CELL: OnceLock<Result<String, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        let host = docker_host().ok_or_else(|| {
            format!(
                "DOCKER_HOST is not set and {PODMAN_SOCKET} does not exist \
                 (run scripts/setup-podman.sh as root)"
            )
        })?;
        let path = host.strip_prefix("unix://").ok_or_else(|| {
            format!("DOCKER_HOST={host}: only unix:// sockets are supported by the test harness")
        })?;
        match request(path, "GET", "/_ping") {
            Ok((200, _)) => Ok(host),
            Ok((status, body)) => Err(format!(
                "Docker Engine API at {host} answered /_ping with {status}: {body}"
            )),
            Err(e) => Err(format!("Docker Engine API at {host} does not answer: {e}")),
        }
    })
    .clone()
}

/// [`docker_available`] for a test that needs it (see [`crate::require_docker!`]): `Err` (skip
/// locally, fail under CI) when no engine is configured or found, a panic when `DOCKER_HOST` is set
/// but the engine does not answer.
pub fn docker_for_test() -> Result<String, String> {
    let explicit = std::env::var("DOCKER_HOST").is_ok_and(|h| !h.is_empty());
    match docker_available() {
        Err(why) if explicit => panic!("container engine: {why}"),
        Err(why) => Err(format!("no container engine: {why}")),
        ok => ok,
    }
}

/// One request to the Docker Engine API at [`docker_host`] (e.g. `GET /v1.41/containers/json?all=1`
/// to check that a task's container is gone): `(status, body)`.
pub fn docker_api(method: &str, path_and_query: &str) -> Result<(u16, String), String> {
    let host = docker_available()?;
    let sock = host.strip_prefix("unix://").unwrap_or(&host);
    request(sock, method, path_and_query)
}

fn request(sock: &str, method: &str, path: &str) -> Result<(u16, String), String> {
    crate::http::request(crate::http::Target::Unix(sock), method, path, None)
}
