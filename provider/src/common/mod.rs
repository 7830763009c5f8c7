//! Pieces every resource uses: the configured client, Batch errors as diagnostics, timeouts,
//! polling with backoff, and the schema/conversion of settings several resources share
//! (container settings, registries, environment, metadata).

/// The name of a field of a model, checked by the compiler: models name their fields after the
/// Terraform attributes, so this is the attribute's name (`attr!(JobModel, pool_id)`).
macro_rules! attr {
    ($model:ty, $field:ident) => {{
        #[allow(dead_code)]
        fn field_exists(m: &$model) {
            let _ = &m.$field;
        }
        stringify!($field)
    }};
}
pub(crate) use attr;

pub mod apply_flow;
pub mod container;
pub mod import;
#[cfg(test)]
pub mod in_process_tests;
pub mod job_spec;
pub mod job_tasks;
pub mod listing;
pub mod manager_task;
pub mod task_deps;
pub mod task_run;
pub mod task_spec;
pub mod task_watch;
pub mod validators;
pub mod wire_paths;

use std::future::Future;
use std::time::Duration;

use batch_client::{BatchClient, BatchError, CancellationToken, RequestOptions};
use serde::{Deserialize, Serialize};
use tfplugin::framework::Ctx;
use tfplugin::model::from_value;
use tfplugin::validators::parse_go_duration;
use tfplugin::{AttrPath, Diagnostics, Value};

/// What `configure` produces: the Batch client plus how fast to poll for state changes.
pub struct Batch {
    pub api: BatchClient,
    /// First polling interval; doubles up to `poll_max`. About 2 s against Azure; much shorter against
    /// the local Batch service on loopback, whose state changes take fractions of a second.
    pub poll_initial: Duration,
    pub poll_max: Duration,
    /// Shared polling of tasks that wait one by one (one listing per job per interval).
    pub watcher: task_watch::TaskWatcher,
}

/// Request options bounded by `deadline` and cancelled by StopProvider.
pub fn opts(ctx: &Ctx<Batch>, deadline: tokio::time::Instant) -> RequestOptions {
    RequestOptions::new()
        .deadline(deadline)
        .cancel(ctx.cancel.clone())
}

/// Options for one status check inside [`poll_until`]: a short deadline of its own, so that a
/// check started just before the wait's deadline is not cut off by it (the wait then reports a
/// timeout instead of a failed request).
pub fn poll_opts(ctx: &Ctx<Batch>) -> RequestOptions {
    opts(ctx, tokio::time::Instant::now() + Duration::from_secs(60))
}

/// Adds a diagnostic for a failed Batch call: summary says what we were doing, detail carries the
/// service's code, message, values and request id.
pub fn batch_error(
    diags: &mut Diagnostics,
    doing: &str,
    err: &BatchError,
    path: Option<&AttrPath>,
) {
    let detail = match err {
        BatchError::Service(se) => {
            let mut s = String::new();
            if !se.code.is_empty() {
                s.push_str(&format!("Batch error code: {}\n", se.code));
            }
            let msg = se.message.lines().next().unwrap_or("").trim();
            if !msg.is_empty() {
                s.push_str(&format!("Message: {msg}\n"));
            }
            for (k, v) in &se.values {
                s.push_str(&format!("{k}: {v}\n"));
            }
            s.push_str(&format!("HTTP status: {}", se.status));
            if let Some(id) = &se.request_id {
                s.push_str(&format!("\nRequest id: {id}"));
            }
            s
        }
        other => other.to_string(),
    };
    let summary = match err {
        BatchError::Service(se) if !se.code.is_empty() => format!("Failed to {doing}: {}", se.code),
        _ => format!("Failed to {doing}"),
    };
    diags.push(tfplugin::Severity::Error, summary, detail, path.cloned());
}

/// The service error code, if this is a service error.
pub fn error_code(err: &BatchError) -> Option<&str> {
    match err {
        BatchError::Service(se) => Some(se.code.as_str()),
        _ => None,
    }
}

/// True for a 404 (the object does not exist).
pub fn is_not_found(err: &BatchError) -> bool {
    matches!(err, BatchError::Service(se) if se.status == 404)
}

/// The `timeouts` block as a model: Go durations (`"30m"`) per operation. Every resource model
/// embeds it as `timeouts: Option<Timeouts>`. Operations a resource's block lacks are left out
/// when written, so one struct serves every `timeouts_block(...)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeouts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<String>,
}

