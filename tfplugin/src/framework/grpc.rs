//! The tfplugin6 Provider service on top of the framework traits: decoding and encoding values with
//! the schema's type, routing by type name, default planning, panics turned into diagnostics.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

use futures::FutureExt;
use tfplugin_proto::tfplugin6 as pb;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::plan::{null_write_only, plan_resource, validate_values};
use super::{
    ApplyRequest, Ctx, DataSource, DeleteRequest, PlanRequest, Provider, ReadRequest, Resource,
    checks, decode_private, encode_private,
};
use crate::codec::{decode_json, decode_msgpack, encode_msgpack};
use crate::diag::{AttrPath, Diagnostics, Severity, Step};
use crate::schema::Schema;
use crate::value::Value;

type Res<T> = Result<Response<T>, Status>;

struct ResourceEntry<C> {
    imp: Arc<dyn Resource<C>>,
    schema: Schema,
    identity: Option<super::Identity>,
}

impl<C> ResourceEntry<C> {
    /// The identity data for a (non-null) state or plan, when the resource has an identity.
    fn identity_of(&self, v: &Value) -> Option<pb::ResourceIdentityData> {
        let id = self.identity.as_ref()?;
        if v.is_null() {
            return None;
        }
        let identity = id.of(v);
        // Terraform 1.15 cannot render a plan whose identity is partly unknown (`show -json`
        // fails with "value is not known"); a create whose name is not known yet plans none.
        if !identity.is_wholly_known() {
            return None;
        }
        let msgpack = encode_msgpack(&identity, &id.value_type()).ok()?;
        Some(pb::ResourceIdentityData {
            identity_data: Some(pb::DynamicValue {
                msgpack,
                json: Vec::new(),
            }),
        })
    }
}

struct DataSourceEntry<C> {
    imp: Arc<dyn DataSource<C>>,
    schema: Schema,
}

/// Serves a framework `Provider` as the tfplugin6 gRPC service.
pub struct FrameworkServer<P: Provider> {
    provider: Arc<P>,
    provider_schema: Schema,
    resources: HashMap<&'static str, ResourceEntry<P::Client>>,
    data_sources: HashMap<&'static str, DataSourceEntry<P::Client>>,
    client: RwLock<Option<Arc<P::Client>>>,
    cancel: CancellationToken,
}

impl<P: Provider> FrameworkServer<P> {
    pub fn new(provider: P) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                (
                    r.type_name(),
                    ResourceEntry {
                        schema: r.schema(),
                        identity: r.identity(),
                        imp: r,
                    },
                )
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                (
                    d.type_name(),
                    DataSourceEntry {
                        schema: d.schema(),
                        imp: d,
                    },
                )
            })
            .collect();
        FrameworkServer {
            provider_schema: provider.schema(),
            provider: Arc::new(provider),
            resources,
            data_sources,
            client: RwLock::new(None),
            cancel: CancellationToken::new(),
        }
    }

    /// The full `GetProviderSchema` answer; also used by the docs generator.
    pub fn schema_response(&self) -> pb::get_provider_schema::Response {
        pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, v)| (k.to_string(), v.schema.to_proto()))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, v)| (k.to_string(), v.schema.to_proto()))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }
    }

    fn resource(&self, name: &str) -> Result<&ResourceEntry<P::Client>, Diagnostics> {
        self.resources.get(name).ok_or_else(|| {
            one_error(
                "Unknown resource type",
                format!("This provider has no resource type {name:?}."),
            )
        })
    }

    fn data_source(&self, name: &str) -> Result<&DataSourceEntry<P::Client>, Diagnostics> {
        self.data_sources.get(name).ok_or_else(|| {
            one_error(
                "Unknown data source",
                format!("This provider has no data source {name:?}."),
            )
        })
    }

    fn ctx(&self) -> Result<Ctx<P::Client>, Diagnostics> {
        let client = self
            .client
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match client {
            Some(client) => Ok(Ctx {
                client,
                cancel: self.cancel.clone(),
            }),
            None => Err(one_error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in the provider or in Terraform.",
            )),
        }
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

fn one_error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(summary, detail);
    d
}

