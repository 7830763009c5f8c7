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

mod change;
mod helpers;
mod objchange;
mod query;
mod schema;

use helpers::*;
pub use query::{Invoked, Listed};
/// What a client declares it supports (for [`Harness::with_client_capabilities`]).
pub use tfplugin_proto::tfplugin6::ClientCapabilities;

use std::collections::HashMap;

use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as Rpc;
use tonic::Request;

use crate::codec::{decode_json, decode_msgpack, encode_json, encode_msgpack};
use crate::diag::{AttrPath, Diagnostics, Severity};
use crate::framework::{FrameworkServer, Provider};
use crate::value::Value;

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
    pub(super) server: FrameworkServer<P>,
    pub(super) name: String,
    pub(super) schema_response: pb::get_provider_schema::Response,
    pub(super) provider_schema: TfSchema,
    pub(super) resources: HashMap<String, TfSchema>,
    pub(super) data_sources: HashMap<String, TfSchema>,
    /// What the client declares in every request (Terraform 1.11+: write-only attributes allowed).
    pub(super) caps: Option<pb::ClientCapabilities>,
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
            caps: caps(),
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
        core_config_check(&s.block, &config)?;
        let mut acc = Diagnostics::new();
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
                client_capabilities: self.caps,
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
        if let Err(d) = core_config_check(&s.block, config) {
            return d;
        }
        match Rpc::validate_resource_config(
            &self.server,
            Request::new(pb::validate_resource_config::Request {
                type_name: type_name.into(),
                config: dv,
                client_capabilities: self.caps,
            }),
        )
        .await
        {
            Ok(r) => diags_from_proto(&r.into_inner().diagnostics),
            Err(e) => rpc_failed("ValidateResourceConfig", e),
        }
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
                client_capabilities: self.caps,
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
        let all = self.import_with_private(type_name, id).await?;
        Ok(all.into_iter().map(|(v, _)| v).collect())
    }

    /// [`Harness::import`], also returning the private data Terraform would store with each object
    /// (what a plan after the import starts from).
    pub async fn import_with_private(
        &self,
        type_name: &str,
        id: &str,
    ) -> Result<Vec<(Value, Vec<u8>)>, Diagnostics> {
        self.resource(type_name)?;
        let r = Rpc::import_resource_state(
            &self.server,
            Request::new(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: id.into(),
                client_capabilities: self.caps,
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
                Some(read) => out.push(read),
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
        core_config_check(&s.block, config)?;
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
                client_capabilities: self.caps,
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
