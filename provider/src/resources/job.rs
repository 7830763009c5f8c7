//! `batch_job`: a Batch job bound to a pool, with optional preparation and release tasks.
//!
//! Batch semantics this file maps onto Terraform:
//! - Job_Add creates the job (id = `name`); the job is usable at once, nothing to wait for.
//! - Job_Patch (merge) changes priority, max_parallel_tasks, on_all_tasks_complete, constraints
//!   and metadata in place. When a constraint is removed from the configuration, Job_Update (PUT,
//!   replace semantics) is used instead so that the service resets it to its default.
//! - The pool of a job can only be patched while the job is disabled, so `pool_id` (like every
//!   other property) forces replacement.
//! - `onAllTasksComplete` cannot go back from `terminatejob` to `noaction`: that change replaces.
//! - Updates carry If-Match with the ETag kept in private state.
//! - Job_Delete is asynchronous: destroy waits until the job is gone (404).

use std::time::Duration;

use crate::common::validators::BatchId;
use async_trait::async_trait;
use batch_client::models::{
    JobAddParameter, JobConstraints, JobPatchParameter, JobPreparationTask, JobReleaseTask,
    JobUpdateParameter, PoolInformation,
};
use batch_client::{BatchError, RequestOptions};
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Identity, ImportResponse, PlanRequest,
    PlanResponse, Private, ReadRequest, ReadResponse, Resource, null_object,
};
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema, timeouts_block};
use tfplugin::validators::{IntBetween, Iso8601Duration, NotEmpty, OneOf};
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::container::{
    task_container_block, task_container_from_model, task_container_to_model,
    validate_task_container,
};
#[cfg(test)]
use crate::common::task_spec::UNLIMITED_DURATION;
use crate::common::task_spec::{
    duration_from_model, user_identity_block, user_identity_from_model, user_identity_to_model,
};
use crate::common::{
    Batch, batch_error, deadline, env_from_model, env_to_model, error_code, is_not_found,
    metadata_from_model, metadata_to_model, opts, poll_opts, wait_until_gone,
};

pub struct JobResource;

const CREATE_DEFAULT: Duration = Duration::from_secs(5 * 60);
const UPDATE_DEFAULT: Duration = Duration::from_secs(5 * 60);
const DELETE_DEFAULT: Duration = Duration::from_secs(30 * 60);

fn constraints_block() -> Block {
    Block::new("Execution limits of the job as a whole. Changes apply in place (Job_Patch).")
        .attr(
            Attribute::string("max_wall_clock_time")
                .optional()
                .validate(Iso8601Duration)
                .description("Longest time the job may run, from its creation, as an ISO 8601 duration such as `PT2H`. When it passes, Batch terminates the job and its running tasks. Default: no limit."),
        )
        .attr(
            Attribute::number("max_task_retry_count")
                .optional()
                .validate(IntBetween(-1, 100_000))
                .description("How often Batch retries a task of this job whose exit code is nonzero (tasks can override it). `-1` retries without limit. Default `0`."),
        )
}

fn prep_task_block() -> Block {
    Block::new("A task Batch runs on each node before the first task of this job runs there (for example to download shared input). Changing it replaces the job.")
        .attr(
            Attribute::string("command_line")
                .required()
                .description("The command to run. It does not run under a shell: use `/bin/sh -c \"...\"` for variables, pipes or redirections."),
        )
        .attr(
            Attribute::string_map("environment")
                .optional()
                .description("Environment variables for the preparation task."),
        )
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
        .block(NestedBlock::single("container", task_container_block("preparation task")))
        .block(NestedBlock::single("user_identity", user_identity_block()))
}

fn release_task_block() -> Block {
    Block::new("A task Batch runs on each node that ran tasks of this job when the job ends (for example to clean up). Needs a `preparation_task`. Changing it replaces the job.")
        .attr(
            Attribute::string("command_line")
                .required()
                .description("The command to run. It does not run under a shell: use `/bin/sh -c \"...\"` for variables, pipes or redirections."),
        )
        .attr(
            Attribute::string_map("environment")
                .optional()
                .description("Environment variables for the release task."),
        )
        .block(NestedBlock::single("container", task_container_block("release task")))
        .block(NestedBlock::single("user_identity", user_identity_block()))
}

