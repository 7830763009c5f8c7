//! DynamicValue codecs: msgpack (what Terraform sends and what we always answer with) and JSON
//! (UpgradeResourceState `raw_state.json`, MoveResourceState `source_state.json`).
//!
//! Both are driven by the schema's type (plugin-correctness.md §6): the wire carries no type except
//! for `dynamic` values, which are wrapped as `[type JSON, value]` (msgpack) or
//! `{"value": …, "type": …}` (JSON).
//!
//! Numbers keep their exact value across a round trip: Terraform holds numbers as arbitrary-precision
//! decimals and only sends a float64 when the value *is* exactly that double; anything else arrives as
//! decimal text and is kept as [`Number::Big`]. Provider code that builds numbers itself should not turn
//! a user's `0.1` into `Number::Float(0.1)` (that double is not the decimal 0.1 and Terraform would see a
//! different value); keep the configured `Number` instead.

use std::collections::BTreeMap;

use crate::diag::AttrPath;
use crate::types::Type;
use crate::value::{Number, Value};
pub(crate) use loc::Loc;

mod json;
mod loc;
mod msgpack;
#[cfg(test)]
mod proptests;

pub use json::{decode_json, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};

/// A value that does not fit its type, or malformed bytes. `path` says where (root when empty).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at {}: {message}", show_path(.path))]
pub struct CodecError {
    pub path: AttrPath,
    pub message: String,
}

impl CodecError {
    pub fn new(path: &AttrPath, message: impl Into<String>) -> Self {
        CodecError {
            path: path.clone(),
            message: message.into(),
        }
    }
    pub(crate) fn at(loc: &Loc<'_>, message: impl Into<String>) -> Self {
        CodecError {
            path: loc.path(),
            message: message.into(),
        }
    }
}

fn show_path(p: &AttrPath) -> String {
    if p.is_root() {
        "(root)".to_string()
    } else {
        p.to_string()
    }
}

/// A short name of a value's kind for error messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Unknown => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Dynamic(..) => "dynamic value",
    }
}

/// A short name of a type for error messages (the JSON type constraint).
pub(crate) fn type_name(t: &Type) -> String {
    match t {
        Type::String => "string".into(),
        Type::Number => "number".into(),
        Type::Bool => "bool".into(),
        Type::Dynamic => "dynamic".into(),
        _ => t.to_json().to_string(),
    }
}

/// The elements of a value given for a list, set or tuple type. Any of the three sequence variants is
/// accepted, so framework code need not care which one it built.
pub(crate) fn seq_elements<'a>(
    v: &'a Value,
    ty: &Type,
    path: &Loc<'_>,
) -> Result<&'a [Value], CodecError> {
    match v {
        Value::List(e) | Value::Set(e) | Value::Tuple(e) => Ok(e),
        other => Err(mismatch(ty, other, path)),
    }
}

/// The entries of a value given for a map or object type (either variant is accepted).
pub(crate) fn map_entries<'a>(
    v: &'a Value,
    ty: &Type,
    path: &Loc<'_>,
) -> Result<&'a BTreeMap<String, Value>, CodecError> {
    match v {
        Value::Map(m) | Value::Object(m) => Ok(m),
        other => Err(mismatch(ty, other, path)),
    }
}

pub(crate) fn mismatch(ty: &Type, v: &Value, path: &Loc<'_>) -> CodecError {
    CodecError::at(path, format!("expected {}, got {}", type_name(ty), kind(v)))
}

/// Checks that an object value has no attribute outside its type (missing ones encode as null).
pub(crate) fn check_object_attrs(
    m: &BTreeMap<String, Value>,
    attrs: &BTreeMap<String, Type>,
    path: &Loc<'_>,
) -> Result<(), CodecError> {
    // Both maps are sorted the same way: one merge walk finds a key `attrs` lacks.
    let mut names = attrs.keys();
    let extra = m
        .keys()
        .find(|k| !names.by_ref().any(|a| a.as_str() == k.as_str()));
    if let Some(extra) = extra {
        return Err(CodecError::at(
            path,
            format!("attribute {extra:?} is not part of the object type"),
        ));
    }
    Ok(())
}

/// The type a value under `dynamic` is sent with when the value does not carry one
/// (`Value::Dynamic` does). Null and unknown elements take the type of their siblings; a collection
/// whose elements say nothing gets element type `dynamic`.
pub(crate) fn infer_type(v: &Value, path: &Loc<'_>) -> Result<Type, CodecError> {
    Ok(infer(v, path)?.unwrap_or(Type::Dynamic))
}

