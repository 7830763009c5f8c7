//! What a test does when something it needs is missing (a container engine, a Terraform CLI):
//! on a developer machine it says so and is skipped; under CI (`CI` set to anything but `false`
//! or `0`, as CI services and `.ci/run` do) it fails naming what is missing, so a broken machine
//! image can never turn tests into silent passes. Every test crate decides through here.

/// Prefix of the note printed when a test is skipped (grep a test log for it).
pub const SKIP_PREFIX: &str = "SKIPPED (missing prerequisite) ";

/// Whether this run is CI, where nothing may be skipped.
pub fn is_ci() -> bool {
    ci_value(std::env::var("CI").ok().as_deref())
}

fn ci_value(v: Option<&str>) -> bool {
    match v.map(str::trim) {
        None | Some("") => false,
        Some(v) => !(v.eq_ignore_ascii_case("false") || v == "0"),
    }
}

/// Decides for a test whose prerequisite is missing: panics under CI with `missing` (what is
/// missing and how to provide it), otherwise prints the skip note and returns so that the caller
/// can return. Prefer [`require!`].
#[track_caller]
pub fn missing(test: &str, missing: &str) {
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" => format!("{test} ({name})"),
        _ => test.to_string(),
    };
    if is_ci() {
        panic!(
            "CI={}: {test} cannot run: {missing}",
            std::env::var("CI").unwrap_or_default()
        );
    }
    use std::io::Write;
    // Straight to stderr: libtest's capture would hide it for a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "{SKIP_PREFIX}{test}: {missing} (under CI=true this fails)"
    );
}

/// `require!(check)` with `check: Result<T, String>`: evaluates to `T`, or, when the check says
/// what is missing, fails under CI / returns from the calling test with a note elsewhere.
#[macro_export]
macro_rules! require {
    ($check:expr) => {
        match $check {
            Ok(v) => v,
            Err(why) => {
                $crate::missing(module_path!(), &why);
                return;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_any_value_but_false_or_zero() {
        for (v, ci) in [
            (None, false),
            (Some(""), false),
            (Some("false"), false),
            (Some("FALSE"), false),
            (Some("0"), false),
            (Some("true"), true),
            (Some("1"), true),
            (Some("yes"), true),
        ] {
            assert_eq!(ci_value(v), ci, "CI={v:?}");
        }
    }
}