fn decode(dv: &Option<pb::DynamicValue>, schema: &Schema) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let ty = schema.value_type();
    let res = if !dv.msgpack.is_empty() {
        decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        decode_json(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    res.map_err(|e| {
        one_error(
            "Invalid value from Terraform",
            format!("The provider could not decode a value: {e}"),
        )
    })
}

fn encode(v: &Value, schema: &Schema) -> Result<Option<pb::DynamicValue>, Diagnostics> {
    encode_msgpack(v, schema.value_type())
        .map(|msgpack| {
            Some(pb::DynamicValue {
                msgpack,
                json: Vec::new(),
            })
        })
        .map_err(|e| {
            one_error(
                "Provider bug: value does not match the schema",
                format!("{e}"),
            )
        })
}

pub(crate) fn path_to_proto(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    Step::Attr(a) => Selector::AttributeName(a.clone()),
                    Step::Key(k) => Selector::ElementKeyString(k.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn diags_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error as i32,
                Severity::Warning => pb::diagnostic::Severity::Warning as i32,
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.path.as_ref().filter(|p| !p.is_root()).map(path_to_proto),
        })
        .collect()
}

/// Runs an RPC body, turning a panic into an error diagnostic instead of a dead plugin.
async fn guarded<F, T>(rpc: &'static str, fut: F, on_panic: impl FnOnce(Diagnostics) -> T) -> T
where
    F: std::future::Future<Output = T>,
{
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(rpc, panic = %msg, "provider panicked");
            on_panic(one_error(
                "The provider crashed",
                format!(
                    "{rpc} panicked: {msg}. This is a bug in the provider; please report it with the log (TF_LOG=debug)."
                ),
            ))
        }
    }
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for FrameworkServer<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Res<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Res<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response()))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Res<pb::get_resource_identity_schemas::Response> {
        use pb::resource_identity_schema::IdentityAttribute;
        let identity_schemas = self
            .resources
            .iter()
            .filter_map(|(name, e)| {
                let id = e.identity.as_ref()?;
                let attrs = id
                    .attributes
                    .iter()
                    .map(|(n, d)| IdentityAttribute {
                        name: n.to_string(),
                        r#type: b"\"string\"".to_vec(),
                        required_for_import: true,
                        optional_for_import: false,
                        description: d.to_string(),
                    })
                    .collect();
                Some((
                    name.to_string(),
                    pb::ResourceIdentitySchema {
                        version: 0,
                        identity_attributes: attrs,
                    },
                ))
            })
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas,
            diagnostics: vec![],
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Res<pb::validate_provider_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateProviderConfig",
            async {
                let config = match decode(&req.config, &self.provider_schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                let mut diags = Diagnostics::new();
                validate_values(
                    &self.provider_schema.block,
                    &config,
                    &AttrPath::root(),
                    &mut diags,
                );
                self.provider.validate_config(&config, &mut diags);
                diags
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateResourceConfig",
            async {
                let entry = match self.resource(&req.type_name) {
                    Ok(e) => e,
                    Err(d) => return d,
                };
                let config = match decode(&req.config, &entry.schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                let mut diags = Diagnostics::new();
                let wo_allowed = req
                    .client_capabilities
                    .as_ref()
                    .is_some_and(|c| c.write_only_attributes_allowed);
                if !wo_allowed {
                    check_no_write_only(
                        &entry.schema.block,
                        &config,
                        &AttrPath::root(),
                        &mut diags,
                    );
                }
                validate_values(&entry.schema.block, &config, &AttrPath::root(), &mut diags);
                entry.imp.validate(&config, &mut diags);
                diags
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateDataResourceConfig",
            async {
                let entry = match self.data_source(&req.type_name) {
                    Ok(e) => e,
                    Err(d) => return d,
                };
                let config = match decode(&req.config, &entry.schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                let mut diags = Diagnostics::new();
                validate_values(&entry.schema.block, &config, &AttrPath::root(), &mut diags);
                entry.imp.validate(&config, &mut diags);
                diags
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let out = guarded("UpgradeResourceState", async {
            let entry = self.resource(&req.type_name)?;
            if req.version > entry.schema.version {
                return Err(one_error(
                    "Resource state from a newer provider",
                    format!("The state of this {} was written by a newer provider version (schema {}, this provider knows {}). Upgrade the provider.", req.type_name, req.version, entry.schema.version),
                ));
            }
            let raw = req.raw_state.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
            if raw.is_empty() {
                return Err(one_error("Unsupported state format", "This state was written by Terraform before 0.12 (flatmap); refresh it with a newer Terraform first."));
            }
            let mut v = decode_json(raw, entry.schema.value_type()).map_err(|e| one_error("Could not read the stored state", e.to_string()))?;
            null_write_only(&entry.schema.block, &mut v);
            encode(&v, &entry.schema)
        }, Err)
        .await;
        Ok(Response::new(match out {
            Ok(upgraded_state) => pb::upgrade_resource_state::Response {
                upgraded_state,
                diagnostics: vec![],
            },
            Err(d) => pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: diags_to_proto(&d),
            },
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ConfigureProvider",
            async {
                let config = match decode(&req.config, &self.provider_schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                let mut diags = Diagnostics::new();
                if let Some(client) = self.provider.configure(&config, &mut diags).await {
                    *self.client.write().unwrap_or_else(|e| e.into_inner()) =
                        Some(Arc::new(client));
                }
                diags
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Res<pb::read_resource::Response> {
        let req = req.into_inner();
        let out = guarded(
            "ReadResource",
            async {
                let entry = self.resource(&req.type_name)?;
                let state = decode(&req.current_state, &entry.schema)?;
                let ctx = self.ctx()?;
                let private = decode_private(&req.private);
                tracing::debug!(type_name = %req.type_name, "ReadResource");
                let mut resp = entry.imp.read(&ctx, ReadRequest { state, private }).await;
                null_write_only(&entry.schema.block, &mut resp.state);
                if cfg!(debug_assertions) && !resp.state.is_wholly_known() {
                    resp.diags.error(
                        "Provider bug: unknown value after read",
                        "ReadResource returned unknown values.",
                    );
                }
                let new_state = encode(&resp.state, &entry.schema)?;
                Ok(pb::read_resource::Response {
                    new_state,
                    private: encode_private(&resp.private),
                    diagnostics: diags_to_proto(&resp.diags),
                    new_identity: entry.identity_of(&resp.state),
                    ..Default::default()
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::read_resource::Response {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: diags_to_proto(&d),
                new_identity: req.current_identity.clone(),
                ..Default::default()
            }
        })))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Res<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let out = guarded(
            "PlanResourceChange",
            async {
                let entry = self.resource(&req.type_name)?;
                let prior = decode(&req.prior_state, &entry.schema)?;
                let proposed = decode(&req.proposed_new_state, &entry.schema)?;
                let config = decode(&req.config, &entry.schema)?;
                let prior_private = decode_private(&req.prior_private);
                if proposed.is_null() {
                    // Destroy: the plan must be null; private state passes through.
                    return Ok(pb::plan_resource_change::Response {
                        planned_state: encode(&Value::Null, &entry.schema)?,
                        planned_private: req.prior_private.clone(),
                        ..Default::default()
                    });
                }
                let mut resp =
                    plan_resource(&entry.schema, &config, &proposed, &prior, &prior_private);
                entry.imp.modify_plan(
                    &PlanRequest {
                        config: &config,
                        prior: &prior,
                        prior_private: &prior_private,
                    },
                    &mut resp,
                );
                null_write_only(&entry.schema.block, &mut resp.planned);
                if cfg!(debug_assertions) && !resp.diags.has_errors() {
                    checks::check_planned(
                        &entry.schema.block,
                        &config,
                        &prior,
                        &resp.planned,
                        &AttrPath::root(),
                        &mut resp.diags,
                    );
                }
                let mut rr = resp.requires_replace.clone();
                rr.dedup();
                Ok(pb::plan_resource_change::Response {
                    planned_state: encode(&resp.planned, &entry.schema)?,
                    requires_replace: rr.iter().map(path_to_proto).collect(),
                    planned_private: encode_private(&resp.private),
                    diagnostics: diags_to_proto(&resp.diags),
                    planned_identity: entry.identity_of(&resp.planned),
                    ..Default::default()
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::plan_resource_change::Response {
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Res<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let out = guarded("ApplyResourceChange", async {
            let entry = self.resource(&req.type_name)?;
            let prior = decode(&req.prior_state, &entry.schema)?;
            let planned = decode(&req.planned_state, &entry.schema)?;
            let config = decode(&req.config, &entry.schema)?;
            let private = decode_private(&req.planned_private);
            let ctx = self.ctx()?;
            if planned.is_null() {
                tracing::info!(type_name = %req.type_name, "deleting");
                let diags = entry.imp.delete(&ctx, DeleteRequest { prior: prior.clone(), private: private.clone() }).await;
                // On failure the object still exists: keep it in state.
                let state = if diags.has_errors() { prior } else { Value::Null };
                return Ok(pb::apply_resource_change::Response {
                    new_state: encode(&state, &entry.schema)?,
                    private: if diags.has_errors() { req.planned_private.clone() } else { Vec::new() },
                    diagnostics: diags_to_proto(&diags),
                    new_identity: entry.identity_of(&state),
                    ..Default::default()
                });
            }
            let creating = prior.is_null();
            tracing::info!(type_name = %req.type_name, action = if creating { "create" } else { "update" }, "applying");
            let areq = ApplyRequest { config, planned: planned.clone(), prior: prior.clone(), private };
            let mut resp = if creating { entry.imp.create(&ctx, areq).await } else { entry.imp.update(&ctx, areq).await };
            null_write_only(&entry.schema.block, &mut resp.new_state);
            if cfg!(debug_assertions) && !resp.diags.has_errors() && !resp.new_state.is_null() {
                checks::check_applied(&planned, &resp.new_state, &AttrPath::root(), &mut resp.diags);
            }
            Ok(pb::apply_resource_change::Response {
                new_state: encode(&resp.new_state, &entry.schema)?,
                private: encode_private(&resp.private),
                diagnostics: diags_to_proto(&resp.diags),
                new_identity: entry.identity_of(&resp.new_state),
                ..Default::default()
            })
        }, Err)
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::apply_resource_change::Response {
                // Keep what Terraform had: the prior state (null on create).
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        let req = req.into_inner();
        let out = guarded(
            "ImportResourceState",
            async {
                let entry = self.resource(&req.type_name)?;
                let ctx = self.ctx()?;
                let id = import_id(entry, &req)?;
                let resp = entry.imp.import(&ctx, &id).await;
                if resp.diags.has_errors() {
                    return Err(resp.diags);
                }
                let mut state = resp.state;
                null_write_only(&entry.schema.block, &mut state);
                Ok(pb::import_resource_state::Response {
                    imported_resources: vec![pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: encode(&state, &entry.schema)?,
                        private: encode_private(&resp.private),
                        identity: entry.identity_of(&state),
                    }],
                    diagnostics: diags_to_proto(&resp.diags),
                    deferred: None,
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::import_resource_state::Response {
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        let req = req.into_inner();
        let out = guarded(
            "ReadDataSource",
            async {
                let entry = self.data_source(&req.type_name)?;
                let config = decode(&req.config, &entry.schema)?;
                let ctx = self.ctx()?;
                let (state, diags) = entry.imp.read(&ctx, config).await;
                if diags.has_errors() {
                    return Err(diags);
                }
                if !state.is_wholly_known() || state.is_null() {
                    return Err(one_error(
                        "Provider bug: incomplete data source result",
                        format!("{} returned an unknown or null object.", req.type_name),
                    ));
                }
                Ok(pb::read_data_source::Response {
                    state: encode(&state, &entry.schema)?,
                    diagnostics: diags_to_proto(&diags),
                    deferred: None,
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::read_data_source::Response {
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        tracing::info!("StopProvider: cancelling in-flight operations");
        self.cancel.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// The import id: given directly, or (Terraform 1.12+ `import { identity = {...} }`) made from the identity.
fn import_id<C>(
    entry: &ResourceEntry<C>,
    req: &pb::import_resource_state::Request,
) -> Result<String, Diagnostics> {
    if !req.id.is_empty() {
        return Ok(req.id.clone());
    }
    let (Some(id), Some(data)) = (
        entry.identity.as_ref(),
        req.identity.as_ref().and_then(|i| i.identity_data.as_ref()),
    ) else {
        return Err(one_error(
            "Missing import id",
            format!("Give the {} to import as an id.", req.type_name),
        ));
    };
    let ty = id.value_type();
    let v = if !data.msgpack.is_empty() {
        decode_msgpack(&data.msgpack, &ty)
    } else {
        decode_json(&data.json, &ty)
    }
    .map_err(|e| one_error("Invalid import identity", e.to_string()))?;
    id.import_id(&v).ok_or_else(|| {
        let names: Vec<&str> = id.attributes.iter().map(|(n, _)| *n).collect();
        one_error(
            "Incomplete import identity",
            format!(
                "Importing {} by identity needs all of: {}.",
                req.type_name,
                names.join(", ")
            ),
        )
    })
}

/// Terraform before 1.11 does not understand write-only attributes; setting one there would
/// silently send nothing, so refuse it with advice instead.
fn check_no_write_only(
    block: &crate::schema::Block,
    v: &Value,
    path: &AttrPath,
    diags: &mut Diagnostics,
) {
    for a in &block.attributes {
        if a.write_only && !v.get(&a.name).is_null() {
            let p = path.child(&a.name);
            diags.attr_error(&p, "Write-only attribute not supported by this Terraform", format!("{p} is write-only, which needs Terraform 1.11 or later. Upgrade Terraform, or use the sensitive attribute instead."));
        }
    }
    for b in &block.blocks {
        let bv = v.get(&b.name);
        match bv {
            Value::Object(_) => check_no_write_only(&b.block, bv, &path.child(&b.name), diags),
            Value::List(items) | Value::Set(items) => {
                for (i, it) in items.iter().enumerate() {
                    check_no_write_only(&b.block, it, &path.child(&b.name).index(i), diags);
                }
            }
            _ => {}
        }
    }
}
