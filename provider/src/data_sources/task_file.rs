//! `batch_task_file`: the content of a file in a task's directory on its node (File_GetFromTask),
//! e.g. `stdout.txt`, `stderr.txt` or `wd/output.txt` (the working directory is `wd/`).

use std::time::Duration;

use crate::common::validators::{BatchId, JobId};
use async_trait::async_trait;
use batch_client::RequestOptions;
use tfplugin::framework::{Ctx, DataSource};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::{IntBetween, NotEmpty};
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::{Batch, batch_error};
use serde::{Deserialize, Serialize};
use tfplugin::model::{from_value, to_value};

pub struct TaskFileDataSource;

/// The data source's model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct TaskFileModel {
    job_id: String,
    task_id: String,
    path: String,
    max_size: Option<i64>,
    content: Option<String>,
    size: Option<i64>,
}

/// The configuration view of `validate`, where `path` may not be known yet.
#[derive(Deserialize)]
struct PathCheck {
    path: Option<String>,
}

/// The configuration view of `read` for a job id another resource left null.
#[derive(Deserialize)]
struct JobCheck {
    job_id: Option<String>,
}

/// Reports a null `job_id` (e.g. a schedule's `recent_job_id` before its first run), which
/// `read` cannot use; true if it did.
fn null_job_id(config: &Value, diags: &mut Diagnostics) -> bool {
    let null = matches!(from_value(config), Ok(JobCheck { job_id: None }));
    if null {
        diags.attr_error(
            &AttrPath::attr(crate::common::attr!(TaskFileModel, job_id)),
            "Missing job id",
            "job_id is null, so there is no task to read a file from. A batch_job_schedule's recent_job_id stays null until the schedule has made its first job: apply again once the first run has started, or give the id of a job that exists.",
        );
    }
    null
}

/// Where the data source's diagnostics point.
struct At {
    path: AttrPath,
    max_size: AttrPath,
    task_id: AttrPath,
}

fn at() -> At {
    At {
        path: AttrPath::root().child("path"),
        max_size: AttrPath::root().child("max_size"),
        task_id: AttrPath::root().child("task_id"),
    }
}

const DEFAULT_MAX_SIZE: i64 = 1024 * 1024;

fn schema() -> Schema {
    Schema::new(
        Block::new("Reads a text file from a task's directory on the node that ran it (Batch's File_GetFromTask), e.g. the task's `stdout.txt` or a file it wrote to its working directory (`wd/output.txt`). The file exists only once the task has started and until Batch removes the task's files (its `retention_time`). Use `wait_for_completion = true` on the task so the file is complete when it is read.")
            .attr(Attribute::string("job_id").required().validate(JobId).description("The job of the task: a job name, or a job a job schedule made (`<schedule>:job-<n>`, e.g. its `recent_job_id`)."))
            .attr(Attribute::string("task_id").required().validate(BatchId).description("The task's name (its id in Batch)."))
            .attr(
                Attribute::string("path")
                    .required()
                    .validate(NotEmpty::like("stdout.txt"))
                    .description("Path relative to the task's directory: `stdout.txt`, `stderr.txt`, or `wd/<file>` for files the task wrote to its working directory (`$AZ_BATCH_TASK_WORKING_DIR`)."),
            )
            .attr(
                Attribute::number("max_size")
                    .optional()
                    .validate(IntBetween(0, 64 * 1024 * 1024))
                    .description("The largest file (in bytes) to read; a larger file is an error rather than a huge value in the state. Default `1048576` (1 MiB), at most 64 MiB."),
            )
            .attr(Attribute::string("content").computed().description("The file's content (UTF-8 text)."))
            .attr(Attribute::number("size").computed().description("The file's size in bytes.")),
    )
}

