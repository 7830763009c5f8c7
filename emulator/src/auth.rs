//! Shared Key verification (see spec/batch-auth.md) and the optional bearer-token acceptance.

use axum::http::{HeaderMap, Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ApiError;

/// Maximum clock skew between `ocp-date`/`Date` and the server's clock.
pub const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Build the string-to-sign for a request. `path` is the URL path exactly as sent and `query` the raw query string.
pub fn string_to_sign(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    account: &str,
) -> String {
    let ocp_date = header(headers, "ocp-date");
    let date = if ocp_date.is_empty() {
        header(headers, "date")
    } else {
        ""
    };
    let mut s = String::new();
    for v in [
        method,
        header(headers, "content-encoding"),
        header(headers, "content-language"),
        header(headers, "content-length"),
        header(headers, "content-md5"),
        header(headers, "content-type"),
        date,
        header(headers, "if-modified-since"),
        header(headers, "if-match"),
        header(headers, "if-none-match"),
        header(headers, "if-unmodified-since"),
        header(headers, "range"),
    ] {
        s.push_str(v);
        s.push('\n');
    }
    let mut ocp: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("ocp-"))
        .map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).replace(['\r', '\n'], " ");
            (k.as_str().to_ascii_lowercase(), v.trim_start().to_string())
        })
        .collect();
    ocp.sort();
    for (k, v) in ocp {
        s.push_str(&format!("{k}:{v}\n"));
    }
    s.push('/');
    s.push_str(account);
    s.push_str(if path.is_empty() { "/" } else { path });
    let mut params: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    // Names and values are URL-decoded (`+` is a space, as in form encoding).
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        params
            .entry(k.to_ascii_lowercase())
            .or_default()
            .push(v.into_owned());
    }
    for (k, mut vs) in params {
        vs.sort();
        s.push_str(&format!("\n{k}:{}", vs.join(",")));
    }
    s
}

/// Base64(HMAC-SHA256(key, string_to_sign)).
pub fn sign(key: &[u8], string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

pub struct AuthConfig {
    pub account: String,
    pub key: Vec<u8>,
    pub accept_bearer: bool,
}

fn auth_failed(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
    )
    .with("AuthenticationErrorDetail", detail)
}

