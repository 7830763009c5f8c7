use super::to_value;
use crate::client::{BatchClient, ListQuery, RequestOptions, Versioned, WriteInfo};
use crate::error::{Result, ServiceError};
use crate::models::*;
use crate::recovery::Recovery;
use reqwest::Method;

/// After an ambiguous terminate, a schedule already completed or terminating counts as done.
fn terminate_done(e: &ServiceError) -> bool {
    let c = e.code.to_ascii_lowercase();
    e.status == 409 && (c == "jobschedulecompleted" || c == "jobschedulebeingterminated")
}

impl BatchClient {
    /// JobSchedule_Add (`POST /jobschedules`). Safe to retry like [`BatchClient::add_pool`]
    /// (`JobScheduleExists` adopts a matching schedule).
    pub async fn add_job_schedule(
        &self,
        schedule: &JobScheduleAddParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::POST,
            self.url(&["jobschedules"]),
            Some(schedule),
            false,
            opts,
            Recovery::created(
                self.url(&["jobschedules", &schedule.id]),
                "JobScheduleExists",
                to_value(schedule)?,
            ),
        )
        .await
    }

    /// JobSchedule_Get. `Ok(None)` when the schedule does not exist.
    pub async fn get_job_schedule(
        &self,
        schedule_id: &str,
        opts: &RequestOptions,
    ) -> Result<Option<Versioned<CloudJobSchedule>>> {
        self.get_json(self.url(&["jobschedules", schedule_id]), opts)
            .await
    }

    /// JobSchedule_Exists (`HEAD /jobschedules/{id}`).
    pub async fn job_schedule_exists(
        &self,
        schedule_id: &str,
        opts: &RequestOptions,
    ) -> Result<bool> {
        let req = self.req(Method::HEAD, self.url(&["jobschedules", schedule_id]));
        let out = self.send(&req, opts).await?;
        match out.resp.status {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(out.resp.into_error()),
        }
    }

    /// JobSchedule_List (all pages).
    pub async fn list_job_schedules(
        &self,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<CloudJobSchedule>> {
        self.list_all(self.url(&["jobschedules"]), query, opts)
            .await
    }

    /// Job_ListFromJobSchedule (all pages): the jobs a schedule has made.
    pub async fn list_jobs_from_schedule(
        &self,
        schedule_id: &str,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<CloudJob>> {
        self.list_all(
            self.url(&["jobschedules", schedule_id, "jobs"]),
            query,
            opts,
        )
        .await
    }

    /// JobSchedule_Patch (merge semantics: `schedule` and `jobSpecification` replace the whole
    /// element when given, omitted elements stay; honours `If-Match`). Affects future jobs only.
    pub async fn patch_job_schedule(
        &self,
        schedule_id: &str,
        patch: &JobSchedulePatchParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::PATCH,
            self.url(&["jobschedules", schedule_id]),
            Some(patch),
            true,
            opts,
            Recovery::shows(self.url(&["jobschedules", schedule_id]), to_value(patch)?),
        )
        .await
    }

    /// JobSchedule_Update (`PUT`, replace semantics: omitted metadata is cleared; honours
    /// `If-Match`). Affects future jobs only.
    pub async fn update_job_schedule(
        &self,
        schedule_id: &str,
        update: &JobScheduleUpdateParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::PUT,
            self.url(&["jobschedules", schedule_id]),
            Some(update),
            true,
            opts,
            Recovery::shows(self.url(&["jobschedules", schedule_id]), to_value(update)?),
        )
        .await
    }

    /// JobSchedule_Delete (asynchronous; deletes the schedule's jobs and tasks too; honours
    /// `If-Match`). See [`BatchClient::delete_pool`] for retries.
    pub async fn delete_job_schedule(
        &self,
        schedule_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write::<()>(
            Method::DELETE,
            self.url(&["jobschedules", schedule_id]),
            None,
            true,
            opts,
            Recovery::deleted(
                self.url(&["jobschedules", schedule_id]),
                super::delete_done,
                Some(serde_json::json!({"state": "deleting"})),
            ),
        )
        .await
    }

    /// JobSchedule_Disable: no new jobs are made until the schedule is enabled again.
    pub async fn disable_job_schedule(
        &self,
        schedule_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.set_job_schedule_state(schedule_id, "disable", "disabled", opts)
            .await
    }

    /// JobSchedule_Enable.
    pub async fn enable_job_schedule(
        &self,
        schedule_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.set_job_schedule_state(schedule_id, "enable", "active", opts)
            .await
    }

    /// POST `/jobschedules/{id}/<action>`; after an ambiguous attempt, done when the schedule
    /// shows `state`.
    async fn set_job_schedule_state(
        &self,
        schedule_id: &str,
        action: &str,
        state: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write::<()>(
            Method::POST,
            self.url(&["jobschedules", schedule_id, action]),
            None,
            true,
            opts,
            Recovery::shows(
                self.url(&["jobschedules", schedule_id]),
                serde_json::json!({ "state": state }),
            ),
        )
        .await
    }

    /// JobSchedule_Terminate. After an ambiguous attempt, `JobScheduleCompleted` /
    /// `JobScheduleBeingTerminated` count as success (`adopted = true`).
    pub async fn terminate_job_schedule(
        &self,
        schedule_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write::<()>(
            Method::POST,
            self.url(&["jobschedules", schedule_id, "terminate"]),
            None,
            true,
            opts,
            Recovery::codes(terminate_done),
        )
        .await
    }
}
