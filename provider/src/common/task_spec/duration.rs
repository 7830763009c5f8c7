//! ISO 8601 durations as Batch reports them: the service may rewrite a duration (`PT60M` as
//! `PT1H`) and reports "no limit" as .NET's `TimeSpan.MaxValue`.

use tfplugin::Value;

/// What the service returns for an unset duration: .NET's TimeSpan.MaxValue.
pub const UNLIMITED_DURATION: &str = "P10675199DT2H48M5.4775807S";

/// Seconds of an ISO 8601 duration, if it parses.
fn duration_secs(s: &str) -> Option<f64> {
    tfplugin::validators::parse_iso8601_duration(s)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// True for the "no limit" value the service reports (about 29,000 years).
pub fn is_unlimited(s: &str) -> bool {
    duration_secs(s).is_some_and(|v| v >= 10_675_199.0 * 86_400.0)
}

/// True when both spell the same length of time (or, unparsable, the same text).
pub fn same_duration(a: &str, b: &str) -> bool {
    match (duration_secs(a), duration_secs(b)) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-3,
        _ => a == b,
    }
}

/// A duration as state: the prior spelling when it means the same length of time, None when the
/// user left it unset (`prior` None) and the service reports `server_default` or "unlimited".
pub fn flatten_duration(
    remote: Option<&str>,
    prior: Option<&str>,
    server_default: Option<&str>,
) -> Option<String> {
    let r = remote?;
    match prior {
        Some(p) if same_duration(p, r) => Some(p.to_string()),
        None if is_unlimited(r) || server_default.is_some_and(|d| same_duration(d, r)) => None,
        _ => Some(r.to_string()),
    }
}

/// [`flatten_duration`] over untyped values, for resources not yet on typed models. An unknown
/// prior counts as set (it never matches, so the remote value is kept).
pub fn duration_from_model(
    remote: Option<&str>,
    prior: &Value,
    server_default: Option<&str>,
) -> Value {
    match (remote, prior) {
        (Some(r), Value::Unknown) => Value::string(r),
        _ => Value::opt_string(flatten_duration(remote, prior.as_str(), server_default)),
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

    #[test]
    fn flatten_duration_table() {
        let cases: &[(Option<&str>, Option<&str>, Option<&str>, Option<&str>)] = &[
            // remote, prior, server default, expected
            (None, Some("PT1H"), None, None),
            (Some("PT1H"), Some("PT60M"), None, Some("PT60M")),
            (Some("PT2H"), Some("PT60M"), None, Some("PT2H")),
            (Some(UNLIMITED_DURATION), None, None, None),
            (
                Some(UNLIMITED_DURATION),
                Some("PT1H"),
                None,
                Some(UNLIMITED_DURATION),
            ),
            (Some("P7D"), None, Some("P7D"), None),
            (Some("PT168H"), None, Some("P7D"), None),
            (Some("P8D"), None, Some("P7D"), Some("P8D")),
            (Some("PT5M"), None, None, Some("PT5M")),
        ];
        for (remote, prior, default, want) in cases {
            assert_eq!(
                flatten_duration(*remote, *prior, *default).as_deref(),
                *want,
                "remote {remote:?} prior {prior:?} default {default:?}"
            );
        }
    }

    #[test]
    fn untyped_wrapper_keeps_null_and_spelling() {
        assert_eq!(
            duration_from_model(Some("PT1H"), &Value::string("PT60M"), None),
            Value::string("PT60M")
        );
        assert_eq!(
            duration_from_model(Some(UNLIMITED_DURATION), &Value::Null, None),
            Value::Null
        );
        assert_eq!(
            duration_from_model(Some("PT1H"), &Value::Unknown, None),
            Value::string("PT1H")
        );
        assert!(is_unlimited(UNLIMITED_DURATION) && !is_unlimited("P365D"));
    }
}
