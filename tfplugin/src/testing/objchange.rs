//! Terraform core's own value logic, re-done small: `objchange.ProposedNew` (what core sends as
//! `proposed_new_state`), `AssertPlanValid` ("Provider produced invalid plan") and
//! `AssertObjectCompatible` ("inconsistent final plan" / "inconsistent result after apply").
//! See plugin-correctness.md §1–§4. Errors are (path, message) pairs; the harness wraps them in
//! diagnostics worded like Terraform's.

use std::collections::BTreeMap;

use super::schema::{Attr, Block, Mode};
use crate::diag::AttrPath;
use crate::value::Value;

pub(crate) type Errs = Vec<(AttrPath, String)>;

/// `objchange.ProposedNew`: config values where the config sets them; for computed attributes the
/// config leaves null, the prior value. Nested blocks are matched by index (list), key (map) or,
/// for sets, by equal non-computed attributes.
pub(crate) fn proposed_new(b: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() && prior.is_null() {
        return Value::Null;
    }
    let prior = if prior.is_null() {
        b.empty_value()
    } else {
        prior.clone()
    };
    proposed_block(b, &prior, config)
}

fn proposed_block(b: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || config.is_unknown() {
        return prior.clone();
    }
    if !matches!(prior, Value::Object(_)) {
        return config.clone();
    }
    let mut out = BTreeMap::new();
    for a in &b.attrs {
        let (c, p) = (config.get(&a.name), prior.get(&a.name));
        let v = if a.write_only {
            Value::Null
        } else if !a.computed || !c.is_null() {
            c.clone()
        } else {
            p.clone()
        };
        out.insert(a.name.clone(), v);
    }
    for nb in &b.blocks {
        let (c, p) = (config.get(&nb.name), prior.get(&nb.name));
        let v = if c.is_unknown() {
            Value::Unknown
        } else {
            match nb.mode {
                Mode::Single if c.is_null() => Value::Null,
                Mode::Single | Mode::Group => proposed_block(&nb.block, p, c),
                Mode::List => Value::List(
                    c.elements()
                        .iter()
                        .enumerate()
                        .map(|(i, ce)| match p.elements().get(i) {
                            Some(pe) => proposed_block(&nb.block, pe, ce),
                            None => ce.clone(),
                        })
                        .collect(),
                ),
                Mode::Map => {
                    let pm = p.as_map();
                    Value::Map(
                        c.as_map()
                            .into_iter()
                            .flatten()
                            .map(|(k, ce)| {
                                let v = match pm.and_then(|m| m.get(k)) {
                                    Some(pe) => proposed_block(&nb.block, pe, ce),
                                    None => ce.clone(),
                                };
                                (k.clone(), v)
                            })
                            .collect(),
                    )
                }
                Mode::Set => {
                    let cmp: Vec<Value> = p
                        .elements()
                        .iter()
                        .map(|pe| set_compare_value(&nb.block, pe))
                        .collect();
                    let mut used = vec![false; cmp.len()];
                    Value::Set(
                        c.elements()
                            .iter()
                            .map(|ce| {
                                let hit = (0..cmp.len()).find(|&i| !used[i] && cmp[i] == *ce);
                                match hit {
                                    Some(i) => {
                                        used[i] = true;
                                        proposed_block(&nb.block, &p.elements()[i], ce)
                                    }
                                    None => proposed_block(&nb.block, &Value::Null, ce),
                                }
                            })
                            .collect(),
                    )
                }
            }
        };
        out.insert(nb.name.clone(), v);
    }
    Value::Object(out)
}

