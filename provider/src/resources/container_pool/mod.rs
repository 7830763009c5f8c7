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
//!
//! Layout: `model` (typed model), `expand` / `flatten` (to and from the Batch models), `plan`
//! (the update planner and `modify_plan`), `apply` (CRUD), `wait` (waiting and Batch errors).

mod apply;
pub mod expand;
pub mod flatten;
pub mod list;
pub mod model;
pub mod plan;
pub mod wait;

use std::time::Duration;

use async_trait::async_trait;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Identity, ImportResponse, PlanRequest,
    PlanResponse, ReadRequest, ReadResponse, Resource,
};
use tfplugin::model::Tf;
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema, timeouts_block};
use tfplugin::semantics::{IgnoreCase, SameIsoDuration, TrimmedText};
use tfplugin::validators::parse_iso8601_duration;
use tfplugin::validators::{IntBetween, Iso8601Duration, NotEmpty, OneOf};
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::Batch;
use crate::common::container::{RegistryCheck, TaskContainerCheck, check_registry, registry_block};
use crate::common::task_spec::{TaskSpecSchema, check_task_container};
use crate::common::validators::BatchId;
pub use flatten::pool_to_state;
use model::{PoolModel, known_mut, path_to};
use plan::{registry_path, start_task_container_path};

pub struct ContainerPoolResource;

const WAIT_MODES: &[&str] = &["none", "steady", "nodes_ready"];
const CONTAINER_TYPES: &[&str] = &["dockerCompatible", "criCompatible"];
const FILL_TYPES: &[&str] = &["spread", "pack"];
const DEALLOCATION: &[&str] = &["requeue", "terminate", "taskcompletion", "retaineddata"];
const ELEVATION: &[&str] = &["nonadmin", "admin"];
const COMM_MODES: &[&str] = &["default", "classic", "simplified"];
const VNET_SCOPES: &[&str] = &["none", "job"];
const IP_PROVISION: &[&str] = &["batchmanaged", "usermanaged", "nopublicipaddresses"];

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const EMPTY_NOTE: &str = "Batch changes this only while the pool has no nodes: the change is applied in place when the pool is empty (or scaled to 0 nodes in the same apply) and otherwise replaces the pool.";

fn image_block() -> Block {
    Block::new(format!("A Marketplace image for the nodes (Batch `imageReference`). It must support containers; see the `batch_supported_images` data source. Exactly one of `image` and `virtual_machine_image_id`. {EMPTY_NOTE}"))
        .attr(Attribute::string("publisher").required().validate(NotEmpty::like("microsoft-dsvm")).semantics(IgnoreCase).description("Image publisher, e.g. `microsoft-dsvm` or `microsoft-azure-batch`."))
        .attr(Attribute::string("offer").required().validate(NotEmpty::like("ubuntu-hpc")).semantics(IgnoreCase).description("Image offer, e.g. `ubuntu-hpc`."))
        .attr(Attribute::string("sku").required().validate(NotEmpty::like("2204")).semantics(IgnoreCase).description("Image SKU, e.g. `2204`."))
        .attr(Attribute::string("version").default(Value::string("latest")).validate(NotEmpty).semantics(IgnoreCase).description("Image version. Default `latest` (Batch's default)."))
}

