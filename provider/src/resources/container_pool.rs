//! `batch_container_pool`: a Batch pool whose nodes run container tasks.
//!
//! Mutability follows the Batch API (2024-07-01.20.0):
//! - start task, metadata and target node communication mode: Pool_Patch (merge), or
//!   Pool_UpdateProperties (replace) when something must be removed that Patch cannot remove;
//! - scale: Pool_Resize / Pool_StopResize / Pool_EnableAutoScale / Pool_DisableAutoScale;
//! - display name, VM size, image, node agent, container configuration, network, task slots,
//!   scheduling policy and inter-node communication: Pool_Patch only while the pool has no nodes
//!   ("This field can be updated only when the pool is empty"). The plan updates them in place when
//!   the pool is empty (or is being scaled to 0 in the same apply) and replaces the pool otherwise.
//! - A new registry password never replaces the pool: it is sent when the pool is empty, and
//!   otherwise kept pending (private state) and sent by the first apply that finds the pool empty.

use std::time::Duration;

use crate::common::validators::BatchId;
use crate::common::validators::is_batch_id;
use async_trait::async_trait;
use batch_client::models::{
    AutoUserSpecification, CloudPool, ComputeNode, ContainerConfiguration, ContainerRegistry,
    ImageReference, NetworkConfiguration, PoolAddParameter, PoolEnableAutoScaleParameter,
    PoolPatchParameter, PoolResizeParameter, PoolUpdatePropertiesParameter,
    PublicIPAddressConfiguration, StartTask, TaskSchedulingPolicy, UserIdentity,
    VirtualMachineConfiguration,
};
use batch_client::{BatchError, ListQuery, RequestOptions, Versioned};
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Identity, ImportResponse, PlanRequest,
    PlanResponse, Private, ReadRequest, ReadResponse, Resource, null_object,
};
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema, timeouts_block};
use tfplugin::validators::parse_iso8601_duration;
use tfplugin::validators::{IntBetween, Iso8601Duration, NotEmpty, OneOf};
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::container::{
    registry_block, registry_from_model, registry_to_model, task_container_block,
    task_container_from_model, task_container_to_model, validate_registry, validate_task_container,
};
use crate::common::{
    Batch, WaitError, batch_error, cancellable_sleep, env_from_model, env_to_model,
    metadata_from_model, metadata_to_model, opts, poll_opts, poll_until, timeout, wait_error,
};

pub struct ContainerPoolResource;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const WAIT_MODES: &[&str] = &["none", "steady", "nodes_ready"];
const CONTAINER_TYPES: &[&str] = &["dockerCompatible", "criCompatible"];
const FILL_TYPES: &[&str] = &["spread", "pack"];
const DEALLOCATION: &[&str] = &["requeue", "terminate", "taskcompletion", "retaineddata"];
const ELEVATION: &[&str] = &["nonadmin", "admin"];
const COMM_MODES: &[&str] = &["default", "classic", "simplified"];
const VNET_SCOPES: &[&str] = &["none", "job"];
const IP_PROVISION: &[&str] = &["batchmanaged", "usermanaged", "nopublicipaddresses"];
/// Attributes Batch changes only while the pool has no nodes (Pool_Patch, 2024-07-01.20.0).
const EMPTY_ONLY: &[&str] = &[
    "display_name",
    "vm_size",
    "node_agent_sku_id",
    "image",
    "virtual_machine_image_id",
    "container",
    "network_configuration",
    "task_slots_per_node",
    "task_scheduling_policy",
    "inter_node_communication",
];
/// Computed attributes of the pool (kept known in plans when an update does not change them).
const COMPUTED: &[&str] = &[
    "state",
    "allocation_state",
    "current_dedicated_nodes",
    "current_low_priority_nodes",
    "last_modified",
];
const PENDING_REGISTRY: &str = "registry_password_pending";

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const EMPTY_NOTE: &str = "Batch changes this only while the pool has no nodes: the change is applied in place when the pool is empty (or scaled to 0 nodes in the same apply) and otherwise replaces the pool.";

fn image_block() -> Block {
    Block::new(format!("A Marketplace image for the nodes (Batch `imageReference`). It must support containers; see the `batch_supported_images` data source. Exactly one of `image` and `virtual_machine_image_id`. {EMPTY_NOTE}"))
        .attr(Attribute::string("publisher").required().validate(NotEmpty).description("Image publisher, e.g. `microsoft-dsvm` or `microsoft-azure-batch`."))
        .attr(Attribute::string("offer").required().validate(NotEmpty).description("Image offer, e.g. `ubuntu-hpc`."))
        .attr(Attribute::string("sku").required().validate(NotEmpty).description("Image SKU, e.g. `2204`."))
        .attr(Attribute::string("version").default(Value::string("latest")).validate(NotEmpty).description("Image version. Default `latest` (Batch's default)."))
}

fn container_block() -> Block {
    Block::new(format!("The pool's container configuration (Batch `containerConfiguration`): the container runtime, images prefetched on every node and private registries. {EMPTY_NOTE}"))
        .attr(
            Attribute::string("type")
                .default(Value::string("dockerCompatible"))
                .validate(OneOf(CONTAINER_TYPES))
                .description("Container runtime: `dockerCompatible` (Docker-compatible engine, the default) or `criCompatible` (a CRI runtime such as containerd)."),
        )
        .attr(
            Attribute::string_list("image_names")
                .optional()
                .description("Images pulled onto every node when it joins the pool, as given to `docker pull` (e.g. `ubuntu:22.04`). Tasks may also use other images, pulled when the task starts."),
        )
        .block(NestedBlock::list(
            "registry",
            registry_block().attr_description_note(
                "A new password (`password`, or `password_wo` with a new `password_wo_version`) never replaces the pool: Batch accepts registry changes only on an empty pool, so on a pool with nodes it is kept pending and sent by the first apply that finds the pool empty; the plan warns when that happens.",
            ),
        ))
}

/// Adds a sentence to the block's description (keeps `registry_block` shared and unchanged).
trait BlockNote {
    fn attr_description_note(self, note: &str) -> Block;
}
impl BlockNote for Block {
    fn attr_description_note(mut self, note: &str) -> Block {
        self.description = format!("{} {note}", self.description);
        self
    }
}

fn fixed_scale_block() -> Block {
    Block::new("A fixed number of nodes. Exactly one of `fixed_scale` and `auto_scale`. Changes resize the pool in place (a pending resize is stopped first).")
        .attr(Attribute::number("target_dedicated_nodes").default(Value::int(0)).validate(IntBetween(0, 10_000)).description("Dedicated nodes wanted. Default `0`."))
        .attr(Attribute::number("target_low_priority_nodes").default(Value::int(0)).validate(IntBetween(0, 10_000)).description("Spot/low-priority nodes wanted. Default `0`."))
        .attr(Attribute::string("resize_timeout").default(Value::string("PT15M")).validate(Iso8601Duration).description("How long Batch may take to allocate the nodes, as an ISO 8601 duration of at least 5 minutes. Default `PT15M`. A resize that times out leaves `resizeErrors`, which fail the apply when `wait_for` is not `none`."))
        .attr(Attribute::string("node_deallocation_option").optional().validate(OneOf(DEALLOCATION)).description("What happens to running tasks when a resize removes nodes: `requeue` (Batch's default), `terminate`, `taskcompletion` or `retaineddata`. Batch does not return it; it is used by the next resize."))
}

fn auto_scale_block() -> Block {
    Block::new("Automatic scaling by a formula. Exactly one of `fixed_scale` and `auto_scale`. Changes call Pool_EnableAutoScale in place; switching to `fixed_scale` disables autoscaling and resizes.")
        .attr(Attribute::string("formula").required().validate(NotEmpty).description("The autoscale formula, e.g. `$TargetDedicatedNodes = 2;`. Batch evaluates it when autoscaling is enabled and then every `evaluation_interval`; an evaluation error fails the apply."))
        .attr(Attribute::string("evaluation_interval").default(Value::string("PT15M")).validate(Iso8601Duration).description("How often Batch evaluates the formula, an ISO 8601 duration from 5 minutes to 168 hours. Default `PT15M`."))
}

fn start_task_block() -> Block {
    Block::new("A task run on every node when it joins the pool or restarts, e.g. to warm caches. Changes update the pool in place (Pool_Patch) and apply to nodes that join or restart afterwards; removing the block removes the start task (Pool_UpdateProperties).")
        .attr(Attribute::string("command_line").required().validate(NotEmpty).description("Command line; not run in a shell, so use `/bin/sh -c '...'` for shell features."))
        .attr(Attribute::bool("wait_for_success").default(Value::Bool(true)).description("Whether nodes wait for the start task to succeed before tasks are scheduled on them; a failure makes the node `starttaskfailed`. Default `true` (Batch's default)."))
        .attr(Attribute::number("max_task_retry_count").default(Value::int(0)).validate(IntBetween(-1, 100)).description("Retries after a failure; `-1` retries without limit. Default `0`."))
        .attr(Attribute::string("elevation_level").default(Value::string("nonadmin")).validate(OneOf(ELEVATION)).description("Runs as the pool-wide auto user with this elevation: `nonadmin` (default) or `admin`."))
        .attr(Attribute::string_map("environment").optional().description("Environment variables of the start task (plain text: not for secrets)."))
        .block(NestedBlock::single("container", task_container_block("start task")))
}

fn network_block() -> Block {
    Block::new(format!("Network settings of the pool (Batch `networkConfiguration`). {EMPTY_NOTE}"))
        .attr(Attribute::string("subnet_id").optional().validate(NotEmpty).description("ARM id of a subnet in the account's region and subscription, e.g. `/subscriptions/.../virtualNetworks/vnet/subnets/default`."))
        .attr(Attribute::string("dynamic_vnet_assignment_scope").optional().validate(OneOf(VNET_SCOPES)).description("`none` (Batch's default) or `job` (per-job VNet assignment)."))
        .attr(Attribute::bool("accelerated_networking_enabled").optional().description("Enable accelerated networking on the nodes. Batch's default is `false`."))
        .attr(Attribute::string("public_address_provisioning_type").optional().validate(OneOf(IP_PROVISION)).description("Public IPs of the nodes: `batchmanaged` (Batch's default), `usermanaged` (with `public_ip_address_ids`) or `nopublicipaddresses`."))
        .attr(Attribute::string_list("public_ip_address_ids").optional().description("ARM ids of public IP addresses for `usermanaged` provisioning."))
}

