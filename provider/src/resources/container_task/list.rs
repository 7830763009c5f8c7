//! `list "batch_container_task"` (Terraform 1.14+ `terraform query`): the container tasks of one
//! job, optionally in one `state` (sent to Batch as `state eq '…'`) and only the failed ones
//! (`failed_only`: completed with a nonzero exit code or a failure; judged here from the
//! execution information). Tasks without container settings are not container tasks and are left out.

use async_trait::async_trait;
use batch_client::ListQuery;
use batch_client::models::CloudTask;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Ctx, ListItem, ListRequest, ListResource, ListSink};
use tfplugin::model::from_value;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::OneOf;
use tfplugin::{AttrPath, Diagnostics, Value};

use super::apply::state_of;
use super::flatten::flatten_task;
use super::wait::is_failed;
use crate::common::listing::{odata_and, odata_string, send_pages};
use crate::common::task_spec::flatten_imported_task_constraints;
use crate::common::validators::BatchId;
use crate::common::{Batch, attr, opts};

/// The `config { … }` of the list block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskListConfig {
    pub job_id: String,
    pub state: Option<String>,
    pub failed_only: Option<bool>,
}

impl TaskListConfig {
    fn failed_only(&self) -> bool {
        self.failed_only == Some(true)
    }

    /// The `$filter` Batch evaluates for us (a failed task is a completed one).
    pub fn filter(&self) -> Option<String> {
        let state = match (&self.state, self.failed_only()) {
            (Some(s), _) => Some(s.as_str()),
            (None, true) => Some("completed"),
            (None, false) => None,
        };
        odata_and(
            state
                .iter()
                .map(|s| format!("state eq {}", odata_string(s)))
                .collect(),
        )
    }

    /// What Batch does not filter: container tasks only, failed ones when asked.
    pub fn keeps(&self, t: &CloudTask) -> bool {
        t.container_settings.is_some() && (!self.failed_only() || is_failed(t))
    }
}

/// A listed task as `terraform import` would store it.
pub fn listed_task(job_id: &str, t: &CloudTask) -> Option<ListItem> {
    let mut m = flatten_task(t, job_id, None);
    m.constraints = flatten_imported_task_constraints(t.constraints.as_ref());
    let display_name = match (&m.display_name, m.state.known()) {
        (Some(d), Some(s)) if !d.is_empty() => format!("{}/{} ({d}, {s})", job_id, m.name),
        (_, Some(s)) => format!("{}/{} ({s})", job_id, m.name),
        _ => format!("{}/{}", job_id, m.name),
    };
    Some(ListItem {
        display_name,
        state: state_of(&m),
    })
}

pub struct ContainerTaskList;

#[async_trait]
impl ListResource<Batch> for ContainerTaskList {
    fn type_name(&self) -> &'static str {
        "batch_container_task"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Lists the container tasks of one job (tasks without container settings are left out). Needs Terraform 1.14 or later (`terraform query`).")
                .attr(
                    Attribute::string("job_id")
                        .required()
                        .validate(BatchId)
                        .description("The job whose tasks to list."),
                )
                .attr(
                    Attribute::string("state")
                        .optional()
                        .validate(OneOf(&["active", "preparing", "running", "completed"]))
                        .description("Only tasks in this state: `active`, `preparing`, `running` or `completed`."),
                )
                .attr(
                    Attribute::bool("failed_only")
                        .optional()
                        .description("Only tasks that failed: completed with a nonzero exit code or a failure (e.g. an image that could not be pulled). Default `false`."),
                ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let Ok(c) = from_value::<TaskListConfig>(config) else {
            return;
        };
        if c.failed_only() && c.state.as_deref().is_some_and(|s| s != "completed") {
            diags.attr_error(
                &AttrPath::attr(attr!(TaskListConfig, state)),
                "failed_only needs completed tasks",
                "Only completed tasks can have failed: remove state or set it to \"completed\" when failed_only = true.",
            );
        }
    }

    async fn list(&self, ctx: &Ctx<Batch>, req: ListRequest, out: &mut ListSink) -> Diagnostics {
        let config: TaskListConfig = from_value(&req.config).unwrap_or_default();
        let query = ListQuery {
            filter: config.filter(),
            max_results: Some(1000),
            ..Default::default()
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(300);
        let job = config.job_id.clone();
        let pages = ctx
            .client
            .api
            .task_pages(&job, &query, &opts(ctx, deadline));
        send_pages(pages, out, &format!("list the tasks of job {job:?}"), |t| {
            config.keeps(&t).then(|| listed_task(&job, &t)).flatten()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, exit: i32) -> CloudTask {
        serde_json::from_value(serde_json::json!({
            "id": id, "state": "completed", "commandLine": "run",
            "containerSettings": {"imageName": "busybox"},
            "executionInfo": {"exitCode": exit, "retryCount": 0, "requeueCount": 0,
                              "result": if exit == 0 { "success" } else { "failure" }}
        }))
        .unwrap()
    }

    #[test]
    fn failed_only_asks_batch_for_completed_and_keeps_failures() {
        let c = TaskListConfig {
            job_id: "render".into(),
            failed_only: Some(true),
            ..Default::default()
        };
        assert_eq!(c.filter().as_deref(), Some("state eq 'completed'"));
        assert!(c.keeps(&task("bad", 3)));
        assert!(!c.keeps(&task("good", 0)));
        let all = TaskListConfig {
            job_id: "render".into(),
            ..Default::default()
        };
        assert_eq!(all.filter(), None);
        assert!(all.keeps(&task("good", 0)));
        let mut plain = task("plain", 0);
        plain.container_settings = None;
        assert!(!all.keeps(&plain), "not a container task");
    }

    #[test]
    fn a_listed_task_is_its_imported_state() {
        let item = listed_task("render", &task("frame-1", 3)).unwrap();
        assert_eq!(item.display_name, "render/frame-1 (completed)");
        assert_eq!(item.state.get_str("id"), Some("render/frame-1"));
        assert_eq!(item.state.get_i64("exit_code"), Some(3));
    }
}
