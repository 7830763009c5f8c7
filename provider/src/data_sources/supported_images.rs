//! `batch_supported_images`: the VM images (with node agent SKUs) the Batch account supports
//! (Account_ListSupportedImages), optionally only those that can run containers.

use std::time::Duration;

use async_trait::async_trait;
use batch_client::models::ImageInformation;
use batch_client::{ListQuery, RequestOptions};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Ctx, DataSource};
use tfplugin::model::{from_value, to_value};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::OneOf;
use tfplugin::{Diagnostics, Type, Value};

use crate::common::{Batch, batch_error};

pub struct SupportedImagesDataSource;

const DOCKER_COMPATIBLE: &str = "DockerCompatible";

/// The data source's configuration and result (field names are the attribute names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupportedImagesModel {
    pub docker_compatible_only: Option<bool>,
    pub os_type: Option<String>,
    pub verification_type: Option<String>,
    pub images: Vec<ImageModel>,
}

/// One element of `images`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageModel {
    pub node_agent_sku_id: String,
    pub publisher: Option<String>,
    pub offer: Option<String>,
    pub sku: Option<String>,
    pub version: Option<String>,
    pub os_type: String,
    pub verification_type: String,
    pub capabilities: Vec<String>,
    pub docker_compatible: bool,
    pub batch_support_end_of_life: Option<String>,
}

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

/// One supported image as the data source shows it.
pub fn flatten_image(i: &ImageInformation) -> ImageModel {
    let r = &i.image_reference;
    let capabilities = i.capabilities.clone().unwrap_or_default();
    let docker_compatible = capabilities
        .iter()
        .any(|c| c.eq_ignore_ascii_case(DOCKER_COMPATIBLE));
    ImageModel {
        node_agent_sku_id: i.node_agent_sku_id.clone(),
        publisher: r.publisher.clone(),
        offer: r.offer.clone(),
        sku: r.sku.clone(),
        version: r.version.clone(),
        os_type: i.os_type.to_ascii_lowercase(),
        verification_type: i.verification_type.to_ascii_lowercase(),
        capabilities,
        docker_compatible,
        batch_support_end_of_life: i.batch_support_end_of_life.clone(),
    }
}

/// The OData filter for the filters the service can apply (None when there are none).
pub fn expand_filter(q: &SupportedImagesModel) -> Option<String> {
    let mut filters = Vec::new();
    if let Some(o) = &q.os_type {
        filters.push(format!("osType eq '{o}'"));
    }
    if let Some(v) = &q.verification_type {
        filters.push(format!("verificationType eq '{v}'"));
    }
    (!filters.is_empty()).then(|| filters.join(" and "))
}

/// The images matching the query, in the service's order. The service's filters are applied
/// again here: a service that ignores $filter must not widen the result. Capabilities are
/// filtered only here.
pub fn select_images(images: &[ImageInformation], q: &SupportedImagesModel) -> Vec<ImageModel> {
    let docker_only = q.docker_compatible_only.unwrap_or(false);
    images
        .iter()
        .filter(|i| {
            q.os_type
                .as_deref()
                .is_none_or(|o| i.os_type.eq_ignore_ascii_case(o))
        })
        .filter(|i| {
            q.verification_type
                .as_deref()
                .is_none_or(|v| i.verification_type.eq_ignore_ascii_case(v))
        })
        .map(flatten_image)
        .filter(|m| !docker_only || m.docker_compatible)
        .collect()
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
        let mut query: SupportedImagesModel = match from_value(&config) {
            Ok(q) => q,
            Err(e) => {
                diags.error(
                    "Provider bug: the configuration does not fit its model",
                    format!("{e}. Please report this issue."),
                );
                return (config, diags);
            }
        };
        let list_query = ListQuery {
            filter: expand_filter(&query),
            ..Default::default()
        };
        let o = RequestOptions::new()
            .timeout(Duration::from_secs(300))
            .cancel(ctx.cancel.clone());
        let images = match ctx.client.api.list_supported_images(&list_query, &o).await {
            Ok(i) => i,
            Err(e) => {
                batch_error(&mut diags, "list the account's supported images", &e, None);
                return (config, diags);
            }
        };
        query.images = select_images(&images, &query);
        match to_value(&query, &schema().block.value_type()) {
            Ok(v) => (v, diags),
            Err(e) => {
                diags.error(
                    "Provider bug: the images do not fit the schema",
                    format!("{e}. Please report this issue."),
                );
                (config, diags)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use batch_client::models::ImageReference;
    use tfplugin::model::check_round_trip;

    fn image(os: &str, verification: &str, caps: Option<&[&str]>) -> ImageInformation {
        ImageInformation {
            node_agent_sku_id: "batch.node.ubuntu 22.04".into(),
            image_reference: ImageReference {
                publisher: Some("canonical".into()),
                offer: Some("ubuntu".into()),
                sku: Some(format!("{os}-{verification}")),
                ..Default::default()
            },
            os_type: os.into(),
            verification_type: verification.into(),
            capabilities: caps.map(|c| c.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn models_cover_the_schema() {
        check_round_trip::<SupportedImagesModel>(&schema().block.value_type()).unwrap();
        check_round_trip::<ImageModel>(&image_type()).unwrap();
    }

    #[test]
    fn flatten_image_lowercases_enums_and_spots_docker() {
        let m = flatten_image(&image("Linux", "Verified", Some(&["dockercompatible"])));
        assert_eq!(m.os_type, "linux");
        assert_eq!(m.verification_type, "verified");
        assert!(m.docker_compatible);
        assert_eq!(m.capabilities, ["dockercompatible"]);
        assert_eq!(m.sku.as_deref(), Some("Linux-Verified"));
        let m = flatten_image(&image("Windows", "Unverified", None));
        assert!(!m.docker_compatible && m.capabilities.is_empty());
    }

    #[test]
    fn filters_go_to_the_service_and_are_applied_again() {
        let images = [
            image("Linux", "Verified", Some(&[DOCKER_COMPATIBLE])),
            image("Linux", "Unverified", None),
            image("Windows", "Verified", Some(&[DOCKER_COMPATIBLE])),
        ];
        let q = |docker: Option<bool>, os: Option<&str>, ver: Option<&str>| SupportedImagesModel {
            docker_compatible_only: docker,
            os_type: os.map(str::to_string),
            verification_type: ver.map(str::to_string),
            images: vec![],
        };
        let cases = [
            (
                q(None, None, None),
                None,
                vec!["Linux-Verified", "Linux-Unverified", "Windows-Verified"],
            ),
            (
                q(Some(true), None, None),
                None,
                vec!["Linux-Verified", "Windows-Verified"],
            ),
            (
                q(None, Some("linux"), None),
                Some("osType eq 'linux'"),
                vec!["Linux-Verified", "Linux-Unverified"],
            ),
            (
                q(Some(false), Some("windows"), Some("verified")),
                Some("osType eq 'windows' and verificationType eq 'verified'"),
                vec!["Windows-Verified"],
            ),
        ];
        for (query, filter, skus) in cases {
            assert_eq!(expand_filter(&query).as_deref(), filter, "{query:?}");
            let got: Vec<String> = select_images(&images, &query)
                .into_iter()
                .filter_map(|m| m.sku)
                .collect();
            assert_eq!(got, skus, "{query:?}");
        }
    }
}
