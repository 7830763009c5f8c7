use super::*;
use crate::diag::Diagnostics;
use crate::framework::Private;
use crate::schema::{
    AttrPlanRequest, AttrPlanResponse, Attribute, PlanModifier, RequiresReplace, RequiresReplaceIf,
    UseStateForUnknown,
};

/// Plans "unknown" as "pending" and records that it ran after the framework's unknown-marking.
struct Placeholder;

impl PlanModifier for Placeholder {
    fn modify(&self, req: &AttrPlanRequest<'_>, resp: &mut AttrPlanResponse) {
        if req.planned.is_unknown() && req.planned_state.get("note").is_unknown() {
            resp.planned = s("pending");
        }
    }
    fn describe(&self) -> String {
        "Placeholder.".into()
    }
}

struct Warns;

impl PlanModifier for Warns {
    fn modify(&self, req: &AttrPlanRequest<'_>, resp: &mut AttrPlanResponse) {
        resp.diags
            .attr_warning(req.path, "heads up", format!("{}", req.path));
    }
    fn describe(&self) -> String {
        "Warns.".into()
    }
}

fn shrinking(req: &AttrPlanRequest<'_>) -> bool {
    matches!((req.planned.as_i64(), req.prior.as_i64()), (Some(p), Some(q)) if p < q)
}

fn schema() -> Schema {
    Schema::new(
        Block::new("t")
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(Attribute::string("name").required().requires_replace())
            .attr(
                Attribute::number("disk")
                    .optional()
                    .plan_modifier(RequiresReplaceIf {
                        cond: shrinking,
                        description: "Shrinking the disk replaces the object.",
                    }),
            )
            .attr(
                Attribute::string("note")
                    .computed()
                    .plan_modifier(Placeholder),
            )
            // Computed + requires-replace: "known after apply" alone is not a change.
            .attr(Attribute::string("zone").computed().requires_replace())
            .attr(
                Attribute::string("host")
                    .computed()
                    .plan_modifier(UseStateForUnknown)
                    .plan_modifier(RequiresReplace),
            )
            .attr(Attribute::string("tag").optional().plan_modifier(Warns)),
    )
}

fn prior() -> Value {
    obj(
        &schema().block,
        &[
            ("id", s("i")),
            ("name", s("a")),
            ("disk", Value::int(10)),
            ("note", s("n")),
            ("zone", s("z")),
            ("host", s("h")),
        ],
    )
}

#[test]
fn table() {
    let sc = schema();
    // (what the config changes, expected requires-replace paths, expected planned overrides)
    type Case = (
        &'static str,
        Value,
        Vec<&'static str>,
        Vec<(&'static str, Value)>,
    );
    let cases: Vec<Case> = vec![
        (
            "name",
            s("b"),
            vec!["name"],
            vec![
                ("id", s("i")),
                ("host", s("h")),
                ("note", s("pending")),
                ("zone", Value::Unknown),
            ],
        ),
        ("disk", Value::int(20), vec![], vec![("id", s("i"))]),
        ("disk", Value::int(5), vec!["disk"], vec![]),
        ("disk", Value::Unknown, vec![], vec![]),
        (
            "disk",
            Value::int(10),
            vec![],
            vec![("note", s("n")), ("zone", s("z"))],
        ),
    ];
    for (name, v, want_rr, want_planned) in cases {
        let mut cfg = obj(&sc.block, &[("name", s("a")), ("disk", Value::int(10))]);
        cfg.set(name, v.clone());
        let r = plan_update(&sc, &cfg, &prior());
        assert_eq!(paths(&r), want_rr, "{name} = {v:?}");
        for (a, want) in want_planned {
            assert_eq!(r.planned.get(a), &want, "{name} = {v:?}: planned {a}");
        }
    }
}

#[test]
fn create_never_requires_replace() {
    let sc = schema();
    let cfg = obj(&sc.block, &[("name", s("a")), ("disk", Value::int(1))]);
    let r = plan_resource(&sc, &cfg, &cfg, &Value::Null, &Private::new());
    assert!(r.requires_replace.is_empty());
    assert!(r.planned.get("id").is_unknown(), "no prior value to keep");
    assert_eq!(r.planned.get("note"), &s("pending"));
}

#[test]
fn modifier_diagnostics_carry_the_path() {
    let sc = schema();
    let cfg = obj(&sc.block, &[("name", s("a")), ("tag", s("x"))]);
    let r = plan_resource(&sc, &cfg, &cfg, &Value::Null, &Private::new());
    let mut want = Diagnostics::new();
    want.attr_warning(&crate::AttrPath::attr("tag"), "heads up", "tag");
    assert_eq!(r.diags, want);
}

#[test]
fn builder_methods_still_work() {
    let sc = schema();
    let b = &sc.block;
    assert!(b.attribute("name").unwrap().is_requires_replace());
    assert!(!b.attribute("disk").unwrap().is_requires_replace());
    assert!(!b.attribute("id").unwrap().is_requires_replace());
    let d: Vec<String> = b
        .attribute("disk")
        .unwrap()
        .plan_modifiers
        .iter()
        .map(|m| m.describe())
        .collect();
    assert_eq!(d, vec!["Shrinking the disk replaces the object."]);
}
