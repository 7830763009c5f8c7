use super::to_value;
use crate::client::{BatchClient, ListPages, ListQuery, RequestOptions, Versioned, WriteInfo};
use crate::error::Result;
use crate::models::*;
use crate::recovery::Recovery;
use reqwest::Method;

impl BatchClient {
    /// Pool_Add (`POST /pools`). Safe to retry: an ambiguous first attempt followed by
    /// `PoolExists` adopts the existing pool if it matches `pool` (`WriteInfo::adopted`).
    pub async fn add_pool(
        &self,
        pool: &PoolAddParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::POST,
            self.url(&["pools"]),
            Some(pool),
            false,
            opts,
            Recovery::created(
                self.url(&["pools", &pool.id]),
                "PoolExists",
                to_value(pool)?,
            ),
        )
        .await
    }

    /// Pool_Get. `Ok(None)` when the pool does not exist.
    pub async fn get_pool(
        &self,
        pool_id: &str,
        opts: &RequestOptions,
    ) -> Result<Option<Versioned<CloudPool>>> {
        self.get_json(self.url(&["pools", pool_id]), opts).await
    }

    /// Pool_Exists (`HEAD /pools/{id}`).
    pub async fn pool_exists(&self, pool_id: &str, opts: &RequestOptions) -> Result<bool> {
        let req = self.req(Method::HEAD, self.url(&["pools", pool_id]));
        let out = self.send(&req, opts).await?;
        match out.resp.status {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(out.resp.into_error()),
        }
    }

    /// Pool_List (all pages). Supports `$filter`, `$select`, `$expand`, `maxresults`.
    pub async fn list_pools(
        &self,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<CloudPool>> {
        self.list_all(self.url(&["pools"]), query, opts).await
    }

    /// Pool_List one page at a time (stop reading to stop listing).
    pub fn pool_pages(&self, query: &ListQuery, opts: &RequestOptions) -> ListPages<'_, CloudPool> {
        self.list_pages(self.url(&["pools"]), query, opts)
    }

    /// Pool_Patch (merge semantics; honours `If-Match`).
    pub async fn patch_pool(
        &self,
        pool_id: &str,
        patch: &PoolPatchParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::PATCH,
            self.url(&["pools", pool_id]),
            Some(patch),
            true,
            opts,
            Recovery::shows(self.url(&["pools", pool_id]), to_value(patch)?),
        )
        .await
    }

    /// Pool_UpdateProperties (replace semantics: omitted start task is removed; no `If-Match`).
    pub async fn update_pool_properties(
        &self,
        pool_id: &str,
        props: &PoolUpdatePropertiesParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::POST,
            self.url(&["pools", pool_id, "updateproperties"]),
            Some(props),
            false,
            opts,
            Recovery::shows(self.url(&["pools", pool_id]), to_value(props)?),
        )
        .await
    }

    /// Pool_Resize (only when allocation is steady and autoscale is off; honours `If-Match`).
    pub async fn resize_pool(
        &self,
        pool_id: &str,
        resize: &PoolResizeParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        // A retry of a resize that took effect meets 409 (pool is resizing): check the targets.
        let mut expect = serde_json::Map::new();
        if let Some(n) = resize.target_dedicated_nodes {
            expect.insert("targetDedicatedNodes".into(), n.into());
        }
        if let Some(n) = resize.target_low_priority_nodes {
            expect.insert("targetLowPriorityNodes".into(), n.into());
        }
        let expect = serde_json::Value::Object(expect);
        self.write(
            Method::POST,
            self.url(&["pools", pool_id, "resize"]),
            Some(resize),
            true,
            opts,
            Recovery::shows(self.url(&["pools", pool_id]), expect),
        )
        .await
    }

    /// Pool_StopResize.
    pub async fn stop_resize_pool(
        &self,
        pool_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write::<()>(
            Method::POST,
            self.url(&["pools", pool_id, "stopresize"]),
            None,
            true,
            opts,
            Recovery::none(),
        )
        .await
    }

    /// Pool_EnableAutoScale (at most once per 30 s per pool; honours `If-Match`).
    pub async fn enable_pool_auto_scale(
        &self,
        pool_id: &str,
        params: &PoolEnableAutoScaleParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        // A retry within 30 s of a successful enable meets 409 TooManyEnableAutoScaleRequests.
        let mut expect = to_value(params)?;
        expect["enableAutoScale"] = true.into();
        self.write(
            Method::POST,
            self.url(&["pools", pool_id, "enableautoscale"]),
            Some(params),
            true,
            opts,
            Recovery::shows(self.url(&["pools", pool_id]), expect),
        )
        .await
    }

    /// Pool_DisableAutoScale.
    pub async fn disable_pool_auto_scale(
        &self,
        pool_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write::<()>(
            Method::POST,
            self.url(&["pools", pool_id, "disableautoscale"]),
            None,
            false,
            opts,
            Recovery::shows(
                self.url(&["pools", pool_id]),
                serde_json::json!({"enableAutoScale": false}),
            ),
        )
        .await
    }

    /// Pool_EvaluateAutoScale: evaluates a formula against the pool without applying it.
    pub async fn evaluate_pool_auto_scale(
        &self,
        pool_id: &str,
        formula: &str,
        opts: &RequestOptions,
    ) -> Result<AutoScaleRun> {
        let mut req = self.req(
            Method::POST,
            self.url(&["pools", pool_id, "evaluateautoscale"]),
        );
        req.body = Some(Self::json_body(&PoolEvaluateAutoScaleParameter {
            auto_scale_formula: formula.to_string(),
        })?);
        let out = self.send(&req, opts).await?;
        if !out.resp.is_success() {
            return Err(out.resp.into_error());
        }
        out.resp.json()
    }

    /// Pool_Delete (asynchronous: the pool goes to `deleting`, later 404). Honours `If-Match`.
    /// A retry after an ambiguous attempt that finds the pool gone or being deleted succeeds
    /// with `adopted = true`; otherwise a missing pool is a 404 error (`is_not_found()`).
    pub async fn delete_pool(&self, pool_id: &str, opts: &RequestOptions) -> Result<WriteInfo> {
        self.write::<()>(
            Method::DELETE,
            self.url(&["pools", pool_id]),
            None,
            true,
            opts,
            Recovery::deleted(
                self.url(&["pools", pool_id]),
                super::delete_done,
                Some(serde_json::json!({"state": "deleting"})),
            ),
        )
        .await
    }
}
