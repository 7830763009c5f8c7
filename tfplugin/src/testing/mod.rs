//! An in-process test harness: drives a framework provider's RPCs the way Terraform core does,
//! without Terraform and without a built binary, and enforces the consistency rules Terraform
//! enforces (plugin-correctness.md §2–§5).
//!
//! Every call goes through the `tfplugin6.Provider` gRPC trait of [`FrameworkServer`] with values
//! encoded as msgpack `DynamicValue`s using the types from `GetProviderSchema`, exactly as core
//! sends them. What core computes itself, the harness computes too: the proposed new state
//! (`objchange.ProposedNew`), the re-plan at apply time, the "requires replace" decision, and the
//! checks behind "Provider produced invalid plan", "Provider produced inconsistent final plan" and
//! "Provider produced inconsistent result after apply". Such an error comes back as an error
//! [`Diagnostic`](crate::Diagnostic) whose `path` names the attribute.
//!
//! ```no_run
//! # async fn demo<P: tfplugin::framework::Provider>(provider: P) -> Result<(), tfplugin::Diagnostics> {
//! use tfplugin::testing::Harness;
//! use tfplugin::Value;
//! let h = Harness::new(provider).await;
//! h.configure(Value::object([("endpoint", Value::string("http://localhost"))])).await?;
//! let created = h.create("demo_widget", &Value::object([("name", Value::string("a"))])).await?;
//! let id = created.new_state.get_str("id").unwrap().to_string();
//! let updated = h.step("demo_widget", Some(&created), &Value::object([("name", Value::string("b"))])).await?;
//! assert_eq!(h.import("demo_widget", &id).await?[0].get("name"), updated.new_state.get("name"));
//! h.destroy("demo_widget", &updated.new_state, &updated.private).await?;
//! # Ok(()) }
//! ```
//!
//! Not covered: resource identity, nested attributes' inner computed values (`nested_type` attributes are
//! compared as whole values), create-before-destroy, ephemeral resources, functions.

mod objchange;
mod schema;

use std::collections::HashMap;

use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as Rpc;
use tonic::Request;

use crate::codec::{decode_json, decode_msgpack, encode_json, encode_msgpack};
use crate::diag::{AttrPath, Diagnostic, Diagnostics, Severity, Step};
use crate::framework::{FrameworkServer, Provider};
use crate::value::Value;

use objchange::Errs;
use schema::TfSchema;

/// What Terraform will do with a resource instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Destroy, then create (a `requires_replace` path changed).
    Replace,
    Delete,
}

/// The outcome of [`Harness::plan`]: what `terraform plan` would show and save.
#[derive(Clone, Debug)]
pub struct Planned {
    pub action: Action,
    /// The planned new object (null for Delete); unknown values are "(known after apply)". For a
    /// Replace this is the plan for the new object (core re-plans it from a null prior).
    pub planned_state: Value,
    /// The provider's requires-replace paths that actually force replacement (value changed or unknown).
    pub requires_replace: Vec<AttrPath>,
    pub planned_private: Vec<u8>,
    /// Warnings from validation and planning.
    pub diags: Diagnostics,
    prior_private: Vec<u8>,
}

/// The outcome of [`Harness::apply`] (and [`Harness::create`], [`Harness::step`]): what Terraform stores.
#[derive(Clone, Debug)]
pub struct Applied {
    /// The new state (null after a delete).
    pub new_state: Value,
    pub private: Vec<u8>,
    /// Warnings.
    pub diags: Diagnostics,
}

/// Drives a provider in-process as Terraform core would. See the [module docs](self).
pub struct Harness<P: Provider> {
    server: FrameworkServer<P>,
    name: String,
    schema_response: pb::get_provider_schema::Response,
    provider_schema: TfSchema,
    resources: HashMap<String, TfSchema>,
    data_sources: HashMap<String, TfSchema>,
}

fn caps() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

fn error(
    summary: impl Into<String>,
    detail: impl Into<String>,
    path: Option<AttrPath>,
) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.push(Severity::Error, summary, detail, path);
    d
}