/// A prior set element with its computed attributes nulled, for comparing with config elements.
fn set_compare_value(b: &Block, v: &Value) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    let mut out = m.clone();
    for a in &b.attrs {
        if a.computed {
            out.insert(a.name.clone(), Value::Null);
        }
    }
    for nb in &b.blocks {
        let x = v.get(&nb.name);
        let nv = match x {
            Value::Object(_) => set_compare_value(&nb.block, x),
            Value::List(i) => {
                Value::List(i.iter().map(|e| set_compare_value(&nb.block, e)).collect())
            }
            Value::Set(i) => {
                Value::Set(i.iter().map(|e| set_compare_value(&nb.block, e)).collect())
            }
            Value::Map(i) => Value::Map(
                i.iter()
                    .map(|(k, e)| (k.clone(), set_compare_value(&nb.block, e)))
                    .collect(),
            ),
            other => other.clone(),
        };
        out.insert(nb.name.clone(), nv);
    }
    Value::Object(out)
}

/// `AssertPlanValid` for a non-null planned object (the caller handles the null cases).
pub(crate) fn plan_valid(
    b: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    errs: &mut Errs,
) {
    for a in &b.attrs {
        planned_value_valid(
            a,
            prior.get(&a.name),
            config.get(&a.name),
            planned.get(&a.name),
            &path.child(&a.name),
            errs,
        );
    }
    for nb in &b.blocks {
        let (q, c, p) = (
            prior.get(&nb.name),
            config.get(&nb.name),
            planned.get(&nb.name),
        );
        let bp = path.child(&nb.name);
        if c.is_unknown() {
            continue;
        }
        if p.is_unknown() {
            errs.push((bp, "attribute representing nested block must not be unknown itself; set nested attribute values to unknown instead".into()));
            continue;
        }
        match nb.mode {
            Mode::Single | Mode::Group => match (c.is_null(), p.is_null()) {
                (true, true) => {}
                (false, true) => errs.push((bp, "planned for absence but config wants existence".into())),
                (true, false) => errs.push((bp, "planned for existence but config wants absence".into())),
                (false, false) => plan_valid(&nb.block, q, c, p, &bp, errs),
            },
            Mode::List | Mode::Set | Mode::Map if p.is_null() => errs.push((
                bp,
                "attribute representing a list of nested blocks must be empty to indicate no blocks, not null".into(),
            )),
            Mode::List | Mode::Set => {
                let (np, nc) = (p.elements().len(), c.elements().len());
                if np != nc {
                    errs.push((bp, format!("block count in plan ({np}) disagrees with count in config ({nc})")));
                    continue;
                }
                for (i, pe) in p.elements().iter().enumerate() {
                    if pe.is_unknown() {
                        errs.push((bp.index(i), "element representing nested block must not be unknown itself; set nested attribute values to unknown instead".into()));
                    } else if nb.mode == Mode::List {
                        let qe = q.elements().get(i).unwrap_or(&Value::Null);
                        plan_valid(&nb.block, qe, &c.elements()[i], pe, &bp.index(i), errs);
                    }
                }
            }
            Mode::Map => {
                let (pm, cm) = (p.as_map().cloned().unwrap_or_default(), c.as_map().cloned().unwrap_or_default());
                for k in cm.keys().filter(|k| !pm.contains_key(*k)) {
                    errs.push((bp.key(k), "block key from config is missing in the plan".into()));
                }
                for (k, pe) in &pm {
                    match cm.get(k) {
                        None => errs.push((bp.key(k), "planned block key is not in config".into())),
                        Some(ce) => plan_valid(&nb.block, q.get(k), ce, pe, &bp.key(k), errs),
                    }
                }
            }
        }
    }
}

