//! Terraform -> Batch: the pool model as the parameters of Pool_Add, Pool_Patch,
//! Pool_UpdateProperties, Pool_Resize and Pool_EnableAutoScale. The model passed in is the
//! plan with write-only values filled in ([`PoolModel::with_write_only`]).

use batch_client::models::{
    CloudPool, ContainerConfiguration, ContainerRegistry, ImageReference, MetadataItem,
    NetworkConfiguration, PoolAddParameter, PoolEnableAutoScaleParameter, PoolPatchParameter,
    PoolResizeParameter, PoolUpdatePropertiesParameter, PublicIPAddressConfiguration, StartTask,
    TaskSchedulingPolicy, VirtualMachineConfiguration,
};
use tfplugin::model::Tf;

use super::model::{
    AutoScaleModel, ContainerModel, FixedScaleModel, KnownExt, NetworkModel, PoolModel,
    RegistryModel, StartTaskModel,
};
use super::plan::PatchPlan;
use crate::common::container;
use crate::common::task_spec::{expand_environment, expand_task_container, pool_auto_user};

fn i32_of(v: &Tf<i64>) -> Option<i32> {
    v.known().and_then(|n| i32::try_from(*n).ok())
}

pub fn expand_image(m: &PoolModel) -> ImageReference {
    match m.image.known() {
        Some(img) => ImageReference {
            publisher: img.publisher.get(),
            offer: img.offer.get(),
            sku: img.sku.get(),
            version: img.version.get(),
            ..Default::default()
        },
        None => ImageReference {
            virtual_machine_image_id: m.virtual_machine_image_id.get(),
            ..Default::default()
        },
    }
}

/// One registry (the password comes from `password` or the write-only `password_wo`, which
/// [`PoolModel::with_write_only`] put in the model).
pub fn expand_registry(r: &RegistryModel) -> ContainerRegistry {
    container::expand_registry(r, Some(r))
}

pub fn expand_container(c: &ContainerModel) -> ContainerConfiguration {
    let names = c.image_names.get().unwrap_or_default();
    let regs: Vec<ContainerRegistry> = c.registry.iter().map(expand_registry).collect();
    ContainerConfiguration {
        type_: c.type_.get().unwrap_or_else(|| "dockerCompatible".into()),
        container_image_names: (!names.is_empty()).then_some(names),
        container_registries: (!regs.is_empty()).then_some(regs),
    }
}

/// The VM configuration: `base` (the pool's current one on update, so settings this resource
/// does not manage survive) with our attributes laid over it.
pub fn expand_vm_config(
    m: &PoolModel,
    base: Option<VirtualMachineConfiguration>,
) -> VirtualMachineConfiguration {
    let mut vmc = base.unwrap_or_default();
    vmc.image_reference = expand_image(m);
    vmc.node_agent_sku_id = m.node_agent_sku_id.get().unwrap_or_default();
    vmc.container_configuration = m.container.known().map(expand_container);
    vmc
}

/// The start task: the shared task spec parts, run as the pool-wide auto user with the flat
/// `elevation_level`. The container carries its own write-only registry password (see
/// [`PoolModel::with_write_only`]).
pub fn expand_start_task(st: &StartTaskModel) -> StartTask {
    let elevation = st
        .elevation_level
        .get()
        .unwrap_or_else(|| "nonadmin".into());
    StartTask {
        command_line: st.command_line.get().unwrap_or_default(),
        container_settings: st
            .container
            .as_ref()
            .map(|c| expand_task_container(c, Some(c))),
        resource_files: None,
        environment_settings: expand_environment(&st.environment),
        user_identity: Some(pool_auto_user(&elevation)),
        max_task_retry_count: i32_of(&st.max_task_retry_count),
        wait_for_success: st.wait_for_success.get(),
    }
}

pub fn expand_network(n: &NetworkModel) -> NetworkConfiguration {
    let ips = n.public_ip_address_ids.get().unwrap_or_default();
    let provision = n.public_address_provisioning_type.get();
    NetworkConfiguration {
        subnet_id: n.subnet_id.get(),
        dynamic_v_net_assignment_scope: n.dynamic_vnet_assignment_scope.get(),
        endpoint_configuration: None,
        public_ip_address_configuration: (provision.is_some() || !ips.is_empty()).then(|| {
            PublicIPAddressConfiguration {
                provision,
                ip_address_ids: (!ips.is_empty()).then_some(ips),
            }
        }),
        enable_accelerated_networking: n.accelerated_networking_enabled.get(),
    }
}

fn expand_fill_type(m: &PoolModel) -> Option<TaskSchedulingPolicy> {
    m.task_scheduling_policy
        .get()
        .map(|node_fill_type| TaskSchedulingPolicy { node_fill_type })
}