#[async_trait]
impl DataSource<Batch> for TaskFileDataSource {
    fn type_name(&self) -> &'static str {
        "batch_task_file"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Ok(PathCheck { path: Some(p) }) = from_value(config)
            && (p.starts_with('/') || p.split('/').any(|s| s == ".."))
        {
            diags.attr_error(
                &at().path,
                "Invalid task file path",
                format!("{p:?} must be relative to the task's directory and must not contain \"..\": use e.g. \"stdout.txt\" or \"wd/output.txt\"."),
            );
        }
    }

    async fn read(&self, ctx: &Ctx<Batch>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        if null_job_id(&config, &mut diags) {
            return (config, diags);
        }
        let mut m: TaskFileModel = match from_value(&config) {
            Ok(m) => m,
            Err(e) => {
                diags.error(
                    "Provider error: unexpected batch_task_file configuration",
                    format!("The configuration does not fit the provider's model ({e}). Please report this."),
                );
                return (config, diags);
            }
        };
        let (job, task, path) = (m.job_id.clone(), m.task_id.clone(), m.path.clone());
        let max = m.max_size.unwrap_or(DEFAULT_MAX_SIZE).max(0) as u64;
        let at = at();
        let api = &ctx.client.api;
        let o = RequestOptions::new()
            .timeout(Duration::from_secs(300))
            .cancel(ctx.cancel.clone());
        let doing = format!("read {path:?} of task {task:?} in job {job:?}");

        let info = match api.get_task_file_properties(&job, &task, &path, &o).await {
            Ok(Some(i)) => i,
            Ok(None) => {
                not_found(ctx, &job, &task, &path, &o, &mut diags).await;
                return (config, diags);
            }
            Err(e) => {
                batch_error(&mut diags, &doing, &e, Some(&at.path));
                return (config, diags);
            }
        };
        if info.is_directory {
            diags.attr_error(
                &at.path,
                format!("{path:?} is a directory"),
                format!("{path:?} of task {task:?} in job {job:?} is a directory, not a file: name a file in it, e.g. \"{}/output.txt\".", path.trim_end_matches('/')),
            );
            return (config, diags);
        }
        if info.content_length > max {
            diags.attr_error(
                &at.max_size,
                format!("{path:?} is larger than max_size"),
                format!("{path:?} of task {task:?} in job {job:?} has {} bytes, more than max_size ({max}). Raise max_size (at most 64 MiB) or have the task write a smaller file; large outputs belong in blob storage (output_file).", info.content_length),
            );
            return (config, diags);
        }
        let content = match api.get_task_file(&job, &task, &path, None, &o).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                not_found(ctx, &job, &task, &path, &o, &mut diags).await;
                return (config, diags);
            }
            Err(e) => {
                batch_error(&mut diags, &doing, &e, Some(&at.path));
                return (config, diags);
            }
        };
        // The file may have grown between the two calls.
        if content.data.len() as u64 > max {
            diags.attr_error(
                &at.max_size,
                format!("{path:?} is larger than max_size"),
                format!(
                    "{path:?} of task {task:?} has {} bytes, more than max_size ({max}).",
                    content.data.len()
                ),
            );
            return (config, diags);
        }
        let text = match String::from_utf8(content.data.to_vec()) {
            Ok(t) => t,
            Err(e) => {
                diags.attr_error(
                    &at.path,
                    format!("{path:?} is not UTF-8 text"),
                    format!("{path:?} of task {task:?} in job {job:?} holds binary data (invalid UTF-8 at byte {}). batch_task_file reads text only; have the task base64-encode the file, or upload it with output_file.", e.utf8_error().valid_up_to()),
                );
                return (config, diags);
            }
        };
        m.size = Some(text.len() as i64);
        m.content = Some(text);
        match to_value(&m, schema().value_type()) {
            Ok(out) => (out, diags),
            Err(e) => {
                diags.error("Provider error: batch_task_file model", e.to_string());
                (config, diags)
            }
        }
    }
}

/// Explains a 404: no job, no task, or a task without that file (yet).
async fn not_found(
    ctx: &Ctx<Batch>,
    job: &str,
    task: &str,
    path: &str,
    o: &RequestOptions,
    diags: &mut Diagnostics,
) {
    let at = at();
    match ctx.client.api.get_task(job, task, o).await {
        Ok(Some(t)) => {
            let state = t.value.state.clone().unwrap_or_default();
            let hint = if path.starts_with("wd/") || path == "stdout.txt" || path == "stderr.txt" {
                String::new()
            } else {
                format!(" Files the task writes to its working directory are under wd/, e.g. \"wd/{path}\".")
            };
            diags.attr_error(
                &at.path,
                format!("Task file {path:?} not found"),
                format!("Task {task:?} in job {job:?} (state: {state}) has no file {path:?}. The task may not have run yet (wait for it with wait_for_completion = true on the task), it did not write the file, or Batch already removed its files (retention_time).{hint}"),
            );
        }
        Ok(None) => diags.attr_error(
            &at.task_id,
            format!("Task {task:?} not found"),
            format!("Job {job:?} has no task {task:?} (or the job does not exist), so there is no file {path:?} to read."),
        ),
        Err(e) => batch_error(diags, &format!("read task {task:?} in job {job:?}"), &e, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_covers_schema() {
        tfplugin::model::check_round_trip::<TaskFileModel>(schema().value_type()).unwrap();
    }

    #[test]
    fn a_null_job_id_is_a_clear_error_at_job_id() {
        let mut config = tfplugin::framework::null_object(&schema().block);
        config.set("task_id", Value::string("report"));
        config.set("path", Value::string("stdout.txt"));
        let mut diags = Diagnostics::new();
        assert!(null_job_id(&config, &mut diags));
        assert_eq!(diags.0[0].path, Some(AttrPath::root().child("job_id")));
        assert!(diags.0[0].detail.contains("recent_job_id"), "{diags:?}");
        config.set("job_id", Value::string("nightly:job-1"));
        let mut diags = Diagnostics::new();
        assert!(!null_job_id(&config, &mut diags));
        assert!(diags.is_empty());
    }

    #[test]
    fn paths_outside_the_task_directory_are_refused() {
        let ty = schema().value_type().clone();
        for (path, bad) in [
            ("stdout.txt", false),
            ("wd/out/result.txt", false),
            ("/etc/passwd", true),
            ("wd/../../x", true),
            ("..", true),
        ] {
            let m = TaskFileModel {
                job_id: "j".into(),
                task_id: "t".into(),
                path: path.into(),
                ..Default::default()
            };
            let mut d = Diagnostics::new();
            TaskFileDataSource.validate(&to_value(&m, &ty).unwrap(), &mut d);
            assert_eq!(d.has_errors(), bad, "{path}");
        }
    }
}
