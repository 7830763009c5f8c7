//! No secret leaks (issue 13): for every way a secret enters the provider, run real Terraform at
//! TF_LOG=trace and search its output and error messages, the trace log, the state and a saved
//! plan (the raw file, every file inside it, and `terraform show -json` of it).
//!
//! Two kinds of secret, as Terraform defines them:
//! - write-only or ephemeral values (the account key, the Entra client secret, a registry's
//!   `password_wo`) must appear nowhere, state and plan files included;
//! - sensitive arguments (a registry's `password`, SAS tokens in `resource_file.http_url` and
//!   `output_file.container_url`) are kept in the state and the plan by Terraform itself (that is
//!   what `sensitive` means; SURFACE.md documents `password` as "kept in state"), so they must
//!   appear in no output, error message or log line, and are found in the state only where
//!   Terraform keeps them.

mod batch_api;

use std::net::TcpListener;
use std::time::Duration;

use e2e::{Runtime, Traced, Workdir, for_each_terraform, random_hex, required_providers_hcl};

/// Serves `body` for GETs of `/input.txt` (any query), 404 for anything else; returns the base URL.
fn serve_input(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { break };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            let (status, text) = if head.starts_with("GET /input.txt") {
                ("200 OK", body)
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    format!("http://{addr}")
}

const CONFIG: &str = r#"
variable "account_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "registry_password_wo" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "registry_password" {
  type      = string
  sensitive = true
}

variable "sas_in" {
  type      = string
  sensitive = true
}

variable "sas_out" {
  type      = string
  sensitive = true
}

variable "password_version" {
  type    = number
  default = 1
}

provider "batch" {
  account_name     = "ACCOUNT"
  account_endpoint = "ENDPOINT"
  account_key      = var.account_key
}

POOL
resource "batch_job" "job" {
  name    = "secrets"
  pool_id = batch_container_pool.pool.id
}

resource "batch_container_task" "ok" {
  job_id       = batch_job.job.id
  name         = "ok"
  command_line = "/bin/cat input.txt"
  container {
    image_name = "task.registry.example.io/tools/cat:1"
    registry {
      server              = "task.registry.example.io"
      username            = "task-puller"
      password_wo         = var.registry_password_wo
      password_wo_version = var.password_version
    }
  }
  resource_file {
    http_url  = "BASE/input.txt?sv=2024-05-04&sr=b&sp=r&sig=${var.sas_in}"
    file_path = "input.txt"
  }
  output_file {
    file_pattern     = "input.txt"
    container_url    = "https://acct.blob.core.windows.net/out?sv=2024-05-04&sr=c&sp=rw&sig=${var.sas_out}"
    path             = "copy/input.txt"
    upload_condition = "taskcompletion"
  }
  wait_for_completion = true
}
"#;

/// The pool's registry: a sensitive `password`, kept in state (unused by the process runtime).
const POOL_CONTAINER: &str = r#"image_names = ["busybox"]
    registry {
      server   = "pool.registry.example.io"
      username = "pool-puller"
      password = var.registry_password
    }"#;

/// The failing download: its error message goes through the service and the provider.
const MISSING: &str = r#"
resource "batch_container_task" "missing" {
  job_id       = batch_job.job.id
  name         = "missing"
  command_line = "/bin/cat input.txt"
  container {
    image_name = "busybox"
  }
  resource_file {
    http_url  = "BASE/absent.txt?sv=2024-05-04&sr=b&sp=r&sig=${var.sas_in}"
    file_path = "input.txt"
  }
  wait_for_completion = true
}
"#;

/// A provider that authenticates with a Microsoft Entra client secret at a token authority that
/// is not there: the attempt fails, and its error must not carry the secret.
const ENTRA: &str = r#"
variable "client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "batch" {
  account_endpoint = "ENDPOINT"
  tenant_id        = "00000000-0000-0000-0000-000000000001"
  client_id        = "00000000-0000-0000-0000-000000000002"
  client_secret    = var.client_secret
  authority_host   = "AUTHORITY"
}

data "batch_pool" "p" {
  name = "secrets"
}
"#;

