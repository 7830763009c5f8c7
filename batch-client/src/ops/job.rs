use super::to_value;
use crate::client::{BatchClient, ListPages, ListQuery, RequestOptions, Versioned, WriteInfo};
use crate::error::{Result, ServiceError};
use crate::models::*;
use crate::recovery::Recovery;
use reqwest::Method;

fn terminate_done(e: &ServiceError) -> bool {
    let c = e.code.to_ascii_lowercase();
    e.status == 409 && (c == "jobcompleted" || c == "jobbeingterminated" || c == "jobterminated")
}

impl BatchClient {
    /// Job_Add (`POST /jobs`). Safe to retry like [`BatchClient::add_pool`] (`JobExists`).
    pub async fn add_job(&self, job: &JobAddParameter, opts: &RequestOptions) -> Result<WriteInfo> {
        self.write(
            Method::POST,
            self.url(&["jobs"]),
            Some(job),
            false,
            opts,
            Recovery::created(self.url(&["jobs", &job.id]), "JobExists", to_value(job)?),
        )
        .await
    }

    /// Job_Get. `Ok(None)` when the job does not exist.
    pub async fn get_job(
        &self,
        job_id: &str,
        opts: &RequestOptions,
    ) -> Result<Option<Versioned<CloudJob>>> {
        self.get_json(self.url(&["jobs", job_id]), opts).await
    }

    /// Job_List (all pages).
    pub async fn list_jobs(
        &self,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<CloudJob>> {
        self.list_all(self.url(&["jobs"]), query, opts).await
    }

    /// Job_List one page at a time (stop reading to stop listing).
    pub fn job_pages(&self, query: &ListQuery, opts: &RequestOptions) -> ListPages<'_, CloudJob> {
        self.list_pages(self.url(&["jobs"]), query, opts)
    }

    /// Job_Patch (merge semantics; honours `If-Match`).
    pub async fn patch_job(
        &self,
        job_id: &str,
        patch: &JobPatchParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::PATCH,
            self.url(&["jobs", job_id]),
            Some(patch),
            true,
            opts,
            Recovery::shows(self.url(&["jobs", job_id]), to_value(patch)?),
        )
        .await
    }

    /// Job_Update (`PUT`, replace semantics; honours `If-Match`).
    pub async fn update_job(
        &self,
        job_id: &str,
        update: &JobUpdateParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::PUT,
            self.url(&["jobs", job_id]),
            Some(update),
            true,
            opts,
            Recovery::shows(self.url(&["jobs", job_id]), to_value(update)?),
        )
        .await
    }

    /// Job_Delete (asynchronous; honours `If-Match`). See [`BatchClient::delete_pool`] for retries.
    pub async fn delete_job(&self, job_id: &str, opts: &RequestOptions) -> Result<WriteInfo> {
        self.write::<()>(
            Method::DELETE,
            self.url(&["jobs", job_id]),
            None,
            true,
            opts,
            Recovery::deleted(
                self.url(&["jobs", job_id]),
                super::delete_done,
                Some(serde_json::json!({"state": "deleting"})),
            ),
        )
        .await
    }

    /// Job_Terminate with an optional reason. After an ambiguous attempt, `JobCompleted` /
    /// `JobBeingTerminated` count as success (`adopted = true`).
    pub async fn terminate_job(
        &self,
        job_id: &str,
        reason: Option<&str>,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        let body = JobTerminateParameter {
            terminate_reason: reason.map(str::to_string),
        };
        self.write(
            Method::POST,
            self.url(&["jobs", job_id, "terminate"]),
            Some(&body),
            true,
            opts,
            Recovery::codes(terminate_done),
        )
        .await
    }
}
