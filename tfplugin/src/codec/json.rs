//! The JSON DynamicValue encoding (go-cty's `json` package): UpgradeResourceState `raw_state.json`,
//! MoveResourceState `source_state.json`. JSON has no unknowns.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::Value as J;

use super::Loc;
use super::{
    CodecError, WireNumber, check_object_attrs, exact_f64_text, infer_type, map_entries, mismatch,
    parse_decimal, seq_elements, to_number, type_name, wire_number,
};
use crate::types::Type;
use crate::value::{Number, Value};

/// Decodes a JSON DynamicValue of type `ty`.
///
/// Lenient like go-cty (state written by an older schema must still load): object attributes absent
/// from the JSON become null, JSON keys that are not attributes of the type are ignored, and
/// primitives convert between string, number and bool where the text allows it.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let root = Loc::Root;
    let j: J = serde_json::from_slice(bytes)
        .map_err(|e| CodecError::at(&root, format!("invalid JSON: {e}")))?;
    decode(&j, ty, &root)
}

/// Encodes a wholly known `v` as a JSON DynamicValue of type `ty` (unknown values are an error).
pub fn encode_json(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let j = encode(v, ty, &Loc::Root)?;
    Ok(serde_json::to_vec(&j).expect("a JSON value serializes"))
}

fn describe(j: &J) -> &'static str {
    match j {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

fn decode(j: &J, ty: &Type, path: &Loc<'_>) -> Result<Value, CodecError> {
    if j.is_null() {
        return Ok(Value::Null);
    }
    let expected = || {
        CodecError::at(
            path,
            format!("expected {}, got JSON {}", type_name(ty), describe(j)),
        )
    };
    match ty {
        Type::Dynamic => {
            let o = j.as_object().ok_or_else(|| {
                CodecError::at(
                    path,
                    format!(
                        "dynamic value must be an object with \"value\" and \"type\", got JSON {}",
                        describe(j)
                    ),
                )
            })?;
            let (Some(tj), Some(vj)) = (o.get("type"), o.get("value")) else {
                return Err(CodecError::at(
                    path,
                    "dynamic value must have \"value\" and \"type\"",
                ));
            };
            if let Some(k) = o.keys().find(|k| *k != "type" && *k != "value") {
                return Err(CodecError::at(
                    path,
                    format!("dynamic value has unexpected key {k:?}"),
                ));
            }
            let t = Type::from_json(tj)
                .map_err(|e| CodecError::at(path, format!("dynamic value type: {e}")))?;
            let inner = decode(vj, &t, path)?;
            Ok(match t {
                Type::Dynamic => inner,
                t => Value::Dynamic(Box::new(t), Box::new(inner)),
            })
        }
        Type::String => match j {
            J::String(s) => Ok(Value::String(s.clone())),
            J::Number(n) => Ok(Value::String(n.to_string())),
            J::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(expected()),
        },
        Type::Bool => match j {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::String(s) if s == "true" => Ok(Value::Bool(true)),
            J::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(expected()),
        },
        Type::Number => {
            let text = match j {
                // With `arbitrary_precision`, to_string() is the number's text as written.
                J::Number(n) => n.to_string(),
                J::String(s) => s.clone(),
                _ => return Err(expected()),
            };
            let w = parse_decimal(&text)
                .ok_or_else(|| CodecError::at(path, format!("invalid number {text:?}")))?;
            Ok(Value::Number(to_number(w)))
        }
        Type::List(et) | Type::Set(et) => {
            let a = j.as_array().ok_or_else(expected)?;
            let items = a
                .iter()
                .enumerate()
                .map(|(i, x)| decode(x, et, &path.index(i)))
                .collect::<Result<_, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        Type::Tuple(ts) => {
            let a = j.as_array().ok_or_else(expected)?;
            if a.len() != ts.len() {
                return Err(CodecError::at(
                    path,
                    format!("tuple of {} elements, got {}", ts.len(), a.len()),
                ));
            }
            let items = a
                .iter()
                .zip(ts)
                .enumerate()
                .map(|(i, (x, t))| decode(x, t, &path.index(i)))
                .collect::<Result<_, _>>()?;
            Ok(Value::Tuple(items))
        }
        Type::Map(et) => {
            let o = j.as_object().ok_or_else(expected)?;
            let m = o
                .iter()
                .map(|(k, x)| Ok((k.clone(), decode(x, et, &path.key(k))?)))
                .collect::<Result<BTreeMap<_, _>, CodecError>>()?;
            Ok(Value::Map(m))
        }
        Type::Object(attrs) => {
            let o = j.as_object().ok_or_else(expected)?;
            // Keys outside the type belong to removed attributes: ignored. Absent attributes: null.
            let m = attrs
                .iter()
                .map(|(k, at)| {
                    let v = match o.get(k) {
                        Some(x) => decode(x, at, &path.child(k))?,
                        None => Value::Null,
                    };
                    Ok((k.clone(), v))
                })
                .collect::<Result<BTreeMap<_, _>, CodecError>>()?;
            Ok(Value::Object(m))
        }
    }
}

fn json_number(n: &Number, path: &Loc<'_>) -> Result<J, CodecError> {
    let num = match wire_number(n, path)? {
        WireNumber::Int(i) => serde_json::Number::from(i),
        WireNumber::Float(f) if f.is_finite() => serde_json::Number::from_str(&exact_f64_text(f))
            .expect("exact_f64_text is valid JSON number text"),
        WireNumber::Float(f) => {
            return Err(CodecError::at(
                path,
                format!("{f} cannot be written as JSON"),
            ));
        }
        WireNumber::Text(s) => serde_json::Number::from_str(&s)
            .map_err(|_| CodecError::at(path, format!("invalid number {s:?}")))?,
    };
    Ok(J::Number(num))
}

fn encode(v: &Value, ty: &Type, path: &Loc<'_>) -> Result<J, CodecError> {
    match v {
        Value::Null => return Ok(J::Null),
        Value::Unknown => {
            return Err(CodecError::at(
                path,
                "an unknown value cannot be encoded as JSON",
            ));
        }
        Value::Dynamic(t, inner) if *ty != Type::Dynamic => {
            if **t == *ty {
                return encode(inner, ty, path);
            }
            return Err(CodecError::at(
                path,
                format!(
                    "expected {}, got a value of type {}",
                    type_name(ty),
                    type_name(t)
                ),
            ));
        }
        _ => {}
    }
    match ty {
        Type::Dynamic => {
            let (t, inner) = match v {
                Value::Dynamic(t, inner) => ((**t).clone(), &**inner),
                other => (infer_type(other, path)?, other),
            };
            if t == Type::Dynamic {
                return encode(inner, &t, path);
            }
            let mut o = serde_json::Map::new();
            o.insert("value".into(), encode(inner, &t, path)?);
            o.insert("type".into(), t.to_json());
            Ok(J::Object(o))
        }
        Type::String => match v {
            Value::String(s) => Ok(J::String(s.clone())),
            other => Err(mismatch(ty, other, path)),
        },
        Type::Bool => match v {
            Value::Bool(b) => Ok(J::Bool(*b)),
            other => Err(mismatch(ty, other, path)),
        },
        Type::Number => match v {
            Value::Number(n) => json_number(n, path),
            other => Err(mismatch(ty, other, path)),
        },
        Type::List(et) | Type::Set(et) => {
            let items = seq_elements(v, ty, path)?;
            Ok(J::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| encode(x, et, &path.index(i)))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Type::Tuple(ts) => {
            let items = seq_elements(v, ty, path)?;
            if items.len() != ts.len() {
                return Err(CodecError::at(
                    path,
                    format!("tuple of {} elements, got {}", ts.len(), items.len()),
                ));
            }
            Ok(J::Array(
                items
                    .iter()
                    .zip(ts)
                    .enumerate()
                    .map(|(i, (x, t))| encode(x, t, &path.index(i)))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Type::Map(et) => {
            let m = map_entries(v, ty, path)?;
            Ok(J::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), encode(x, et, &path.key(k))?)))
                    .collect::<Result<_, CodecError>>()?,
            ))
        }
        Type::Object(attrs) => {
            let m = map_entries(v, ty, path)?;
            check_object_attrs(m, attrs, path)?;
            Ok(J::Object(
                attrs
                    .iter()
                    .map(|(k, at)| {
                        let x = m.get(k).unwrap_or(&Value::Null);
                        Ok((k.clone(), encode(x, at, &path.child(k))?))
                    })
                    .collect::<Result<_, CodecError>>()?,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str, ty: &Type) -> Value {
        decode_json(text.as_bytes(), ty).unwrap_or_else(|e| panic!("decode {text}: {e}"))
    }
    fn enc(v: &Value, ty: &Type) -> String {
        String::from_utf8(encode_json(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}")))
            .unwrap()
    }
    fn obj<const N: usize>(kv: [(&str, Value); N]) -> Value {
        Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn codec_json_state_from_older_schema() {
        let ty = Type::object([
            ("id", Type::String),
            ("count", Type::Number),
            ("tags", Type::set(Type::String)),
            ("added_later", Type::Bool),
        ]);
        // `removed` is not in the type any more: ignored; `added_later` is absent: null.
        let v = dec(
            r#"{"id":"p1","count":3,"tags":["b","a"],"removed":{"x":1}}"#,
            &ty,
        );
        assert_eq!(
            v,
            obj([
                ("id", Value::string("p1")),
                ("count", Value::int(3)),
                (
                    "tags",
                    Value::Set(vec![Value::string("a"), Value::string("b")])
                ),
                ("added_later", Value::Null),
            ])
        );
        assert!(matches!(v.get("tags"), Value::Set(_)));
        assert_eq!(
            enc(&v, &ty),
            r#"{"added_later":null,"count":3,"id":"p1","tags":["b","a"]}"#
        );
    }

    #[test]
    fn codec_json_numbers_keep_their_precision() {
        let n = |text: &str| match dec(text, &Type::Number) {
            Value::Number(n) => n,
            other => panic!("{other:?}"),
        };
        assert!(matches!(n("42"), Number::Int(42)));
        assert!(matches!(n("-9223372036854775808"), Number::Int(i64::MIN)));
        assert!(matches!(n("0.5"), Number::Float(f) if f == 0.5));
        assert!(
            matches!(n("123456789012345678901234567890"), Number::Big(b) if b == "123456789012345678901234567890")
        );
        // 0.1 is not exactly a double: kept as text so it goes back to Terraform unchanged.
        assert!(matches!(n("0.1"), Number::Big(b) if b == "0.1"));
        let big = Value::Number(Number::Big("123456789012345678901234567890.5".into()));
        assert_eq!(enc(&big, &Type::Number), "123456789012345678901234567890.5");
        assert_eq!(
            enc(&Value::Number(Number::Float(0.5)), &Type::Number),
            "5e-1"
        );
        // A float is written exactly, so it reads back as the same double.
        let text = enc(&Value::Number(Number::Float(0.1)), &Type::Number);
        assert!(matches!(n(&text), Number::Float(f) if f == 0.1), "{text}");
        assert!(encode_json(&Value::Number(Number::Float(f64::INFINITY)), &Type::Number).is_err());
    }

    #[test]
    fn codec_json_primitives_convert_like_go_cty() {
        assert_eq!(dec("12", &Type::String), Value::string("12"));
        assert_eq!(dec("true", &Type::String), Value::string("true"));
        assert_eq!(dec(r#""true""#, &Type::Bool), Value::Bool(true));
        assert_eq!(dec(r#""12""#, &Type::Number), Value::int(12));
        assert!(decode_json(br#""yes""#, &Type::Bool).is_err());
        assert!(decode_json(br#""abc""#, &Type::Number).is_err());
        assert!(decode_json(b"[1]", &Type::String).is_err());
    }

    #[test]
    fn codec_json_dynamic() {
        let v = Value::Dynamic(
            Box::new(Type::list(Type::String)),
            Box::new(Value::List(vec![Value::string("a")])),
        );
        let text = enc(&v, &Type::Dynamic);
        assert_eq!(text, r#"{"type":["list","string"],"value":["a"]}"#);
        assert_eq!(dec(&text, &Type::Dynamic), v);
        assert_eq!(
            dec(r#"{"value":"x","type":"string"}"#, &Type::Dynamic),
            Value::Dynamic(Box::new(Type::String), Box::new(Value::string("x")))
        );
        assert_eq!(dec("null", &Type::Dynamic), Value::Null);
        assert_eq!(enc(&Value::Null, &Type::Dynamic), "null");
        // Inferred type for a plain value.
        assert_eq!(
            enc(&Value::Bool(true), &Type::Dynamic),
            r#"{"type":"bool","value":true}"#
        );
        assert!(decode_json(br#"{"value":"x"}"#, &Type::Dynamic).is_err());
        assert!(decode_json(br#""x""#, &Type::Dynamic).is_err());
        assert!(decode_json(br#"{"value":"x","type":"nope"}"#, &Type::Dynamic).is_err());
    }

    #[test]
    fn codec_json_errors() {
        let ty = Type::object([("env", Type::map(Type::String))]);
        let v = obj([(
            "env",
            Value::Map(BTreeMap::from([("K".into(), Value::Unknown)])),
        )]);
        let e = encode_json(&v, &ty).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at env[\"K\"]: an unknown value cannot be encoded as JSON"
        );
        let e = decode_json(br#"{"env":{"K":[1]}}"#, &ty).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at env[\"K\"]: expected string, got JSON array"
        );
        assert!(
            decode_json(b"{", &ty)
                .unwrap_err()
                .message
                .contains("invalid JSON")
        );
        let e = decode_json(b"[1,2]", &Type::Tuple(vec![Type::Number])).unwrap_err();
        assert!(e.message.contains("tuple of 1 elements, got 2"), "{e}");
        let e = encode_json(&obj([("other", Value::Null)]), &ty).unwrap_err();
        assert!(e.message.contains("not part of the object type"), "{e}");
    }
}