pub fn schema() -> Schema {
    Schema::new(
        Block::new("A Batch pool whose nodes run container tasks (`virtualMachineConfiguration.containerConfiguration`). Creation waits as `wait_for` says; scale, start task and metadata change in place; properties Batch changes only on an empty pool are updated in place when the pool has no nodes and otherwise replace it.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("The pool id (same as `name`)."))
            .attr(Attribute::string("name").required().requires_replace().validate(BatchId).description("Pool id in the account: 1 to 64 letters, digits, hyphens and underscores, unique ignoring case. Changing it replaces the pool."))
            .attr(Attribute::string("display_name").optional().description(format!("Display name, up to 1024 characters. {EMPTY_NOTE}")))
            .attr(Attribute::string("vm_size").required().validate(NotEmpty).description(format!("VM size of every node, e.g. `STANDARD_D2S_V3` (Batch returns it lower-cased; case does not matter). {EMPTY_NOTE}")))
            .attr(Attribute::string("node_agent_sku_id").required().validate(NotEmpty).description(format!("Batch node agent matching the image, e.g. `batch.node.ubuntu 22.04`. {EMPTY_NOTE}")))
            .attr(Attribute::string("virtual_machine_image_id").optional().validate(NotEmpty).description(format!("ARM id of an Azure Compute Gallery image (version) instead of `image`. Exactly one of `image` and `virtual_machine_image_id`. {EMPTY_NOTE}")))
            .attr(Attribute::number("task_slots_per_node").default(Value::int(1)).validate(IntBetween(1, 256)).description(format!("Task slots per node (concurrent tasks), at most 256 and 4 times the cores. Default `1`. {EMPTY_NOTE}")))
            .attr(Attribute::string("task_scheduling_policy").default(Value::string("spread")).validate(OneOf(FILL_TYPES)).description(format!("How tasks are spread over nodes: `spread` (default: evenly) or `pack` (fill each node's slots first). {EMPTY_NOTE}")))
            .attr(Attribute::bool("inter_node_communication").default(Value::Bool(false)).description(format!("Allow direct communication between nodes (needed by multi-instance MPI tasks); limits the pool's maximum size. Default `false`. {EMPTY_NOTE}")))
            .attr(Attribute::string_map("metadata").optional().description("Name-value pairs stored with the pool; Batch gives them no meaning. Changes update in place."))
            .attr(Attribute::string("target_node_communication_mode").optional().validate(OneOf(COMM_MODES)).description("How nodes talk to the Batch service: `default`, `classic` or `simplified`. Unset means Batch's default. Changes update in place and apply to nodes after a reboot or resize."))
            .attr(Attribute::string("wait_for").default(Value::string("steady")).validate(OneOf(WAIT_MODES)).description("What create and update wait for: `none`; `steady` (default: allocation finished; resize errors and autoscale evaluation errors fail the apply); `nodes_ready` (also every node `idle` or `running` with its start task done; `unusable` or `starttaskfailed` nodes fail the apply with the node's errors). Not sent to Batch."))
            .attr(Attribute::string("state").computed().description("Pool state: `active` or `deleting`."))
            .attr(Attribute::string("allocation_state").computed().description("Allocation state: `steady`, `resizing` or `stopping`."))
            .attr(Attribute::number("current_dedicated_nodes").computed().description("Dedicated nodes currently in the pool."))
            .attr(Attribute::number("current_low_priority_nodes").computed().description("Spot/low-priority nodes currently in the pool (including preempted ones)."))
            .attr(Attribute::string("last_modified").computed().description("When pool-level settings last changed (RFC 3339)."))
            .block(NestedBlock::single("image", image_block()))
            // Required; checked in validate() (tfplugin emits min_items=1 without max_items=1 on SINGLE
            // blocks, which Terraform rejects).
            .block(NestedBlock::single("container", container_block()))
            .block(NestedBlock::single("fixed_scale", fixed_scale_block()))
            .block(NestedBlock::single("auto_scale", auto_scale_block()))
            .block(NestedBlock::single("start_task", start_task_block()))
            .block(NestedBlock::single("network_configuration", network_block()))
            .block(timeouts_block(&[("create", "30m"), ("update", "30m"), ("delete", "30m")])),
    )
}

// ---------------------------------------------------------------------------------------------
// Configuration -> Batch models
// ---------------------------------------------------------------------------------------------

fn s(v: &Value, k: &str) -> Option<String> {
    v.get_str(k).map(str::to_string)
}

fn i32_of(v: &Value, k: &str) -> Option<i32> {
    v.get_i64(k).and_then(|n| i32::try_from(n).ok())
}

fn image_model(planned: &Value) -> ImageReference {
    match planned.get_block("image") {
        Some(img) => ImageReference {
            publisher: s(img, "publisher"),
            offer: s(img, "offer"),
            sku: s(img, "sku"),
            version: s(img, "version"),
            ..Default::default()
        },
        None => ImageReference {
            virtual_machine_image_id: s(planned, "virtual_machine_image_id"),
            ..Default::default()
        },
    }
}

fn container_model(planned: &Value, config: &Value) -> Option<ContainerConfiguration> {
    let c = planned.get_block("container")?;
    let cfg = config.get_block("container").unwrap_or(&Value::Null);
    let names = c.get_string_list("image_names");
    let regs: Vec<ContainerRegistry> = c
        .get("registry")
        .elements()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            registry_to_model(
                r,
                cfg.get("registry")
                    .elements()
                    .get(i)
                    .unwrap_or(&Value::Null),
            )
        })
        .collect();
    Some(ContainerConfiguration {
        type_: s(c, "type").unwrap_or_else(|| "dockerCompatible".into()),
        container_image_names: (!names.is_empty()).then_some(names),
        container_registries: (!regs.is_empty()).then_some(regs),
    })
}

/// The VM configuration: `base` (the pool's current one on update, so settings this resource does
/// not manage survive) with our attributes laid over it.
fn vm_config_model(
    planned: &Value,
    config: &Value,
    base: Option<VirtualMachineConfiguration>,
) -> VirtualMachineConfiguration {
    let mut vmc = base.unwrap_or_default();
    vmc.image_reference = image_model(planned);
    vmc.node_agent_sku_id = s(planned, "node_agent_sku_id").unwrap_or_default();
    vmc.container_configuration = container_model(planned, config);
    vmc
}

fn start_task_model(planned: &Value, config: &Value) -> Option<StartTask> {
    let st = planned.get_block("start_task")?;
    let cfg = config.get_block("start_task").unwrap_or(&Value::Null);
    Some(StartTask {
        command_line: s(st, "command_line").unwrap_or_default(),
        container_settings: st.get_block("container").map(|c| {
            task_container_to_model(c, cfg.get_block("container").unwrap_or(&Value::Null))
        }),
        resource_files: None,
        environment_settings: env_to_model(st.get("environment")),
        user_identity: Some(UserIdentity {
            username: None,
            auto_user: Some(AutoUserSpecification {
                scope: Some("pool".into()),
                elevation_level: Some(
                    s(st, "elevation_level").unwrap_or_else(|| "nonadmin".into()),
                ),
            }),
        }),
        max_task_retry_count: i32_of(st, "max_task_retry_count"),
        wait_for_success: st.get_bool("wait_for_success"),
    })
}

fn network_model(planned: &Value) -> Option<NetworkConfiguration> {
    let n = planned.get_block("network_configuration")?;
    let ips = n.get_string_list("public_ip_address_ids");
    let provision = s(n, "public_address_provisioning_type");
    Some(NetworkConfiguration {
        subnet_id: s(n, "subnet_id"),
        dynamic_v_net_assignment_scope: s(n, "dynamic_vnet_assignment_scope"),
        endpoint_configuration: None,
        public_ip_address_configuration: (provision.is_some() || !ips.is_empty()).then(|| {
            PublicIPAddressConfiguration {
                provision,
                ip_address_ids: (!ips.is_empty()).then_some(ips),
            }
        }),
        enable_accelerated_networking: n.get_bool("accelerated_networking_enabled"),
    })
}

fn fill_type(planned: &Value) -> Option<TaskSchedulingPolicy> {
    planned
        .get_str("task_scheduling_policy")
        .map(|f| TaskSchedulingPolicy {
            node_fill_type: f.to_string(),
        })
}

fn pool_add_model(planned: &Value, config: &Value) -> PoolAddParameter {
    let mut p = PoolAddParameter {
        id: s(planned, "name").unwrap_or_default(),
        display_name: s(planned, "display_name"),
        vm_size: s(planned, "vm_size").unwrap_or_default(),
        virtual_machine_configuration: Some(vm_config_model(planned, config, None)),
        enable_inter_node_communication: planned.get_bool("inter_node_communication"),
        network_configuration: network_model(planned),
        start_task: start_task_model(planned, config),
        task_slots_per_node: i32_of(planned, "task_slots_per_node"),
        task_scheduling_policy: fill_type(planned),
        metadata: metadata_to_model(planned.get("metadata")),
        target_node_communication_mode: s(planned, "target_node_communication_mode"),
        ..Default::default()
    };
    if let Some(a) = planned.get_block("auto_scale") {
        p.enable_auto_scale = Some(true);
        p.auto_scale_formula = s(a, "formula");
        p.auto_scale_evaluation_interval = s(a, "evaluation_interval");
    } else if let Some(f) = planned.get_block("fixed_scale") {
        p.enable_auto_scale = Some(false);
        p.target_dedicated_nodes = i32_of(f, "target_dedicated_nodes");
        p.target_low_priority_nodes = i32_of(f, "target_low_priority_nodes");
        p.resize_timeout = s(f, "resize_timeout");
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Batch models -> state
// ---------------------------------------------------------------------------------------------

/// The remote string, spelled as in `prior` when they differ only in case (Batch lower-cases
/// some values and is case-insensitive about them).
fn keep_case(remote: Option<&str>, prior: &Value) -> Value {
    match (remote, prior.as_str()) {
        (Some(r), Some(p)) if r.eq_ignore_ascii_case(p) => Value::string(p),
        (r, _) => Value::opt_string(r),
    }
}

/// A remote value that equals Batch's default reads back as null when the user left it unset.
fn default_as_null(remote: Option<&str>, default: &str, prior: &Value) -> Value {
    match remote {
        Some(r) if prior.is_null() && r.eq_ignore_ascii_case(default) => Value::Null,
        r => keep_case(r, prior),
    }
}

/// An ISO 8601 duration, kept in the user's spelling when it means the same time (`PT15M` vs
/// `PT900S`, `P1D` vs `PT24H`).
fn keep_duration(remote: Option<&str>, default: &str, prior: &Value) -> Value {
    let r = remote.unwrap_or(default);
    if let Some(p) = prior.as_str()
        && let (Ok(a), Ok(b)) = (parse_iso8601_duration(r), parse_iso8601_duration(p))
        && a == b
    {
        return Value::string(p);
    }
    Value::string(r)
}

fn normalise_formula(f: &str) -> String {
    f.replace("\r\n", "\n").trim().to_string()
}

fn string_list_or_null(list: Option<&Vec<String>>, prior: &Value) -> Value {
    match list {
        Some(l) if !l.is_empty() => Value::string_list(l.iter().cloned()),
        _ if prior.is_null() => Value::Null,
        _ => Value::List(vec![]),
    }
}

fn container_from_model(c: &ContainerConfiguration, prior: &Value) -> Value {
    let prior_regs = prior.get("registry").elements();
    let regs = c
        .container_registries
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| registry_from_model(r, matching_registry(prior_regs, r, i)))
        .collect();
    Value::object([
        ("type", keep_case(Some(c.type_.as_str()), prior.get("type"))),
        (
            "image_names",
            string_list_or_null(c.container_image_names.as_ref(), prior.get("image_names")),
        ),
        ("registry", Value::List(regs)),
    ])
}

/// The prior registry block describing the same registry (server and username), else the one
/// at the same position: passwords are never returned and come from there.
fn matching_registry<'a>(prior: &'a [Value], r: &ContainerRegistry, i: usize) -> &'a Value {
    static NULL: Value = Value::Null;
    let server_eq = |p: &Value| match (p.get_str("server"), r.registry_server.as_deref()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        (None, Some(b)) => b.eq_ignore_ascii_case("docker.io"),
        (Some(_), None) => false,
    };
    prior
        .iter()
        .find(|p| server_eq(p) && p.get_str("username") == r.username.as_deref())
        .or_else(|| prior.get(i))
        .unwrap_or(&NULL)
}

