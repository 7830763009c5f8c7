//! `action "batch_container_run"` (Terraform 1.14+): adds one container task to a job now, with
//! the arguments of `batch_container_task` (the shared task spec), and waits for it, streaming
//! progress: queued, running on a node, completed with an exit code. A failed run fails the
//! action with its exit code, failure information and the end of its stderr.

use std::time::Duration;

use async_trait::async_trait;
use batch_client::models::{CloudTask, TaskAddParameter};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Action, Ctx, Progress};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::{GoDuration, IntBetween, parse_go_duration};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::read_config;
use super::without_write_only;
use crate::common::task_run::{failure_report, is_failed};
use crate::common::task_spec::{
    Environment, ResourceFileModel, TaskConstraintsModel, TaskContainerModel, TaskSpecSchema,
    UserIdentityModel, expand_environment, expand_resource_files, expand_task_constraints,
    expand_task_container, expand_user_identity, validate_task_container,
};
use crate::common::validators::BatchId;
use crate::common::{Batch, WaitError, attr, batch_error, opts, poll_opts, poll_until};

/// How long the action waits for the task unless `timeout` says otherwise.
const DEFAULT_TIMEOUT: &str = "30m";

/// The `config { … }` of the action block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerRunConfig {
    pub job_id: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub command_line: Option<String>,
    pub environment: Environment,
    pub required_slots: Option<i64>,
    pub container: Option<TaskContainerModel>,
    #[serde(default)]
    pub resource_file: Vec<ResourceFileModel>,
    pub constraints: Option<TaskConstraintsModel>,
    pub user_identity: Option<UserIdentityModel>,
    pub timeout: Option<String>,
}

impl ContainerRunConfig {
    /// The task's id: the configured name, else a new unique one.
    pub fn task_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let u = uuid::Uuid::new_v4().simple().to_string();
            format!("run-{}", &u[..12])
        })
    }

    pub fn timeout(&self) -> Duration {
        let t = self.timeout.as_deref().unwrap_or(DEFAULT_TIMEOUT);
        parse_go_duration(t).unwrap_or(Duration::from_secs(30 * 60))
    }
}

/// Terraform -> Batch: the task to add (as `batch_container_task` would add it).
pub fn expand_container_run(c: &ContainerRunConfig, name: &str) -> TaskAddParameter {
    TaskAddParameter {
        id: name.to_string(),
        display_name: c.display_name.clone(),
        // "" makes Batch run the image's ENTRYPOINT.
        command_line: c.command_line.clone().unwrap_or_default(),
        container_settings: c
            .container
            .as_ref()
            .map(|m| expand_task_container(m, Some(m))),
        resource_files: expand_resource_files(&c.resource_file),
        environment_settings: expand_environment(&c.environment),
        constraints: c.constraints.as_ref().map(expand_task_constraints),
        required_slots: c.required_slots.map(|n| n as i32),
        user_identity: c.user_identity.as_ref().map(expand_user_identity),
        ..Default::default()
    }
}

fn node_of(t: &CloudTask) -> &str {
    t.node_info
        .as_ref()
        .and_then(|n| n.node_id.as_deref())
        .unwrap_or("(unknown)")
}

pub struct ContainerRunAction;

