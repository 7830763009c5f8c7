//! Batch -> Terraform: a `CloudPool` as the pool model. `prior` (the previous state or the
//! plan) supplies the user's spelling where Batch normalises values, values Batch never
//! returns (registry passwords, `node_deallocation_option`) and the settings that live only in
//! Terraform (`wait_for`, `timeouts`).

use std::collections::BTreeMap;

use batch_client::models::{
    CloudPool, ContainerConfiguration, ContainerRegistry, NetworkConfiguration, StartTask,
};
use tfplugin::Value;
use tfplugin::model::Tf;
use tfplugin::validators::parse_iso8601_duration;

use super::model::{
    AutoScaleModel, ContainerModel, FixedScaleModel, ImageModel, NetworkModel, PoolModel,
    RegistryModel, StartTaskModel, block, bridge_in, bridge_out, registry_type,
    task_container_type,
};
use crate::common::container::{registry_from_model, task_container_from_model};

/// The remote string, spelled as in `prior` when they differ only in case (Batch lower-cases
/// some values and is case-insensitive about them).
pub fn keep_case(remote: Option<&str>, prior: &Tf<String>) -> Tf<String> {
    match (remote, prior.known()) {
        (Some(r), Some(p)) if r.eq_ignore_ascii_case(p) => Tf::Known(p.clone()),
        (r, _) => r.map(str::to_string).into(),
    }
}

/// A remote value that equals Batch's default reads back as null when the user left it unset.
pub fn default_as_null(remote: Option<&str>, default: &str, prior: &Tf<String>) -> Tf<String> {
    match remote {
        Some(r) if prior.is_null() && r.eq_ignore_ascii_case(default) => Tf::Null,
        r => keep_case(r, prior),
    }
}

/// An ISO 8601 duration, kept in the user's spelling when it means the same time (`PT15M` vs
/// `PT900S`, `P1D` vs `PT24H`).
pub fn keep_duration(remote: Option<&str>, default: &str, prior: &Tf<String>) -> Tf<String> {
    let r = remote.unwrap_or(default);
    if let Some(p) = prior.known()
        && let (Ok(a), Ok(b)) = (parse_iso8601_duration(r), parse_iso8601_duration(p))
        && a == b
    {
        return Tf::Known(p.clone());
    }
    Tf::Known(r.to_string())
}

fn normalise_formula(f: &str) -> String {
    f.replace("\r\n", "\n").trim().to_string()
}

/// A list Batch returns: null when empty and the user left it unset.
fn list_or_null(list: Option<&Vec<String>>, prior_is_null: bool) -> Tf<Vec<String>> {
    match list {
        Some(l) if !l.is_empty() => Tf::Known(l.clone()),
        _ if prior_is_null => Tf::Null,
        _ => Tf::Known(vec![]),
    }
}

/// Name-value pairs Batch returns as a map: null when empty and the user left it unset.
fn map_or_null(
    pairs: Option<Vec<(String, String)>>,
    prior_is_null: bool,
) -> Tf<BTreeMap<String, String>> {
    match pairs {
        Some(l) if !l.is_empty() => Tf::Known(l.into_iter().collect()),
        _ if prior_is_null => Tf::Null,
        _ => Tf::Known(BTreeMap::new()),
    }
}

/// The prior registry block describing the same registry (server and username), else the one
/// at the same position: passwords are never returned and come from there.
fn matching_registry<'a>(
    prior: &'a [RegistryModel],
    r: &ContainerRegistry,
    i: usize,
) -> Option<&'a RegistryModel> {
    let server_eq = |p: &RegistryModel| match (p.server.known(), r.registry_server.as_deref()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        (None, Some(b)) => b.eq_ignore_ascii_case("docker.io"),
        (Some(_), None) => false,
    };
    prior
        .iter()
        .find(|p| server_eq(p) && p.username.known().map(String::as_str) == r.username.as_deref())
        .or_else(|| prior.get(i))
}

