//! The task spec: what the pool's start task, the job's preparation and release tasks, the job
//! manager task and `batch_container_task` have in common — command line, container settings,
//! environment, resource files, user identity and constraints — as ONE schema piece, model and
//! mapping per part.
//!
//! # API (stable: the pool and job resources build on it)
//!
//! Schema: [`TaskSpecSchema`] adds the common attributes and blocks to a task kind's block:
//!
//! ```ignore
//! let block = TaskSpecSchema::new("preparation task")       // names the task in descriptions
//!     .user_identity()                                       // + `user_identity` block
//!     .add_to(Block::new("..."))                             // command_line, environment, container
//!     .attr(Attribute::bool("wait_for_success") ...);        // the kind's own attributes
//! ```
//!
//! Options: `.command_line(attr)` / `.environment(attr)` replace the default attribute (other
//! description, default or validators), `.resource_files()`, `.user_identity()`,
//! `.constraints(update_note)`, `.requires_replace()` (every part forces replacement, as on
//! `batch_container_task`).
//!
//! Models (no `#[serde(flatten)]`: a task kind's model struct names each part as a field):
//! - `command_line: String`
//! - `environment: Environment` (= `Option<BTreeMap<String, String>>`)
//! - `container: Option<TaskContainerModel>` ([`crate::common::container`])
//! - `resource_file: Vec<ResourceFileModel>`
//! - `user_identity: Option<UserIdentityModel>`
//! - `constraints: Option<TaskConstraintsModel>`
//!
//! Mapping, one pair per part (`expand_*`: Terraform -> Batch; `flatten_*`: Batch -> Terraform,
//! what the service reports; the attributes declare their semantics — `IgnoreCase`,
//! `SameIsoDuration`, `UrlIgnoringQuery`, `server_default` — and the framework keeps the user's
//! spelling and leaves Batch's defaults unset; the prior part only decides whether a block the
//! user left out appears):
//! [`expand_environment`]/[`flatten_environment`],
//! [`expand_task_container`]/[`flatten_task_container`] (expand also takes the config's block:
//! write-only registry passwords), [`expand_resource_files`]/[`flatten_resource_files`],
//! [`expand_user_identity`]/[`flatten_user_identity`] (and [`pool_auto_user`] for a start
//! task's flat `elevation_level`), [`expand_task_constraints`]/[`flatten_task_constraints`]
//! (plus [`expand_task_constraints_replacing`] for Task_Update and
//! [`flatten_imported_task_constraints`]).
//!
//! Validation: [`validate_task_spec`] checks the container, user identity and resource files of
//! a task kind's configuration block at a path.
//!
//! Durations: [`UNLIMITED_DURATION`], [`is_unlimited`], [`flatten_duration`] (typed) and
//! [`duration_from_model`] (untyped).

pub mod constraints;
pub mod duration;
pub mod environment;
pub mod resource_file;
pub mod task_args;
pub mod task_parts;
pub mod task_parts_map;
pub mod user_identity;

pub use super::container::{
    BindMountModel, RegistryModel, TaskContainerCheck, TaskContainerModel, check_task_container,
    expand_task_container, flatten_task_container, task_container_block, validate_task_container,
};
pub use constraints::{
    TaskConstraintsModel, expand_task_constraints, expand_task_constraints_replacing,
    flatten_imported_task_constraints, flatten_task_constraints, read_task_constraints,
    task_constraints_block,
};
pub use duration::{
    UNLIMITED_DURATION, duration_from_model, flatten_duration, is_unlimited, same_duration,
};
pub use environment::{Environment, expand_environment, flatten_environment};
pub use resource_file::{
    ResourceFileModel, expand_resource_file, expand_resource_files, flatten_resource_file,
    flatten_resource_files, resource_file_block,
};
pub use user_identity::{
    AutoUserModel, UserIdentityModel, expand_user_identity, flatten_user_identity, pool_auto_user,
    user_identity_block,
};

use batch_client::models::ComputeNodeIdentityReference;
use serde::Deserialize;
use tfplugin::model::from_value;
use tfplugin::schema::{Attribute, Block, NestedBlock};
use tfplugin::{AttrPath, Diagnostics, Value};

/// Which common parts a task kind has, and how its command line and environment read.
pub struct TaskSpecSchema {
    what: String,
    command_line: Attribute,
    environment: Attribute,
    resource_files: bool,
    user_identity: bool,
    constraints: Option<String>,
    requires_replace: bool,
}