/// Check the request's Authorization header. The error's detail never contains the expected signature.
pub fn verify(
    cfg: &AuthConfig,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let auth = header(headers, "authorization");
    if auth.is_empty() {
        return Err(auth_failed(
            "The Authorization header is missing: sign requests with Shared Key (SharedKey account:signature).",
        ));
    }
    if let Some(token) = auth.strip_prefix("Bearer ") {
        if cfg.accept_bearer && !token.trim().is_empty() {
            return Ok(());
        }
        return Err(auth_failed(
            "Bearer tokens are not accepted by this local service (start it with --accept-bearer).",
        ));
    }
    let Some(rest) = auth.strip_prefix("SharedKey ") else {
        return Err(auth_failed(
            "The Authorization header scheme is not SharedKey.",
        ));
    };
    let Some((account, signature)) = rest.trim().split_once(':') else {
        return Err(auth_failed(
            "The Authorization header is not of the form 'SharedKey account:signature'.",
        ));
    };
    if !account.eq_ignore_ascii_case(&cfg.account) {
        return Err(auth_failed(&format!(
            "The account name '{account}' does not match this service's account '{}'.",
            cfg.account
        )));
    }
    let date = match header(headers, "ocp-date") {
        "" => header(headers, "date"),
        d => d,
    };
    if date.is_empty() {
        return Err(auth_failed(
            "Request date header (ocp-date or Date) not specified.",
        ));
    }
    let Some(when) = crate::util::parse_http_date(date) else {
        return Err(auth_failed(&format!(
            "The date header value '{date}' is not a valid RFC 1123 date."
        )));
    };
    if (crate::util::now_ms() - when).abs() > MAX_SKEW_MS {
        return Err(auth_failed(&format!(
            "Request date header too old or too far in the future: '{date}' (allowed skew is 15 minutes)."
        )));
    }
    let sts = string_to_sign(method.as_str(), path, query, headers, account);
    let mut ok = sign(&cfg.key, &sts).as_bytes() == signature.trim().as_bytes();
    // SDKs disagree on an empty body's Content-Length line ("" or "0") and the service accepts
    // both (spec/batch-auth.md), so does this one.
    let cl = header(headers, "content-length");
    if !ok && (cl.is_empty() || cl == "0") {
        let mut alt = headers.clone();
        if cl.is_empty() {
            alt.insert("content-length", axum::http::HeaderValue::from_static("0"));
        } else {
            alt.remove("content-length");
        }
        ok = sign(
            &cfg.key,
            &string_to_sign(method.as_str(), path, query, &alt, account),
        )
        .as_bytes()
            == signature.trim().as_bytes();
    }
    if !ok {
        // Like the service, tell the caller what we signed (that is not a secret; the signature is).
        return Err(auth_failed(&format!(
            "The MAC signature found in the HTTP request is not the same as any computed signature. Server used following string to sign: '{sts}'."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn hm(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn batch_explorer_vectors() {
        // spec/batch-auth.md §3a (BatchExplorer's vectors); the 5-byte key is base64url("somekey").
        let key = [0xb2u8, 0x89, 0x9e, 0x91, 0xec];
        let d = "Fri, 05 Oct 2018 09:05:06 GMT";
        let cases = [
            (
                format!("get\n\n\n0\n\n\n\n\n\n\n\n\nocp-date:{d}\n/testaccount/"),
                "JicngYEjSUNCXiXY9NCLQnOX9lQsaKXEamO4aL+UNjY=",
            ),
            (
                format!(
                    "get\n\n\n0\n\n\n\n\n\n\n\n\nocp-date:{d}\n/testaccount/\napi-version:2018-08-01"
                ),
                "d6XpT6+i15AMviEHZJxmSvH6KMkrHwI/k9+z+xmJxPc=",
            ),
            (
                format!("post\n\n\n13\n\n\n\n\n\n\n\n\nocp-date:{d}\n/testaccount/pools"),
                "GgI/PPSZVqHRx3U4A+QbkXY0FdMv/2bUzxfBI5c2x+s=",
            ),
        ];
        for (sts, sig) in cases {
            assert_eq!(sign(&key, &sts), sig);
        }
    }

    #[test]
    fn documented_algorithm_examples() {
        let key = STANDARD
            .decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .unwrap();
        let d = "Wed, 10 Apr 2024 10:11:46 GMT";
        let h = hm(&[
            ("ocp-date", d),
            ("content-type", "application/json; odata=minimalmetadata"),
            ("content-length", "42"),
        ]);
        let sts = string_to_sign(
            "POST",
            "/pools",
            Some("api-version=2024-07-01.20.0"),
            &h,
            "myaccount",
        );
        assert_eq!(
            sts,
            format!(
                "POST\n\n\n42\n\napplication/json; odata=minimalmetadata\n\n\n\n\n\n\nocp-date:{d}\n/myaccount/pools\napi-version:2024-07-01.20.0"
            )
        );
        assert_eq!(
            sign(&key, &sts),
            "hCsjGFuoiyzedPRkU0nzne26olIBs2tK+36dS3/LyPY="
        );

        let h = hm(&[("ocp-date", d)]);
        let sts = string_to_sign(
            "GET",
            "/pools/mypool",
            Some("timeout=20&api-version=2024-07-01.20.0"),
            &h,
            "myaccount",
        );
        assert_eq!(
            sign(&key, &sts),
            "aEGbLOA1yIx+5PjIb8629iRRypoBfAScYt79aMN7y0U="
        );

        let h = hm(&[("ocp-date", d), ("if-match", "0x8DC5946A1A86E0B")]);
        let sts = string_to_sign(
            "DELETE",
            "/pools/mypool",
            Some("api-version=2024-07-01.20.0"),
            &h,
            "myaccount",
        );
        assert_eq!(
            sign(&key, &sts),
            "eIHQQDyiScgFrus8GXcUIjZT1ps69YuRdZgFn0nXPFc="
        );
    }

    #[test]
    fn verify_rejects_bad_and_old() {
        let cfg = AuthConfig {
            account: "acct".into(),
            key: vec![1, 2, 3],
            accept_bearer: false,
        };
        let date = crate::util::http_date(crate::util::now_ms());
        let mut h = hm(&[("ocp-date", &date)]);
        let sts = string_to_sign("GET", "/pools", Some("api-version=x"), &h, "acct");
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!("SharedKey acct:{}", sign(&[1, 2, 3], &sts))).unwrap(),
        );
        assert!(verify(&cfg, &Method::GET, "/pools", Some("api-version=x"), &h).is_ok());
        // Tampered query.
        let e = verify(&cfg, &Method::GET, "/pools", Some("api-version=y"), &h).unwrap_err();
        assert_eq!(e.code, "AuthenticationFailed");
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        // Old date.
        let old = crate::util::http_date(crate::util::now_ms() - 16 * 60 * 1000);
        let mut h = hm(&[("ocp-date", &old)]);
        let sts = string_to_sign("GET", "/pools", None, &h, "acct");
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!("SharedKey acct:{}", sign(&[1, 2, 3], &sts))).unwrap(),
        );
        let e = verify(&cfg, &Method::GET, "/pools", None, &h).unwrap_err();
        assert!(e.values[0].1.contains("too old"));
        // Bearer off by default.
        let h = hm(&[("authorization", "Bearer abc")]);
        assert!(verify(&cfg, &Method::GET, "/pools", None, &h).is_err());
        let cfg = AuthConfig {
            accept_bearer: true,
            ..cfg
        };
        assert!(verify(&cfg, &Method::GET, "/pools", None, &h).is_ok());
    }
}
