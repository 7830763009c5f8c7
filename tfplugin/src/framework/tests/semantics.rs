use super::*;
use crate::framework::{normalize_applied, normalize_read};
use crate::schema::{Attribute, NestedBlock};
use crate::semantics::{IgnoreCase, SameIsoDuration, TrimmedText, UrlIgnoringQuery};

fn schema() -> Schema {
    Schema::new(
        Block::new("t")
            .attr(Attribute::string("id").computed())
            .attr(
                Attribute::string("vm_size")
                    .required()
                    .requires_replace()
                    .semantics(IgnoreCase),
            )
            .attr(
                Attribute::string("resize_timeout")
                    .default(s("PT15M"))
                    .semantics(SameIsoDuration),
            )
            .attr(
                Attribute::string("formula")
                    .optional()
                    .semantics(TrimmedText),
            )
            .attr(Attribute::string("plain").optional())
            .attr(
                Attribute::string("policy")
                    .optional()
                    .semantics(IgnoreCase)
                    .server_default(s("Spread")),
            )
            .attr(
                Attribute::string("workdir")
                    .optional()
                    .server_default(s("taskWorkingDirectory")),
            )
            .block(NestedBlock::list(
                "resource_file",
                Block::new("f").attr(
                    Attribute::string("url")
                        .required()
                        .semantics(UrlIgnoringQuery),
                ),
            )),
    )
}

fn files(urls: &[&str]) -> Value {
    Value::List(
        urls.iter()
            .map(|u| Value::object([("url", s(u))]))
            .collect(),
    )
}

fn prior() -> Value {
    obj(
        &schema().block,
        &[
            ("id", s("p1")),
            ("vm_size", s("Standard_D2s_v3")),
            ("resize_timeout", s("PT15M")),
            ("formula", s("$x = 1;")),
            ("resource_file", files(&["https://a/b?sig=x"])),
        ],
    )
}

#[test]
fn plan_keeps_prior_spelling_and_plans_nothing() {
    let sc = schema();
    // (attribute, config value): each alone is a different spelling of the prior value.
    let cases: &[(&str, Value)] = &[
        ("vm_size", s("standard_d2s_v3")),
        ("resize_timeout", s("PT900S")),
        ("formula", s("\r\n$x = 1;\r\n")),
    ];
    for (name, v) in cases {
        let mut cfg = prior();
        cfg.set("id", Value::Null);
        cfg.set(name, v.clone());
        let r = plan_update(&sc, &cfg, &prior());
        assert_eq!(r.planned, prior(), "{name}: a respelling plans no change");
        assert!(r.requires_replace.is_empty(), "{name}");
    }
}

#[test]
fn plan_reports_real_changes() {
    let sc = schema();
    let mut cfg = prior();
    cfg.set("id", Value::Null);
    cfg.set("vm_size", s("Standard_D4s_v3"));
    cfg.set("resize_timeout", s("PT20M"));
    // A new SAS token is a change the user asked for, although read ignores the query.
    cfg.set("resource_file", files(&["https://a/b?sig=new"]));
    let r = plan_update(&sc, &cfg, &prior());
    assert_eq!(r.planned.get("vm_size"), &s("Standard_D4s_v3"));
    assert_eq!(r.planned.get("resize_timeout"), &s("PT20M"));
    assert_eq!(
        r.planned.get("resource_file"),
        &files(&["https://a/b?sig=new"])
    );
    assert!(r.planned.get("id").is_unknown());
    assert_eq!(paths(&r), vec!["vm_size"]);
}

#[test]
fn read_keeps_prior_value_when_equivalent() {
    let b = schema().block;
    // (attribute, value read back, expected in state)
    let cases: &[(&str, Value, Value)] = &[
        ("vm_size", s("STANDARD_D2S_V3"), s("Standard_D2s_v3")),
        ("vm_size", s("Standard_D4s_v3"), s("Standard_D4s_v3")),
        ("resize_timeout", s("PT900S"), s("PT15M")),
        ("formula", s("$x = 1;\n"), s("$x = 1;")),
        (
            "resource_file",
            files(&["https://a/b"]),
            files(&["https://a/b?sig=x"]),
        ),
        (
            "resource_file",
            files(&["https://a/c"]),
            files(&["https://a/c"]),
        ),
        // No semantics: the remote value wins.
        ("plain", s("x"), s("x")),
        // Server defaults read back as null when the prior value was null...
        ("policy", s("spread"), Value::Null),
        ("workdir", s("taskWorkingDirectory"), Value::Null),
        (
            "workdir",
            s("containerImageDefault"),
            s("containerImageDefault"),
        ),
    ];
    for (name, remote, want) in cases {
        let mut read = prior();
        read.set(name, remote.clone());
        normalize_read(&b, &prior(), &mut read);
        assert_eq!(read.get(name), want, "{name} read as {remote:?}");
    }
    // ...but not when the user set them.
    let mut p = prior();
    p.set("workdir", s("taskWorkingDirectory"));
    let mut read = p.clone();
    normalize_read(&b, &p, &mut read);
    assert_eq!(read.get("workdir"), &s("taskWorkingDirectory"));
}

#[test]
fn apply_keeps_planned_value_when_equivalent() {
    let b = schema().block;
    let mut planned = prior();
    planned.set("id", Value::Unknown);
    let mut new = prior();
    new.set("vm_size", s("standard_d2s_v3"));
    new.set("resize_timeout", s("PT0.25H"));
    new.set("workdir", s("taskWorkingDirectory"));
    new.set("resource_file", files(&["https://a/b"]));
    normalize_applied(&b, &planned, &mut new);
    let mut want = prior();
    want.set("resize_timeout", s("PT15M"));
    assert_eq!(new, want);
}

#[test]
fn sets_are_not_matched() {
    let b = Block::new("t").block(NestedBlock::set(
        "f",
        Block::new("f").attr(Attribute::string("u").required().semantics(IgnoreCase)),
    ));
    let old = Value::object([("f", Value::Set(vec![Value::object([("u", s("A"))])]))]);
    let mut new = Value::object([("f", Value::Set(vec![Value::object([("u", s("a"))])]))]);
    let want = new.clone();
    normalize_read(&b, &old, &mut new);
    assert_eq!(new, want);
}

#[test]
fn semantics_description_for_docs() {
    let b = schema().block;
    assert_eq!(
        b.attribute("vm_size").unwrap().semantics_description(),
        Some("Case does not matter.".to_string())
    );
    assert_eq!(b.attribute("plain").unwrap().semantics_description(), None);
}
