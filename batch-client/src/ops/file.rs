use crate::client::{BatchClient, ListQuery, RequestOptions, Resp};
use crate::error::Result;
use crate::models::*;
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderName;

/// An inclusive byte range for `ocp-range` (`bytes=start-end`); `end = None` reads to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte (0-based).
    pub start: u64,
    /// Last byte, inclusive.
    pub end: Option<u64>,
}

impl ByteRange {
    fn header(&self) -> String {
        match self.end {
            Some(e) => format!("bytes={}-{}", self.start, e),
            None => format!("bytes={}-", self.start),
        }
    }
}

/// Properties of a task file from the response headers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileInfo {
    /// `Content-Length`: the file size for HEAD, the returned byte count for GET.
    pub content_length: u64,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `ocp-creation-time` (RFC 1123).
    pub creation_time: Option<String>,
    /// `Last-Modified` (RFC 1123).
    pub last_modified: Option<String>,
    /// `ocp-batch-file-isdirectory`.
    pub is_directory: bool,
    /// `ocp-batch-file-url`.
    pub url: Option<String>,
    /// `ocp-batch-file-mode` (octal, Linux).
    pub file_mode: Option<String>,
    /// `ETag`.
    pub etag: Option<String>,
}

/// File content with its properties.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileContent {
    /// The bytes returned (the whole file, or the requested range).
    pub data: Bytes,
    /// Header properties; `info.content_length` is the length of `data` as sent by the service.
    pub info: FileInfo,
}

fn file_info(resp: &Resp) -> FileInfo {
    FileInfo {
        content_length: resp
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(resp.body.len() as u64),
        content_type: resp.header("content-type"),
        creation_time: resp.header("ocp-creation-time"),
        last_modified: resp.header("last-modified"),
        is_directory: resp
            .header("ocp-batch-file-isdirectory")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        url: resp.header("ocp-batch-file-url"),
        file_mode: resp.header("ocp-batch-file-mode"),
        etag: resp.header("etag"),
    }
}

impl BatchClient {
    fn file_url(&self, job_id: &str, task_id: &str, path: &str) -> url::Url {
        let mut segs = vec!["jobs", job_id, "tasks", task_id, "files"];
        segs.extend(path.split('/').filter(|s| !s.is_empty()));
        self.url(&segs)
    }

    /// File_GetFromTask: a file from the task's directory (e.g. `stdout.txt`, `wd/out.txt`),
    /// optionally a byte range. `Ok(None)` when the file, task or job does not exist.
    pub async fn get_task_file(
        &self,
        job_id: &str,
        task_id: &str,
        path: &str,
        range: Option<ByteRange>,
        opts: &RequestOptions,
    ) -> Result<Option<FileContent>> {
        let mut req = self.req(Method::GET, self.file_url(job_id, task_id, path));
        if let Some(r) = range {
            req.headers
                .push((HeaderName::from_static("ocp-range"), r.header()));
        }
        let out = self.send(&req, opts).await?;
        let resp = out.resp;
        if resp.status == 404 {
            return Ok(None);
        }
        if !resp.is_success() {
            return Err(resp.into_error());
        }
        let info = file_info(&resp);
        Ok(Some(FileContent {
            data: resp.body,
            info,
        }))
    }

    /// File_GetPropertiesFromTask (`HEAD`): size and times without the content.
    /// `Ok(None)` when the file, task or job does not exist.
    pub async fn get_task_file_properties(
        &self,
        job_id: &str,
        task_id: &str,
        path: &str,
        opts: &RequestOptions,
    ) -> Result<Option<FileInfo>> {
        let req = self.req(Method::HEAD, self.file_url(job_id, task_id, path));
        let out = self.send(&req, opts).await?;
        match out.resp.status {
            200..=299 => Ok(Some(file_info(&out.resp))),
            404 => Ok(None),
            _ => Err(out.resp.into_error()),
        }
    }

    /// File_ListFromTask (all pages); `recursive` lists subdirectories too.
    pub async fn list_task_files(
        &self,
        job_id: &str,
        task_id: &str,
        recursive: bool,
        query: &ListQuery,
        opts: &RequestOptions,
    ) -> Result<Vec<NodeFile>> {
        let mut url = self.url(&["jobs", job_id, "tasks", task_id, "files"]);
        if recursive {
            crate::client::append_query(&mut url, "recursive", "true");
        }
        self.list_all(url, query, opts).await
    }
}
