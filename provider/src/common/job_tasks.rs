//! The preparation and release tasks a job has — a `batch_job`, or each job a
//! `batch_job_schedule` makes — built on the shared task spec: their blocks, models,
//! `expand_*`/`flatten_*` pairs and configuration checks.

use batch_client::models::{JobPreparationTask, JobReleaseTask};
use serde::{Deserialize, Serialize};
use tfplugin::model::from_value;
use tfplugin::schema::{Attribute, Block, NestedBlock};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::task_spec::{
    Environment, TaskContainerModel, TaskSpecCheck, TaskSpecSchema, UserIdentityModel,
    check_task_spec, expand_environment, expand_task_container, expand_user_identity,
    flatten_environment, flatten_task_container, flatten_user_identity,
};

/// The `preparation_task` block: the task spec's parts plus the preparation task's own.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PreparationTaskModel {
    pub command_line: String,
    pub environment: Environment,
    pub container: Option<TaskContainerModel>,
    pub user_identity: Option<UserIdentityModel>,
    pub wait_for_success: Option<bool>,
    pub rerun_on_node_reboot_after_success: Option<bool>,
}

/// The `release_task` block: exactly the task spec's parts every job task has.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReleaseTaskModel {
    pub command_line: String,
    pub environment: Environment,
    pub container: Option<TaskContainerModel>,
    pub user_identity: Option<UserIdentityModel>,
}

impl PreparationTaskModel {
    /// The parts it shares with every job task (a release task has just these).
    pub fn common(&self) -> ReleaseTaskModel {
        ReleaseTaskModel {
            command_line: self.command_line.clone(),
            environment: self.environment.clone(),
            container: self.container.clone(),
            user_identity: self.user_identity.clone(),
        }
    }

    /// The common parts plus the preparation task's own flags.
    pub fn with_common(
        c: ReleaseTaskModel,
        wait_for_success: Option<bool>,
        rerun_on_node_reboot_after_success: Option<bool>,
    ) -> Self {
        PreparationTaskModel {
            command_line: c.command_line,
            environment: c.environment,
            container: c.container,
            user_identity: c.user_identity,
            wait_for_success,
            rerun_on_node_reboot_after_success,
        }
    }
}

/// How changes to the blocks apply: `Replace` for a job (Batch cannot change its tasks), `InPlace`
/// for a schedule's job specification (Batch replaces it for future jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskChanges {
    Replace,
    InPlace,
}

impl TaskChanges {
    fn note(self) -> &'static str {
        match self {
            TaskChanges::Replace => " Changing it replaces the job.",
            TaskChanges::InPlace => " Changes apply in place to future jobs.",
        }
    }
    fn nested(self, n: NestedBlock) -> NestedBlock {
        match self {
            TaskChanges::Replace => n.requires_replace(),
            TaskChanges::InPlace => n,
        }
    }
}

fn prep_task_block(changes: TaskChanges) -> Block {
    TaskSpecSchema::new("preparation task")
        .user_identity()
        .add_to(Block::new(format!("A task Batch runs on each node before the first task of this job runs there (for example to download shared input).{}", changes.note())))
        .attr(
            Attribute::bool("wait_for_success")
                .default(Value::Bool(true))
                .description("Whether the job's tasks wait on a node until the preparation task succeeded there. Default `true`."),
        )
        .attr(
            Attribute::bool("rerun_on_node_reboot_after_success")
                .default(Value::Bool(true))
                .description("Whether Batch runs the preparation task again after a node reboots. Default `true`."),
        )
}

fn release_task_block(changes: TaskChanges) -> Block {
    TaskSpecSchema::new("release task")
        .user_identity()
        .add_to(Block::new(format!("A task Batch runs on each node that ran tasks of this job when the job ends (for example to clean up). Needs a `preparation_task` (it may be as small as `command_line = \"/bin/true\"`): Batch runs a release task only on nodes where the preparation task ran.{}", changes.note())))
}

