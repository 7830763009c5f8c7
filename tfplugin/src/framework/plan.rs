//! The framework's default plan, in terraform-plugin-framework's order: defaults for unset
//! attributes, write-only attributes nulled, requires-replace paths collected, and — only when
//! something changes — computed attributes the config leaves unset marked unknown unless their plan
//! modifier keeps the prior value.

use crate::diag::{AttrPath, Diagnostics};
use crate::schema::{Block, Nesting, PlanModifier, Schema};
use crate::value::Value;

use super::{PlanResponse, Private};

/// Computes the default plan for a create or update (`proposed` is Terraform's proposed new state).
pub fn plan_resource(
    schema: &Schema,
    config: &Value,
    proposed: &Value,
    prior: &Value,
    prior_private: &Private,
) -> PlanResponse {
    let mut planned = proposed.clone();
    apply_defaults(&schema.block, config, &mut planned);
    let mut requires_replace = Vec::new();
    if !prior.is_null() {
        collect_requires_replace(
            &schema.block,
            &planned,
            prior,
            &AttrPath::root(),
            &mut requires_replace,
        );
    }
    if prior.is_null() || planned != *prior {
        mark_unknown(&schema.block, config, &mut planned, prior);
    }
    PlanResponse {
        planned,
        requires_replace,
        private: prior_private.clone(),
        diags: Diagnostics::new(),
    }
}

fn apply_defaults(block: &Block, config: &Value, planned: &mut Value) {
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        if a.write_only {
            planned.set(&a.name, Value::Null);
        } else if let Some(d) = &a.default
            && config.get(&a.name).is_null()
        {
            planned.set(&a.name, d.clone());
        }
    }
    for b in &block.blocks {
        let cfg = config.get(&b.name).clone();
        let Some(m) = planned.as_map_mut() else {
            return;
        };
        let Some(pv) = m.get_mut(&b.name) else {
            continue;
        };
        match b.nesting {
            Nesting::Single => apply_defaults(&b.block, &cfg, pv),
            Nesting::List | Nesting::Set => {
                if let Value::List(items) | Value::Set(items) = pv {
                    for (i, item) in items.iter_mut().enumerate() {
                        // Set elements cannot be matched to config by position; their non-computed
                        // attributes equal the config anyway, so the element stands in for it.
                        let c = if b.nesting == Nesting::List {
                            cfg.elements().get(i).cloned().unwrap_or(Value::Null)
                        } else {
                            item.clone()
                        };
                        apply_defaults(&b.block, &c, item);
                    }
                }
            }
            Nesting::Map => {
                if let Value::Map(items) = pv {
                    for (k, item) in items.iter_mut() {
                        let c = cfg
                            .as_map()
                            .and_then(|m| m.get(k))
                            .cloned()
                            .unwrap_or(Value::Null);
                        apply_defaults(&b.block, &c, item);
                    }
                }
            }
        }
    }
}

fn block_has_replace(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.is_requires_replace())
        || block
            .blocks
            .iter()
            .any(|b| b.requires_replace || block_has_replace(&b.block))
}

fn collect_requires_replace(
    block: &Block,
    planned: &Value,
    prior: &Value,
    path: &AttrPath,
    out: &mut Vec<AttrPath>,
) {
    for a in &block.attributes {
        if a.is_requires_replace() && planned.get(&a.name) != prior.get(&a.name) {
            out.push(path.child(&a.name));
        }
    }
    for b in &block.blocks {
        let (p, q) = (planned.get(&b.name), prior.get(&b.name));
        if p == q {
            continue;
        }
        let bpath = path.child(&b.name);
        if b.requires_replace {
            out.push(bpath);
            continue;
        }
        match b.nesting {
            Nesting::Single => match (p.is_null(), q.is_null()) {
                (false, false) => collect_requires_replace(&b.block, p, q, &bpath, out),
                _ if block_has_replace(&b.block) => out.push(bpath),
                _ => {}
            },
            Nesting::List => {
                if p.elements().len() != q.elements().len() {
                    if block_has_replace(&b.block) {
                        out.push(bpath);
                    }
                } else {
                    for (i, (pe, qe)) in p.elements().iter().zip(q.elements()).enumerate() {
                        collect_requires_replace(&b.block, pe, qe, &bpath.index(i), out);
                    }
                }
            }
            Nesting::Set | Nesting::Map => {
                if block_has_replace(&b.block) {
                    out.push(bpath);
                }
            }
        }
    }
}

fn mark_unknown(block: &Block, config: &Value, planned: &mut Value, prior: &Value) {
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        if !a.computed || a.write_only || a.default.is_some() || !config.get(&a.name).is_null() {
            continue;
        }
        let keep = a
            .plan_modifiers
            .iter()
            .any(|m| matches!(m, PlanModifier::UseStateForUnknown))
            && !prior.get(&a.name).is_null();
        if keep {
            planned.set(&a.name, prior.get(&a.name).clone());
        } else {
            planned.set(&a.name, Value::Unknown);
        }
    }
    for b in &block.blocks {
        let cfg = config.get(&b.name).clone();
        let pri = prior.get(&b.name).clone();
        let Some(m) = planned.as_map_mut() else {
            return;
        };
        let Some(pv) = m.get_mut(&b.name) else {
            continue;
        };
        match b.nesting {
            Nesting::Single => mark_unknown(&b.block, &cfg, pv, &pri),
            Nesting::List => {
                if let Value::List(items) = pv {
                    for (i, item) in items.iter_mut().enumerate() {
                        let c = cfg.elements().get(i).cloned().unwrap_or(Value::Null);
                        let p = pri.elements().get(i).cloned().unwrap_or(Value::Null);
                        mark_unknown(&b.block, &c, item, &p);
                    }
                }
            }
            Nesting::Set | Nesting::Map => {}
        }
    }
}

