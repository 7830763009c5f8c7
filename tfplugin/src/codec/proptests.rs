//! Property tests: random types (bounded depth) with random conforming values round-trip through
//! both encodings.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{decode_json, decode_msgpack, encode_json, encode_msgpack};
use crate::types::Type;
use crate::value::{Number, Value};

fn leaf_type() -> BoxedStrategy<Type> {
    prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ]
    .boxed()
}

fn arb_type(depth: u32) -> BoxedStrategy<Type> {
    if depth == 0 {
        return leaf_type();
    }
    let inner = || arb_type(depth - 1);
    prop_oneof![
        2 => leaf_type(),
        1 => inner().prop_map(Type::list),
        1 => inner().prop_map(Type::set),
        1 => inner().prop_map(Type::map),
        1 => prop::collection::btree_map("[a-z_]{1,6}", inner(), 0..4).prop_map(Type::Object),
        1 => prop::collection::vec(inner(), 0..3).prop_map(Type::Tuple),
    ]
    .boxed()
}

fn arb_number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        (prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO)
            .prop_map(Number::Float),
        // Integers beyond i64 and decimals beyond a double's precision.
        "-?[1-9][0-9]{19,30}".prop_map(Number::Big),
        "-?(0|[1-9][0-9]{0,4})\\.[0-9]{16,25}[1-9]".prop_map(Number::Big),
    ]
    .boxed()
}

/// A value of type `ty`, with null and unknown possible at every level.
fn arb_value(ty: &Type, depth: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => Just(Value::Unknown),
        6 => known_value(ty, depth),
    ]
    .boxed()
}

fn known_value(ty: &Type, depth: u32) -> BoxedStrategy<Value> {
    match ty {
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Dynamic => {
            // A dynamic value carries a concrete type, itself possibly containing `dynamic`.
            arb_type(depth.saturating_sub(1))
                .prop_filter("concrete type", |t| *t != Type::Dynamic)
                .prop_flat_map(move |t| {
                    arb_value(&t, depth.saturating_sub(1))
                        .prop_map(move |v| Value::Dynamic(Box::new(t.clone()), Box::new(v)))
                })
                .boxed()
        }
        Type::List(t) => prop::collection::vec(arb_value(t, depth), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(t) => prop::collection::vec(arb_value(t, depth), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(t) => prop::collection::btree_map("[a-z]{0,4}", arb_value(t, depth), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Tuple(ts) => ts
            .iter()
            .map(|t| arb_value(t, depth))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object(attrs) => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            attrs
                .values()
                .map(|t| arb_value(t, depth))
                .collect::<Vec<_>>()
                .prop_map(move |vals| {
                    Value::Object(names.iter().cloned().zip(vals).collect::<BTreeMap<_, _>>())
                })
                .boxed()
        }
    }
}

/// The same value with every unknown replaced by null (JSON cannot carry unknowns).
fn known_only(v: Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(e) => Value::List(e.into_iter().map(known_only).collect()),
        Value::Set(e) => Value::Set(e.into_iter().map(known_only).collect()),
        Value::Tuple(e) => Value::Tuple(e.into_iter().map(known_only).collect()),
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, x)| (k, known_only(x))).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, x)| (k, known_only(x))).collect()),
        Value::Dynamic(t, x) => Value::Dynamic(t, Box::new(known_only(*x))),
        other => other,
    }
}

fn typed_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type(3).prop_flat_map(|t| arb_value(&t, 2).prop_map(move |v| (t.clone(), v)))
}

proptest! {
    #[test]
    fn codec_prop_msgpack_round_trip((ty, v) in typed_value()) {
        let bytes = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = decode_msgpack(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn codec_prop_json_round_trip((ty, v) in typed_value().prop_map(|(t, v)| (t, known_only(v)))) {
        prop_assert!(v.is_wholly_known());
        let bytes = encode_json(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = decode_json(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, v);
    }

    /// Whatever the bytes, decoding returns a result and never panics.
    #[test]
    fn codec_prop_msgpack_decode_never_panics(ty in arb_type(3), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_msgpack(&bytes, &ty);
    }

    /// Truncating a valid encoding is always reported as an error.
    #[test]
    fn codec_prop_msgpack_truncated_is_error((ty, v) in typed_value(), cut in any::<prop::sample::Index>()) {
        let bytes = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let n = cut.index(bytes.len());
        prop_assert!(decode_msgpack(&bytes[..n], &ty).is_err());
    }
}
