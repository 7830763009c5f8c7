//! Cross-attribute rules declared on a block (terraform-plugin-framework-validators'
//! `ExactlyOneOf`, `AtLeastOneOf`, `ConflictsWith`, `AlsoRequires`), checked by the framework on
//! every instance of the block with uniform messages. Names are attributes or nested blocks of
//! that block. An unknown value counts as "may be set", so a rule never fails on a value that is
//! only known at apply.

use crate::diag::{AttrPath, Diagnostics};
use crate::value::Value;

/// One declared rule; names are attributes or nested blocks at the block's level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Exactly one of the names must be set.
    ExactlyOneOf(Vec<String>),
    /// At least one of the names must be set.
    AtLeastOneOf(Vec<String>),
    /// When the first is set, none of the others may be.
    ConflictsWith(String, Vec<String>),
    /// When the first is set, each of the others must be set too.
    AlsoRequires(String, Vec<String>),
}

/// Whether a name is set in one instance of a block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Presence {
    Unset,
    Set,
    /// Unknown until apply: may turn out either way.
    Maybe,
}

fn presence(v: &Value) -> Presence {
    match v {
        Value::Null => Presence::Unset,
        Value::Unknown => Presence::Maybe,
        // An absent nested block is an empty list or set.
        Value::List(items) | Value::Set(items) if items.is_empty() => Presence::Unset,
        _ => Presence::Set,
    }
}

fn names(path: &AttrPath, names: &[&String], conj: &str) -> String {
    let q: Vec<String> = names
        .iter()
        .map(|n| format!("`{}`", path.child(n)))
        .collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} {conj} {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

const SUMMARY: &str = "Invalid combination of arguments";

impl Rule {
    /// The rule as one sentence for documentation, with names relative to the block.
    pub fn describe(&self) -> String {
        self.sentence(&AttrPath::root())
    }

    /// The rule as one sentence, with names given as paths under `path`.
    fn sentence(&self, path: &AttrPath) -> String {
        match self {
            Rule::ExactlyOneOf(n) => format!(
                "Exactly one of {} must be set.",
                names(path, &n.iter().collect::<Vec<_>>(), "or")
            ),
            Rule::AtLeastOneOf(n) => format!(
                "At least one of {} must be set.",
                names(path, &n.iter().collect::<Vec<_>>(), "or")
            ),
            Rule::ConflictsWith(a, n) => format!(
                "{} cannot be set together with {}.",
                names(path, &[a], "or"),
                names(path, &n.iter().collect::<Vec<_>>(), "or")
            ),
            Rule::AlsoRequires(a, n) => format!(
                "{} requires {} to be set as well.",
                names(path, &[a], "and"),
                names(path, &n.iter().collect::<Vec<_>>(), "and")
            ),
        }
    }

    /// Checks one instance `v` of the block at `path` (an object; nothing is checked on null or
    /// unknown instances).
    pub fn check(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        if !matches!(v, Value::Object(_)) {
            return;
        }
        let p = |n: &String| presence(v.get(n));
        let err = |diags: &mut Diagnostics, at: AttrPath| {
            diags.attr_error(&at, SUMMARY, self.sentence(path));
        };
        match self {
            Rule::ExactlyOneOf(n) => {
                let set: Vec<&String> = n.iter().filter(|x| p(x) == Presence::Set).collect();
                let maybe = n.iter().any(|x| p(x) == Presence::Maybe);
                if set.len() > 1 {
                    err(diags, path.child(set[1]));
                } else if set.is_empty() && !maybe {
                    err(diags, path.clone());
                }
            }
            Rule::AtLeastOneOf(n) => {
                if n.iter().all(|x| p(x) == Presence::Unset) {
                    err(diags, path.clone());
                }
            }
            Rule::ConflictsWith(a, n) => {
                if p(a) == Presence::Set && n.iter().any(|x| p(x) == Presence::Set) {
                    err(diags, path.child(a));
                }
            }
            Rule::AlsoRequires(a, n) => {
                if p(a) == Presence::Set && n.iter().any(|x| p(x) == Presence::Unset) {
                    err(diags, path.child(a));
                }
            }
        }
    }

    /// Every name the rule mentions.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Rule::ExactlyOneOf(n) | Rule::AtLeastOneOf(n) => n.iter().map(String::as_str).collect(),
            Rule::ConflictsWith(a, n) | Rule::AlsoRequires(a, n) => {
                std::iter::once(a).chain(n).map(String::as_str).collect()
            }
        }
    }
}