fn planned_value_valid(
    a: &Attr,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    errs: &mut Errs,
) {
    if a.write_only {
        if !planned.is_null() {
            errs.push((
                path.clone(),
                "planned a value for a write-only attribute; it must be null".into(),
            ));
        }
        return;
    }
    if planned == config {
        return;
    }
    if config.is_unknown() {
        errs.push((
            path.clone(),
            format!(
                "planned value {} for an unknown config value; it must stay unknown",
                show(planned, a.sensitive)
            ),
        ));
        return;
    }
    if !prior.is_null() && !config.is_null() && planned == prior {
        return;
    }
    if a.computed && (!a.optional || config.is_null()) {
        return;
    }
    let msg = if config.is_null() {
        format!(
            "planned value {} for a non-computed attribute",
            show(planned, a.sensitive)
        )
    } else if a.sensitive {
        if prior.is_null() {
            "sensitive planned value does not match config value".to_string()
        } else {
            "sensitive planned value does not match config value nor prior value".to_string()
        }
    } else if prior.is_null() {
        format!(
            "planned value {} does not match config value {}",
            show(planned, false),
            show(config, false)
        )
    } else {
        format!(
            "planned value {} does not match config value {} nor prior value {}",
            show(planned, false),
            show(config, false),
            show(prior, false)
        )
    };
    errs.push((path.clone(), msg));
}

/// `AssertObjectCompatible`: every value known in `planned` is identical in `actual`; an unknown
/// may become anything.
pub(crate) fn compatible(
    b: &Block,
    planned: &Value,
    actual: &Value,
    path: &AttrPath,
    errs: &mut Errs,
) {
    if planned.is_unknown() {
        return;
    }
    for a in &b.attrs {
        value_compatible(
            planned.get(&a.name),
            actual.get(&a.name),
            &path.child(&a.name),
            a.sensitive,
            errs,
        );
    }
    for nb in &b.blocks {
        let (p, x) = (planned.get(&nb.name), actual.get(&nb.name));
        let bp = path.child(&nb.name);
        if p.is_unknown() {
            continue;
        }
        match nb.mode {
            Mode::Single | Mode::Group => match (p.is_null(), x.is_null()) {
                (true, true) => {}
                (true, false) => errs.push((bp, "block was absent, but now present".into())),
                (false, true) => errs.push((bp, "block was present, but now absent".into())),
                (false, false) => compatible(&nb.block, p, x, &bp, errs),
            },
            Mode::List => {
                let (np, nx) = (p.elements().len(), x.elements().len());
                if np != nx {
                    errs.push((bp, format!("block count changed from {np} to {nx}")));
                    continue;
                }
                for (i, (pe, xe)) in p.elements().iter().zip(x.elements()).enumerate() {
                    compatible(&nb.block, pe, xe, &bp.index(i), errs);
                }
            }
            Mode::Map => {
                let empty = BTreeMap::new();
                let (pm, xm) = (p.as_map().unwrap_or(&empty), x.as_map().unwrap_or(&empty));
                for k in xm.keys().filter(|k| !pm.contains_key(*k)) {
                    errs.push((bp.key(k), format!("new block key {k:?} has appeared")));
                }
                for (k, pe) in pm {
                    match xm.get(k) {
                        None => errs.push((bp.key(k), format!("block key {k:?} has vanished"))),
                        Some(xe) => compatible(&nb.block, pe, xe, &bp.key(k), errs),
                    }
                }
            }
            Mode::Set => set_compatible(p, x, &bp, errs, |pe, xe| {
                let mut e = Errs::new();
                compatible(&nb.block, pe, xe, &bp, &mut e);
                e.is_empty()
            }),
        }
    }
}

fn set_compatible(
    p: &Value,
    x: &Value,
    path: &AttrPath,
    errs: &mut Errs,
    ok: impl Fn(&Value, &Value) -> bool,
) {
    let xs = x.elements();
    let mut used = vec![false; xs.len()];
    for pe in p.elements() {
        match (0..xs.len()).find(|&i| !used[i] && ok(pe, &xs[i])) {
            Some(i) => used[i] = true,
            None => errs.push((
                path.clone(),
                format!(
                    "planned set element {} does not correlate with any element in actual",
                    show(pe, false)
                ),
            )),
        }
    }
    if p.is_wholly_known() && p.elements().len() != xs.len() {
        errs.push((
            path.clone(),
            format!("length changed from {} to {}", p.elements().len(), xs.len()),
        ));
    }
}

