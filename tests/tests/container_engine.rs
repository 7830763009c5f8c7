//! A container engine that fails: the local Batch service's docker runtime pointed at a fake
//! Docker Engine API (a Unix socket served by this test) that answers container start with
//! Podman's "500: write child: broken pipe", or accepts it and never answers. The task must end
//! the way Batch ends it (completed, failureInfo naming the image and the engine's error) and
//! the apply that waits for it must fail naming the task and the cause, instead of waiting
//! forever. The shared Podman service is not touched.

mod batch_api;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use batch_api::{get, pool, start_with_env};
use e2e::{Runtime, Workdir, for_each_terraform};

/// What the fake engine does with `POST /containers/{id}/start`.
#[derive(Clone, Copy)]
enum Start {
    Fails500,
    NeverAnswers,
}

/// A fake Docker Engine API on a Unix socket: enough of it for a task's container (ping, image
/// inspect, create, start, remove); it records every request line.
struct FakeEngine {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeEngine {
    fn start(start: Start) -> FakeEngine {
        let dir = tempfile::Builder::new()
            .prefix("e2e-fake-docker-")
            .tempdir()
            .expect("temp dir");
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("bind the fake engine's socket");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let seen = seen.clone();
                std::thread::spawn(move || serve(conn, start, &seen));
            }
        });
        FakeEngine {
            _dir: dir,
            socket,
            requests,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn saw(&self, method: &str, path_part: &str) -> bool {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.starts_with(method) && r.contains(path_part))
    }
}

/// Serves one keep-alive connection until the client closes it.
fn serve(conn: UnixStream, start: Start, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone the connection"));
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let line = line.trim().to_string();
        seen.lock().unwrap().push(line.clone());
        let mut parts = line.split(' ');
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = path.split('?').next().unwrap_or("");
        let (status, reply) = match method {
            "GET" if path.ends_with("/_ping") => (200, "OK".to_string()),
            "GET" if path.contains("/images/") => (200, r#"{"Id":"sha256:fake"}"#.into()),
            "POST" if path.ends_with("/containers/create") => {
                (201, r#"{"Id":"fakecontainer","Warnings":[]}"#.into())
            }
            "POST" if path.ends_with("/start") => match start {
                Start::Fails500 => (500, r#"{"message":"write child: broken pipe"}"#.into()),
                // Keep the connection open and never answer.
                Start::NeverAnswers => loop {
                    std::thread::park();
                },
            },
            "DELETE" if path.contains("/containers/") => (204, String::new()),
            _ => (
                404,
                r#"{"message":"not supported by the fake engine"}"#.into(),
            ),
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

const TASK: &str = r#"
resource "batch_job" "job" {
  name                   = "engine"
  pool_id                = POOL_REF
  uses_task_dependencies = true
}

resource "batch_container_task" "t" {
  job_id       = batch_job.job.id
  name         = "t"
  command_line = "/bin/sh -c 'echo never'"
  container {
    image_name = "busybox"
  }
  wait_for_completion = true
}

# Batch never runs a task whose dependency failed: the wait for it must end with that failure
# (examples/modules/batch-workload's test hung here, waiting for timeouts.create).
resource "batch_container_task" "after" {
  job_id       = batch_job.job.id
  name         = "after"
  command_line = "/bin/sh -c 'echo after'"
  container {
    image_name = "busybox"
  }
  dependencies {
    task_ids = ["t"]
  }
  wait_for_completion = true
}
"#;

/// Applies a waiting container task (and one that depends on it) against a failing engine: the
/// apply fails naming the task and `cause`, and the dependent task as blocked by it; Batch
/// reports the task completed with a server error naming the image and `cause`; the created
/// container was removed.
fn failing_engine(start: Start, cause: &str) {
    for_each_terraform(|tf| {
        let engine = FakeEngine::start(start);
        let host = engine.host();
        let emu = start_with_env(
            Runtime::Docker,
            e2e::DEV_KEY,
            &["--docker-timeout", "2s"],
            &[("DOCKER_HOST", &host)],
        );
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 1);
        wd.write_main(&format!(
            "{}{pool_hcl}{}",
            emu.provider_hcl(),
            TASK.replace("POOL_REF", &pool_ref)
        ));
        let out = wd.try_apply();
        assert!(!out.success(), "{}", out.describe());
        // Terraform wraps long lines.
        let text = out
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for part in [
            "Task \"t\" in job \"engine\" failed",
            "ContainerStartFailed",
            "'busybox'",
            cause,
        ] {
            assert!(text.contains(part), "{part:?} missing: {}", out.describe());
        }

        let blocked =
            "Task \"after\" in job \"engine\" cannot run: the task it depends on, \"t\", failed";
        assert!(text.contains(blocked), "{}", out.describe());
        let after = get(&emu, "/jobs/engine/tasks/after");
        assert_eq!(after["state"], "active", "never ran: {after}");

        let t = get(&emu, "/jobs/engine/tasks/t");
        assert_eq!(t["state"], "completed", "{t}");
        let info = &t["executionInfo"];
        assert_eq!(info["result"], "failure", "{t}");
        let failure = &info["failureInfo"];
        assert!(
            failure["category"]
                .as_str()
                .is_some_and(|c| c.eq_ignore_ascii_case("servererror")),
            "{t}"
        );
        assert_eq!(failure["code"], "ContainerStartFailed", "{t}");
        let message = failure["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("'busybox'") && message.contains(cause),
            "{message}"
        );
        assert!(engine.saw("POST", "/containers/fakecontainer/start"));
        assert!(
            engine.saw("DELETE", "/containers/fakecontainer"),
            "the container that did not start is removed"
        );
        wd.destroy();
    });
}

#[test]
fn a_container_start_answered_500_fails_the_task_and_the_apply() {
    failing_engine(Start::Fails500, "500: write child: broken pipe");
}

#[test]
fn a_container_start_never_answered_fails_the_task_after_the_engine_deadline() {
    failing_engine(
        Start::NeverAnswers,
        "the container engine did not answer within 2s",
    );
}