fn container_block() -> Block {
    Block::new(format!("The pool's container configuration (Batch `containerConfiguration`): the container runtime, images prefetched on every node and private registries. {EMPTY_NOTE}"))
        .attr(
            Attribute::string("type")
                .default(Value::string("dockerCompatible"))
                .validate(OneOf(CONTAINER_TYPES))
                .semantics(IgnoreCase)
                .description("Container runtime: `dockerCompatible` (Docker-compatible engine, the default) or `criCompatible` (a CRI runtime such as containerd)."),
        )
        .attr(
            Attribute::string_list("image_names")
                .optional()
                .server_default(Value::List(vec![]))
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
        .attr(Attribute::string("resize_timeout").default(Value::string("PT15M")).validate(Iso8601Duration).semantics(SameIsoDuration).description("How long Batch may take to allocate the nodes, as an ISO 8601 duration of at least 5 minutes. Default `PT15M`. A resize that times out leaves `resizeErrors`, which fail the apply when `wait_for` is not `none`."))
        .attr(Attribute::string("node_deallocation_option").optional().validate(OneOf(DEALLOCATION)).description("What happens to running tasks when a resize removes nodes: `requeue` (Batch's default), `terminate`, `taskcompletion` or `retaineddata`. Batch does not return it; it is used by the next resize."))
}

fn auto_scale_block() -> Block {
    Block::new("Automatic scaling by a formula. Exactly one of `fixed_scale` and `auto_scale`. Changes call Pool_EnableAutoScale in place; switching to `fixed_scale` disables autoscaling and resizes.")
        .attr(Attribute::string("formula").required().validate(NotEmpty::like("$TargetDedicatedNodes = 2;")).semantics(TrimmedText).description("The autoscale formula, e.g. `$TargetDedicatedNodes = 2;`. Batch evaluates it when autoscaling is enabled and then every `evaluation_interval`; an evaluation error fails the apply."))
        .attr(Attribute::string("evaluation_interval").default(Value::string("PT15M")).validate(Iso8601Duration).semantics(SameIsoDuration).description("How often Batch evaluates the formula, an ISO 8601 duration from 5 minutes to 168 hours. Default `PT15M`."))
}

/// The start task: the shared task spec (command line, environment, container) with the start
/// task's own flat settings.
fn start_task_block() -> Block {
    TaskSpecSchema::new("start task")
        .command_line(Attribute::string("command_line").required().validate(NotEmpty::like("/bin/sh -c 'echo ready'")).description("Command line; not run in a shell, so use `/bin/sh -c '...'` for shell features."))
        .environment(Attribute::string_map("environment").optional().description("Environment variables of the start task (plain text: not for secrets)."))
        .add_to(Block::new("A task run on every node when it joins the pool or restarts, e.g. to warm caches. Changes update the pool in place (Pool_Patch) and apply to nodes that join or restart afterwards; removing the block removes the start task (Pool_UpdateProperties)."))
        .attr(Attribute::bool("wait_for_success").default(Value::Bool(true)).description("Whether nodes wait for the start task to succeed before tasks are scheduled on them; a failure makes the node `starttaskfailed`. Default `true` (Batch's default)."))
        .attr(Attribute::number("max_task_retry_count").default(Value::int(0)).validate(IntBetween(-1, 100)).description("Retries after a failure; `-1` retries without limit. Default `0`."))
        .attr(Attribute::string("elevation_level").default(Value::string("nonadmin")).validate(OneOf(ELEVATION)).semantics(IgnoreCase).description("Runs as the pool-wide auto user with this elevation: `nonadmin` (default) or `admin`."))
}

pub(crate) fn network_block() -> Block {
    Block::new(format!("Network settings of the pool (Batch `networkConfiguration`). {EMPTY_NOTE}"))
        .attr(Attribute::string("subnet_id").optional().validate(NotEmpty).semantics(IgnoreCase).description("ARM id of a subnet in the account's region and subscription, e.g. `/subscriptions/.../virtualNetworks/vnet/subnets/default`."))
        .attr(Attribute::string("dynamic_vnet_assignment_scope").optional().validate(OneOf(VNET_SCOPES)).semantics(IgnoreCase).server_default(Value::string("none")).description("`none` (Batch's default) or `job` (per-job VNet assignment)."))
        .attr(Attribute::bool("accelerated_networking_enabled").optional().server_default(Value::Bool(false)).description("Enable accelerated networking on the nodes. Batch's default is `false`."))
        .attr(Attribute::string("public_address_provisioning_type").optional().validate(OneOf(IP_PROVISION)).semantics(IgnoreCase).server_default(Value::string("batchmanaged")).description("Public IPs of the nodes: `batchmanaged` (Batch's default), `usermanaged` (with `public_ip_address_ids`) or `nopublicipaddresses`."))
        .attr(Attribute::string_list("public_ip_address_ids").optional().server_default(Value::List(vec![])).description("ARM ids of public IP addresses for `usermanaged` provisioning."))
}

/// The schema, built once: plan, read and apply code asks for it (and its value type) on every
/// call.
pub fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(build_schema)
}

