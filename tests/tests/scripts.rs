//! The user-facing scripts, run the way users run them:
//! - scripts/release.sh packs the provider (zip, SHA256SUMS, manifest, filesystem mirror) and
//!   `terraform init` installs it from that mirror;
//! - scripts/check-examples.sh applies examples/quickstart (its task must print "hello world") and
//!   examples/job-with-preparation against a local Batch service, with the provider installed by
//!   `terraform init` from a mirror, and checks the re-plan changes nothing.
//!
//! (fmt/validate of every example: tests/tests/examples.rs; the module's `terraform test`:
//! tests/tests/module_test.rs.)

use std::path::Path;
use std::process::{Command, Output};

use e2e::{emulator_binary, for_each_terraform, provider_binary, repo_root};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn script(name: &str) -> Command {
    let mut cmd = Command::new(repo_root().join("scripts").join(name));
    cmd.current_dir(repo_root())
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_CLI_CONFIG_FILE")
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_LOG")
        .env_remove("RUST_BACKTRACE");
    cmd
}

fn describe(out: &Output) -> String {
    format!(
        "exit status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The single entry of a zip archive: (name, Unix mode, size), read with Python's zipfile.
fn zip_entries(zip: &Path) -> Vec<(String, u32, u64)> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             for i in zipfile.ZipFile(sys.argv[1]).infolist():\n    \
             print(i.filename, (i.external_attr >> 16) & 0o777, i.file_size)",
        ])
        .arg(zip)
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn release_archives_and_mirror_install_with_terraform_init() {
    let binary = provider_binary();
    let size = std::fs::metadata(&binary).expect("provider binary").len();
    for_each_terraform(|tf| {
        let dist = tempfile::Builder::new()
            .prefix("e2e-dist-")
            .tempdir()
            .expect("temp dir");
        let out = script("release.sh")
            .arg("--binary")
            .arg(&binary)
            .arg("--dist")
            .arg(dist.path())
            .env("TERRAFORM", &tf.path)
            .output()
            .expect("run scripts/release.sh");
        assert!(
            out.status.success(),
            "release.sh failed ({}):\n{}",
            tf.label(),
            describe(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The script's own check ran terraform init from the mirror and loaded the schema.
        assert!(
            stdout.contains(&format!("terraform init installed local/batch v{VERSION}")),
            "{}",
            describe(&out)
        );

        let d = dist.path();
        let platform = e2e_platform();
        let zip = d.join(format!("terraform-provider-batch_{VERSION}_{platform}.zip"));
        assert_eq!(
            zip_entries(&zip),
            vec![(format!("terraform-provider-batch_v{VERSION}"), 0o755, size)],
            "zip content"
        );
        let manifest = std::fs::read_to_string(
            d.join(format!("terraform-provider-batch_{VERSION}_manifest.json")),
        )
        .expect("manifest");
        let m: serde_json::Value = serde_json::from_str(&manifest).expect("manifest JSON");
        assert_eq!(
            m,
            serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
        );
        // SHA256SUMS lists the zip and the manifest, and the hashes are right.
        let sums_name = format!("terraform-provider-batch_{VERSION}_SHA256SUMS");
        let sums = std::fs::read_to_string(d.join(&sums_name)).expect("SHA256SUMS");
        let files: Vec<&str> = sums
            .lines()
            .map(|l| l.split_once("  ").expect("<hash>  <file>").1)
            .collect();
        assert_eq!(
            files,
            vec![
                format!("terraform-provider-batch_{VERSION}_{platform}.zip"),
                format!("terraform-provider-batch_{VERSION}_manifest.json"),
            ]
        );
        let check = Command::new("sha256sum")
            .args(["--check", "--strict", &sums_name])
            .current_dir(d)
            .output()
            .expect("run sha256sum");
        assert!(check.status.success(), "{}", describe(&check));
        // The unpacked mirror holds the binary under Terraform's naming rules.
        let mirrored = d.join(format!(
            "mirror/registry.terraform.io/local/batch/{VERSION}/{platform}/terraform-provider-batch_v{VERSION}"
        ));
        assert_eq!(
            std::fs::metadata(&mirrored).expect("mirrored binary").len(),
            size
        );
    });
}

fn e2e_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

#[test]
fn quickstart_and_pipeline_examples_apply_against_the_local_service() {
    let provider = provider_binary();
    let emulator = emulator_binary();
    for_each_terraform(|tf| {
        let out = script("check-examples.sh")
            .args(["--live-only", "--no-module-test"])
            .env("TERRAFORM", &tf.path)
            .env("PROVIDER_BIN", &provider)
            .env("EMULATOR_BIN", &emulator)
            .output()
            .expect("run scripts/check-examples.sh");
        assert!(
            out.status.success(),
            "check-examples.sh failed ({}):\n{}",
            tf.label(),
            describe(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        for expected in [
            "examples/quickstart: task_output = hello world",
            "examples/quickstart: applied, no changes on re-plan, destroyed",
            "examples/job-with-preparation: applied, no changes on re-plan, destroyed",
        ] {
            assert!(
                stdout.contains(expected),
                "missing {expected:?}:\n{}",
                describe(&out)
            );
        }
    });
}