fn schema() -> Schema {
    Schema::new(
        Block::new("A Batch job: a queue of tasks that run on one pool. Tasks are added with `batch_container_task`. Destroying the job deletes its tasks and their files.")
            .attr(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The job id (the same as `name`)."),
            )
            .attr(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate(BatchId)
                    .description("The job id in Batch: 1 to 64 letters, digits, hyphens and underscores, unique in the account (case-insensitive). Changing it replaces the job."),
            )
            .attr(
                Attribute::string("display_name")
                    .optional()
                    .requires_replace()
                    .description("A friendly name of up to 1024 characters. Batch cannot change it later, so a change replaces the job."),
            )
            .attr(
                Attribute::string("pool_id")
                    .required()
                    .requires_replace()
                    .validate(NotEmpty)
                    .description("The pool whose nodes run the job's tasks. Batch moves a job to another pool only while the job is disabled, so a change replaces the job (and deletes its tasks)."),
            )
            .attr(
                Attribute::number("priority")
                    .default(Value::int(0))
                    .validate(IntBetween(-1000, 1000))
                    .description("Scheduling priority from -1000 (lowest) to 1000 (highest); Batch runs tasks of higher-priority jobs first. Default `0`. Changes apply in place."),
            )
            .attr(
                Attribute::number("max_parallel_tasks")
                    .default(Value::int(-1))
                    .validate(IntBetween(-1, i32::MAX as i64))
                    .description("The most tasks of this job that run at the same time; `-1` means no limit. Must be `-1` or greater than 0. Default `-1`. Changes apply in place."),
            )
            .attr(
                Attribute::bool("uses_task_dependencies")
                    .default(Value::Bool(false))
                    .requires_replace()
                    .description("Whether tasks of this job may depend on each other (`dependencies` in `batch_container_task`). Default `false`. Batch fixes it at creation, so a change replaces the job."),
            )
            .attr(
                Attribute::string("on_all_tasks_complete")
                    .default(Value::string("noaction"))
                    .validate(OneOf(&["noaction", "terminatejob"]))
                    .description("What Batch does when every task of the job is complete: `noaction` (the job stays active; default) or `terminatejob` (the job completes and accepts no more tasks). Changes apply in place, except from `terminatejob` back to `noaction`, which Batch refuses and which therefore replaces the job."),
            )
            .attr(
                Attribute::string("on_task_failure")
                    .default(Value::string("noaction"))
                    .requires_replace()
                    .validate(OneOf(&["noaction", "performexitoptionsjobaction"]))
                    .description("What Batch does when a task of the job fails: `noaction` (default) or `performexitoptionsjobaction` (apply the `job_action` of the task's `exit_conditions`, e.g. terminate the job). Batch fixes it at creation, so a change replaces the job."),
            )
            .attr(
                Attribute::string_map("metadata")
                    .optional()
                    .description("Name-value pairs Batch stores with the job without interpreting them. Changes apply in place."),
            )
            .attr(
                Attribute::string("state")
                    .computed()
                    .description("The job's state in Batch: `active`, `disabling`, `disabled`, `enabling`, `terminating`, `completed` or `deleting`."),
            )
            .block(NestedBlock::single("constraints", constraints_block()))
            .block(NestedBlock::single("preparation_task", prep_task_block()).requires_replace())
            .block(NestedBlock::single("release_task", release_task_block()).requires_replace())
            .block(timeouts_block(&[("create", "5m"), ("update", "5m"), ("delete", "30m")])),
    )
}

fn prep_to_model(planned: &Value, config: &Value) -> JobPreparationTask {
    JobPreparationTask {
        command_line: planned
            .get_str("command_line")
            .unwrap_or_default()
            .to_string(),
        container_settings: planned.get_block("container").map(|c| {
            task_container_to_model(c, config.get_block("container").unwrap_or(&Value::Null))
        }),
        environment_settings: env_to_model(planned.get("environment")),
        wait_for_success: planned.get_bool("wait_for_success"),
        rerun_on_node_reboot_after_success: planned.get_bool("rerun_on_node_reboot_after_success"),
        user_identity: planned
            .get_block("user_identity")
            .map(user_identity_to_model),
        ..Default::default()
    }
}

