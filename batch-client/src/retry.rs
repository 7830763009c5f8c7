//! Retry policy: exponential backoff with full jitter, `Retry-After`, bounded by the deadline.

use crate::error::{BatchError, Result};
use rand::Rng;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Backoff settings. Delays are `random(0, min(max_delay, base_delay * 2^attempt))` unless the
/// service sent a positive `Retry-After`, which is honoured as given.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// First backoff ceiling.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Maximum number of attempts per call (the deadline usually ends retries first).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// The full-jitter backoff before retry number `retry` (0-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(20)))
            .min(self.max_delay);
        if ceiling.is_zero() {
            return ceiling;
        }
        let nanos = rand::rng().random_range(0..=ceiling.as_nanos() as u64);
        Duration::from_nanos(nanos)
    }
}

/// True for statuses worth retrying: throttling, timeouts and transient server errors.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Parses `Retry-After` (delay-seconds or an HTTP date), `retry-after-ms` and
/// `x-ms-retry-after-ms`. Returns `None` for absent or zero values (the service sends
/// `retry-after: 0` even on success; zero means "use your own backoff").
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            && ms > 0.0
            && ms.is_finite()
        {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs > 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    let d = when.duration_since(std::time::SystemTime::now()).ok()?;
    (!d.is_zero()).then_some(d)
}

/// State of one logical call across its attempts.
pub(crate) struct RetryState {
    pub(crate) attempts: u32,
    pub(crate) started: Instant,
    pub(crate) deadline: Instant,
    /// Error of the previous attempt, reported if the deadline passes before the next one.
    pub(crate) last: Option<BatchError>,
}

impl RetryState {
    pub(crate) fn new(deadline: Instant) -> Self {
        Self {
            attempts: 0,
            started: Instant::now(),
            deadline,
            last: None,
        }
    }

    pub(crate) fn deadline_error(
        &self,
        last: Option<BatchError>,
        retry_after: Option<Duration>,
    ) -> BatchError {
        BatchError::DeadlineExceeded {
            attempts: self.attempts,
            elapsed: self.started.elapsed(),
            retry_after,
            last: last.map(Box::new),
        }
    }

    /// Waits before the next attempt, or returns the error to give up with: the last error when
    /// attempts are exhausted, `DeadlineExceeded` when the wait would pass the deadline,
    /// `Cancelled` when the token fires.
    pub(crate) async fn wait(
        &mut self,
        policy: &RetryPolicy,
        hint: Option<Duration>,
        last: BatchError,
        cancel: Option<&CancellationToken>,
    ) -> Result<()> {
        if self.attempts >= policy.max_attempts {
            return Err(last);
        }
        let delay = hint.unwrap_or_else(|| policy.backoff(self.attempts.saturating_sub(1)));
        let now = Instant::now();
        if now + delay >= self.deadline {
            return Err(self.deadline_error(Some(last), hint));
        }
        tracing::debug!(
            attempt = self.attempts,
            delay_ms = delay.as_millis() as u64,
            retry_after = hint.is_some(),
            error = %last.log_summary(),
            "retrying batch request"
        );
        sleep_or_cancel(delay, cancel).await?;
        self.last = Some(last);
        Ok(())
    }
}

pub(crate) async fn sleep_or_cancel(d: Duration, cancel: Option<&CancellationToken>) -> Result<()> {
    match cancel {
        Some(c) => tokio::select! {
            _ = c.cancelled() => Err(BatchError::Cancelled),
            _ = tokio::time::sleep(d) => Ok(()),
        },
        None => {
            tokio::time::sleep(d).await;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn backoff_is_bounded_by_ceiling() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_attempts: 5,
        };
        for retry in 0..10 {
            let ceiling =
                Duration::from_millis(100 * 2u64.pow(retry)).min(Duration::from_millis(1000));
            for _ in 0..50 {
                assert!(p.backoff(retry) <= ceiling);
            }
        }
        // Full jitter: over many draws we see values well below the ceiling.
        assert!((0..200).any(|_| p.backoff(5) < Duration::from_millis(500)));
    }

    /// On tokio's paused clock time moves only when something sleeps: a Retry-After beyond the
    /// deadline must fail at once (no virtual time passes), a backoff within it must sleep.
    #[tokio::test(start_paused = true)]
    async fn retry_after_past_the_deadline_fails_without_sleeping() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(100),
            max_attempts: 10,
        };
        let busy = || BatchError::Transport {
            message: "busy".into(),
            source: None,
        };
        let start = Instant::now();
        let mut st = RetryState::new(start + Duration::from_secs(2));
        st.attempts = 1;
        let err = st
            .wait(&policy, Some(Duration::from_secs(30)), busy(), None)
            .await
            .unwrap_err();
        assert_eq!(Instant::now(), start, "no sleep before giving up");
        match &err {
            BatchError::DeadlineExceeded {
                attempts: 1,
                retry_after: Some(d),
                last: Some(_),
                ..
            } => assert_eq!(*d, Duration::from_secs(30)),
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("Retry-After") && msg.contains("30s"), "{msg}");
        assert!(msg.contains("past the deadline"), "{msg}");

        // A hint within the deadline is honoured as given.
        st.wait(&policy, Some(Duration::from_secs(1)), busy(), None)
            .await
            .unwrap();
        assert_eq!(Instant::now(), start + Duration::from_secs(1));
    }

    #[test]
    fn parses_retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after", HeaderValue::from_static("0"));
        assert_eq!(retry_after(&h), None);
        let future = std::time::SystemTime::now() + Duration::from_secs(120);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(future)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        h.clear();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None, "a date in the past means no wait");
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 201, 400, 401, 403, 404, 409, 412, 501] {
            assert!(!is_retryable_status(s));
        }
    }
}
