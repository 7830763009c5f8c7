//! go-plugin's side services (controller, stdio, broker) and a tower layer that turns a panic in
//! an RPC handler into a gRPC `Internal` error instead of a reset stream.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt as _};
use tfplugin_proto::plugin::{
    ConnInfo, Empty, StdioData, grpc_broker_server::GrpcBroker,
    grpc_controller_server::GrpcController, grpc_stdio_server::GrpcStdio,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::codegen::BoxStream;
use tonic::codegen::http;
use tonic::{Request, Response, Status, Streaming};

/// A response stream that sends nothing and ends when `stop` is cancelled, so a graceful stop is
/// not held up by streams Terraform keeps open for the whole session.
fn silent_until<T: Send + 'static>(stop: CancellationToken) -> BoxStream<T> {
    Box::pin(
        futures::stream::once(async move { stop.cancelled_owned().await })
            .filter_map(|()| futures::future::ready(None)),
    )
}

/// `plugin.GRPCController/Shutdown`: Terraform's "you are done". Cancels `stop`; the serving loop
/// then exits the process (managed mode) or stops the server (in-process mode).
pub(crate) struct Controller {
    pub stop: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("plugin.GRPCController/Shutdown received");
        self.stop.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio/StreamStdio`: our logs go to stderr directly, so the stream stays silent.
/// Terraform holds it open for the whole session, so its end (the stream dropped) also means the
/// connection may be gone: `ended` is notified then.
pub(crate) struct Stdio {
    pub stop: CancellationToken,
    pub ended: Arc<Notify>,
}

/// Notifies on drop.
struct NotifyOnDrop(Arc<Notify>);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<BoxStream<StdioData>>, Status> {
        let guard = NotifyOnDrop(self.ended.clone());
        let silent = silent_until(self.stop.clone());
        Ok(Response::new(Box::pin(silent.map(move |d| {
            let _ = &guard;
            d
        }))))
    }
}

/// `plugin.GRPCBroker/StartStream`: accepted and never used (providers do not call back into
/// Terraform). The client's half is drained so it never blocks on flow control.
pub(crate) struct Broker {
    pub stop: CancellationToken,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        let mut incoming = request.into_inner();
        let stop = self.stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    m = incoming.message() => match m {
                        Ok(Some(info)) => tracing::debug!(service_id = info.service_id, "ignoring broker connection info"),
                        _ => break,
                    },
                }
            }
        });
        Ok(Response::new(silent_until(self.stop.clone())))
    }
}

/// Catches a panic while a request's handler future runs and answers `Internal` with the panic
/// message, so Terraform shows a "Plugin error" diagnostic instead of a cancelled request. The
/// panic hook has already logged it with its location. (hyper runs each stream in its own task,
/// so a panic never takes the server down either way.)
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CatchPanicLayer;

impl<S> tower::Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;
    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct CatchPanic<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for CatchPanic<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let path = req.uri().path().to_string();
        let fut = self.inner.call(req);
        Box::pin(async move {
            match AssertUnwindSafe(fut).catch_unwind().await {
                Ok(res) => res,
                Err(payload) => {
                    let msg = panic_message(payload.as_ref());
                    tracing::error!(rpc = %path, "the provider panicked while handling {path}: {msg}");
                    Ok(Status::internal(format!(
                        "the provider panicked while handling {path}: {msg}. This is a bug in the \
                         provider; run with TF_LOG_PROVIDER=error to see where it panicked."
                    ))
                    .into_http())
                }
            }
        })
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_string())
}
