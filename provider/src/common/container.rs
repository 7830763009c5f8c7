//! Container settings shared by pools (start task, registries), jobs (preparation and release
//! tasks) and tasks: the `container { ... }` and `registry { ... }` blocks, their models and
//! their mapping onto the Batch models (`expand_*`: Terraform -> Batch, `flatten_*`: Batch ->
//! Terraform). The `*_to_model` / `*_from_model` functions take untyped values, for resources
//! not yet on typed models.

use batch_client::Secret;
use batch_client::models::{
    ContainerHostBatchBindMountEntry, ContainerRegistry, TaskContainerSettings,
};
use serde::{Deserialize, Serialize};
use tfplugin::model::{Tf, from_value};
use tfplugin::schema::{Attribute, Block, NestedBlock};
use tfplugin::semantics::IgnoreCase;
use tfplugin::validators::{IntBetween, NotEmpty, OneOf};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::task_spec::{identity_reference, identity_reference_id};

pub const WORKING_DIRECTORIES: &[&str] = &["taskWorkingDirectory", "containerImageDefault"];
/// Batch's working directory when none is set.
pub const DEFAULT_WORKING_DIRECTORY: &str = "taskWorkingDirectory";
pub const BIND_MOUNT_SOURCES: &[&str] = &[
    "Shared",
    "Startup",
    "VfsMounts",
    "Task",
    "JobPrep",
    "Applications",
];

/// `registry { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryModel {
    pub server: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_wo: Option<String>,
    pub password_wo_version: Option<i64>,
    pub identity_reference: Option<String>,
}

/// `host_batch_bind_mount { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BindMountModel {
    pub source: Option<String>,
    pub is_read_only: Option<bool>,
}

/// `container { ... }` of a task, start task, preparation or release task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskContainerModel {
    pub image_name: String,
    pub run_options: Option<String>,
    pub working_directory: Option<String>,
    pub registry: Option<RegistryModel>,
    #[serde(default)]
    pub host_batch_bind_mount: Vec<BindMountModel>,
}

/// The `registry` block: a private container registry and how to log in to it.
pub fn registry_block() -> Block {
    Block::new("A private container registry to log in to before pulling images.")
        .attr(
            Attribute::string("server")
                .optional()
                .validate(NotEmpty)
                .description("Registry host, e.g. `myregistry.azurecr.io`. Batch defaults to Docker Hub (`docker.io`) when unset."),
        )
        .attr(Attribute::string("username").optional().description("User name for the registry login."))
        .attr(
            Attribute::string("password")
                .optional()
                .sensitive()
                .description("Password for the registry login, kept in Terraform state (marked sensitive). Prefer `password_wo`, which is never stored. At most one of `password` and `password_wo`."),
        )
        .attr(
            Attribute::string("password_wo")
                .optional()
                .write_only()
                .description("Write-only password for the registry login (Terraform 1.11 or later): sent to Batch but never stored in plan or state. Bump `password_wo_version` to send a new one."),
        )
        .attr(
            Attribute::number("password_wo_version")
                .optional()
                .validate(IntBetween(0, i64::MAX))
                .description("Any number; change it to make Terraform send `password_wo` again (Terraform cannot see changes of a write-only value). A change updates in place where Batch allows it."),
        )
        .attr(
            Attribute::string("identity_reference")
                .optional()
                .description("Resource id of a user-assigned managed identity (assigned to the pool) used to pull from Azure Container Registry instead of a username and password."),
        )
        .conflicts_with("password_wo", &["password"])
        .also_requires("password", &["username"])
        .also_requires("password_wo", &["username"])
}

/// The configuration view of a registry for validation: null and unknown kept apart.
#[derive(Deserialize)]
pub struct RegistryCheck {
    password_wo: Tf<String>,
    password_wo_version: Tf<f64>,
}

/// Checks a registry block beyond its declared rules (at most one of password and
/// password_wo; a password needs a username): a warning for a version without a password_wo.
pub fn validate_registry(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if let Ok(c) = from_value::<RegistryCheck>(v) {
        check_registry(&c, path, diags);
    }
}

/// [`validate_registry`] on the configuration view.
pub fn check_registry(c: &RegistryCheck, path: &AttrPath, diags: &mut Diagnostics) {
    if !c.password_wo_version.is_null() && c.password_wo.is_null() {
        diags.attr_warning(
            &path.child("password_wo_version"),
            "password_wo_version without password_wo",
            "password_wo_version only matters together with password_wo.",
        );
    }
}

/// Terraform -> Batch. `config` is the same block in the configuration, which alone carries the
/// write-only password.
pub fn expand_registry(m: &RegistryModel, config: Option<&RegistryModel>) -> ContainerRegistry {
    let password = m
        .password
        .clone()
        .or_else(|| config.and_then(|c| c.password_wo.clone()))
        .map(Secret);
    ContainerRegistry {
        registry_server: m.server.clone(),
        username: m.username.clone(),
        password,
        identity_reference: identity_reference(m.identity_reference.as_deref()),
    }
}

