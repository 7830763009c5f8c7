//! Container settings shared by pools (start task, registries), jobs (preparation and release
//! tasks) and tasks: the `container { ... }` and `registry { ... }` blocks and their mapping onto
//! the Batch models.

use batch_client::Secret;
use batch_client::models::{
    ComputeNodeIdentityReference, ContainerHostBatchBindMountEntry, ContainerRegistry,
    TaskContainerSettings,
};
use tfplugin::schema::{Attribute, Block, NestedBlock};
use tfplugin::validators::{IntBetween, NotEmpty, OneOf};
use tfplugin::{AttrPath, Diagnostics, Value};

pub const WORKING_DIRECTORIES: &[&str] = &["taskWorkingDirectory", "containerImageDefault"];
pub const BIND_MOUNT_SOURCES: &[&str] = &[
    "Shared",
    "Startup",
    "VfsMounts",
    "Task",
    "JobPrep",
    "Applications",
];

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
}

/// Checks a registry block: at most one of password and password_wo; a password needs a username.
pub fn validate_registry(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    let pw = v.get("password");
    let wo = v.get("password_wo");
    if !pw.is_null() && !pw.is_unknown() && !wo.is_null() && !wo.is_unknown() {
        diags.attr_error(
            &path.child("password_wo"),
            "Conflicting registry passwords",
            format!(
                "Set only one of {} and {}: password_wo is never stored in state, password is.",
                path.child("password"),
                path.child("password_wo")
            ),
        );
    }
    if !v.get("password_wo_version").is_null() && wo.is_null() {
        diags.attr_warning(
            &path.child("password_wo_version"),
            "password_wo_version without password_wo",
            "password_wo_version only matters together with password_wo.",
        );
    }
    if (!pw.is_null() || !wo.is_null()) && v.get("username").is_null() {
        diags.attr_error(
            &path.child("username"),
            "Registry username missing",
            format!(
                "A registry password needs a username: set {}.",
                path.child("username")
            ),
        );
    }
}

/// The registry as Batch takes it. `config` is the same block in the configuration, which alone
/// carries the write-only password.
pub fn registry_to_model(planned: &Value, config: &Value) -> ContainerRegistry {
    let password = planned
        .get_str("password")
        .or_else(|| config.get_str("password_wo"))
        .map(|s| Secret(s.to_string()));
    ContainerRegistry {
        registry_server: planned.get_str("server").map(str::to_string),
        username: planned.get_str("username").map(str::to_string),
        password,
        identity_reference: planned.get_str("identity_reference").map(|id| {
            ComputeNodeIdentityReference {
                resource_id: Some(id.to_string()),
            }
        }),
    }
}

/// The registry as state, from what Batch returns. Batch never returns passwords, so they (and
/// the version counter) come from the prior state.
pub fn registry_from_model(m: &ContainerRegistry, prior: &Value) -> Value {
    let server = match (&m.registry_server, prior.get_str("server")) {
        // Batch fills in docker.io when unset; keep the user's null.
        (Some(s), None) if s.eq_ignore_ascii_case("docker.io") && prior_is_object(prior) => {
            Value::Null
        }
        (Some(s), Some(p)) if s.eq_ignore_ascii_case(p) => Value::string(p),
        (s, _) => Value::opt_string(s.clone()),
    };
    Value::object([
        ("server", server),
        ("username", Value::opt_string(m.username.clone())),
        ("password", prior.get("password").clone()),
        ("password_wo", Value::Null),
        (
            "password_wo_version",
            prior.get("password_wo_version").clone(),
        ),
        (
            "identity_reference",
            Value::opt_string(
                m.identity_reference
                    .as_ref()
                    .and_then(|i| i.resource_id.clone()),
            ),
        ),
    ])
}

fn prior_is_object(v: &Value) -> bool {
    matches!(v, Value::Object(_))
}