fn release_to_model(planned: &Value, config: &Value) -> JobReleaseTask {
    JobReleaseTask {
        command_line: planned
            .get_str("command_line")
            .unwrap_or_default()
            .to_string(),
        container_settings: planned.get_block("container").map(|c| {
            task_container_to_model(c, config.get_block("container").unwrap_or(&Value::Null))
        }),
        environment_settings: env_to_model(planned.get("environment")),
        user_identity: planned
            .get_block("user_identity")
            .map(user_identity_to_model),
        ..Default::default()
    }
}

fn constraints_to_model(v: &Value) -> Option<JobConstraints> {
    let c = v.get_block("constraints")?;
    Some(JobConstraints {
        max_wall_clock_time: c.get_str("max_wall_clock_time").map(str::to_string),
        max_task_retry_count: c.get_i64("max_task_retry_count").map(|n| n as i32),
    })
}

fn constraints_from_model(m: Option<&JobConstraints>, prior: &Value) -> Value {
    let Some(m) = m else {
        return if prior.is_null() {
            Value::Null
        } else {
            Value::object([
                ("max_wall_clock_time", Value::Null),
                ("max_task_retry_count", Value::Null),
            ])
        };
    };
    let wall = duration_from_model(
        m.max_wall_clock_time.as_deref(),
        prior.get("max_wall_clock_time"),
        None,
    );
    let retries = match (
        m.max_task_retry_count,
        prior.get_i64("max_task_retry_count"),
    ) {
        (Some(0), None) | (None, _) => Value::Null,
        (Some(n), _) => Value::int(n as i64),
    };
    if prior.is_null() && wall.is_null() && retries.is_null() {
        return Value::Null;
    }
    Value::object([
        ("max_wall_clock_time", wall),
        ("max_task_retry_count", retries),
    ])
}

fn prep_from_model(m: &JobPreparationTask, prior: &Value) -> Value {
    Value::object([
        ("command_line", Value::string(m.command_line.clone())),
        (
            "environment",
            env_from_model(m.environment_settings.as_ref(), prior.get("environment")),
        ),
        (
            "wait_for_success",
            Value::Bool(m.wait_for_success.unwrap_or(true)),
        ),
        (
            "rerun_on_node_reboot_after_success",
            Value::Bool(m.rerun_on_node_reboot_after_success.unwrap_or(true)),
        ),
        (
            "container",
            m.container_settings
                .as_ref()
                .map(|c| task_container_from_model(c, prior.get("container")))
                .unwrap_or(Value::Null),
        ),
        (
            "user_identity",
            user_identity_from_model(m.user_identity.as_ref(), prior.get("user_identity")),
        ),
    ])
}

fn release_from_model(m: &JobReleaseTask, prior: &Value) -> Value {
    Value::object([
        ("command_line", Value::string(m.command_line.clone())),
        (
            "environment",
            env_from_model(m.environment_settings.as_ref(), prior.get("environment")),
        ),
        (
            "container",
            m.container_settings
                .as_ref()
                .map(|c| task_container_from_model(c, prior.get("container")))
                .unwrap_or(Value::Null),
        ),
        (
            "user_identity",
            user_identity_from_model(m.user_identity.as_ref(), prior.get("user_identity")),
        ),
    ])
}

