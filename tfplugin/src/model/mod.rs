//! Typed models: Rust structs for configuration, plan and state, converted to and from
//! [`Value`] by serde, the way `serde_json::Value` implements `Deserializer` and `Serializer`.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tfplugin::model::{Tf, from_value, to_value};
//! use tfplugin::{Type, Value};
//!
//! #[derive(Debug, Serialize, Deserialize, PartialEq)]
//! struct Widget {
//!     name: String,
//!     size: Option<i64>,   // null <-> None
//!     id: Tf<String>,      // null, unknown or known, for plan-time code
//! }
//!
//! let v = Value::object([("name", Value::string("w")), ("size", Value::Null), ("id", Value::Unknown)]);
//! let w: Widget = from_value(&v).unwrap();
//! assert_eq!(w, Widget { name: "w".into(), size: None, id: Tf::Unknown });
//! let ty = Type::object([("name", Type::String), ("size", Type::Number), ("id", Type::String)]);
//! assert_eq!(to_value(&w, &ty).unwrap(), v);
//! ```
//!
//! Mapping:
//! - null is `None` for `Option<T>`; an unknown value is `None` too, except in [`Tf<T>`], which
//!   keeps null, unknown and known apart. A plain `T` that meets null or unknown is an error that
//!   names the attribute path.
//! - A null list, set or map reads as empty into `Vec`/`BTreeMap` (`Option<Vec<_>>` keeps null).
//! - Strings read into unit enum variants (use serde's `rename`/`rename_all` for wire names).
//! - [`to_value`] shapes the result by the schema's [`Type`]: lists become sets where the type
//!   says set, maps become objects, attributes the model leaves out are null; an attribute the
//!   type does not have is an error (the model and the schema disagree).

mod de;
mod ser;
mod tf;

use std::fmt;

pub use de::from_value;
pub use ser::to_value;
pub use tf::Tf;

/// A value and a model disagree; `path` says where (`network_configuration[0].subnet_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    pub path: String,
    pub message: String,
}

impl ModelError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ModelError {
            path: String::new(),
            message: message.into(),
        }
    }
    /// Prefixes a path step (`name`, `[3]`, `["key"]`).
    pub(crate) fn within(mut self, step: &str) -> Self {
        if self.path.is_empty() || self.path.starts_with('[') {
            self.path = format!("{step}{}", self.path);
        } else {
            self.path = format!("{step}.{}", self.path);
        }
        self
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ModelError {}

impl serde::de::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ModelError::new(msg.to_string())
    }
}

impl serde::ser::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ModelError::new(msg.to_string())
    }
}

/// The name by which [`Tf`] asks our deserializer for null/unknown/known (other deserializers
/// see an ordinary newtype struct).
pub(crate) const TF_MARKER: &str = "$tfplugin::Tf";
/// The unit struct [`Tf::Unknown`] serializes as; our serializer turns it into `Value::Unknown`.
pub(crate) const UNKNOWN_MARKER: &str = "$tfplugin::Unknown";

#[cfg(test)]
mod tests;

/// Proves that a model and its schema's type describe the same attributes: a value with every
/// attribute set (at every depth) is read into `T` and written back, and must come back equal.
/// An attribute the model lacks comes back null; one the schema lacks fails to write. Call it
/// from one unit test per resource, data source and nested block model.
pub fn check_round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    ty: &crate::types::Type,
) -> Result<(), String> {
    let sample = sample_of(ty);
    let model: T = from_value(&sample).map_err(|e| format!("reading the sample: {e}"))?;
    let back = to_value(&model, ty).map_err(|e| format!("writing the model: {e}"))?;
    let mut diffs = Vec::new();
    differences(&sample, &back, String::new(), &mut diffs);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "model and schema disagree at: {}",
            diffs.join(", ")
        ))
    }
}

/// A value of type `ty` with everything set: strings "s", numbers 1, bools true, one element in
/// each collection.
pub fn sample_of(ty: &crate::types::Type) -> crate::Value {
    use crate::Value;
    use crate::types::Type;
    match ty {
        Type::String | Type::Dynamic => Value::string("s"),
        Type::Number => Value::int(1),
        Type::Bool => Value::Bool(true),
        Type::List(t) => Value::List(vec![sample_of(t)]),
        Type::Set(t) => Value::Set(vec![sample_of(t)]),
        Type::Map(t) => Value::Map([("k".to_string(), sample_of(t))].into()),
        Type::Object(attrs) => Value::Object(
            attrs
                .iter()
                .map(|(k, t)| (k.clone(), sample_of(t)))
                .collect(),
        ),
        Type::Tuple(ts) => Value::Tuple(ts.iter().map(sample_of).collect()),
    }
}

fn differences(a: &crate::Value, b: &crate::Value, path: String, out: &mut Vec<String>) {
    use crate::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                differences(v, y.get(k).unwrap_or(&Value::Null), p, out);
            }
        }
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, format!("{path}[{i}]"), out);
            }
        }
        (Value::Map(x), Value::Map(y)) if x.len() == y.len() => {
            for (k, v) in x {
                differences(
                    v,
                    y.get(k).unwrap_or(&Value::Null),
                    format!("{path}[{k:?}]"),
                    out,
                );
            }
        }
        (x, y) if x == y => {}
        (_, Value::Null) => out.push(format!("{path} (the model lacks it)")),
        (x, y) => out.push(format!("{path} (sent {x:?}, got {y:?})")),
    }
}