impl TaskSpecSchema {
    /// `what` names the task kind in descriptions ("start task", "preparation task", "task").
    /// Default parts: a required `command_line`, an optional `environment`, a `container` block.
    pub fn new(what: &str) -> Self {
        TaskSpecSchema {
            what: what.to_string(),
            command_line: Attribute::string("command_line")
                .required()
                .description("The command to run. It does not run under a shell: use `/bin/sh -c \"...\"` for variables, pipes or redirections."),
            environment: Attribute::string_map("environment")
                .optional()
                .description(format!("Environment variables for the {what}.")),
            resource_files: false,
            user_identity: false,
            constraints: None,
            requires_replace: false,
        }
    }
    /// Replaces the `command_line` attribute (it must keep that name).
    pub fn command_line(mut self, a: Attribute) -> Self {
        debug_assert_eq!(a.name, "command_line");
        self.command_line = a;
        self
    }
    /// Replaces the `environment` attribute (it must keep that name).
    pub fn environment(mut self, a: Attribute) -> Self {
        debug_assert_eq!(a.name, "environment");
        self.environment = a;
        self
    }
    /// Adds the `resource_file` list block.
    pub fn resource_files(mut self) -> Self {
        self.resource_files = true;
        self
    }
    /// Adds the `user_identity` block.
    pub fn user_identity(mut self) -> Self {
        self.user_identity = true;
        self
    }
    /// Adds the `constraints` block; `update_note` ends its description (e.g. how changes apply).
    pub fn constraints(mut self, update_note: &str) -> Self {
        self.constraints = Some(update_note.to_string());
        self
    }
    /// Makes every part force replacement (except `constraints`, which may update in place).
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    /// Adds the parts to `b`: command_line, environment, container[, resource_file][,
    /// constraints][, user_identity].
    pub fn add_to(self, b: Block) -> Block {
        let replace = self.requires_replace;
        let attr = |a: Attribute| if replace { a.requires_replace() } else { a };
        let block = |n: NestedBlock| if replace { n.requires_replace() } else { n };
        let mut b = b
            .attr(attr(self.command_line))
            .attr(attr(self.environment))
            .block(block(NestedBlock::single(
                "container",
                task_container_block(&self.what),
            )));
        if self.resource_files {
            b = b.block(block(NestedBlock::list(
                "resource_file",
                resource_file_block(),
            )));
        }
        if let Some(note) = &self.constraints {
            b = b.block(NestedBlock::single(
                "constraints",
                task_constraints_block(&self.what, note),
            ));
        }
        if self.user_identity {
            b = b.block(block(NestedBlock::single(
                "user_identity",
                user_identity_block(),
            )));
        }
        b
    }
}

/// The configuration view of the common parts for validation (null and unknown kept apart). A
/// task kind's own check struct can embed these field types. The user identity's and resource
/// files' rules are declared on their blocks (`exactly_one_of`, `also_requires`).
#[derive(Deserialize)]
pub struct TaskSpecCheck {
    pub container: Option<TaskContainerCheck>,
}

/// Checks the common parts of a task kind's configuration block `v` at `path` beyond their
/// declared rules: the container's registry.
pub fn validate_task_spec(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if let Ok(c) = from_value::<TaskSpecCheck>(v) {
        check_task_spec(&c, path, diags);
    }
}

/// [`validate_task_spec`] on the configuration view.
pub fn check_task_spec(c: &TaskSpecCheck, path: &AttrPath, diags: &mut Diagnostics) {
    if let Some(container) = &c.container {
        check_task_container(container, &path.child("container"), diags);
    }
}

/// The errors of a configuration value `v` of `block` at `path`: attribute validators and the
/// declared rules of every block instance, as the framework checks them. For tests.
#[cfg(test)]
pub fn config_errors(block: &Block, v: &Value, path: &AttrPath) -> Vec<String> {
    let mut d = Diagnostics::new();
    tfplugin::framework::validate_values(block, v, path, &mut d);
    d.0.iter()
        .filter(|d| d.severity == tfplugin::Severity::Error)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

/// A managed identity reference as Batch takes it.
pub fn identity_reference(id: Option<&str>) -> Option<ComputeNodeIdentityReference> {
    id.map(|id| ComputeNodeIdentityReference {
        resource_id: Some(id.to_string()),
    })
}

/// A managed identity reference's resource id.
pub fn identity_reference_id(r: Option<&ComputeNodeIdentityReference>) -> Option<String> {
    r.and_then(|i| i.resource_id.clone())
}

/// What the framework makes of a flattened model `new` on read, given the prior state's `prior`
/// (None: import): the attributes' declared semantics and server defaults applied. For tests of
/// flatten functions, which return what Batch says.
#[cfg(test)]
pub fn normalized_read<M>(block: &Block, prior: Option<&M>, new: M) -> M
where
    M: serde::Serialize + serde::de::DeserializeOwned,
{
    let ty = block.value_type();
    let prior = match prior {
        Some(p) => tfplugin::model::to_value(p, &ty).expect("prior as value"),
        None => Value::Null,
    };
    let mut v = tfplugin::model::to_value(&new, &ty).expect("model as value");
    tfplugin::framework::normalize_read(block, &prior, &mut v);
    from_value(&v).expect("value as model")
}

#[cfg(test)]
mod tests;
