//! Task dependencies as Batch resolves them. A completed task satisfies or blocks the tasks that
//! depend on it by the `dependencyAction` of the exit options that apply to how it ended (its
//! exit code, else a pre-processing or upload failure, else `default`; without one: satisfy on
//! success, block on failure). A task blocked by a completed dependency stays `active` and
//! never runs, so waiting for it would only end at the timeout: [`watch_blocked`] ends the wait
//! with the dependency's failure instead.

use std::collections::BTreeMap;

use batch_client::models::{CloudTask, ExitOptions, TaskDependencies};
use batch_client::{BatchError, ListQuery};
use tfplugin::Diagnostics;
use tfplugin::framework::Ctx;

use super::task_run::failure_detail;
use super::{Batch, cancellable_sleep, poll_opts};

/// Whether a completed task blocks the tasks that depend on it.
pub fn blocks_dependents(t: &CloudTask) -> bool {
    let ei = t.execution_info.clone().unwrap_or_default();
    let success = ei
        .result
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("success"));
    let ec = t.exit_conditions.clone().unwrap_or_default();
    let chosen: Option<ExitOptions> = match ei.exit_code {
        Some(code) => ec
            .exit_codes
            .iter()
            .flatten()
            .find(|m| m.code == code)
            .map(|m| m.exit_options.clone())
            .or_else(|| {
                ec.exit_code_ranges
                    .iter()
                    .flatten()
                    .find(|r| (r.start..=r.end).contains(&code))
                    .map(|r| r.exit_options.clone())
            }),
        None if !success => ec.pre_processing_error.clone(),
        None => None,
    };
    let chosen = chosen.or_else(|| (!success).then(|| ec.default.clone()).flatten());
    match chosen.and_then(|o| o.dependency_action) {
        Some(a) => a.eq_ignore_ascii_case("block"),
        None => !success,
    }
}

/// Whether task `id` is among `deps` (ids compare without case; ranges hold numeric ids).
pub fn depends_on(deps: &TaskDependencies, id: &str) -> bool {
    deps.task_ids
        .iter()
        .flatten()
        .any(|i| i.eq_ignore_ascii_case(id))
        || id.parse::<i64>().is_ok_and(|n| {
            deps.task_id_ranges
                .iter()
                .flatten()
                .any(|r| (i64::from(r.start)..=i64::from(r.end)).contains(&n))
        })
}

/// The first of the tasks in `deps` that completed and blocks its dependents, from `completed`
/// (by lower-case id). Walks the completed tasks rather than expanding ranges, which may span
/// thousands of ids.
pub fn blocking<'a>(
    deps: &TaskDependencies,
    completed: &'a BTreeMap<String, CloudTask>,
) -> Option<&'a CloudTask> {
    completed
        .iter()
        .filter(|(id, _)| depends_on(deps, id))
        .map(|(_, t)| t)
        .find(|d| blocks_dependents(d))
}

/// The completed tasks of `job`, by lower-case id, with what [`blocks_dependents`] reads.
async fn completed_tasks(
    ctx: &Ctx<Batch>,
    job: &str,
) -> Result<BTreeMap<String, CloudTask>, BatchError> {
    let q = ListQuery {
        filter: Some("state eq 'completed'".into()),
        select: Some("id,executionInfo,exitConditions".into()),
        expand: None,
        max_results: Some(1000),
    };
    let l = ctx.client.api.list_tasks(job, &q, &poll_opts(ctx)).await?;
    Ok(l.into_iter()
        .filter_map(|t| t.id.clone().map(|i| (i.to_ascii_lowercase(), t)))
        .collect())
}

/// Returns (never, for a task without dependencies) once `task` of `job`, whose dependencies
/// are `deps` (as sent to Batch), is blocked by a dependency that completed: the error naming the
/// dependency and its failure. Lists the job's completed tasks with backoff like the other
/// waits, only while the task has dependencies; a failed listing is tried again (the wait this
/// races reports errors and its own timeout).
pub async fn watch_blocked(
    ctx: &Ctx<Batch>,
    job: &str,
    task: &str,
    deps: Option<&TaskDependencies>,
) -> Diagnostics {
    let Some(deps) = deps.filter(|d| {
        d.task_ids.as_ref().is_some_and(|l| !l.is_empty())
            || d.task_id_ranges.as_ref().is_some_and(|l| !l.is_empty())
    }) else {
        return std::future::pending().await;
    };
    let mut interval = ctx.client.poll_initial;
    loop {
        if let Ok(done) = completed_tasks(ctx, job).await
            && let Some(dep) = blocking(deps, &done)
        {
            return blocked_error(job, task, dep);
        }
        if cancellable_sleep(&ctx.cancel, interval).await {
            return std::future::pending().await;
        }
        interval = (interval * 2).min(ctx.client.poll_max);
    }
}

