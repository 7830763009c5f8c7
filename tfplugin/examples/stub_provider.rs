//! The smallest provider: an empty schema. Used by the transport tests and to smoke-test the
//! handshake against real Terraform (copy or link it as `terraform-provider-stub`).

use tfplugin_proto::tfplugin6::{
    self as pb, configure_provider, get_provider_schema, provider_server::Provider,
    validate_provider_config,
};
use tonic::{Request, Response, Status};

struct Stub;

#[tonic::async_trait]
impl Provider for Stub {
    async fn get_provider_schema(
        &self,
        _: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        let span = tracing::info_span!("rpc", rpc = "GetProviderSchema");
        let _g = span.enter();
        tracing::debug!("stub debug line");
        tracing::info!(answer = 42, "stub info line");
        tracing::warn!("stub warn line");
        if std::env::var_os("STUB_PANIC").is_some() {
            panic!("stub asked to panic");
        }
        Ok(Response::new(get_provider_schema::Response {
            provider: Some(pb::Schema {
                version: 0,
                block: Some(Default::default()),
            }),
            server_capabilities: Some(pb::ServerCapabilities {
                plan_destroy: true,
                get_provider_schema_optional: true,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        _: Request<validate_provider_config::Request>,
    ) -> Result<Response<validate_provider_config::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn configure_provider(
        &self,
        _: Request<configure_provider::Request>,
    ) -> Result<Response<configure_provider::Response>, Status> {
        Ok(Response::new(Default::default()))
    }
}

fn main() {
    let opts = tfplugin::server::ServeOptions::new(
        "registry.terraform.io/local/stub",
        "terraform-provider-stub",
        env!("CARGO_PKG_VERSION"),
    );
    tfplugin::server::serve(Stub, opts)
}
