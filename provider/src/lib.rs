//! The Batch provider: the provider block, and one module per resource and data source mapping
//! Terraform values onto the Batch client (`batch-client`). Protocol work lives in `tfplugin`.

pub mod actions;
pub mod common;
pub mod data_sources;
pub mod provider;
pub mod resources;

pub use provider::BatchProvider;

/// The provider's source address as local development and tests use it.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/local/batch";
