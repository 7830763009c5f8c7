//! Generated Rust types and gRPC stubs for Terraform's plugin protocol 6 (`tfplugin6`) and the
//! go-plugin services (`plugin`) that Terraform's plugin client talks to.

#![allow(clippy::all, missing_docs)]

pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

pub mod plugin {
    tonic::include_proto!("plugin");
}
