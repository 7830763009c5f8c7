//! Attribute plan modifiers: small pieces of plan logic declared on an attribute, run by the
//! framework after defaults and unknown-marking, in the order they were declared (as
//! terraform-plugin-framework runs its `PlanModifiers`).

use crate::diag::{AttrPath, Diagnostics};
use crate::value::Value;

/// What a plan modifier sees: this attribute's config, prior and planned values, and the whole
/// prior and planned objects for modifiers that look at other attributes.
pub struct AttrPlanRequest<'a> {
    /// The attribute's path, with indexes and keys for attributes inside collections.
    pub path: &'a AttrPath,
    /// This attribute in the config (Null when unset).
    pub config: &'a Value,
    /// This attribute in the prior state (Null on create, and for a collection element that is new).
    pub prior: &'a Value,
    /// This attribute in the plan before this modifier ran (defaults applied, computed values
    /// unknown when the object changes, earlier modifiers applied).
    pub planned: &'a Value,
    /// The whole prior state (Null on create).
    pub prior_state: &'a Value,
    /// The whole planned object as the framework computed it, before any modifier ran (Null when
    /// no modifier of the schema says it `reads_planned_state`).
    pub planned_state: &'a Value,
}

impl AttrPlanRequest<'_> {
    /// True when the object is being created (there is no prior state).
    pub fn is_create(&self) -> bool {
        self.prior_state.is_null()
    }
}

/// What a plan modifier may change; `planned` starts as the request's `planned`.
pub struct AttrPlanResponse {
    pub planned: Value,
    pub requires_replace: bool,
    pub diags: Diagnostics,
}

pub trait PlanModifier: Send + Sync {
    fn modify(&self, req: &AttrPlanRequest<'_>, resp: &mut AttrPlanResponse);
    /// One sentence for documentation, e.g. "Changing this replaces the object."
    fn describe(&self) -> String;
    /// True for a modifier that replaces the object on any change (`RequiresReplace`): the
    /// framework then also replaces when elements holding the attribute are added or removed.
    fn is_requires_replace(&self) -> bool {
        false
    }
    /// Whether `modify` reads `planned_state` (the whole planned object): plans snapshot the
    /// object only when some modifier does.
    fn reads_planned_state(&self) -> bool {
        true
    }
}

/// A change of this attribute destroys and re-creates the object. A computed value the config
/// leaves unset that is only unknown ("known after apply") does not count as a change.
///
/// Inside a list or map of objects (nested attributes or blocks) elements are matched by index
/// or key; an element that is new has a null prior, so adding it also replaces the object, and
/// adding or removing elements replaces it through the container's path. Inside sets, any change
/// of the set replaces the object.
pub struct RequiresReplace;

impl PlanModifier for RequiresReplace {
    fn modify(&self, req: &AttrPlanRequest<'_>, resp: &mut AttrPlanResponse) {
        if changes(req, &resp.planned) {
            resp.requires_replace = true;
        }
    }
    fn describe(&self) -> String {
        "Changing this replaces the object.".into()
    }
    fn is_requires_replace(&self) -> bool {
        true
    }
    fn reads_planned_state(&self) -> bool {
        false
    }
}

/// Like [`RequiresReplace`], but only when `cond` holds for the change.
pub struct RequiresReplaceIf {
    pub cond: fn(&AttrPlanRequest<'_>) -> bool,
    /// One sentence for documentation, e.g. "Shrinking this replaces the object."
    pub description: &'static str,
}

impl PlanModifier for RequiresReplaceIf {
    fn modify(&self, req: &AttrPlanRequest<'_>, resp: &mut AttrPlanResponse) {
        if changes(req, &resp.planned) && (self.cond)(req) {
            resp.requires_replace = true;
        }
    }
    fn describe(&self) -> String {
        self.description.into()
    }
}

/// Whether an update changes the attribute in a way that could require replacement.
fn changes(req: &AttrPlanRequest<'_>, planned: &Value) -> bool {
    if req.prior_state.is_null() || planned == req.prior {
        return false;
    }
    // Unknown only because the framework marked an unset computed attribute: not a user change.
    !(planned.is_unknown() && req.config.is_null())
}

/// Plans the prior state's value instead of "known after apply" for a computed attribute the
/// config leaves unset (for values that never change once set, such as ids).
pub struct UseStateForUnknown;

impl PlanModifier for UseStateForUnknown {
    fn modify(&self, req: &AttrPlanRequest<'_>, resp: &mut AttrPlanResponse) {
        if req.prior.is_null() || !resp.planned.is_unknown() || req.config.is_unknown() {
            return;
        }
        resp.planned = req.prior.clone();
    }
    fn describe(&self) -> String {
        "Once set, the value does not change.".into()
    }
    fn reads_planned_state(&self) -> bool {
        false
    }
}