pub fn flatten_registry(r: &ContainerRegistry, prior: Option<&RegistryModel>) -> RegistryModel {
    let prior = prior.map_or(Value::Null, |p| bridge_out(p, registry_type()));
    bridge_in(&registry_from_model(r, &prior))
}

pub fn flatten_container(c: &ContainerConfiguration, prior: &ContainerModel) -> ContainerModel {
    ContainerModel {
        type_: keep_case(Some(c.type_.as_str()), &prior.type_),
        image_names: list_or_null(
            c.container_image_names.as_ref(),
            prior.image_names.is_null(),
        ),
        registry: c
            .container_registries
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, r)| flatten_registry(r, matching_registry(&prior.registry, r, i)))
            .collect(),
    }
}

pub fn flatten_start_task(st: &StartTask, prior: &StartTaskModel) -> StartTaskModel {
    let elevation = st
        .user_identity
        .as_ref()
        .and_then(|u| u.auto_user.as_ref())
        .and_then(|a| a.elevation_level.as_deref())
        .unwrap_or("nonadmin");
    StartTaskModel {
        command_line: Tf::Known(st.command_line.clone()),
        wait_for_success: Tf::Known(st.wait_for_success.unwrap_or(true)),
        max_task_retry_count: Tf::Known(st.max_task_retry_count.unwrap_or(0) as i64),
        elevation_level: keep_case(Some(elevation), &prior.elevation_level),
        environment: map_or_null(
            st.environment_settings.as_ref().map(|l| {
                l.iter()
                    .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
                    .collect()
            }),
            prior.environment.is_null(),
        ),
        container: match &st.container_settings {
            Some(c) => {
                let p = prior
                    .container
                    .known()
                    .map_or(Value::Null, |p| bridge_out(p, task_container_type()));
                Tf::Known(bridge_in(&task_container_from_model(c, &p)))
            }
            None => Tf::Null,
        },
    }
}

/// An all-default network configuration the user did not write reads back as no block.
pub fn flatten_network(n: &NetworkConfiguration, prior: &Tf<NetworkModel>) -> Tf<NetworkModel> {
    let ip = n.public_ip_address_configuration.as_ref();
    let p = block(prior);
    let m = NetworkModel {
        subnet_id: keep_case(n.subnet_id.as_deref(), &p.subnet_id),
        dynamic_vnet_assignment_scope: default_as_null(
            n.dynamic_v_net_assignment_scope.as_deref(),
            "none",
            &p.dynamic_vnet_assignment_scope,
        ),
        accelerated_networking_enabled: match n.enable_accelerated_networking {
            Some(false) if p.accelerated_networking_enabled.is_null() => Tf::Null,
            b => b.into(),
        },
        public_address_provisioning_type: default_as_null(
            ip.and_then(|i| i.provision.as_deref()),
            "batchmanaged",
            &p.public_address_provisioning_type,
        ),
        public_ip_address_ids: list_or_null(
            ip.and_then(|i| i.ip_address_ids.as_ref()),
            p.public_ip_address_ids.is_null(),
        ),
    };
    if prior.is_null() && m == NetworkModel::default() {
        Tf::Null
    } else {
        Tf::Known(m)
    }
}

/// The image block or the gallery image id, whichever the pool uses.
fn flatten_image(p: &CloudPool, prior: &PoolModel) -> (Tf<ImageModel>, Tf<String>) {
    let vmc = p.virtual_machine_configuration.clone().unwrap_or_default();
    let img = &vmc.image_reference;
    if img.virtual_machine_image_id.is_some() {
        let id = keep_case(
            img.virtual_machine_image_id.as_deref(),
            &prior.virtual_machine_image_id,
        );
        (Tf::Null, id)
    } else if img.publisher.is_some() || img.offer.is_some() || img.sku.is_some() {
        let pi = block(&prior.image);
        let m = ImageModel {
            publisher: keep_case(img.publisher.as_deref(), &pi.publisher),
            offer: keep_case(img.offer.as_deref(), &pi.offer),
            sku: keep_case(img.sku.as_deref(), &pi.sku),
            version: keep_case(
                Some(img.version.as_deref().unwrap_or("latest")),
                &pi.version,
            ),
        };
        (Tf::Known(m), Tf::Null)
    } else {
        (Tf::Null, Tf::Null)
    }
}

