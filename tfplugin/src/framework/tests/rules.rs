use crate::diag::{AttrPath, Diagnostics};
use crate::framework::validate_values;
use crate::schema::{Attribute, Block, NestedBlock, Rule};
use crate::value::Value;

fn inner() -> Block {
    Block::new("i")
        .attr(Attribute::string("image").optional())
        .attr(Attribute::string("virtual_machine_image_id").optional())
        .attr(Attribute::string("user").optional())
        .attr(Attribute::string("password").optional())
        .attr(Attribute::string("key").optional())
        .exactly_one_of(&["image", "virtual_machine_image_id"])
        .conflicts_with("password", &["key"])
        .also_requires("user", &["password", "key"])
}

fn schema() -> Block {
    inner()
        .attr(Attribute::string("a").optional())
        .block(NestedBlock::list("b", Block::new("b")))
        .at_least_one_of(&["a", "b"])
        .block(NestedBlock::list("pool", inner()))
}

/// Validates `v` (a root object) and returns (path, detail) of each diagnostic.
fn check(v: &Value) -> Vec<(String, String)> {
    let mut d = Diagnostics::new();
    validate_values(&schema(), v, &AttrPath::root(), &mut d);
    d.0.iter()
        .map(|d| {
            assert_eq!(d.summary, "Invalid combination of arguments");
            (
                d.path.clone().unwrap_or_default().to_string(),
                d.detail.clone(),
            )
        })
        .collect()
}

fn cfg(pairs: &[(&str, Value)]) -> Value {
    let mut v = crate::framework::null_object(&schema());
    v.set("image", Value::string("img"));
    v.set("a", Value::string("x"));
    for (k, x) in pairs {
        v.set(k, x.clone());
    }
    v
}

const EXACTLY: &str = "Exactly one of `image` or `virtual_machine_image_id` must be set.";

#[test]
fn table() {
    let s = Value::string;
    let u = Value::Unknown;
    let n = Value::Null;
    type Case<'a> = (&'a str, Vec<(&'a str, Value)>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("valid", vec![], vec![]),
        ("neither", vec![("image", n.clone())], vec![("", EXACTLY)]),
        (
            "both",
            vec![("virtual_machine_image_id", s("v"))],
            vec![("virtual_machine_image_id", EXACTLY)],
        ),
        (
            "unknown may be set",
            vec![
                ("image", n.clone()),
                ("virtual_machine_image_id", u.clone()),
            ],
            vec![],
        ),
        (
            "unknown beside a set one",
            vec![("virtual_machine_image_id", u.clone())],
            vec![],
        ),
        (
            "none of a, b",
            vec![("a", n.clone())],
            vec![("", "At least one of `a` or `b` must be set.")],
        ),
        (
            "block counts as set",
            vec![
                ("a", n.clone()),
                ("b", Value::List(vec![Value::object::<_, &str>([])])),
            ],
            vec![],
        ),
        (
            "block unknown",
            vec![("a", n.clone()), ("b", u.clone())],
            vec![],
        ),
        (
            "conflict",
            vec![("password", s("p")), ("key", s("k"))],
            vec![("password", "`password` cannot be set together with `key`.")],
        ),
        (
            "conflict unknown",
            vec![("password", s("p")), ("key", u.clone())],
            vec![],
        ),
        (
            "also requires",
            vec![("user", s("u")), ("password", s("p"))],
            vec![(
                "user",
                "`user` requires `password` and `key` to be set as well.",
            )],
        ),
        (
            "also requires unknown",
            vec![
                ("user", s("u")),
                ("password", u.clone()),
                ("key", u.clone()),
            ],
            vec![],
        ),
    ];
    for (name, pairs, want) in cases {
        let got = check(&cfg(&pairs));
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(p, d)| (p.to_string(), d.to_string()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn rules_apply_to_each_nested_instance_with_full_paths() {
    let ok = Value::object([("image", Value::string("i"))]);
    let both = Value::object([
        ("image", Value::string("i")),
        ("virtual_machine_image_id", Value::string("v")),
    ]);
    let pool = |items: Vec<Value>| {
        Value::List(
            items
                .into_iter()
                .map(|o| {
                    let mut v = crate::framework::null_object(&inner());
                    for (k, x) in o.as_map().unwrap() {
                        v.set(k, x.clone());
                    }
                    v
                })
                .collect(),
        )
    };
    let got = check(&cfg(&[("pool", pool(vec![ok, both]))]));
    assert_eq!(
        got,
        vec![(
            "pool[1].virtual_machine_image_id".to_string(),
            "Exactly one of `pool[1].image` or `pool[1].virtual_machine_image_id` must be set."
                .to_string()
        )]
    );
}

#[test]
fn rules_are_exposed_for_docs() {
    let b = inner();
    let d: Vec<String> = b.rules().iter().map(Rule::describe).collect();
    assert_eq!(
        d,
        vec![
            EXACTLY,
            "`password` cannot be set together with `key`.",
            "`user` requires `password` and `key` to be set as well.",
        ]
    );
    assert_eq!(b.rules()[1].names(), vec!["password", "key"]);
    let three = Block::new("x").at_least_one_of(&["a", "b", "c"]);
    assert_eq!(
        three.rules()[0].describe(),
        "At least one of `a`, `b` or `c` must be set."
    );
}