/// The `container` block of a task, start task, preparation or release task.
pub fn task_container_block(what: &str) -> Block {
    Block::new(format!("Runs the {what} in a container instead of directly on the node. The pool must have a container configuration."))
        .attr(
            Attribute::string("image_name")
                .required()
                .validate(NotEmpty)
                .description("Image to run, as given to `docker pull`, e.g. `ubuntu:22.04` or `myregistry.azurecr.io/app:1.2`. Without a tag, `:latest` is used."),
        )
        .attr(
            Attribute::string("run_options")
                .optional()
                .description("Extra options for `docker create`, e.g. `--rm --workdir /`. Batch adds its own options for the working directory, environment and mounts."),
        )
        .attr(
            Attribute::string("working_directory")
                .default(Value::string("taskWorkingDirectory"))
                .validate(OneOf(WORKING_DIRECTORIES))
                .description("`taskWorkingDirectory` (Batch's default: the task's working directory on the node) or `containerImageDefault` (the image's WORKDIR)."),
        )
        .block(NestedBlock::single("registry", registry_block()).max_items(1))
        .block(
            NestedBlock::list(
                "host_batch_bind_mount",
                Block::new("A Batch directory of the node to mount into the container. Without any, Batch mounts the whole AZ_BATCH_NODE_ROOT_DIR.")
                    .attr(Attribute::string("source").required().validate(OneOf(BIND_MOUNT_SOURCES)).description("Which directory: `Shared`, `Startup`, `VfsMounts`, `Task`, `JobPrep` or `Applications`."))
                    .attr(Attribute::bool("is_read_only").optional().description("Mount read-only. Default `false`.")),
            ),
        )
}

/// Checks a container block (registry rules).
pub fn validate_task_container(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if let Some(r) = v.get_block("registry") {
        validate_registry(r, &path.child("registry"), diags);
    }
}

/// Container settings as Batch takes them.
pub fn task_container_to_model(planned: &Value, config: &Value) -> TaskContainerSettings {
    let mounts: Vec<ContainerHostBatchBindMountEntry> = planned
        .get("host_batch_bind_mount")
        .elements()
        .iter()
        .map(|m| ContainerHostBatchBindMountEntry {
            source: m.get_str("source").map(str::to_string),
            is_read_only: m.get_bool("is_read_only"),
        })
        .collect();
    TaskContainerSettings {
        image_name: planned
            .get_str("image_name")
            .unwrap_or_default()
            .to_string(),
        container_run_options: planned.get_str("run_options").map(str::to_string),
        registry: planned
            .get_block("registry")
            .map(|r| registry_to_model(r, config.get_block("registry").unwrap_or(&Value::Null))),
        working_directory: planned.get_str("working_directory").map(str::to_string),
        container_host_batch_bind_mounts: if mounts.is_empty() {
            None
        } else {
            Some(mounts)
        },
    }
}

/// Container settings as state. Values the service fills in by itself (the default working
/// directory, an empty run options string) keep the prior spelling so plans stay empty.
pub fn task_container_from_model(m: &TaskContainerSettings, prior: &Value) -> Value {
    // Optional + computed with Batch's default, so that a configuration that writes the default
    // and one that leaves it out both read back without a diff (also after import).
    let working_directory = match (
        m.working_directory
            .as_deref()
            .unwrap_or("taskWorkingDirectory"),
        prior.get_str("working_directory"),
    ) {
        (w, Some(p)) if w.eq_ignore_ascii_case(p) => Value::string(p),
        (w, _) => Value::string(w),
    };
    let run_options = match (
        m.container_run_options.as_deref(),
        prior.get_str("run_options"),
    ) {
        (Some(""), None) | (None, None) => Value::Null,
        (r, _) => Value::opt_string(r.map(str::to_string)),
    };
    let prior_mounts = prior.get("host_batch_bind_mount").elements();
    let mounts = m
        .container_host_batch_bind_mounts
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, e)| {
            let p = prior_mounts.get(i).unwrap_or(&Value::Null);
            let ro = match (e.is_read_only, p.get_bool("is_read_only")) {
                (Some(false), None) | (None, None) => Value::Null,
                (r, _) => Value::opt_bool(r),
            };
            Value::object([
                ("source", Value::opt_string(e.source.clone())),
                ("is_read_only", ro),
            ])
        })
        .collect();
    Value::object([
        ("image_name", Value::string(m.image_name.clone())),
        ("run_options", run_options),
        ("working_directory", working_directory),
        (
            "registry",
            m.registry
                .as_ref()
                .map(|r| registry_from_model(r, prior.get("registry")))
                .unwrap_or(Value::Null),
        ),
        ("host_batch_bind_mount", Value::List(mounts)),
    ])
}
