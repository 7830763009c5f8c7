//! Retries, backoff, Retry-After, deadlines, cancellation, paging, errors and logging against a
//! loopback server.

use crate::server::{self, Reply};
use batch_client::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

pub const KEY: &str =
    "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww==";

pub fn client(url: &str) -> BatchClient {
    let mut cfg = ClientConfig::new(url, Auth::shared_key("devbatch", KEY).unwrap());
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_attempts: 10,
    };
    cfg.attempt_timeout = Duration::from_secs(5);
    BatchClient::new(cfg).unwrap()
}

fn pool_json(id: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "vmSize": "standard_d2s_v3", "state": "active", "allocationState": "steady"})
}

#[tokio::test]
async fn retries_503_and_429_honouring_retry_after_then_succeeds() {
    let srv = server::start(|_, i| match i {
        0 => Reply::error(503, "ServerBusy", "busy").header("Retry-After", "1"),
        1 => Reply::error(429, "TooManyRequests", "slow down").header("retry-after-ms", "300"),
        _ => Reply::status(201).header("ETag", "0x1"),
    })
    .await;
    let c = client(&srv.url());
    let started = Instant::now();
    let w = c
        .add_job(
            &crate::schema::job_with_prep("j", "p"),
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(srv.count(), 3);
    assert_eq!(w.status, 201);
    assert_eq!(w.etag.as_deref(), Some("0x1"));
    assert!(!w.adopted);
    assert!(
        elapsed >= Duration::from_millis(1300),
        "Retry-After not honoured: {elapsed:?}"
    );
    // Each attempt is a complete, freshly dated request with the same body.
    let reqs = srv.requests();
    assert!(
        reqs.iter()
            .all(|r| r.body == reqs[0].body && r.header("authorization").is_some())
    );
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_fails_fast_with_the_last_error() {
    let srv =
        server::start(|_, _| Reply::error(503, "ServerBusy", "busy").header("Retry-After", "30"))
            .await;
    let c = client(&srv.url());
    let err = c
        .get_pool("p", &RequestOptions::new().timeout(Duration::from_secs(2)))
        .await
        .unwrap_err();
    // One attempt, then the deadline error naming the Retry-After it would not wait for (that
    // no time is slept is checked on a paused clock in retry.rs).
    assert_eq!(srv.count(), 1);
    assert!(err.is_deadline_exceeded(), "{err:?}");
    assert!(
        matches!(&err, BatchError::DeadlineExceeded { attempts: 1, retry_after: Some(d), .. } if *d == Duration::from_secs(30)),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("ServerBusy"));
    let msg = err.to_string();
    for part in ["ServerBusy", "Retry-After", "30s", "past the deadline"] {
        assert!(msg.contains(part), "{part:?} missing: {msg}");
    }
}

#[tokio::test]
async fn backoff_keeps_retrying_until_the_deadline() {
    let srv = server::start(|_, _| Reply::error(500, "InternalError", "oops")).await;
    let mut cfg = ClientConfig::new(srv.url(), Auth::None);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(100),
        max_attempts: 1000,
    };
    let c = BatchClient::new(cfg).unwrap();
    let err = c
        .get_pool(
            "p",
            &RequestOptions::new().timeout(Duration::from_millis(800)),
        )
        .await
        .unwrap_err();
    assert!(err.is_deadline_exceeded(), "{err:?}");
    let n = srv.count();
    // Full jitter on a 50..100 ms ceiling within 800 ms: several attempts, but not a busy loop,
    // and not the 1000 the policy allows (which would mean the deadline was ignored).
    assert!((4..=200).contains(&n), "{n} attempts");
}

#[tokio::test]
async fn non_retryable_errors_are_returned_at_once_with_details() {
    let srv = server::start(|_, _| {
        Reply::json(
            400,
            serde_json::json!({
                "odata.metadata": "https://x/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
                "code": "InvalidPropertyValue",
                "message": {"lang": "en-US", "value": "The value provided for one of the properties in the request body is invalid.\nRequestId:abc\nTime:2024-01-01T00:00:00Z"},
                "values": [{"key": "PropertyName", "value": "subnetId"}, {"key": "Reason", "value": "Subnet is in another region"}]
            }),
        )
        .header("request-id", "11111111-2222-3333-4444-555555555555")
    })
    .await;
    let c = client(&srv.url());
    let err = c
        .add_pool(&crate::schema::rich_pool("p"), &RequestOptions::new())
        .await
        .unwrap_err();
    assert_eq!(srv.count(), 1);
    let se = err.service().unwrap();
    assert_eq!(se.status, 400);
    assert_eq!(se.code, "InvalidPropertyValue");
    assert_eq!(se.value("propertyname"), Some("subnetId"));
    assert_eq!(
        se.request_id.as_deref(),
        Some("11111111-2222-3333-4444-555555555555")
    );
    let shown = err.to_string();
    assert_eq!(
        shown,
        "Batch service error InvalidPropertyValue (HTTP 400): The value provided for one of the properties in the request body is invalid.; PropertyName=subnetId; Reason=Subnet is in another region [request-id 11111111-2222-3333-4444-555555555555]"
    );
}

#[tokio::test]
async fn attempt_timeout_then_success() {
    let srv = server::start(|_, i| match i {
        0 => Reply::Delay(
            Duration::from_secs(3),
            Box::new(Reply::json(200, pool_json("p"))),
        ),
        _ => Reply::json(200, pool_json("p"))
            .header("ETag", "0xE")
            .header("Last-Modified", "Fri, 17 Feb 2017 00:00:00 GMT"),
    })
    .await;
    let mut cfg = ClientConfig::new(srv.url(), Auth::None);
    cfg.attempt_timeout = Duration::from_millis(300);
    cfg.retry.base_delay = Duration::from_millis(10);
    let c = BatchClient::new(cfg).unwrap();
    let got = c
        .get_pool("p", &RequestOptions::new())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(srv.count(), 2);
    assert_eq!(got.etag.as_deref(), Some("0xE"));
    assert_eq!(
        got.last_modified.as_deref(),
        Some("Fri, 17 Feb 2017 00:00:00 GMT")
    );
    assert_eq!(got.value.vm_size.as_deref(), Some("standard_d2s_v3"));
    assert!(got.value.is_steady());
}

#[tokio::test]
async fn connection_refused_is_retried_until_the_deadline() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = ClientConfig::new(format!("http://127.0.0.1:{port}"), Auth::None);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_attempts: 1000,
    };
    let c = BatchClient::new(cfg).unwrap();
    let err = c
        .get_pool(
            "p",
            &RequestOptions::new().timeout(Duration::from_millis(400)),
        )
        .await
        .unwrap_err();
    match &err {
        BatchError::DeadlineExceeded { attempts, last, .. } => {
            assert!(*attempts >= 2, "{attempts}");
            assert!(
                matches!(last.as_deref(), Some(BatchError::Transport { .. })),
                "{last:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn attempts_are_limited_by_max_attempts() {
    let srv = server::start(|_, _| Reply::error(502, "BadGateway", "bad gateway")).await;
    let mut cfg = ClientConfig::new(srv.url(), Auth::None);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_attempts: 3,
    };
    let err = BatchClient::new(cfg)
        .unwrap()
        .get_pool("p", &RequestOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502), "{err:?}");
    assert_eq!(srv.count(), 3);
}

