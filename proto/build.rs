// Generates the gRPC server stubs from proto/ with the protoc that ships inside protoc-bin-vendored,
// so the build needs no protoc on the machine.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC from the environment.
    unsafe {
        std::env::set_var("PROTOC", protoc);
        std::env::set_var("PROTOC_INCLUDE", &include);
    }
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_protos(
            &[
                "proto/tfplugin6.proto",
                "proto/grpc_controller.proto",
                "proto/grpc_stdio.proto",
                "proto/grpc_broker.proto",
            ]
            .map(std::path::PathBuf::from),
            &[std::path::PathBuf::from("proto"), include],
        )?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