#[async_trait]
impl Action<Batch> for ContainerRunAction {
    fn type_name(&self) -> &'static str {
        "batch_container_run"
    }

    fn schema(&self) -> Schema {
        let spec = TaskSpecSchema::new("task")
            .command_line(Attribute::string("command_line").optional().description("The command to run in the container. It does not run under a shell: use `/bin/sh -c \"...\"` for `$VARIABLES`, pipes or redirections. Unset or `\"\"` runs the image's ENTRYPOINT."))
            .resource_files()
            .constraints("")
            .user_identity();
        Schema::new(without_write_only(spec.add_to(
            Block::new("Runs one container task in a job now and waits until it completes, showing its progress (queued, running on a node, exit code). A nonzero exit code or a failure fails the action with the end of the task's stderr. Takes the arguments of `batch_container_task`. Needs Terraform 1.14 or later: run it with `terraform apply -invoke=action.batch_container_run.<name>` or from a resource's `lifecycle { action_trigger { ... } }`.")
                .attr(Attribute::string("job_id").required().validate(BatchId).description("The job to run the task in (`batch_job.<name>.id`)."))
                .attr(Attribute::string("name").optional().validate(BatchId).description("The task id in Batch, unique in the job. Default: a new unique id (`run-<random>`), so every invocation runs a new task."))
                .attr(Attribute::string("display_name").optional().description("A friendly name of up to 1024 characters."))
                .attr(Attribute::number("required_slots").optional().validate(IntBetween(1, 256)).description("How many of a node's task slots the task occupies. Default `1`."))
                .attr(Attribute::string("timeout").optional().validate(GoDuration).description("How long to wait for the task to complete, e.g. `30m` (the default). The task keeps running in Batch when the wait ends.")),
        )))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let container = attr!(ContainerRunConfig, container);
        match config.get(container) {
            Value::Null => diags.attr_error(
                &AttrPath::attr(container),
                "Missing container block",
                "batch_container_run runs a container task: add container { image_name = \"...\" }.",
            ),
            c @ Value::Object(_) => {
                validate_task_container(c, &AttrPath::attr(container), diags)
            }
            _ => {}
        }
    }

    async fn invoke(&self, ctx: &Ctx<Batch>, config: Value, progress: Progress) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Some(c) = read_config::<ContainerRunConfig>(&config, &mut diags) else {
            return diags;
        };
        let job = c.job_id.clone();
        let name = c.task_name();
        let deadline = tokio::time::Instant::now() + c.timeout();
        if let Err(e) = ctx
            .client
            .api
            .add_task(&job, &expand_container_run(&c, &name), &opts(ctx, deadline))
            .await
        {
            batch_error(
                &mut diags,
                &format!("add task {name:?} to job {job:?}"),
                &e,
                None,
            );
            return diags;
        }
        progress
            .send(format!("Task {name:?} added to job {job:?}: queued"))
            .await;
        let what = format!("task {name:?} in job {job:?} to complete");
        let seen = std::sync::Mutex::new(String::new());
        // Whether a poll saw the task on its node (a short task may complete between polls).
        let ran_on = std::sync::Mutex::new(false);
        let waited = poll_until(ctx, deadline, &what, || {
            let (job, name, progress) = (&job, &name, &progress);
            let (seen, ran_on) = (&seen, &ran_on);
            async move {
                let t = match ctx.client.api.get_task(job, name, &poll_opts(ctx)).await {
                    Ok(Some(t)) => t.value,
                    Ok(None) => {
                        let mut d = Diagnostics::new();
                        d.error(
                            format!("Task {name:?} in job {job:?} disappeared"),
                            "The task (or its job) was deleted while the action waited for it.",
                        );
                        return Err(d);
                    }
                    Err(e) => {
                        let mut d = Diagnostics::new();
                        batch_error(
                            &mut d,
                            &format!("read task {name:?} in job {job:?}"),
                            &e,
                            None,
                        );
                        return Err(d);
                    }
                };
                let state = t.state.clone().unwrap_or_default();
                let changed = {
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    std::mem::replace(&mut *seen, state.clone()) != state
                };
                if changed && state != "active" && state != "completed" {
                    *ran_on.lock().unwrap_or_else(|e| e.into_inner()) = true;
                    progress
                        .send(format!("Task {name:?} {state} on node {}", node_of(&t)))
                        .await;
                }
                Ok(t.is_completed().then_some(t))
            }
        })
        .await;
        match waited {
            Ok(t) => {
                if !*ran_on.lock().unwrap_or_else(|e| e.into_inner()) && t.node_info.is_some() {
                    progress
                        .send(format!("Task {name:?} ran on node {}", node_of(&t)))
                        .await;
                }
                let code = t.execution_info.as_ref().and_then(|e| e.exit_code);
                if is_failed(&t) {
                    let (summary, detail) = failure_report(ctx, &job, &name, &t).await;
                    diags.error(summary, detail);
                } else {
                    let code = code.map_or("none".to_string(), |c| c.to_string());
                    progress.send(format!("Task {name:?} completed with exit code {code}")).await;
                }
            }
            Err(WaitError::Failed(d)) => diags.extend(d),
            Err(WaitError::TimedOut) => diags.error(
                format!("Timed out waiting for task {name:?} in job {job:?}"),
                format!("The task did not complete within timeout ({}). It keeps running in Batch; raise timeout to wait longer.", c.timeout.as_deref().unwrap_or(DEFAULT_TIMEOUT)),
            ),
            Err(WaitError::Cancelled) => diags.error(
                format!("Interrupted while waiting for task {name:?} in job {job:?}"),
                "Terraform asked the provider to stop. The task keeps running in Batch.",
            ),
        }
        diags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_a_container_task() {
        let c = ContainerRunConfig {
            job_id: "render".into(),
            command_line: Some("migrate up".into()),
            container: Some(TaskContainerModel {
                image_name: "app:2.0".into(),
                ..Default::default()
            }),
            environment: Some([("STAGE".to_string(), "prod".to_string())].into()),
            ..Default::default()
        };
        let t = expand_container_run(&c, "run-1");
        assert_eq!(t.id, "run-1");
        assert_eq!(t.command_line, "migrate up");
        assert_eq!(t.container_settings.unwrap().image_name, "app:2.0");
        assert_eq!(t.environment_settings.unwrap()[0].name, "STAGE");
        assert_eq!(c.timeout(), Duration::from_secs(30 * 60));
    }

    #[test]
    fn a_run_without_a_name_gets_a_new_one_each_time() {
        let c = ContainerRunConfig::default();
        let (a, b) = (c.task_name(), c.task_name());
        assert!(a.starts_with("run-") && crate::common::validators::is_batch_id(&a));
        assert_ne!(a, b);
        let named = ContainerRunConfig {
            name: Some("migrate".into()),
            ..Default::default()
        };
        assert_eq!(named.task_name(), "migrate");
    }
}