#[tokio::test]
async fn cancellation_aborts_backoff() {
    let srv =
        server::start(|_, _| Reply::error(503, "ServerBusy", "busy").header("Retry-After", "10"))
            .await;
    let c = client(&srv.url());
    let token = CancellationToken::new();
    let t2 = token.clone();
    let seen = srv.requests.clone();
    // Cancel once the first attempt reached the server (the client then waits 10 s to retry).
    tokio::spawn(async move {
        while seen.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        t2.cancel();
    });
    let err = c
        .delete_pool(
            "p",
            &RequestOptions::new()
                .timeout(Duration::from_secs(60))
                .cancel(token),
        )
        .await
        .unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    // Cancelled during the 10 s Retry-After wait: the second attempt never happened.
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn get_404_is_none_and_exists_maps_status() {
    let srv = server::start(|req, _| match (req.method.as_str(), req.path()) {
        ("HEAD", "/pools/there") => Reply::status(200),
        ("HEAD", _) => Reply::status(404),
        _ => Reply::error(404, "JobNotFound", "The specified job does not exist."),
    })
    .await;
    let c = client(&srv.url());
    let o = RequestOptions::new();
    assert!(c.get_job("nope", &o).await.unwrap().is_none());
    assert!(c.get_task("nope", "t", &o).await.unwrap().is_none());
    assert!(c.pool_exists("there", &o).await.unwrap());
    assert!(!c.pool_exists("gone", &o).await.unwrap());
    let err = c.delete_job("nope", &o).await.unwrap_err();
    assert!(err.is_not_found() && err.is_code("jobnotfound"), "{err:?}");
}

#[tokio::test]
async fn lists_follow_next_link_and_send_odata_queries() {
    let base = Arc::new(Mutex::new(String::new()));
    let b2 = base.clone();
    let srv = server::start(move |req, _| {
        if req.target.contains("skiptoken") {
            Reply::json(200, serde_json::json!({"value": [pool_json("p2")]}))
        } else {
            let next = format!("{}/pools?api-version=2024-07-01.20.0&$skiptoken=abc", b2.lock().unwrap());
            Reply::json(200, serde_json::json!({"odata.metadata": "x", "value": [pool_json("p1")], "odata.nextLink": next}))
        }
    })
    .await;
    *base.lock().unwrap() = srv.url();
    let c = client(&srv.url());
    let q = ListQuery {
        filter: Some("startswith(id,'p')".into()),
        select: Some("id,state".into()),
        max_results: Some(1),
        ..Default::default()
    };
    let pools = c.list_pools(&q, &RequestOptions::new()).await.unwrap();
    let ids: Vec<_> = pools.iter().map(|p| p.id.clone().unwrap()).collect();
    assert_eq!(ids, ["p1", "p2"]);
    let reqs = srv.requests();
    let first = url::Url::parse(&format!("http://h{}", reqs[0].target)).unwrap();
    let q: Vec<(String, String)> = first.query_pairs().into_owned().collect();
    assert!(
        q.contains(&("$filter".into(), "startswith(id,'p')".into())),
        "{q:?}"
    );
    assert!(q.contains(&("$select".into(), "id,state".into())));
    assert!(q.contains(&("maxresults".into(), "1".into())));
    assert!(reqs[1].target.contains("skiptoken=abc"));
    // Every page is signed (shared key over the exact URL).
    assert!(reqs.iter().all(|r| {
        r.header("authorization")
            .unwrap()
            .starts_with("SharedKey devbatch:")
    }));
}

#[tokio::test]
async fn supported_images_filter_and_foreign_next_link_is_refused() {
    let srv = server::start(|req, _| {
        // Spaces as %20 (never '+', which servers decode differently).
        assert!(
            req.target.ends_with(
                "?api-version=2024-07-01.20.0&$filter=verificationType%20eq%20%27verified%27"
            ),
            "{}",
            req.target
        );
        let body =
            crate::examples::load("AccountListSupportedImages.json")["responses"]["200"]["body"]
                .clone();
        let mut body = body;
        body["odata.nextLink"] = "https://evil.example/supportedimages?x=1".into();
        Reply::json(200, body)
    })
    .await;
    let c = client(&srv.url());
    let err = c
        .list_supported_images(
            &ListQuery::filter("verificationType eq 'verified'"),
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, BatchError::Decode(ref m) if m.contains("another host")),
        "{err:?}"
    );
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn task_file_content_range_and_properties() {
    let srv = server::start(|req, _| {
        let headers = [
            ("ocp-creation-time", "Fri, 17 Feb 2017 00:00:00 GMT"),
            ("Last-Modified", "Fri, 17 Feb 2017 00:00:00 GMT"),
            ("ocp-batch-file-isdirectory", "false"),
            ("ocp-batch-file-mode", "0644"),
            ("Content-Type", "application/octet-stream"),
        ];
        let mut r = if req.method == "HEAD" {
            Reply::Respond {
                status: 200,
                headers: vec![("Content-Length".into(), "17".into())],
                body: vec![],
            }
        } else if req.header("ocp-range") == Some("bytes=6-10") {
            Reply::Respond {
                status: 200,
                headers: vec![],
                body: b"world".to_vec(),
            }
        } else {
            Reply::Respond {
                status: 200,
                headers: vec![],
                body: b"hello world\n".to_vec(),
            }
        };
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r
    })
    .await;
    let c = client(&srv.url());
    let o = RequestOptions::new();
    let f = c
        .get_task_file("job", "task 1", "wd/out.txt", None, &o)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&f.data[..], b"hello world\n");
    assert_eq!(f.info.content_length, 12);
    assert_eq!(f.info.file_mode.as_deref(), Some("0644"));
    assert!(!f.info.is_directory);
    let part = c
        .get_task_file(
            "job",
            "task 1",
            "wd/out.txt",
            Some(ByteRange {
                start: 6,
                end: Some(10),
            }),
            &o,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&part.data[..], b"world");
    let props = c
        .get_task_file_properties("job", "task 1", "stdout.txt", &o)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(props.content_length, 17);
    assert_eq!(
        props.creation_time.as_deref(),
        Some("Fri, 17 Feb 2017 00:00:00 GMT")
    );
    let reqs = srv.requests();
    assert_eq!(reqs[0].path(), "/jobs/job/tasks/task%201/files/wd/out.txt");
    assert_eq!(reqs[1].header("ocp-range"), Some("bytes=6-10"));
    assert_eq!(reqs[2].method, "HEAD");
}