fn value_compatible(p: &Value, x: &Value, path: &AttrPath, sensitive: bool, errs: &mut Errs) {
    let was = |errs: &mut Errs| {
        let msg = if sensitive {
            "inconsistent values for sensitive attribute".to_string()
        } else {
            format!("was {}, but now {}", show(p, false), show(x, false))
        };
        errs.push((path.clone(), msg));
    };
    match (p, x) {
        (Value::Unknown, _) => {}
        (Value::Null, Value::Null) => {}
        (Value::Null, _) | (_, Value::Null) | (_, Value::Unknown) => was(errs),
        (Value::List(pl) | Value::Tuple(pl), Value::List(xl) | Value::Tuple(xl)) => {
            if pl.len() != xl.len() {
                errs.push((
                    path.clone(),
                    format!("length changed from {} to {}", pl.len(), xl.len()),
                ));
                return;
            }
            for (i, (pe, xe)) in pl.iter().zip(xl).enumerate() {
                value_compatible(pe, xe, &path.index(i), sensitive, errs);
            }
        }
        (Value::Map(pm), Value::Map(xm)) | (Value::Object(pm), Value::Object(xm)) => {
            let is_map = matches!(p, Value::Map(_));
            let step = |k: &str| if is_map { path.key(k) } else { path.child(k) };
            for k in xm.keys().filter(|k| !pm.contains_key(*k)) {
                errs.push((step(k), format!("new element {k:?} has appeared")));
            }
            for (k, pe) in pm {
                match xm.get(k) {
                    None => errs.push((step(k), format!("element {k:?} has vanished"))),
                    Some(xe) => value_compatible(pe, xe, &step(k), sensitive, errs),
                }
            }
        }
        (Value::Set(_), Value::Set(_)) => set_compatible(p, x, path, errs, |pe, xe| {
            let mut e = Errs::new();
            value_compatible(pe, xe, path, sensitive, &mut e);
            e.is_empty()
        }),
        _ => {
            if p != x {
                was(errs)
            }
        }
    }
}

/// Paths (top-level attribute and block names) where two objects differ, for "plan not empty" messages.
pub(crate) fn changed_attrs(a: &Value, b: &Value) -> Vec<String> {
    let empty = BTreeMap::new();
    let (am, bm) = (a.as_map().unwrap_or(&empty), b.as_map().unwrap_or(&empty));
    let mut keys: Vec<&String> = am.keys().chain(bm.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(k) != b.get(k))
        .map(|k| k.to_string())
        .collect()
}