/// The state of a job as the service reports it, normalised against `prior` (server defaults
/// the user left unset stay null; values that mean the same keep the prior spelling).
fn job_to_state(job: &batch_client::models::CloudJob, prior: &Value) -> Value {
    let mut v = if prior.is_null() {
        null_object(&schema().block)
    } else {
        prior.clone()
    };
    let id = job.id.clone().unwrap_or_default();
    // Ids are case-insensitive in Batch: keep the user's spelling.
    let name = match prior.get_str("name") {
        Some(p) if p.eq_ignore_ascii_case(&id) => p.to_string(),
        _ => id,
    };
    v.set("id", Value::string(name.clone()));
    v.set("name", Value::string(name));
    v.set("display_name", Value::opt_string(job.display_name.clone()));
    let pool = job
        .pool_info
        .as_ref()
        .and_then(|p| p.pool_id.clone())
        .unwrap_or_default();
    let pool = match prior.get_str("pool_id") {
        Some(p) if p.eq_ignore_ascii_case(&pool) => p.to_string(),
        _ => pool,
    };
    v.set("pool_id", Value::string(pool));
    v.set("priority", Value::int(job.priority.unwrap_or(0) as i64));
    v.set(
        "max_parallel_tasks",
        Value::int(job.max_parallel_tasks.unwrap_or(-1) as i64),
    );
    v.set(
        "uses_task_dependencies",
        Value::Bool(job.uses_task_dependencies.unwrap_or(false)),
    );
    v.set(
        "on_all_tasks_complete",
        Value::string(
            job.on_all_tasks_complete
                .clone()
                .unwrap_or_else(|| "noaction".into())
                .to_ascii_lowercase(),
        ),
    );
    v.set(
        "metadata",
        metadata_from_model(job.metadata.as_ref(), prior.get("metadata")),
    );
    v.set(
        "on_task_failure",
        Value::string(
            job.on_task_failure
                .clone()
                .unwrap_or_else(|| "noaction".into())
                .to_ascii_lowercase(),
        ),
    );
    v.set("state", Value::opt_string(job.state.clone()));
    v.set(
        "constraints",
        constraints_from_model(job.constraints.as_ref(), prior.get("constraints")),
    );
    v.set(
        "preparation_task",
        job.job_preparation_task
            .as_ref()
            .map(|p| prep_from_model(p, prior.get("preparation_task")))
            .unwrap_or(Value::Null),
    );
    v.set(
        "release_task",
        job.job_release_task
            .as_ref()
            .map(|r| release_from_model(r, prior.get("release_task")))
            .unwrap_or(Value::Null),
    );
    v
}

fn etag_private(etag: Option<String>) -> Private {
    let mut p = Private::new();
    if let Some(e) = etag {
        p.insert("etag".into(), serde_json::Value::String(e));
    }
    p
}

fn private_etag(p: &Private) -> Option<String> {
    p.get("etag").and_then(|v| v.as_str()).map(str::to_string)
}

fn conflict_error(diags: &mut Diagnostics, what: &str) {
    diags.error(
        format!("{what} changed outside Terraform"),
        format!("{what} changed outside Terraform since the last refresh (Batch answered 412 ConditionNotMet to the conditional update). Nothing was overwritten; run terraform apply again to see the difference."),
    );
}

#[async_trait]
impl Resource<Batch> for JobResource {
    fn type_name(&self) -> &'static str {
        "batch_job"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: vec![("name", "The job's id in the Batch account (its name).")],
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let root = AttrPath::root();
        for t in ["preparation_task", "release_task"] {
            if let Some(c) = config.get_block(t).and_then(|b| b.get_block("container")) {
                validate_task_container(c, &root.child(t).child("container"), diags);
            }
        }
        let release = config.get("release_task");
        let prep = config.get("preparation_task");
        if !release.is_null() && !release.is_unknown() && prep.is_null() {
            diags.attr_error(
                &root.child("release_task"),
                "release_task needs a preparation_task",
                "Batch runs a job release task only on nodes where the job preparation task ran: add a preparation_task block (it may be as small as `command_line = \"/bin/true\"`).",
            );
        }
        if let Some(0) = config.get_i64("max_parallel_tasks") {
            diags.attr_error(
                &root.child("max_parallel_tasks"),
                "Invalid max_parallel_tasks",
                "max_parallel_tasks must be -1 (no limit) or greater than 0.",
            );
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        if req.prior.is_null() {
            resp.planned.set("state", Value::Unknown);
            // The id is the name (also on the create half of a replacement, planned with a
            // null prior): show it in the plan rather than "(known after apply)".
            let name = resp.planned.get("name").clone();
            resp.planned.set("id", name);
            return;
        }
        // Batch refuses terminatejob -> noaction: the only way there is a new job.
        if req.prior.get_str("on_all_tasks_complete") == Some("terminatejob")
            && resp.planned.get_str("on_all_tasks_complete") == Some("noaction")
        {
            resp.requires_replace
                .push(AttrPath::root().child("on_all_tasks_complete"));
        }
        // An in-place update does not change the job's state: keep it known.
        if resp.requires_replace.is_empty() && resp.planned.get("state").is_unknown() {
            resp.planned.set("state", req.prior.get("state").clone());
        }
    }

