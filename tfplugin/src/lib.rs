//! Terraform plugin protocol 6 for Rust: the transport Terraform's go-plugin client expects, the
//! value model (msgpack/JSON DynamicValue codec driven by the schema's type) and a small provider
//! framework in the spirit of terraform-plugin-framework. Knows Terraform and nothing of any particular service: usable alone as a Rust provider SDK.

pub mod codec;
pub mod diag;
pub mod framework;
pub mod model;
pub mod schema;
pub mod semantics;
pub mod server;
pub mod testing;
pub mod types;
pub mod validators;
pub mod value;

pub use diag::{AttrPath, Diagnostic, Diagnostics, Severity};
pub use types::Type;
pub use value::{Number, Value};
