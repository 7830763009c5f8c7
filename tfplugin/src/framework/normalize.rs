//! Keeping the values Terraform already has when new ones mean the same (declared semantics) and
//! reading back a service-filled default as null when the user left the attribute unset
//! (`Attribute::server_default`). Used by plan (against the prior state), read (against the prior
//! state) and apply (against the plan, which Terraform requires the new state to match).

use crate::diag::AttrPath;
use crate::schema::{Block, Nesting};
use crate::value::Value;

use super::walk::{children, each_element_mut, get_mut};

/// Where `new` holds a known, non-null value semantically equal to `old`'s (also known and
/// non-null), puts `old`'s value back. Lists match by index, maps by key; sets are skipped.
pub fn keep_equivalent(block: &Block, old: &Value, new: &mut Value) {
    keep_equivalent_where(block, old, new, &|_| true);
}

/// [`keep_equivalent`] for a plan: only semantics that hold in plans (`Semantics::in_plan`).
pub fn keep_equivalent_in_plan(block: &Block, old: &Value, new: &mut Value) {
    keep_equivalent_where(block, old, new, &|s| s.in_plan());
}

fn keep_equivalent_where(
    block: &Block,
    old: &Value,
    new: &mut Value,
    applies: &dyn Fn(&dyn crate::semantics::Semantics) -> bool,
) {
    if !matches!(new, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        let Some(sem) = &a.semantics else { continue };
        if !applies(sem.as_ref()) {
            continue;
        }
        let (o, n) = (old.get(&a.name), new.get(&a.name));
        if known(o) && known(n) && o != n && sem.equal(o, n) {
            new.set(&a.name, o.clone());
        }
    }
    for c in children(block) {
        if c.nesting == Nesting::Set {
            continue;
        }
        if let Some(nv) = get_mut(new, c.name) {
            each_element_mut(
                c.nesting,
                nv,
                &[old.get(c.name)],
                &AttrPath::root(),
                &mut |item, o, _| keep_equivalent_where(c.block, o[0], item, applies),
            );
        }
    }
}

/// Where `old` is null and `new` equals the attribute's `server_default` (under its semantics, if
/// any), makes `new` null: the service filled in its default for an attribute the user left unset.
pub fn null_server_defaults(block: &Block, old: &Value, new: &mut Value) {
    if !matches!(new, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        let Some(d) = &a.server_default else { continue };
        let n = new.get(&a.name);
        if old.get(&a.name).is_null() && known(n) && a.same_value(n, d) {
            new.set(&a.name, Value::Null);
        }
    }
    for c in children(block) {
        if c.nesting == Nesting::Set {
            continue;
        }
        if let Some(nv) = get_mut(new, c.name) {
            each_element_mut(
                c.nesting,
                nv,
                &[old.get(c.name)],
                &AttrPath::root(),
                &mut |item, o, _| null_server_defaults(c.block, o[0], item),
            );
        }
    }
}

/// What the framework does to the state `read` returns, given the prior state.
pub fn normalize_read(block: &Block, prior: &Value, new: &mut Value) {
    null_server_defaults(block, prior, new);
    keep_equivalent(block, prior, new);
}

/// What the framework does to the new state `create` or `update` returns, given the plan.
pub fn normalize_applied(block: &Block, planned: &Value, new: &mut Value) {
    null_server_defaults(block, planned, new);
    keep_equivalent(block, planned, new);
}

fn known(v: &Value) -> bool {
    !v.is_null() && !v.is_unknown()
}
