//! Was an ambiguous write committed?
//!
//! An attempt that failed ambiguously (timeout or dropped connection after sending, or a 5xx)
//! may have been committed, so the retry that follows can fail *because* the write already
//! took effect. Every write declares beside its operation a [`Recovery`]: which errors prove on
//! their own that the write took effect, and how to read the object back and what it must show.
//! [`BatchClient::settle`] is the one place that applies it, for every write. A failure without
//! an earlier ambiguous attempt is always returned as is.
//!
//! * Creates (Pool_Add, Job_Add, Task_Add, each task of Task_AddCollection): a retry that meets
//!   `…Exists` reads the object back and adopts it only if it matches what was sent
//!   ([`crate::idempotent::sent_matches`]); otherwise the conflict is returned naming the first
//!   difference (`AdoptionMismatch`).
//! * Other writes: a retry that meets 409/412 (e.g. a PATCH whose first attempt changed the
//!   ETag, a resize whose first attempt started resizing) reads the object back and succeeds
//!   when it shows what was written (or, for deletes, is gone).

use crate::client::{BatchClient, RequestOptions, Resp, WriteInfo};
use crate::error::{BatchError, Result, ServiceError};
use crate::idempotent::sent_matches;
use serde_json::Value;
use url::Url;

/// How a write recognises that an ambiguous earlier attempt took effect.
pub(crate) struct Recovery {
    /// Errors that prove it (e.g. 404 or `PoolBeingDeleted` after a delete).
    done_if: fn(&ServiceError) -> bool,
    /// Otherwise, errors after which the object is read back, and what it must show.
    read_back: Option<ReadBack>,
}

struct ReadBack {
    /// The object to GET (unconditionally, within the write's deadline).
    url: Url,
    check: Check,
}

enum Check {
    /// A create retried into `exists_code` (409): the existing object must match `sent`. It is
    /// then adopted as if created (201); a mismatch is named in the conflict (`AdoptionMismatch`).
    Adopt {
        exists_code: &'static str,
        sent: Value,
    },
    /// Another write retried into 409/412: the object must show `expect` (`None`: nothing it
    /// could show proves the write), or, when `gone_is_done` (deletes), be gone.
    Shows {
        expect: Option<Value>,
        gone_is_done: bool,
    },
}

/// First step of [`Recovery`]: what a failed write's error says.
#[derive(Debug, PartialEq)]
pub(crate) enum Step<'a> {
    /// Nothing shows an earlier attempt took effect: report the error.
    Failed,
    /// The error itself shows an earlier attempt took effect.
    Committed,
    /// Read the object at this URL back and [`Recovery::judge`] it.
    ReadBack(&'a Url),
}

impl Recovery {
    /// Nothing can be inferred.
    pub(crate) fn none() -> Self {
        Self {
            done_if: |_| false,
            read_back: None,
        }
    }
    /// These errors mean done.
    pub(crate) fn codes(done_if: fn(&ServiceError) -> bool) -> Self {
        Self {
            done_if,
            read_back: None,
        }
    }
    /// Done when, on 409/412, the object at `url` shows `expect`.
    pub(crate) fn shows(url: Url, expect: Value) -> Self {
        Self {
            done_if: |_| false,
            read_back: Some(ReadBack {
                url,
                check: Check::Shows {
                    expect: Some(expect),
                    gone_is_done: false,
                },
            }),
        }
    }
    /// Done on `done_if` errors, or when, on 409/412, the object is gone or shows `expect`.
    pub(crate) fn deleted(
        url: Url,
        done_if: fn(&ServiceError) -> bool,
        expect: Option<Value>,
    ) -> Self {
        Self {
            done_if,
            read_back: Some(ReadBack {
                url,
                check: Check::Shows {
                    expect,
                    gone_is_done: true,
                },
            }),
        }
    }
    /// A create of `sent`: on `exists_code`, adopt the object at `url` if it matches `sent`.
    pub(crate) fn created(url: Url, exists_code: &'static str, sent: Value) -> Self {
        Self {
            done_if: |_| false,
            read_back: Some(ReadBack {
                url,
                check: Check::Adopt { exists_code, sent },
            }),
        }
    }

    /// Step one: does the error of a write whose earlier attempt was (or was not) `ambiguous`
    /// prove the write, rule it out, or call for a read-back?
    pub(crate) fn after(&self, ambiguous: bool, err: &ServiceError) -> Step<'_> {
        if !ambiguous {
            return Step::Failed;
        }
        if (self.done_if)(err) {
            return Step::Committed;
        }
        match &self.read_back {
            Some(rb) if rb.check.applies_to(err) => Step::ReadBack(&rb.url),
            _ => Step::Failed,
        }
    }

    /// Step two: whether the object read back (`None`: not found) shows the write took effect;
    /// otherwise why not.
    pub(crate) fn judge(&self, current: Option<&Value>) -> std::result::Result<(), String> {
        let Some(rb) = &self.read_back else {
            return Err("nothing to read back".into());
        };
        rb.check.judge(current)
    }

    /// A create: what the read-back finds is adopted as if created (reported as 201 Created),
    /// and a mismatch is named in the conflict (`AdoptionMismatch`).
    fn adopts(&self) -> bool {
        matches!(
            self.read_back.as_ref().map(|rb| &rb.check),
            Some(Check::Adopt { .. })
        )
    }
}

