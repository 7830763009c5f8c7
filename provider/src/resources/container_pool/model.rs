//! The pool's typed model: one struct per block, field names = Terraform attribute names.
//! Every field is a [`Tf`] so plan-time code can tell null from unknown; apply-time code reads
//! the known values.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tfplugin::model::{Tf, from_value, sample_of, to_value};
use tfplugin::validators::parse_go_duration;
use tfplugin::{AttrPath, Type, Value};

use super::plan::diff_paths;
use super::schema;
pub use crate::common::container::{BindMountModel, RegistryModel, TaskContainerModel};
use crate::common::task_spec::Environment;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolModel {
    pub id: Tf<String>,
    pub name: Tf<String>,
    pub display_name: Tf<String>,
    pub vm_size: Tf<String>,
    pub node_agent_sku_id: Tf<String>,
    pub virtual_machine_image_id: Tf<String>,
    pub task_slots_per_node: Tf<i64>,
    pub task_scheduling_policy: Tf<String>,
    pub inter_node_communication: Tf<bool>,
    pub metadata: Tf<BTreeMap<String, String>>,
    pub target_node_communication_mode: Tf<String>,
    pub wait_for: Tf<String>,
    pub state: Tf<String>,
    pub allocation_state: Tf<String>,
    pub current_dedicated_nodes: Tf<i64>,
    pub current_low_priority_nodes: Tf<i64>,
    pub last_modified: Tf<String>,
    pub image: Tf<ImageModel>,
    pub container: Tf<ContainerModel>,
    pub fixed_scale: Tf<FixedScaleModel>,
    pub auto_scale: Tf<AutoScaleModel>,
    pub start_task: Tf<StartTaskModel>,
    pub network_configuration: Tf<NetworkModel>,
    pub timeouts: Tf<TimeoutsModel>,
}

/// The computed attributes `modify_plan` decides (written back into the plan alone, so values the
/// other models read as unset stay as Terraform planned them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComputedModel {
    pub id: Tf<String>,
    pub state: Tf<String>,
    pub allocation_state: Tf<String>,
    pub current_dedicated_nodes: Tf<i64>,
    pub current_low_priority_nodes: Tf<i64>,
    pub last_modified: Tf<String>,
}

impl ComputedModel {
    pub fn of(m: &PoolModel) -> ComputedModel {
        ComputedModel {
            id: m.id.clone(),
            state: m.state.clone(),
            allocation_state: m.allocation_state.clone(),
            current_dedicated_nodes: m.current_dedicated_nodes.clone(),
            current_low_priority_nodes: m.current_low_priority_nodes.clone(),
            last_modified: m.last_modified.clone(),
        }
    }

    /// Sets these attributes in `planned` (an object of the resource's type).
    pub fn write_into(&self, planned: &mut Value) {
        let Ok(v) = to_value(self, pool_type()) else {
            return;
        };
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self) else {
            return;
        };
        for name in fields.keys() {
            planned.set(name, v.get(name).clone());
        }
    }
}

/// `image { ... }`: a Marketplace image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageModel {
    pub publisher: Tf<String>,
    pub offer: Tf<String>,
    pub sku: Tf<String>,
    pub version: Tf<String>,
}

/// `container { ... }`: the pool's container configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerModel {
    #[serde(rename = "type")]
    pub type_: Tf<String>,
    pub image_names: Tf<Vec<String>>,
    pub registry: Vec<RegistryModel>,
}

/// The same registry without its secrets (a password change alone is not a configuration
/// change Batch must see on a pool with nodes).
pub fn without_secrets(r: &RegistryModel) -> RegistryModel {
    RegistryModel {
        password: None,
        password_wo: None,
        password_wo_version: None,
        ..r.clone()
    }
}

/// `fixed_scale { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FixedScaleModel {
    pub target_dedicated_nodes: Tf<i64>,
    pub target_low_priority_nodes: Tf<i64>,
    pub resize_timeout: Tf<String>,
    pub node_deallocation_option: Tf<String>,
}

/// `auto_scale { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoScaleModel {
    pub formula: Tf<String>,
    pub evaluation_interval: Tf<String>,
}

/// `start_task { ... }`: the shared task spec (`common/task_spec`: command line, environment,
/// container) plus the start task's own flat settings. The flat settings stay [`Tf`] for
/// plan-time code; the task spec parts are the common models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StartTaskModel {
    pub command_line: Tf<String>,
    pub wait_for_success: Tf<bool>,
    pub max_task_retry_count: Tf<i64>,
    pub elevation_level: Tf<String>,
    pub environment: Environment,
    pub container: Option<TaskContainerModel>,
}