fn start_task_from_model(st: &StartTask, prior: &Value) -> Value {
    let elevation = st
        .user_identity
        .as_ref()
        .and_then(|u| u.auto_user.as_ref())
        .and_then(|a| a.elevation_level.as_deref())
        .unwrap_or("nonadmin");
    Value::object([
        ("command_line", Value::string(st.command_line.clone())),
        (
            "wait_for_success",
            Value::Bool(st.wait_for_success.unwrap_or(true)),
        ),
        (
            "max_task_retry_count",
            Value::int(st.max_task_retry_count.unwrap_or(0) as i64),
        ),
        (
            "elevation_level",
            keep_case(Some(elevation), prior.get("elevation_level")),
        ),
        (
            "environment",
            env_from_model(st.environment_settings.as_ref(), prior.get("environment")),
        ),
        (
            "container",
            st.container_settings
                .as_ref()
                .map(|c| task_container_from_model(c, prior.get("container")))
                .unwrap_or(Value::Null),
        ),
    ])
}

fn network_from_model(n: &NetworkConfiguration, prior: &Value) -> Value {
    let ip = n.public_ip_address_configuration.as_ref();
    let v = Value::object([
        (
            "subnet_id",
            keep_case(n.subnet_id.as_deref(), prior.get("subnet_id")),
        ),
        (
            "dynamic_vnet_assignment_scope",
            default_as_null(
                n.dynamic_v_net_assignment_scope.as_deref(),
                "none",
                prior.get("dynamic_vnet_assignment_scope"),
            ),
        ),
        (
            "accelerated_networking_enabled",
            match n.enable_accelerated_networking {
                Some(false) if prior.get("accelerated_networking_enabled").is_null() => Value::Null,
                b => Value::opt_bool(b),
            },
        ),
        (
            "public_address_provisioning_type",
            default_as_null(
                ip.and_then(|i| i.provision.as_deref()),
                "batchmanaged",
                prior.get("public_address_provisioning_type"),
            ),
        ),
        (
            "public_ip_address_ids",
            string_list_or_null(
                ip.and_then(|i| i.ip_address_ids.as_ref()),
                prior.get("public_ip_address_ids"),
            ),
        ),
    ]);
    // An all-default network configuration the user did not write reads back as no block.
    if prior.is_null() && v.as_map().is_some_and(|m| m.values().all(Value::is_null)) {
        Value::Null
    } else {
        v
    }
}

/// The pool as Terraform state. `prior` (the previous state or the plan) supplies the user's
/// spelling where Batch normalises values, values Batch never returns (passwords,
/// `node_deallocation_option`), and the settings that live only in Terraform (`wait_for`,
/// `timeouts`).
pub fn pool_to_state(p: &CloudPool, prior: &Value) -> Value {
    let name = p.id.clone().unwrap_or_default();
    let name = keep_case(Some(&name), prior.get("name"));
    let vmc = p.virtual_machine_configuration.clone().unwrap_or_default();
    let img = &vmc.image_reference;
    let prior_img = prior.get("image");
    let (image, vm_image_id) = if img.virtual_machine_image_id.is_some() {
        (
            Value::Null,
            keep_case(
                img.virtual_machine_image_id.as_deref(),
                prior.get("virtual_machine_image_id"),
            ),
        )
    } else if img.publisher.is_some() || img.offer.is_some() || img.sku.is_some() {
        (
            Value::object([
                (
                    "publisher",
                    keep_case(img.publisher.as_deref(), prior_img.get("publisher")),
                ),
                (
                    "offer",
                    keep_case(img.offer.as_deref(), prior_img.get("offer")),
                ),
                ("sku", keep_case(img.sku.as_deref(), prior_img.get("sku"))),
                (
                    "version",
                    keep_case(
                        Some(img.version.as_deref().unwrap_or("latest")),
                        prior_img.get("version"),
                    ),
                ),
            ]),
            Value::Null,
        )
    } else {
        (Value::Null, Value::Null)
    };
    let container = vmc
        .container_configuration
        .as_ref()
        .map(|c| container_from_model(c, prior.get("container")))
        .unwrap_or(Value::Null);
    let (fixed, auto) = if p.enable_auto_scale == Some(true) {
        let pa = prior.get("auto_scale");
        let formula = p.auto_scale_formula.clone().unwrap_or_default();
        let formula = match pa.get_str("formula") {
            Some(f) if normalise_formula(f) == normalise_formula(&formula) => Value::string(f),
            _ => Value::string(formula),
        };
        (
            Value::Null,
            Value::object([
                ("formula", formula),
                (
                    "evaluation_interval",
                    keep_duration(
                        p.auto_scale_evaluation_interval.as_deref(),
                        "PT15M",
                        pa.get("evaluation_interval"),
                    ),
                ),
            ]),
        )
    } else {
        let pf = prior.get("fixed_scale");
        (
            Value::object([
                (
                    "target_dedicated_nodes",
                    Value::int(p.target_dedicated_nodes.unwrap_or(0) as i64),
                ),
                (
                    "target_low_priority_nodes",
                    Value::int(p.target_low_priority_nodes.unwrap_or(0) as i64),
                ),
                (
                    "resize_timeout",
                    keep_duration(
                        p.resize_timeout.as_deref(),
                        "PT15M",
                        pf.get("resize_timeout"),
                    ),
                ),
                (
                    "node_deallocation_option",
                    pf.get("node_deallocation_option").clone(),
                ),
            ]),
            Value::Null,
        )
    };
    let start_task = p
        .start_task
        .as_ref()
        .map(|st| start_task_from_model(st, prior.get("start_task")))
        .unwrap_or(Value::Null);
    let network = p
        .network_configuration
        .as_ref()
        .map(|n| network_from_model(n, prior.get("network_configuration")))
        .unwrap_or(Value::Null);
    let fill = p
        .task_scheduling_policy
        .as_ref()
        .map(|t| t.node_fill_type.to_ascii_lowercase())
        .unwrap_or_else(|| "spread".into());
    let wait_for = match prior.get("wait_for") {
        Value::String(w) => Value::string(w.clone()),
        _ => Value::string("steady"),
    };
    let timeouts = match prior.get("timeouts") {
        Value::Unknown => Value::Null,
        t => t.clone(),
    };
    Value::object([
        ("id", name.clone()),
        ("name", name),
        (
            "display_name",
            Value::opt_string(
                p.display_name
                    .clone()
                    .filter(|d| !(d.is_empty() && prior.get("display_name").is_null())),
            ),
        ),
        (
            "vm_size",
            keep_case(p.vm_size.as_deref(), prior.get("vm_size")),
        ),
        (
            "node_agent_sku_id",
            keep_case(Some(&vmc.node_agent_sku_id), prior.get("node_agent_sku_id")),
        ),
        ("virtual_machine_image_id", vm_image_id),
        (
            "task_slots_per_node",
            Value::int(p.task_slots_per_node.unwrap_or(1) as i64),
        ),
        ("task_scheduling_policy", Value::string(fill)),
        (
            "inter_node_communication",
            Value::Bool(p.enable_inter_node_communication.unwrap_or(false)),
        ),
        (
            "metadata",
            metadata_from_model(p.metadata.as_ref(), prior.get("metadata")),
        ),
        (
            "target_node_communication_mode",
            default_as_null(
                p.target_node_communication_mode.as_deref(),
                "default",
                prior.get("target_node_communication_mode"),
            ),
        ),
        ("wait_for", wait_for),
        ("state", Value::opt_string(p.state.clone())),
        (
            "allocation_state",
            Value::opt_string(p.allocation_state.clone()),
        ),
        (
            "current_dedicated_nodes",
            Value::int(p.current_dedicated_nodes.unwrap_or(0) as i64),
        ),
        (
            "current_low_priority_nodes",
            Value::int(p.current_low_priority_nodes.unwrap_or(0) as i64),
        ),
        ("last_modified", Value::opt_string(p.last_modified.clone())),
        ("image", image),
        ("container", container),
        ("fixed_scale", fixed),
        ("auto_scale", auto),
        ("start_task", start_task),
        ("network_configuration", network),
        ("timeouts", timeouts),
    ])
}

/// `planned` with every unknown value replaced by the value at the same place in `actual`
/// (Null when `actual` has none): after apply, known planned values must come back unchanged.
fn merge_unknowns(planned: &Value, actual: &Value) -> Value {
    match planned {
        Value::Unknown => actual.clone(),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), merge_unknowns(v, actual.get(k))))
                .collect(),
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| merge_unknowns(v, actual.elements().get(i).unwrap_or(&Value::Null)))
                .collect(),
        ),
        v => v.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The attribute a Batch `PropertyName` refers to.