/// Adds the `preparation_task` and `release_task` blocks to a job's block `b`, with the rule that
/// a release task needs a preparation task.
pub fn with_job_tasks(b: Block, changes: TaskChanges) -> Block {
    b.block(changes.nested(NestedBlock::single(
        "preparation_task",
        prep_task_block(changes),
    )))
    .block(changes.nested(NestedBlock::single(
        "release_task",
        release_task_block(changes),
    )))
    .also_requires("release_task", &["preparation_task"])
}

/// The configuration view of a job's task blocks, for the checks beyond their declared rules.
#[derive(Deserialize)]
pub struct JobTasksCheck {
    pub preparation_task: Option<TaskSpecCheck>,
    pub release_task: Option<TaskSpecCheck>,
    pub manager_task: Option<TaskSpecCheck>,
}

/// Checks the task blocks (preparation, release, manager) of a job's configuration block `v` at
/// `root`: their containers' registry rules.
pub fn validate_job_tasks(v: &Value, root: &AttrPath, diags: &mut Diagnostics) {
    let Ok(c) = from_value::<JobTasksCheck>(v) else {
        return;
    };
    for (name, task) in [
        (attr!(JobTasksCheck, preparation_task), &c.preparation_task),
        (attr!(JobTasksCheck, release_task), &c.release_task),
        (attr!(JobTasksCheck, manager_task), &c.manager_task),
    ] {
        if let Some(t) = task {
            check_task_spec(t, &root.child(name), diags);
        }
    }
}

/// The preparation task as Batch takes it; `config` is the same block in the configuration
/// (write-only registry passwords live only there).
pub fn expand_preparation_task(
    m: &PreparationTaskModel,
    config: Option<&PreparationTaskModel>,
) -> JobPreparationTask {
    let config_common = config.map(PreparationTaskModel::common);
    let common = expand_release_task(&m.common(), config_common.as_ref());
    JobPreparationTask {
        command_line: common.command_line,
        container_settings: common.container_settings,
        environment_settings: common.environment_settings,
        user_identity: common.user_identity,
        wait_for_success: m.wait_for_success,
        rerun_on_node_reboot_after_success: m.rerun_on_node_reboot_after_success,
        ..Default::default()
    }
}

/// The release task as Batch takes it: exactly the parts every job task has.
pub fn expand_release_task(
    m: &ReleaseTaskModel,
    config: Option<&ReleaseTaskModel>,
) -> JobReleaseTask {
    JobReleaseTask {
        command_line: m.command_line.clone(),
        container_settings: m
            .container
            .as_ref()
            .map(|c| expand_task_container(c, config.and_then(|c| c.container.as_ref()))),
        environment_settings: expand_environment(&m.environment),
        user_identity: m.user_identity.as_ref().map(expand_user_identity),
        ..Default::default()
    }
}

/// The preparation task as state: the parts every job task has (see [`flatten_release_task`])
/// plus its own flags, which Batch omits when they hold its default (`true`).
pub fn flatten_preparation_task(
    m: &JobPreparationTask,
    prior: Option<&PreparationTaskModel>,
) -> PreparationTaskModel {
    let common = JobReleaseTask {
        command_line: m.command_line.clone(),
        container_settings: m.container_settings.clone(),
        environment_settings: m.environment_settings.clone(),
        user_identity: m.user_identity.clone(),
        ..Default::default()
    };
    let prior_common = prior.map(PreparationTaskModel::common);
    PreparationTaskModel::with_common(
        flatten_release_task(&common, prior_common.as_ref()),
        Some(m.wait_for_success.unwrap_or(true)),
        Some(m.rerun_on_node_reboot_after_success.unwrap_or(true)),
    )
}