/// `network_configuration { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkModel {
    pub subnet_id: Tf<String>,
    pub dynamic_vnet_assignment_scope: Tf<String>,
    pub accelerated_networking_enabled: Tf<bool>,
    pub public_address_provisioning_type: Tf<String>,
    pub public_ip_address_ids: Tf<Vec<String>>,
}

/// `timeouts { ... }` (Go duration strings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeoutsModel {
    pub create: Tf<String>,
    pub update: Tf<String>,
    pub delete: Tf<String>,
}

/// Which operation's timeout.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Create,
    Update,
    Delete,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The known value of a [`Tf`] field, owned (what apply-time code sends to Batch).
pub trait KnownExt<T> {
    fn get(&self) -> Option<T>;
}

impl<T: Clone> KnownExt<T> for Tf<T> {
    fn get(&self) -> Option<T> {
        self.known().cloned()
    }
}

/// The known block, or an empty one (attribute lookups into a null block find nulls).
pub fn block<T: Default + Clone>(b: &Tf<T>) -> T {
    b.known().cloned().unwrap_or_default()
}

impl PoolModel {
    /// Reads a plan, state or configuration; null reads as an all-null pool.
    pub fn read(v: &Value) -> Result<PoolModel, tfplugin::model::ModelError> {
        if v.is_null() {
            return Ok(PoolModel::default());
        }
        from_value(v)
    }

    /// The pool as a Terraform value of the resource's type.
    pub fn write(&self) -> Value {
        to_value(self, pool_type()).expect("the pool model matches the schema (tested)")
    }

    pub fn name(&self) -> String {
        self.name.get().unwrap_or_default()
    }

    /// `wait_for`, `steady` when unset.
    pub fn wait_mode(&self) -> String {
        self.wait_for.get().unwrap_or_else(|| "steady".into())
    }

    pub fn timeout(&self, op: Op) -> Duration {
        let t = block(&self.timeouts);
        let v = match op {
            Op::Create => t.create,
            Op::Update => t.update,
            Op::Delete => t.delete,
        };
        v.known()
            .and_then(|s| parse_go_duration(s).ok())
            .unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The plan with the write-only values of `config` filled in (registry `password_wo`), as
    /// the expand functions need it: Terraform never puts write-only values in a plan.
    pub fn with_write_only(&self, config: &PoolModel) -> PoolModel {
        let mut m = self.clone();
        if let (Tf::Known(c), Tf::Known(cfg)) = (&mut m.container, &config.container) {
            for (r, cr) in c.registry.iter_mut().zip(&cfg.registry) {
                r.password_wo = cr.password_wo.clone();
            }
        }
        if let (Tf::Known(st), Tf::Known(cst)) = (&mut m.start_task, &config.start_task)
            && let (Some(c), Some(cc)) = (&mut st.container, &cst.container)
            && let (Some(r), Some(cr)) = (&mut c.registry, &cc.registry)
        {
            r.password_wo = cr.password_wo.clone();
        }
        m
    }
}

/// The resource's value type (computed once).
pub fn pool_type() -> &'static Type {
    static TY: OnceLock<Type> = OnceLock::new();
    TY.get_or_init(|| schema().block.value_type())
}

/// The attribute path of the field `set` changes, found through the model (code names fields,
/// not attribute strings): `path_to(|m| m.vm_size = Tf::Unknown)` is `vm_size`. Every block is
/// present in the base, so nested fields get their full path (`fixed_scale.resize_timeout`).
pub fn path_to(set: impl FnOnce(&mut PoolModel)) -> AttrPath {
    let base: PoolModel = from_value(&sample_of(pool_type())).expect("the sample reads");
    let mut m = base.clone();
    set(&mut m);
    let mut out = Vec::new();
    diff_paths(&m.write(), &base.write(), &AttrPath::root(), &mut out);
    out.into_iter().next().unwrap_or_else(AttrPath::root)
}

/// The known block of a [`Tf`] field, for [`path_to`].
pub fn known_mut<T>(b: &mut Tf<T>) -> &mut T {
    match b {
        Tf::Known(t) => t,
        _ => panic!("path_to's base has every block"),
    }
}

/// The model reads `v` and writes it back unchanged: no unknown value hides in a field that
/// reads unknown as unset (the common task spec models are for known values).
pub fn reads_losslessly(v: &Value) -> bool {
    PoolModel::read(v).is_ok_and(|m| m.write() == *v)
}
