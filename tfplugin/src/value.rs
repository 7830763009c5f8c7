//! Terraform values: what a DynamicValue decodes to, given the schema's type.

use std::collections::BTreeMap;

/// A number as Terraform sends it: an integer, a float, or (for values a float64 cannot hold)
/// its decimal text.
#[derive(Debug, Clone)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// Arbitrary-precision decimal text, e.g. "123456789012345678901234567890".
    Big(String),
}

impl Number {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Big(s) => s.parse().ok(),
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::Float(f) => Some(*f),
            Number::Big(s) => s.parse().ok(),
        }
    }
    /// Canonical decimal text, used for equality (so 1, 1.0 and "1" compare equal).
    pub fn canonical(&self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => (*f as i64).to_string(),
            Number::Float(f) => format!("{f}"),
            Number::Big(s) => {
                let s = s.trim();
                if let Ok(i) = s.parse::<i64>() {
                    return i.to_string();
                }
                // Strip trailing fractional zeros so "1.50" == "1.5".
                if s.contains('.') && !s.contains(['e', 'E']) {
                    let t = s.trim_end_matches('0').trim_end_matches('.');
                    return t.to_string();
                }
                s.to_string()
            }
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number::Int(i)
    }
}

/// A Terraform value. The type is not carried (except inside `Dynamic`): it comes from the schema.
///
/// Collections: `List` and `Set` keep element order as received (a set's order has no meaning);
/// `Map` and `Object` are keyed by name.
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply. Refinements Terraform may attach are read and dropped.
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value of a `dynamic` attribute together with its concrete type.
    Dynamic(Box<crate::types::Type>, Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    /// Elements of a list, set or tuple (empty for null).
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v,
            _ => &[],
        }
    }
    /// Attributes of an object or entries of a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_map_mut(&mut self) -> Option<&mut BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
    /// An object attribute (Null when absent or when self is not an object).
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
    /// Builds an object from (name, value) pairs.
    pub fn object<I: IntoIterator<Item = (S, Value)>, S: Into<String>>(pairs: I) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
    /// A string, or null for None.
    pub fn opt_string<S: Into<String>>(s: Option<S>) -> Value {
        s.map(|s| Value::String(s.into())).unwrap_or(Value::Null)
    }
    /// A number, or null for None.
    pub fn opt_int(i: Option<i64>) -> Value {
        i.map(Value::int).unwrap_or(Value::Null)
    }
    /// A bool, or null for None.
    pub fn opt_bool(b: Option<bool>) -> Value {
        b.map(Value::Bool).unwrap_or(Value::Null)
    }
    /// A map of strings (an empty map stays an empty map, not null).
    pub fn string_map<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
        m: I,
    ) -> Value {
        Value::Map(
            m.into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
        )
    }
    /// A list of strings.
    pub fn string_list<I: IntoIterator<Item = S>, S: Into<String>>(l: I) -> Value {
        Value::List(l.into_iter().map(|s| Value::String(s.into())).collect())
    }
    /// The string attribute `name` of an object, if known and non-null.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).as_str()
    }
    /// The number attribute `name` as i64, if known and non-null.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).as_i64()
    }
    /// The bool attribute `name`, if known and non-null.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).as_bool()
    }
    /// A map-of-strings attribute as (key, value) pairs; null or unknown give an empty list.
    pub fn get_string_map(&self, name: &str) -> Vec<(String, String)> {
        self.get(name)
            .as_map()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// A list/set-of-strings attribute; null or unknown give an empty list.
    pub fn get_string_list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .elements()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
    /// The first element of a block list, or the object of a single block (None when absent).
    pub fn get_block(&self, name: &str) -> Option<&Value> {
        match self.get(name) {
            Value::Null | Value::Unknown => None,
            Value::List(v) | Value::Set(v) => v.first(),
            v => Some(v),
        }
    }
    /// Sets an object attribute; no-op unless self is an object or map.
    pub fn set(&mut self, name: &str, v: Value) {
        if let Value::Object(m) | Value::Map(m) = self {
            // Overwrite in place when present: no key allocation on the hot plan path.
            match m.get_mut(name) {
                Some(slot) => *slot = v,
                None => {
                    m.insert(name.to_string(), v);
                }
            }
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) | (Unknown, Unknown) => true,
            (Bool(a), Bool(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            // Sets have no order: equal when each element of one matches a distinct element of the other.
            (Set(a), Set(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                let mut used = vec![false; b.len()];
                a.iter().all(|x| {
                    for (i, y) in b.iter().enumerate() {
                        if !used[i] && x == y {
                            used[i] = true;
                            return true;
                        }
                    }
                    false
                })
            }
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            (Dynamic(ta, a), Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}