fn blocked_error(job: &str, task: &str, dep: &CloudTask) -> Diagnostics {
    let dep_id = dep.id.as_deref().unwrap_or_default();
    let mut d = Diagnostics::new();
    d.error(
        format!("Task {task:?} in job {job:?} cannot run: the task it depends on, {dep_id:?}, failed"),
        format!(
            "Batch does not run a task while a task it depends on ended with dependency action \"block\" (the default for a failed task), so it would stay active until the timeout.\n\
             Task {dep_id:?}:\n{}\
             Fix what made {dep_id:?} fail and apply again (a failed task with wait_for_completion is tainted and runs again), \
             or let its failures satisfy dependents with exit_conditions {{ default {{ dependency_action = \"satisfy\" }} }} on {dep_id:?}.",
            failure_detail(dep, "")
        ),
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use batch_client::models::{
        ExitCodeMapping, ExitCodeRangeMapping, ExitConditions, TaskDependencies,
        TaskExecutionInformation, TaskIdRange,
    };

    fn ended(result: &str, code: Option<i32>, ec: Option<ExitConditions>) -> CloudTask {
        CloudTask {
            execution_info: Some(TaskExecutionInformation {
                result: Some(result.into()),
                exit_code: code,
                ..Default::default()
            }),
            exit_conditions: ec,
            ..Default::default()
        }
    }

    fn opts(action: &str) -> ExitOptions {
        ExitOptions {
            dependency_action: Some(action.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_completed_task_blocks_or_satisfies_as_its_exit_options_say() {
        let codes = ExitConditions {
            exit_codes: Some(vec![ExitCodeMapping {
                code: 3,
                exit_options: opts("satisfy"),
            }]),
            exit_code_ranges: Some(vec![ExitCodeRangeMapping {
                start: 0,
                end: 0,
                exit_options: opts("block"),
            }]),
            default: Some(opts("satisfy")),
            ..Default::default()
        };
        let pre = ExitConditions {
            pre_processing_error: Some(opts("satisfy")),
            ..Default::default()
        };
        let table = [
            ("success", Some(0), None, false),
            ("failure", Some(1), None, true),
            // A container that never started: no exit code.
            ("failure", None, None, true),
            ("failure", Some(3), Some(codes.clone()), false),
            ("success", Some(0), Some(codes.clone()), true),
            ("failure", Some(7), Some(codes), false),
            ("failure", None, Some(pre.clone()), false),
            ("failure", Some(1), Some(pre), true),
            (
                "failure",
                Some(1),
                Some(ExitConditions {
                    default: Some(ExitOptions::default()),
                    ..Default::default()
                }),
                true,
            ),
        ];
        for (i, (result, code, ec, blocks)) in table.into_iter().enumerate() {
            assert_eq!(
                blocks_dependents(&ended(result, code, ec)),
                blocks,
                "row {i}"
            );
        }
    }

    #[test]
    fn the_first_completed_blocking_dependency_is_found() {
        let deps = TaskDependencies {
            task_ids: Some(vec!["Prepare".into(), "other".into()]),
            task_id_ranges: Some(vec![TaskIdRange {
                start: 1,
                end: 1_000_000,
            }]),
        };
        for (id, want) in [
            ("prepare", true),
            ("OTHER", true),
            ("1", true),
            ("1000000", true),
            ("1000001", false),
            ("0", false),
            ("x", false),
        ] {
            assert_eq!(depends_on(&deps, id), want, "{id}");
        }
        let mut done = BTreeMap::from([
            ("prepare".to_string(), ended("success", Some(0), None)),
            ("elsewhere".to_string(), ended("failure", Some(1), None)),
        ]);
        assert!(blocking(&deps, &done).is_none(), "only dependencies count");
        let mut failed = ended("failure", None, None);
        failed.id = Some("2".into());
        done.insert("2".into(), failed);
        assert_eq!(
            blocking(&deps, &done).and_then(|d| d.id.as_deref()),
            Some("2")
        );
        assert!(blocking(&TaskDependencies::default(), &done).is_none());
    }
}
