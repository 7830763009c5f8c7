//! Test support (test-only, hence the name) for in-process tests of a resource: the local
//! Batch service on a free port and tfplugin's harness (Terraform core's side of the protocol)
//! configured against it.

use tfplugin::Value;
use tfplugin::testing::{Action, Applied, Harness, show_diags};

use crate::provider::BatchProvider;

/// A running service and a configured harness; `resource` is the type the helpers drive.
pub struct InProcess {
    pub h: Harness<BatchProvider>,
    pub resource: &'static str,
    svc: batch_emulator::EmulatorHandle,
    _dir: tempfile::TempDir,
}

impl InProcess {
    pub async fn start(resource: &'static str) -> InProcess {
        let dir = tempfile::tempdir().unwrap();
        let svc = batch_emulator::start(batch_emulator::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            delete_delay: std::time::Duration::from_millis(50),
            ..Default::default()
        })
        .await
        .unwrap();
        let h = Harness::new(BatchProvider).await;
        h.configure(Value::object([
            ("account_name", Value::string(batch_emulator::DEV_ACCOUNT)),
            ("account_endpoint", Value::string(svc.url())),
            ("account_key", Value::string(batch_emulator::DEV_KEY)),
        ]))
        .await
        .unwrap_or_else(|d| panic!("configure: {}", show_diags(&d)));
        InProcess {
            h,
            resource,
            svc,
            _dir: dir,
        }
    }

    /// Plans and applies `cfg` over `prior` (None: create).
    pub async fn step(&self, prior: Option<&Applied>, cfg: &Value) -> Applied {
        self.h
            .step(self.resource, prior, cfg)
            .await
            .unwrap_or_else(|d| panic!("step: {}", show_diags(&d)))
    }

    /// What a plan of `cfg` over `prior` would do.
    pub async fn action(&self, prior: &Applied, cfg: &Value) -> Action {
        self.h
            .plan(self.resource, &prior.new_state, &prior.private, cfg)
            .await
            .unwrap_or_else(|d| panic!("plan: {}", show_diags(&d)))
            .action
    }

    /// Destroys `applied` (of `resource`) and waits until it is gone.
    pub async fn destroy(&self, resource: &str, applied: &Applied) {
        self.h
            .destroy(resource, &applied.new_state, &applied.private)
            .await
            .unwrap_or_else(|d| panic!("destroy {resource}: {}", show_diags(&d)));
    }

    pub async fn shutdown(self) {
        self.svc.shutdown().await;
    }
}
