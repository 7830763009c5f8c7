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

/// A job id: a Batch id, or the id of a job a job schedule made (`<schedule id>:job-<n>`).
pub struct JobId;

pub fn is_job_id(s: &str) -> bool {
    match s.split_once(":job-") {
        Some((schedule, n)) => {
            is_batch_id(schedule) && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
        }
        None => is_batch_id(s),
    }
}

impl Validator for JobId {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && !is_job_id(s)
        {
            diags.attr_error(
                path,
                format!("Invalid job id in {path}"),
                format!(
                    "{s:?} is not a valid job id: use 1 to 64 letters, digits, hyphens and underscores, or the id of a job a job schedule made (`<schedule>:job-<n>`)."
                ),
            );
        }
    }
    fn describe(&self) -> String {
        "A job name, or `<schedule>:job-<n>`.".into()
    }
}

/// A job's `maxParallelTasks`: `-1` (no limit) or greater than 0 (Batch refuses 0).
pub struct MaxParallelTasks;

impl Validator for MaxParallelTasks {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if value.as_i64() == Some(0) {
            diags.attr_error(
                path,
                "Invalid max_parallel_tasks",
                "max_parallel_tasks must be -1 (no limit) or greater than 0.",
            );
        }
    }
    fn describe(&self) -> String {
        "`-1` (no limit) or greater than 0.".into()
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

/// An ISO 8601 duration of at least one minute: the least recurrence interval and start window
/// Batch accepts for a job schedule.
pub struct AtLeastOneMinute;

impl Validator for AtLeastOneMinute {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && let Ok(d) = tfplugin::validators::parse_iso8601_duration(s)
            && d < std::time::Duration::from_secs(60)
        {
            diags.attr_error(
                path,
                format!("{path} is under one minute"),
                format!("{s:?} is shorter than one minute, which Batch refuses for a job schedule: use at least \"PT1M\"."),
            );
        }
    }
    fn describe(&self) -> String {
        "At least one minute (`PT1M`).".into()
    }
}

/// An RFC 3339 UTC date-time such as `2026-12-06T02:00:00Z`.
pub struct Rfc3339;

pub fn parse_rfc3339(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

impl Validator for Rfc3339 {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && parse_rfc3339(s).is_none()
        {
            diags.attr_error(
                path,
                format!("Invalid date-time in {path}"),
                format!(
                    "{s:?} is not an RFC 3339 date-time: write it like \"2026-12-06T02:00:00Z\"."
                ),
            );
        }
    }
    fn describe(&self) -> String {
        "An RFC 3339 date-time, e.g. `2026-12-06T02:00:00Z`.".into()
    }
}

/// Date-times that name the same instant are the same (`2026-12-06T02:00:00Z` and
/// `2026-12-06T02:00:00.0000000Z`, as Batch may echo it).
pub struct SameInstant;

impl tfplugin::semantics::Semantics for SameInstant {
    fn equal(&self, a: &Value, b: &Value) -> bool {
        match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => {
                x == y
                    || matches!((parse_rfc3339(x), parse_rfc3339(y)), (Some(p), Some(q)) if p == q)
            }
            _ => a == b,
        }
    }
    fn describe(&self) -> String {
        "Date-times naming the same instant are the same.".into()
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

    #[test]
    fn max_parallel_tasks_refuses_only_zero() {
        let path = AttrPath::root().child("job").child("max_parallel_tasks");
        for (n, ok) in [(-1, true), (0, false), (1, true), (64, true)] {
            let mut d = Diagnostics::new();
            MaxParallelTasks.validate(&path, &Value::int(n), &mut d);
            assert_eq!(!d.has_errors(), ok, "{n}");
            if !ok {
                assert_eq!(d.0[0].path.as_ref(), Some(&path));
            }
        }
        let mut d = Diagnostics::new();
        MaxParallelTasks.validate(&path, &Value::Unknown, &mut d);
        assert!(!d.has_errors());
    }

    #[test]
    fn job_ids_include_the_jobs_of_schedules() {
        assert!(is_job_id("render"));
        assert!(is_job_id("nightly:job-12"));
        assert!(!is_job_id("nightly:job-"));
        assert!(!is_job_id("nightly:job-x"));
        assert!(!is_job_id("a:b"));
    }

    #[test]
    fn schedule_durations_and_instants() {
        let errors = |v: &dyn Validator, s: &str| {
            let mut d = Diagnostics::new();
            v.validate(&AttrPath::attr("x"), &Value::string(s), &mut d);
            d.has_errors()
        };
        assert!(errors(&AtLeastOneMinute, "PT59S"));
        assert!(!errors(&AtLeastOneMinute, "PT1M"));
        assert!(!errors(&AtLeastOneMinute, "P1D"));
        assert!(errors(&Rfc3339, "2026-12-06 02:00"));
        assert!(!errors(&Rfc3339, "2026-12-06T02:00:00Z"));
        use tfplugin::semantics::Semantics;
        assert!(SameInstant.equal(
            &Value::string("2026-12-06T02:00:00Z"),
            &Value::string("2026-12-06T02:00:00.0000000Z")
        ));
        assert!(!SameInstant.equal(
            &Value::string("2026-12-06T02:00:00Z"),
            &Value::string("2026-12-06T02:00:01Z")
        ));
    }
}