fn build_schema() -> Schema {
    Schema::new(
        Block::new("A Batch pool whose nodes run container tasks (`virtualMachineConfiguration.containerConfiguration`). Creation waits as `wait_for` says; scale, start task and metadata change in place; properties Batch changes only on an empty pool are updated in place when the pool has no nodes and otherwise replace it.")
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("The pool id (same as `name`)."))
            .attr(Attribute::string("name").required().requires_replace().validate(BatchId).description("Pool id in the account: 1 to 64 letters, digits, hyphens and underscores, unique ignoring case. Changing it replaces the pool."))
            .attr(Attribute::string("display_name").optional().server_default(Value::string("")).description(format!("Display name, up to 1024 characters. {EMPTY_NOTE}")))
            .attr(Attribute::string("vm_size").required().validate(NotEmpty::like("STANDARD_D2S_V3")).semantics(IgnoreCase).description(format!("VM size of every node, e.g. `STANDARD_D2S_V3` (Batch returns it lower-cased). {EMPTY_NOTE}")))
            .attr(Attribute::string("node_agent_sku_id").required().validate(NotEmpty::like("batch.node.ubuntu 22.04")).semantics(IgnoreCase).description(format!("Batch node agent matching the image, e.g. `batch.node.ubuntu 22.04`. {EMPTY_NOTE}")))
            .attr(Attribute::string("virtual_machine_image_id").optional().validate(NotEmpty).semantics(IgnoreCase).description(format!("ARM id of an Azure Compute Gallery image (version) instead of `image`. Exactly one of `image` and `virtual_machine_image_id`. {EMPTY_NOTE}")))
            .attr(Attribute::number("task_slots_per_node").default(Value::int(1)).validate(IntBetween(1, 256)).description(format!("Task slots per node (concurrent tasks), at most 256 and 4 times the cores. Default `1`. {EMPTY_NOTE}")))
            .attr(Attribute::string("task_scheduling_policy").default(Value::string("spread")).validate(OneOf(FILL_TYPES)).semantics(IgnoreCase).description(format!("How tasks are spread over nodes: `spread` (default: evenly) or `pack` (fill each node's slots first). {EMPTY_NOTE}")))
            .attr(Attribute::bool("inter_node_communication").default(Value::Bool(false)).description(format!("Allow direct communication between nodes (needed by multi-instance MPI tasks); limits the pool's maximum size. Default `false`. {EMPTY_NOTE}")))
            .attr(Attribute::string_map("metadata").optional().server_default(Value::Map(Default::default())).description("Name-value pairs stored with the pool; Batch gives them no meaning. Changes update in place."))
            .attr(Attribute::string("target_node_communication_mode").optional().validate(OneOf(COMM_MODES)).semantics(IgnoreCase).server_default(Value::string("default")).description("How nodes talk to the Batch service: `default`, `classic` or `simplified`. Unset means Batch's default. Changes update in place and apply to nodes after a reboot or resize."))
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
            .block(timeouts_block(&[("create", "30m"), ("update", "30m"), ("delete", "30m")]))
            .at_least_one_of(&["fixed_scale", "auto_scale"])
            .conflicts_with("virtual_machine_image_id", &["image"]),
    )
}

