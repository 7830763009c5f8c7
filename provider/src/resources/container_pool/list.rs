//! `list "batch_container_pool"` (Terraform 1.14+ `terraform query`): the account's container
//! pools, optionally those whose id starts with `name_prefix` (sent to Batch as
//! `startswith(id,'…')`). Pools without a container configuration are not container pools and
//! are left out (the `batch_pool` data source reads any pool).

use async_trait::async_trait;
use batch_client::ListQuery;
use batch_client::models::CloudPool;
use serde::{Deserialize, Serialize};
use tfplugin::Diagnostics;
use tfplugin::framework::{Ctx, ListItem, ListRequest, ListResource, ListSink};
use tfplugin::model::from_value;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::NotEmpty;

use super::apply::import;
use super::pool_to_state;
use crate::common::listing::{odata_and, odata_string, send_pages};
use crate::common::{Batch, opts};

/// The `config { … }` of the list block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolListConfig {
    pub name_prefix: Option<String>,
}

impl PoolListConfig {
    /// The `$filter` Batch evaluates for us.
    pub fn filter(&self) -> Option<String> {
        odata_and(
            self.name_prefix
                .iter()
                .map(|p| format!("startswith(id,{})", odata_string(p)))
                .collect(),
        )
    }
}

/// True when Batch runs containers on the pool (what `batch_container_pool` manages).
pub fn is_container_pool(p: &CloudPool) -> bool {
    p.virtual_machine_configuration
        .as_ref()
        .is_some_and(|v| v.container_configuration.is_some())
}

/// A listed pool as `terraform import` would store it (Terraform-only settings at their defaults).
pub fn listed_pool(p: &CloudPool) -> Option<ListItem> {
    if !is_container_pool(p) || p.state.as_deref() == Some("deleting") {
        return None;
    }
    let id = p.id.clone()?;
    let state = pool_to_state(p, &import(&id).state);
    let display_name = match p.display_name.as_deref() {
        Some(d) if !d.is_empty() => format!("{id} ({d})"),
        _ => id,
    };
    Some(ListItem {
        display_name,
        state,
    })
}

pub struct ContainerPoolList;

#[async_trait]
impl ListResource<Batch> for ContainerPoolList {
    fn type_name(&self) -> &'static str {
        "batch_container_pool"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Lists the account's container pools (pools with a container configuration; others are left out: read them with the `batch_pool` data source). Needs Terraform 1.14 or later (`terraform query`).").attr(
                Attribute::string("name_prefix")
                    .optional()
                    .validate(NotEmpty)
                    .description("Only pools whose name (id) starts with this, e.g. `render-`. Batch compares case-insensitively."),
            ),
        )
    }

    async fn list(&self, ctx: &Ctx<Batch>, req: ListRequest, out: &mut ListSink) -> Diagnostics {
        let config: PoolListConfig = from_value(&req.config).unwrap_or_default();
        let query = ListQuery {
            filter: config.filter(),
            max_results: Some(req.limit.clamp(1, 1000) as u32),
            ..Default::default()
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(300);
        let pages = ctx.client.api.pool_pages(&query, &opts(ctx, deadline));
        send_pages(pages, out, "list pools", |p| listed_pool(&p)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_prefix_becomes_a_startswith_filter() {
        let c = PoolListConfig {
            name_prefix: Some("render-".into()),
        };
        assert_eq!(c.filter().as_deref(), Some("startswith(id,'render-')"));
        assert_eq!(PoolListConfig::default().filter(), None);
    }

    #[test]
    fn pools_without_containers_are_not_listed() {
        let plain: CloudPool = serde_json::from_value(serde_json::json!({
            "id": "win", "state": "active",
            "virtualMachineConfiguration": {
                "imageReference": {"publisher": "microsoftwindowsserver", "offer": "windowsserver", "sku": "2022-datacenter"},
                "nodeAgentSKUId": "batch.node.windows amd64"
            }
        }))
        .unwrap();
        assert!(!is_container_pool(&plain));
        assert!(listed_pool(&plain).is_none());
        let mut containers = plain.clone();
        containers
            .virtual_machine_configuration
            .as_mut()
            .unwrap()
            .container_configuration =
            serde_json::from_value(serde_json::json!({"type": "dockerCompatible"})).unwrap();
        let item = listed_pool(&containers).expect("a container pool is listed");
        assert_eq!(item.display_name, "win");
        assert_eq!(item.state.get_str("name"), Some("win"));
    }
}