/// `fixed_scale` or `auto_scale`, as the pool is scaled.
fn flatten_scale(p: &CloudPool, prior: &PoolModel) -> (Tf<FixedScaleModel>, Tf<AutoScaleModel>) {
    if p.enable_auto_scale == Some(true) {
        let pa = block(&prior.auto_scale);
        let formula = p.auto_scale_formula.clone().unwrap_or_default();
        let formula = match pa.formula.known() {
            Some(f) if normalise_formula(f) == normalise_formula(&formula) => f.clone(),
            _ => formula,
        };
        let a = AutoScaleModel {
            formula: Tf::Known(formula),
            evaluation_interval: keep_duration(
                p.auto_scale_evaluation_interval.as_deref(),
                "PT15M",
                &pa.evaluation_interval,
            ),
        };
        (Tf::Null, Tf::Known(a))
    } else {
        let pf = block(&prior.fixed_scale);
        let f = FixedScaleModel {
            target_dedicated_nodes: Tf::Known(p.target_dedicated_nodes.unwrap_or(0) as i64),
            target_low_priority_nodes: Tf::Known(p.target_low_priority_nodes.unwrap_or(0) as i64),
            resize_timeout: keep_duration(p.resize_timeout.as_deref(), "PT15M", &pf.resize_timeout),
            // Batch does not return it: the next resize uses the configured one.
            node_deallocation_option: pf.node_deallocation_option,
        };
        (Tf::Known(f), Tf::Null)
    }
}

pub fn flatten_pool(p: &CloudPool, prior: &PoolModel) -> PoolModel {
    let name = keep_case(Some(p.id.as_deref().unwrap_or_default()), &prior.name);
    let vmc = p.virtual_machine_configuration.clone().unwrap_or_default();
    let (image, virtual_machine_image_id) = flatten_image(p, prior);
    let (fixed_scale, auto_scale) = flatten_scale(p, prior);
    PoolModel {
        id: name.clone(),
        name,
        display_name: p
            .display_name
            .clone()
            .filter(|d| !(d.is_empty() && prior.display_name.is_null()))
            .into(),
        vm_size: keep_case(p.vm_size.as_deref(), &prior.vm_size),
        node_agent_sku_id: keep_case(Some(&vmc.node_agent_sku_id), &prior.node_agent_sku_id),
        virtual_machine_image_id,
        task_slots_per_node: Tf::Known(p.task_slots_per_node.unwrap_or(1) as i64),
        task_scheduling_policy: Tf::Known(
            p.task_scheduling_policy
                .as_ref()
                .map(|t| t.node_fill_type.to_ascii_lowercase())
                .unwrap_or_else(|| "spread".into()),
        ),
        inter_node_communication: Tf::Known(p.enable_inter_node_communication.unwrap_or(false)),
        metadata: map_or_null(
            p.metadata.as_ref().map(|l| {
                l.iter()
                    .map(|e| (e.name.clone(), e.value.clone()))
                    .collect()
            }),
            prior.metadata.is_null(),
        ),
        target_node_communication_mode: default_as_null(
            p.target_node_communication_mode.as_deref(),
            "default",
            &prior.target_node_communication_mode,
        ),
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

/// The pool as Terraform state (see [`flatten_pool`]).
pub fn pool_to_state(p: &CloudPool, prior: &Value) -> Value {
    let prior = PoolModel::read(prior).unwrap_or_default();
    flatten_pool(p, &prior).write()
}
