//! The framework's plan, in terraform-plugin-framework's order: defaults for unset attributes and
//! write-only attributes nulled; values semantically equal to the prior state kept as they were;
//! only when something changes, computed attributes the config leaves unset marked unknown; then
//! each attribute's plan modifiers in declaration order, collecting requires-replace paths. Nested
//! attributes and nested blocks are walked the same way (see `walk`).

use crate::diag::{AttrPath, Diagnostics};
use crate::schema::{AttrPlanRequest, AttrPlanResponse, Block, Nesting, Schema};
use crate::value::Value;

use super::normalize::keep_equivalent_in_plan;
use super::walk::{Child, children, each_element_mut, get_mut, has_no_elements, shape_differs};
use super::{PlanResponse, Private};

/// Computes the framework's plan for a create or update (`proposed` is Terraform's proposed new
/// state); the resource's `modify_plan` runs on the result.
pub fn plan_resource(
    schema: &Schema,
    config: &Value,
    proposed: &Value,
    prior: &Value,
    prior_private: &Private,
) -> PlanResponse {
    let mut planned = proposed.clone();
    apply_defaults(&schema.block, config, &mut planned);
    if !prior.is_null() {
        keep_equivalent_in_plan(&schema.block, prior, &mut planned);
    }
    if prior.is_null() || planned != *prior {
        mark_unknown(&schema.block, config, &mut planned, prior);
    }
    // The modifiers' view of the whole plan; a deep copy only when one of them reads it.
    let before = if schema.modifiers_read_planned_state() {
        planned.clone()
    } else {
        Value::Null
    };
    let mut m = Modify {
        prior_state: prior,
        planned_state: &before,
        requires_replace: Vec::new(),
        diags: Diagnostics::new(),
    };
    m.block(
        &schema.block,
        config,
        prior,
        &mut planned,
        &AttrPath::root(),
    );
    PlanResponse {
        planned,
        requires_replace: dedup(m.requires_replace),
        private: prior_private.clone(),
        diags: m.diags,
    }
}

/// Removes repeated paths, keeping the first of each.
pub(crate) fn dedup(paths: Vec<AttrPath>) -> Vec<AttrPath> {
    let mut out: Vec<AttrPath> = Vec::with_capacity(paths.len());
    for p in paths {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
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
    for c in children(block) {
        let Some(pv) = get_mut(planned, c.name) else {
            continue;
        };
        let set = c.nesting == Nesting::Set;
        each_element_mut(
            c.nesting,
            pv,
            &[config.get(c.name)],
            &AttrPath::root(),
            &mut |item, cfg, _| {
                // Set elements cannot be matched to config; their non-computed attributes equal
                // the config anyway, so the element stands in for it.
                if set {
                    let cfg = item.clone();
                    apply_defaults(c.block, &cfg, item);
                } else {
                    apply_defaults(c.block, cfg[0], item);
                }
            },
        );
    }
}

fn mark_unknown(block: &Block, config: &Value, planned: &mut Value, prior: &Value) {
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        if a.computed && !a.write_only && a.default.is_none() && config.get(&a.name).is_null() {
            planned.set(&a.name, Value::Unknown);
        }
    }
    for c in children(block) {
        if c.nesting == Nesting::Set {
            continue;
        }
        let Some(pv) = get_mut(planned, c.name) else {
            continue;
        };
        each_element_mut(
            c.nesting,
            pv,
            &[config.get(c.name), prior.get(c.name)],
            &AttrPath::root(),
            &mut |item, o, _| mark_unknown(c.block, o[0], item, o[1]),
        );
    }
}

/// True when any change inside the block replaces the object.
fn block_has_replace(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.is_requires_replace())
        || children(block).any(|c| c.replace || block_has_replace(c.block))
}

/// Runs attribute plan modifiers through the whole object.
struct Modify<'a> {
    prior_state: &'a Value,
    planned_state: &'a Value,
    requires_replace: Vec<AttrPath>,
    diags: Diagnostics,
}

impl Modify<'_> {
    fn block(
        &mut self,
        block: &Block,
        config: &Value,
        prior: &Value,
        planned: &mut Value,
        path: &AttrPath,
    ) {
        if !matches!(planned, Value::Object(_)) {
            return;
        }
        for a in block
            .attributes
            .iter()
            .filter(|a| !a.plan_modifiers.is_empty())
        {
            let ap = path.child(&a.name);
            let mut resp = AttrPlanResponse {
                planned: planned.get(&a.name).clone(),
                requires_replace: false,
                diags: Diagnostics::new(),
            };
            for m in &a.plan_modifiers {
                let current = resp.planned.clone();
                let req = AttrPlanRequest {
                    path: &ap,
                    config: config.get(&a.name),
                    prior: prior.get(&a.name),
                    planned: &current,
                    prior_state: self.prior_state,
                    planned_state: self.planned_state,
                };
                m.modify(&req, &mut resp);
            }
            planned.set(&a.name, resp.planned);
            if resp.requires_replace {
                self.requires_replace.push(ap);
            }
            self.diags.extend(resp.diags);
        }
        for c in children(block) {
            let Some(pv) = get_mut(planned, c.name) else {
                continue;
            };
            let prior_c = prior.get(c.name);
            // Nothing inside and nothing that could replace: skip without building paths.
            if has_no_elements(pv) && (self.prior_state.is_null() || *pv == *prior_c) {
                continue;
            }
            self.structural_replace(&c, pv, prior_c, &path.child(c.name));
            if c.nesting == Nesting::Set {
                continue;
            }
            each_element_mut(
                c.nesting,
                pv,
                &[config.get(c.name), prior.get(c.name)],
                &path.child(c.name),
                &mut |item, o, p| self.block(c.block, o[0], o[1], item, p),
            );
        }
    }

    /// Replacement a container forces as a whole: a `requires_replace` nested block that
    /// changes, or elements added or removed (or a set changed) when something inside replaces.
    fn structural_replace(
        &mut self,
        c: &Child<'_>,
        planned: &Value,
        prior: &Value,
        path: &AttrPath,
    ) {
        if self.prior_state.is_null() || planned == prior || planned.is_unknown() {
            return;
        }
        if c.replace || (shape_differs(c.nesting, planned, prior) && block_has_replace(c.block)) {
            self.requires_replace.push(path.clone());
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
    for c in children(block) {
        if let Some(cv) = get_mut(v, c.name) {
            each_element_mut(c.nesting, cv, &[], &AttrPath::root(), &mut |item, _, _| {
                null_write_only(c.block, item)
            });
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
