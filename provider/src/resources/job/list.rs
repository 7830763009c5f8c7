//! `list "batch_job"` (Terraform 1.14+ `terraform query`): the account's jobs, optionally in one
//! `state` (sent to Batch as `state eq '…'`) and on one pool (`pool_id`, compared here: the job
//! list's `$filter` does not reach the pool).

use async_trait::async_trait;
use batch_client::ListQuery;
use batch_client::models::CloudJob;
use serde::{Deserialize, Serialize};
use tfplugin::Diagnostics;
use tfplugin::framework::{Ctx, ListItem, ListRequest, ListResource, ListSink};
use tfplugin::model::{Tf, from_value};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::{NotEmpty, OneOf};

use super::apply::state_of;
use super::flatten::flatten_job;
use super::model::JobModel;
use crate::common::listing::{odata_and, odata_string, send_pages};
use crate::common::{Batch, opts};

const JOB_STATES: &[&str] = &[
    "active",
    "disabling",
    "disabled",
    "enabling",
    "terminating",
    "completed",
];

/// The `config { … }` of the list block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobListConfig {
    pub pool_id: Option<String>,
    pub state: Option<String>,
}

impl JobListConfig {
    /// The `$filter` Batch evaluates for us.
    pub fn filter(&self) -> Option<String> {
        odata_and(
            self.state
                .iter()
                .map(|s| format!("state eq {}", odata_string(s)))
                .collect(),
        )
    }

    /// What Batch cannot filter: the pool (ids compare case-insensitively).
    pub fn keeps(&self, j: &CloudJob) -> bool {
        let pool = j.pool_info.as_ref().and_then(|p| p.pool_id.as_deref());
        match &self.pool_id {
            Some(want) => pool.is_some_and(|p| p.eq_ignore_ascii_case(want)),
            None => true,
        }
    }
}

/// A listed job as `terraform import` would store it.
pub fn listed_job(j: &CloudJob) -> Option<ListItem> {
    if j.state.as_deref() == Some("deleting") {
        return None;
    }
    let id = j.id.clone()?;
    let imported = JobModel {
        id: Tf::Known(id.clone()),
        name: Tf::Known(id.clone()),
        ..Default::default()
    };
    let mut diags = Diagnostics::new();
    let state = state_of(&flatten_job(j, &imported), &mut diags);
    if diags.has_errors() {
        return None;
    }
    let display_name = match j.display_name.as_deref() {
        Some(d) if !d.is_empty() => format!("{id} ({d})"),
        _ => id,
    };
    Some(ListItem {
        display_name,
        state,
    })
}

pub struct JobList;

#[async_trait]
impl ListResource<Batch> for JobList {
    fn type_name(&self) -> &'static str {
        "batch_job"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Lists the account's jobs. Needs Terraform 1.14 or later (`terraform query`).")
                .attr(
                    Attribute::string("pool_id")
                        .optional()
                        .validate(NotEmpty)
                        .description("Only jobs that run on this pool."),
                )
                .attr(
                    Attribute::string("state")
                        .optional()
                        .validate(OneOf(JOB_STATES))
                        .description("Only jobs in this state: `active`, `disabling`, `disabled`, `enabling`, `terminating` or `completed`."),
                ),
        )
    }

    async fn list(&self, ctx: &Ctx<Batch>, req: ListRequest, out: &mut ListSink) -> Diagnostics {
        let config: JobListConfig = from_value(&req.config).unwrap_or_default();
        // Jobs on other pools are dropped here, so pages are not cut to the limit then.
        let page = if config.pool_id.is_some() {
            1000
        } else {
            req.limit.clamp(1, 1000)
        };
        let query = ListQuery {
            filter: config.filter(),
            max_results: Some(page as u32),
            ..Default::default()
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(300);
        let pages = ctx.client.api.job_pages(&query, &opts(ctx, deadline));
        send_pages(pages, out, "list jobs", |j| {
            config.keeps(&j).then(|| listed_job(&j)).flatten()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, pool: &str) -> CloudJob {
        serde_json::from_value(serde_json::json!({
            "id": id, "state": "active", "poolInfo": {"poolId": pool}
        }))
        .unwrap()
    }

    #[test]
    fn state_goes_to_batch_and_pool_is_compared_here() {
        let c = JobListConfig {
            pool_id: Some("Containers".into()),
            state: Some("active".into()),
        };
        assert_eq!(c.filter().as_deref(), Some("state eq 'active'"));
        assert!(c.keeps(&job("a", "containers")));
        assert!(!c.keeps(&job("b", "other")));
        assert_eq!(JobListConfig::default().filter(), None);
    }

    #[test]
    fn a_listed_job_is_its_imported_state() {
        let item = listed_job(&job("render", "p")).unwrap();
        assert_eq!(item.display_name, "render");
        assert_eq!(item.state.get_str("name"), Some("render"));
        assert_eq!(item.state.get_str("pool_id"), Some("p"));
    }
}
