//! Deadlines and failure reports for Docker Engine API calls. bollard's own timeout bounds only
//! the wait for a response's headers: a body that never comes (or an engine that accepts the
//! connection and never answers) would leave a task running forever. Every call goes through
//! [`call`], bounded as a whole; a failed call becomes the task's `failureInfo` as Batch reports
//! it: a server error when the engine failed (5xx, no answer), a user error when it refused the
//! request (4xx, e.g. a bad run option).

use std::future::Future;
use std::time::Duration;

use crate::runtime::Failure;

/// Why a Docker Engine API call failed.
#[derive(Debug)]
pub enum EngineError {
    Api(bollard::errors::Error),
    TimedOut(Duration),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Api(bollard::errors::Error::DockerResponseServerError {
                status_code,
                message,
            }) => write!(f, "{status_code}: {message}"),
            EngineError::Api(e) => write!(f, "{e}"),
            EngineError::TimedOut(d) => write!(
                f,
                "the container engine did not answer within {}s",
                d.as_secs_f64()
            ),
        }
    }
}

impl EngineError {
    /// A refused request (4xx) is the task's fault; anything else is the node's.
    fn is_user_error(&self) -> bool {
        matches!(
            self,
            EngineError::Api(bollard::errors::Error::DockerResponseServerError { status_code, .. })
                if (400..500).contains(status_code)
        )
    }

    /// The task's failure: `code`, and a message saying what failed for `image` and the engine's
    /// own words.
    pub fn failure(&self, code: &str, what: &str, image: &str) -> Failure {
        let message = format!("The container engine could not {what} for image '{image}': {self}");
        if self.is_user_error() {
            Failure::user(code, message)
        } else {
            Failure::server(code, message)
        }
    }
}

/// One Docker Engine API call, bounded as a whole by the client's timeout.
pub async fn call<T>(
    d: &bollard::Docker,
    fut: impl Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, EngineError> {
    let limit = d.timeout();
    match tokio::time::timeout(limit, fut).await {
        // bollard's own timeout (on the response headers) is the same limit.
        Ok(Err(bollard::errors::Error::RequestTimeoutError)) | Err(_) => {
            Err(EngineError::TimedOut(limit))
        }
        Ok(r) => r.map_err(EngineError::Api),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_become_failures_naming_the_image_and_the_cause() {
        let server = |status_code: u16, message: &str| {
            EngineError::Api(bollard::errors::Error::DockerResponseServerError {
                status_code,
                message: message.into(),
            })
        };
        let table = [
            (
                server(500, "write child: broken pipe"),
                "ServerError",
                "The container engine could not start the container for image 'busybox:1': 500: write child: broken pipe",
            ),
            (
                server(400, "invalid mount"),
                "UserError",
                "The container engine could not start the container for image 'busybox:1': 400: invalid mount",
            ),
            (
                EngineError::TimedOut(Duration::from_secs(2)),
                "ServerError",
                "The container engine could not start the container for image 'busybox:1': the container engine did not answer within 2s",
            ),
        ];
        for (e, category, message) in table {
            let f = e.failure("ContainerStartFailed", "start the container", "busybox:1");
            assert_eq!(
                (f.category, f.code.as_str(), f.message.as_str()),
                (category, "ContainerStartFailed", message)
            );
        }
    }

    #[tokio::test]
    async fn a_call_that_never_answers_times_out() {
        let d = bollard::Docker::connect_with_http(
            "http://127.0.0.1:9",
            1,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let r: Result<(), _> = call(&d, std::future::pending()).await;
        assert!(
            matches!(r, Err(EngineError::TimedOut(t)) if t == Duration::from_secs(1)),
            "{r:?}"
        );
    }
}