#[test]
fn no_secret_reaches_output_logs_state_or_plan_files() {
    for_each_terraform(|tf| {
        // Random values, long enough that a match cannot be chance. The account key is base64
        // (hex digits are base64 digits).
        let key = random_hex(44);
        let wrong_key = random_hex(44);
        let password_wo = format!("wo-{}", random_hex(12));
        let password = format!("pw-{}", random_hex(12));
        let sas_in = format!("sigin{}", random_hex(12));
        let sas_out = format!("sigout{}", random_hex(12));
        let client_secret = format!("cs-{}", random_hex(12));

        let emu = batch_api::start_with_key(Runtime::Process, &key);
        let base = serve_input("the input\n");
        let mut t = Traced::new(Workdir::new(tf));
        let config = format!("{}{CONFIG}", required_providers_hcl())
            .replace("ACCOUNT", emu.account())
            .replace("ENDPOINT", &emu.endpoint())
            .replace("BASE", &base)
            .replace(
                "POOL",
                &batch_api::pool_resource_hcl("secrets", POOL_CONTAINER, "1", ""),
            );
        t.wd.write_main(&config);
        t.var("account_key", &key)
            .var("registry_password_wo", &password_wo)
            .var("registry_password", &password)
            .var("sas_in", &sas_in)
            .var("sas_out", &sas_out);
        t.apply("apply");
        let task = batch_api::get(&emu, "/jobs/secrets/tasks/ok");
        assert_eq!(task["executionInfo"]["result"], "success", "{task}");

        // A task whose SAS URL fails: the failure message passes through the service and the
        // provider into Terraform's error.
        t.wd.write_main(&format!("{config}{}", MISSING.replace("BASE", &base)));
        let out = t
            .try_apply("apply with a failing download")
            .assert_failure();
        assert!(
            out.stderr.contains("absent.txt"),
            "{}: the download error is not reported:\n{}",
            tf.label(),
            out.stderr
        );
        t.wd.write_main(&config);

        // A saved plan that sends a new write-only password.
        t.var("password_version", "2");
        t.saved_plan();

        // A wrong account key: the authentication error names no key.
        t.var("account_key", &wrong_key);
        let out = t.try_plan("plan with a wrong account key").assert_failure();
        assert!(
            out.stderr.contains("403") || out.stderr.to_lowercase().contains("authentic"),
            "{}: not an authentication error:\n{}",
            tf.label(),
            out.stderr
        );
        t.var("account_key", &key).var("password_version", "1");

        let nowhere = [
            ("account key", key.as_str()),
            ("wrong account key", wrong_key.as_str()),
            ("registry password_wo", password_wo.as_str()),
        ];
        let sensitive = [
            ("registry password", password.as_str()),
            ("resource file SAS", sas_in.as_str()),
            ("output file SAS", sas_out.as_str()),
        ];
        t.assert_no_leaks(&tf.label(), &nowhere);
        t.logs().assert_no_leaks(&tf.label(), &sensitive);
        // Sensitive values are where Terraform keeps them: the state, marked sensitive.
        let state = std::fs::read_to_string(t.wd.path().join("terraform.tfstate")).unwrap();
        for (label, value) in sensitive {
            assert!(
                state.contains(value),
                "{}: {label} not in the state",
                tf.label()
            );
        }

        // Microsoft Entra ID with a client secret: the token request fails (nothing listens at
        // the authority), and neither its error nor the log carries the secret.
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut e = Traced::new(Workdir::new(tf));
        e.wd.write_main(
            &format!("{}{ENTRA}", required_providers_hcl())
                .replace("ENDPOINT", &emu.endpoint())
                .replace("AUTHORITY", &format!("https://{closed}")),
        );
        e.var("client_secret", &client_secret);
        // Today a failing token request is retried for minutes (issue 13 bounds it): once the
        // trace log shows the request went out (the secret was in its body), stop Terraform.
        let run = e.wd.spawn(&["plan", "-input=false", "-no-color"]);
        let trace = e.wd.path().join("trace.log");
        let token_url = format!("{closed}/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token");
        batch_api::wait_until("the Entra token request", Duration::from_secs(120), || {
            let log = std::fs::read_to_string(&trace).unwrap_or_default();
            log.contains(&token_url).then_some(())
        });
        run.interrupt();
        let out = run.wait();
        assert!(
            !out.success(),
            "{}: the plan without a token succeeded",
            tf.label()
        );
        e.keep("plan with an Entra client secret", out);
        e.logs()
            .assert_no_leaks(&tf.label(), &[("Entra client secret", &client_secret)]);

        t.destroy();
        t.assert_no_leaks(&tf.label(), &nowhere);
    });
}
