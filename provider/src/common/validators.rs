//! Validators that know Batch: ids and the account endpoint. The generic ones (enums, ranges,
//! durations) live in `tfplugin::validators`.

use tfplugin::validators::Validator;
use tfplugin::{AttrPath, Diagnostics, Value};

/// A Batch identifier: letters, digits, hyphens and underscores, 1 to 64 characters.
pub struct BatchId;

pub fn is_batch_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Validator for BatchId {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && !is_batch_id(s)
        {
            diags.attr_error(
                path,
                format!("Invalid Batch id in {path}"),
                format!(
                    "{s:?} is not a valid Batch id: use 1 to 64 characters, each a letter, digit, hyphen or underscore."
                ),
            );
        }
    }
    fn describe(&self) -> String {
        "1 to 64 letters, digits, hyphens and underscores.".into()
    }
}

/// An endpoint URL as the Batch client accepts it: https, or http only on a loopback host (the
/// local Batch service). The client's own check decides, so plan and configure agree.
pub struct EndpointUrl;

/// Why the client would refuse `s` as an endpoint, if it would.
pub fn check_endpoint(s: &str) -> Result<(), String> {
    batch_client::validate_endpoint(s)
        .map(|_| ())
        .map_err(|e| match e {
            batch_client::BatchError::Config(m) => m,
            other => other.to_string(),
        })
}

impl Validator for EndpointUrl {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && let Err(e) = check_endpoint(s)
        {
            diags.attr_error(path, format!("Invalid endpoint in {path}"), e);
        }
    }
    fn describe(&self) -> String {
        "An https URL (http only on loopback).".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(check_endpoint("https://a.westeurope.batch.azure.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:10100").is_ok());
        assert!(check_endpoint("http://localhost:10100/").is_ok());
        assert!(check_endpoint("http://[::1]:10100").is_ok());
        let e = check_endpoint("http://example.com").unwrap_err();
        assert!(e.contains("loopback"), "{e}");
        assert!(check_endpoint("ftp://127.0.0.1").is_err());
        assert!(check_endpoint("127.0.0.1:10100").is_err());
    }

    #[test]
    fn batch_ids() {
        assert!(is_batch_id("pool-1_a"));
        assert!(!is_batch_id(""));
        assert!(!is_batch_id("a b"));
        assert!(!is_batch_id(&"x".repeat(65)));
    }
}
