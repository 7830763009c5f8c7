//! `terraform test` of examples/modules/batch-workload (its own .tftest.hcl assertions) against a
//! local Batch service: the module applies, its tasks run to completion, everything is destroyed.

use e2e::{Emulator, Runtime, Workdir, copy_tree, for_each_terraform};

fn run_module_tests(runtime: Runtime) {
    let module = e2e::repo_root().join("examples/modules/batch-workload");
    if !module.join("tests").is_dir() {
        e2e::note("SKIPPED module terraform test: examples/modules/batch-workload/tests missing");
        return;
    }
    // `init` installs the provider from a filesystem mirror (the module pins a version, which
    // Terraform 1.11 cannot resolve under dev_overrides).
    let cli = e2e::mirror_config(true);
    for_each_terraform(|tf| {
        let emu = Emulator::start(runtime);
        let copy = tempfile::Builder::new()
            .prefix("e2e-module-")
            .tempdir()
            .expect("temp dir");
        copy_tree(&module, copy.path()).expect("copy module");
        let mut wd = Workdir::in_dir(tf, copy.path(), &cli);
        wd.set_env("TF_VAR_batch_endpoint", &emu.endpoint())
            .set_env("TF_VAR_batch_account", emu.account())
            .set_env("TF_VAR_batch_key", emu.key());
        wd.run_ok(&["init", "-backend=false", "-input=false", "-no-color"]);
        let out = wd.run(&["test", "-no-color"]);
        assert!(
            out.success(),
            "terraform test of the module failed ({}, runtime {:?}):\n{}",
            tf.label(),
            runtime,
            out.describe()
        );
        assert!(out.stdout.contains("Success!"), "{}", out.describe());
        assert!(out.stdout.contains("0 failed"), "{}", out.describe());
    });
}

#[test]
fn module_tests_pass_with_the_process_runtime() {
    run_module_tests(Runtime::Process);
}

#[test]
fn module_tests_pass_with_the_docker_runtime() {
    e2e::require_docker!();
    run_module_tests(Runtime::Docker);
}
