//! Terraform's plan and apply consistency rules (plugin-correctness.md §2 and §4), checked by the
//! framework in debug builds so that our own tests fail where Terraform would report "Provider
//! produced invalid plan" or "inconsistent result after apply".

use crate::diag::{AttrPath, Diagnostics};
use crate::schema::{Block, Nesting};
use crate::value::Value;

fn bug(diags: &mut Diagnostics, path: &AttrPath, what: String) {
    diags.attr_error(
        path,
        "Provider bug: inconsistent value",
        format!("{what} (at {path}). Terraform would reject this; please report it."),
    );
}

/// Planned values of non-computed attributes must equal the config (or the prior value where neither is null).
pub fn check_planned(
    block: &Block,
    config: &Value,
    prior: &Value,
    planned: &Value,
    path: &AttrPath,
    diags: &mut Diagnostics,
) {
    for a in &block.attributes {
        let (c, p, q) = (
            config.get(&a.name),
            planned.get(&a.name),
            prior.get(&a.name),
        );
        let ap = path.child(&a.name);
        if a.write_only {
            if !p.is_null() {
                bug(
                    diags,
                    &ap,
                    "planned a value for a write-only attribute".into(),
                );
            }
            continue;
        }
        if c.is_unknown() && !p.is_unknown() {
            bug(diags, &ap, "config is unknown but the plan is known".into());
            continue;
        }
        if let Some(n) = &a.nested
            && !(a.computed && c.is_null())
            && !c.is_null()
            && !c.is_unknown()
            && !p.is_null()
            && !p.is_unknown()
        {
            check_nested(n.nesting, &n.block, c, q, p, &ap, diags);
            continue;
        }
        if p == c
            || (!q.is_null() && !c.is_null() && p == q)
            || (a.computed && (!a.optional || c.is_null()))
        {
            continue;
        }
        if c.is_null() {
            bug(
                diags,
                &ap,
                format!("planned {p:?} for a non-computed attribute left unset"),
            );
        } else {
            bug(
                diags,
                &ap,
                format!("planned {p:?} does not match config {c:?}"),
            );
        }
    }
    for b in &block.blocks {
        let (c, p, q) = (
            config.get(&b.name),
            planned.get(&b.name),
            prior.get(&b.name),
        );
        let bp = path.child(&b.name);
        match b.nesting {
            Nesting::Single => match (c.is_null(), p.is_null()) {
                (true, true) => {}
                (false, false) => check_planned(&b.block, c, q, p, &bp, diags),
                (false, true) => bug(
                    diags,
                    &bp,
                    "block planned for absence but config wants existence".into(),
                ),
                (true, false) => bug(
                    diags,
                    &bp,
                    "block planned for existence but config wants absence".into(),
                ),
            },
            Nesting::List => {
                if c.elements().len() != p.elements().len() {
                    bug(
                        diags,
                        &bp,
                        format!(
                            "block count in plan ({}) disagrees with config ({})",
                            p.elements().len(),
                            c.elements().len()
                        ),
                    );
                } else {
                    for (i, (ce, pe)) in c.elements().iter().zip(p.elements()).enumerate() {
                        let qe = q.elements().get(i).unwrap_or(&Value::Null);
                        check_planned(&b.block, ce, qe, pe, &bp.index(i), diags);
                    }
                }
            }
            Nesting::Set | Nesting::Map => {
                if p.is_null() {
                    bug(diags, &bp, "collection block planned as null".into());
                }
            }
        }
    }
}

/// A nested attribute's planned elements against the config's: same elements (list positions,
/// map keys), each checked like an object. Set elements cannot be matched and are not checked.
fn check_nested(
    nesting: Nesting,
    block: &Block,
    config: &Value,
    prior: &Value,
    planned: &Value,
    path: &AttrPath,
    diags: &mut Diagnostics,
) {
    match nesting {
        Nesting::Single => check_planned(block, config, prior, planned, path, diags),
        Nesting::List => {
            let (c, p) = (config.elements(), planned.elements());
            if c.len() != p.len() {
                bug(
                    diags,
                    path,
                    format!("planned {} elements, config has {}", p.len(), c.len()),
                );
                return;
            }
            for (i, (ce, pe)) in c.iter().zip(p).enumerate() {
                let qe = prior.elements().get(i).unwrap_or(&Value::Null);
                check_planned(block, ce, qe, pe, &path.index(i), diags);
            }
        }
        Nesting::Map => {
            let (Some(c), Some(p)) = (config.as_map(), planned.as_map()) else {
                return;
            };
            if !c.keys().eq(p.keys()) {
                bug(
                    diags,
                    path,
                    "planned map keys differ from the config's".into(),
                );
                return;
            }
            for (k, ce) in c {
                let qe = prior
                    .as_map()
                    .and_then(|m| m.get(k))
                    .unwrap_or(&Value::Null);
                check_planned(block, ce, qe, &p[k], &path.key(k), diags);
            }
        }
        Nesting::Set => {}
    }
}

/// Every value known in the plan must come back identical after apply, and nothing may stay unknown.
pub fn check_applied(planned: &Value, new: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if !new.is_wholly_known() {
        bug(
            diags,
            path,
            "new state still contains unknown values".into(),
        );
        return;
    }
    match (planned, new) {
        (Value::Unknown, _) => {}
        (Value::Object(pm), Value::Object(nm)) => {
            for (k, pv) in pm {
                check_applied(pv, nm.get(k).unwrap_or(&Value::Null), &path.child(k), diags);
            }
        }
        // A map's keys are known in a plan; its elements may be unknown until apply.
        (Value::Map(pm), Value::Map(nm)) if pm.keys().eq(nm.keys()) => {
            for (k, pv) in pm {
                check_applied(pv, &nm[k], &path.key(k), diags);
            }
        }
        (Value::List(pl), Value::List(nl)) if pl.len() == nl.len() => {
            for (i, (pv, nv)) in pl.iter().zip(nl).enumerate() {
                check_applied(pv, nv, &path.index(i), diags);
            }
        }
        (Value::Set(pl), Value::Set(nl)) if !planned.is_wholly_known() => {
            if pl.len() != nl.len() {
                bug(
                    diags,
                    path,
                    format!(
                        "set had {} planned elements, {} after apply",
                        pl.len(),
                        nl.len()
                    ),
                );
            }
        }
        _ => {
            if planned != new {
                bug(
                    diags,
                    path,
                    format!("planned {planned:?}, but apply produced {new:?}"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn unknown_map_elements_may_become_known_but_keys_stay() {
        let planned = map(&[("a", Value::Unknown), ("b", Value::string("x"))]);
        let mut d = Diagnostics::new();
        let new = map(&[("a", Value::string("y")), ("b", Value::string("x"))]);
        check_applied(&planned, &new, &AttrPath::root(), &mut d);
        assert!(!d.has_errors(), "{d:?}");
        for bad in [
            map(&[("a", Value::string("y")), ("b", Value::string("changed"))]),
            map(&[("a", Value::string("y"))]),
        ] {
            let mut d = Diagnostics::new();
            check_applied(&planned, &bad, &AttrPath::root(), &mut d);
            assert!(d.has_errors(), "{bad:?}");
        }
    }
}