/// Metadata items; None when the attribute is null.
fn expand_metadata(m: &PoolModel) -> Option<Vec<MetadataItem>> {
    if m.metadata.is_null() {
        return None;
    }
    Some(
        m.metadata
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| MetadataItem { name, value })
            .collect(),
    )
}

pub fn expand_pool_add(m: &PoolModel) -> PoolAddParameter {
    let mut p = PoolAddParameter {
        id: m.name(),
        display_name: m.display_name.get(),
        vm_size: m.vm_size.get().unwrap_or_default(),
        virtual_machine_configuration: Some(expand_vm_config(m, None)),
        enable_inter_node_communication: m.inter_node_communication.get(),
        network_configuration: m.network_configuration.known().map(expand_network),
        start_task: m.start_task.known().map(expand_start_task),
        task_slots_per_node: i32_of(&m.task_slots_per_node),
        task_scheduling_policy: expand_fill_type(m),
        metadata: expand_metadata(m),
        target_node_communication_mode: m.target_node_communication_mode.get(),
        ..Default::default()
    };
    if let Some(a) = m.auto_scale.known() {
        p.enable_auto_scale = Some(true);
        p.auto_scale_formula = a.formula.get();
        p.auto_scale_evaluation_interval = a.evaluation_interval.get();
    } else if let Some(f) = m.fixed_scale.known() {
        p.enable_auto_scale = Some(false);
        p.target_dedicated_nodes = i32_of(&f.target_dedicated_nodes);
        p.target_low_priority_nodes = i32_of(&f.target_low_priority_nodes);
        p.resize_timeout = f.resize_timeout.get();
    }
    p
}

pub fn expand_resize(f: &FixedScaleModel) -> PoolResizeParameter {
    PoolResizeParameter {
        target_dedicated_nodes: i32_of(&f.target_dedicated_nodes),
        target_low_priority_nodes: i32_of(&f.target_low_priority_nodes),
        resize_timeout: f.resize_timeout.get(),
        node_deallocation_option: f.node_deallocation_option.get(),
    }
}

pub fn expand_enable_autoscale(a: &AutoScaleModel) -> PoolEnableAutoScaleParameter {
    PoolEnableAutoScaleParameter {
        auto_scale_formula: a.formula.get(),
        auto_scale_evaluation_interval: a.evaluation_interval.get(),
    }
}

/// Pool_Patch with the parts `what` names; `base` is the pool's current VM configuration.
pub fn expand_patch(
    m: &PoolModel,
    what: &PatchPlan,
    base: Option<VirtualMachineConfiguration>,
) -> PoolPatchParameter {
    let mut patch = PoolPatchParameter::default();
    if what.display_name {
        patch.display_name = Some(m.display_name.get().unwrap_or_default());
    }
    if what.vm_size {
        patch.vm_size = m.vm_size.get();
    }
    if what.task_slots_per_node {
        patch.task_slots_per_node = i32_of(&m.task_slots_per_node);
    }
    if what.task_scheduling_policy {
        patch.task_scheduling_policy = expand_fill_type(m);
    }
    if what.inter_node_communication {
        patch.enable_inter_node_communication = m.inter_node_communication.get();
    }
    if what.network_configuration {
        patch.network_configuration = Some(
            m.network_configuration
                .known()
                .map(expand_network)
                .unwrap_or_default(),
        );
    }
    if what.vm_configuration {
        patch.virtual_machine_configuration = Some(expand_vm_config(m, base));
    }
    if what.start_task {
        patch.start_task = m.start_task.known().map(expand_start_task);
    }
    if what.metadata {
        patch.metadata = Some(expand_metadata(m).unwrap_or_default());
    }
    if what.target_node_communication_mode {
        patch.target_node_communication_mode = Some(
            m.target_node_communication_mode
                .get()
                .unwrap_or_else(|| "default".into()),
        );
    }
    patch
}

/// Pool_UpdateProperties (replaces the whole set: used to remove the start task, which Patch
/// cannot). Certificate and application package references are kept as the pool has them.
pub fn expand_update_properties(m: &PoolModel, cur: &CloudPool) -> PoolUpdatePropertiesParameter {
    PoolUpdatePropertiesParameter {
        start_task: None,
        certificate_references: cur.certificate_references.clone().unwrap_or_default(),
        application_package_references: cur
            .application_package_references
            .clone()
            .unwrap_or_default(),
        metadata: expand_metadata(m).unwrap_or_default(),
        target_node_communication_mode: m.target_node_communication_mode.get(),
    }
}
