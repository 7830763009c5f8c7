//! Attribute validators. Each runs only on known, non-null values, so configurations that depend
//! on values from other resources plan without false errors; each error names the attribute and
//! says how to fix it.

use std::time::Duration;

use crate::diag::{AttrPath, Diagnostics};
use crate::value::Value;

pub trait Validator: Send + Sync {
    /// Checks a known, non-null value.
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics);
    /// One sentence for documentation, e.g. "one of `spread`, `pack`".
    fn describe(&self) -> String;
}

/// The value must be one of the listed strings (exact case).
pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && !self.0.contains(&s)
        {
            let hint = self
                .0
                .iter()
                .find(|c| c.eq_ignore_ascii_case(s))
                .map(|c| format!(" Did you mean {c:?}? Values are case-sensitive."))
                .unwrap_or_default();
            diags.attr_error(
                path,
                format!("Invalid value for {path}"),
                format!(
                    "{s:?} is not allowed here. Use one of: {}.{hint}",
                    quoted(self.0)
                ),
            );
        }
    }
    fn describe(&self) -> String {
        format!(
            "One of {}.",
            self.0
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn quoted(v: &[&str]) -> String {
    v.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An ISO 8601 duration such as `PT15M` or `P7D`.
pub struct Iso8601Duration;

impl Validator for Iso8601Duration {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && let Err(e) = parse_iso8601_duration(s)
        {
            diags.attr_error(
                path,
                format!("Invalid duration in {path}"),
                format!("{s:?} is not an ISO 8601 duration ({e}). Write it like \"PT15M\" (15 minutes), \"PT1H30M\" or \"P7D\"."),
            );
        }
    }
    fn describe(&self) -> String {
        "An ISO 8601 duration, e.g. `PT15M`.".into()
    }
}

/// A Go duration string (`30s`, `10m`, `2h45m`), used by `timeouts`.
pub struct GoDuration;

impl Validator for GoDuration {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str()
            && let Err(e) = parse_go_duration(s)
        {
            diags.attr_error(
                path,
                format!("Invalid duration in {path}"),
                format!(
                    "{s:?} is not a duration ({e}). Write it like \"30s\", \"10m\" or \"1h30m\"."
                ),
            );
        }
    }
    fn describe(&self) -> String {
        "A duration such as `30m`.".into()
    }
}

/// An integer within bounds (inclusive).
pub struct IntBetween(pub i64, pub i64);

impl Validator for IntBetween {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Value::Number(n) = value {
            match n.as_i64() {
                Some(i) if i >= self.0 && i <= self.1 => {}
                Some(i) => diags.attr_error(
                    path,
                    format!("Value out of range in {path}"),
                    format!(
                        "{i} is outside the allowed range: use a whole number from {} to {}.",
                        self.0, self.1
                    ),
                ),
                None => diags.attr_error(
                    path,
                    format!("Invalid number in {path}"),
                    format!("Use a whole number from {} to {}.", self.0, self.1),
                ),
            }
        }
    }
    fn describe(&self) -> String {
        format!("A whole number from {} to {}.", self.0, self.1)
    }
}

/// A non-empty string, for optional arguments: the error offers leaving the argument out. A required
/// argument uses [`NotEmpty::like`], whose error shows what a valid value looks like instead.
pub struct NotEmpty;

impl NotEmpty {
    /// A non-empty string for a required argument; `example` is a valid value for its error.
    pub const fn like(example: &'static str) -> NotEmptyLike {
        NotEmptyLike(example)
    }
}

/// The error for a blank string value; `advice` says what to do instead.
fn reject_blank(path: &AttrPath, value: &Value, diags: &mut Diagnostics, advice: String) {
    if value.as_str().is_some_and(|s| s.trim().is_empty()) {
        diags.attr_error(
            path,
            format!("Empty value in {path}"),
            format!("{path} {advice}"),
        );
    }
}

impl Validator for NotEmpty {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let advice =
            "must not be empty: give it a value, or leave the argument out to use its default.";
        reject_blank(path, value, diags, advice.into());
    }
    fn describe(&self) -> String {
        "Not empty.".into()
    }
}

/// A non-empty string for a required argument, with an example of a valid value (see
/// [`NotEmpty::like`]).
pub struct NotEmptyLike(pub &'static str);

impl Validator for NotEmptyLike {
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        let advice = format!(
            "is required and must not be empty: give it a value like {:?}.",
            self.0
        );
        reject_blank(path, value, diags, advice);
    }
    fn describe(&self) -> String {
        "Not empty.".into()
    }
}

/// Parses a Go duration string: a sequence of decimal numbers with units ns, us, µs, ms, s, m, h.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let n: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("bad number {:?}", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err("missing unit (use s, m or h)".into()),
            u => return Err(format!("unknown unit {u:?} (use s, m or h)")),
        };
        total += n * secs;
    }
    Ok(Duration::from_secs_f64(total))
}

/// Parses an ISO 8601 duration (`PnYnMnDTnHnMnS`, `PnW`); the workspace's one parser.
pub fn parse_iso8601_duration(s: &str) -> Result<Duration, String> {
    iso_duration::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail_of(v: &dyn Validator, value: &str) -> Option<String> {
        let mut d = Diagnostics::new();
        v.validate(&AttrPath::root().child("x"), &Value::string(value), &mut d);
        d.0.first().map(|d| d.detail.clone())
    }

    #[test]
    fn empty_values_are_told_what_to_do_by_whether_the_argument_is_required() {
        assert_eq!(detail_of(&NotEmpty, "ok"), None);
        assert_eq!(detail_of(&NotEmpty::like("a"), "ok"), None);
        let optional = detail_of(&NotEmpty, " ").unwrap();
        assert!(optional.contains("leave the argument out"), "{optional}");
        let required = detail_of(&NotEmpty::like("STANDARD_D2S_V3"), "").unwrap();
        assert!(
            required.contains("is required") && required.contains("like \"STANDARD_D2S_V3\""),
            "{required}"
        );
        assert!(
            !required.contains("remove") && !required.contains("leave"),
            "{required}"
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(
            parse_go_duration("2h45m").unwrap(),
            Duration::from_secs(9900)
        );
        assert_eq!(
            parse_go_duration("1.5s").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_go_duration("30").is_err());
        assert!(parse_go_duration("PT5M").is_err());
    }

    #[test]
    fn iso_durations() {
        assert_eq!(
            parse_iso8601_duration("PT15M").unwrap(),
            Duration::from_secs(900)
        );
        assert_eq!(
            parse_iso8601_duration("P7D").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert_eq!(
            parse_iso8601_duration("P1DT2H").unwrap(),
            Duration::from_secs(86400 + 7200)
        );
        assert!(parse_iso8601_duration("15M").is_err());
        assert!(parse_iso8601_duration("PT").is_err());
        assert!(parse_iso8601_duration("P1H").is_err());
    }
}
