use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::types::Type;
use crate::value::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Spread,
    Pack,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
struct Inner {
    subnet_id: Option<String>,
    ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Outer {
    name: String,
    size: Option<i64>,
    ratio: Option<f64>,
    enabled: bool,
    id: Tf<String>,
    mode: Option<Mode>,
    tags: BTreeMap<String, String>,
    names: Option<Vec<String>>,
    network: Option<Inner>,
    items: Vec<Inner>,
}

fn inner_ty() -> Type {
    Type::object([
        ("subnet_id", Type::String),
        ("ids", Type::set(Type::String)),
    ])
}

fn outer_ty() -> Type {
    Type::object([
        ("name", Type::String),
        ("size", Type::Number),
        ("ratio", Type::Number),
        ("enabled", Type::Bool),
        ("id", Type::String),
        ("mode", Type::String),
        ("tags", Type::map(Type::String)),
        ("names", Type::list(Type::String)),
        ("network", inner_ty()),
        ("items", Type::list(inner_ty())),
    ])
}

fn outer_value() -> Value {
    Value::object([
        ("name", Value::string("p1")),
        ("size", Value::int(3)),
        ("ratio", Value::Number(crate::Number::Float(0.5))),
        ("enabled", Value::Bool(true)),
        ("id", Value::Unknown),
        ("mode", Value::string("pack")),
        ("tags", Value::string_map([("a", "1")])),
        ("names", Value::Null),
        (
            "network",
            Value::object([
                ("subnet_id", Value::string("/s/1")),
                ("ids", Value::Set(vec![Value::string("x")])),
            ]),
        ),
        ("items", Value::List(vec![])),
    ])
}

#[test]
fn reads_every_kind_and_writes_it_back_in_the_schema_shape() {
    let m: Outer = from_value(&outer_value()).unwrap();
    assert_eq!(m.name, "p1");
    assert_eq!(m.size, Some(3));
    assert_eq!(m.ratio, Some(0.5));
    assert!(m.id.is_unknown());
    assert_eq!(m.mode, Some(Mode::Pack));
    assert_eq!(m.tags.get("a").map(String::as_str), Some("1"));
    assert_eq!(m.names, None);
    assert_eq!(m.network.as_ref().unwrap().ids, vec!["x".to_string()]);
    // `ids` comes back a set because the type says so.
    assert_eq!(to_value(&m, &outer_ty()).unwrap(), outer_value());
}

#[test]
fn null_and_unknown_are_none_for_option_and_distinct_for_tf() {
    #[derive(Deserialize)]
    struct M {
        a: Option<String>,
        b: Option<String>,
        c: Tf<String>,
        d: Tf<String>,
        e: Tf<i64>,
    }
    let v = Value::object([
        ("a", Value::Null),
        ("b", Value::Unknown),
        ("c", Value::Null),
        ("d", Value::Unknown),
        ("e", Value::int(7)),
    ]);
    let m: M = from_value(&v).unwrap();
    assert_eq!((m.a, m.b), (None, None));
    assert_eq!((m.c, m.d, m.e), (Tf::Null, Tf::Unknown, Tf::Known(7)));
}

#[test]
fn null_collections_read_as_empty_unless_optional() {
    #[derive(Deserialize)]
    struct M {
        list: Vec<String>,
        map: BTreeMap<String, String>,
        opt: Option<Vec<String>>,
    }
    let v = Value::object([
        ("list", Value::Null),
        ("map", Value::Null),
        ("opt", Value::Null),
    ]);
    let m: M = from_value(&v).unwrap();
    assert!(m.list.is_empty() && m.map.is_empty() && m.opt.is_none());
}

#[test]
fn errors_name_the_attribute_path() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Leaf {
        n: i64,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct M {
        items: Vec<Leaf>,
    }
    let v = Value::object([(
        "items",
        Value::List(vec![
            Value::object([("n", Value::int(1))]),
            Value::object([("n", Value::Unknown)]),
        ]),
    )]);
    let e = from_value::<M>(&v).unwrap_err();
    assert_eq!(e.path, "items[1].n");
    assert!(e.message.contains("not known"), "{e}");
    let e = from_value::<M>(&Value::object([("items", Value::string("x"))])).unwrap_err();
    assert_eq!(e.path, "items");
    assert!(e.message.contains("expected a list"), "{e}");
}

#[test]
fn writing_fills_missing_attributes_and_refuses_undeclared_ones() {
    #[derive(Serialize)]
    struct Small {
        name: String,
    }
    let v = to_value(
        &Small { name: "a".into() },
        &Type::object([("name", Type::String), ("other", Type::Number)]),
    )
    .unwrap();
    assert_eq!(v.get("other"), &Value::Null);
    let e = to_value(
        &Small { name: "a".into() },
        &Type::object([("x", Type::String)]),
    )
    .unwrap_err();
    assert!(e.message.contains("\"name\""), "{e}");
}

#[test]
fn unknown_writes_as_unknown_and_enums_as_their_wire_names() {
    #[derive(Serialize)]
    struct M {
        id: Tf<String>,
        gone: Tf<String>,
        mode: Mode,
    }
    let ty = Type::object([
        ("id", Type::String),
        ("gone", Type::String),
        ("mode", Type::String),
    ]);
    let v = to_value(
        &M {
            id: Tf::Unknown,
            gone: Tf::Null,
            mode: Mode::Spread,
        },
        &ty,
    )
    .unwrap();
    assert_eq!(v.get("id"), &Value::Unknown);
    assert_eq!(v.get("gone"), &Value::Null);
    assert_eq!(v.get("mode"), &Value::string("spread"));
}

#[test]
fn big_numbers_and_dynamic_values_read_through() {
    #[derive(Deserialize)]
    struct M {
        n: i64,
        d: String,
    }
    let v = Value::object([
        ("n", Value::Number(crate::Number::Big("42".into()))),
        (
            "d",
            Value::Dynamic(Box::new(Type::String), Box::new(Value::string("x"))),
        ),
    ]);
    let m: M = from_value(&v).unwrap();
    assert_eq!((m.n, m.d.as_str()), (42, "x"));
}

#[test]
fn round_trip_check_finds_what_the_model_lacks_or_adds() {
    // The sample's strings are "s", which no `Mode` variant accepts: the check says where.
    let e = check_round_trip::<Outer>(&outer_ty()).unwrap_err();
    assert!(e.contains("reading the sample: mode:"), "{e}");
    #[derive(Serialize, Deserialize)]
    struct Plain {
        name: String,
        size: Option<i64>,
    }
    assert!(
        check_round_trip::<Plain>(&Type::object([
            ("name", Type::String),
            ("size", Type::Number)
        ]))
        .is_ok()
    );
    let e = check_round_trip::<Plain>(&Type::object([
        ("name", Type::String),
        ("size", Type::Number),
        ("forgotten", Type::Bool),
    ]))
    .unwrap_err();
    assert!(e.contains("forgotten (the model lacks it)"), "{e}");
    let e = check_round_trip::<Plain>(&Type::object([("name", Type::String)])).unwrap_err();
    assert!(e.contains("\"size\""), "{e}");
}