/// An ISO 8601 duration outside the range Batch accepts.
fn check_duration_range(
    v: &Tf<String>,
    path: &AttrPath,
    min: Duration,
    max: Option<Duration>,
    diags: &mut Diagnostics,
) {
    let Some(s) = v.known() else { return };
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

/// The configuration view of the registries for validation (null and unknown kept apart, and
/// readable whatever else is unknown).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct RegistriesCheck {
    container: Option<ContainerCheck>,
    start_task: Option<StartTaskCheck>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ContainerCheck {
    registry: Option<Vec<RegistryCheck>>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct StartTaskCheck {
    container: Option<TaskContainerCheck>,
}

/// The registry rules of `common/container.rs` on the pool's registries and the start task's.
fn validate_registries(config: &Value, diags: &mut Diagnostics) {
    let Ok(c) = tfplugin::model::from_value::<RegistriesCheck>(config) else {
        return;
    };
    for (i, r) in c
        .container
        .and_then(|c| c.registry)
        .iter()
        .flatten()
        .enumerate()
    {
        check_registry(r, &registry_path().index(i), diags);
    }
    if let Some(tc) = c.start_task.and_then(|s| s.container) {
        check_task_container(&tc, &start_task_container_path(), diags);
    }
}

fn validate(config: &PoolModel, diags: &mut Diagnostics) {
    // Declared on the schema: at least one of fixed_scale and auto_scale; image conflicts with
    // virtual_machine_image_id. The other halves keep their own messages (users and tests know
    // them by their summaries).
    let (fixed, auto) = (&config.fixed_scale, &config.auto_scale);
    if fixed.is_known() && auto.is_known() {
        diags.attr_error(
            &path_to(|m| m.auto_scale = Tf::Unknown),
            "Conflicting scale settings",
            "Set exactly one of fixed_scale and auto_scale: a pool has either a fixed number of nodes or an autoscale formula. Remove one of the two blocks.",
        );
    }
    if config.image.is_null() && config.virtual_machine_image_id.is_null() {
        diags.attr_error(
            &path_to(|m| m.image = Tf::Unknown),
            "Missing image",
            "Add an image block (publisher, offer, sku) or set virtual_machine_image_id; see the batch_supported_images data source for images that support containers.",
        );
    }
    if config.container.is_null() {
        diags.attr_error(
            &AttrPath::root(),
            "Missing container block",
            "A container pool needs a container block, e.g. container { type = \"dockerCompatible\" }: it makes Batch set up a container runtime on every node.",
        );
    }
    if let Some(f) = config.fixed_scale.known() {
        check_duration_range(
            &f.resize_timeout,
            &path_to(|m| known_mut(&mut m.fixed_scale).resize_timeout = Tf::Unknown),
            Duration::from_secs(300),
            None,
            diags,
        );
    }
    if let Some(a) = config.auto_scale.known() {
        check_duration_range(
            &a.evaluation_interval,
            &path_to(|m| known_mut(&mut m.auto_scale).evaluation_interval = Tf::Unknown),
            Duration::from_secs(300),
            Some(Duration::from_secs(168 * 3600)),
            diags,
        );
    }
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
        schema().clone()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // A configuration the model cannot read (values not known yet where the model needs
        // them) is checked again once they are known.
        if let Ok(model) = PoolModel::read(config) {
            validate(&model, diags);
        }
        validate_registries(config, diags);
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        plan::modify_plan(req, resp);
    }

    async fn create(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        apply::create(ctx, req).await
    }

    async fn read(&self, ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
        apply::read(ctx, req).await
    }

    async fn update(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        apply::update(ctx, req).await
    }

    async fn delete(&self, ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
        apply::delete(ctx, req).await
    }

    async fn import(&self, ctx: &Ctx<Batch>, id: &str) -> ImportResponse {
        let mut resp = apply::import(id);
        if !resp.diags.has_errors() {
            apply::refuse_non_container_pool(ctx, id, &mut resp.diags).await;
        }
        resp
    }
}

#[cfg(test)]
mod tests;
