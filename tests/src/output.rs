//! Results of Terraform commands and Terraform's JSON diagnostics.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// What one Terraform command did.
#[derive(Clone, Debug)]
pub struct TfOutput {
    /// The arguments after the program name.
    pub args: Vec<String>,
    /// Exit code; `None` when killed by a signal (e.g. after a timeout).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    /// The command ran past its timeout and was killed (with its providers).
    pub timed_out: bool,
}

impl TfOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// A readable dump for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "terraform {} -> exit {:?}{} after {:.1?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            if self.timed_out { " (TIMED OUT)" } else { "" },
            self.duration,
            self.stdout,
            self.stderr
        )
    }

    /// Panics (showing both streams) unless the command succeeded.
    #[track_caller]
    pub fn assert_success(self) -> Self {
        assert!(self.success(), "command failed:\n{}", self.describe());
        self
    }

    /// Panics unless the command ran to completion and failed.
    #[track_caller]
    pub fn assert_failure(self) -> Self {
        assert!(
            !self.timed_out && self.code.is_some() && self.code != Some(0),
            "command was expected to fail:\n{}",
            self.describe()
        );
        self
    }

    /// stdout and stderr together (stdout first).
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// stdout parsed as JSON lines (the `-json` UI of plan/apply/destroy/init); non-JSON lines
    /// are skipped.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect()
    }

    /// Diagnostics from the `-json` UI output (`"type": "diagnostic"` lines), without the
    /// "Provider development overrides are in effect" warning that every dev_overrides run has.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.json_lines()
            .into_iter()
            .filter(|v| v["type"] == "diagnostic")
            .filter_map(|v| serde_json::from_value::<Diagnostic>(v["diagnostic"].clone()).ok())
            .filter(|d| !d.is_dev_overrides_warning())
            .collect()
    }

    /// Only the error diagnostics of [`TfOutput::diagnostics`].
    pub fn errors(&self) -> Vec<Diagnostic> {
        self.diagnostics()
            .into_iter()
            .filter(|d| d.severity == "error")
            .collect()
    }
}

/// A diagnostic in Terraform's machine-readable format (`validate -json`, `-json` UI).
///
/// Provider diagnostics that carry an attribute path come back with `range`/`snippet` pointing at
/// that attribute in the configuration; [`Diagnostic::highlight`] returns the highlighted text.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Diagnostic {
    pub severity: String,
    pub summary: String,
    #[serde(default)]
    pub detail: String,
    /// Resource address the diagnostic belongs to, when Terraform knows it.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub range: Option<Range>,
    #[serde(default)]
    pub snippet: Option<Snippet>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Range {
    pub filename: String,
    pub start: Pos,
    pub end: Pos,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
    pub byte: u64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Snippet {
    #[serde(default)]
    pub context: Option<String>,
    pub code: String,
    pub start_line: u64,
    pub highlight_start_offset: usize,
    pub highlight_end_offset: usize,
}

/// Summary of the warning Terraform adds to every command run under `dev_overrides`.
pub const DEV_OVERRIDES_WARNING: &str = "Provider development overrides are in effect";

impl Diagnostic {
    /// The warning Terraform prints for every command under `dev_overrides` (noise for tests).
    pub fn is_dev_overrides_warning(&self) -> bool {
        self.severity == "warning" && self.summary == DEV_OVERRIDES_WARNING
    }

    /// The configuration text the diagnostic points at (e.g. `vm_size = "x"` or `"x"`).
    pub fn highlight(&self) -> Option<&str> {
        let s = self.snippet.as_ref()?;
        s.code.get(s.highlight_start_offset..s.highlight_end_offset)
    }

    /// `summary: detail` on one line, for messages.
    pub fn text(&self) -> String {
        format!("[{}] {}: {}", self.severity, self.summary, self.detail)
    }
}

/// The result of `terraform validate -json` (without the dev_overrides warning).
#[derive(Clone, Debug, Deserialize)]
pub struct Validation {
    pub valid: bool,
    pub error_count: u64,
    pub warning_count: u64,
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    /// Drops the dev_overrides warning (see [`DEV_OVERRIDES_WARNING`]) and adjusts the count.
    pub(crate) fn without_dev_overrides_warning(mut self) -> Self {
        let before = self.diagnostics.len();
        self.diagnostics.retain(|d| !d.is_dev_overrides_warning());
        self.warning_count -= (before - self.diagnostics.len()) as u64;
        self
    }

    pub fn errors(&self) -> Vec<&Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == "error")
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stdout: &str) -> TfOutput {
        TfOutput {
            args: vec![],
            code: Some(1),
            stdout: stdout.to_string(),
            stderr: String::new(),
            duration: Duration::ZERO,
            timed_out: false,
        }
    }

    #[test]
    fn diagnostics_come_from_json_lines_without_the_dev_overrides_warning() {
        let o = out(concat!(
            "not json\n",
            r#"{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"Provider development overrides are in effect","detail":"x"}}"#,
            "\n",
            r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid vm_size","detail":"use STANDARD_D2S_V3","snippet":{"context":null,"code":"  vm_size = \"x\"","start_line":3,"highlight_start_offset":2,"highlight_end_offset":9,"values":[]}}}"#,
            "\n",
            r#"{"type":"planned_change"}"#,
        ));
        assert_eq!(o.json_lines().len(), 3);
        let d = o.diagnostics();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].summary, "Invalid vm_size");
        assert_eq!(d[0].highlight(), Some("vm_size"));
        assert_eq!(o.errors().len(), 1);
    }

    #[test]
    fn validation_drops_the_dev_overrides_warning_and_counts_it_out() {
        let v: Validation = serde_json::from_str(
            r#"{"valid":true,"error_count":0,"warning_count":2,"diagnostics":[
                {"severity":"warning","summary":"Provider development overrides are in effect","detail":""},
                {"severity":"warning","summary":"Deprecated attribute","detail":"d"}]}"#,
        )
        .unwrap();
        let v = v.without_dev_overrides_warning();
        assert_eq!(v.warning_count, 1);
        assert_eq!(v.diagnostics.len(), 1);
        assert_eq!(v.diagnostics[0].summary, "Deprecated attribute");
    }
}
