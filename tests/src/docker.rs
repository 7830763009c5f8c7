//! Is a Docker Engine API (Docker or Podman) reachable for `--runtime docker` tests?

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Prefix of the note printed when a docker test is skipped (grep the test log for it).
pub const DOCKER_SKIP_PREFIX: &str = "SKIPPED (no container engine) ";

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

/// One request to the Docker Engine API at [`docker_host`] (e.g. `GET /v1.41/containers/json?all=1`
/// to check that a task's container is gone): `(status, body)`.
pub fn docker_api(method: &str, path_and_query: &str) -> Result<(u16, String), String> {
    let host = docker_available()?;
    let sock = host.strip_prefix("unix://").unwrap_or(&host);
    request(sock, method, path_and_query)
}

fn request(sock: &str, method: &str, path: &str) -> Result<(u16, String), String> {
    let mut s = UnixStream::connect(sock).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response: {text:?}"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("malformed status line: {head:?}"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
