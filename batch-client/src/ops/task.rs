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
/// Largest Task_AddCollection body we send: the service takes under 1 MB; the margin covers
/// the envelope and JSON separators.
pub const MAX_COLLECTION_BYTES: usize = 1024 * 1024 - 16 * 1024;
/// How many Task_AddCollection requests one call keeps in flight.
pub const COLLECTION_CHUNKS_IN_FLIGHT: usize = 4;

/// Splits tasks of the given serialized sizes into consecutive chunks of at most `max_count`
/// tasks whose sizes add up to at most `max_bytes` (a single larger task gets a chunk of its
/// own, for the service to judge).
pub fn chunk_tasks(
    sizes: &[usize],
    max_count: usize,
    max_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, &s) in sizes.iter().enumerate() {
        let n = i - start;
        if n > 0 && (n == max_count || bytes + s > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += s;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

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

    /// Task_AddCollection for any number of tasks: sent in chunks of at most 100 tasks and under
    /// 1 MB ([`chunk_tasks`]), up to [`COLLECTION_CHUNKS_IN_FLIGHT`] at once; a chunk the service
    /// still finds too large (`RequestBodyTooLarge`) is split in two and sent again. Returns one
    /// result per input task, in input order. Tasks with `servererror` results or whose request
    /// failed ambiguously are retried (until the deadline); a `TaskExists` after such an
    /// ambiguity is adopted (reported as `success`) when the existing task matches what was
    /// sent. Other `clienterror` results are returned as is.
    pub async fn add_task_collection(
        &self,
        job_id: &str,
        tasks: &[TaskAddParameter],
        opts: &RequestOptions,
    ) -> Result<Vec<TaskAddResult>> {
        use futures::StreamExt;
        let opts = RequestOptions {
            deadline: Some(self.deadline(opts)),
            if_match: None,
            cancel: opts.cancel.clone(),
        };
        let sizes = tasks
            .iter()
            .map(|t| serde_json::to_vec(t).map(|b| b.len()).unwrap_or(0))
            .collect::<Vec<_>>();
        let chunks = chunk_tasks(&sizes, MAX_TASKS_PER_COLLECTION, MAX_COLLECTION_BYTES);
        let opts = &opts;
        let parts: Vec<Result<Vec<TaskAddResult>>> = futures::stream::iter(chunks)
            .map(|r| self.add_task_chunk_splitting(job_id, &tasks[r], opts))
            .buffered(COLLECTION_CHUNKS_IN_FLIGHT)
            .collect()
            .await;
        let mut all = Vec::with_capacity(tasks.len());
        for p in parts {
            all.extend(p?);
        }
        Ok(all)
    }

    /// One chunk; halves it on `RequestBodyTooLarge` (the service's limit may count differently).
    fn add_task_chunk_splitting<'a>(
        &'a self,
        job_id: &'a str,
        tasks: &'a [TaskAddParameter],
        opts: &'a RequestOptions,
    ) -> futures::future::BoxFuture<'a, Result<Vec<TaskAddResult>>> {
        Box::pin(async move {
            match self.add_task_chunk(job_id, tasks, opts).await {
                Err(BatchError::Service(se))
                    if se.code.eq_ignore_ascii_case("RequestBodyTooLarge") && tasks.len() > 1 =>
                {
                    let (a, b) = tasks.split_at(tasks.len() / 2);
                    let mut out = self.add_task_chunk_splitting(job_id, a, opts).await?;
                    out.extend(self.add_task_chunk_splitting(job_id, b, opts).await?);
                    Ok(out)
                }
                other => other,
            }
        })
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

#[cfg(test)]
mod chunk_tests {
    use super::chunk_tasks;

    type Case = (Vec<usize>, usize, usize, Vec<std::ops::Range<usize>>);

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn chunks_respect_count_and_bytes() {
        let cases: Vec<Case> = vec![
            (vec![], 100, 1000, vec![]),
            (vec![10; 5], 2, 1000, vec![0..2, 2..4, 4..5]),
            (
                vec![10; 250],
                100,
                1_000_000,
                vec![0..100, 100..200, 200..250],
            ),
            // Bytes bound first: 40 + 40 + 40 > 100.
            (vec![40, 40, 40, 40], 100, 100, vec![0..2, 2..4]),
            // A task larger than the limit goes alone.
            (vec![10, 500, 10], 100, 100, vec![0..1, 1..2, 2..3]),
            (vec![50, 50], 100, 100, vec![0..2]),
        ];
        for (sizes, count, bytes, want) in cases {
            assert_eq!(
                chunk_tasks(&sizes, count, bytes),
                want,
                "{sizes:?} {count} {bytes}"
            );
        }
    }

    #[test]
    fn every_task_lands_in_exactly_one_chunk() {
        let sizes: Vec<usize> = (0..1000).map(|i| 100 + (i * 7919) % 20_000).collect();
        let chunks = chunk_tasks(&sizes, 100, 1_000_000);
        let mut next = 0;
        for c in &chunks {
            assert_eq!(c.start, next);
            assert!(c.len() <= 100);
            assert!(sizes[c.clone()].iter().sum::<usize>() <= 1_000_000);
            next = c.end;
        }
        assert_eq!(next, sizes.len());
    }
}
