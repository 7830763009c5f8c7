//! Every configuration under examples/ is formatted and passes `terraform validate` with the
//! provider's real schema, on every Terraform version under test (DONE.md: docs examples validate).

use std::path::{Path, PathBuf};

use e2e::{Workdir, copy_tree, dev_overrides_config, for_each_terraform, repo_root};

/// Directories under `root` that hold at least one `.tf` file.
fn config_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut has_tf = false;
        for entry in std::fs::read_dir(&dir).expect("read examples dir") {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && name != ".terraform" {
                stack.push(path);
            } else if name.ends_with(".tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir);
        }
    }
    out.sort();
    out
}

/// A private copy of examples/ (so `init` never writes into the repository).
fn examples_copy() -> tempfile::TempDir {
    let tmp = tempfile::Builder::new()
        .prefix("e2e-examples-")
        .tempdir()
        .expect("temp dir");
    copy_tree(&repo_root().join("examples"), tmp.path()).expect("copy examples");
    tmp
}

#[test]
fn examples_are_formatted() {
    if !repo_root().join("examples").is_dir() {
        e2e::note("SKIPPED examples_are_formatted: no examples/ directory");
        return;
    }
    for_each_terraform(|tf| {
        let copy = examples_copy();
        let wd = Workdir::in_dir(tf, copy.path(), &dev_overrides_config(None));
        let out = wd.run(&["fmt", "-check", "-recursive", "-diff", "-no-color"]);
        assert!(
            out.success(),
            "examples/ is not `terraform fmt`-formatted ({}); run `terraform fmt -recursive examples`:\n{}",
            tf.label(),
            out.stdout
        );
    });
}

#[test]
fn examples_validate() {
    if !repo_root().join("examples").is_dir() {
        e2e::note("SKIPPED examples_validate: no examples/ directory");
        return;
    }
    // Installed by `init` from a filesystem mirror, as users install it: some examples pin a
    // version, which Terraform 1.11 cannot resolve under dev_overrides.
    let cli = e2e::mirror_config(true);
    for_each_terraform(|tf| {
        let copy = examples_copy();
        let mut failures = Vec::new();
        for dir in config_dirs(copy.path()) {
            let rel = dir.strip_prefix(copy.path()).unwrap().display().to_string();
            // Action blocks are Terraform 1.14+ syntax (the pages say so).
            if rel.starts_with("actions") && !tf.at_least(1, 14) {
                continue;
            }
            let wd = Workdir::in_dir(tf, &dir, &cli);
            // Local modules and providers must be installed before validate.
            let init = wd.run(&["init", "-backend=false", "-input=false", "-no-color"]);
            if !init.success() {
                failures.push(format!("examples/{rel}: init failed:\n{}", init.stderr));
                continue;
            }
            let v = wd.validate_json();
            if !v.valid || v.error_count > 0 {
                let errs: Vec<String> = v
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let at = d
                            .range
                            .as_ref()
                            .map(|r| format!(" ({}:{})", r.filename, r.start.line))
                            .unwrap_or_default();
                        format!("  {}{at}", d.text())
                    })
                    .collect();
                failures.push(format!("examples/{rel}:\n{}", errs.join("\n")));
            }
        }
        assert!(
            failures.is_empty(),
            "{}: examples that do not validate:\n{}",
            tf.label(),
            failures.join("\n")
        );
    });
}
