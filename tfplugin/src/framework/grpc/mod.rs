//! The tfplugin6 Provider service on top of the framework traits: decoding and encoding values with
//! the schema's type, routing by type name, default planning, panics turned into diagnostics.
//! One file per RPC family, as terraform-plugin-framework's fwserver keeps one per RPC.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

use futures::FutureExt;
use tfplugin_proto::tfplugin6 as pb;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

mod apply;
mod config;
mod metadata;
mod plan;
mod query;
mod read;

use super::normalize::{normalize_applied, normalize_read};
use super::plan::{dedup, null_write_only, plan_resource};
use super::validate::{check_no_write_only, validate_values};
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

struct ListEntry<C> {
    imp: Arc<dyn super::ListResource<C>>,
    schema: Schema,
}

struct ActionEntry<C> {
    imp: Arc<dyn super::Action<C>>,
    schema: Schema,
}

/// Serves a framework `Provider` as the tfplugin6 gRPC service.
pub struct FrameworkServer<P: Provider> {
    provider: Arc<P>,
    provider_schema: Schema,
    resources: HashMap<&'static str, ResourceEntry<P::Client>>,
    data_sources: HashMap<&'static str, DataSourceEntry<P::Client>>,
    list_resources: HashMap<&'static str, ListEntry<P::Client>>,
    actions: HashMap<&'static str, ActionEntry<P::Client>>,
    client: RwLock<Option<Arc<P::Client>>>,
    cancel: CancellationToken,
}

impl<P: Provider> FrameworkServer<P> {
    pub fn new(provider: P) -> Self {
        let resources: HashMap<&'static str, ResourceEntry<P::Client>> = provider
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
        let data_sources: HashMap<&'static str, DataSourceEntry<P::Client>> = provider
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
        let list_resources: HashMap<&'static str, ListEntry<P::Client>> = provider
            .list_resources()
            .into_iter()
            .map(|l| {
                (
                    l.type_name(),
                    ListEntry {
                        schema: l.schema(),
                        imp: l,
                    },
                )
            })
            .collect();
        let actions: HashMap<&'static str, ActionEntry<P::Client>> = provider
            .actions()
            .into_iter()
            .map(|a| {
                (
                    a.type_name(),
                    ActionEntry {
                        schema: a.schema(),
                        imp: a,
                    },
                )
            })
            .collect();
        if cfg!(debug_assertions) {
            let mut problems = provider.schema().problems();
            // Terraform requires a list resource to name a managed resource with an identity.
            for name in list_resources.keys() {
                if resources.get(name).is_none_or(|r| r.identity.is_none()) {
                    problems.push(format!(
                        "list resource {name}: no managed resource of that name with an identity"
                    ));
                }
            }
            for (kind, name, schema) in resources
                .iter()
                .map(|(n, e)| ("resource", *n, &e.schema))
                .chain(
                    data_sources
                        .iter()
                        .map(|(n, e)| ("data source", *n, &e.schema)),
                )
                .chain(
                    list_resources
                        .iter()
                        .map(|(n, e)| ("list resource", *n, &e.schema)),
                )
                .chain(actions.iter().map(|(n, e)| ("action", *n, &e.schema)))
            {
                problems.extend(
                    schema
                        .problems()
                        .into_iter()
                        .map(|p| format!("{kind} {name}: {p}")),
                );
            }
            assert!(
                problems.is_empty(),
                "schema problems: {}",
                problems.join("; ")
            );
        }
        FrameworkServer {
            provider_schema: provider.schema(),
            provider: Arc::new(provider),
            resources,
            data_sources,
            list_resources,
            actions,
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
            list_resource_schemas: self
                .list_resources
                .iter()
                .map(|(k, v)| (k.to_string(), v.schema.to_proto()))
                .collect(),
            action_schemas: self
                .actions
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        pb::ActionSchema {
                            schema: Some(v.schema.to_proto()),
                        },
                    )
                })
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
        generate_resource_config: true,
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

/// Decodes a configuration, runs the schema's validators and then `own` (the type's checks).
fn validate_config(
    dv: &Option<pb::DynamicValue>,
    schema: &Schema,
    own: impl FnOnce(&Value, &mut Diagnostics),
) -> Diagnostics {
    let config = match decode(dv, schema) {
        Ok(v) => v,
        Err(d) => return d,
    };
    let mut diags = Diagnostics::new();
    validate_values(&schema.block, &config, &AttrPath::root(), &mut diags);
    own(&config, &mut diags);
    diags
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
        req: Request<pb::get_metadata::Request>,
    ) -> Res<pb::get_metadata::Response> {
        self.serve_get_metadata(req).await
    }

    async fn get_provider_schema(
        &self,
        req: Request<pb::get_provider_schema::Request>,
    ) -> Res<pb::get_provider_schema::Response> {
        self.serve_get_provider_schema(req).await
    }

    async fn get_resource_identity_schemas(
        &self,
        req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Res<pb::get_resource_identity_schemas::Response> {
        self.serve_get_resource_identity_schemas(req).await
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Res<pb::validate_provider_config::Response> {
        self.serve_validate_provider_config(req).await
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
        self.serve_validate_resource_config(req).await
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        self.serve_validate_data_resource_config(req).await
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        self.serve_upgrade_resource_state(req).await
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        self.serve_configure_provider(req).await
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Res<pb::read_resource::Response> {
        self.serve_read_resource(req).await
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Res<pb::plan_resource_change::Response> {
        self.serve_plan_resource_change(req).await
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Res<pb::apply_resource_change::Response> {
        self.serve_apply_resource_change(req).await
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        self.serve_import_resource_state(req).await
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        self.serve_read_data_source(req).await
    }

    async fn generate_resource_config(
        &self,
        req: Request<pb::generate_resource_config::Request>,
    ) -> Res<pb::generate_resource_config::Response> {
        self.serve_generate_resource_config(req).await
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Res<pb::validate_list_resource_config::Response> {
        self.serve_validate_list_resource_config(req).await
    }

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Res<tonic::codegen::BoxStream<pb::list_resource::Event>> {
        self.serve_list_resource(req).await
    }

    async fn validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Res<pb::validate_action_config::Response> {
        self.serve_validate_action_config(req).await
    }

    async fn plan_action(
        &self,
        req: Request<pb::plan_action::Request>,
    ) -> Res<pb::plan_action::Response> {
        self.serve_plan_action(req).await
    }

    async fn invoke_action(
        &self,
        req: Request<pb::invoke_action::Request>,
    ) -> Res<tonic::codegen::BoxStream<pb::invoke_action::Event>> {
        self.serve_invoke_action(req).await
    }

    async fn stop_provider(
        &self,
        req: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        self.serve_stop_provider(req).await
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
