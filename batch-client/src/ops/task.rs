use super::to_value;
use crate::client::{BatchClient, ListPages, ListQuery, RequestOptions, Versioned, WriteInfo};
use crate::error::{BatchError, Result, ServiceError};
use crate::models::*;
use crate::recovery::{Failure, Recovery, Settled};
use crate::retry::RetryState;
use reqwest::Method;
use std::collections::HashMap;

fn terminate_done(e: &ServiceError) -> bool {
    e.status == 409 && e.code.eq_ignore_ascii_case("TaskCompleted")
}

/// Most tasks one Task_AddCollection request may carry.
pub const MAX_TASKS_PER_COLLECTION: usize = 100;

impl BatchClient {
    /// After an ambiguous Task_Add (alone or in a collection), a `TaskExists` adopts the existing
    /// task if it matches `task`.
    fn task_add_recovery(&self, job_id: &str, task: &TaskAddParameter) -> Result<Recovery> {
        Ok(Recovery::created(
            self.url(&["jobs", job_id, "tasks", &task.id]),
            "TaskExists",
            to_value(task)?,
        ))
    }

    /// Task_Add. Safe to retry like [`BatchClient::add_pool`] (`TaskExists`).
    pub async fn add_task(
        &self,
        job_id: &str,
        task: &TaskAddParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::POST,
            self.url(&["jobs", job_id, "tasks"]),
            Some(task),
            false,
            opts,
            self.task_add_recovery(job_id, task)?,
        )
        .await
    }

    /// Task_AddCollection for any number of tasks (sent in chunks of 100). Returns one result
    /// per input task, in input order. Tasks with `servererror` results or whose request failed
    /// ambiguously are retried (until the deadline); a `TaskExists` after such an ambiguity is
    /// adopted (reported as `success`) when the existing task matches what was sent. Other
    /// `clienterror` results are returned as is.
    pub async fn add_task_collection(
        &self,
        job_id: &str,
        tasks: &[TaskAddParameter],
        opts: &RequestOptions,
    ) -> Result<Vec<TaskAddResult>> {
        let opts = RequestOptions {
            deadline: Some(self.deadline(opts)),
            if_match: None,
            cancel: opts.cancel.clone(),
        };
        let mut all = Vec::with_capacity(tasks.len());
        for chunk in tasks.chunks(MAX_TASKS_PER_COLLECTION) {
            all.extend(self.add_task_chunk(job_id, chunk, &opts).await?);
        }
        Ok(all)
    }

    async fn add_task_chunk(
        &self,
        job_id: &str,
        tasks: &[TaskAddParameter],
        opts: &RequestOptions,
    ) -> Result<Vec<TaskAddResult>> {
        let mut results: Vec<Option<TaskAddResult>> = vec![None; tasks.len()];
        let mut pending: Vec<usize> = (0..tasks.len()).collect();
        let mut ambiguous = vec![false; tasks.len()];
        let mut state = RetryState::new(opts.deadline.expect("set by caller"));
        loop {
            let body = TaskAddCollectionParameter {
                value: pending.iter().map(|&i| tasks[i].clone()).collect(),
            };
            let mut req = self.req(
                Method::POST,
                self.url(&["jobs", job_id, "addtaskcollection"]),
            );
            req.body = Some(Self::json_body(&body)?);
            let out = self.send_with_state(&req, opts, &mut state).await?;
            if out.ambiguous {
                for &i in &pending {
                    ambiguous[i] = true;
                }
            }
            if !out.resp.is_success() {
                return Err(out.resp.into_error());
            }
            let parsed: TaskAddCollectionResult = out.resp.json()?;
            // Results are keyed by task id (case-insensitive, like the service).
            let by_id: HashMap<String, TaskAddResult> = parsed
                .value
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.task_id.to_ascii_lowercase(), r))
                .collect();
            let mut retry = Vec::new();
            for &i in &pending {
                let task = &tasks[i];
                let Some(r) = by_id.get(&task.id.to_ascii_lowercase()).cloned() else {
                    // No result for this task: treat like a server error.
                    ambiguous[i] = true;
                    retry.push(i);
                    continue;
                };
                match r.status.to_ascii_lowercase().as_str() {
                    "success" => results[i] = Some(r),
                    "servererror" => {
                        ambiguous[i] = true;
                        retry.push(i);
                        results[i] = Some(r);
                    }
                    _ => {
                        let err = r
                            .error
                            .as_ref()
                            .map(|b| ServiceError::from_body(409, b))
                            .unwrap_or_default();
                        // A TaskExists after an ambiguous attempt may be this task, committed.
                        let recovery = self.task_add_recovery(job_id, task)?;
                        let failure = Failure::inline(err, ambiguous[i]);
                        let rejected = |mut r: TaskAddResult, se: &ServiceError| {
                            r.error = Some(service_error_body(se));
                            r
                        };
                        results[i] = Some(match self.settle(failure, &recovery, opts).await {
                            Ok(Settled::Committed(w)) => TaskAddResult {
                                status: "success".into(),
                                task_id: task.id.clone(),
                                e_tag: w.etag,
                                last_modified: None,
                                location: None,
                                error: None,
                            },
                            Ok(Settled::Failed(_)) => r,
                            Ok(Settled::Mismatch(se)) => rejected(r, &se),
                            // The read-back itself failed: report its error for this task.
                            Err(BatchError::Service(se)) => rejected(r, &se),
                            Err(e) => return Err(e),
                        });
                    }
                }
            }
            if retry.is_empty() {
                break;
            }
            pending = retry;
            let last = BatchError::Decode(format!(
                "{} task(s) got server errors from Task_AddCollection",
                pending.len()
            ));
            match state
                .wait(&self.inner.retry, None, last, opts.cancel.as_ref())
                .await
            {
                Ok(()) => {}
                // Out of time or attempts: report the last per-task results as they are.
                Err(BatchError::DeadlineExceeded { .. }) | Err(BatchError::Decode(_)) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(results
            .into_iter()
            .zip(tasks)
            .map(|(r, t)| {
                r.unwrap_or_else(|| TaskAddResult {
                    status: "servererror".into(),
                    task_id: t.id.clone(),
                    ..Default::default()
                })
            })
            .collect())
    }

    /// Task_Get. `Ok(None)` when the task (or job) does not exist.
    pub async fn get_task(
        &self,
        job_id: &str,
        task_id: &str,
        opts: &RequestOptions,
    ) -> Result<Option<Versioned<CloudTask>>> {
        self.get_json(self.url(&["jobs", job_id, "tasks", task_id]), opts)
            .await
    }

    /// Task_List (all pages).
    pub async fn list_tasks(
        &self,
        job_id: &str,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<CloudTask>> {
        self.list_all(self.url(&["jobs", job_id, "tasks"]), query, opts)
            .await
    }

    /// Task_List one page at a time (stop reading to stop listing).
    pub fn task_pages(
        &self,
        job_id: &str,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> ListPages<'_, CloudTask> {
        self.list_pages(self.url(&["jobs", job_id, "tasks"]), query, opts)
    }

    /// Task_Update: only `constraints` can change. Honours `If-Match`.
    pub async fn update_task(
        &self,
        job_id: &str,
        task_id: &str,
        update: &TaskUpdateParameter,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write(
            Method::PUT,
            self.url(&["jobs", job_id, "tasks", task_id]),
            Some(update),
            true,
            opts,
            Recovery::shows(
                self.url(&["jobs", job_id, "tasks", task_id]),
                to_value(update)?,
            ),
        )
        .await
    }

    /// Task_Delete (returns 200; deletes the task's files too). Honours `If-Match`.
    pub async fn delete_task(
        &self,
        job_id: &str,
        task_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write::<()>(
            Method::DELETE,
            self.url(&["jobs", job_id, "tasks", task_id]),
            None,
            true,
            opts,
            Recovery::deleted(
                self.url(&["jobs", job_id, "tasks", task_id]),
                super::delete_done,
                None,
            ),
        )
        .await
    }

    /// Task_Terminate. After an ambiguous attempt, `TaskCompleted` counts as success.
    pub async fn terminate_task(
        &self,
        job_id: &str,
        task_id: &str,
        opts: &RequestOptions,
    ) -> Result<WriteInfo> {
        self.write::<()>(
            Method::POST,
            self.url(&["jobs", job_id, "tasks", task_id, "terminate"]),
            None,
            true,
            opts,
            Recovery::codes(terminate_done),
        )
        .await
    }
}

fn service_error_body(se: &ServiceError) -> BatchErrorBody {
    BatchErrorBody {
        code: Some(se.code.clone()),
        message: Some(ErrorMessage {
            lang: Some("en-US".into()),
            value: Some(se.message.clone()),
        }),
        values: Some(
            se.values
                .iter()
                .map(|(k, v)| BatchErrorDetail {
                    key: Some(k.clone()),
                    value: Some(v.clone()),
                })
                .collect(),
        ),
    }
}