fn infer(v: &Value, path: &Loc<'_>) -> Result<Option<Type>, CodecError> {
    let elem = |vals: &mut dyn Iterator<Item = (Loc<'_>, &Value)>| -> Result<Type, CodecError> {
        let mut t = Type::Dynamic;
        for (p, x) in vals {
            if let Some(xt) = infer(x, &p)? {
                t = unify(&t, &xt).ok_or_else(|| {
                    CodecError::at(
                        &p,
                        format!(
                            "cannot infer a type for a dynamic value: elements of type {} and {}",
                            type_name(&t),
                            type_name(&xt)
                        ),
                    )
                })?;
            }
        }
        Ok(t)
    };
    Ok(match v {
        Value::Null | Value::Unknown => None,
        Value::Bool(_) => Some(Type::Bool),
        Value::Number(_) => Some(Type::Number),
        Value::String(_) => Some(Type::String),
        Value::Dynamic(t, _) => Some((**t).clone()),
        Value::List(e) => Some(Type::list(elem(
            &mut e.iter().enumerate().map(|(i, x)| (path.index(i), x)),
        )?)),
        Value::Set(e) => Some(Type::set(elem(
            &mut e.iter().enumerate().map(|(i, x)| (path.index(i), x)),
        )?)),
        Value::Map(m) => Some(Type::map(elem(
            &mut m.iter().map(|(k, x)| (path.key(k), x)),
        )?)),
        Value::Tuple(e) => Some(Type::Tuple(
            e.iter()
                .enumerate()
                .map(|(i, x)| infer_type(x, &path.index(i)))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(m) => Some(Type::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), infer_type(x, &path.child(k))?)))
                .collect::<Result<_, CodecError>>()?,
        )),
    })
}

/// The most specific type both `a` and `b` conform to, treating `dynamic` as "not known yet".
fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (Type::Dynamic, t) | (t, Type::Dynamic) => Some(t.clone()),
        (Type::List(x), Type::List(y)) => Some(Type::list(unify(x, y)?)),
        (Type::Set(x), Type::Set(y)) => Some(Type::set(unify(x, y)?)),
        (Type::Map(x), Type::Map(y)) => Some(Type::map(unify(x, y)?)),
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => Some(Type::Tuple(
            x.iter()
                .zip(y)
                .map(|(p, q)| unify(p, q))
                .collect::<Option<_>>()?,
        )),
        (Type::Object(x), Type::Object(y)) if x.len() == y.len() => Some(Type::Object(
            x.iter()
                .map(|(k, p)| Some((k.clone(), unify(p, y.get(k)?)?)))
                .collect::<Option<_>>()?,
        )),
        _ => None,
    }
}

/// How a number goes on the wire, mirroring go-cty: an int when it is an integer within i64, a
/// float64 when it is exactly a double, otherwise its decimal text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WireNumber {
    Int(i64),
    Float(f64),
    Text(String),
}

pub(crate) fn wire_number(n: &Number, path: &Loc<'_>) -> Result<WireNumber, CodecError> {
    match n {
        Number::Int(i) => Ok(WireNumber::Int(*i)),
        Number::Float(f) => {
            if f.is_nan() {
                return Err(CodecError::at(path, "NaN is not a valid number"));
            }
            // ±2^63 are exact doubles, so the comparisons are exact.
            if f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < -(i64::MIN as f64) {
                Ok(WireNumber::Int(*f as i64))
            } else {
                Ok(WireNumber::Float(*f))
            }
        }
        Number::Big(s) => {
            parse_decimal(s).ok_or_else(|| CodecError::at(path, format!("invalid number {s:?}")))
        }
    }
}

/// Parses decimal number text (`-12`, `0.5`, `1.5e30`, …) into the value we keep: `Int` when it is an
/// integer within i64, `Float` when the decimal is exactly a double, otherwise the text itself. Exactness
/// matters: Terraform compares numbers as exact decimals, so `0.1` must stay text. Returns None when
/// the text is not a decimal number.
pub(crate) fn parse_decimal(s: &str) -> Option<WireNumber> {
    let d = Decimal::parse(s)?;
    if let Ok(i) = s.parse::<i64>() {
        return Some(WireNumber::Int(i));
    }
    if d.digits.is_empty() {
        return Some(WireNumber::Int(0));
    }
    if d.is_integer() && d.exp <= 19 {
        // e.g. "1e3" or "100.0"
        if let Ok(i) = format!(
            "{}{}{}",
            if d.negative { "-" } else { "" },
            d.digits,
            "0".repeat((d.exp - d.digits.len() as i64) as usize)
        )
        .parse::<i64>()
        {
            return Some(WireNumber::Int(i));
        }
    }
    if let Ok(f) = s.trim().parse::<f64>() {
        // 767 significant digits print any double exactly; compare with the text as exact decimals.
        if f.is_finite() && Decimal::parse(&format!("{f:.766e}")).as_ref() == Some(&d) {
            return Some(WireNumber::Float(f));
        }
    }
    Some(WireNumber::Text(s.trim().to_string()))
}

/// Decimal text for exactly the double `f` (finite): the shortest form when that is exact (`0.5`,
/// `1e22`), otherwise the full expansion, so that reading the text back gives `f` and not a nearby
/// decimal (go-cty parses JSON numbers as exact decimals).
pub(crate) fn exact_f64_text(f: f64) -> String {
    let exact = format!("{f:.766e}");
    let short = format!("{f:e}");
    if Decimal::parse(&short) == Decimal::parse(&exact) {
        return short;
    }
    let (mantissa, exp) = exact
        .split_once('e')
        .expect("LowerExp output has an exponent");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exp}")
}

