//! Diagnostics and attribute paths, as Terraform shows them to users.

use std::fmt;

/// One step of a path into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
}

/// A path to an attribute, e.g. `container.registry[0].password`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttrPath(pub Vec<Step>);

impl AttrPath {
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }
    pub fn attr(name: &str) -> Self {
        AttrPath(vec![Step::Attr(name.to_string())])
    }
    /// This path and one more step, allocated once at its final size.
    fn with(&self, step: Step) -> Self {
        let mut steps = Vec::with_capacity(self.0.len() + 1);
        steps.extend_from_slice(&self.0);
        steps.push(step);
        AttrPath(steps)
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    #[must_use]
    pub fn child(&self, name: &str) -> Self {
        self.with(Step::Attr(name.to_string()))
    }
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        self.with(Step::Index(i as i64))
    }
    #[must_use]
    pub fn key(&self, k: &str) -> Self {
        self.with(Step::Key(k.to_string()))
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            match s {
                Step::Attr(a) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(a)?;
                }
                Step::Key(k) => write!(f, "[{k:?}]")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

/// A list of diagnostics collected during one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }
    pub fn attr_error(
        &mut self,
        path: &AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, summary, detail, Some(path.clone()));
    }
    pub fn attr_warning(
        &mut self,
        path: &AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary, detail, Some(path.clone()));
    }
    pub fn push(
        &mut self,
        severity: Severity,
        summary: impl Into<String>,
        detail: impl Into<String>,
        path: Option<AttrPath>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary: summary.into(),
            detail: detail.into(),
            path,
        });
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<anyhow::Error> for Diagnostics {
    fn from(e: anyhow::Error) -> Self {
        let mut d = Diagnostics::new();
        d.error(e.to_string(), format!("{e:#}"));
        d
    }
}