/// An operation with a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Read,
    Update,
    Delete,
}

impl Op {
    /// The attribute name in `timeouts`, as error messages spell it (`timeouts.create`).
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Read => "read",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

impl Timeouts {
    /// The configured duration for `op`, or `default` (unset or unparsable).
    pub fn get(t: Option<&Timeouts>, op: Op, default: Duration) -> Duration {
        let s = t.and_then(|t| match op {
            Op::Create => t.create.as_deref(),
            Op::Read => t.read.as_deref(),
            Op::Update => t.update.as_deref(),
            Op::Delete => t.delete.as_deref(),
        });
        s.and_then(|s| parse_go_duration(s).ok()).unwrap_or(default)
    }
    /// The instant the timeout for `op` ends, counted from now.
    pub fn deadline(t: Option<&Timeouts>, op: Op, default: Duration) -> tokio::time::Instant {
        tokio::time::Instant::now() + Timeouts::get(t, op, default)
    }
}

/// Overwrites the attributes of object `target` that `patch` (a struct naming a subset of its
/// attributes) has, leaving the others as they are: for plan modifiers that change a few
/// attributes of a plan they must not otherwise touch. `ty` is the object's type.
pub fn overwrite<T: Serialize>(
    target: &mut Value,
    patch: &T,
    ty: &tfplugin::Type,
) -> Result<(), String> {
    let names = match serde_json::to_value(patch).map_err(|e| e.to_string())? {
        serde_json::Value::Object(m) => m.into_iter().map(|(k, _)| k).collect::<Vec<_>>(),
        _ => return Err("a patch must be a struct".into()),
    };
    // Shape the patch by its own attributes' types only: the resource's whole type would make
    // every plan write (and drop) a null for each of its other attributes.
    let tfplugin::Type::Object(attrs) = ty else {
        return Err("overwrite needs an object type".into());
    };
    let own = tfplugin::Type::Object(
        names
            .iter()
            .filter_map(|n| attrs.get(n).map(|t| (n.clone(), t.clone())))
            .collect(),
    );
    let full = tfplugin::model::to_value(patch, &own).map_err(|e| e.to_string())?;
    for name in names {
        target.set(&name, full.get(&name).clone());
    }
    Ok(())
}

/// Any resource value's `timeouts`, for resources not yet on typed models.
#[derive(Deserialize)]
struct WithTimeouts {
    timeouts: Option<Timeouts>,
}

fn op_of(op: &str) -> Option<Op> {
    [Op::Create, Op::Read, Op::Update, Op::Delete]
        .into_iter()
        .find(|o| o.name() == op)
}

/// The duration in `timeouts.<op>` of `v`, or `default` (untyped; typed models use
/// [`Timeouts::get`]).
pub fn timeout(v: &Value, op: &str, default: Duration) -> Duration {
    let t = from_value::<WithTimeouts>(v).ok().and_then(|w| w.timeouts);
    match op_of(op) {
        Some(op) => Timeouts::get(t.as_ref(), op, default),
        None => default,
    }
}

/// The instant `timeouts.<op>` from now (untyped; typed models use [`Timeouts::deadline`]).
pub fn deadline(v: &Value, op: &str, default: Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + timeout(v, op, default)
}

/// Why a wait ended without reaching its goal.
pub enum WaitError {
    /// The check itself failed (diagnostics say why).
    Failed(Diagnostics),
    TimedOut,
    Cancelled,
}

/// Polls `check` until it returns `Some`, with backoff from `poll_initial` to `poll_max`, until
/// `deadline` or cancellation. `what` names the wait in the log.
pub async fn poll_until<T, F, Fut>(
    ctx: &Ctx<Batch>,
    deadline: tokio::time::Instant,
    what: &str,
    mut check: F,
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Diagnostics>>,
{
    let mut interval = ctx.client.poll_initial;
    let started = tokio::time::Instant::now();
    let mut last_log = started;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            // A check cut short by StopProvider fails with "request cancelled": that is an
            // interruption, not a failure of the object.
            Err(_) if ctx.cancel.is_cancelled() => return Err(WaitError::Cancelled),
            Err(d) => return Err(WaitError::Failed(d)),
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(WaitError::TimedOut);
        }
        if now.duration_since(last_log) >= Duration::from_secs(10) {
            tracing::info!(
                waiting_for = what,
                elapsed_s = now.duration_since(started).as_secs(),
                "still waiting"
            );
            last_log = now;
        }
        let sleep = interval.min(deadline - now);
        if cancellable_sleep(&ctx.cancel, sleep).await {
            return Err(WaitError::Cancelled);
        }
        interval = (interval * 2).min(ctx.client.poll_max);
    }
}