fn property_path(prop: &str) -> Option<AttrPath> {
    let p = prop.rsplit('.').next().unwrap_or(prop);
    let path = match p.to_ascii_lowercase().as_str() {
        "id" | "poolid" => "name",
        "displayname" => "display_name",
        "vmsize" => "vm_size",
        "nodeagentskuid" => "node_agent_sku_id",
        "virtualmachineimageid" => "virtual_machine_image_id",
        "imagereference" | "publisher" | "offer" | "sku" | "version" => "image",
        "containerconfiguration" | "containerimagenames" | "containerregistries" => "container",
        "targetdedicatednodes" => "fixed_scale.target_dedicated_nodes",
        "targetlowprioritynodes" => "fixed_scale.target_low_priority_nodes",
        "resizetimeout" => "fixed_scale.resize_timeout",
        "autoscaleformula" => "auto_scale.formula",
        "autoscaleevaluationinterval" => "auto_scale.evaluation_interval",
        "starttask" | "commandline" => "start_task",
        "networkconfiguration" | "subnetid" => "network_configuration",
        "taskslotspernode" => "task_slots_per_node",
        "taskschedulingpolicy" | "nodefilltype" => "task_scheduling_policy",
        "enableinternodecommunication" => "inter_node_communication",
        "metadata" => "metadata",
        "targetnodecommunicationmode" => "target_node_communication_mode",
        _ => return None,
    };
    let mut ap = AttrPath::root();
    for part in path.split('.') {
        ap = ap.child(part);
    }
    Some(ap)
}

