//! terraform-provider-batch: run container workloads on Azure Batch from Terraform.

use terraform_provider_batch::BatchProvider;
use tfplugin::framework::FrameworkServer;
use tfplugin::server::{ServeOptions, serve};

fn main() {
    let opts = ServeOptions::new(
        terraform_provider_batch::PROVIDER_ADDRESS,
        "terraform-provider-batch",
        env!("CARGO_PKG_VERSION"),
    );
    serve(FrameworkServer::new(BatchProvider), opts)
}
