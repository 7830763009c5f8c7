//! Unit tests of the pool: models against the schema, expand/flatten tables, the update
//! planner, modify_plan and the Batch error mapping. No Terraform, no Batch.

use std::collections::BTreeMap;

use batch_client::models::{
    CertificateReference, CloudPool, ComputeNode, ContainerConfiguration, ContainerRegistry,
    ImageReference, MetadataItem, NetworkConfiguration, PublicIPAddressConfiguration, ResizeError,
    StartTaskInformation, TaskSchedulingPolicy, VirtualMachineConfiguration,
};
use tfplugin::framework::{
    PlanRequest, PlanResponse, Private, keep_equivalent, null_server_defaults,
};
use tfplugin::model::{Tf, check_round_trip, from_value, to_value};
use tfplugin::{Diagnostics, Value};

use super::expand::*;
use super::flatten::*;
use super::model::*;
use super::plan::*;
use super::wait::*;

fn k<T>(v: T) -> Tf<T> {
    Tf::Known(v)
}

fn ks(s: &str) -> Tf<String> {
    Tf::Known(s.to_string())
}

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

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

fn registry(server: &str, user: &str, password: &str) -> RegistryModel {
    RegistryModel {
        server: some(server),
        username: some(user),
        password: some(password),
        ..Default::default()
    }
}

/// The configuration (as planned) that `cloud_pool()` was created from.
fn config() -> PoolModel {
    PoolModel {
        name: ks("p1"),
        vm_size: ks("STANDARD_D2S_V3"),
        node_agent_sku_id: ks("batch.node.ubuntu 20.04"),
        task_scheduling_policy: ks("pack"),
        task_slots_per_node: k(1),
        inter_node_communication: k(false),
        wait_for: ks("steady"),
        metadata: k(BTreeMap::from([("team".to_string(), "render".to_string())])),
        image: k(ImageModel {
            publisher: ks("microsoft-azure-batch"),
            offer: ks("ubuntu-server-container"),
            sku: ks("20-04-lts"),
            version: ks("latest"),
        }),
        container: k(ContainerModel {
            type_: ks("dockerCompatible"),
            image_names: k(vec!["busybox".into()]),
            registry: vec![registry("myregistry.azurecr.io", "puller", "pw1")],
        }),
        fixed_scale: k(FixedScaleModel {
            target_dedicated_nodes: k(1),
            target_low_priority_nodes: k(0),
            resize_timeout: ks("PT15M"),
            node_deallocation_option: Tf::Null,
        }),
        ..Default::default()
    }
}

/// What read (or apply) makes of `p` given `prior`: flatten, then the schema's semantics and
/// server defaults, as the framework applies them.
fn read_back(p: &CloudPool, prior: &PoolModel) -> PoolModel {
    PoolModel::read(&pool_to_state(p, &prior.write())).unwrap()
}

fn state() -> PoolModel {
    read_back(&cloud_pool(), &config())
}

fn empty_state() -> PoolModel {
    let mut p = cloud_pool();
    p.current_dedicated_nodes = Some(0);
    read_back(&p, &config())
}

fn with(mut m: PoolModel, f: impl FnOnce(&mut PoolModel)) -> PoolModel {
    f(&mut m);
    m
}

fn paths(p: &[tfplugin::AttrPath]) -> Vec<String> {
    p.iter().map(|p| p.to_string()).collect()
}

mod errors;
mod expand;
mod flatten;
mod model;
mod modify_plan;
mod planner;
mod semantics;
