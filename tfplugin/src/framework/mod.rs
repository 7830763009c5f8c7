//! A small provider framework in the spirit of terraform-plugin-framework: providers, resources and
//! data sources describe their schema and implement CRUD on `Value`s; the framework does the
//! protocol work (decoding, defaults, write-only handling, unknown marking, plan modifiers,
//! requires-replace, declared semantic equality and server defaults, declared cross-attribute
//! rules, private state, panics, consistency checks in debug builds).

pub(crate) mod checks;
mod grpc;
mod normalize;
mod plan;
mod query;
mod validate;
pub(crate) mod walk;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::{AttrPath, Diagnostics};
use crate::schema::Schema;
use crate::value::Value;

pub use grpc::FrameworkServer;
pub use normalize::{keep_equivalent, normalize_applied, normalize_read, null_server_defaults};
pub use plan::{null_object, null_write_only, plan_resource};
pub use query::{
    Action, ListItem, ListRequest, ListResource, ListSink, Progress, default_generated_config,
};
pub use validate::validate_values;

/// Provider-private data kept by Terraform beside the state (never shown in plans), e.g. ETags.
pub type Private = BTreeMap<String, serde_json::Value>;

/// What every CRUD call receives: the configured client and a token cancelled by StopProvider
/// (Terraform's answer to Ctrl-C); long waits must end promptly when it fires.
pub struct Ctx<C> {
    pub client: Arc<C>,
    pub cancel: CancellationToken,
}

impl<C> Clone for Ctx<C> {
    fn clone(&self) -> Self {
        Ctx {
            client: self.client.clone(),
            cancel: self.cancel.clone(),
        }
    }
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What `configure` produces and every resource receives.
    type Client: Send + Sync + 'static;
    /// The provider's type name, e.g. `demo`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Checks the provider block (values may be unknown).
    fn validate_config(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Builds the client from the provider block (fully known by now, except in rare cases).
    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Self::Client>;
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Client>>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Client>>>;
    /// List resources for `terraform query` (Terraform 1.14+), each named like a managed
    /// resource that has an identity.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource<Self::Client>>> {
        Vec::new()
    }
    /// Actions (Terraform 1.14+).
    fn actions(&self) -> Vec<Arc<dyn Action<Self::Client>>> {
        Vec::new()
    }
}

/// Inputs to `Resource::modify_plan`.
pub struct PlanRequest<'a> {
    pub config: &'a Value,
    /// Null when the object is being created.
    pub prior: &'a Value,
    pub prior_private: &'a Private,
}

/// The plan as the framework computed it; `modify_plan` may change any part.
pub struct PlanResponse {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    pub private: Private,
    pub diags: Diagnostics,
}

pub struct ApplyRequest {
    pub config: Value,
    pub planned: Value,
    /// Null on create.
    pub prior: Value,
    pub private: Private,
}

pub struct ApplyResponse {
    /// The object as it now exists. On a failed create, return the object if it was created
    /// (Terraform stores it as tainted) or Null if nothing exists.
    pub new_state: Value,
    pub private: Private,
    pub diags: Diagnostics,
}

pub struct ReadRequest {
    pub state: Value,
    pub private: Private,
}

pub struct ReadResponse {
    /// Null when the object no longer exists; Terraform then plans to create it.
    pub state: Value,
    pub private: Private,
    pub diags: Diagnostics,
}

pub struct DeleteRequest {
    pub prior: Value,
    pub private: Private,
}

pub struct ImportResponse {
    /// A minimal state (enough for `read` to find the object); Terraform calls Read right after.
    pub state: Value,
    pub private: Private,
    pub diags: Diagnostics,
}

/// A resource identity (Terraform 1.12+): a few top-level attributes that name the remote object,
/// e.g. `job_id` and `name` of a task. Terraform stores it beside the state and accepts it in
/// `import { identity = { ... } }`; the import id is the attributes' values joined by `/`.
#[derive(Clone, Debug)]
pub struct Identity {
    /// (attribute name, description); each must be a top-level string attribute of the resource.
    pub attributes: Vec<(&'static str, &'static str)>,
}

impl Identity {
    pub fn value_type(&self) -> crate::types::Type {
        crate::types::Type::object(
            self.attributes
                .iter()
                .map(|(n, _)| (*n, crate::types::Type::String)),
        )
    }
    /// The identity of a state or planned object (unknown attributes stay unknown).
    pub fn of(&self, state: &Value) -> Value {
        Value::object(
            self.attributes
                .iter()
                .map(|(n, _)| (*n, state.get(n).clone())),
        )
    }
    /// The import id an identity stands for, or None when an attribute is missing.
    pub fn import_id(&self, identity: &Value) -> Option<String> {
        let parts: Option<Vec<&str>> = self
            .attributes
            .iter()
            .map(|(n, _)| identity.get_str(n))
            .collect();
        parts.map(|p| p.join("/"))
    }
}

#[async_trait]
pub trait Resource<C>: Send + Sync {
    /// Full type name, e.g. `demo_widget`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// The resource's identity, if it has one (the framework fills it in every response).
    fn identity(&self) -> Option<Identity> {
        None
    }
    /// Cross-attribute checks on the configuration. Values may be unknown: only report errors on
    /// known values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Runs after the framework's default plan. Not called on destroy.
    fn modify_plan(&self, _req: &PlanRequest<'_>, _resp: &mut PlanResponse) {}
    async fn create(&self, ctx: &Ctx<C>, req: ApplyRequest) -> ApplyResponse;
    async fn read(&self, ctx: &Ctx<C>, req: ReadRequest) -> ReadResponse;
    async fn update(&self, ctx: &Ctx<C>, req: ApplyRequest) -> ApplyResponse;
    async fn delete(&self, ctx: &Ctx<C>, req: DeleteRequest) -> Diagnostics;
    /// The configuration `-generate-config-out` writes for an imported or listed object
    /// (Terraform 1.14+). The default keeps the arguments that differ from their defaults.
    fn generate_config(&self, state: &Value, _diags: &mut Diagnostics) -> Value {
        default_generated_config(&self.schema().block, state)
    }
    async fn import(&self, _ctx: &Ctx<C>, _id: &str) -> ImportResponse {
        let mut diags = Diagnostics::new();
        diags.error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        );
        ImportResponse {
            state: Value::Null,
            private: Private::new(),
            diags,
        }
    }
}

#[async_trait]
pub trait DataSource<C>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Returns the full object (config values plus every computed attribute, all known).
    async fn read(&self, ctx: &Ctx<C>, config: Value) -> (Value, Diagnostics);
}

/// Encodes private data for the wire (empty when there is none).
pub fn encode_private(p: &Private) -> Vec<u8> {
    if p.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(p).unwrap_or_default()
    }
}

/// Decodes private data; anything unreadable (e.g. written by another provider version) is dropped.
pub fn decode_private(b: &[u8]) -> Private {
    if b.is_empty() {
        Private::new()
    } else {
        serde_json::from_slice(b).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
