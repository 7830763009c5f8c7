//! End-to-end test harness: runs real Terraform CLIs against the provider binary and the local
//! Batch service (`batch-emulator`).
//!
//! Typical test:
//!
//! ```no_run
//! use e2e::{for_each_terraform, Emulator, Runtime, Workdir};
//!
//! for_each_terraform(|tf| {
//!     let emu = Emulator::start(Runtime::Process);
//!     let wd = Workdir::new(tf);
//!     wd.write_main(&format!("{}\nresource \"batch_job\" \"j\" {{ ... }}", emu.provider_hcl()));
//!     wd.apply();
//!     wd.assert_plan_empty();
//!     wd.destroy();
//! });
//! ```
//!
//! Environment variables read by the harness:
//! - `E2E_TERRAFORM=path1:path2`: Terraform CLIs to test with (default: `.tools/bin/terraform-1.11.4`
//!   and `.tools/bin/terraform-1.15.5` from `scripts/install-terraform.sh`; outside CI a `terraform`
//!   of the missing version on PATH stands in).
//! - `CI`: when set (not `false`/`0`), a missing prerequisite (container engine, Terraform version)
//!   fails the tests that need it instead of skipping them (see the `prereq` crate).
//! - `E2E_PROVIDER_DIR`: directory holding a prebuilt `terraform-provider-batch` (skips cargo build).
//! - `E2E_EMULATOR_BIN`: path of a prebuilt `batch-emulator` (skips cargo build).
//! - `E2E_NO_BUILD=1`: never run cargo; use the binaries already in target/debug.
//! - `E2E_TF_TIMEOUT_SECS`: default timeout of one Terraform command (300).
//! - `E2E_SERIAL_VERSIONS=1`: run the Terraform versions one after the other instead of in parallel.
//! - `E2E_KEEP_WORKDIRS=1`: keep the temporary working directories (their paths are printed).
//! - `DOCKER_HOST`: Docker Engine API for `Runtime::Docker` (default: the podman socket of
//!   `scripts/setup-podman.sh` when it exists).

mod binaries;
mod cliconfig;
mod docker;
mod emulator;
mod http;
mod leaks;
mod output;
mod paths;
mod registry;
mod terraform;
mod workdir;

/// The Batch REST client, re-exported for checks against the service.
pub use batch_client;
pub use binaries::{emulator_binary, provider_binary, provider_dir};
pub use cliconfig::{
    IMPLIED_SOURCE, PROVIDER_SOURCE, PROVIDER_SOURCE_SHORT, dev_overrides_config, mirror_config,
    required_providers_hcl,
};
pub use docker::{
    BUSYBOX_IMAGE, HELLO_ENTRYPOINT_IMAGE, HELLO_ENTRYPOINT_LINE, docker_api, docker_available,
    docker_for_test, docker_host,
};
pub use emulator::{
    DEV_ACCOUNT, DEV_KEY, Emulator, EmulatorOptions, Runtime, SHORT_DELAYS, container_pool_body,
};
pub use leaks::{Haystack, Traced};
pub use output::{DEV_OVERRIDES_WARNING, Diagnostic, Pos, Range, Snippet, TfOutput, Validation};
pub use paths::{repo_root, target_dir, tools_dir};
/// Skip-or-fail for missing prerequisites (re-exported for [`require_docker!`]).
pub use prereq;
pub use registry::{Registry, random_hex, registry_available};
pub use terraform::{Terraform, for_each_terraform, terraform_versions};
pub use workdir::{Running, Workdir, copy_tree};

/// Runs a future to completion on a fresh current-thread Tokio runtime (for synchronous tests
/// that need an async API such as [`Emulator::client`]).
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(fut)
}

/// Polls `f` (every 100 ms) until it returns Some: waiting for the state a test needs instead of
/// sleeping. Panics naming `what` after `timeout` (a hang guard, not a speed bound).
#[track_caller]
pub fn wait_until<T>(
    what: &str,
    timeout: std::time::Duration,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Makes a child get SIGTERM when the thread that started it ends, so that a test process killed
/// by a runner's timeout (no destructors run) does not leave Terraform or emulators behind.
/// Both stop gracefully on SIGTERM. Start such children on the thread that owns them (as tests
/// and [`for_each_terraform`] do).
fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure only calls prctl(2), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

/// Writes a line straight to the process's stderr, bypassing libtest's output capture, for notes
/// that must be seen even when tests pass (skipped cases, the Terraform versions in use).
pub fn note(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "e2e: {msg}");
}

/// Returns early from a test (printing why) when no Docker Engine API is reachable; under CI
/// (see [`prereq`]) fails instead, naming what is missing. A `DOCKER_HOST` that is set but does
/// not answer fails everywhere: whoever set it expects the container tests to run.
#[macro_export]
macro_rules! require_docker {
    () => {
        $crate::prereq::require!($crate::docker_for_test())
    };
}

/// Returns early from a test (printing why) when no container engine or no private registry can
/// be used here; under CI it fails instead, so CI cannot pass without running the test.
#[macro_export]
macro_rules! require_registry {
    () => {
        $crate::prereq::require!(
            $crate::docker_for_test().and_then(|_| $crate::registry_available())
        )
    };
}
