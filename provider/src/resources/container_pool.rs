//! `batch_container_pool` (being written).

use async_trait::async_trait;
use tfplugin::Diagnostics;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, ReadRequest, ReadResponse, Resource,
};
use tfplugin::schema::{Attribute, Block, Schema};

use crate::common::Batch;

pub struct ContainerPoolResource;

#[async_trait]
impl Resource<Batch> for ContainerPoolResource {
    fn type_name(&self) -> &'static str {
        "batch_container_pool"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("batch_container_pool")
                .attr(Attribute::string("id").computed().description("Id.")),
        )
    }
    async fn create(&self, _ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        let mut diags = Diagnostics::new();
        diags.error("not implemented", "");
        ApplyResponse {
            new_state: tfplugin::Value::Null,
            private: req.private,
            diags,
        }
    }
    async fn read(&self, _ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            state: req.state,
            private: req.private,
            diags: Diagnostics::new(),
        }
    }
    async fn update(&self, _ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: req.planned,
            private: req.private,
            diags: Diagnostics::new(),
        }
    }
    async fn delete(&self, _ctx: &Ctx<Batch>, _req: DeleteRequest) -> Diagnostics {
        Diagnostics::new()
    }
}