/// A state object with every attribute null and every block empty, for imports and tests.
pub fn null_object(block: &Block) -> Value {
    let mut m = std::collections::BTreeMap::new();
    for a in &block.attributes {
        m.insert(a.name.clone(), Value::Null);
    }
    for b in &block.blocks {
        let v = match b.nesting {
            Nesting::Single => Value::Null,
            Nesting::List => Value::List(vec![]),
            Nesting::Set => Value::Set(vec![]),
            Nesting::Map => Value::Map(Default::default()),
        };
        m.insert(b.name.clone(), v);
    }
    Value::Object(m)
}

/// Nulls every write-only attribute, as Terraform requires of every state and plan.
pub fn null_write_only(block: &Block, v: &mut Value) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        if a.write_only {
            v.set(&a.name, Value::Null);
        }
    }
    for b in &block.blocks {
        let Some(m) = v.as_map_mut() else { return };
        let Some(bv) = m.get_mut(&b.name) else {
            continue;
        };
        match bv {
            Value::Object(_) => null_write_only(&b.block, bv),
            Value::List(items) | Value::Set(items) => {
                items.iter_mut().for_each(|i| null_write_only(&b.block, i))
            }
            Value::Map(items) => items
                .values_mut()
                .for_each(|i| null_write_only(&b.block, i)),
            _ => {}
        }
    }
}

/// Runs every attribute validator on known, non-null values, recursing into blocks.
pub fn validate_values(block: &Block, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for a in &block.attributes {
        let av = v.get(&a.name);
        if av.is_null() || av.is_unknown() {
            continue;
        }
        for val in &a.validators {
            val.validate(&path.child(&a.name), av, diags);
        }
    }
    for b in &block.blocks {
        let bv = v.get(&b.name);
        let bpath = path.child(&b.name);
        match bv {
            Value::Object(_) if b.nesting == Nesting::Single => {
                validate_values(&b.block, bv, &bpath, diags)
            }
            Value::List(items) | Value::Set(items) => {
                for (i, item) in items.iter().enumerate() {
                    validate_values(&b.block, item, &bpath.index(i), diags);
                }
            }
            Value::Map(items) => {
                for (k, item) in items {
                    validate_values(&b.block, item, &bpath.key(k), diags);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    fn schema() -> Schema {
        Schema::new(
            Block::new("t")
                .attr(Attribute::string("id").computed().use_state_for_unknown())
                .attr(Attribute::string("name").required().requires_replace())
                .attr(Attribute::string("state").computed())
                .attr(Attribute::number("size").optional())
                .attr(Attribute::string("mode").default(Value::string("spread")))
                .attr(Attribute::string("secret").optional().write_only())
                .block(NestedBlock::single(
                    "image",
                    Block::new("i").attr(Attribute::string("sku").required().requires_replace()),
                )),
        )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut v = null_object(&schema().block);
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let s = schema();
        let cfg = obj(&[
            ("name", Value::string("a")),
            ("secret", Value::string("pw")),
        ]);
        let r = plan_resource(&s, &cfg, &cfg, &Value::Null, &Private::new());
        assert!(r.planned.get("id").is_unknown());
        assert!(r.planned.get("state").is_unknown());
        assert_eq!(r.planned.get("mode"), &Value::string("spread"));
        assert!(r.planned.get("secret").is_null());
        assert!(r.requires_replace.is_empty());
    }

    #[test]
    fn no_change_keeps_everything_known() {
        let s = schema();
        let prior = obj(&[
            ("id", Value::string("a")),
            ("name", Value::string("a")),
            ("state", Value::string("active")),
            ("mode", Value::string("spread")),
        ]);
        let cfg = obj(&[("name", Value::string("a"))]);
        let r = plan_resource(&s, &cfg, &prior, &prior, &Private::new());
        assert_eq!(r.planned, prior);
    }

    #[test]
    fn update_marks_unknown_but_keeps_use_state() {
        let s = schema();
        let prior = obj(&[
            ("id", Value::string("a")),
            ("name", Value::string("a")),
            ("state", Value::string("active")),
            ("mode", Value::string("spread")),
        ]);
        let cfg = obj(&[("name", Value::string("a")), ("size", Value::int(3))]);
        let mut proposed = prior.clone();
        proposed.set("size", Value::int(3));
        let r = plan_resource(&s, &cfg, &proposed, &prior, &Private::new());
        assert_eq!(r.planned.get("id"), &Value::string("a"));
        assert!(r.planned.get("state").is_unknown());
        assert!(r.requires_replace.is_empty());
    }

    #[test]
    fn requires_replace_paths() {
        let s = schema();
        let img = |sku: &str| {
            let mut m = std::collections::BTreeMap::new();
            m.insert("sku".to_string(), Value::string(sku));
            Value::Object(m)
        };
        let prior = obj(&[
            ("id", Value::string("a")),
            ("name", Value::string("a")),
            ("mode", Value::string("spread")),
            ("image", img("1")),
        ]);
        let cfg = obj(&[("name", Value::string("b")), ("image", img("2"))]);
        let mut proposed = prior.clone();
        proposed.set("name", Value::string("b"));
        proposed.set("image", img("2"));
        let r = plan_resource(&s, &cfg, &proposed, &prior, &Private::new());
        let paths: Vec<String> = r.requires_replace.iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, vec!["name", "image.sku"]);
    }
}
