//! `batch_supported_images` (being written).

use async_trait::async_trait;
use tfplugin::framework::{Ctx, DataSource};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Diagnostics, Value};

use crate::common::Batch;

pub struct SupportedImagesDataSource;

#[async_trait]
impl DataSource<Batch> for SupportedImagesDataSource {
    fn type_name(&self) -> &'static str {
        "batch_supported_images"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("batch_supported_images")
                .attr(Attribute::string("id").computed().description("Id.")),
        )
    }
    async fn read(&self, _ctx: &Ctx<Batch>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        diags.error("not implemented", "");
        (config, diags)
    }
}
