//! Helpers shared by the job/task and data-source scenario tests: a local Batch service with short
//! delays, direct Batch API calls (to check what Terraform did, and to create objects outside
//! Terraform), and the container pool the tests run their tasks on.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use e2e::{Emulator, EmulatorOptions, Runtime, Workdir};
use serde_json::Value;

pub const API_VERSION: &str = "2024-07-01.20.0";
pub const POOL: &str = "pool1";

/// A local Batch service with short delays; it also accepts any bearer token, which the tests
/// use for their own API calls (the provider signs with Shared Key).
pub fn start(runtime: Runtime) -> Emulator {
    start_with(runtime, e2e::DEV_KEY, &[])
}

/// [`start`] with another account key.
pub fn start_with_key(runtime: Runtime, key: &str) -> Emulator {
    start_with(runtime, key, &[])
}

/// [`start`] with more command-line arguments of the service (e.g. `--schedule-speed`).
pub fn start_with_args(runtime: Runtime, extra: &[&str]) -> Emulator {
    start_with(runtime, e2e::DEV_KEY, extra)
}

fn start_with(runtime: Runtime, key: &str, extra: &[&str]) -> Emulator {
    start_with_env(runtime, key, extra, &[])
}

/// [`start_with_args`] with environment variables for the service (e.g. its `DOCKER_HOST`).
pub fn start_with_env(
    runtime: Runtime,
    key: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Emulator {
    let mut args = vec!["--accept-bearer"];
    // A delay given in `extra` replaces the short default (the service takes each option once).
    for pair in e2e::SHORT_DELAYS.chunks(2) {
        if !extra.contains(&pair[0]) {
            args.extend(pair);
        }
    }
    Emulator::start_with(EmulatorOptions {
        runtime,
        key: key.to_string(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        extra_args: args.iter().chain(extra).map(|s| s.to_string()).collect(),
        ..Default::default()
    })
}

/// One Batch API call: `(status, JSON body or Null)`.
pub fn api(emu: &Emulator, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let path = format!("{path}{sep}api-version={API_VERSION}");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(emu.addr()).expect("connect to the local Batch service");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let req = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer e2e\r\n\
         Content-Type: application/json; odata=minimalmetadata\r\nContent-Length: {}\r\n\r\n{body}",
        path.replace(' ', "%20"),
        emu.addr(),
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
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

/// GET that must succeed.
#[track_caller]
pub fn get(emu: &Emulator, path: &str) -> Value {
    let (st, v) = api(emu, "GET", path, None);
    assert_eq!(st, 200, "GET {path}: {v}");
    v
}

/// Every task of a job (all pages).
pub fn list_tasks(emu: &Emulator, job: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let v = get(emu, &format!("/jobs/{job}/tasks"));
    out.extend(v["value"].as_array().cloned().unwrap_or_default());
    let mut next = v["odata.nextLink"].as_str().map(str::to_string);
    while let Some(link) = next {
        // The link is absolute and carries the api-version already.
        let path = link
            .split_once(&emu.addr().to_string())
            .map(|(_, p)| p.to_string())
            .unwrap_or(link);
        let path = path.replace(&format!("api-version={API_VERSION}"), "x=1");
        let v = get(emu, &path);
        out.extend(v["value"].as_array().cloned().unwrap_or_default());
        next = v["odata.nextLink"].as_str().map(str::to_string);
    }
    out
}

pub use e2e::wait_until;

/// Whether the provider under test already implements `batch_container_pool` (it is written in
/// parallel): then the tests declare their pool in HCL, else they create it through the API.
pub fn pool_resource_ready(wd: &Workdir) -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        if std::env::var_os("E2E_POOL_VIA_API").is_some() {
            return false;
        }
        let schema = wd.providers_schema_json();
        let attrs = schema["provider_schemas"]
            .as_object()
            .and_then(|m| m.values().next())
            .map(|p| {
                p["resource_schemas"]["batch_container_pool"]["block"]["attributes"].clone()
            })
            .unwrap_or(Value::Null);
        let ready = attrs.get("vm_size").is_some() && attrs.get("node_agent_sku_id").is_some();
        if !ready {
            e2e::note("batch_container_pool is not implemented yet: tests create their pool through the Batch API");
        }
        ready
    })
}

