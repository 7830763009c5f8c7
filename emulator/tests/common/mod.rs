//! Test support: start the service in-process and call it with an independent Shared Key signer.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use batch_emulator::{Config, EmulatorHandle};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::time::Duration;

pub const API: &str = "2024-07-01.20.0";

pub fn fast_config(dir: &std::path::Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        allocation_delay: Duration::from_millis(250),
        node_start_delay: Duration::from_millis(50),
        delete_delay: Duration::from_millis(250),
        ..Config::default()
    }
}

pub struct Emu {
    pub handle: Option<EmulatorHandle>,
    pub client: Client,
    pub dir: tempfile::TempDir,
}

impl Emu {
    pub async fn start() -> Emu {
        let dir = tempfile::tempdir().unwrap();
        let cfg = fast_config(dir.path());
        Self::start_with(cfg, dir).await
    }
    pub async fn start_with(cfg: Config, dir: tempfile::TempDir) -> Emu {
        let handle = batch_emulator::start(cfg.clone())
            .await
            .expect("emulator starts");
        let client = Client::new(&handle.url(), &cfg.account, &cfg.key);
        Emu {
            handle: Some(handle),
            client,
            dir,
        }
    }
    pub fn url(&self) -> String {
        self.handle.as_ref().unwrap().url()
    }
    /// Stop and start again on the same data directory (a new port).
    pub async fn restart(&mut self) {
        self.handle.take().unwrap().shutdown().await;
        let cfg = fast_config(self.dir.path());
        let handle = batch_emulator::start(cfg.clone())
            .await
            .expect("emulator restarts");
        self.client = Client::new(&handle.url(), &cfg.account, &cfg.key);
        self.handle = Some(handle);
    }
    pub async fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub account: String,
    pub key: Vec<u8>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, k: &str) -> Option<String> {
        self.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    /// The `values` entry with key `PropertyName`, if any.
    pub fn property(&self) -> String {
        self.value("PropertyName")
    }
    pub fn value(&self, key: &str) -> String {
        self.body["values"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["key"] == key)
            .and_then(|v| v["value"].as_str())
            .unwrap_or("")
            .to_string()
    }
}

/// String-to-sign per the Batch Shared Key documentation (written independently of the server).
pub fn string_to_sign(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    account: &str,
) -> String {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut lines = vec![method.to_string()];
    for h in [
        "content-encoding",
        "content-language",
        "content-length",
        "content-md5",
        "content-type",
        "date",
        "if-modified-since",
        "if-match",
        "if-none-match",
        "if-unmodified-since",
        "range",
    ] {
        lines.push(get(h));
    }
    let mut out = lines.join("\n") + "\n";
    let mut ocp: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.to_lowercase().starts_with("ocp-"))
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect();
    ocp.sort();
    for (k, v) in ocp {
        out += &format!("{k}:{v}\n");
    }
    out += &format!("/{account}{path}");
    let mut q: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.to_lowercase(), v.into_owned()))
        .collect();
    q.sort();
    for (k, v) in q {
        out += &format!("\n{k}:{v}");
    }
    out
}

impl Client {
    pub fn new(base: &str, account: &str, key_b64: &str) -> Client {
        batch_emulator::install_crypto_provider();
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: base.to_string(),
            account: account.to_string(),
            key: STANDARD.decode(key_b64).unwrap(),
        }
    }

    /// Send a signed request. `path` has no query; `query` is added after `api-version` unless it already has one.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> reqwest::Result<Resp> {
        let body_bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.raw_bytes(method, path, query, body_bytes, extra).await
    }

    /// Like [`Client::raw`] with the body as bytes (which need not be JSON).
    pub async fn raw_bytes(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body_bytes: Option<Vec<u8>>,
        extra: &[(&str, &str)],
    ) -> reqwest::Result<Resp> {
        let query = if query.contains("api-version=") {
            query.to_string()
        } else if query.is_empty() {
            format!("api-version={API}")
        } else {
            format!("api-version={API}&{query}")
        };
        let mut headers: Vec<(String, String)> = vec![(
            "ocp-date".into(),
            httpdate::fmt_http_date(std::time::SystemTime::now()),
        )];
        if let Some(b) = &body_bytes {
            headers.push((
                "content-type".into(),
                "application/json; odata=minimalmetadata".into(),
            ));
            headers.push(("content-length".into(), b.len().to_string()));
        }
        for (k, v) in extra {
            headers.push((k.to_string(), v.to_string()));
        }
        let sts = string_to_sign(method, path, &query, &headers, &self.account);
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).unwrap();
        mac.update(sts.as_bytes());
        let sig = STANDARD.encode(mac.finalize().into_bytes());
        headers.push((
            "authorization".into(),
            format!("SharedKey {}:{sig}", self.account),
        ));
        let url = format!("{}{path}?{query}", self.base);
        let mut rb = self.http.request(method.parse().unwrap(), url);
        for (k, v) in &headers {
            if k != "content-length" {
                rb = rb.header(k.as_str(), v.as_str());
            }
        }
        if let Some(b) = body_bytes {
            rb = rb.body(b);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await?.to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Resp {
            status,
            headers,
            body,
            bytes,
        })
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.raw(method, path, "", body, &[])
            .await
            .expect("request succeeds at HTTP level")
    }
    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    /// Poll `path` until `pred` holds on its body (10 s at most).
    pub async fn wait_for(&self, path: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.get(path).await;
            if pred(&r.body) {
                return r.body;
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what} on {path}; last: {} {}",
                    r.status, r.body
                );
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

pub fn linux_pool(id: &str, nodes: i64) -> Value {
    serde_json::json!({
        "id": id,
        "vmSize": "STANDARD_D2S_V3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
            "nodeAgentSKUId": "batch.node.ubuntu 22.04"
        },
        "targetDedicatedNodes": nodes
    })
}

pub fn container_pool(id: &str, nodes: i64, images: &[&str]) -> Value {
    serde_json::json!({
        "id": id,
        "vmSize": "standard_d2s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "microsoft-azure-batch", "offer": "ubuntu-server-container", "sku": "20-04-lts"},
            "nodeAgentSKUId": "batch.node.ubuntu 20.04",
            "containerConfiguration": {"type": "dockerCompatible", "containerImageNames": images}
        },
        "targetDedicatedNodes": nodes
    })
}