/// Waits until `get` finds the object gone (None or 404), bounded by `deadline` (timeouts.delete);
/// a failed read or the timeout goes into `diags`. `what` names the object, e.g. `job "render"`.
pub async fn wait_until_gone<T, F, Fut>(
    ctx: &Ctx<Batch>,
    deadline: tokio::time::Instant,
    what: &str,
    diags: &mut Diagnostics,
    get: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, BatchError>>,
{
    let waiting_for = format!("{what} to be deleted");
    let r = poll_until(ctx, deadline, &waiting_for, || {
        let read = get();
        async move {
            match read.await {
                Ok(None) => Ok(Some(())),
                Ok(Some(_)) => Ok(None),
                Err(e) if is_not_found(&e) => Ok(Some(())),
                Err(e) => {
                    let mut d = Diagnostics::new();
                    batch_error(&mut d, &format!("read {what} while deleting it"), &e, None);
                    Err(d)
                }
            }
        }
    })
    .await;
    if let Err(e) = r {
        wait_error(diags, &waiting_for, e, "delete");
    }
}

/// Sleeps; returns true when cancelled first.
pub async fn cancellable_sleep(cancel: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => true,
        _ = tokio::time::sleep(d) => false,
    }
}

/// Turns a wait failure into a diagnostic naming what we were waiting for.
pub fn wait_error(diags: &mut Diagnostics, what: &str, err: WaitError, timeout_attr: &str) {
    match err {
        WaitError::Failed(d) => diags.extend(d),
        WaitError::TimedOut => diags.error(
            format!("Timed out waiting for {what}"),
            format!("The Batch service did not report {what} in time. Raise timeouts.{timeout_attr} if this is expected to take longer; the object is kept in state and the next apply continues."),
        ),
        WaitError::Cancelled => diags.error(
            format!("Interrupted while waiting for {what}"),
            "Terraform asked the provider to stop. The object is kept in state as it is now; the next apply continues where this one stopped.".to_string(),
        ),
    }
}

/// Private-state key of an object's ETag.
const ETAG: &str = "etag";

/// Private state carrying an object's ETag (for If-Match on the next update).
pub fn etag_private(etag: Option<String>) -> tfplugin::framework::Private {
    let mut p = tfplugin::framework::Private::new();
    if let Some(e) = etag {
        p.insert(ETAG.into(), serde_json::Value::String(e));
    }
    p
}

/// Private state `p` with its ETag replaced by `etag` (removed when there is none); other keys
/// (e.g. a pending change) are kept.
pub fn with_etag(
    mut p: tfplugin::framework::Private,
    etag: Option<String>,
) -> tfplugin::framework::Private {
    match etag {
        Some(e) => p.insert(ETAG.into(), serde_json::Value::String(e)),
        None => p.remove(ETAG),
    };
    p
}

/// The ReadResponse of a Get of the object behind `req`: gone or `deleting` leaves the state,
/// found is turned into state by `state` (its ETag kept), an error keeps the prior state.
pub fn read_response<T>(
    req: tfplugin::framework::ReadRequest,
    got: Result<Option<batch_client::Versioned<T>>, BatchError>,
    what: &str,
    state: impl FnOnce(&T, &mut Diagnostics) -> Value,
    mut diags: Diagnostics,
) -> tfplugin::framework::ReadResponse
where
    T: HasState,
{
    use tfplugin::framework::{Private, ReadResponse};
    match got {
        Ok(Some(o)) if o.value.state() != Some("deleting") => ReadResponse {
            state: state(&o.value, &mut diags),
            private: etag_private(o.etag),
            diags,
        },
        Ok(_) => ReadResponse {
            state: Value::Null,
            private: Private::new(),
            diags,
        },
        Err(e) => {
            batch_error(&mut diags, &format!("read {what}"), &e, None);
            ReadResponse {
                state: req.state,
                private: req.private,
                diags,
            }
        }
    }
}

/// Batch objects with a `state` (for [`read_response`]).
pub trait HasState {
    fn state(&self) -> Option<&str>;
}

