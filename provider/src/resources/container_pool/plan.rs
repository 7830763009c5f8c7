//! Plan decides, apply carries out: [`plan_update`] turns (prior, planned, what the pool looks
//! like) into the list of Batch calls an update makes, and says what forces replacement.
//! `modify_plan` and `update` both use it, so the plan and the apply cannot disagree.

use batch_client::models::CloudPool;
use tfplugin::framework::{PlanRequest, PlanResponse};
use tfplugin::model::{Tf, to_value};
use tfplugin::{AttrPath, Value};

use serde::Serialize;

use super::model::{
    ComputedModel, ContainerModel, ImageModel, KnownExt, NetworkModel, PoolModel, known_mut,
    path_to, pool_type, reads_losslessly, without_secrets,
};

/// A Batch call (or step) of an update, in the order they are made.
#[derive(Debug, Clone, PartialEq)]
pub enum PoolCall {
    /// Scale to the planned 0 nodes and wait until the pool is steady, so that properties Batch
    /// changes only on an empty pool can be changed next.
    ScaleToZeroFirst,
    /// Pool_Patch with these parts.
    Patch(PatchPlan),
    /// Pool_UpdateProperties: removes the start task (Pool_Patch cannot remove it).
    UpdateProperties,
    /// Bring the scale settings to the planned ones ([`scale_calls`] says how).
    Scale,
}

/// One call of a [`PoolCall::Scale`] (or [`PoolCall::ScaleToZeroFirst`]) step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleCall {
    DisableAutoScale,
    StopResize,
    Resize,
    EnableAutoScale,
}

/// Which parts a Pool_Patch sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchPlan {
    pub display_name: bool,
    pub vm_size: bool,
    pub task_slots_per_node: bool,
    pub task_scheduling_policy: bool,
    pub inter_node_communication: bool,
    pub network_configuration: bool,
    /// Image, node agent, container configuration (and registry passwords).
    pub vm_configuration: bool,
    pub start_task: bool,
    pub metadata: bool,
    pub target_node_communication_mode: bool,
}

impl PatchPlan {
    fn any(&self) -> bool {
        *self != PatchPlan::default()
    }
}

/// What happens to a changed or pending registry password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryAction {
    Unchanged,
    /// The new password goes out with the Patch.
    Send,
    /// A password recorded while the pool had nodes goes out now.
    SendPending,
    /// The pool has nodes: the new password is recorded and sent later.
    KeepPending,
}

