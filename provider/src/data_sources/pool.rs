//! `batch_pool` (being written).

use async_trait::async_trait;
use tfplugin::framework::{Ctx, DataSource};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Diagnostics, Value};

use crate::common::Batch;

pub struct PoolDataSource;

#[async_trait]
impl DataSource<Batch> for PoolDataSource {
    fn type_name(&self) -> &'static str {
        "batch_pool"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("batch_pool").attr(Attribute::string("id").computed().description("Id.")),
        )
    }
    async fn read(&self, _ctx: &Ctx<Batch>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        diags.error("not implemented", "");
        (config, diags)
    }
}
