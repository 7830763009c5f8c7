use super::*;
use crate::diag::{AttrPath, Diagnostics};
use crate::framework::checks::check_planned;
use crate::framework::{Private, null_write_only, validate_values};
use crate::schema::{Attribute, Nesting};
use crate::semantics::IgnoreCase;
use crate::types::Type;
use crate::validators::NotEmpty;

fn task_attrs() -> Vec<Attribute> {
    vec![
        Attribute::string("image")
            .required()
            .requires_replace()
            .validate(NotEmpty),
        Attribute::string("command").optional(),
        Attribute::number("slots").default(Value::int(1)),
        Attribute::string("state").computed(),
        Attribute::string("token").optional().write_only(),
        Attribute::string("pool").optional().semantics(IgnoreCase),
    ]
}

fn schema() -> Schema {
    Schema::new(
        Block::new("job")
            .attr(Attribute::string("name").required())
            .attr(Attribute::nested("tasks", Nesting::Map, task_attrs()).optional())
            .attr(Attribute::nested("first", Nesting::List, task_attrs()).optional()),
    )
}

/// A task element as the config writes it (unset attributes null).
fn task(image: &str, command: &str) -> Value {
    Value::object([
        ("image", s(image)),
        ("command", s(command)),
        ("slots", Value::Null),
        ("state", Value::Null),
        ("token", Value::Null),
        ("pool", Value::Null),
    ])
}

/// The same task as it is in state after apply.
fn stored(image: &str, command: &str) -> Value {
    let mut t = task(image, command);
    t.set("slots", Value::int(1));
    t.set("state", s("active"));
    t
}