fn report(diags: &mut Diagnostics, doing: &str, err: &BatchError) {
    let path = err
        .service()
        .and_then(|se| se.value("PropertyName"))
        .and_then(property_path);
    batch_error(diags, doing, err, path.as_ref());
    if err.is_precondition_failed() {
        diags.error(
            "The pool changed outside Terraform",
            "The pool changed outside Terraform since the last refresh (its ETag no longer matches), so nothing was overwritten. Run terraform apply again to see the difference and apply it.",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

fn pool_opts(
    ctx: &Ctx<Batch>,
    deadline: tokio::time::Instant,
    etag: Option<&str>,
) -> RequestOptions {
    let o = opts(ctx, deadline);
    match etag {
        Some(e) => o.if_match(e),
        None => o,
    }
}

fn resize_error_diags(p: &CloudPool, name: &str) -> Option<Diagnostics> {
    let errs = p.resize_errors.as_ref().filter(|e| !e.is_empty())?;
    let mut d = Diagnostics::new();
    for e in errs {
        let values: String = e
            .values
            .iter()
            .flatten()
            .map(|v| {
                format!(
                    "\n{}: {}",
                    v.name.as_deref().unwrap_or(""),
                    v.value.as_deref().unwrap_or("")
                )
            })
            .collect();
        d.error(
            format!(
                "Pool {name} resize failed: {}",
                e.code.as_deref().unwrap_or("Unknown")
            ),
            format!(
                "Batch reported a resize error for pool {name} ({} of the target nodes were allocated).\nBatch error code: {}\nMessage: {}{values}",
                p.current_dedicated_nodes.unwrap_or(0) + p.current_low_priority_nodes.unwrap_or(0),
                e.code.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("")
            ),
        );
    }
    Some(d)
}

fn autoscale_error_diags(p: &CloudPool, name: &str) -> Option<Diagnostics> {
    let e = p.auto_scale_run.as_ref()?.error.as_ref()?;
    let mut d = Diagnostics::new();
    let values: String = e
        .values
        .iter()
        .flatten()
        .map(|v| {
            format!(
                "\n{}: {}",
                v.name.as_deref().unwrap_or(""),
                v.value.as_deref().unwrap_or("")
            )
        })
        .collect();
    d.attr_error(
        &AttrPath::attr("auto_scale").child("formula"),
        format!(
            "Autoscale formula of pool {name} failed: {}",
            e.code.as_deref().unwrap_or("Unknown")
        ),
        format!(
            "Batch could not evaluate the autoscale formula.\nBatch error code: {}\nMessage: {}{values}",
            e.code.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("")
        ),
    );
    Some(d)
}

/// Node states that mean "usable"; failure states; everything else is "not yet" unless it is a
/// state that does not block readiness (preempted, offline, leaving).
fn node_failure(n: &ComputeNode) -> Option<String> {
    let state = n.state.as_deref().unwrap_or("unknown");
    if !matches!(state, "unusable" | "starttaskfailed") {
        return None;
    }
    let id = n.id.as_deref().unwrap_or("?");
    let mut msg = format!("Node {id} is {state}.");
    for e in n.errors.iter().flatten() {
        msg.push_str(&format!(
            "\nNode error {}: {}",
            e.code.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("")
        ));
        for d in e.error_details.iter().flatten() {
            msg.push_str(&format!(
                "\n  {}: {}",
                d.name.as_deref().unwrap_or(""),
                d.value.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(info) = &n.start_task_info {
        if let Some(code) = info.exit_code {
            msg.push_str(&format!("\nStart task exit code: {code}"));
        }
        if let Some(f) = &info.failure_info {
            msg.push_str(&format!(
                "\nStart task failure ({}) {}: {}",
                f.category,
                f.code.as_deref().unwrap_or(""),
                f.message.as_deref().unwrap_or("")
            ));
            for d in f.details.iter().flatten() {
                msg.push_str(&format!(
                    "\n  {}: {}",
                    d.name.as_deref().unwrap_or(""),
                    d.value.as_deref().unwrap_or("")
                ));
            }
        }
    }
    Some(msg)
}

fn node_pending(n: &ComputeNode) -> bool {
    match n.state.as_deref().unwrap_or("unknown") {
        // Usable, but with `wait_for_success = false` a node is idle while its start task still
        // runs: ready means the start task is done too.
        "idle" | "running" => {
            n.start_task.is_some()
                && n.start_task_info
                    .as_ref()
                    .is_none_or(|i| !i.state.eq_ignore_ascii_case("completed"))
        }
        "unusable" | "starttaskfailed" | "preempted" | "offline" | "leavingpool"
        | "deallocated" | "deallocating" => false,
        _ => true,
    }
}

/// Waits as `mode` says (`steady` / `nodes_ready`). `check_scale_errors`: this apply started a
/// resize or enabled autoscaling, so resize/autoscale errors are ours (stale errors from an
/// earlier resize stay on the pool until the next one and must not fail unrelated updates).
async fn wait_pool(
    ctx: &Ctx<Batch>,
    name: &str,
    mode: &str,
    deadline: tokio::time::Instant,
    check_scale_errors: bool,
) -> Result<Versioned<CloudPool>, WaitError> {
    let what = if mode == "nodes_ready" {
        format!("pool {name} to reach a steady allocation with every node ready")
    } else {
        format!("pool {name} to reach a steady allocation")
    };
    poll_until(ctx, deadline, &what, || {
        let api = &ctx.client.api;
        async move {
            let o = poll_opts(ctx);
            let pool = match api.get_pool(name, &o).await {
                Ok(Some(p)) => p,
                Ok(None) => {
                    let mut d = Diagnostics::new();
                    d.error(
                        format!("Pool {name} disappeared"),
                        format!("Pool {name} was deleted while Terraform waited for it."),
                    );
                    return Err(d);
                }
                Err(e) => return Err(wait_call_error(e, &format!("read pool {name}"))),
            };
            let p = &pool.value;
            let alloc = p.allocation_state.as_deref().unwrap_or("");
            if !alloc.eq_ignore_ascii_case("steady") {
                tracing::info!(
                    pool = name,
                    allocation_state = alloc,
                    current_dedicated = p.current_dedicated_nodes.unwrap_or(0),
                    target_dedicated = p.target_dedicated_nodes.unwrap_or(0),
                    "waiting for the pool allocation"
                );
                return Ok(None);
            }
            if check_scale_errors {
                if let Some(d) = resize_error_diags(p, name) {
                    return Err(d);
                }
                if p.enable_auto_scale == Some(true)
                    && let Some(d) = autoscale_error_diags(p, name)
                {
                    return Err(d);
                }
            }
            if mode != "nodes_ready" {
                return Ok(Some(pool));
            }
            let nodes = match api.list_compute_nodes(name, &ListQuery::default(), &o).await {
                Ok(n) => n,
                Err(e) => return Err(wait_call_error(e, &format!("list the nodes of pool {name}"))),
            };
            let failures: Vec<String> = nodes.iter().filter_map(node_failure).collect();
            if !failures.is_empty() {
                let mut d = Diagnostics::new();
                d.error(
                    format!("{} node(s) of pool {name} failed", failures.len()),
                    format!(
                        "{}\n\nFix the cause (image, start task, registry credentials) and apply again; the pool stays in state.",
                        failures.join("\n\n")
                    ),
                );
                return Err(d);
            }
            let pending = nodes.iter().filter(|n| node_pending(n)).count();
            let expected = (p.current_dedicated_nodes.unwrap_or(0)
                + p.current_low_priority_nodes.unwrap_or(0)) as usize;
            if pending > 0 || nodes.len() < expected {
                tracing::info!(
                    pool = name,
                    nodes = nodes.len(),
                    pending,
                    "waiting for the nodes to become ready"
                );
                return Ok(None);
            }
            Ok(Some(pool))
        }
    })
    .await
}

fn wait_call_error(e: BatchError, doing: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    report(&mut d, doing, &e);
    d
}

/// A GET that still works after StopProvider (to record what exists), bounded to 15 s.
async fn get_pool_uncancelled(ctx: &Ctx<Batch>, name: &str) -> Option<Versioned<CloudPool>> {
    ctx.client
        .api
        .get_pool(
            name,
            &RequestOptions::new().timeout(Duration::from_secs(15)),
        )
        .await
        .ok()
        .flatten()
}

// ---------------------------------------------------------------------------------------------
// Plan analysis
// ---------------------------------------------------------------------------------------------

/// Paths where `a` and `b` differ (most specific attribute or block path).
fn diff_paths(a: &Value, b: &Value, path: &AttrPath, out: &mut Vec<AttrPath>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                diff_paths(v, y.get(k).unwrap_or(&Value::Null), &path.child(k), out);
            }
        }
        (Value::List(x), Value::List(y))
            if x.len() == y.len() && x.iter().all(|v| matches!(v, Value::Object(_))) =>
        {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff_paths(v, w, &path.index(i), out);
            }
        }
        _ => out.push(path.clone()),
    }
}

/// The container block with registry secrets blanked (a password change alone is not a
/// configuration change Batch must see on a pool with nodes).
fn without_secrets(container: &Value) -> Value {
    let mut c = container.clone();
    if let Value::Object(m) = &mut c
        && let Some(Value::List(regs)) = m.get_mut("registry")
    {
        for r in regs.iter_mut() {
            r.set("password", Value::Null);
            r.set("password_wo", Value::Null);
            r.set("password_wo_version", Value::Null);
        }
    }
    c
}

#[derive(Default, Debug)]
struct Changes {
    /// Empty-pool-only properties that changed (registry secrets excluded).
    empty_only: Vec<AttrPath>,
    /// A registry password of the pool's container configuration changed.
    registry_secret: bool,
    /// start_task / metadata / target_node_communication_mode changed.
    props: bool,
    /// Scale settings Batch must see changed.
    scale: bool,
}

impl Changes {
    fn of(prior: &Value, planned: &Value) -> Changes {
        let mut c = Changes::default();
        for k in EMPTY_ONLY {
            let (p, q) = (planned.get(k), prior.get(k));
            if *k == "container" {
                let (p2, q2) = (without_secrets(p), without_secrets(q));
                if p2 != q2 {
                    diff_paths(&p2, &q2, &AttrPath::attr(k), &mut c.empty_only);
                } else if p != q {
                    c.registry_secret = true;
                }
            } else if *k == "vm_size" {
                let same = match (p.as_str(), q.as_str()) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => p == q,
                };
                if !same {
                    c.empty_only.push(AttrPath::attr(k));
                }
            } else if p != q {
                diff_paths(p, q, &AttrPath::attr(k), &mut c.empty_only);
            }
        }
        c.props = ["start_task", "metadata", "target_node_communication_mode"]
            .iter()
            .any(|k| planned.get(k) != prior.get(k));
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.set("node_deallocation_option", Value::Null);
            v
        };
        c.scale = strip(planned.get("fixed_scale")) != strip(prior.get("fixed_scale"))
            || planned.get("auto_scale") != prior.get("auto_scale");
        c
    }
}

/// Both targets of a planned fixed scale are 0 (the update can empty the pool first).
fn scales_to_zero(planned: &Value) -> bool {
    planned.get_block("fixed_scale").is_some_and(|f| {
        f.get_i64("target_dedicated_nodes") == Some(0)
            && f.get_i64("target_low_priority_nodes") == Some(0)
    })
}

/// The prior state says the pool has no nodes and is not allocating any.
fn empty_in_state(prior: &Value) -> bool {
    prior.get_i64("current_dedicated_nodes") == Some(0)
        && prior.get_i64("current_low_priority_nodes") == Some(0)
        && prior.get_str("allocation_state") == Some("steady")
}

fn is_empty_pool(p: &CloudPool) -> bool {
    p.current_dedicated_nodes.unwrap_or(0) == 0 && p.current_low_priority_nodes.unwrap_or(0) == 0
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

fn check_duration_range(
    v: &Value,
    path: &AttrPath,
    min: Duration,
    max: Option<Duration>,
    diags: &mut Diagnostics,
) {
    let Some(s) = v.as_str() else { return };
    let Ok(d) = parse_iso8601_duration(s) else {
        return; // the attribute validator reports unparsable values
    };
    let too_long = max.is_some_and(|m| d > m);
    if d < min || too_long {
        let range = match max {
            Some(m) => format!(
                "from {} minutes to {} hours",
                min.as_secs() / 60,
                m.as_secs() / 3600
            ),
            None => format!("of at least {} minutes", min.as_secs() / 60),
        };
        diags.attr_error(
            path,
            format!("Duration out of range in {path}"),
            format!("{s:?} is not allowed here: Batch accepts a duration {range}, e.g. \"PT15M\"."),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Resource
// ---------------------------------------------------------------------------------------------

fn etag_of(p: &Private) -> Option<String> {
    p.get("etag").and_then(|v| v.as_str()).map(str::to_string)
}

fn with_etag(mut p: Private, etag: Option<&String>) -> Private {
    match etag {
        Some(e) => {
            p.insert("etag".into(), serde_json::Value::String(e.clone()));
        }
        None => {
            p.remove("etag");
        }
    }
    p
}

fn wait_mode(v: &Value) -> String {
    v.get_str("wait_for").unwrap_or("steady").to_string()
}

#[async_trait]
impl Resource<Batch> for ContainerPoolResource {
    fn type_name(&self) -> &'static str {
        "batch_container_pool"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: vec![("name", "The pool's id in the Batch account (its name).")],
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let known_block = |k: &str| !matches!(config.get(k), Value::Unknown);
        let (fixed, auto) = (config.get("fixed_scale"), config.get("auto_scale"));
        if known_block("fixed_scale") && known_block("auto_scale") {
            if !fixed.is_null() && !auto.is_null() {
                diags.attr_error(
                    &AttrPath::attr("auto_scale"),
                    "Conflicting scale settings",
                    "Set exactly one of fixed_scale and auto_scale: a pool has either a fixed number of nodes or an autoscale formula. Remove one of the two blocks.",
                );
            } else if fixed.is_null() && auto.is_null() {
                diags.attr_error(
                    &AttrPath::root(),
                    "Missing scale settings",
                    "Add exactly one of a fixed_scale block (e.g. fixed_scale { target_dedicated_nodes = 1 }) or an auto_scale block with a formula.",
                );
            }
        }
        let image = config.get("image");
        let vm_id = config.get("virtual_machine_image_id");
        if known_block("image") {
            if !image.is_null() && !vm_id.is_null() {
                diags.attr_error(
                    &AttrPath::attr("virtual_machine_image_id"),
                    "Conflicting image settings",
                    "Set exactly one of the image block (a Marketplace image) and virtual_machine_image_id (an Azure Compute Gallery image).",
                );
            } else if image.is_null() && vm_id.is_null() {
                diags.attr_error(
                    &AttrPath::attr("image"),
                    "Missing image",
                    "Add an image block (publisher, offer, sku) or set virtual_machine_image_id; see the batch_supported_images data source for images that support containers.",
                );
            }
        }
        if config.get("container").is_null() {
            diags.attr_error(
                &AttrPath::root(),
                "Missing container block",
                "A container pool needs a container block, e.g. container { type = \"dockerCompatible\" }: it makes Batch set up a container runtime on every node.",
            );
        }
        if let Some(c) = config.get_block("container") {
            for (i, r) in c.get("registry").elements().iter().enumerate() {
                validate_registry(
                    r,
                    &AttrPath::attr("container").child("registry").index(i),
                    diags,
                );
            }
        }
        if let Some(st) = config.get_block("start_task")
            && let Some(c) = st.get_block("container")
        {
            validate_task_container(c, &AttrPath::attr("start_task").child("container"), diags);
        }
        if let Some(f) = config.get_block("fixed_scale") {
            check_duration_range(
                f.get("resize_timeout"),
                &AttrPath::attr("fixed_scale").child("resize_timeout"),
                Duration::from_secs(300),
                None,
                diags,
            );
        }
        if let Some(a) = config.get_block("auto_scale") {
            check_duration_range(
                a.get("evaluation_interval"),
                &AttrPath::attr("auto_scale").child("evaluation_interval"),
                Duration::from_secs(300),
                Some(Duration::from_secs(168 * 3600)),
                diags,
            );
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        let prior = req.prior;
        if resp.planned.is_null() {
            return;
        }
        if prior.is_null() {
            // The id is the name: show it in the plan rather than "(known after apply)".
            // Terraform also plans the create half of a replacement with a null prior.
            let name = resp.planned.get("name").clone();
            resp.planned.set("id", name);
            return;
        }
        // Batch treats VM sizes, node agent SKUs and image names case-insensitively (and returns
        // VM sizes lower-cased): a spelling change alone is no change, so the prior spelling is
        // planned (Terraform allows a provider to keep the prior value when both are set).
        let keep_prior_case = |planned: &mut Value, prior: &Value, config: &Value, k: &str| {
            if let (Some(p), Some(c)) = (prior.get_str(k), config.get_str(k))
                && p != c
                && p.eq_ignore_ascii_case(c)
            {
                planned.set(k, Value::string(p));
            }
        };
        for k in ["vm_size", "node_agent_sku_id"] {
            keep_prior_case(&mut resp.planned, prior, req.config, k);
        }
        if let (Some(pi), Some(ci)) = (prior.get_block("image"), req.config.get_block("image"))
            && let Some(mut img) = resp.planned.get_block("image").cloned()
        {
            for k in ["publisher", "offer", "sku", "version"] {
                keep_prior_case(&mut img, pi, ci, k);
            }
            resp.planned.set("image", img);
        }
        let planned = resp.planned.clone();
        let ch = Changes::of(prior, &planned);
        let can_empty = empty_in_state(prior) || scales_to_zero(&planned);
        let replacing =
            !resp.requires_replace.is_empty() || (!ch.empty_only.is_empty() && !can_empty);
        if !ch.empty_only.is_empty() && !can_empty {
            resp.requires_replace.extend(ch.empty_only.iter().cloned());
        }
        if replacing {
            return;
        }
        let pending = req.prior_private.contains_key(PENDING_REGISTRY);
        let send_registry = (ch.registry_secret || pending) && can_empty;
        if ch.registry_secret && !can_empty {
            resp.diags.attr_warning(
                &AttrPath::attr("container").child("registry"),
                "Registry password not sent until the pool is empty",
                format!(
                    "Batch changes a pool's container registries only while the pool has no nodes, and pool {} has nodes. The new password is recorded in state but NOT sent now: the pool does not get replaced for it. Nodes keep logging in with the previous credentials. The first apply that finds the pool empty (for example after fixed_scale targets of 0) sends it.",
                    prior.get_str("name").unwrap_or("")
                ),
            );
        } else if pending && can_empty && !ch.registry_secret {
            resp.diags.attr_warning(
                &AttrPath::attr("container").child("registry"),
                "Sending the pending registry password",
                "A registry password recorded while the pool had nodes is sent now that the pool is empty.",
            );
        }
        let api_call = ch.props || ch.scale || !ch.empty_only.is_empty() || send_registry;
        // Keep the computed attributes known where this update cannot change them.
        let mut planned = planned;
        for k in COMPUTED {
            planned.set(k, prior.get(k).clone());
        }
        if api_call {
            planned.set("last_modified", Value::Unknown);
            let waits = wait_mode(&planned) != "none";
            let scaling = ch.scale || (scales_to_zero(&planned) && !ch.empty_only.is_empty());
            if scaling {
                planned.set("current_dedicated_nodes", Value::Unknown);
                planned.set("current_low_priority_nodes", Value::Unknown);
            }
            if waits {
                planned.set("allocation_state", Value::string("steady"));
            } else if scaling {
                planned.set("allocation_state", Value::Unknown);
            }
        }
        resp.planned = planned;
    }

    async fn create(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        let mut diags = Diagnostics::new();
        let planned = &req.planned;
        let name = planned.get_str("name").unwrap_or_default().to_string();
        let deadline = tokio::time::Instant::now() + timeout(planned, "create", DEFAULT_TIMEOUT);
        let add = pool_add_model(planned, &req.config);
        tracing::info!(pool = %name, "creating pool");
        if let Err(e) = ctx.client.api.add_pool(&add, &opts(ctx, deadline)).await {
            report(&mut diags, &format!("create pool {name}"), &e);
            if e.is_code("PoolExists") {
                diags.attr_error(
                    &AttrPath::attr("name"),
                    format!("Pool {name} already exists"),
                    format!("The account already has a pool named {name:?} (ids are case-insensitive) that this configuration does not manage. Choose another name, or bring the existing pool under Terraform with: terraform import <address> {name}"),
                );
            }
            // An ambiguous failure (e.g. interrupted) may still have created the pool.
            let existing = if e.is_conflict() {
                None
            } else {
                get_pool_uncancelled(ctx, &name).await
            };
            return ApplyResponse {
                new_state: existing
                    .as_ref()
                    .map(|p| merge_unknowns(planned, &pool_to_state(&p.value, planned)))
                    .unwrap_or(Value::Null),
                private: with_etag(req.private, existing.and_then(|p| p.etag).as_ref()),
                diags,
            };
        }
        let mode = wait_mode(planned);
        let result = if mode == "none" {
            match ctx.client.api.get_pool(&name, &opts(ctx, deadline)).await {
                Ok(Some(p)) => Ok(p),
                Ok(None) => Err(WaitError::Failed({
                    let mut d = Diagnostics::new();
                    d.error(
                        format!("Pool {name} disappeared"),
                        "The pool was deleted right after it was created.",
                    );
                    d
                })),
                Err(e) => Err(WaitError::Failed(wait_call_error(
                    e,
                    &format!("read pool {name}"),
                ))),
            }
        } else {
            wait_pool(ctx, &name, &mode, deadline, true).await
        };
        match result {
            Ok(p) => ApplyResponse {
                new_state: merge_unknowns(planned, &pool_to_state(&p.value, planned)),
                private: with_etag(req.private, p.etag.as_ref()),
                diags,
            },
            Err(err) => {
                wait_error(&mut diags, &format!("pool {name}"), err, "create");
                // The pool exists: hand it to Terraform (tainted) so nothing is orphaned.
                let cur = get_pool_uncancelled(ctx, &name).await;
                let state = match &cur {
                    Some(p) => merge_unknowns(planned, &pool_to_state(&p.value, planned)),
                    None => {
                        let mut s = merge_unknowns(planned, &Value::Null);
                        s.set("id", Value::string(name.clone()));
                        s
                    }
                };
                ApplyResponse {
                    new_state: state,
                    private: with_etag(req.private, cur.and_then(|p| p.etag).as_ref()),
                    diags,
                }
            }
        }
    }

    async fn read(&self, ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
        let mut diags = Diagnostics::new();
        let name = req
            .state
            .get_str("name")
            .or(req.state.get_str("id"))
            .unwrap_or_default()
            .to_string();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5 * 60);
        match ctx.client.api.get_pool(&name, &opts(ctx, deadline)).await {
            Ok(None) => ReadResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            },
            Ok(Some(p)) if p.value.state.as_deref() == Some("deleting") => ReadResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            },
            Ok(Some(p)) => ReadResponse {
                state: pool_to_state(&p.value, &req.state),
                private: with_etag(req.private, p.etag.as_ref()),
                diags,
            },
            Err(e) => {
                report(&mut diags, &format!("read pool {name}"), &e);
                ReadResponse {
                    state: req.state,
                    private: req.private,
                    diags,
                }
            }
        }
    }

    async fn update(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        let mut diags = Diagnostics::new();
        let (prior, planned, config) = (&req.prior, &req.planned, &req.config);
        let name = planned.get_str("name").unwrap_or_default().to_string();
        let deadline = tokio::time::Instant::now() + timeout(planned, "update", DEFAULT_TIMEOUT);
        let ch = Changes::of(prior, planned);
        // A pending registry password is only worth a call when the plan expects an empty pool
        // (as modify_plan decided); otherwise it stays pending.
        let pending = req.private.contains_key(PENDING_REGISTRY)
            && (empty_in_state(prior) || scales_to_zero(planned));
        let mut private = req.private.clone();
        let fail =
            |diags: Diagnostics, private: Private, state: Option<&CloudPool>| ApplyResponse {
                new_state: state
                    .map(|p| pool_to_state(p, prior))
                    .unwrap_or_else(|| prior.clone()),
                private,
                diags,
            };
        if !(ch.props || ch.scale || !ch.empty_only.is_empty() || ch.registry_secret || pending) {
            // Only Terraform-side settings changed (wait_for, timeouts, node_deallocation_option).
            return ApplyResponse {
                new_state: planned.clone(),
                private,
                diags,
            };
        }
        let api = &ctx.client.api;
        let mut cur = match api.get_pool(&name, &opts(ctx, deadline)).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                diags.error(
                    format!("Pool {name} no longer exists"),
                    "The pool was deleted outside Terraform. Run terraform apply again: the refresh notices it and plans to create it.",
                );
                return ApplyResponse {
                    new_state: Value::Null,
                    private: Private::new(),
                    diags,
                };
            }
            Err(e) => {
                report(&mut diags, &format!("read pool {name}"), &e);
                return fail(diags, private, None);
            }
        };
        if let (Some(known), Some(now)) = (etag_of(&req.private), cur.etag.as_ref())
            && &known != now
        {
            diags.error(
                format!("Pool {name} changed outside Terraform"),
                "The pool changed outside Terraform since the last refresh (its ETag no longer matches), so nothing was overwritten. Run terraform apply again to see the difference and apply it.",
            );
            return fail(diags, private, Some(&cur.value));
        }
        let mut etag = cur.etag.clone();
        let mut scaled = false;
        let mut wrote = false;

        // Empty-pool-only changes on a pool with nodes: scale to 0 first when the plan says so.
        let wants_empty = !ch.empty_only.is_empty() || ch.registry_secret || pending;
        if wants_empty && !is_empty_pool(&cur.value) && scales_to_zero(planned) && ch.scale {
            tracing::info!(pool = %name, "scaling the pool to 0 nodes before changing properties Batch accepts only on an empty pool");
            if let Err(d) = self
                .apply_scale(ctx, &name, &cur.value, planned, &mut etag, deadline)
                .await
            {
                diags.extend(d);
                return fail(
                    diags,
                    private,
                    get_pool_uncancelled(ctx, &name)
                        .await
                        .as_ref()
                        .map(|p| &p.value),
                );
            }
            scaled = true;
            wrote = true;
            match wait_pool(ctx, &name, "steady", deadline, true).await {
                Ok(p) => {
                    etag = p.etag.clone();
                    cur = p;
                }
                Err(e) => {
                    wait_error(
                        &mut diags,
                        &format!("pool {name} to scale to 0 nodes"),
                        e,
                        "update",
                    );
                    return fail(
                        diags,
                        private,
                        get_pool_uncancelled(ctx, &name)
                            .await
                            .as_ref()
                            .map(|p| &p.value),
                    );
                }
            }
        }
        let empty = is_empty_pool(&cur.value);
        if !ch.empty_only.is_empty() && !empty {
            let paths: Vec<String> = ch.empty_only.iter().map(|p| p.to_string()).collect();
            diags.error(
                format!("Pool {name} is not empty"),
                format!(
                    "Batch changes {} only while the pool has no nodes, and pool {name} has {} node(s) now (it had none when the plan was made). Nothing was changed. Run terraform apply again: the new plan replaces the pool, or scale it to 0 nodes first.",
                    paths.join(", "),
                    cur.value.current_dedicated_nodes.unwrap_or(0) + cur.value.current_low_priority_nodes.unwrap_or(0)
                ),
            );
            return fail(diags, private, Some(&cur.value));
        }
        let send_registry = (ch.registry_secret || pending) && empty;
        if ch.registry_secret && !empty {
            private.insert(PENDING_REGISTRY.into(), serde_json::Value::Bool(true));
            diags.attr_warning(
                &AttrPath::attr("container").child("registry"),
                "Registry password not sent until the pool is empty",
                format!("Pool {name} has nodes, and Batch changes container registries only on an empty pool. The new password is recorded and sent by the first apply that finds the pool empty."),
            );
        }

        // Pool_Patch: empty-pool-only properties, start task, metadata, communication mode.
        let start_task_removed =
            prior.get("start_task") != &Value::Null && planned.get("start_task").is_null();
        let mut patch = PoolPatchParameter::default();
        let mut patching = false;
        let changed = |k: &str| {
            ch.empty_only
                .iter()
                .any(|p| p.0.first() == AttrPath::attr(k).0.first())
        };
        if changed("display_name") {
            patch.display_name = Some(s(planned, "display_name").unwrap_or_default());
            patching = true;
        }
        if changed("vm_size") {
            patch.vm_size = s(planned, "vm_size");
            patching = true;
        }
        if changed("task_slots_per_node") {
            patch.task_slots_per_node = i32_of(planned, "task_slots_per_node");
            patching = true;
        }
        if changed("task_scheduling_policy") {
            patch.task_scheduling_policy = fill_type(planned);
            patching = true;
        }
        if changed("inter_node_communication") {
            patch.enable_inter_node_communication = planned.get_bool("inter_node_communication");
            patching = true;
        }
        if changed("network_configuration") {
            patch.network_configuration = Some(network_model(planned).unwrap_or_default());
            patching = true;
        }
        if [
            "image",
            "virtual_machine_image_id",
            "node_agent_sku_id",
            "container",
        ]
        .iter()
        .any(|k| changed(k))
            || send_registry
        {
            patch.virtual_machine_configuration = Some(vm_config_model(
                planned,
                config,
                cur.value.virtual_machine_configuration.clone(),
            ));
            patching = true;
        }
        if ch.props && !start_task_removed {
            if planned.get("start_task") != prior.get("start_task") {
                patch.start_task = start_task_model(planned, config);
            }
            if planned.get("metadata") != prior.get("metadata") {
                patch.metadata =
                    Some(metadata_to_model(planned.get("metadata")).unwrap_or_default());
            }
            if planned.get("target_node_communication_mode")
                != prior.get("target_node_communication_mode")
            {
                patch.target_node_communication_mode = Some(
                    s(planned, "target_node_communication_mode")
                        .unwrap_or_else(|| "default".into()),
                );
            }
            patching = true;
        }
        if patching {
            tracing::info!(pool = %name, "updating pool properties (Pool_Patch)");
            match api
                .patch_pool(&name, &patch, &pool_opts(ctx, deadline, etag.as_deref()))
                .await
            {
                Ok(w) => {
                    etag = w.etag.or(etag);
                    wrote = true;
                    if send_registry {
                        private.remove(PENDING_REGISTRY);
                    }
                }
                Err(e) => {
                    report(&mut diags, &format!("update pool {name}"), &e);
                    return fail(
                        diags,
                        private,
                        get_pool_uncancelled(ctx, &name)
                            .await
                            .as_ref()
                            .map(|p| &p.value),
                    );
                }
            }
        }
        if start_task_removed {
            // Pool_Patch cannot remove a start task; Pool_UpdateProperties replaces the whole set
            // (no If-Match there: the ETag was checked above).
            let upd = PoolUpdatePropertiesParameter {
                start_task: None,
                certificate_references: cur
                    .value
                    .certificate_references
                    .clone()
                    .unwrap_or_default(),
                application_package_references: cur
                    .value
                    .application_package_references
                    .clone()
                    .unwrap_or_default(),
                metadata: metadata_to_model(planned.get("metadata")).unwrap_or_default(),
                target_node_communication_mode: s(planned, "target_node_communication_mode"),
            };
            tracing::info!(pool = %name, "replacing pool properties (Pool_UpdateProperties)");
            match api
                .update_pool_properties(&name, &upd, &opts(ctx, deadline))
                .await
            {
                Ok(w) => {
                    etag = w.etag.or(etag);
                    wrote = true;
                }
                Err(e) => {
                    report(&mut diags, &format!("update pool {name}"), &e);
                    return fail(
                        diags,
                        private,
                        get_pool_uncancelled(ctx, &name)
                            .await
                            .as_ref()
                            .map(|p| &p.value),
                    );
                }
            }
        }
        if ch.scale && !scaled {
            let now = match api.get_pool(&name, &opts(ctx, deadline)).await {
                Ok(Some(p)) => p,
                Ok(None) => {
                    diags.error(
                        format!("Pool {name} disappeared"),
                        "The pool was deleted during the update.",
                    );
                    return ApplyResponse {
                        new_state: Value::Null,
                        private: Private::new(),
                        diags,
                    };
                }
                Err(e) => {
                    report(&mut diags, &format!("read pool {name}"), &e);
                    return fail(diags, private, None);
                }
            };
            etag = now.etag.clone().or(etag);
            if let Err(d) = self
                .apply_scale(ctx, &name, &now.value, planned, &mut etag, deadline)
                .await
            {
                diags.extend(d);
                return fail(
                    diags,
                    private,
                    get_pool_uncancelled(ctx, &name)
                        .await
                        .as_ref()
                        .map(|p| &p.value),
                );
            }
            scaled = true;
            wrote = true;
        }
        let mode = wait_mode(planned);
        let final_pool = if wrote && mode != "none" {
            wait_pool(ctx, &name, &mode, deadline, scaled).await
        } else {
            match api.get_pool(&name, &opts(ctx, deadline)).await {
                Ok(Some(p)) => Ok(p),
                Ok(None) => Err(WaitError::Failed({
                    let mut d = Diagnostics::new();
                    d.error(
                        format!("Pool {name} disappeared"),
                        "The pool was deleted during the update.",
                    );
                    d
                })),
                Err(e) => Err(WaitError::Failed(wait_call_error(
                    e,
                    &format!("read pool {name}"),
                ))),
            }
        };
        match final_pool {
            Ok(p) => ApplyResponse {
                new_state: merge_unknowns(planned, &pool_to_state(&p.value, planned)),
                private: with_etag(private, p.etag.as_ref()),
                diags,
            },
            Err(e) => {
                wait_error(&mut diags, &format!("pool {name}"), e, "update");
                let cur = get_pool_uncancelled(ctx, &name).await;
                // The changes were made: record them as the service now has them (computed
                // values included, whatever the plan expected).
                let state = cur
                    .as_ref()
                    .map(|p| pool_to_state(&p.value, planned))
                    .unwrap_or_else(|| prior.clone());
                ApplyResponse {
                    new_state: state,
                    private: with_etag(private, cur.and_then(|p| p.etag).as_ref()),
                    diags,
                }
            }
        }
    }

    async fn delete(&self, ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let name = req.prior.get_str("name").unwrap_or_default().to_string();
        let deadline = tokio::time::Instant::now() + timeout(&req.prior, "delete", DEFAULT_TIMEOUT);
        tracing::info!(pool = %name, "deleting pool");
        match ctx
            .client
            .api
            .delete_pool(&name, &opts(ctx, deadline))
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return diags,
            Err(e) if e.is_code("PoolBeingDeleted") => {}
            Err(e) => {
                report(&mut diags, &format!("delete pool {name}"), &e);
                return diags;
            }
        }
        let what = format!("pool {name} to be deleted");
        let res = poll_until(ctx, deadline, &what, || {
            let api = &ctx.client.api;
            let name = name.as_str();
            async move {
                match api.get_pool(name, &poll_opts(ctx)).await {
                    Ok(None) => Ok(Some(())),
                    Ok(Some(p)) => {
                        tracing::info!(
                            pool = name,
                            state = p.value.state.as_deref().unwrap_or(""),
                            "waiting for the pool deletion"
                        );
                        Ok(None)
                    }
                    Err(e) => Err(wait_call_error(e, &format!("read pool {name}"))),
                }
            }
        })
        .await;
        if let Err(e) = res {
            wait_error(&mut diags, &what, e, "delete");
        }
        diags
    }

    async fn import(&self, _ctx: &Ctx<Batch>, id: &str) -> ImportResponse {
        let mut diags = Diagnostics::new();
        if !is_batch_id(id) {
            diags.error(
                "Invalid pool id to import",
                format!("{id:?} is not a pool id: use the pool's name (1 to 64 letters, digits, hyphens and underscores), e.g. terraform import batch_container_pool.example mypool."),
            );
        }
        let mut state = null_object(&schema().block);
        state.set("id", Value::string(id));
        state.set("name", Value::string(id));
        ImportResponse {
            state,
            private: Private::new(),
            diags,
        }
    }
}