/// A value as Terraform-ish text: `"a"`, `3`, `null`, `(known after apply)`, `["a", "b"]`, `{ k = v }`.
pub(crate) fn show(v: &Value, sensitive: bool) -> String {
    if sensitive && !v.is_null() && !v.is_unknown() {
        return "(sensitive value)".into();
    }
    match v {
        Value::Null => "null".into(),
        Value::Unknown => "(known after apply)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.canonical(),
        Value::String(s) => format!("{s:?}"),
        Value::List(i) | Value::Set(i) | Value::Tuple(i) => {
            format!(
                "[{}]",
                i.iter()
                    .map(|e| show(e, false))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Map(m) | Value::Object(m) => {
            if m.is_empty() {
                return "{}".into();
            }
            let parts: Vec<String> = m
                .iter()
                .map(|(k, e)| format!("{k} = {}", show(e, false)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Dynamic(_, v) => show(v, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Type;

    fn attr(name: &str, optional: bool, computed: bool) -> Attr {
        Attr {
            name: name.into(),
            ty: Type::String,
            required: !optional && !computed,
            optional,
            computed,
            sensitive: false,
            write_only: false,
        }
    }

    fn block() -> Block {
        Block {
            attrs: vec![
                attr("name", false, false),
                attr("mode", true, true),
                attr("id", false, true),
            ],
            blocks: vec![super::super::schema::Nested {
                name: "rule".into(),
                mode: Mode::Set,
                block: Block {
                    attrs: vec![attr("port", false, false), attr("uid", false, true)],
                    blocks: vec![],
                },
                min_items: 0,
                max_items: 0,
            }],
        }
    }

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    fn rule(port: &str, uid: Value) -> Value {
        Value::object([("port", s(port)), ("uid", uid)])
    }

    #[test]
    fn proposed_new_keeps_prior_computed_values_and_takes_config_elsewhere() {
        let b = block();
        let prior = Value::object([
            ("name", s("a")),
            ("mode", s("fast")),
            ("id", s("i-1")),
            (
                "rule",
                Value::Set(vec![rule("80", s("u80")), rule("443", s("u443"))]),
            ),
        ]);
        let config = Value::object([
            ("name", s("b")),
            ("mode", Value::Null),
            ("id", Value::Null),
            (
                "rule",
                Value::Set(vec![rule("443", Value::Null), rule("22", Value::Null)]),
            ),
        ]);
        let p = proposed_new(&b, &prior, &config);
        assert_eq!(p.get("name"), &s("b"));
        assert_eq!(p.get("mode"), &s("fast"));
        assert_eq!(p.get("id"), &s("i-1"));
        // The 443 rule keeps its computed uid; the new 22 rule has none yet.
        assert_eq!(
            p.get("rule"),
            &Value::Set(vec![rule("443", s("u443")), rule("22", Value::Null)])
        );
        // Create: prior is the empty block value.
        let p = proposed_new(&b, &Value::Null, &config);
        assert!(p.get("id").is_null());
        assert!(proposed_new(&b, &Value::Null, &Value::Null).is_null());
    }

    #[test]
    fn plan_valid_follows_terraforms_rules() {
        let b = block();
        let prior = Value::object([
            ("name", s("A")),
            ("mode", s("x")),
            ("id", s("1")),
            ("rule", Value::Set(vec![])),
        ]);
        let config = Value::object([("name", s("a")), ("rule", Value::Set(vec![]))]);
        let check = |planned: Value| {
            let mut errs = Errs::new();
            plan_valid(&b, &prior, &config, &planned, &AttrPath::root(), &mut errs);
            errs
        };
        // Prior spelling kept (semantic equality), computed values free.
        assert!(
            check(Value::object([
                ("name", s("A")),
                ("mode", s("y")),
                ("id", Value::Unknown),
                ("rule", Value::Set(vec![]))
            ]))
            .is_empty()
        );
        let errs = check(Value::object([
            ("name", s("b")),
            ("rule", Value::Set(vec![])),
        ]));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, AttrPath::attr("name"));
        assert!(
            errs[0]
                .1
                .contains("does not match config value \"a\" nor prior value \"A\""),
            "{}",
            errs[0].1
        );
        let errs = check(Value::object([("name", s("a")), ("rule", Value::Null)]));
        assert!(errs[0].1.contains("not null"), "{errs:?}");
    }

    #[test]
    fn compatible_reports_changed_known_values() {
        let b = block();
        let planned = Value::object([
            ("name", s("a")),
            ("mode", s("x")),
            ("id", Value::Unknown),
            ("rule", Value::Set(vec![rule("80", Value::Unknown)])),
        ]);
        let ok = Value::object([
            ("name", s("a")),
            ("mode", s("x")),
            ("id", s("1")),
            ("rule", Value::Set(vec![rule("80", s("u"))])),
        ]);
        let mut errs = Errs::new();
        compatible(&b, &planned, &ok, &AttrPath::root(), &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        let bad = Value::object([
            ("name", s("a")),
            ("mode", s("y")),
            ("id", s("1")),
            ("rule", Value::Set(vec![rule("81", s("u"))])),
        ]);
        compatible(&b, &planned, &bad, &AttrPath::root(), &mut errs);
        let msgs: Vec<String> = errs.iter().map(|(p, m)| format!("{p}: {m}")).collect();
        assert_eq!(msgs[0], "mode: was \"x\", but now \"y\"");
        assert!(msgs[1].starts_with("rule: planned set element"), "{msgs:?}");
    }
}
