use crate::client::{BatchClient, ListQuery, RequestOptions};
use crate::error::Result;
use crate::models::*;

impl BatchClient {
    /// Account_ListSupportedImages (all pages). `$filter` e.g. `osType eq 'linux'` or
    /// `verificationType eq 'verified'`.
    pub async fn list_supported_images(
        &self,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<ImageInformation>> {
        self.list_all(self.url(&["supportedimages"]), query, opts)
            .await
    }

    /// Account_ListPoolNodeCounts (all pages). `$filter` e.g. `poolId eq 'p1'`.
    pub async fn list_pool_node_counts(
        &self,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<PoolNodeCounts>> {
        self.list_all(self.url(&["nodecounts"]), query, opts).await
    }
}
