//! Shared Key test vectors from spec/batch-auth.md §3 (in this repository; §3a copies Azure/BatchExplorer's
//! `batch-shared-key-authenticator.spec.ts` vectors), and end-to-end signing against a loopback server.

use crate::server::{self, Reply};
use batch_client::auth::string_to_sign;
use batch_client::{Auth, BatchClient, ClientConfig, RequestOptions, SharedKeyCredential};
use reqwest::header::{HeaderMap, HeaderValue};

const DATE: &str = "Wed, 10 Apr 2024 10:11:46 GMT";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// spec/batch-auth.md §3a: BatchExplorer's fixed vectors (pure HMAC over the given strings-to-sign; the key is the
/// base64url decoding of "somekey").
#[test]
fn batch_explorer_vectors() {
    let cred =
        SharedKeyCredential::from_key_bytes("testaccount", vec![0xb2, 0x89, 0x9e, 0x91, 0xec]);
    let cases = [
        (
            "get\n\n\n0\n\n\n\n\n\n\n\n\nocp-date:Fri, 05 Oct 2018 09:05:06 GMT\n/testaccount/",
            "JicngYEjSUNCXiXY9NCLQnOX9lQsaKXEamO4aL+UNjY=",
        ),
        (
            "get\n\n\n0\n\n\n\n\n\n\n\n\nocp-date:Fri, 05 Oct 2018 09:05:06 GMT\n/testaccount/\napi-version:2018-08-01",
            "d6XpT6+i15AMviEHZJxmSvH6KMkrHwI/k9+z+xmJxPc=",
        ),
        (
            "post\n\n\n13\n\n\n\n\n\n\n\n\nocp-date:Fri, 05 Oct 2018 09:05:06 GMT\n/testaccount/pools",
            "GgI/PPSZVqHRx3U4A+QbkXY0FdMv/2bUzxfBI5c2x+s=",
        ),
    ];
    for (sts, sig) in cases {
        assert_eq!(cred.sign(sts), sig, "string-to-sign {sts:?}");
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

/// spec/batch-auth.md §3b: worked examples of the documented algorithm, from request to Authorization header.
#[test]
fn documented_algorithm_examples() {
    let cred = SharedKeyCredential::new("myaccount", KEY).unwrap();

    let url = url::Url::parse(
        "https://myaccount.eastus.batch.azure.com/pools?api-version=2024-07-01.20.0",
    )
    .unwrap();
    let h = headers(&[
        ("content-type", "application/json; odata=minimalmetadata"),
        ("content-length", "42"),
        ("ocp-date", DATE),
        // Unsigned headers must not change the string-to-sign.
        ("client-request-id", "6a2f1f0e-8d43-4c2b-9d1e-1f0a6f0b8a11"),
        ("return-client-request-id", "true"),
    ]);
    assert_eq!(
        string_to_sign("myaccount", "POST", &url, &h),
        "POST\n\n\n42\n\napplication/json; odata=minimalmetadata\n\n\n\n\n\n\nocp-date:Wed, 10 Apr 2024 10:11:46 GMT\n/myaccount/pools\napi-version:2024-07-01.20.0"
    );
    assert_eq!(
        cred.authorization("POST", &url, &h),
        "SharedKey myaccount:hCsjGFuoiyzedPRkU0nzne26olIBs2tK+36dS3/LyPY="
    );

    // Query parameters are sorted by name regardless of their order in the URL.
    let url = url::Url::parse("https://myaccount.eastus.batch.azure.com/pools/mypool?timeout=20&api-version=2024-07-01.20.0").unwrap();
    let h = headers(&[("ocp-date", DATE)]);
    assert_eq!(
        string_to_sign("myaccount", "GET", &url, &h),
        "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:Wed, 10 Apr 2024 10:11:46 GMT\n/myaccount/pools/mypool\napi-version:2024-07-01.20.0\ntimeout:20"
    );
    assert_eq!(
        cred.authorization("GET", &url, &h),
        "SharedKey myaccount:aEGbLOA1yIx+5PjIb8629iRRypoBfAScYt79aMN7y0U="
    );

    let url = url::Url::parse(
        "https://myaccount.eastus.batch.azure.com/pools/mypool?api-version=2024-07-01.20.0",
    )
    .unwrap();
    let h = headers(&[("ocp-date", DATE), ("if-match", "0x8DC5946A1A86E0B")]);
    assert_eq!(
        cred.authorization("DELETE", &url, &h),
        "SharedKey myaccount:eIHQQDyiScgFrus8GXcUIjZT1ps69YuRdZgFn0nXPFc="
    );
}

#[test]
fn canonicalization_details() {
    // Decoded, lower-cased query names; repeated names joined with commas after sorting values;
    // every ocp-* header signed in name order; Date line empty when ocp-date is present.
    let url = url::Url::parse(
        "https://a.b.batch.azure.com/pools?api-version=1&%24filter=startswith(id%2C%27x%27)&B=2&b=1",
    )
    .unwrap();
    let h = headers(&[
        ("ocp-range", "bytes=0-9"),
        ("ocp-date", DATE),
        ("date", "Thu, 11 Apr 2024 00:00:00 GMT"),
    ]);
    assert_eq!(
        string_to_sign("acct", "get", &url, &h),
        "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:Wed, 10 Apr 2024 10:11:46 GMT\nocp-range:bytes=0-9\n/acct/pools\n$filter:startswith(id,'x')\napi-version:1\nb:1,2"
    );
}

#[test]
fn bad_keys_are_config_errors_and_debug_hides_the_key() {
    let err = Auth::shared_key("acct", "not base64!").unwrap_err();
    assert!(err.to_string().contains("account_key"), "{err}");
    let cred = SharedKeyCredential::new("acct", KEY).unwrap();
    let dbg = format!("{cred:?} {:?}", Auth::SharedKey(cred.clone()));
    assert!(!dbg.contains(KEY) && !dbg.contains("AAECAw"), "{dbg}");
}

/// Requests on the wire carry exactly the headers that were signed: the server recomputes the
/// signature from what it received.
#[tokio::test]
async fn wire_requests_verify_on_the_server() {
    let srv = server::start(|req, _| {
        let cred = SharedKeyCredential::new("devbatch", KEY).unwrap();
        let url = url::Url::parse(&format!("http://127.0.0.1{}", req.target)).unwrap();
        let mut h = HeaderMap::new();
        for (k, v) in &req.headers {
            h.append(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let expected = cred.authorization(&req.method, &url, &h);
        if req.header("authorization") != Some(expected.as_str()) {
            return Reply::error(403, "AuthenticationFailed", "signature mismatch");
        }
        match req.method.as_str() {
            "GET" => Reply::error(404, "PoolNotFound", "no pool"),
            _ => Reply::status(202),
        }
    })
    .await;
    let client = BatchClient::new(ClientConfig::new(
        srv.url(),
        Auth::shared_key("devbatch", KEY).unwrap(),
    ))
    .unwrap();
    let o = RequestOptions::new();
    // GET without body, bodiless POST (explicit Content-Length: 0), POST with JSON body,
    // DELETE with If-Match, and a path needing percent-encoding.
    assert!(client.get_pool("p 1", &o).await.unwrap().is_none());
    client.stop_resize_pool("p1", &o).await.unwrap();
    client
        .resize_pool(
            "p1",
            &batch_client::models::PoolResizeParameter {
                target_dedicated_nodes: Some(2),
                ..Default::default()
            },
            &o,
        )
        .await
        .unwrap();
    client
        .delete_pool("p1", &o.clone().if_match("0x8DC5946A1A86E0B"))
        .await
        .unwrap();
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].path(), "/pools/p%201");
    assert_eq!(reqs[1].header("content-length"), Some("0"));
    assert_eq!(
        reqs[2].header("content-type"),
        Some("application/json; odata=minimalmetadata")
    );
    assert_eq!(
        reqs[2].json(),
        serde_json::json!({"targetDedicatedNodes": 2})
    );
    assert_eq!(reqs[3].header("if-match"), Some("0x8DC5946A1A86E0B"));
    for r in &reqs {
        assert!(
            r.target.contains("api-version=2024-07-01.20.0"),
            "{}",
            r.target
        );
        assert_eq!(r.header("return-client-request-id"), Some("true"));
        let crid = r.header("client-request-id").unwrap();
        assert_eq!(uuid::Uuid::parse_str(crid).unwrap().get_version_num(), 4);
        assert!(httpdate::parse_http_date(r.header("ocp-date").unwrap()).is_ok());
    }
}