impl Check {
    fn applies_to(&self, err: &ServiceError) -> bool {
        match self {
            Check::Adopt { exists_code, .. } => {
                err.status == 409 && err.code.eq_ignore_ascii_case(exists_code)
            }
            Check::Shows { .. } => matches!(err.status, 409 | 412),
        }
    }

    fn judge(&self, current: Option<&Value>) -> std::result::Result<(), String> {
        match (self, current) {
            (Check::Shows { gone_is_done, .. }, None) if *gone_is_done => Ok(()),
            (_, None) => Err("the existing object disappeared before it could be compared".into()),
            (
                Check::Adopt { sent: want, .. }
                | Check::Shows {
                    expect: Some(want), ..
                },
                Some(v),
            ) => sent_matches(want, v),
            (Check::Shows { expect: None, .. }, Some(_)) => Err("the object still exists".into()),
        }
    }
}

/// A write's failed final answer.
pub(crate) struct Failure {
    pub(crate) error: ServiceError,
    /// An earlier attempt failed in a way that leaves open whether the service acted on it.
    pub(crate) ambiguous: bool,
    /// Reported when the error alone proves the write: its own status and headers.
    pub(crate) answer: WriteInfo,
}

impl Failure {
    /// The failed response of a call whose earlier attempts were (or were not) `ambiguous`.
    pub(crate) fn response(resp: &Resp, ambiguous: bool) -> Self {
        Self {
            error: resp.service_error(),
            ambiguous,
            answer: resp.write_info(true),
        }
    }
    /// An error reported inside a successful response (a Task_AddCollection result).
    pub(crate) fn inline(error: ServiceError, ambiguous: bool) -> Self {
        let answer = WriteInfo {
            status: error.status,
            request_id: error.request_id.clone(),
            adopted: true,
            ..WriteInfo::default()
        };
        Self {
            error,
            ambiguous,
            answer,
        }
    }
}

/// What [`BatchClient::settle`] found.
#[derive(Debug)]
pub(crate) enum Settled {
    /// An earlier attempt took effect: the write succeeded (`adopted`).
    Committed(WriteInfo),
    /// The error stands as the service sent it.
    Failed(ServiceError),
    /// The object was read back and does not show the write; for a create the error names the
    /// first difference (`AdoptionMismatch`).
    Mismatch(ServiceError),
}

impl Settled {
    pub(crate) fn into_result(self) -> Result<WriteInfo> {
        match self {
            Settled::Committed(w) => Ok(w),
            Settled::Failed(e) | Settled::Mismatch(e) => Err(BatchError::service_error(e)),
        }
    }
}

