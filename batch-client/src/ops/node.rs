use crate::client::{BatchClient, ListQuery, RequestOptions, Versioned};
use crate::error::Result;
use crate::models::*;

impl BatchClient {
    /// ComputeNode_List (all pages). `$filter` e.g. `state eq 'idle'`, `$select`.
    pub async fn list_compute_nodes(
        &self,
        pool_id: &str,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<ComputeNode>> {
        self.list_all(self.url(&["pools", pool_id, "nodes"]), query, opts)
            .await
    }

    /// ComputeNode_Get. `Ok(None)` when the node (or pool) does not exist.
    pub async fn get_compute_node(
        &self,
        pool_id: &str,
        node_id: &str,
        opts: &RequestOptions,
    ) -> Result<Option<Versioned<ComputeNode>>> {
        self.get_json(self.url(&["pools", pool_id, "nodes", node_id]), opts)
            .await
    }
}