/// Converts a decoded number to the `Number` we hand to provider code.
pub(crate) fn to_number(w: WireNumber) -> Number {
    match w {
        WireNumber::Int(i) => Number::Int(i),
        WireNumber::Float(f) => Number::Float(f),
        WireNumber::Text(s) => Number::Big(s),
    }
}

/// A decimal in normal form: value = 0.`digits` × 10^`exp`, `digits` without leading or trailing
/// zeros (empty for zero, which then has exp 0 and is never negative).
#[derive(Debug, PartialEq)]
struct Decimal {
    negative: bool,
    digits: String,
    exp: i64,
}

impl Decimal {
    fn parse(s: &str) -> Option<Decimal> {
        let s = s.trim();
        let (negative, rest) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return None;
        }
        let mut exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) || digits.len() > 15 {
                    return None;
                }
                e.parse().ok()?
            }
        };
        let all = format!("{int_part}{frac_part}");
        exp += int_part.len() as i64;
        let leading = all.len() - all.trim_start_matches('0').len();
        let digits = all
            .trim_start_matches('0')
            .trim_end_matches('0')
            .to_string();
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exp: 0,
            });
        }
        Some(Decimal {
            negative,
            digits,
            exp: exp - leading as i64,
        })
    }

    fn is_integer(&self) -> bool {
        self.exp >= self.digits.len() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_parse_decimal_classifies_exactly() {
        assert_eq!(parse_decimal("42"), Some(WireNumber::Int(42)));
        assert_eq!(parse_decimal("-7"), Some(WireNumber::Int(-7)));
        assert_eq!(parse_decimal("1e3"), Some(WireNumber::Int(1000)));
        assert_eq!(parse_decimal("100.00"), Some(WireNumber::Int(100)));
        assert_eq!(parse_decimal("-0.0"), Some(WireNumber::Int(0)));
        assert_eq!(parse_decimal("0.5"), Some(WireNumber::Float(0.5)));
        assert_eq!(parse_decimal("1e22"), Some(WireNumber::Float(1e22)));
        // 0.1 is not a double: it must stay exact text.
        assert_eq!(parse_decimal("0.1"), Some(WireNumber::Text("0.1".into())));
        assert_eq!(
            parse_decimal("9223372036854775808"),
            Some(WireNumber::Float(9223372036854775808.0))
        );
        assert_eq!(
            parse_decimal("9223372036854775809"),
            Some(WireNumber::Text("9223372036854775809".into()))
        );
        for bad in [
            "", "abc", "1.2.3", "0x10", "NaN", "inf", "1e", "-", ".", "1e+",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
        assert_eq!(parse_decimal(".5"), Some(WireNumber::Float(0.5)));
    }

    #[test]
    fn codec_exact_f64_text_reads_back_as_the_same_double() {
        assert_eq!(exact_f64_text(0.5), "5e-1");
        assert_eq!(exact_f64_text(1e22), "1e22");
        let t = exact_f64_text(0.1);
        assert!(t.starts_with("1.000000000000000055511151231257827"), "{t}");
        assert_eq!(parse_decimal(&t), Some(WireNumber::Float(0.1)));
        assert_eq!(
            parse_decimal(&exact_f64_text(5e-324)),
            Some(WireNumber::Float(5e-324))
        );
    }

    #[test]
    fn codec_wire_number_mirrors_cty() {
        let p = Loc::Root;
        assert_eq!(wire_number(&Number::Float(3.0), &p), Ok(WireNumber::Int(3)));
        assert_eq!(
            wire_number(&Number::Float(2.5), &p),
            Ok(WireNumber::Float(2.5))
        );
        assert_eq!(
            wire_number(&Number::Float(1e19), &p),
            Ok(WireNumber::Float(1e19))
        );
        assert_eq!(
            wire_number(&Number::Big("12".into()), &p),
            Ok(WireNumber::Int(12))
        );
        assert!(wire_number(&Number::Float(f64::NAN), &p).is_err());
        let e = wire_number(&Number::Big("twelve".into()), &p.child("n")).unwrap_err();
        assert_eq!(e.to_string(), "at n: invalid number \"twelve\"");
    }

    #[test]
    fn codec_infer_type_unifies_elements() {
        let p = Loc::Root;
        let v = Value::List(vec![
            Value::Object(BTreeMap::from([("a".to_string(), Value::Null)])),
            Value::Object(BTreeMap::from([("a".to_string(), Value::string("x"))])),
        ]);
        assert_eq!(
            infer_type(&v, &p).unwrap(),
            Type::list(Type::object([("a", Type::String)]))
        );
        assert_eq!(
            infer_type(&Value::Set(vec![Value::Null]), &p).unwrap(),
            Type::set(Type::Dynamic)
        );
        let bad = Value::List(vec![Value::string("x"), Value::int(1)]);
        let e = infer_type(&bad, &p).unwrap_err();
        assert_eq!(e.path, p.index(1).path());
    }
}