impl BatchClient {
    /// Decides whether a failed write was committed by an earlier ambiguous attempt, reading
    /// the object back when `recovery` says so. Errors are those of the read-back itself.
    pub(crate) async fn settle(
        &self,
        failure: Failure,
        recovery: &Recovery,
        opts: &RequestOptions,
    ) -> Result<Settled> {
        let Failure {
            mut error,
            ambiguous,
            answer,
        } = failure;
        let url = match recovery.after(ambiguous, &error) {
            Step::Failed => return Ok(Settled::Failed(error)),
            Step::Committed => {
                tracing::debug!(code = %error.code, "earlier ambiguous attempt took effect");
                return Ok(Settled::Committed(answer));
            }
            Step::ReadBack(url) => url.clone(),
        };
        let read_opts = RequestOptions {
            if_match: None,
            ..opts.clone()
        };
        let current = self.get_json::<Value>(url, &read_opts).await?;
        let adopts = recovery.adopts();
        match recovery.judge(current.as_ref().map(|v| &v.value)) {
            Ok(()) => {
                if adopts {
                    tracing::debug!(
                        "create retried after an ambiguous failure: adopted the matching existing object"
                    );
                } else {
                    tracing::debug!(code = %error.code, "read-back shows the ambiguous attempt took effect");
                }
                Ok(Settled::Committed(WriteInfo {
                    status: if adopts { 201 } else { error.status },
                    etag: current.as_ref().and_then(|v| v.etag.clone()),
                    last_modified: current.and_then(|v| v.last_modified),
                    request_id: error.request_id,
                    adopted: true,
                }))
            }
            Err(why) => {
                if adopts {
                    error.values.push(("AdoptionMismatch".into(), why));
                }
                Ok(Settled::Mismatch(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url() -> Url {
        Url::parse("http://127.0.0.1/pools/p").unwrap()
    }

    fn err(status: u16, code: &str) -> ServiceError {
        ServiceError {
            status,
            code: code.into(),
            ..ServiceError::default()
        }
    }

    fn delete_done(e: &ServiceError) -> bool {
        e.status == 404
    }

    #[test]
    fn without_ambiguity_every_error_stands() {
        let u = url();
        for r in [
            Recovery::codes(delete_done),
            Recovery::shows(u.clone(), json!({})),
            Recovery::deleted(u.clone(), delete_done, None),
            Recovery::created(u.clone(), "PoolExists", json!({})),
        ] {
            for e in [
                err(404, "PoolNotFound"),
                err(409, "PoolExists"),
                err(412, ""),
            ] {
                assert_eq!(r.after(false, &e), Step::Failed);
            }
        }
    }

    /// `after` an ambiguous failure with each of `errors`, in short.
    fn steps(r: &Recovery, errors: &[(u16, &str)]) -> Vec<&'static str> {
        let steps = errors
            .iter()
            .map(|&(status, code)| match r.after(true, &err(status, code)) {
                Step::Failed => "failed",
                Step::Committed => "committed",
                Step::ReadBack(u) if *u == url() => "read back",
                Step::ReadBack(u) => panic!("read back of {u}"),
            });
        steps.collect()
    }

    #[test]
    fn errors_that_prove_the_write_come_before_a_read_back() {
        let delete = Recovery::deleted(url(), delete_done, None);
        let errors = [(404, "PoolNotFound"), (409, "Other"), (400, "Bad")];
        assert_eq!(
            steps(&delete, &errors),
            ["committed", "read back", "failed"]
        );
        let errors = [(404, "PoolNotFound"), (409, "X"), (412, "X")];
        let codes = Recovery::codes(delete_done);
        assert_eq!(steps(&codes, &errors), ["committed", "failed", "failed"]);
        assert_eq!(steps(&Recovery::none(), &errors), ["failed"; 3]);
    }

    #[test]
    fn updates_read_back_on_409_and_412_only() {
        let update = Recovery::shows(url(), json!({"displayName": "x"}));
        let errors = [
            (409, "PoolBeingResized"),
            (412, "ConditionNotMet"),
            (404, "PoolNotFound"),
            (500, "InternalError"),
        ];
        let want = ["read back", "read back", "failed", "failed"];
        assert_eq!(steps(&update, &errors), want);
    }

    #[test]
    fn creates_read_back_only_on_their_exists_code() {
        let create = Recovery::created(url(), "PoolExists", json!({"id": "p"}));
        let errors = [(409, "poolexists"), (409, "JobExists"), (412, "PoolExists")];
        assert_eq!(steps(&create, &errors), ["read back", "failed", "failed"]);
    }

    #[test]
    fn judging_the_object_read_back() {
        let shows = Recovery::shows(url(), json!({"displayName": "x"}));
        assert_eq!(
            shows.judge(Some(&json!({"displayName": "x", "id": "p"}))),
            Ok(())
        );
        assert!(shows.judge(Some(&json!({"displayName": "y"}))).is_err());
        assert!(shows.judge(None).is_err(), "gone is not done for an update");

        let delete = Recovery::deleted(url(), delete_done, Some(json!({"state": "deleting"})));
        assert_eq!(delete.judge(None), Ok(()));
        assert_eq!(delete.judge(Some(&json!({"state": "deleting"}))), Ok(()));
        assert!(delete.judge(Some(&json!({"state": "active"}))).is_err());
        let delete = Recovery::deleted(url(), delete_done, None);
        assert!(delete.judge(Some(&json!({"state": "active"}))).is_err());

        let create = Recovery::created(url(), "PoolExists", json!({"id": "p", "vmSize": "A"}));
        assert_eq!(
            create.judge(Some(&json!({"id": "p", "vmSize": "a"}))),
            Ok(())
        );
        let why = create
            .judge(Some(&json!({"id": "p", "vmSize": "b"})))
            .unwrap_err();
        assert!(why.starts_with("vmSize"), "{why}");
        let why = create.judge(None).unwrap_err();
        assert!(why.contains("disappeared"), "{why}");
    }

    #[test]
    fn only_creates_adopt() {
        assert!(Recovery::created(url(), "PoolExists", json!({})).adopts());
        assert!(!Recovery::shows(url(), json!({})).adopts());
        assert!(!Recovery::deleted(url(), delete_done, None).adopts());
        assert!(!Recovery::none().adopts());
    }
}
