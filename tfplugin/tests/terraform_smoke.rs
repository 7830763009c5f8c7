//! Real Terraform launches the stub provider (examples/stub_provider.rs) through `dev_overrides`:
//! the full go-plugin handshake with AutoMTLS, our JSON log lines re-logged at their levels, and
//! a prompt exit after Shutdown. Uses the CLIs in `E2E_TERRAFORM` (colon-separated), else the
//! wrappers `.tools/bin/terraform-{1.11.4,1.15.5}` of scripts/install-terraform.sh (outside CI,
//! `terraform` from PATH when neither is installed). Without any it is skipped, or fails under CI
//! (see the `prereq` crate); under CI both versions are required.

use std::path::{Path, PathBuf};
use std::process::Command;

fn terraform_clis() -> Result<Vec<PathBuf>, String> {
    if let Some(list) = std::env::var_os("E2E_TERRAFORM") {
        return Ok(std::env::split_paths(&list).collect());
    }
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin");
    let (found, missing): (Vec<PathBuf>, Vec<PathBuf>) = ["1.11.4", "1.15.5"]
        .iter()
        .map(|v| tools.join(format!("terraform-{v}")))
        .partition(|p| p.exists());
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
        let why = format!(
            "missing {} (run scripts/install-terraform.sh)",
            list.join(", ")
        );
        if prereq::is_ci() || (found.is_empty() && !on_path()) {
            return Err(why);
        }
        eprintln!("terraform_smoke: {why}");
        if found.is_empty() {
            return Ok(vec![PathBuf::from("terraform")]);
        }
    }
    Ok(found)
}

fn on_path() -> bool {
    Command::new("terraform")
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn stub_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples/terraform-provider-stub");
    assert!(
        path.exists(),
        "{} is missing: `cargo test -p tfplugin` builds it",
        path.display()
    );
    path
}

#[test]
fn terraform_runs_the_stub_provider_over_mtls() {
    let clis = prereq::require!(terraform_clis());
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(stub_binary(), bin.join("terraform-provider-stub")).unwrap();
    let rc = dir.path().join("cli.tfrc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  dev_overrides {{ \"registry.terraform.io/local/stub\" = \"{}\" }}\n  direct {{}}\n}}\n",
            bin.display()
        ),
    )
    .unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(
        work.join("main.tf"),
        "terraform {\n  required_providers {\n    stub = { source = \"registry.terraform.io/local/stub\" }\n  }\n}\noutput \"hello\" { value = \"world\" }\n",
    )
    .unwrap();

    for cli in clis {
        let out = Command::new(&cli)
            .args(["plan", "-no-color", "-input=false"])
            .current_dir(&work)
            .env("TF_CLI_CONFIG_FILE", &rc)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_LOG", "debug")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("TF_LOG_PATH")
            .env_remove("TF_DISABLE_PLUGIN_TLS")
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let log = String::from_utf8_lossy(&out.stderr);
        let ctx = || format!("{}\n--- stdout\n{stdout}\n--- log\n{log}", cli.display());
        assert!(out.status.success(), "{}", ctx());
        assert!(stdout.contains("hello = \"world\""), "{}", ctx());
        // AutoMTLS was on and our server said it served TLS.
        assert!(
            log.contains("configuring client automatic mTLS"),
            "{}",
            ctx()
        );
        assert!(
            log.contains("plugin server listening") && log.contains("tls=true"),
            "{}",
            ctx()
        );
        // JSON lines parsed and re-logged at their own levels (a parse failure would log the raw
        // line at DEBUG instead).
        for (level, msg) in [
            ("[DEBUG]", "stub debug line"),
            ("[INFO] ", "stub info line"),
            ("[WARN] ", "stub warn line"),
        ] {
            let wanted = format!("{level} provider.terraform-provider-stub: {msg}:");
            assert!(log.contains(&wanted), "missing {wanted:?}\n{}", ctx());
        }
        // Event fields and span fields become key=value pairs (in Go's map order).
        let info = log.lines().find(|l| l.contains("stub info line")).unwrap();
        assert!(
            info.contains("answer=42") && info.contains("rpc=GetProviderSchema"),
            "{info}"
        );
        // Shutdown made the process exit; Terraform did not have to wait 2 s and kill it.
        assert!(
            log.contains("plugin.GRPCController/Shutdown received"),
            "{}",
            ctx()
        );
        assert!(log.contains("plugin process exited"), "{}", ctx());
        assert!(!log.contains("failed to exit gracefully"), "{}", ctx());
    }
}