    async fn create(&self, ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        let mut diags = Diagnostics::new();
        let p = &req.planned;
        let name = p.get_str("name").unwrap_or_default().to_string();
        let dl = deadline(p, "create", CREATE_DEFAULT);
        let body = JobAddParameter {
            id: name.clone(),
            display_name: p.get_str("display_name").map(str::to_string),
            priority: p.get_i64("priority").map(|n| n as i32),
            max_parallel_tasks: p.get_i64("max_parallel_tasks").map(|n| n as i32),
            constraints: constraints_to_model(p),
            job_preparation_task: p.get_block("preparation_task").map(|t| {
                prep_to_model(
                    t,
                    req.config
                        .get_block("preparation_task")
                        .unwrap_or(&Value::Null),
                )
            }),
            job_release_task: p.get_block("release_task").map(|t| {
                release_to_model(
                    t,
                    req.config.get_block("release_task").unwrap_or(&Value::Null),
                )
            }),
            pool_info: PoolInformation {
                pool_id: p.get_str("pool_id").map(str::to_string),
                auto_pool_specification: None,
            },
            on_all_tasks_complete: p.get_str("on_all_tasks_complete").map(str::to_string),
            on_task_failure: p.get_str("on_task_failure").map(str::to_string),
            metadata: metadata_to_model(p.get("metadata")),
            uses_task_dependencies: p.get_bool("uses_task_dependencies"),
            ..Default::default()
        };
        if let Err(e) = ctx.client.api.add_job(&body, &opts(ctx, dl)).await {
            let path = match error_code(&e) {
                Some(c) if c.eq_ignore_ascii_case("JobExists") => {
                    diags.attr_error(
                        &AttrPath::root().child("name"),
                        format!("A job named {name:?} already exists"),
                        format!("The Batch account already has a job {name:?} (job ids are case-insensitive). Import it with `terraform import <address> {name}`, delete it, or choose another name."),
                    );
                    return ApplyResponse {
                        new_state: Value::Null,
                        private: Private::new(),
                        diags,
                    };
                }
                Some(c) if c.eq_ignore_ascii_case("PoolNotFound") => {
                    Some(AttrPath::root().child("pool_id"))
                }
                _ => None,
            };
            batch_error(
                &mut diags,
                &format!("create job {name:?}"),
                &e,
                path.as_ref(),
            );
            return ApplyResponse {
                new_state: Value::Null,
                private: Private::new(),
                diags,
            };
        }
        tracing::info!(job = %name, "job created");
        match ctx.client.api.get_job(&name, &poll_opts(ctx)).await {
            Ok(Some(j)) => {
                let mut st = p.clone();
                st.set("id", Value::string(name.clone()));
                st.set("state", Value::opt_string(j.value.state.clone()));
                ApplyResponse {
                    new_state: st,
                    private: etag_private(j.etag),
                    diags,
                }
            }
            Ok(None) => {
                diags.error(
                    format!("Job {name:?} vanished right after creation"),
                    "Batch accepted the job but does not return it: someone may have deleted it. Run terraform apply again to re-create it.",
                );
                ApplyResponse {
                    new_state: Value::Null,
                    private: Private::new(),
                    diags,
                }
            }
            Err(e) => {
                batch_error(
                    &mut diags,
                    &format!("read job {name:?} after creating it"),
                    &e,
                    None,
                );
                // The job exists: keep it in state (tainted) rather than orphan it.
                let mut st = p.clone();
                st.set("id", Value::string(name.clone()));
                st.set("state", Value::Null);
                ApplyResponse {
                    new_state: st,
                    private: Private::new(),
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
            .or_else(|| req.state.get_str("id"))
            .unwrap_or_default()
            .to_string();
        let o = RequestOptions::new()
            .timeout(Duration::from_secs(120))
            .cancel(ctx.cancel.clone());
        match ctx.client.api.get_job(&name, &o).await {
            Ok(Some(j)) if j.value.state.as_deref() == Some("deleting") => ReadResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            },
            Ok(Some(j)) => ReadResponse {
                state: job_to_state(&j.value, &req.state),
                private: etag_private(j.etag),
                diags,
            },
            Ok(None) => ReadResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            },
            Err(e) => {
                batch_error(&mut diags, &format!("read job {name:?}"), &e, None);
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
        let (p, prior) = (&req.planned, &req.prior);
        let name = p.get_str("name").unwrap_or_default().to_string();
        let dl = deadline(p, "update", UPDATE_DEFAULT);
        let changed = |k: &str| p.get(k) != prior.get(k);
        let mut etag = private_etag(&req.private);
        let api_change = [
            "priority",
            "max_parallel_tasks",
            "on_all_tasks_complete",
            "metadata",
            "constraints",
        ]
        .iter()
        .any(|k| changed(k));
        if api_change {
            // Removing a constraint needs replace semantics (a merge would keep the old value).
            let (pc, qc) = (p.get("constraints"), prior.get("constraints"));
            let cleared = ["max_wall_clock_time", "max_task_retry_count"]
                .iter()
                .any(|k| pc.get(k).is_null() && !qc.get(k).is_null());
            let mut o = opts(ctx, dl);
            if let Some(e) = &etag {
                o = o.if_match(e.clone());
            }
            let result = if cleared {
                // Job_Update resets what it omits: carry the properties Terraform does not manage.
                let current = match ctx.client.api.get_job(&name, &opts(ctx, dl)).await {
                    Ok(Some(j)) => j.value,
                    Ok(None) => batch_client::models::CloudJob::default(),
                    Err(e) => {
                        batch_error(&mut diags, &format!("read job {name:?}"), &e, None);
                        return ApplyResponse {
                            new_state: prior.clone(),
                            private: req.private,
                            diags,
                        };
                    }
                };
                let body = JobUpdateParameter {
                    priority: p.get_i64("priority").map(|n| n as i32),
                    max_parallel_tasks: p.get_i64("max_parallel_tasks").map(|n| n as i32),
                    allow_task_preemption: current.allow_task_preemption,
                    constraints: Some(constraints_to_model(p).unwrap_or_default()),
                    pool_info: PoolInformation {
                        pool_id: p.get_str("pool_id").map(str::to_string),
                        auto_pool_specification: None,
                    },
                    metadata: Some(metadata_to_model(p.get("metadata")).unwrap_or_default()),
                    on_all_tasks_complete: p.get_str("on_all_tasks_complete").map(str::to_string),
                };
                ctx.client.api.update_job(&name, &body, &o).await
            } else {
                let body = JobPatchParameter {
                    priority: changed("priority")
                        .then(|| p.get_i64("priority").unwrap_or(0) as i32),
                    max_parallel_tasks: changed("max_parallel_tasks")
                        .then(|| p.get_i64("max_parallel_tasks").unwrap_or(-1) as i32),
                    on_all_tasks_complete: changed("on_all_tasks_complete").then(|| {
                        p.get_str("on_all_tasks_complete")
                            .unwrap_or("noaction")
                            .to_string()
                    }),
                    constraints: if changed("constraints") {
                        Some(constraints_to_model(p).unwrap_or_default())
                    } else {
                        None
                    },
                    // An empty list clears the metadata; omitting it would keep the old items.
                    metadata: changed("metadata")
                        .then(|| metadata_to_model(p.get("metadata")).unwrap_or_default()),
                    ..Default::default()
                };
                ctx.client.api.patch_job(&name, &body, &o).await
            };
            match result {
                Ok(w) => {
                    tracing::info!(job = %name, "job updated");
                    etag = w.etag.or(etag);
                }
                Err(e) => {
                    if matches!(&e, BatchError::Service(se) if se.status == 412) {
                        conflict_error(&mut diags, &format!("Job {name:?}"));
                    } else {
                        batch_error(&mut diags, &format!("update job {name:?}"), &e, None);
                    }
                    return ApplyResponse {
                        new_state: prior.clone(),
                        private: req.private,
                        diags,
                    };
                }
            }
        }
        let mut st = p.clone();
        // The write's ETag is the one to keep: a GET now could pick up (and so hide) a change
        // someone else made right after ours.
        if st.get("state").is_unknown()
            && let Ok(Some(j)) = ctx.client.api.get_job(&name, &poll_opts(ctx)).await
        {
            st.set("state", Value::opt_string(j.value.state.clone()));
        }
        if st.get("state").is_unknown() {
            st.set("state", prior.get("state").clone());
        }
        ApplyResponse {
            new_state: st,
            private: etag_private(etag),
            diags,
        }
    }

    async fn delete(&self, ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let name = req.prior.get_str("name").unwrap_or_default().to_string();
        let dl = deadline(&req.prior, "delete", DELETE_DEFAULT);
        // No If-Match: destroying is the goal whatever changed on the job since the refresh.
        if let Err(e) = ctx.client.api.delete_job(&name, &opts(ctx, dl)).await
            && !is_not_found(&e)
        {
            batch_error(&mut diags, &format!("delete job {name:?}"), &e, None);
            return diags;
        }
        let what = format!("job {name:?}");
        let api = &ctx.client.api;
        let name = &name;
        wait_until_gone(ctx, dl, &what, &mut diags, move || async move {
            api.get_job(name, &poll_opts(ctx)).await
        })
        .await;
        diags
    }

    async fn import(&self, _ctx: &Ctx<Batch>, id: &str) -> ImportResponse {
        let mut diags = Diagnostics::new();
        if !crate::common::validators::is_batch_id(id) {
            diags.error(
                "Invalid import id",
                format!("{id:?} is not a job name: import a batch_job by its name, e.g. `terraform import batch_job.example render`."),
            );
            return ImportResponse {
                state: Value::Null,
                private: Private::new(),
                diags,
            };
        }
        let mut st = null_object(&schema().block);
        st.set("id", Value::string(id));
        st.set("name", Value::string(id));
        ImportResponse {
            state: st,
            private: Private::new(),
            diags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_the_users_spelling_and_null() {
        assert_eq!(
            duration_from_model(Some("PT1H"), &Value::string("PT60M"), None),
            Value::string("PT60M")
        );
        assert_eq!(
            duration_from_model(Some(UNLIMITED_DURATION), &Value::Null, None),
            Value::Null
        );
        assert_eq!(
            duration_from_model(Some("P7D"), &Value::Null, Some("P7D")),
            Value::Null
        );
        assert_eq!(
            duration_from_model(Some("PT2H"), &Value::Null, Some("P7D")),
            Value::string("PT2H")
        );
        assert_eq!(
            duration_from_model(Some("PT2H"), &Value::string("PT1H"), None),
            Value::string("PT2H")
        );
    }

    #[test]
    fn server_default_constraints_stay_null() {
        let m = JobConstraints {
            max_wall_clock_time: Some(UNLIMITED_DURATION.into()),
            max_task_retry_count: Some(0),
        };
        assert_eq!(constraints_from_model(Some(&m), &Value::Null), Value::Null);
        let prior = Value::object([
            ("max_wall_clock_time", Value::string("PT2H")),
            ("max_task_retry_count", Value::Null),
        ]);
        let m = JobConstraints {
            max_wall_clock_time: Some("PT2H".into()),
            max_task_retry_count: Some(0),
        };
        assert_eq!(constraints_from_model(Some(&m), &prior), prior);
    }
}