/// What the pool looks like when the decision is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remote {
    /// Plan time: only the prior state is known.
    Planning,
    /// Apply time: the pool as Batch has it now; `scaled` once a [`PoolCall::ScaleToZeroFirst`]
    /// has run.
    Live { empty: bool, scaled: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdatePlan {
    /// Attributes whose change replaces the pool (it has nodes and is not scaled to 0).
    pub replace: Vec<AttrPath>,
    /// Properties Batch changes only on an empty pool that change (registry secrets excluded).
    pub empty_only: Vec<AttrPath>,
    pub calls: Vec<PoolCall>,
    pub registry: RegistryAction,
    /// The update needs the pool empty but it has nodes (apply time only): nothing is changed.
    pub not_empty: bool,
    /// Something Batch must see changed (apply reads the pool); otherwise only Terraform-side
    /// settings changed (wait_for, timeouts, node_deallocation_option).
    pub api_changes: bool,
    /// The update can change the node counts.
    pub changes_node_counts: bool,
}

impl UpdatePlan {
    /// The update reads the pool (some call, or a password to record as pending).
    pub fn touches_pool(&self) -> bool {
        !self.calls.is_empty() || self.registry != RegistryAction::Unchanged
    }
}

/// Properties Batch changes only while the pool has no nodes, in the order they are reported.
#[derive(Default, Debug)]
struct Changes {
    empty_only: Vec<AttrPath>,
    patch: PatchPlan,
    /// A registry password of the pool's container configuration changed.
    registry_secret: bool,
    start_task: bool,
    metadata: bool,
    comm_mode: bool,
    /// Scale settings Batch must see changed.
    scale: bool,
}

/// Paths where `a` and `b` differ (most specific attribute or block path).
pub fn diff_paths(a: &Value, b: &Value, path: &AttrPath, out: &mut Vec<AttrPath>) {
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

/// The container block with registry secrets blanked.
fn container_without_secrets(c: &Tf<ContainerModel>) -> Tf<ContainerModel> {
    c.clone().map(|mut c| {
        c.registry = c.registry.iter().map(without_secrets).collect();
        c
    })
}

/// The properties Batch changes only while the pool has no nodes, as one view of the model
/// (registry secrets blanked): where two views differ are the attribute paths to report.
#[derive(Serialize)]
struct EmptyOnlyView<'a> {
    display_name: &'a Tf<String>,
    vm_size: &'a Tf<String>,
    node_agent_sku_id: &'a Tf<String>,
    image: &'a Tf<ImageModel>,
    virtual_machine_image_id: &'a Tf<String>,
    container: Tf<ContainerModel>,
    network_configuration: &'a Tf<NetworkModel>,
    task_slots_per_node: &'a Tf<i64>,
    task_scheduling_policy: &'a Tf<String>,
    inter_node_communication: &'a Tf<bool>,
}

impl<'a> EmptyOnlyView<'a> {
    fn of(m: &'a PoolModel) -> Self {
        EmptyOnlyView {
            display_name: &m.display_name,
            vm_size: &m.vm_size,
            node_agent_sku_id: &m.node_agent_sku_id,
            image: &m.image,
            virtual_machine_image_id: &m.virtual_machine_image_id,
            container: container_without_secrets(&m.container),
            network_configuration: &m.network_configuration,
            task_slots_per_node: &m.task_slots_per_node,
            task_scheduling_policy: &m.task_scheduling_policy,
            inter_node_communication: &m.inter_node_communication,
        }
    }

    /// The view as a value of the resource's type (unknown when it cannot be written).
    fn value(&self) -> Value {
        to_value(self, pool_type()).unwrap_or(Value::Unknown)
    }
}

impl Changes {
    fn of(prior: &PoolModel, planned: &PoolModel) -> Changes {
        let mut c = Changes::default();
        let (new, old) = (EmptyOnlyView::of(planned), EmptyOnlyView::of(prior));
        diff_paths(
            &new.value(),
            &old.value(),
            &AttrPath::root(),
            &mut c.empty_only,
        );
        // Case-only differences never get here: the names declare IgnoreCase, so the plan keeps
        // the prior spelling.
        c.patch.display_name = new.display_name != old.display_name;
        c.patch.vm_size = new.vm_size != old.vm_size;
        c.patch.network_configuration = new.network_configuration != old.network_configuration;
        c.patch.task_slots_per_node = new.task_slots_per_node != old.task_slots_per_node;
        c.patch.task_scheduling_policy = new.task_scheduling_policy != old.task_scheduling_policy;
        c.patch.inter_node_communication =
            new.inter_node_communication != old.inter_node_communication;
        let container = new.container != old.container;
        c.patch.vm_configuration = new.node_agent_sku_id != old.node_agent_sku_id
            || new.image != old.image
            || new.virtual_machine_image_id != old.virtual_machine_image_id
            || container;
        c.registry_secret = !container && planned.container != prior.container;
        c.start_task = planned.start_task != prior.start_task;
        c.metadata = planned.metadata != prior.metadata;
        c.comm_mode =
            planned.target_node_communication_mode != prior.target_node_communication_mode;
        let strip = |f: &PoolModel| {
            f.fixed_scale.clone().map(|mut f| {
                f.node_deallocation_option = Tf::Null;
                f
            })
        };
        c.scale = strip(planned) != strip(prior) || planned.auto_scale != prior.auto_scale;
        c
    }

    fn props(&self) -> bool {
        self.start_task || self.metadata || self.comm_mode
    }
}

/// Both targets of a planned fixed scale are 0 (the update can empty the pool first).
pub fn scales_to_zero(planned: &PoolModel) -> bool {
    planned.fixed_scale.known().is_some_and(|f| {
        f.target_dedicated_nodes.get() == Some(0) && f.target_low_priority_nodes.get() == Some(0)
    })
}

/// The prior state says the pool has no nodes and is not allocating any.
pub fn empty_in_state(prior: &PoolModel) -> bool {
    prior.current_dedicated_nodes.get() == Some(0)
        && prior.current_low_priority_nodes.get() == Some(0)
        && prior.allocation_state.known().map(String::as_str) == Some("steady")
}

pub fn is_empty_pool(p: &CloudPool) -> bool {
    p.current_dedicated_nodes.unwrap_or(0) == 0 && p.current_low_priority_nodes.unwrap_or(0) == 0
}

/// The update from `prior` to `planned`. `pending`: a registry password recorded earlier is
/// waiting (private state).
pub fn plan_update(
    prior: &PoolModel,
    planned: &PoolModel,
    pending: bool,
    remote: Remote,
) -> UpdatePlan {
    let ch = Changes::of(prior, planned);
    let can_empty = empty_in_state(prior) || scales_to_zero(planned);
    // A pending password is only worth a call when the plan expects an empty pool.
    let pending = pending && can_empty;
    let wants_empty = !ch.empty_only.is_empty() || ch.registry_secret || pending;
    let mut plan = UpdatePlan {
        replace: vec![],
        empty_only: ch.empty_only.clone(),
        calls: vec![],
        registry: RegistryAction::Unchanged,
        not_empty: false,
        api_changes: ch.props() || ch.scale || wants_empty,
        changes_node_counts: ch.scale || (scales_to_zero(planned) && !ch.empty_only.is_empty()),
    };
    let (scale_first, empty) = match remote {
        Remote::Planning => {
            if !ch.empty_only.is_empty() && !can_empty {
                plan.replace = ch.empty_only.clone();
                return plan;
            }
            let first =
                wants_empty && ch.scale && !empty_in_state(prior) && scales_to_zero(planned);
            (first, can_empty)
        }
        Remote::Live { empty, scaled } => {
            let first = !scaled && wants_empty && !empty && scales_to_zero(planned) && ch.scale;
            (first, empty || first)
        }
    };
    if scale_first {
        plan.calls.push(PoolCall::ScaleToZeroFirst);
    }
    if !ch.empty_only.is_empty() && !empty {
        plan.not_empty = true;
        return plan;
    }
    plan.registry = match (ch.registry_secret, pending, empty) {
        (true, _, false) => RegistryAction::KeepPending,
        (true, _, true) => RegistryAction::Send,
        (false, true, true) => RegistryAction::SendPending,
        _ => RegistryAction::Unchanged,
    };
    let send = matches!(
        plan.registry,
        RegistryAction::Send | RegistryAction::SendPending
    );
    let start_task_removed = !prior.start_task.is_null() && planned.start_task.is_null();
    let mut patch = ch.patch.clone();
    patch.vm_configuration |= send;
    if ch.props() && !start_task_removed {
        patch.start_task = ch.start_task;
        patch.metadata = ch.metadata;
        patch.target_node_communication_mode = ch.comm_mode;
    }
    if patch.any() {
        plan.calls.push(PoolCall::Patch(patch));
    }
    if start_task_removed {
        plan.calls.push(PoolCall::UpdateProperties);
    }
    if ch.scale && !scale_first && !matches!(remote, Remote::Live { scaled: true, .. }) {
        plan.calls.push(PoolCall::Scale);
    }
    plan
}

/// The calls that bring the pool's scale to the planned one, given whether autoscaling is on
/// and whether the allocation is steady now.
pub fn scale_calls(planned: &PoolModel, auto_now: bool, steady: bool) -> Vec<ScaleCall> {
    let mut calls = Vec::new();
    if planned.fixed_scale.is_known() {
        if auto_now {
            calls.push(ScaleCall::DisableAutoScale);
        }
        if !steady {
            calls.push(ScaleCall::StopResize);
        }
        calls.push(ScaleCall::Resize);
    } else if planned.auto_scale.is_known() {
        if !steady {
            calls.push(ScaleCall::StopResize);
        }
        calls.push(ScaleCall::EnableAutoScale);
    }
    calls
}

/// `wait_for` other than `none`.
pub fn waits(m: &PoolModel) -> bool {
    m.wait_mode() != "none"
}

/// The registry block the password notes point at.
pub fn registry_path() -> AttrPath {
    path_to(|m| known_mut(&mut m.container).registry.clear())
}

/// The start task's container block.
pub fn start_task_container_path() -> AttrPath {
    path_to(|m| known_mut(&mut m.start_task).container = None)
}

/// Private-state key: a registry password recorded while the pool had nodes waits to be sent.
pub const PENDING_REGISTRY: &str = "registry_password_pending";

/// The resource's `modify_plan`: the id is known at create; on update, [`plan_update`] says
/// what replaces the pool, and computed attributes stay known where the update cannot change
/// them. (Case-only and same-duration changes never reach it: the attributes declare their
/// semantics and the framework keeps the prior values.) Only computed attributes are written
/// back into the plan.
pub fn modify_plan(req: &PlanRequest<'_>, resp: &mut PlanResponse) {
    if resp.planned.is_null() {
        return;
    }
    let (Ok(planned), Ok(prior)) = (PoolModel::read(&resp.planned), PoolModel::read(req.prior))
    else {
        return;
    };
    let mut computed = ComputedModel::of(&planned);
    if req.prior.is_null() {
        // The id is the name: show it in the plan rather than "(known after apply)".
        // Terraform also plans the create half of a replacement with a null prior.
        computed.id = planned.name.clone();
        computed.write_into(&mut resp.planned);
        return;
    }
    let pending = req.prior_private.contains_key(PENDING_REGISTRY);
    let plan = plan_update(&prior, &planned, pending, Remote::Planning);
    let replacing = !resp.requires_replace.is_empty() || !plan.replace.is_empty();
    resp.requires_replace.extend(plan.replace.iter().cloned());
    if replacing {
        return;
    }
    match plan.registry {
        RegistryAction::KeepPending => resp.diags.attr_warning(
            &registry_path(),
            "Registry password not sent until the pool is empty",
            format!(
                "Batch changes a pool's container registries only while the pool has no nodes, and pool {} has nodes. The new password is recorded in state but NOT sent now: the pool does not get replaced for it. Nodes keep logging in with the previous credentials. The first apply that finds the pool empty (for example after fixed_scale targets of 0) sends it.",
                prior.name()
            ),
        ),
        RegistryAction::SendPending => resp.diags.attr_warning(
            &registry_path(),
            "Sending the pending registry password",
            "A registry password recorded while the pool had nodes is sent now that the pool is empty.",
        ),
        RegistryAction::Send | RegistryAction::Unchanged => {}
    }
    // Keep the computed attributes known where this update cannot change them.
    computed = ComputedModel::of(&prior);
    // Values known only at apply inside the start task or registries (which the model reads as
    // unset) may change the pool too.
    let calls = !plan.calls.is_empty() || !reads_losslessly(&resp.planned);
    if calls {
        computed.last_modified = Tf::Unknown;
        if plan.changes_node_counts {
            computed.current_dedicated_nodes = Tf::Unknown;
            computed.current_low_priority_nodes = Tf::Unknown;
        }
        if waits(&planned) {
            computed.allocation_state = Tf::Known("steady".into());
        } else if plan.changes_node_counts {
            computed.allocation_state = Tf::Unknown;
        }
    }
    computed.id = planned.id.clone();
    computed.write_into(&mut resp.planned);
}
