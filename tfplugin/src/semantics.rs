//! Declared semantic equality: when two spellings of a value mean the same thing (case-insensitive
//! names, `PT15M` and `PT900S`, a URL with and without the SAS token the service withholds), the
//! framework keeps the value Terraform already has instead of reporting a change. One
//! implementation per kind of equality, declared on the attribute with `Attribute::semantics`:
//!
//! * plan: a planned value semantically equal to the prior state's becomes the prior value;
//! * read: a value read back semantically equal to the prior state's keeps the prior value;
//! * apply: a new value semantically equal to the planned value keeps the planned value.
//!
//! Built-ins compare strings; lists are compared element by element and maps key by key, so a
//! `list(string)` attribute can use them too. Other values compare with `==`.

use crate::validators::parse_iso8601_duration;
use crate::value::Value;

pub trait Semantics: Send + Sync {
    /// True when two known, non-null values mean the same thing.
    fn equal(&self, a: &Value, b: &Value) -> bool;
    /// One sentence for documentation, e.g. "Case does not matter."
    fn describe(&self) -> String;
    /// Whether plan keeps the prior value too (true), or only read and apply do (false): for
    /// equalities that exist only because the service withholds part of a value, such as a SAS
    /// token, where a configured change of that part is a change the user asked for.
    fn in_plan(&self) -> bool {
        true
    }
}

/// Applies a string comparison to strings, element-wise to lists and maps, `==` otherwise.
fn by_string(a: &Value, b: &Value, eq: &dyn Fn(&str, &str) -> bool) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => eq(x, y),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| by_string(x, y, eq))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| by_string(v, w, eq)))
        }
        _ => a == b,
    }
}

/// ASCII case-insensitive strings.
pub struct IgnoreCase;

impl Semantics for IgnoreCase {
    fn equal(&self, a: &Value, b: &Value) -> bool {
        by_string(a, b, &|x, y| x.eq_ignore_ascii_case(y))
    }
    fn describe(&self) -> String {
        "Case does not matter.".into()
    }
}

/// ISO 8601 durations equal in time: `PT15M` == `PT900S`, `P1D` == `PT24H`. Strings that do not
/// parse are compared as written.
pub struct SameIsoDuration;

impl Semantics for SameIsoDuration {
    fn equal(&self, a: &Value, b: &Value) -> bool {
        by_string(a, b, &|x, y| {
            x == y
                || matches!(
                    (parse_iso8601_duration(x), parse_iso8601_duration(y)),
                    (Ok(d), Ok(e)) if d == e
                )
        })
    }
    fn describe(&self) -> String {
        "Durations that are equal in time are the same (`PT15M` and `PT900S`).".into()
    }
}

/// URLs equal ignoring the query string (and fragment), e.g. `https://a/b?sig=x` == `https://a/b`:
/// for URLs whose query (a SAS token) the service does not return on read.
pub struct UrlIgnoringQuery;

fn without_query(s: &str) -> &str {
    let end = s.find(['?', '#']).unwrap_or(s.len());
    &s[..end]
}

impl Semantics for UrlIgnoringQuery {
    fn equal(&self, a: &Value, b: &Value) -> bool {
        by_string(a, b, &|x, y| without_query(x) == without_query(y))
    }
    fn describe(&self) -> String {
        "The service does not return the query string (such as a SAS token): reading keeps the configured one, and changing it in the configuration is still a change.".into()
    }
    fn in_plan(&self) -> bool {
        false
    }
}

/// Text equal after `\r\n` becomes `\n` and surrounding whitespace is trimmed (formulas, scripts).
pub struct TrimmedText;

fn trimmed(s: &str) -> String {
    s.replace("\r\n", "\n").trim().to_string()
}

impl Semantics for TrimmedText {
    fn equal(&self, a: &Value, b: &Value) -> bool {
        by_string(a, b, &|x, y| trimmed(x) == trimmed(y))
    }
    fn describe(&self) -> String {
        "Line endings and leading or trailing whitespace do not matter.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn builtins() {
        let cases: &[(&dyn Semantics, &str, &str, bool)] = &[
            (&IgnoreCase, "Standard_D2s_v3", "standard_d2s_v3", true),
            (&IgnoreCase, "abc", "abd", false),
            (&SameIsoDuration, "PT15M", "PT900S", true),
            (&SameIsoDuration, "P1D", "PT24H", true),
            (&SameIsoDuration, "PT15M", "PT16M", false),
            (&SameIsoDuration, "bogus", "bogus", true),
            (&SameIsoDuration, "bogus", "PT0S", false),
            (&UrlIgnoringQuery, "https://a/b?sig=x", "https://a/b", true),
            (&UrlIgnoringQuery, "https://a/b?sig=x", "https://a/c", false),
            (
                &TrimmedText,
                "$x = 1;\r\n$y = 2;\n",
                "$x = 1;\n$y = 2;",
                true,
            ),
            (&TrimmedText, "a b", "a  b", false),
        ];
        for (sem, a, b, want) in cases {
            assert_eq!(sem.equal(&s(a), &s(b)), *want, "{a:?} vs {b:?}");
            assert_eq!(sem.equal(&s(b), &s(a)), *want, "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn collections_compare_element_wise() {
        let l = |xs: &[&str]| Value::string_list(xs.iter().copied());
        assert!(IgnoreCase.equal(&l(&["A", "b"]), &l(&["a", "B"])));
        assert!(!IgnoreCase.equal(&l(&["A"]), &l(&["a", "b"])));
        let m = |v: &str| Value::string_map([("k", v)]);
        assert!(IgnoreCase.equal(&m("X"), &m("x")));
        assert!(!IgnoreCase.equal(&Value::int(1), &Value::int(2)));
    }
}