/// `HasState` from the model's `state` field. Tasks have no `deleting` state: a found task is
/// always turned into state.
macro_rules! has_state {
    ($($t:ident),*) => {
        $(impl HasState for batch_client::models::$t {
            fn state(&self) -> Option<&str> {
                self.state.as_deref()
            }
        })*
    };
}
has_state!(CloudJob, CloudJobSchedule, CloudPool, CloudTask);

/// The ETag kept by [`etag_private`].
pub fn private_etag(p: &tfplugin::framework::Private) -> Option<String> {
    p.get(ETAG).and_then(|v| v.as_str()).map(str::to_string)
}

/// Reads a plan or state into a resource's model; a failure is a provider bug, reported as such
/// (`what` names the resource, e.g. "the job").
pub fn read_model<M: serde::de::DeserializeOwned>(
    v: &Value,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<M> {
    match from_value(v) {
        Ok(m) => Some(m),
        Err(e) => {
            diags.error(
                format!("Provider bug: {what} does not fit its model"),
                format!("{e}. Please report this issue."),
            );
            None
        }
    }
}

/// A resource's model as a state value of `schema` (null, with a provider-bug error, if it does
/// not fit).
pub fn model_state<M: Serialize>(
    m: &M,
    schema: &tfplugin::schema::Schema,
    what: &str,
    diags: &mut Diagnostics,
) -> Value {
    match tfplugin::model::to_value(m, schema.value_type()) {
        Ok(v) => v,
        Err(e) => {
            diags.error(
                format!("Provider bug: the model of {what} does not fit its schema"),
                format!("{e}. Please report this issue."),
            );
            Value::Null
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::schema::timeouts_block;

    #[test]
    fn timeouts_model_covers_every_timeouts_block() {
        for ops in [
            &[("create", "1m")][..],
            &[("create", "1m"), ("update", "1m"), ("delete", "1m")][..],
            &[("read", "1m")][..],
        ] {
            let ty = timeouts_block(ops).value_type();
            tfplugin::model::check_round_trip::<Timeouts>(&ty).unwrap();
        }
    }

    #[test]
    fn timeouts_pick_the_operation_or_the_default() {
        let t = Timeouts {
            create: Some("90s".into()),
            delete: Some("not a duration".into()),
            ..Default::default()
        };
        let d = Duration::from_secs(7);
        assert_eq!(
            Timeouts::get(Some(&t), Op::Create, d),
            Duration::from_secs(90)
        );
        assert_eq!(Timeouts::get(Some(&t), Op::Update, d), d);
        assert_eq!(Timeouts::get(Some(&t), Op::Delete, d), d);
        assert_eq!(Timeouts::get(None, Op::Create, d), d);
    }

    #[test]
    fn untyped_timeout_reads_the_block() {
        #[derive(Serialize)]
        struct R {
            timeouts: Option<Timeouts>,
        }
        let ty = tfplugin::types::Type::object([(
            "timeouts",
            timeouts_block(&[("create", "1m"), ("update", "1m")]).value_type(),
        )]);
        let v = tfplugin::model::to_value(
            &R {
                timeouts: Some(Timeouts {
                    update: Some("2m".into()),
                    ..Default::default()
                }),
            },
            &ty,
        )
        .unwrap();
        let d = Duration::from_secs(1);
        assert_eq!(timeout(&v, "update", d), Duration::from_secs(120));
        assert_eq!(timeout(&v, "create", d), d);
        assert_eq!(timeout(&Value::Null, "update", d), d);
    }

    #[test]
    fn overwrite_touches_only_the_patch() {
        #[derive(Serialize)]
        struct Patch {
            b: tfplugin::model::Tf<String>,
        }
        let ty =
            tfplugin::Type::object([("a", tfplugin::Type::String), ("b", tfplugin::Type::String)]);
        let mut v = Value::object([("a", Value::string("x")), ("b", Value::string("y"))]);
        overwrite(
            &mut v,
            &Patch {
                b: tfplugin::model::Tf::Unknown,
            },
            &ty,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::object([("a", Value::string("x")), ("b", Value::Unknown)])
        );
        overwrite(
            &mut v,
            &Patch {
                b: tfplugin::model::Tf::Known("z".into()),
            },
            &ty,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::object([("a", Value::string("x")), ("b", Value::string("z"))])
        );
    }
}
