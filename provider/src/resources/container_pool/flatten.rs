//! Batch -> Terraform: a `CloudPool` as the pool model, in Batch's spelling. `prior` (the
//! previous state or the plan) supplies values Batch never returns (registry passwords,
//! `node_deallocation_option`) and the settings that live only in Terraform (`wait_for`,
//! `timeouts`). Spelling and defaults are the schema's business: attributes declare their
//! semantics (case, durations, formula text) and Batch's defaults (`server_default`), and the
//! framework keeps the prior value or null on read and apply ([`pool_to_state`] applies the
//! same rules for callers outside the framework).

use batch_client::models::{
    CloudPool, ContainerConfiguration, ContainerRegistry, NetworkConfiguration, StartTask,
};
use tfplugin::Value;
use tfplugin::framework::{normalize_read, null_server_defaults};
use tfplugin::model::{Tf, from_value, to_value};

use super::model::{
    AutoScaleModel, ContainerModel, FixedScaleModel, ImageModel, NetworkModel, PoolModel,
    RegistryModel, StartTaskModel, block,
};
use super::{network_block, schema};
use crate::common::container::flatten_registry;
use crate::common::task_spec::{flatten_environment, flatten_task_container};

/// Text of a string the service always returns.
fn known(s: impl Into<String>) -> Tf<String> {
    Tf::Known(s.into())
}

/// An optional string the service returns.
fn opt(s: Option<&str>) -> Tf<String> {
    s.map(str::to_string).into()
}

/// A list or name-value pairs Batch returns (none reads as empty; an empty one the user left
/// unset stays unset by the attribute's `server_default`).
fn collected<T: Clone, C: FromIterator<T>>(list: Option<&Vec<T>>) -> Tf<C> {
    Tf::Known(list.into_iter().flatten().cloned().collect())
}

/// The prior registry block describing the same registry (server and username), else the one
/// at the same position: passwords are never returned and come from there.
fn matching_registry<'a>(
    prior: &'a [RegistryModel],
    r: &ContainerRegistry,
    i: usize,
) -> Option<&'a RegistryModel> {
    let server_eq = |p: &RegistryModel| match (p.server.as_deref(), r.registry_server.as_deref()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        (None, Some(b)) => b.eq_ignore_ascii_case("docker.io"),
        (Some(_), None) => false,
    };
    prior
        .iter()
        .find(|p| server_eq(p) && p.username.as_deref() == r.username.as_deref())
        .or_else(|| prior.get(i))
}

pub fn flatten_container(c: &ContainerConfiguration, prior: &ContainerModel) -> ContainerModel {
    ContainerModel {
        type_: known(&c.type_),
        image_names: collected(c.container_image_names.as_ref()),
        registry: c
            .container_registries
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, r)| flatten_registry(r, matching_registry(&prior.registry, r, i)))
            .collect(),
    }
}

/// The start task; the task spec parts through their common mappings.
pub fn flatten_start_task(st: &StartTask, prior: &StartTaskModel) -> StartTaskModel {
    let elevation = st
        .user_identity
        .as_ref()
        .and_then(|u| u.auto_user.as_ref())
        .and_then(|a| a.elevation_level.as_deref())
        .unwrap_or("nonadmin");
    StartTaskModel {
        command_line: known(&st.command_line),
        wait_for_success: Tf::Known(st.wait_for_success.unwrap_or(true)),
        max_task_retry_count: Tf::Known(st.max_task_retry_count.unwrap_or(0) as i64),
        elevation_level: known(elevation),
        environment: flatten_environment(
            st.environment_settings.as_ref(),
            prior.environment.as_ref(),
        ),
        container: st
            .container_settings
            .as_ref()
            .map(|c| flatten_task_container(c, prior.container.as_ref())),
    }
}

/// The network configuration; one the user did not write that holds only Batch's defaults
/// (the attributes' `server_default`s) reads back as no block.
pub fn flatten_network(n: &NetworkConfiguration, prior: &Tf<NetworkModel>) -> Tf<NetworkModel> {
    let ip = n.public_ip_address_configuration.as_ref();
    let m = NetworkModel {
        subnet_id: opt(n.subnet_id.as_deref()),
        dynamic_vnet_assignment_scope: opt(n.dynamic_v_net_assignment_scope.as_deref()),
        accelerated_networking_enabled: n.enable_accelerated_networking.into(),
        public_address_provisioning_type: opt(ip.and_then(|i| i.provision.as_deref())),
        public_ip_address_ids: collected(ip.and_then(|i| i.ip_address_ids.as_ref())),
    };
    if prior.is_null() && only_server_defaults(&m) {
        Tf::Null
    } else {
        Tf::Known(m)
    }
}

/// Every attribute is unset or Batch's default for it.
fn only_server_defaults(m: &NetworkModel) -> bool {
    let block = network_block();
    let Ok(mut v) = to_value(m, &block.value_type()) else {
        return false;
    };
    null_server_defaults(&block, &Value::Null, &mut v);
    from_value::<NetworkModel>(&v).is_ok_and(|n| n == NetworkModel::default())
}