/// The release task as state (the task spec's parts, normalised against the prior block).
pub fn flatten_release_task(
    m: &JobReleaseTask,
    prior: Option<&ReleaseTaskModel>,
) -> ReleaseTaskModel {
    ReleaseTaskModel {
        command_line: m.command_line.clone(),
        environment: flatten_environment(
            m.environment_settings.as_ref(),
            prior.and_then(|p| p.environment.as_ref()),
        ),
        container: m
            .container_settings
            .as_ref()
            .map(|c| flatten_task_container(c, prior.and_then(|p| p.container.as_ref()))),
        user_identity: flatten_user_identity(
            m.user_identity.as_ref(),
            prior.and_then(|p| p.user_identity.as_ref()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::model::check_round_trip;

    fn blocks(changes: TaskChanges) -> Block {
        with_job_tasks(Block::new("job"), changes)
    }

    #[test]
    fn models_cover_their_blocks_and_changes_decide_replacement() {
        for changes in [TaskChanges::Replace, TaskChanges::InPlace] {
            let b = blocks(changes);
            for (name, replace) in [("preparation_task", true), ("release_task", true)] {
                let n = b.nested(name).expect("block");
                assert_eq!(
                    n.requires_replace,
                    replace && changes == TaskChanges::Replace,
                    "{name} {changes:?}"
                );
            }
            check_round_trip::<PreparationTaskModel>(
                &b.nested("preparation_task").unwrap().value_type(),
            )
            .unwrap();
            check_round_trip::<ReleaseTaskModel>(&b.nested("release_task").unwrap().value_type())
                .unwrap();
        }
    }

    #[test]
    fn a_release_task_needs_a_preparation_task() {
        let b = blocks(TaskChanges::InPlace);
        let release = Value::object([("command_line", Value::string("/bin/true"))]);
        let mut v = tfplugin::framework::null_object(&b);
        v.set("release_task", release);
        let errs = crate::common::task_spec::config_errors(&b, &v, &AttrPath::root());
        assert!(
            errs.iter().any(|e| e.contains("preparation_task")),
            "{errs:?}"
        );
    }

    #[test]
    fn expand_and_flatten_round_trip_with_batch_defaults() {
        let prep = PreparationTaskModel {
            command_line: "prep".into(),
            environment: Some([("A".to_string(), "1".to_string())].into()),
            wait_for_success: Some(false),
            rerun_on_node_reboot_after_success: None,
            ..Default::default()
        };
        let wire = expand_preparation_task(&prep, None);
        assert_eq!(wire.command_line, "prep");
        assert_eq!(wire.wait_for_success, Some(false));
        assert_eq!(wire.rerun_on_node_reboot_after_success, None);
        let back = flatten_preparation_task(&wire, Some(&prep));
        // Batch's default (true) fills the flag the model left unset.
        assert_eq!(back.rerun_on_node_reboot_after_success, Some(true));
        assert_eq!(back.wait_for_success, Some(false));
        assert_eq!(back.environment, prep.environment);
        let release = ReleaseTaskModel {
            command_line: "release".into(),
            ..Default::default()
        };
        assert_eq!(
            flatten_release_task(&expand_release_task(&release, None), Some(&release)),
            release
        );
    }

    #[test]
    fn every_task_blocks_container_is_checked_at_its_path() {
        use tfplugin::framework::null_object;
        let b = with_job_tasks(Block::new("job"), TaskChanges::InPlace).block(NestedBlock::single(
            "manager_task",
            super::super::manager_task::manager_task_block(""),
        ));
        let nested = |b: &Block, name: &str| b.nested(name).expect(name).block.clone();
        let mut v = null_object(&b);
        let tasks = ["preparation_task", "release_task", "manager_task"];
        for t in tasks {
            let tb = nested(&b, t);
            let cb = nested(&tb, "container");
            let mut registry = null_object(&nested(&cb, "registry"));
            registry.set("password_wo_version", Value::int(1));
            let mut container = null_object(&cb);
            container.set("registry", registry);
            let mut task = null_object(&tb);
            task.set("container", container);
            v.set(t, task);
        }
        let mut d = Diagnostics::new();
        validate_job_tasks(&v, &AttrPath::root().child("job"), &mut d);
        let paths: Vec<String> =
            d.0.iter()
                .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
                .collect();
        for t in tasks {
            let want = format!("job.{t}.container.registry.password_wo_version");
            assert!(paths.contains(&want), "{want} not in {paths:?}");
        }
        // No task blocks: nothing to check.
        let mut d = Diagnostics::new();
        validate_job_tasks(&null_object(&b), &AttrPath::root(), &mut d);
        assert!(d.is_empty());
    }
}