/// `resource "batch_container_pool" "pool"` on the local service's Ubuntu image with the given
/// `container` block body, node count (an HCL expression) and extra lines, waiting for ready nodes.
pub fn pool_resource_hcl(name: &str, container: &str, nodes: &str, extra: &str) -> String {
    format!(
        r#"
resource "batch_container_pool" "pool" {{
  name              = "{name}"
  vm_size           = "STANDARD_D2S_V3"
  node_agent_sku_id = "batch.node.ubuntu 22.04"
  image {{
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }}
  container {{
    type = "dockerCompatible"
    {container}
  }}
  fixed_scale {{
    target_dedicated_nodes = {nodes}
  }}
  {extra}
  wait_for = "nodes_ready"
}}
"#
    )
}

/// The pool the scenario runs on: `(hcl, reference)` where `reference` is the HCL expression of
/// the pool id. Creates the pool through the API when the pool resource is not available.
pub fn pool(emu: &Emulator, wd: &Workdir, slots: u32) -> (String, String) {
    // `providers schema` needs a configuration that uses the provider.
    wd.write_main(&emu.provider_hcl());
    if pool_resource_ready(wd) {
        let hcl = pool_resource_hcl(
            POOL,
            r#"image_names = ["busybox"]"#,
            "1",
            &format!("task_slots_per_node = {slots}"),
        );
        return (hcl, "batch_container_pool.pool.id".into());
    }
    let (st, v) = api(emu, "GET", &format!("/pools/{POOL}"), None);
    if st == 404 {
        let body = e2e::container_pool_body(POOL, 1, slots);
        let (st, v) = api(emu, "POST", "/pools", Some(&body));
        assert_eq!(st, 201, "Pool_Add: {v}");
    } else {
        assert_eq!(st, 200, "Pool_Get: {v}");
    }
    wait_until(
        "the pool's node to be idle",
        Duration::from_secs(60),
        || {
            let nodes = get(emu, &format!("/pools/{POOL}/nodes"));
            let list = nodes["value"].as_array().cloned().unwrap_or_default();
            (!list.is_empty()
                && list
                    .iter()
                    .all(|n| n["state"] == "idle" || n["state"] == "running"))
            .then_some(())
        },
    );
    (String::new(), format!("\"{POOL}\""))
}

/// `terraform.tfstate` of a working directory, parsed.
pub fn raw_state(wd: &Workdir) -> Value {
    serde_json::from_str(&wd.read_file("terraform.tfstate")).expect("state JSON")
}

/// Whether the instance of `type.name` in the raw state is tainted.
pub fn is_tainted(wd: &Workdir, ty: &str, name: &str) -> bool {
    raw_state(wd)["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == ty && r["name"] == name)
        .flat_map(|r| r["instances"].as_array().cloned().unwrap_or_default())
        .any(|i| i["status"] == "tainted")
}

/// The actions planned for `address` in a JSON plan (e.g. `["update"]`, `["delete","create"]`).
pub fn actions(plan: &Value, address: &str) -> Vec<String> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["address"] == address)
        .map(|c| {
            c["change"]["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_else(|| panic!("no change for {address} in the plan"))
}

/// The attributes planned as "(known after apply)" for `address` (top level only).
pub fn after_unknown(plan: &Value, address: &str) -> Vec<String> {
    let change = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address} in the plan"));
    let mut out: Vec<String> = change["change"]["after_unknown"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| **v == Value::Bool(true))
        .map(|(k, _)| k.clone())
        .collect();
    out.sort();
    out
}

/// No job schedule `id`, and no job it made (`<id>:job-<n>`), is left in the service (ids are
/// case-insensitive).
pub fn assert_schedule_gone(emu: &Emulator, id: &str) {
    let (st, v) = api(emu, "GET", &format!("/jobschedules/{id}"), None);
    assert_eq!(st, 404, "the schedule is still there: {v}");
    let prefix = format!("{}:", id.to_ascii_lowercase());
    let left: Vec<Value> = get(emu, "/jobs")["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| {
            j["id"]
                .as_str()
                .is_some_and(|i| i.to_ascii_lowercase().starts_with(&prefix))
        })
        .cloned()
        .collect();
    assert!(left.is_empty(), "jobs of the schedule left: {left:?}");
}