impl ContainerPoolResource {
    /// Brings the pool's scale settings to the planned ones: stops a pending resize where an
    /// operation needs a steady pool, disables/enables autoscaling, resizes.
    async fn apply_scale(
        &self,
        ctx: &Ctx<Batch>,
        name: &str,
        cur: &CloudPool,
        planned: &Value,
        etag: &mut Option<String>,
        deadline: tokio::time::Instant,
    ) -> Result<(), Diagnostics> {
        let api = &ctx.client.api;
        let mut d = Diagnostics::new();
        let auto_now = cur.enable_auto_scale == Some(true);
        let steady = cur.allocation_state.as_deref() == Some("steady");
        if let Some(f) = planned.get_block("fixed_scale") {
            if auto_now {
                tracing::info!(pool = name, "disabling autoscaling");
                match api
                    .disable_pool_auto_scale(name, &opts(ctx, deadline))
                    .await
                {
                    Ok(w) => *etag = w.etag.or(etag.take()),
                    Err(e) => {
                        report(&mut d, &format!("disable autoscaling of pool {name}"), &e);
                        return Err(d);
                    }
                }
            }
            if !steady {
                self.stop_resize(ctx, name, etag, deadline).await?;
            }
            let resize = PoolResizeParameter {
                target_dedicated_nodes: i32_of(f, "target_dedicated_nodes"),
                target_low_priority_nodes: i32_of(f, "target_low_priority_nodes"),
                resize_timeout: s(f, "resize_timeout"),
                node_deallocation_option: s(f, "node_deallocation_option"),
            };
            tracing::info!(pool = name, dedicated = ?resize.target_dedicated_nodes, low_priority = ?resize.target_low_priority_nodes, "resizing pool");
            match api
                .resize_pool(name, &resize, &pool_opts(ctx, deadline, etag.as_deref()))
                .await
            {
                Ok(w) => *etag = w.etag.or(etag.take()),
                Err(e) => {
                    report(&mut d, &format!("resize pool {name}"), &e);
                    return Err(d);
                }
            }
        } else if let Some(a) = planned.get_block("auto_scale") {
            if !steady {
                self.stop_resize(ctx, name, etag, deadline).await?;
            }
            let params = PoolEnableAutoScaleParameter {
                auto_scale_formula: s(a, "formula"),
                auto_scale_evaluation_interval: s(a, "evaluation_interval"),
            };
            tracing::info!(pool = name, "enabling autoscaling");
            loop {
                match api
                    .enable_pool_auto_scale(
                        name,
                        &params,
                        &pool_opts(ctx, deadline, etag.as_deref()),
                    )
                    .await
                {
                    Ok(w) => {
                        *etag = w.etag.or(etag.take());
                        break;
                    }
                    // Batch allows one enable per 30 s per pool: wait and retry within the timeout.
                    Err(e)
                        if e.is_code("TooManyEnableAutoScaleRequests")
                            && tokio::time::Instant::now() + Duration::from_secs(5) < deadline =>
                    {
                        tracing::info!(
                            pool = name,
                            "autoscaling was changed less than 30 s ago; retrying in 5 s"
                        );
                        if cancellable_sleep(&ctx.cancel, Duration::from_secs(5)).await {
                            report(&mut d, &format!("enable autoscaling of pool {name}"), &e);
                            return Err(d);
                        }
                        if let Ok(Some(p)) = api.get_pool(name, &opts(ctx, deadline)).await {
                            *etag = p.etag;
                        }
                    }
                    Err(e) => {
                        report(&mut d, &format!("enable autoscaling of pool {name}"), &e);
                        return Err(d);
                    }
                }
            }
        }
        Ok(())
    }

