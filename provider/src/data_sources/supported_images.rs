//! `batch_supported_images`: the VM images (with node agent SKUs) the Batch account supports
//! (Account_ListSupportedImages), optionally only those that can run containers.

use std::time::Duration;

use async_trait::async_trait;
use batch_client::models::ImageInformation;
use batch_client::{ListQuery, RequestOptions};
use tfplugin::framework::{Ctx, DataSource};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::OneOf;
use tfplugin::{Diagnostics, Type, Value};

use crate::common::{Batch, batch_error};

pub struct SupportedImagesDataSource;

const DOCKER_COMPATIBLE: &str = "DockerCompatible";

fn image_type() -> Type {
    Type::object([
        ("node_agent_sku_id", Type::String),
        ("publisher", Type::String),
        ("offer", Type::String),
        ("sku", Type::String),
        ("version", Type::String),
        ("os_type", Type::String),
        ("verification_type", Type::String),
        ("capabilities", Type::list(Type::String)),
        ("docker_compatible", Type::Bool),
        ("batch_support_end_of_life", Type::String),
    ])
}

fn schema() -> Schema {
    Schema::new(
        Block::new("The Marketplace images the Batch account can create pools from, with the node agent SKU each needs (Account_ListSupportedImages). Use it to pick `image` and `node_agent_sku_id` of a `batch_container_pool`.")
            .attr(Attribute::bool("docker_compatible_only").optional().description("Only images with the `DockerCompatible` capability (those that can run container tasks). Default `false`."))
            .attr(Attribute::string("os_type").optional().validate(OneOf(&["linux", "windows"])).description("Only images of this operating system: `linux` or `windows`. Default: both."))
            .attr(Attribute::string("verification_type").optional().validate(OneOf(&["verified", "unverified"])).description("Only `verified` images (Batch tests them with the node agent) or only `unverified` ones. Default: both."))
            .attr(
                Attribute::new("images", Type::list(image_type()))
                    .computed()
                    .description("The images, in the service's order. Each has `node_agent_sku_id`, `publisher`, `offer`, `sku`, `version`, `os_type`, `verification_type`, `capabilities` (list of strings), `docker_compatible` (bool) and `batch_support_end_of_life` (RFC 3339 date after which Batch stops accepting new pools with the image, or null)."),
            ),
    )
}

fn image_value(i: &ImageInformation) -> Value {
    let r = &i.image_reference;
    let caps = i.capabilities.clone().unwrap_or_default();
    let docker = caps
        .iter()
        .any(|c| c.eq_ignore_ascii_case(DOCKER_COMPATIBLE));
    Value::object([
        (
            "node_agent_sku_id",
            Value::string(i.node_agent_sku_id.clone()),
        ),
        ("publisher", Value::opt_string(r.publisher.clone())),
        ("offer", Value::opt_string(r.offer.clone())),
        ("sku", Value::opt_string(r.sku.clone())),
        ("version", Value::opt_string(r.version.clone())),
        ("os_type", Value::string(i.os_type.to_ascii_lowercase())),
        (
            "verification_type",
            Value::string(i.verification_type.to_ascii_lowercase()),
        ),
        ("capabilities", Value::string_list(caps)),
        ("docker_compatible", Value::Bool(docker)),
        (
            "batch_support_end_of_life",
            Value::opt_string(i.batch_support_end_of_life.clone()),
        ),
    ])
}

#[async_trait]
impl DataSource<Batch> for SupportedImagesDataSource {
    fn type_name(&self) -> &'static str {
        "batch_supported_images"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &Ctx<Batch>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let docker_only = config.get_bool("docker_compatible_only").unwrap_or(false);
        let os = config.get_str("os_type").map(str::to_string);
        let verification = config.get_str("verification_type").map(str::to_string);
        // Filter on the service where OData allows it; capabilities are filtered here.
        let mut filters = Vec::new();
        if let Some(o) = &os {
            filters.push(format!("osType eq '{o}'"));
        }
        if let Some(v) = &verification {
            filters.push(format!("verificationType eq '{v}'"));
        }
        let query = ListQuery {
            filter: (!filters.is_empty()).then(|| filters.join(" and ")),
            ..Default::default()
        };
        let o = RequestOptions::new()
            .timeout(Duration::from_secs(300))
            .cancel(ctx.cancel.clone());
        let images = match ctx.client.api.list_supported_images(&query, &o).await {
            Ok(i) => i,
            Err(e) => {
                batch_error(&mut diags, "list the account's supported images", &e, None);
                return (config, diags);
            }
        };
        let list: Vec<Value> = images
            .iter()
            // Filter again locally: a service that ignores $filter must not widen the result.
            .filter(|i| {
                os.as_deref()
                    .is_none_or(|o| i.os_type.eq_ignore_ascii_case(o))
            })
            .filter(|i| {
                verification
                    .as_deref()
                    .is_none_or(|v| i.verification_type.eq_ignore_ascii_case(v))
            })
            .map(image_value)
            .filter(|v| !docker_only || v.get_bool("docker_compatible") == Some(true))
            .collect();
        let mut out = config.clone();
        out.set("images", Value::List(list));
        (out, diags)
    }
}