/// The image block or the gallery image id, whichever the pool uses.
fn flatten_image(p: &CloudPool) -> (Tf<ImageModel>, Tf<String>) {
    let vmc = p.virtual_machine_configuration.clone().unwrap_or_default();
    let img = &vmc.image_reference;
    if img.virtual_machine_image_id.is_some() {
        (Tf::Null, opt(img.virtual_machine_image_id.as_deref()))
    } else if img.publisher.is_some() || img.offer.is_some() || img.sku.is_some() {
        let m = ImageModel {
            publisher: opt(img.publisher.as_deref()),
            offer: opt(img.offer.as_deref()),
            sku: opt(img.sku.as_deref()),
            version: known(img.version.as_deref().unwrap_or("latest")),
        };
        (Tf::Known(m), Tf::Null)
    } else {
        (Tf::Null, Tf::Null)
    }
}

/// Batch's resize timeout and autoscale evaluation interval when it reports none.
const DEFAULT_INTERVAL: &str = "PT15M";

/// `fixed_scale` or `auto_scale`, as the pool is scaled.
fn flatten_scale(p: &CloudPool, prior: &PoolModel) -> (Tf<FixedScaleModel>, Tf<AutoScaleModel>) {
    if p.enable_auto_scale == Some(true) {
        let a = AutoScaleModel {
            formula: known(p.auto_scale_formula.clone().unwrap_or_default()),
            evaluation_interval: known(
                p.auto_scale_evaluation_interval
                    .as_deref()
                    .unwrap_or(DEFAULT_INTERVAL),
            ),
        };
        (Tf::Null, Tf::Known(a))
    } else {
        let pf = block(&prior.fixed_scale);
        let f = FixedScaleModel {
            target_dedicated_nodes: Tf::Known(p.target_dedicated_nodes.unwrap_or(0) as i64),
            target_low_priority_nodes: Tf::Known(p.target_low_priority_nodes.unwrap_or(0) as i64),
            resize_timeout: known(p.resize_timeout.as_deref().unwrap_or(DEFAULT_INTERVAL)),
            // Batch does not return it: the next resize uses the configured one.
            node_deallocation_option: pf.node_deallocation_option,
        };
        (Tf::Known(f), Tf::Null)
    }
}

pub fn flatten_pool(p: &CloudPool, prior: &PoolModel) -> PoolModel {
    let name = match (p.id.as_deref(), prior.name.known()) {
        // Pool ids are case-insensitive: the name the state knows the pool by stays.
        (Some(id), Some(n)) if id.eq_ignore_ascii_case(n) => known(n),
        (id, _) => known(id.unwrap_or_default()),
    };
    let vmc = p.virtual_machine_configuration.clone().unwrap_or_default();
    let (image, virtual_machine_image_id) = flatten_image(p);
    let (fixed_scale, auto_scale) = flatten_scale(p, prior);
    PoolModel {
        id: name.clone(),
        name,
        display_name: opt(p.display_name.as_deref()),
        vm_size: opt(p.vm_size.as_deref()),
        node_agent_sku_id: known(&vmc.node_agent_sku_id),
        virtual_machine_image_id,
        task_slots_per_node: Tf::Known(p.task_slots_per_node.unwrap_or(1) as i64),
        // Batch spells it `Spread`/`Pack`; the schema's values (and a generated configuration,
        // which the OneOf validator checks) are lower case.
        task_scheduling_policy: known(
            p.task_scheduling_policy
                .as_ref()
                .map_or("spread".into(), |t| t.node_fill_type.to_ascii_lowercase()),
        ),
        inter_node_communication: Tf::Known(p.enable_inter_node_communication.unwrap_or(false)),
        metadata: Tf::Known(
            p.metadata
                .iter()
                .flatten()
                .map(|e| (e.name.clone(), e.value.clone()))
                .collect(),
        ),
        target_node_communication_mode: opt(p.target_node_communication_mode.as_deref()),
        wait_for: Tf::Known(prior.wait_mode()),
        state: p.state.clone().into(),
        allocation_state: p.allocation_state.clone().into(),
        current_dedicated_nodes: Tf::Known(p.current_dedicated_nodes.unwrap_or(0) as i64),
        current_low_priority_nodes: Tf::Known(p.current_low_priority_nodes.unwrap_or(0) as i64),
        last_modified: p.last_modified.clone().into(),
        image,
        container: match &vmc.container_configuration {
            Some(c) => Tf::Known(flatten_container(c, &block(&prior.container))),
            None => Tf::Null,
        },
        fixed_scale,
        auto_scale,
        start_task: match &p.start_task {
            Some(st) => Tf::Known(flatten_start_task(st, &block(&prior.start_task))),
            None => Tf::Null,
        },
        network_configuration: match &p.network_configuration {
            Some(n) => flatten_network(n, &prior.network_configuration),
            None => Tf::Null,
        },
        timeouts: match &prior.timeouts {
            Tf::Unknown => Tf::Null,
            t => t.clone(),
        },
    }
}

/// The pool as Terraform state (see [`flatten_pool`]), with the schema's semantics and server
/// defaults applied against `prior` as the framework applies them.
pub fn pool_to_state(p: &CloudPool, prior: &Value) -> Value {
    let model = PoolModel::read(prior).unwrap_or_default();
    let mut state = flatten_pool(p, &model).write();
    normalize_read(&schema().block, prior, &mut state);
    state
}
