//! Helpers of the harness: diagnostics to and from the protocol, paths, and the checks Terraform
//! makes when it decodes a configuration.

use tfplugin_proto::tfplugin6 as pb;

use crate::diag::{AttrPath, Diagnostic, Diagnostics, Severity, Step};
use crate::value::Value;

use super::objchange::Errs;
use super::schema;
pub(super) fn caps() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

pub(super) fn error(
    summary: impl Into<String>,
    detail: impl Into<String>,
    path: Option<AttrPath>,
) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.push(Severity::Error, summary, detail, path);
    d
}

pub(super) fn path_from_proto(p: &pb::AttributePath) -> AttrPath {
    use pb::attribute_path::step::Selector;
    AttrPath(
        p.steps
            .iter()
            .filter_map(|s| match s.selector.as_ref()? {
                Selector::AttributeName(a) => Some(Step::Attr(a.clone())),
                Selector::ElementKeyString(k) => Some(Step::Key(k.clone())),
                Selector::ElementKeyInt(i) => Some(Step::Index(*i)),
            })
            .collect(),
    )
}

pub(super) fn diags_from_proto(ds: &[pb::Diagnostic]) -> Diagnostics {
    Diagnostics(
        ds.iter()
            .map(|d| Diagnostic {
                severity: if d.severity == pb::diagnostic::Severity::Warning as i32 {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                summary: d.summary.clone(),
                detail: d.detail.clone(),
                path: d.attribute.as_ref().map(path_from_proto),
            })
            .collect(),
    )
}

/// Errors pass through as `Err`; warnings are kept in `acc`.
pub(super) fn take(acc: &mut Diagnostics, ds: &[pb::Diagnostic]) -> Result<(), Diagnostics> {
    let d = diags_from_proto(ds);
    if d.has_errors() {
        let mut all = acc.clone();
        all.extend(d);
        return Err(all);
    }
    acc.extend(d);
    Ok(())
}

pub(super) fn rpc_failed(rpc: &str, s: tonic::Status) -> Diagnostics {
    error(
        format!("Plugin error during {rpc}"),
        format!("The plugin returned an unexpected error from plugin.(*GRPCProvider).{rpc}: {s}"),
        None,
    )
}

pub(super) fn check_deferred(
    rpc: &str,
    deferred: &Option<pb::Deferred>,
) -> Result<(), Diagnostics> {
    match deferred {
        Some(_) => Err(error(
            "Provider deferred changes when Terraform did not allow deferrals",
            format!(
                "The provider signaled a deferred action in {rpc}, but this Terraform does not allow deferrals (deferral_allowed = false)."
            ),
            None,
        )),
        None => Ok(()),
    }
}

/// Turns (path, message) errors into one diagnostic each.
pub(super) fn errs_to_diags(
    summary: &str,
    detail: impl Fn(&AttrPath, &str) -> String,
    errs: Errs,
) -> Result<(), Diagnostics> {
    if errs.is_empty() {
        return Ok(());
    }
    let mut d = Diagnostics::new();
    for (p, m) in errs {
        d.push(Severity::Error, summary, detail(&p, &m), Some(p));
    }
    Err(d)
}

pub(super) fn dotted(p: &AttrPath) -> String {
    if p.is_root() {
        "(root)".into()
    } else {
        format!(".{p}")
    }
}

pub(super) const BUG: &str =
    "This is a bug in the provider, which should be reported in the provider's own issue tracker.";

/// True when the value at `path` exists in `v` (null counts as existing; a missing attribute does not).
pub(super) fn path_exists(v: &Value, path: &AttrPath) -> bool {
    let mut cur = v;
    for s in &path.0 {
        let next = match (s, cur) {
            (Step::Attr(a), Value::Object(m)) => m.get(a),
            (Step::Key(k), Value::Map(m)) => m.get(k),
            (Step::Index(i), Value::List(l) | Value::Tuple(l)) => {
                usize::try_from(*i).ok().and_then(|i| l.get(i))
            }
            (_, Value::Unknown | Value::Null) => return true,
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    true
}

pub(super) fn value_at<'a>(v: &'a Value, path: &AttrPath) -> &'a Value {
    static NULL: Value = Value::Null;
    let mut cur = v;
    for s in &path.0 {
        cur = match (s, cur) {
            (_, Value::Unknown) => return cur,
            (Step::Attr(a), _) | (Step::Key(a), _) => cur.get(a),
            (Step::Index(i), _) => usize::try_from(*i)
                .ok()
                .and_then(|i| cur.elements().get(i))
                .unwrap_or(&NULL),
        };
    }
    cur
}

pub(super) fn has_write_only_value(
    b: &schema::Block,
    v: &Value,
    path: &AttrPath,
    out: &mut Vec<AttrPath>,
) {
    for a in &b.attrs {
        if a.write_only && !v.get(&a.name).is_null() {
            out.push(path.child(&a.name));
        }
    }
    for nb in &b.blocks {
        let x = v.get(&nb.name);
        let bp = path.child(&nb.name);
        match x {
            Value::Object(_) => has_write_only_value(&nb.block, x, &bp, out),
            Value::List(i) | Value::Set(i) => i
                .iter()
                .enumerate()
                .for_each(|(n, e)| has_write_only_value(&nb.block, e, &bp.index(n), out)),
            Value::Map(m) => m
                .iter()
                .for_each(|(k, e)| has_write_only_value(&nb.block, e, &bp.key(k), out)),
            _ => {}
        }
    }
}

/// Core's checks of a configuration before any RPC (see [`config_errors`]), as a result.
pub(super) fn core_config_check(b: &schema::Block, config: &Value) -> Result<(), Diagnostics> {
    let mut d = Diagnostics::new();
    config_errors(b, &b.complete(config), &AttrPath::root(), &mut d);
    if d.has_errors() { Err(d) } else { Ok(()) }
}

/// What core's config decoder reports before any RPC: missing required arguments, values for
/// computed-only attributes, and block counts outside min/max items.
pub(super) fn config_errors(b: &schema::Block, v: &Value, path: &AttrPath, d: &mut Diagnostics) {
    if !matches!(v, Value::Object(_)) {
        return;
    }
    for a in &b.attrs {
        let x = v.get(&a.name);
        let p = path.child(&a.name);
        if a.required && x.is_null() {
            d.attr_error(
                &p,
                "Missing required argument",
                format!(
                    "The argument \"{}\" is required, but no definition was found.",
                    a.name
                ),
            );
        }
        if a.computed && !a.optional && !x.is_null() {
            d.attr_error(&p, "Invalid Configuration for Read-Only Attribute", format!("Cannot set value for this attribute as the provider has marked it as read-only. Remove the configuration line setting the value. ({p})"));
        }
    }
    for nb in &b.blocks {
        let x = v.get(&nb.name);
        let p = path.child(&nb.name);
        if x.is_unknown() {
            continue;
        }
        let items: Vec<&Value> = match x {
            Value::Object(_) => vec![x],
            Value::Map(m) => m.values().collect(),
            _ => x.elements().iter().collect(),
        };
        let n = items.len() as i64;
        if nb.min_items > 0 && n < nb.min_items {
            d.attr_error(
                &p,
                format!("Insufficient {} blocks", nb.name),
                format!(
                    "At least {} \"{}\" blocks are required.",
                    nb.min_items, nb.name
                ),
            );
        }
        if nb.max_items > 0 && n > nb.max_items {
            d.attr_error(
                &p,
                format!("Too many {} blocks", nb.name),
                format!(
                    "No more than {} \"{}\" blocks are allowed.",
                    nb.max_items, nb.name
                ),
            );
        }
        for (i, it) in items.into_iter().enumerate() {
            let ip = if matches!(x, Value::Object(_)) {
                p.clone()
            } else {
                p.index(i)
            };
            config_errors(&nb.block, it, &ip, d);
        }
    }
}
