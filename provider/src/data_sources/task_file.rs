//! `batch_task_file` (being written).

use async_trait::async_trait;
use tfplugin::framework::{Ctx, DataSource};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Diagnostics, Value};

use crate::common::Batch;

pub struct TaskFileDataSource;

#[async_trait]
impl DataSource<Batch> for TaskFileDataSource {
    fn type_name(&self) -> &'static str {
        "batch_task_file"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("batch_task_file")
                .attr(Attribute::string("id").computed().description("Id.")),
        )
    }
    async fn read(&self, _ctx: &Ctx<Batch>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        diags.error("not implemented", "");
        (config, diags)
    }
}