    async fn stop_resize(
        &self,
        ctx: &Ctx<Batch>,
        name: &str,
        etag: &mut Option<String>,
        deadline: tokio::time::Instant,
    ) -> Result<(), Diagnostics> {
        let mut d = Diagnostics::new();
        tracing::info!(pool = name, "stopping the pending resize first");
        if let Err(e) = ctx
            .client
            .api
            .stop_resize_pool(name, &opts(ctx, deadline))
            .await
        {
            report(
                &mut d,
                &format!("stop the pending resize of pool {name}"),
                &e,
            );
            return Err(d);
        }
        match wait_pool(ctx, name, "steady", deadline, false).await {
            Ok(p) => {
                *etag = p.etag;
                Ok(())
            }
            Err(e) => {
                wait_error(
                    &mut d,
                    &format!("pool {name} to stop resizing"),
                    e,
                    "update",
                );
                Err(d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use batch_client::models::{MetadataItem, ResizeError};

    fn cloud_pool() -> CloudPool {
        CloudPool {
            id: Some("p1".into()),
            vm_size: Some("standard_d2s_v3".into()),
            state: Some("active".into()),
            allocation_state: Some("steady".into()),
            current_dedicated_nodes: Some(1),
            current_low_priority_nodes: Some(0),
            target_dedicated_nodes: Some(1),
            target_low_priority_nodes: Some(0),
            enable_auto_scale: Some(false),
            resize_timeout: Some("PT900S".into()),
            task_scheduling_policy: Some(TaskSchedulingPolicy {
                node_fill_type: "Pack".into(),
            }),
            metadata: Some(vec![MetadataItem {
                name: "team".into(),
                value: "render".into(),
            }]),
            target_node_communication_mode: Some("default".into()),
            last_modified: Some("2026-01-01T00:00:00Z".into()),
            virtual_machine_configuration: Some(VirtualMachineConfiguration {
                image_reference: ImageReference {
                    publisher: Some("microsoft-azure-batch".into()),
                    offer: Some("ubuntu-server-container".into()),
                    sku: Some("20-04-lts".into()),
                    version: Some("latest".into()),
                    ..Default::default()
                },
                node_agent_sku_id: "batch.node.ubuntu 20.04".into(),
                container_configuration: Some(ContainerConfiguration {
                    type_: "dockerCompatible".into(),
                    container_image_names: Some(vec!["busybox".into()]),
                    container_registries: Some(vec![ContainerRegistry {
                        registry_server: Some("myregistry.azurecr.io".into()),
                        username: Some("puller".into()),
                        password: None,
                        identity_reference: None,
                    }]),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn config() -> Value {
        let mut v = null_object(&schema().block);
        v.set("name", Value::string("p1"));
        v.set("vm_size", Value::string("STANDARD_D2S_V3"));
        v.set(
            "node_agent_sku_id",
            Value::string("batch.node.ubuntu 20.04"),
        );
        v.set("task_scheduling_policy", Value::string("pack"));
        v.set("task_slots_per_node", Value::int(1));
        v.set("inter_node_communication", Value::Bool(false));
        v.set("wait_for", Value::string("steady"));
        v.set("metadata", Value::string_map([("team", "render")]));
        v.set(
            "image",
            Value::object([
                ("publisher", Value::string("microsoft-azure-batch")),
                ("offer", Value::string("ubuntu-server-container")),
                ("sku", Value::string("20-04-lts")),
                ("version", Value::string("latest")),
            ]),
        );
        v.set(
            "container",
            Value::object([
                ("type", Value::string("dockerCompatible")),
                ("image_names", Value::string_list(["busybox"])),
                (
                    "registry",
                    Value::List(vec![Value::object([
                        ("server", Value::string("myregistry.azurecr.io")),
                        ("username", Value::string("puller")),
                        ("password", Value::string("pw1")),
                        ("password_wo", Value::Null),
                        ("password_wo_version", Value::Null),
                        ("identity_reference", Value::Null),
                    ])]),
                ),
            ]),
        );
        v.set(
            "fixed_scale",
            Value::object([
                ("target_dedicated_nodes", Value::int(1)),
                ("target_low_priority_nodes", Value::int(0)),
                ("resize_timeout", Value::string("PT15M")),
                ("node_deallocation_option", Value::Null),
            ]),
        );
        v
    }

    #[test]
    fn read_normalises_what_batch_rewrites_and_keeps_secrets() {
        let prior = config();
        let s = pool_to_state(&cloud_pool(), &prior);
        assert_eq!(s.get("vm_size"), &Value::string("STANDARD_D2S_V3"));
        assert_eq!(s.get("task_scheduling_policy"), &Value::string("pack"));
        assert_eq!(
            s.get("fixed_scale").get("resize_timeout"),
            &Value::string("PT15M"),
            "PT900S means the same as the configured PT15M"
        );
        assert_eq!(s.get("task_slots_per_node"), &Value::int(1));
        assert_eq!(s.get("target_node_communication_mode"), &Value::Null);
        assert_eq!(
            s.get("container").get("registry").elements()[0].get("password"),
            &Value::string("pw1")
        );
        // Every attribute of the configuration reads back unchanged.
        for (k, v) in prior.as_map().unwrap() {
            if !COMPUTED.contains(&k.as_str()) && k != "id" {
                assert_eq!(s.get(k), v, "{k}");
            }
        }
        // The data source view (prior null) shows Batch's own values.
        let d = pool_to_state(&cloud_pool(), &Value::Null);
        assert_eq!(d.get("vm_size"), &Value::string("standard_d2s_v3"));
        assert_eq!(d.get("wait_for"), &Value::string("steady"));
    }

    #[test]
    fn changes_classify_what_batch_can_update() {
        let prior = pool_to_state(&cloud_pool(), &config());
        let mut planned = prior.clone();
        planned.set("vm_size", Value::string("standard_d2s_v3"));
        let ch = Changes::of(&prior, &planned);
        assert!(ch.empty_only.is_empty() && !ch.props && !ch.scale && !ch.registry_secret);

        let mut planned = prior.clone();
        let mut c = planned.get("container").clone();
        let mut r = c.get("registry").elements()[0].clone();
        r.set("password", Value::string("pw2"));
        c.set("registry", Value::List(vec![r]));
        planned.set("container", c);
        let ch = Changes::of(&prior, &planned);
        assert!(ch.registry_secret && ch.empty_only.is_empty(), "{ch:?}");

        let mut planned = prior.clone();
        let mut img = planned.get("image").clone();
        img.set("sku", Value::string("other"));
        planned.set("image", img);
        let ch = Changes::of(&prior, &planned);
        let paths: Vec<String> = ch.empty_only.iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, vec!["image.sku"]);

        let mut planned = prior.clone();
        let mut f = planned.get("fixed_scale").clone();
        f.set("node_deallocation_option", Value::string("terminate"));
        planned.set("fixed_scale", f);
        assert!(!Changes::of(&prior, &planned).scale);
    }

    fn plan(prior: &Value, planned: &Value) -> PlanResponse {
        let mut resp = PlanResponse {
            planned: planned.clone(),
            requires_replace: vec![],
            private: Private::new(),
            diags: Diagnostics::new(),
        };
        let private = Private::new();
        ContainerPoolResource.modify_plan(
            &PlanRequest {
                config: planned,
                prior,
                prior_private: &private,
            },
            &mut resp,
        );
        resp
    }

    #[test]
    fn empty_pool_only_properties_replace_a_pool_with_nodes_and_update_an_empty_one() {
        let prior = pool_to_state(&cloud_pool(), &config());
        let mut planned = prior.clone();
        planned.set("vm_size", Value::string("STANDARD_D4S_V3"));
        let r = plan(&prior, &planned);
        let paths: Vec<String> = r.requires_replace.iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, vec!["vm_size"]);

        let mut empty = cloud_pool();
        empty.current_dedicated_nodes = Some(0);
        let prior = pool_to_state(&empty, &config());
        let mut planned = prior.clone();
        planned.set("vm_size", Value::string("STANDARD_D4S_V3"));
        for k in COMPUTED {
            planned.set(k, Value::Unknown);
        }
        let r = plan(&prior, &planned);
        assert!(r.requires_replace.is_empty());
        assert_eq!(r.planned.get("state"), &Value::string("active"));
        assert_eq!(r.planned.get("current_dedicated_nodes"), &Value::int(0));
        assert_eq!(r.planned.get("allocation_state"), &Value::string("steady"));
        assert!(r.planned.get("last_modified").is_unknown());

        // A password change alone on a pool with nodes: no replacement, a warning.
        let prior = pool_to_state(&cloud_pool(), &config());
        let mut planned = prior.clone();
        let mut c = planned.get("container").clone();
        let mut reg = c.get("registry").elements()[0].clone();
        reg.set("password", Value::string("pw2"));
        c.set("registry", Value::List(vec![reg]));
        planned.set("container", c);
        let r = plan(&prior, &planned);
        assert!(r.requires_replace.is_empty());
        assert!(r.diags.0.iter().any(|d| d.summary.contains("not sent")));
        assert_eq!(r.planned.get("last_modified"), prior.get("last_modified"));
    }

    #[test]
    fn case_only_changes_of_case_insensitive_names_plan_nothing() {
        let prior = pool_to_state(&cloud_pool(), &config());
        let mut planned = prior.clone();
        planned.set("vm_size", Value::string("Standard_D2s_V3"));
        planned.set(
            "node_agent_sku_id",
            Value::string("Batch.Node.Ubuntu 20.04"),
        );
        let mut img = planned.get("image").clone();
        img.set("sku", Value::string("20-04-LTS"));
        planned.set("image", img);
        let r = plan(&prior, &planned);
        assert!(r.requires_replace.is_empty());
        assert_eq!(r.planned, prior);
    }

    #[test]
    fn errors_name_attributes_and_resize_errors_carry_code_and_message() {
        assert_eq!(property_path("vmSize").unwrap().to_string(), "vm_size");
        assert_eq!(
            property_path("targetDedicatedNodes").unwrap().to_string(),
            "fixed_scale.target_dedicated_nodes"
        );
        assert!(property_path("somethingElse").is_none());
        let mut p = cloud_pool();
        p.resize_errors = Some(vec![ResizeError {
            code: Some("AccountCoreQuotaReached".into()),
            message: Some("quota".into()),
            values: None,
        }]);
        let d = resize_error_diags(&p, "p1").unwrap();
        assert!(d.0[0].summary.contains("AccountCoreQuotaReached"));
        assert!(d.0[0].detail.contains("quota"));
    }

    #[test]
    fn merge_unknowns_fills_only_unknowns() {
        let planned = Value::object([("a", Value::int(1)), ("b", Value::Unknown)]);
        let actual = Value::object([("a", Value::int(2)), ("b", Value::int(3))]);
        assert_eq!(
            merge_unknowns(&planned, &actual),
            Value::object([("a", Value::int(1)), ("b", Value::int(3))])
        );
    }
}
