//! The read and update flow `batch_job` and `batch_job_schedule` share: read the prior state
//! into the model and Get the object; on update make one conditional write (If-Match with the
//! ETag kept in private state) whose 412 means a change made outside Terraform. Each resource
//! keeps what is its own: the Get, the write's body and the state of what Batch reports.

use std::future::Future;
use std::time::Duration;

use batch_client::{BatchError, RequestOptions, Versioned, WriteInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tfplugin::framework::{ApplyRequest, ApplyResponse, Ctx, ReadRequest, ReadResponse};
use tfplugin::{AttrPath, Diagnostics, Value};

use super::wire_paths::WirePaths;
use super::{Batch, HasState, batch_error, opts, read_model, read_response};

/// Adds a failed call's diagnostic at `path`, else at the attribute the error names in the
/// request body `sent` (see [`WirePaths::error_path`]).
pub fn report(
    diags: &mut Diagnostics,
    doing: &str,
    err: &BatchError,
    paths: &WirePaths,
    sent: &impl Serialize,
    path: Option<AttrPath>,
) {
    let path = path.or_else(|| paths.error_path(err, sent));
    batch_error(diags, doing, err, path.as_ref());
}

/// The error of a conditional write Batch refused (412 ConditionNotMet).
pub fn conflict_error(diags: &mut Diagnostics, what: &str) {
    diags.error(
        format!("{what} changed outside Terraform"),
        format!("{what} changed outside Terraform since the last refresh (Batch answered 412 ConditionNotMet to the conditional update). Nothing was overwritten; run terraform apply again to see the difference."),
    );
}

/// Read: the prior state as the model `M`, the Get of the object it names (`get(name,
/// options)`) and the state `state` makes of what Batch reports. Gone or deleting leaves the
/// state; an error keeps the prior state ([`read_response`]). `kind` names the object, e.g. `job`.
pub async fn read_object<M, T, Fut>(
    ctx: &Ctx<Batch>,
    req: ReadRequest,
    kind: &str,
    name: impl FnOnce(&M) -> String,
    get: impl FnOnce(String, RequestOptions) -> Fut,
    state: impl FnOnce(&T, &M, &mut Diagnostics) -> Value,
) -> ReadResponse
where
    M: DeserializeOwned,
    T: HasState,
    Fut: Future<Output = Result<Option<Versioned<T>>, BatchError>>,
{
    let mut diags = Diagnostics::new();
    let Some(prior) = read_model::<M>(&req.state, &format!("the {kind}"), &mut diags) else {
        return ReadResponse {
            state: req.state,
            private: req.private,
            diags,
        };
    };
    let name = name(&prior);
    let o = RequestOptions::new()
        .timeout(Duration::from_secs(120))
        .cancel(ctx.cancel.clone());
    let got = get(name.clone(), o).await;
    read_response(
        req,
        got,
        &format!("{kind} {name:?}"),
        |x, d| state(x, &prior, d),
        diags,
    )
}

/// The response of an update that changes nothing: the prior state and private state.
pub fn unchanged(req: &ApplyRequest, diags: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: req.prior.clone(),
        private: req.private.clone(),
        diags,
    }
}

/// An update's plan and prior state as the model `M` (`kind` names the object), or the
/// response that keeps the prior state.
pub fn update_models<M: DeserializeOwned>(
    req: &ApplyRequest,
    kind: &str,
) -> Result<(M, M), ApplyResponse> {
    let what = format!("the {kind}");
    let mut diags = Diagnostics::new();
    match (
        read_model(&req.planned, &what, &mut diags),
        read_model(&req.prior, &what, &mut diags),
    ) {
        (Some(planned), Some(prior)) => Ok((planned, prior)),
        _ => Err(unchanged(req, diags)),
    }
}

/// An update's one conditional write: `write` gets options with If-Match when `etag` is known,
/// and on success `etag` becomes the write's (a Get now could pick up, and so hide, a change
/// someone made right after ours). A 412 is reported as a change outside Terraform (`what`:
/// `Job "render"`), any other error by `fail`. False when the write failed.
pub async fn conditional_write<Fut>(
    ctx: &Ctx<Batch>,
    deadline: tokio::time::Instant,
    etag: &mut Option<String>,
    what: &str,
    diags: &mut Diagnostics,
    write: impl FnOnce(RequestOptions) -> Fut,
    fail: impl FnOnce(&mut Diagnostics, &BatchError),
) -> bool
where
    Fut: Future<Output = Result<WriteInfo, BatchError>>,
{
    let mut o = opts(ctx, deadline);
    if let Some(e) = etag.as_ref() {
        o = o.if_match(e.clone());
    }
    match write(o).await {
        Ok(w) => {
            tracing::info!(object = %what, "updated");
            if w.etag.is_some() {
                *etag = w.etag;
            }
            true
        }
        Err(e) if matches!(&e, BatchError::Service(se) if se.status == 412) => {
            conflict_error(diags, what);
            false
        }
        Err(e) => {
            fail(diags, &e);
            false
        }
    }
}
