//! Terraform CLI configuration files (`TF_CLI_CONFIG_FILE`) written for each working directory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::binaries::provider_binary;
use crate::paths::{target_dir, tools_dir};

/// Source address of our provider in test configurations. It is not published anywhere: tests
/// load it through `dev_overrides` (no `terraform init` needed) or from a filesystem mirror.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/local/batch";
/// The address Terraform implies for `batch_*` resources when a configuration has no
/// `required_providers` entry for `batch` (the test CLI configs serve the provider there too).
pub const IMPLIED_SOURCE: &str = "registry.terraform.io/hashicorp/batch";
/// The same address as written in `required_providers` (`source = "local/batch"`).
pub const PROVIDER_SOURCE_SHORT: &str = "local/batch";

/// `terraform { required_providers { batch = { source = "local/batch" } } }`.
///
/// Configurations that omit it also work under [`dev_overrides_config`], which overrides the
/// implied `hashicorp/batch` address too, but examples users copy should carry it.
pub fn required_providers_hcl() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    batch = {{\n      source = \"{PROVIDER_SOURCE_SHORT}\"\n    }}\n  }}\n}}\n"
    )
}

/// CLI config text that loads `terraform-provider-batch` from `provider_dir` without `init`.
/// Other providers (for `terraform init`, e.g. of configurations with local modules) come from
/// the `.tools/mirror` filesystem mirror when it exists, else from `direct` (offline: none).
pub fn dev_overrides_config(provider_dir: Option<&Path>) -> String {
    let mut s = String::from("provider_installation {\n");
    if let Some(dir) = provider_dir {
        let dir = hcl_str(&dir.to_string_lossy());
        s.push_str("  dev_overrides {\n");
        s.push_str(&format!("    \"{PROVIDER_SOURCE}\" = \"{dir}\"\n"));
        // Configurations without required_providers imply hashicorp/batch; serve it too.
        s.push_str(&format!("    \"{IMPLIED_SOURCE}\" = \"{dir}\"\n"));
        s.push_str("  }\n");
    }
    let mirror = tools_dir().join("mirror");
    if mirror.is_dir() {
        s.push_str(&format!(
            "  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            hcl_str(&mirror.to_string_lossy())
        ));
    } else {
        s.push_str("  direct {}\n}\n");
    }
    s
}

/// CLI config text for tests that run `terraform init`: providers come only from local
/// filesystem mirrors: `<repo>/.tools/mirror` (hashicorp/null from scripts/get-null-provider.sh)
/// and a mirror holding the freshly built provider as `local/batch` version [`provider_version`].
pub fn mirror_config(with_batch: bool) -> String {
    let mut s = String::from("provider_installation {\n");
    if with_batch {
        let mirror = batch_mirror();
        s.push_str(&format!(
            "  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\", \"{IMPLIED_SOURCE}\"]\n  }}\n",
            hcl_str(&mirror.to_string_lossy())
        ));
    }
    s.push_str(&format!(
        "  filesystem_mirror {{\n    path    = \"{}\"\n    exclude = [\"{PROVIDER_SOURCE}\", \"{IMPLIED_SOURCE}\"]\n  }}\n}}\n",
        hcl_str(&tools_dir().join("mirror").to_string_lossy())
    ));
    s
}

/// The version under which the provider is laid out in the test mirror (the workspace version).
pub fn provider_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Lays out the built provider as an unpacked filesystem mirror (once per process):
/// `<target>/e2e-mirror/registry.terraform.io/{local,hashicorp}/batch/<version>/linux_amd64/`.
fn batch_mirror() -> PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    CELL.get_or_init(|| {
        let root = target_dir().join("e2e-mirror");
        let version = provider_version();
        let name = format!("terraform-provider-batch_v{version}");
        let mut first: Option<PathBuf> = None;
        // local/batch, and hashicorp/batch for configurations without required_providers.
        for source in [PROVIDER_SOURCE, IMPLIED_SOURCE] {
            let dir = root.join(source).join(version).join(platform());
            std::fs::create_dir_all(&dir).expect("create mirror dir");
            let dest = dir.join(&name);
            // Write a unique name, then rename: concurrent test processes never see a partial
            // file. The second address gets a hard link to the first copy.
            let tmp = dir.join(format!(".tmp-{}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            match &first {
                None => {
                    std::fs::copy(provider_binary(), &tmp).expect("copy provider into mirror");
                }
                Some(f) => {
                    if std::fs::hard_link(f, &tmp).is_err() {
                        std::fs::copy(f, &tmp).expect("copy provider into mirror");
                    }
                }
            }
            std::fs::rename(&tmp, &dest).expect("rename provider into mirror");
            first.get_or_insert(dest);
        }
        root
    })
    .clone()
}

/// Terraform's platform name for this machine (`linux_amd64`, `linux_arm64`, ...).
pub fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

fn hcl_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
