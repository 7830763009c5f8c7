//! Configuration checks the framework runs before the resource's own `validate`: attribute
//! validators and the blocks' declared rules on every instance of every block, and (for
//! Terraform before 1.11) refusal of write-only attributes.

use crate::diag::{AttrPath, Diagnostics};
use crate::schema::Block;
use crate::value::Value;

use super::walk::{children, each_element, has_no_elements};

/// Runs every attribute validator on known, non-null values and every declared rule on every
/// instance of each block, recursing into nested attributes and nested blocks.
pub fn validate_values(block: &Block, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        let av = v.get(&a.name);
        if a.validators.is_empty() || av.is_null() || av.is_unknown() {
            continue;
        }
        let p = path.child(&a.name);
        for val in &a.validators {
            val.validate(&p, av, diags);
        }
    }
    for r in &block.rules {
        r.check(v, path, diags);
    }
    for c in children(block) {
        let cv = v.get(c.name);
        if has_no_elements(cv) {
            continue;
        }
        each_element(c.nesting, cv, &path.child(c.name), &mut |item, p| {
            validate_values(c.block, item, p, diags)
        });
    }
}

/// Terraform before 1.11 does not understand write-only attributes; setting one there would
/// silently send nothing, so refuse it with advice instead.
pub(crate) fn check_no_write_only(
    block: &Block,
    v: &Value,
    path: &AttrPath,
    diags: &mut Diagnostics,
) {
    for a in &block.attributes {
        if a.write_only && !v.get(&a.name).is_null() {
            let p = path.child(&a.name);
            diags.attr_error(
                &p,
                "Write-only attribute not supported by this Terraform",
                format!("{p} is write-only, which needs Terraform 1.11 or later. Upgrade Terraform, or use the sensitive attribute instead."),
            );
        }
    }
    for c in children(block) {
        each_element(
            c.nesting,
            v.get(c.name),
            &path.child(c.name),
            &mut |item, p| check_no_write_only(c.block, item, p, diags),
        );
    }
}
