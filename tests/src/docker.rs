//! Is a Docker Engine API (Docker or Podman) reachable for `--runtime docker` tests?

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Prefix of the note printed when a docker test is skipped (grep the test log for it).
pub const DOCKER_SKIP_PREFIX: &str = "SKIPPED (no container engine) ";

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
        ping(path).map_err(|e| format!("Docker Engine API at {host} does not answer: {e}"))?;
        Ok(host)
    })
    .clone()
}

fn ping(path: &str) -> Result<(), String> {
    let mut s = UnixStream::connect(path).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).map_err(|e| e.to_string())?;
    let status = resp.lines().next().unwrap_or("");
    if status.contains(" 200 ") {
        Ok(())
    } else {
        Err(format!("GET /_ping answered {status:?}"))
    }
}