fn path_from_proto(p: &pb::AttributePath) -> AttrPath {
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

fn diags_from_proto(ds: &[pb::Diagnostic]) -> Diagnostics {
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
fn take(acc: &mut Diagnostics, ds: &[pb::Diagnostic]) -> Result<(), Diagnostics> {
    let d = diags_from_proto(ds);
    if d.has_errors() {
        let mut all = acc.clone();
        all.extend(d);
        return Err(all);
    }
    acc.extend(d);
    Ok(())
}

fn rpc_failed(rpc: &str, s: tonic::Status) -> Diagnostics {
    error(
        format!("Plugin error during {rpc}"),
        format!("The plugin returned an unexpected error from plugin.(*GRPCProvider).{rpc}: {s}"),
        None,
    )
}

fn check_deferred(rpc: &str, deferred: &Option<pb::Deferred>) -> Result<(), Diagnostics> {
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
fn errs_to_diags(
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

fn dotted(p: &AttrPath) -> String {
    if p.is_root() {
        "(root)".into()
    } else {
        format!(".{p}")
    }
}

const BUG: &str =
    "This is a bug in the provider, which should be reported in the provider's own issue tracker.";

/// True when the value at `path` exists in `v` (null counts as existing; a missing attribute does not).
fn path_exists(v: &Value, path: &AttrPath) -> bool {
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

fn value_at<'a>(v: &'a Value, path: &AttrPath) -> &'a Value {
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

fn has_write_only_value(b: &schema::Block, v: &Value, path: &AttrPath, out: &mut Vec<AttrPath>) {
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

/// What core's config decoder reports before any RPC: missing required arguments, values for
/// computed-only attributes, and block counts outside min/max items.
fn config_errors(b: &schema::Block, v: &Value, path: &AttrPath, d: &mut Diagnostics) {
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

impl<P: Provider> Harness<P> {
    /// Serves `provider` in-process and loads its schema (GetProviderSchema). Panics if Terraform
    /// would reject the schema; use [`Harness::try_new`] to inspect the error instead.
    pub async fn new(provider: P) -> Self {
        match Self::try_new(provider).await {
            Ok(h) => h,
            Err(d) => panic!("{}", show_diags(&d)),
        }
    }

    /// Like [`Harness::new`], returning the schema errors Terraform would report.
    pub async fn try_new(provider: P) -> Result<Self, Diagnostics> {
        let name = provider.type_name().to_string();
        let server = FrameworkServer::new(provider);
        let resp =
            Rpc::get_provider_schema(&server, Request::new(pb::get_provider_schema::Request {}))
                .await
                .map_err(|s| rpc_failed("GetProviderSchema", s))?
                .into_inner();
        take(&mut Diagnostics::new(), &resp.diagnostics)?;
        let mut errs = Vec::new();
        let mut load = |kind: &str, n: &str, s: &pb::Schema| {
            let mut e = Vec::new();
            let t = TfSchema::from_proto(s, &mut e);
            errs.extend(
                e.into_iter()
                    .map(|e| format!("provider {name:?} has invalid schema for {kind} {n:?}: {e}")),
            );
            t
        };
        let provider_schema = match &resp.provider {
            Some(s) => load("the provider", &name, s),
            None => load("the provider", &name, &pb::Schema::default()),
        };
        let resources = resp
            .resource_schemas
            .iter()
            .map(|(n, s)| (n.clone(), load("managed resource type", n, s)))
            .collect();
        let data_sources = resp
            .data_source_schemas
            .iter()
            .map(|(n, s)| (n.clone(), load("data source", n, s)))
            .collect();
        if !errs.is_empty() {
            return Err(error("Invalid provider schema", errs.join("\n"), None));
        }
        Ok(Harness {
            server,
            name,
            schema_response: resp,
            provider_schema,
            resources,
            data_sources,
        })
    }

    /// The server under test, for calling RPCs the harness does not wrap.
    pub fn server(&self) -> &FrameworkServer<P> {
        &self.server
    }

    /// The GetProviderSchema answer.
    pub fn schema(&self) -> &pb::get_provider_schema::Response {
        &self.schema_response
    }

    fn resource(&self, t: &str) -> Result<&TfSchema, Diagnostics> {
        self.resources.get(t).ok_or_else(|| {
            error(
                "Invalid resource type",
                format!(
                    "The provider {:?} does not support resource type {t:?}.",
                    self.name
                ),
                None,
            )
        })
    }

    fn data_source(&self, t: &str) -> Result<&TfSchema, Diagnostics> {
        self.data_sources.get(t).ok_or_else(|| {
            error(
                "Invalid data source",
                format!(
                    "The provider {:?} does not support data source {t:?}.",
                    self.name
                ),
                None,
            )
        })
    }

    fn encode(
        &self,
        s: &TfSchema,
        v: &Value,
        what: &str,
    ) -> Result<Option<pb::DynamicValue>, Diagnostics> {
        let v = s.block.complete(v);
        encode_msgpack(&v, &s.ty)
            .map(|msgpack| {
                Some(pb::DynamicValue {
                    msgpack,
                    json: vec![],
                })
            })
            .map_err(|e| {
                error(
                    "Invalid test value",
                    format!("The {what} does not match the schema: {e}"),
                    Some(e.path),
                )
            })
    }

    /// Decodes a provider's answer the way core does (msgpack if present, else JSON, else null).
    fn decode(
        &self,
        s: &TfSchema,
        dv: &Option<pb::DynamicValue>,
        rpc: &str,
        type_name: &str,
    ) -> Result<Value, Diagnostics> {
        let Some(dv) = dv else { return Ok(Value::Null) };
        let r = if !dv.msgpack.is_empty() {
            decode_msgpack(&dv.msgpack, &s.ty)
        } else if !dv.json.is_empty() {
            decode_json(&dv.json, &s.ty)
        } else {
            return Ok(Value::Null);
        };
        r.map_err(|e| {
            error(
                "Provider produced invalid object",
                format!("Provider {:?} produced an invalid value for {type_name} in {rpc}: {e}.\n\n{BUG}", self.name),
                Some(e.path),
            )
        })
    }

    /// A test value as Terraform would hold it: completed to the schema and round-tripped through msgpack.
    fn normalize(
        &self,
        s: &TfSchema,
        v: &Value,
        what: &str,
        t: &str,
    ) -> Result<Value, Diagnostics> {
        let dv = self.encode(s, v, what)?;
        self.decode(s, &dv, what, t)
    }

    /// ValidateProviderConfig, then ConfigureProvider (what every Terraform run starts with).
    pub async fn configure(&self, config: Value) -> Result<(), Diagnostics> {
        let s = &self.provider_schema;
        let dv = self.encode(s, &config, "provider configuration")?;
        let mut acc = Diagnostics::new();
        config_errors(
            &s.block,
            &s.block.complete(&config),
            &AttrPath::root(),
            &mut acc,
        );
        if acc.has_errors() {
            return Err(acc);
        }
        let v = Rpc::validate_provider_config(
            &self.server,
            Request::new(pb::validate_provider_config::Request { config: dv.clone() }),
        )
        .await
        .map_err(|e| rpc_failed("ValidateProviderConfig", e))?
        .into_inner();
        take(&mut acc, &v.diagnostics)?;
        let c = Rpc::configure_provider(
            &self.server,
            Request::new(pb::configure_provider::Request {
                terraform_version: "1.15.0".into(),
                config: dv,
                client_capabilities: caps(),
            }),
        )
        .await
        .map_err(|e| rpc_failed("ConfigureProvider", e))?
        .into_inner();
        take(&mut acc, &c.diagnostics)?;
        Ok(())
    }

    /// ValidateResourceConfig (config may contain unknowns). Returns all diagnostics.
    pub async fn validate_resource(&self, type_name: &str, config: &Value) -> Diagnostics {
        let s = match self.resource(type_name) {
            Ok(s) => s,
            Err(d) => return d,
        };
        let dv = match self.encode(s, config, "configuration") {
            Ok(dv) => dv,
            Err(d) => return d,
        };
        let mut pre = Diagnostics::new();
        config_errors(
            &s.block,
            &s.block.complete(config),
            &AttrPath::root(),
            &mut pre,
        );
        if pre.has_errors() {
            return pre;
        }
        match Rpc::validate_resource_config(
            &self.server,
            Request::new(pb::validate_resource_config::Request {
                type_name: type_name.into(),
                config: dv,
                client_capabilities: caps(),
            }),
        )
        .await
        {
            Ok(r) => diags_from_proto(&r.into_inner().diagnostics),
            Err(e) => rpc_failed("ValidateResourceConfig", e),
        }
    }

    /// One PlanResourceChange with the proposed new state computed from prior and config, checked
    /// like core checks it. Returns (planned, requires_replace, planned_private).
    async fn plan_rpc(
        &self,
        type_name: &str,
        s: &TfSchema,
        prior: &Value,
        prior_private: &[u8],
        config: &Value,
        acc: &mut Diagnostics,
    ) -> Result<(Value, Vec<AttrPath>, Vec<u8>), Diagnostics> {
        // A destroy (null config) is proposed as null; otherwise core's ProposedNew.
        let proposed = if config.is_null() {
            Value::Null
        } else {
            objchange::proposed_new(&s.block, prior, config)
        };
        let r = Rpc::plan_resource_change(
            &self.server,
            Request::new(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: self.encode(s, prior, "prior state")?,
                proposed_new_state: self.encode(s, &proposed, "proposed new state")?,
                config: self.encode(s, config, "configuration")?,
                prior_private: prior_private.to_vec(),
                client_capabilities: caps(),
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| rpc_failed("PlanResourceChange", e))?
        .into_inner();
        take(acc, &r.diagnostics)?;
        check_deferred("PlanResourceChange", &r.deferred)?;
        if r.legacy_type_system {
            return Err(error(
                "Legacy type system",
                "The provider set legacy_type_system, which turns Terraform's plan checks into warnings. Framework providers must not.",
                None,
            ));
        }
        let planned = self.decode(s, &r.planned_state, "PlanResourceChange", type_name)?;
        let invalid = |detail: String, path: Option<AttrPath>| {
            error("Provider produced invalid plan", detail, path)
        };
        match (config.is_null(), planned.is_null()) {
            (true, false) => {
                return Err(invalid(
                    format!(
                        "Provider {:?} planned an invalid value for {type_name}: planned for existence but config wants absence.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            (false, true) => {
                return Err(invalid(
                    format!(
                        "Provider {:?} planned an invalid value for {type_name}: planned for absence but config wants existence.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            (false, false) => {
                let mut errs = Errs::new();
                objchange::plan_valid(
                    &s.block,
                    prior,
                    config,
                    &planned,
                    &AttrPath::root(),
                    &mut errs,
                );
                errs_to_diags(
                    "Provider produced invalid plan",
                    |p, m| {
                        format!(
                            "Provider {:?} planned an invalid value for {type_name}{}: {m}.\n\n{BUG}",
                            self.name,
                            dotted(p)
                        )
                    },
                    errs,
                )?;
                let mut wo = Vec::new();
                has_write_only_value(&s.block, &planned, &AttrPath::root(), &mut wo);
                if let Some(p) = wo.into_iter().next() {
                    return Err(invalid(
                        format!(
                            "Provider {:?} returned a value for the write-only attribute {type_name}{}. Write-only attributes cannot be read back from the provider.\n\n{BUG}",
                            self.name,
                            dotted(&p)
                        ),
                        Some(p),
                    ));
                }
            }
            (true, true) => {}
        }
        let rr: Vec<AttrPath> = r.requires_replace.iter().map(path_from_proto).collect();
        Ok((planned, rr, r.planned_private))
    }

    /// `terraform plan` for one resource instance: ValidateResourceConfig, PlanResourceChange with
    /// core's proposed new state, the plan checks, and (when a requires-replace path changed) the
    /// second PlanResourceChange from a null prior that core makes to plan the replacement. A null
    /// `config` plans a destroy. `prior` null (with empty `prior_private`) plans a create.
    pub async fn plan(
        &self,
        type_name: &str,
        prior: &Value,
        prior_private: &[u8],
        config: &Value,
    ) -> Result<Planned, Diagnostics> {
        let s = self.resource(type_name)?;
        let mut acc = Diagnostics::new();
        if !config.is_null() {
            let v = self.validate_resource(type_name, config).await;
            if v.has_errors() {
                return Err(v);
            }
            acc.extend(v);
        }
        let prior = self.normalize(s, prior, "prior state", type_name)?;
        let config = self.normalize(s, config, "configuration", type_name)?;
        if !prior.is_wholly_known() {
            return Err(error(
                "Invalid test value",
                "A prior state cannot contain unknown values.",
                None,
            ));
        }
        let (planned, rr, planned_private) = self
            .plan_rpc(type_name, s, &prior, prior_private, &config, &mut acc)
            .await?;
        let mut out = Planned {
            action: Action::NoOp,
            planned_state: planned,
            requires_replace: Vec::new(),
            planned_private,
            diags: Diagnostics::new(),
            prior_private: prior_private.to_vec(),
        };
        if config.is_null() {
            out.action = if prior.is_null() {
                Action::NoOp
            } else {
                Action::Delete
            };
            out.diags = acc;
            return Ok(out);
        }
        if prior.is_null() {
            out.action = Action::Create;
            out.diags = acc;
            return Ok(out);
        }
        for p in rr {
            if !path_exists(&prior, &p) && !path_exists(&out.planned_state, &p) {
                return Err(error(
                    "Provider produced invalid plan",
                    format!(
                        "Provider {:?} has indicated \"requires replacement\" on {type_name}{} for a non-existent attribute path.\n\n{BUG}",
                        self.name,
                        dotted(&p)
                    ),
                    Some(p),
                ));
            }
            let (a, b) = (value_at(&prior, &p), value_at(&out.planned_state, &p));
            if (a != b || !b.is_wholly_known()) && !out.requires_replace.contains(&p) {
                out.requires_replace.push(p);
            }
        }
        if !out.requires_replace.is_empty() {
            // Core plans the new object again, from nothing.
            let (planned, _, private) = self
                .plan_rpc(
                    type_name,
                    s,
                    &Value::Null,
                    &out.planned_private,
                    &config,
                    &mut acc,
                )
                .await?;
            out.action = Action::Replace;
            out.planned_state = planned;
            out.planned_private = private;
        } else if out.planned_state == prior {
            out.action = Action::NoOp;
        } else {
            out.action = Action::Update;
        }
        out.diags = acc;
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_rpc(
        &self,
        type_name: &str,
        s: &TfSchema,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &[u8],
        acc: &mut Diagnostics,
    ) -> Result<Applied, Diagnostics> {
        let r = Rpc::apply_resource_change(
            &self.server,
            Request::new(pb::apply_resource_change::Request {
                type_name: type_name.into(),
                prior_state: self.encode(s, prior, "prior state")?,
                planned_state: self.encode(s, planned, "planned state")?,
                config: self.encode(s, config, "configuration")?,
                planned_private: private.to_vec(),
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| rpc_failed("ApplyResourceChange", e))?
        .into_inner();
        take(acc, &r.diagnostics)?;
        let new = self.decode(s, &r.new_state, "ApplyResourceChange", type_name)?;
        let bad = |d: String, p: Option<AttrPath>| {
            error("Provider produced inconsistent result after apply", d, p)
        };
        if planned.is_null() {
            if !new.is_null() {
                return Err(error(
                    "Provider returned invalid result object after apply",
                    format!(
                        "After applying a destroy plan, provider {:?} returned a non-null object for {type_name}. Destroying should always produce a null value.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
        } else {
            if new.is_null() {
                return Err(bad(
                    format!(
                        "When applying changes to {type_name}, provider {:?} produced an unexpected new value: Root object was present, but now absent.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            if !new.is_wholly_known() {
                return Err(error(
                    "Provider returned invalid result object after apply",
                    format!(
                        "After the apply operation, the provider {:?} still indicated an unknown value for {type_name}. All values must be known after apply.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            let mut wo = Vec::new();
            has_write_only_value(&s.block, &new, &AttrPath::root(), &mut wo);
            if let Some(p) = wo.into_iter().next() {
                return Err(bad(
                    format!(
                        "Provider {:?} returned a value for the write-only attribute {type_name}{} after apply.\n\n{BUG}",
                        self.name,
                        dotted(&p)
                    ),
                    Some(p),
                ));
            }
            let mut errs = Errs::new();
            objchange::compatible(&s.block, planned, &new, &AttrPath::root(), &mut errs);
            errs_to_diags(
                "Provider produced inconsistent result after apply",
                |p, m| {
                    format!(
                        "When applying changes to {type_name}, provider {:?} produced an unexpected new value: {}: {m}.\n\n{BUG}",
                        self.name,
                        dotted(p)
                    )
                },
                errs,
            )?;
        }
        Ok(Applied {
            new_state: new,
            private: r.private,
            diags: acc.clone(),
        })
    }

    /// Create or update: the apply-time re-plan (checked against the approved plan), then ApplyResourceChange.
    #[allow(clippy::too_many_arguments)]
    async fn apply_change(
        &self,
        type_name: &str,
        s: &TfSchema,
        prior: &Value,
        prior_private: &[u8],
        approved: &Value,
        config: &Value,
        acc: &mut Diagnostics,
    ) -> Result<Applied, Diagnostics> {
        let (final_plan, _, private) = self
            .plan_rpc(type_name, s, prior, prior_private, config, acc)
            .await?;
        let mut errs = Errs::new();
        objchange::compatible(
            &s.block,
            approved,
            &final_plan,
            &AttrPath::root(),
            &mut errs,
        );
        errs_to_diags(
            "Provider produced inconsistent final plan",
            |p, m| {
                format!(
                    "When expanding the plan for {type_name} to include new values learned so far during apply, provider {:?} produced an invalid new value for {}: {m}.\n\n{BUG}",
                    self.name,
                    dotted(p)
                )
            },
            errs,
        )?;
        self.apply_rpc(type_name, s, prior, &final_plan, config, &private, acc)
            .await
    }

    /// `terraform apply` of a saved plan: the apply-time PlanResourceChange (which must agree with
    /// every value known in `planned`), then ApplyResourceChange, whose new state must keep every
    /// planned known value. A Replace destroys the prior object first. A NoOp returns the prior state.
    pub async fn apply(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Planned,
        config: &Value,
    ) -> Result<Applied, Diagnostics> {
        let s = self.resource(type_name)?;
        let prior = self.normalize(s, prior, "prior state", type_name)?;
        let config = self.normalize(s, config, "configuration", type_name)?;
        let mut acc = planned.diags.clone();
        match planned.action {
            Action::NoOp => Ok(Applied {
                new_state: prior,
                private: planned.prior_private.clone(),
                diags: acc,
            }),
            Action::Delete => {
                self.apply_rpc(
                    type_name,
                    s,
                    &prior,
                    &Value::Null,
                    &Value::Null,
                    &planned.planned_private,
                    &mut acc,
                )
                .await
            }
            Action::Create | Action::Update => {
                self.apply_change(
                    type_name,
                    s,
                    &prior,
                    &planned.prior_private,
                    &planned.planned_state,
                    &config,
                    &mut acc,
                )
                .await
            }
            Action::Replace => {
                let (destroy_plan, _, destroy_private) = self
                    .plan_rpc(
                        type_name,
                        s,
                        &prior,
                        &planned.prior_private,
                        &Value::Null,
                        &mut acc,
                    )
                    .await?;
                self.apply_rpc(
                    type_name,
                    s,
                    &prior,
                    &destroy_plan,
                    &Value::Null,
                    &destroy_private,
                    &mut acc,
                )
                .await?;
                self.apply_change(
                    type_name,
                    s,
                    &Value::Null,
                    &planned.planned_private,
                    &planned.planned_state,
                    &config,
                    &mut acc,
                )
                .await
            }
        }
    }

    /// Plan from nothing and apply: the common "create this" case.
    pub async fn create(&self, type_name: &str, config: &Value) -> Result<Applied, Diagnostics> {
        let planned = self.plan(type_name, &Value::Null, &[], config).await?;
        self.apply(type_name, &Value::Null, &planned, config).await
    }

    /// One terraform-plugin-testing config step: plan and apply `config` over `prior` (None to
    /// create), then require an empty plan without refresh and again after a refresh
    /// (UpgradeResourceState + ReadResource). Returns the refreshed state.
    pub async fn step(
        &self,
        type_name: &str,
        prior: Option<&Applied>,
        config: &Value,
    ) -> Result<Applied, Diagnostics> {
        let (pv, pp) = match prior {
            Some(a) => (a.new_state.clone(), a.private.clone()),
            None => (Value::Null, Vec::new()),
        };
        let planned = self.plan(type_name, &pv, &pp, config).await?;
        let applied = self.apply(type_name, &pv, &planned, config).await?;
        let not_empty = |which: &str, p: &Planned, state: &Value| {
            error(
                format!("After applying this test step, the {which} plan was not empty."),
                format!(
                    "{type_name}: planned action {:?}; changed: {}",
                    p.action,
                    objchange::changed_attrs(state, &p.planned_state).join(", ")
                ),
                None,
            )
        };
        let again = self
            .plan(type_name, &applied.new_state, &applied.private, config)
            .await?;
        if again.action != Action::NoOp {
            return Err(not_empty("non-refresh", &again, &applied.new_state));
        }
        let Some((state, private)) = self
            .read_with_private(type_name, &applied.new_state, &applied.private)
            .await?
        else {
            return Err(error(
                "Resource vanished after apply",
                format!("{type_name}: ReadResource returned null right after apply."),
                None,
            ));
        };
        let again = self.plan(type_name, &state, &private, config).await?;
        if again.action != Action::NoOp {
            return Err(not_empty("refresh", &again, &state));
        }
        Ok(Applied {
            new_state: state,
            private,
            diags: applied.diags,
        })
    }

    /// `terraform destroy` of one instance: PlanResourceChange with null config, then ApplyResourceChange.
    pub async fn destroy(
        &self,
        type_name: &str,
        prior: &Value,
        private: &[u8],
    ) -> Result<(), Diagnostics> {
        let planned = self.plan(type_name, prior, private, &Value::Null).await?;
        self.apply(type_name, prior, &planned, &Value::Null)
            .await
            .map(|_| ())
    }

    /// UpgradeResourceState with the state's JSON (as stored in a state file at schema `version`).
    pub async fn upgrade(
        &self,
        type_name: &str,
        version: i64,
        raw_json: &[u8],
    ) -> Result<Value, Diagnostics> {
        let s = self.resource(type_name)?;
        let r = Rpc::upgrade_resource_state(
            &self.server,
            Request::new(pb::upgrade_resource_state::Request {
                type_name: type_name.into(),
                version,
                raw_state: Some(pb::RawState {
                    json: raw_json.to_vec(),
                    flatmap: Default::default(),
                }),
            }),
        )
        .await
        .map_err(|e| rpc_failed("UpgradeResourceState", e))?
        .into_inner();
        take(&mut Diagnostics::new(), &r.diagnostics)?;
        let v = self.decode(s, &r.upgraded_state, "UpgradeResourceState", type_name)?;
        if !v.is_wholly_known() {
            return Err(error(
                "Provider produced invalid object",
                format!(
                    "Provider {:?} returned unknown values from UpgradeResourceState for {type_name}.\n\n{BUG}",
                    self.name
                ),
                None,
            ));
        }
        Ok(v)
    }

    /// A refresh: UpgradeResourceState (core calls it every run), then ReadResource. None when the
    /// provider says the object is gone.
    pub async fn read(
        &self,
        type_name: &str,
        state: &Value,
        private: &[u8],
    ) -> Result<Option<Value>, Diagnostics> {
        Ok(self
            .read_with_private(type_name, state, private)
            .await?
            .map(|(v, _)| v))
    }

    /// [`Harness::read`], also returning the private data Terraform would store.
    pub async fn read_with_private(
        &self,
        type_name: &str,
        state: &Value,
        private: &[u8],
    ) -> Result<Option<(Value, Vec<u8>)>, Diagnostics> {
        let s = self.resource(type_name)?;
        let state = self.normalize(s, state, "state", type_name)?;
        let json = encode_json(&state, &s.ty)
            .map_err(|e| error("Invalid test value", e.to_string(), Some(e.path)))?;
        let upgraded = self.upgrade(type_name, s.version, &json).await?;
        self.read_rpc(type_name, s, &upgraded, private).await
    }

    async fn read_rpc(
        &self,
        type_name: &str,
        s: &TfSchema,
        state: &Value,
        private: &[u8],
    ) -> Result<Option<(Value, Vec<u8>)>, Diagnostics> {
        let r = Rpc::read_resource(
            &self.server,
            Request::new(pb::read_resource::Request {
                type_name: type_name.into(),
                current_state: self.encode(s, state, "state")?,
                private: private.to_vec(),
                client_capabilities: caps(),
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| rpc_failed("ReadResource", e))?
        .into_inner();
        take(&mut Diagnostics::new(), &r.diagnostics)?;
        check_deferred("ReadResource", &r.deferred)?;
        let v = self.decode(s, &r.new_state, "ReadResource", type_name)?;
        if v.is_null() {
            return Ok(None);
        }
        if !v.is_wholly_known() {
            return Err(error(
                "Provider produced invalid object",
                format!(
                    "Provider {:?} planned an invalid value for {type_name} during refresh: The returned state contains unknown values.\n\n{BUG}",
                    self.name
                ),
                None,
            ));
        }
        let mut wo = Vec::new();
        has_write_only_value(&s.block, &v, &AttrPath::root(), &mut wo);
        if let Some(p) = wo.into_iter().next() {
            return Err(error(
                "Provider produced invalid object",
                format!(
                    "Provider {:?} returned a value for the write-only attribute {type_name}{} during refresh.\n\n{BUG}",
                    self.name,
                    dotted(&p)
                ),
                Some(p),
            ));
        }
        Ok(Some((v, r.private)))
    }

    /// `terraform import`: ImportResourceState, then ReadResource on each imported object.
    pub async fn import(&self, type_name: &str, id: &str) -> Result<Vec<Value>, Diagnostics> {
        self.resource(type_name)?;
        let r = Rpc::import_resource_state(
            &self.server,
            Request::new(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: id.into(),
                client_capabilities: caps(),
                identity: None,
            }),
        )
        .await
        .map_err(|e| rpc_failed("ImportResourceState", e))?
        .into_inner();
        take(&mut Diagnostics::new(), &r.diagnostics)?;
        check_deferred("ImportResourceState", &r.deferred)?;
        if r.imported_resources.is_empty() {
            return Err(error(
                "Import returned no resources",
                format!(
                    "While attempting to import with ID {id}, the provider returned no instance states."
                ),
                None,
            ));
        }
        let mut out = Vec::new();
        for ir in &r.imported_resources {
            if ir.type_name.is_empty() {
                return Err(error(
                    "Invalid import result",
                    format!("import of {type_name} didn't set type"),
                    None,
                ));
            }
            let s = self.resource(&ir.type_name)?;
            let v = self.decode(s, &ir.state, "ImportResourceState", &ir.type_name)?;
            if !v.is_wholly_known() {
                return Err(error(
                    "Provider produced invalid object",
                    format!(
                        "Provider {:?} returned unknown values from ImportResourceState.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            match self.read_rpc(&ir.type_name, s, &v, &ir.private).await? {
                Some((v, _)) => out.push(v),
                None => {
                    return Err(error(
                        "Cannot import non-existent remote object",
                        format!(
                            "While attempting to import an existing object to {type_name}, the provider detected that no object exists with the given id. Only pre-existing objects can be imported; check that the id is correct and that it is associated with the provider's configured region or endpoint, or use \"terraform apply\" to create a new remote object for this resource."
                        ),
                        None,
                    ));
                }
            }
        }
        Ok(out)
    }

    /// ValidateDataResourceConfig, then ReadDataSource (the config must be fully known, as core
    /// only reads during plan when it is). The result must be non-null and fully known.
    pub async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, Diagnostics> {
        let s = self.data_source(type_name)?;
        let dv = self.encode(s, config, "configuration")?;
        let mut pre = Diagnostics::new();
        config_errors(
            &s.block,
            &s.block.complete(config),
            &AttrPath::root(),
            &mut pre,
        );
        if pre.has_errors() {
            return Err(pre);
        }
        let v = Rpc::validate_data_resource_config(
            &self.server,
            Request::new(pb::validate_data_resource_config::Request {
                type_name: type_name.into(),
                config: dv.clone(),
            }),
        )
        .await
        .map_err(|e| rpc_failed("ValidateDataResourceConfig", e))?
        .into_inner();
        let mut acc = Diagnostics::new();
        take(&mut acc, &v.diagnostics)?;
        let r = Rpc::read_data_source(
            &self.server,
            Request::new(pb::read_data_source::Request {
                type_name: type_name.into(),
                config: dv,
                provider_meta: None,
                client_capabilities: caps(),
            }),
        )
        .await
        .map_err(|e| rpc_failed("ReadDataSource", e))?
        .into_inner();
        take(&mut acc, &r.diagnostics)?;
        check_deferred("ReadDataSource", &r.deferred)?;
        let v = self.decode(s, &r.state, "ReadDataSource", type_name)?;
        if v.is_null() {
            return Err(error(
                "Provider produced null object",
                format!(
                    "Provider {:?} produced a null value for data.{type_name}.\n\n{BUG}",
                    self.name
                ),
                None,
            ));
        }
        if !v.is_wholly_known() {
            return Err(error(
                "Provider produced invalid object",
                format!(
                    "Provider {:?} produced a value for data.{type_name} that is not wholly known.\n\n{BUG}",
                    self.name
                ),
                None,
            ));
        }
        Ok(v)
    }
}

/// Diagnostics as readable text, for panics and assertion messages.
pub fn show_diags(d: &Diagnostics) -> String {
    d.0.iter()
        .map(|x| {
            let sev = if x.severity == Severity::Error {
                "Error"
            } else {
                "Warning"
            };
            match &x.path {
                Some(p) if !p.is_root() => format!("{sev}: {} (at {p})\n  {}", x.summary, x.detail),
                _ => format!("{sev}: {}\n  {}", x.summary, x.detail),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
