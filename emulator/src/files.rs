//! Files API: task files (relative to the task directory) and node files (relative to the node root).

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::path::{Component, Path, PathBuf};

use crate::app::{App, HandlerResult, Reply, ReplyBody, Req, page};
use crate::error::ApiError;
use crate::state::{State, s};
use crate::util::{http_date, iso};

fn file_not_found() -> ApiError {
    ApiError::not_found("FileNotFound", "The specified file does not exist.")
}

/// Join a caller-supplied relative path (either separator) under `root`, refusing escapes.
fn safe_join(root: &Path, rel: &str) -> Result<PathBuf, ApiError> {
    let rel = rel.replace('\\', "/");
    let mut out = root.to_path_buf();
    for c in Path::new(&rel).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return Err(file_not_found()),
        }
    }
    Ok(out)
}

fn mtime_ms(m: &std::fs::Metadata) -> i64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn ctime_ms(m: &std::fs::Metadata) -> i64 {
    m.created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or_else(|| mtime_ms(m))
}

fn mode(m: &std::fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!("{:o}", m.permissions().mode())
}

fn serve(req: &Req, root: &Path, rel: &str, url: String) -> HandlerResult {
    let path = safe_join(root, rel)?;
    let meta = std::fs::metadata(&path).map_err(|_| file_not_found())?;
    let is_dir = meta.is_dir();
    let mut r = Reply::status(StatusCode::OK)
        .header("ocp-creation-time", http_date(ctime_ms(&meta)))
        .header("Last-Modified", http_date(mtime_ms(&meta)))
        .header(
            "ocp-batch-file-isdirectory",
            if is_dir { "true" } else { "false" },
        )
        .header("ocp-batch-file-url", url)
        .header("ocp-batch-file-mode", mode(&meta));
    if let Some(ms) = req
        .header("if-modified-since")
        .and_then(crate::util::parse_http_date)
        && mtime_ms(&meta) / 1000 <= ms / 1000
    {
        r.status = StatusCode::NOT_MODIFIED;
        return Ok(r);
    }
    if is_dir {
        r.body = ReplyBody::Bytes(vec![], "application/octet-stream");
        return Ok(r);
    }
    if req.is_head() {
        r.body = ReplyBody::Bytes(vec![], "application/octet-stream");
        return Ok(r.header("Content-Length", meta.len().to_string()));
    }
    let mut data = std::fs::read(&path).map_err(|_| file_not_found())?;
    if let Some(range) = req.header("ocp-range") {
        let spec = range
            .trim()
            .strip_prefix("bytes=")
            .ok_or_else(|| bad_range(range))?;
        let (a, b) = spec.split_once('-').ok_or_else(|| bad_range(range))?;
        let len = data.len() as u64;
        let start: u64 = a.trim().parse().map_err(|_| bad_range(range))?;
        let end: u64 = if b.trim().is_empty() {
            len.saturating_sub(1)
        } else {
            b.trim().parse().map_err(|_| bad_range(range))?
        };
        if start >= len.max(1) && len > 0 || start > end {
            return Err(ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The range specified is invalid for the current size of the resource.",
            ));
        }
        let end = end.min(len.saturating_sub(1));
        data = if len == 0 {
            vec![]
        } else {
            data[start as usize..=end as usize].to_vec()
        };
    }
    r.body = ReplyBody::Bytes(data, "application/octet-stream");
    Ok(r)
}

fn bad_range(r: &str) -> ApiError {
    ApiError::bad(
        "InvalidHeaderValue",
        "The value for one of the HTTP headers is not in the correct format.",
    )
    .with("HeaderName", "ocp-range")
    .with("HeaderValue", r)
}

fn task_dir(st: &mut State, job: &str, task: &str) -> Result<(PathBuf, String), ApiError> {
    let t = crate::jobs::tasks::find_task(st, job, task)?;
    let url = s(&t.body, "url").to_string();
    match (&t.dir, t.files_deleted) {
        (Some(d), false) => Ok((d.clone(), url)),
        _ => Err(file_not_found()),
    }
}

pub fn task_file(
    _app: &App,
    st: &mut State,
    req: &Req,
    job: &str,
    task: &str,
    rel: &str,
) -> HandlerResult {
    let (dir, url) = task_dir(st, job, task)?;
    serve(req, &dir, rel, format!("{url}/files/{rel}"))
}

fn walk(root: &Path, dir: &Path, recursive: bool, out: &mut Vec<(String, std::fs::Metadata)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(meta) = e.metadata() else { continue };
        let rel = e
            .path()
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_dir = meta.is_dir();
        out.push((rel, meta));
        if is_dir && recursive {
            walk(root, &e.path(), recursive, out);
        }
    }
}

fn list(app: &App, req: &Req, root: &Path, base_url: &str, path: &str) -> HandlerResult {
    let recursive = req.bool_q("recursive")?;
    let mut entries = vec![];
    walk(root, root, recursive, &mut entries);
    let items: Vec<Value> = entries
        .into_iter()
        .map(|(name, m)| {
            let mut props = json!({"lastModified": iso(mtime_ms(&m)), "contentLength": if m.is_dir() { 0 } else { m.len() },
                "contentType": "application/octet-stream", "fileMode": mode(&m)});
            props["creationTime"] = json!(iso(ctime_ms(&m)));
            json!({"name": name, "url": format!("{base_url}/files/{name}"), "isDirectory": m.is_dir(), "properties": props})
        })
        .collect();
    page(app, req, path, items, "files")
}

pub fn task_files(app: &App, st: &mut State, req: &Req, job: &str, task: &str) -> HandlerResult {
    let (dir, url) = match task_dir(st, job, task) {
        Ok(x) => x,
        // A task that has not run yet has no files.
        Err(e) if e.code == "FileNotFound" => return page(app, req, "", vec![], "files"),
        Err(e) => return Err(e),
    };
    list(
        app,
        req,
        &dir,
        &url,
        &format!("/jobs/{job}/tasks/{task}/files"),
    )
}

fn node_root(st: &mut State, pool: &str, node: &str) -> Result<(PathBuf, String), ApiError> {
    let p = crate::pools::find_pool(st, pool)?;
    let n = p
        .nodes
        .iter()
        .find(|n| s(&n.body, "id") == node)
        .ok_or_else(crate::error::ApiError::node_not_found)?;
    Ok((n.root.clone(), s(&n.body, "url").to_string()))
}

pub fn node_file(
    _app: &App,
    st: &mut State,
    req: &Req,
    pool: &str,
    node: &str,
    rel: &str,
) -> HandlerResult {
    let (root, url) = node_root(st, pool, node)?;
    serve(req, &root, rel, format!("{url}/files/{rel}"))
}

pub fn node_files(app: &App, st: &mut State, req: &Req, pool: &str, node: &str) -> HandlerResult {
    let (root, url) = node_root(st, pool, node)?;
    list(
        app,
        req,
        &root,
        &url,
        &format!("/pools/{pool}/nodes/{node}/files"),
    )
}