fn tasks(items: &[(&str, Value)]) -> Value {
    Value::Map(
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn job(t: Value) -> Value {
    obj(&schema().block, &[("name", s("j")), ("tasks", t)])
}

#[test]
fn value_type_and_proto() {
    let sc = schema();
    let a = sc.block.attribute("tasks").unwrap();
    match &a.ty {
        Type::Map(inner) => match inner.as_ref() {
            Type::Object(m) => assert_eq!(m.get("slots"), Some(&Type::Number)),
            t => panic!("{t:?}"),
        },
        t => panic!("{t:?}"),
    }
    let p = sc.to_proto();
    let pa = p
        .block
        .unwrap()
        .attributes
        .into_iter()
        .find(|x| x.name == "tasks")
        .unwrap();
    assert!(
        pa.r#type.is_empty(),
        "nested attributes carry nested_type, not type"
    );
    let nt = pa.nested_type.unwrap();
    assert_eq!(
        nt.nesting,
        tfplugin_proto::tfplugin6::schema::object::NestingMode::Map as i32
    );
    let names: Vec<&str> = nt.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["image", "command", "slots", "state", "token", "pool"]
    );
}

#[test]
fn create_applies_defaults_inside_elements() {
    let sc = schema();
    let mut t = task("img", "run");
    t.set("token", s("secret"));
    let cfg = job(tasks(&[("a", t)]));
    let r = plan_resource(&sc, &cfg, &cfg, &Value::Null, &Private::new());
    let a = r.planned.get("tasks").get("a");
    assert_eq!(a.get("slots"), &Value::int(1));
    assert!(a.get("state").is_unknown());
    assert!(a.get("token").is_null(), "write-only nulled in the plan");
    assert!(r.requires_replace.is_empty());
    let mut d = Diagnostics::new();
    check_planned(
        &sc.block,
        &cfg,
        &Value::Null,
        &r.planned,
        &AttrPath::root(),
        &mut d,
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn update_table() {
    let sc = schema();
    let prior = job(tasks(&[
        ("a", stored("img", "run")),
        ("b", stored("img", "x")),
    ]));
    // (config tasks, requires-replace paths, whether computed inner values become unknown)
    let cases: Vec<(&str, Value, Vec<&str>, bool)> = vec![
        (
            "no change",
            tasks(&[("a", task("img", "run")), ("b", task("img", "x"))]),
            vec![],
            false,
        ),
        (
            "command",
            tasks(&[("a", task("img", "run2")), ("b", task("img", "x"))]),
            vec![],
            true,
        ),
        (
            "image",
            tasks(&[("a", task("img2", "run")), ("b", task("img", "x"))]),
            vec![r#"tasks["a"].image"#],
            true,
        ),
        (
            "new key",
            tasks(&[
                ("a", task("img", "run")),
                ("b", task("img", "x")),
                ("c", task("i", "y")),
            ]),
            vec!["tasks", r#"tasks["c"].image"#],
            true,
        ),
        (
            "removed key",
            tasks(&[("a", task("img", "run"))]),
            vec!["tasks"],
            true,
        ),
    ];
    for (name, t, want_rr, unknown) in cases {
        let cfg = job(t);
        // Terraform proposes config values, computed ones from the prior element with the same key.
        let mut proposed = cfg.clone();
        if let Some(m) =
            crate::framework::walk::get_mut(&mut proposed, "tasks").and_then(Value::as_map_mut)
        {
            for (k, el) in m.iter_mut() {
                el.set("state", prior.get("tasks").get(k).get("state").clone());
            }
        }
        let r = plan_resource(&sc, &cfg, &proposed, &prior, &Private::new());
        assert_eq!(paths(&r), want_rr, "{name}");
        assert_eq!(
            r.planned.get("tasks").get("a").get("state").is_unknown(),
            unknown,
            "{name}"
        );
        assert_eq!(
            r.planned.get("tasks").get("a").get("slots"),
            &Value::int(1),
            "{name}"
        );
        let mut d = Diagnostics::new();
        check_planned(
            &sc.block,
            &cfg,
            &prior,
            &r.planned,
            &AttrPath::root(),
            &mut d,
        );
        assert!(d.is_empty(), "{name}: {d:?}");
    }
}

#[test]
fn semantics_inside_map_elements() {
    let sc = schema();
    let mut p = stored("img", "run");
    p.set("pool", s("Pool1"));
    let prior = job(tasks(&[("a", p)]));
    let mut c = task("img", "run");
    c.set("pool", s("POOL1"));
    let cfg = job(tasks(&[("a", c)]));
    let mut proposed = cfg.clone();
    let el = crate::framework::walk::get_mut(&mut proposed, "tasks")
        .and_then(|t| t.as_map_mut())
        .and_then(|m| m.get_mut("a"))
        .unwrap();
    el.set("state", s("active"));
    let r = plan_resource(&sc, &cfg, &proposed, &prior, &Private::new());
    assert_eq!(
        r.planned, prior,
        "a case-only change inside an element plans nothing"
    );
}

#[test]
fn list_nested_attribute_matches_by_index() {
    let sc = schema();
    let mut prior = job(Value::Null);
    prior.set("first", Value::List(vec![stored("img", "run")]));
    let mut cfg = job(Value::Null);
    cfg.set("first", Value::List(vec![task("img2", "run")]));
    let mut proposed = cfg.clone();
    proposed.set(
        "first",
        Value::List(vec![{
            let mut t = task("img2", "run");
            t.set("state", s("active"));
            t
        }]),
    );
    let r = plan_resource(&sc, &cfg, &proposed, &prior, &Private::new());
    assert_eq!(paths(&r), vec!["first[0].image"]);
    assert!(
        r.planned.get("first").elements()[0]
            .get("state")
            .is_unknown()
    );
}

#[test]
fn validators_and_write_only_inside_elements() {
    let sc = schema();
    let mut t = task("", "run");
    t.set("token", s("x"));
    let mut v = job(tasks(&[("k", t)]));
    let mut d = Diagnostics::new();
    validate_values(&sc.block, &v, &AttrPath::root(), &mut d);
    let at: Vec<String> =
        d.0.iter()
            .map(|d| d.path.clone().unwrap().to_string())
            .collect();
    assert_eq!(at, vec![r#"tasks["k"].image"#]);
    null_write_only(&sc.block, &mut v);
    assert!(v.get("tasks").get("k").get("token").is_null());
}

#[test]
fn null_nested_attribute_is_left_alone() {
    let sc = schema();
    let cfg = job(Value::Null);
    let r = plan_resource(&sc, &cfg, &cfg, &Value::Null, &Private::new());
    assert!(r.planned.get("tasks").is_null());
}
