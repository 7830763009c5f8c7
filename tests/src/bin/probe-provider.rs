//! terraform-provider-probe: a benchmark control, not part of the product.
//!
//! One resource, `probe_null`, with exactly `null_resource`'s schema (`id` computed, `triggers`
//! map of strings that forces replacement), served by the same `tfplugin` transport and framework
//! as terraform-provider-batch. The bench plans it beside `terraform_data`, `null_resource` and
//! `batch_container_task` so the tables separate what our plugin code costs (probe vs null: same
//! schema, Rust framework vs Go SDK) from what Terraform core spends per instance on a larger
//! schema (batch_container_task vs probe: same code path, bigger schema).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DataSource, DeleteRequest, FrameworkServer, Private,
    Provider, ReadRequest, ReadResponse, Resource,
};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::server::{ServeOptions, serve};
use tfplugin::value::Value;

struct Probe;
struct ProbeNull;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

#[async_trait]
impl Provider for Probe {
    type Client = ();

    fn type_name(&self) -> &'static str {
        "probe"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "Benchmark control provider; takes no arguments.",
        ))
    }

    async fn configure(&self, _config: &Value, _diags: &mut Diagnostics) -> Option<()> {
        Some(())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
        vec![Arc::new(ProbeNull)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<()>>> {
        Vec::new()
    }
}

#[async_trait]
impl Resource<()> for ProbeNull {
    fn type_name(&self) -> &'static str {
        "probe_null"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Does nothing, like null_resource.")
                .attr(
                    Attribute::string("id")
                        .computed()
                        .description("A number chosen at create."),
                )
                .attr(
                    Attribute::string_map("triggers")
                        .optional()
                        .requires_replace()
                        .description("Any change replaces the resource."),
                ),
        )
    }

    async fn create(&self, _ctx: &Ctx<()>, req: ApplyRequest) -> ApplyResponse {
        let mut state = req.planned;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        state.set("id", Value::string(format!("{}-{id}", std::process::id())));
        ApplyResponse {
            new_state: state,
            private: Private::new(),
            diags: Diagnostics::new(),
        }
    }

    async fn read(&self, _ctx: &Ctx<()>, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            state: req.state,
            private: req.private,
            diags: Diagnostics::new(),
        }
    }

    async fn update(&self, _ctx: &Ctx<()>, req: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: req.planned,
            private: req.private,
            diags: Diagnostics::new(),
        }
    }

    async fn delete(&self, _ctx: &Ctx<()>, _req: DeleteRequest) -> Diagnostics {
        Diagnostics::new()
    }
}

fn main() {
    let opts = ServeOptions::new(
        "registry.terraform.io/local/probe",
        "terraform-provider-probe",
        env!("CARGO_PKG_VERSION"),
    );
    serve(FrameworkServer::new(Probe), opts)
}
