//! Locating (and building once per test process) the binaries under test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::paths::{repo_root, target_dir};

/// Runs `cargo build -p <package> --bin <bin>` once and returns target/debug/<bin>.
/// Cargo's own lock makes this safe when several test processes build at the same time.
fn build_once(cell: &'static OnceLock<PathBuf>, package: &str, bin: &str) -> PathBuf {
    cell.get_or_init(|| {
        let path = target_dir().join("debug").join(bin);
        if std::env::var_os("E2E_NO_BUILD").is_some() {
            assert!(
                path.is_file(),
                "E2E_NO_BUILD is set but {} does not exist; run `cargo build -p {package}`",
                path.display()
            );
            return path;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", bin])
            .current_dir(repo_root())
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo build -p {package}: {e}"));
        assert!(
            out.status.success(),
            "cargo build -p {package} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            path.is_file(),
            "cargo built {package} but {} is missing",
            path.display()
        );
        path
    })
    .clone()
}

fn file_in(dir: &Path, name: &str, var: &str) -> PathBuf {
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{var} is set but {} does not exist",
        path.display()
    );
    path
}

/// The `terraform-provider-batch` binary (built with cargo unless `E2E_PROVIDER_DIR` is set).
pub fn provider_binary() -> PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    if let Some(dir) = std::env::var_os("E2E_PROVIDER_DIR") {
        return file_in(
            Path::new(&dir),
            "terraform-provider-batch",
            "E2E_PROVIDER_DIR",
        );
    }
    build_once(
        &CELL,
        "terraform-provider-batch",
        "terraform-provider-batch",
    )
}

/// The directory holding `terraform-provider-batch`, as used in `dev_overrides`.
pub fn provider_dir() -> PathBuf {
    provider_binary()
        .parent()
        .expect("binary has a parent dir")
        .to_path_buf()
}

/// The `batch-emulator` binary (built with cargo unless `E2E_EMULATOR_BIN` is set).
pub fn emulator_binary() -> PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    if let Some(bin) = std::env::var_os("E2E_EMULATOR_BIN") {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "E2E_EMULATOR_BIN={} does not exist",
            bin.display()
        );
        return bin;
    }
    build_once(&CELL, "batch-emulator", "batch-emulator")
}