/// Batch -> Terraform. Batch never returns passwords, so they (and the version counter) come
/// from the prior state; the docker.io Batch fills in for an unset server stays unset.
pub fn flatten_registry(m: &ContainerRegistry, prior: Option<&RegistryModel>) -> RegistryModel {
    let prior_server = prior.and_then(|p| p.server.as_deref());
    let server = match (&m.registry_server, prior_server) {
        (Some(s), None) if s.eq_ignore_ascii_case("docker.io") && prior.is_some() => None,
        (Some(s), Some(p)) if s.eq_ignore_ascii_case(p) => Some(p.to_string()),
        (s, _) => s.clone(),
    };
    RegistryModel {
        server,
        username: m.username.clone(),
        password: prior.and_then(|p| p.password.clone()),
        password_wo: None,
        password_wo_version: prior.and_then(|p| p.password_wo_version),
        identity_reference: identity_reference_id(m.identity_reference.as_ref()),
    }
}

/// The `container` block of a task, start task, preparation or release task.
pub fn task_container_block(what: &str) -> Block {
    Block::new(format!("Runs the {what} in a container instead of directly on the node. The pool must have a container configuration."))
        .attr(
            Attribute::string("image_name")
                .required()
                .validate(NotEmpty::like("ubuntu:22.04"))
                .description("Image to run, as given to `docker pull`, e.g. `ubuntu:22.04` or `myregistry.azurecr.io/app:1.2`. Without a tag, `:latest` is used."),
        )
        .attr(
            Attribute::string("run_options")
                .optional()
                .server_default(Value::string(""))
                .description("Extra options for `docker create`, e.g. `--rm --workdir /`. Batch adds its own options for the working directory, environment and mounts."),
        )
        .attr(
            Attribute::string("working_directory")
                .default(Value::string(DEFAULT_WORKING_DIRECTORY))
                .validate(OneOf(WORKING_DIRECTORIES))
                .semantics(IgnoreCase)
                .description("`taskWorkingDirectory` (Batch's default: the task's working directory on the node) or `containerImageDefault` (the image's WORKDIR)."),
        )
        .block(NestedBlock::single("registry", registry_block()).max_items(1))
        .block(
            NestedBlock::list(
                "host_batch_bind_mount",
                Block::new("A Batch directory of the node to mount into the container. Without any, Batch mounts the whole AZ_BATCH_NODE_ROOT_DIR.")
                    .attr(Attribute::string("source").required().validate(OneOf(BIND_MOUNT_SOURCES)).description("Which directory: `Shared`, `Startup`, `VfsMounts`, `Task`, `JobPrep` or `Applications`."))
                    .attr(Attribute::bool("is_read_only").optional().server_default(Value::Bool(false)).description("Mount read-only. Default `false`.")),
            ),
        )
}

/// The configuration view of a container block for validation.
#[derive(Deserialize)]
pub struct TaskContainerCheck {
    registry: Option<RegistryCheck>,
}

/// Checks a container block (registry rules).
pub fn validate_task_container(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if let Ok(c) = from_value::<TaskContainerCheck>(v) {
        check_task_container(&c, path, diags);
    }
}

/// [`validate_task_container`] on the configuration view.
pub fn check_task_container(c: &TaskContainerCheck, path: &AttrPath, diags: &mut Diagnostics) {
    if let Some(r) = &c.registry {
        check_registry(r, &path.child("registry"), diags);
    }
}

/// Terraform -> Batch. `config` is the block in the configuration (write-only passwords).
pub fn expand_task_container(
    m: &TaskContainerModel,
    config: Option<&TaskContainerModel>,
) -> TaskContainerSettings {
    let mounts: Vec<ContainerHostBatchBindMountEntry> = m
        .host_batch_bind_mount
        .iter()
        .map(|b| ContainerHostBatchBindMountEntry {
            source: b.source.clone(),
            is_read_only: b.is_read_only,
        })
        .collect();
    TaskContainerSettings {
        image_name: m.image_name.clone(),
        container_run_options: m.run_options.clone(),
        registry: m
            .registry
            .as_ref()
            .map(|r| expand_registry(r, config.and_then(|c| c.registry.as_ref()))),
        working_directory: m.working_directory.clone(),
        container_host_batch_bind_mounts: (!mounts.is_empty()).then_some(mounts),
    }
}

/// Batch -> Terraform: what the service reports. The attributes' declared semantics keep the
/// user's spelling of the working directory and leave what Batch fills in by itself (an empty
/// run options string, `is_read_only = false`) unset. Registries take their passwords from the
/// prior state (Batch never returns them).
pub fn flatten_task_container(
    m: &TaskContainerSettings,
    prior: Option<&TaskContainerModel>,
) -> TaskContainerModel {
    let working_directory = m
        .working_directory
        .as_deref()
        .unwrap_or(DEFAULT_WORKING_DIRECTORY);
    let host_batch_bind_mount = m
        .container_host_batch_bind_mounts
        .iter()
        .flatten()
        .map(|e| BindMountModel {
            source: e.source.clone(),
            is_read_only: e.is_read_only,
        })
        .collect();
    TaskContainerModel {
        image_name: m.image_name.clone(),
        run_options: m.container_run_options.clone(),
        working_directory: Some(working_directory.to_string()),
        registry: m
            .registry
            .as_ref()
            .map(|r| flatten_registry(r, prior.and_then(|p| p.registry.as_ref()))),
        host_batch_bind_mount,
    }
}

#[cfg(test)]
mod tests;