#[test]
fn endpoints_must_be_https_except_loopback() {
    for ok in [
        "https://acct.westeurope.batch.azure.com",
        "http://127.0.0.1:10100",
        "http://127.5.6.7",
        "http://localhost:10100/",
        "http://[::1]:10100",
    ] {
        assert!(validate_endpoint(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://acct.westeurope.batch.azure.com",
        "http://10.0.0.1:10100",
        "http://localhost.evil.com",
        "ftp://127.0.0.1",
        "not a url",
    ] {
        let err = validate_endpoint(bad).unwrap_err();
        assert!(matches!(err, BatchError::Config(_)), "{bad}: {err:?}");
    }
    let msg = validate_endpoint("http://acct.westeurope.batch.azure.com")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("account_endpoint") && msg.contains("https"),
        "{msg}"
    );
}

/// A writer that collects log output.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures every log line (all crates, TRACE) on this thread until the guard drops.
    pub fn install() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn debug_logs_have_request_lines_but_no_secrets() {
    let (logs, _guard) = Captured::install();

    let signatures = Arc::new(Mutex::new(Vec::new()));
    let s2 = signatures.clone();
    let srv = server::start(move |req, i| {
        s2.lock()
            .unwrap()
            .push(req.header("authorization").unwrap().to_string());
        if i == 0 {
            Reply::error(503, "ServerBusy", "busy")
        } else {
            Reply::status(201).header("request-id", "rid-42")
        }
    })
    .await;
    let c = client(&srv.url());
    c.add_pool(&crate::schema::rich_pool("p"), &RequestOptions::new())
        .await
        .unwrap();
    drop(_guard);
    let text = logs.text();
    assert!(text.contains("batch request"), "{text}");
    assert!(text.contains("retrying batch request"), "{text}");
    assert!(
        text.contains("status=503") && text.contains("status=201"),
        "{text}"
    );
    assert!(
        text.contains("attempt=2") && text.contains("rid-42") && text.contains("path=/pools"),
        "{text}"
    );
    assert!(!text.contains(KEY), "account key logged");
    assert!(
        !text.contains("registry-password"),
        "registry password logged"
    );
    assert!(!text.contains("SharedKey"), "authorization logged");
    for sig in signatures.lock().unwrap().iter() {
        let sig = sig.rsplit(':').next().unwrap();
        assert!(!text.contains(sig), "signature logged");
    }
}
