//! Container images from a real private registry (tests/src/registry.rs: the distribution
//! registry with TLS and htpasswd), pulled by the local Batch service's docker runtime with the
//! credentials Batch received from Terraform: the pool's `registry` for the prefetch, the task's
//! `container.registry` for a task, and examples/private-registry run for real. Passwords are
//! write-only (`password_wo`) and must appear nowhere: Terraform's output, TF_LOG=trace, the state,
//! saved plans. Every scenario runs on every Terraform version under test.

mod batch_api;

use std::path::Path;

use batch_api::{get, pool_resource_hcl, start};
use e2e::{
    BUSYBOX_IMAGE, DEV_KEY, HELLO_ENTRYPOINT_IMAGE, HELLO_ENTRYPOINT_LINE, Registry, Runtime,
    Traced, Workdir, copy_tree, for_each_terraform, random_hex, repo_root,
};

/// The local name of the busybox image of scripts/setup-podman.sh, pushed into the registry.
const LOCAL_BUSYBOX: &str = "localhost/busybox:latest";

const VARIABLES: &str = r#"
variable "registry_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "password_version" {
  type = number
}
"#;

/// The registry block of `reg` with the write-only password of [`VARIABLES`].
fn registry_hcl(reg: &Registry) -> String {
    format!(
        r#"registry {{
      server              = "{}"
      username            = "{}"
      password_wo         = var.registry_password
      password_wo_version = var.password_version
    }}"#,
        reg.server(),
        reg.username()
    )
}

fn pool_hcl(reg: &Registry, image: &str) -> String {
    let container = format!("image_names = [\"{image}\"]\n    {}", registry_hcl(reg));
    format!(
        "{VARIABLES}\nvariable \"nodes\" {{\n  type = number\n}}\n{}",
        pool_resource_hcl("private", &container, "var.nodes", "")
    )
}

/// A registry holding a busybox image under a fresh name, a local Batch service on the docker
/// runtime, a wrong password and a traced working directory.
struct Scenario {
    tf: e2e::Terraform,
    reg: Registry,
    image: String,
    emu: e2e::Emulator,
    wrong: String,
    t: Traced,
}

impl Scenario {
    fn new(tf: &e2e::Terraform, repo: &str) -> Scenario {
        let reg = Registry::start();
        let image = reg.push(LOCAL_BUSYBOX, &format!("{repo}:{}", random_hex(4)));
        assert!(!engine_has_image(&image), "{image} must need a pull");
        Scenario {
            tf: tf.clone(),
            reg,
            image,
            emu: start(Runtime::Docker),
            wrong: format!("wrong-{}", random_hex(12)),
            t: Traced::new(Workdir::new(tf)),
        }
    }

    /// Saves a plan, checks that neither password is anywhere, and destroys.
    fn finish(mut self) {
        self.t.saved_plan();
        self.t.assert_no_leaks(
            &self.tf.label(),
            &[
                ("right password", self.reg.password()),
                ("wrong password", &self.wrong),
            ],
        );
        self.t.destroy();
    }
}

/// The states of the pool's nodes and their error codes, as the service reports them.
fn nodes(emu: &e2e::Emulator, pool: &str) -> Vec<(String, Vec<String>)> {
    let list = get(emu, &format!("/pools/{pool}/nodes"));
    list["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            let codes = n["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["code"].as_str().unwrap_or("").to_string())
                .collect();
            (n["state"].as_str().unwrap_or("").to_string(), codes)
        })
        .collect()
}

/// True when the container engine has the image (by exactly this name).
fn engine_has_image(image: &str) -> bool {
    let (status, _) =
        e2e::docker_api("GET", &format!("/v1.41/images/{image}/json")).expect("Docker Engine API");
    status == 200
}

#[test]
fn pool_prefetch_pulls_with_the_write_only_password() {
    e2e::require_registry!();
    for_each_terraform(|tf| {
        let mut s = Scenario::new(tf, "private/prefetch");
        let Scenario {
            ref reg,
            ref image,
            ref emu,
            ref wrong,
            ref mut t,
            ..
        } = s;
        t.wd.write_main(&format!("{}{}", emu.provider_hcl(), pool_hcl(reg, image)));

        // An empty pool accepts any password: nothing is pulled yet.
        t.var("registry_password", wrong)
            .var("password_version", "1")
            .var("nodes", "0");
        t.apply("create with the wrong password");

        // A node pulls with the wrong password: unusable, and the apply says why.
        t.var("nodes", "1");
        let out = t
            .try_apply("scale up with the wrong password")
            .assert_failure();
        let err = out.stderr.replace('\n', " ");
        for want in ["unusable", "ContainerImagePullFailed", image.as_str()] {
            assert!(
                err.contains(want),
                "{}: no {want:?} in:\n{}",
                tf.label(),
                out.stderr
            );
        }
        assert!(
            err.to_lowercase().contains("unauthorized")
                || err.to_lowercase().contains("authentication"),
            "{}: the registry's refusal is not in the error:\n{}",
            tf.label(),
            out.stderr
        );
        assert_eq!(
            nodes(emu, "private"),
            vec![(
                "unusable".to_string(),
                vec!["ContainerImagePullFailed".to_string()]
            )]
        );
        assert!(!engine_has_image(image));

        // The right password with a new version is sent once the pool is empty (Batch changes
        // container registries only on an empty pool), and the refilled pool's node pulls.
        t.var("registry_password", reg.password())
            .var("password_version", "2")
            .var("nodes", "0");
        t.apply("empty the pool and send the new password");
        assert!(nodes(emu, "private").is_empty());
        t.var("nodes", "1");
        t.apply("refill the pool");
        assert_eq!(
            nodes(emu, "private"),
            vec![("idle".to_string(), vec![])],
            "{}",
            tf.label()
        );
        assert!(
            engine_has_image(image),
            "{}: {image} was not pulled",
            tf.label()
        );
        assert!(t.wd.plan_is_empty(true), "{}: plan not empty", tf.label());

        // A saved plan that sends another password: still nowhere in the plan file.
        s.t.var("password_version", "3");
        s.finish();
    });
}

#[test]
fn task_pulls_with_its_own_registry_credentials() {
    e2e::require_registry!();
    for_each_terraform(|tf| {
        let mut s = Scenario::new(tf, "private/task");
        let Scenario {
            ref reg,
            ref image,
            ref emu,
            ref wrong,
            ref mut t,
            ..
        } = s;
        // The pool knows nothing of the registry: only the task's credentials can pull the image.
        let pool = pool_resource_hcl(
            "public",
            &format!("image_names = [\"{BUSYBOX_IMAGE}\"]"),
            "1",
            "",
        );
        t.wd.write_main(&format!(
            r#"{provider}{VARIABLES}{pool}
resource "batch_job" "job" {{
  name    = "private-task"
  pool_id = batch_container_pool.pool.id
}}

resource "batch_container_task" "private" {{
  job_id       = batch_job.job.id
  name         = "private"
  command_line = "/bin/sh -c 'echo from the private image'"
  container {{
    image_name  = "{image}"
    run_options = "--rm"
    {registry}
  }}
  wait_for_completion = true
}}
"#,
            provider = emu.provider_hcl(),
            registry = registry_hcl(reg),
        ));

        t.var("registry_password", wrong)
            .var("password_version", "1");
        let out = t.try_apply("task with the wrong password").assert_failure();
        let err = out.stderr.replace('\n', " ");
        assert!(
            err.contains("ContainerImagePullFailed") && err.contains(image.as_str()),
            "{}: the pull failure is not in the error:\n{}",
            tf.label(),
            out.stderr
        );
        assert!(!engine_has_image(image));

        // The failed task is replaced; the new one pulls with the right password and runs.
        t.var("registry_password", reg.password())
            .var("password_version", "2");
        t.apply("task with the right password");
        let task = get(emu, "/jobs/private-task/tasks/private");
        assert_eq!(task["state"], "completed", "{task}");
        assert_eq!(task["executionInfo"]["exitCode"], 0, "{task}");
        assert_eq!(task["executionInfo"]["result"], "success", "{task}");
        assert!(engine_has_image(image));
        assert!(t.wd.plan_is_empty(true), "{}: plan not empty", tf.label());

        s.finish();
    });
}

/// examples/private-registry against the local service and a real registry holding its image.
#[test]
fn private_registry_example_runs() {
    e2e::require_registry!();
    for_each_terraform(|tf| {
        let reg = Registry::start();
        // The example runs the image's ENTRYPOINT (empty command line).
        reg.push(HELLO_ENTRYPOINT_IMAGE, "tools/worker:1.0");
        let emu = start(Runtime::Docker);
        let copy = tempfile::Builder::new()
            .prefix("e2e-example-registry-")
            .tempdir()
            .expect("temp dir");
        let src = repo_root().join("examples/private-registry");
        copy_tree(&src, copy.path()).expect("copy the example");
        let wd = Workdir::in_dir(tf, copy.path(), &e2e::mirror_config(true));
        wd.init();
        let mut t = Traced::new(wd);
        t.var("batch_endpoint", &emu.endpoint())
            .var("batch_key", DEV_KEY)
            .var("registry_server", &reg.server())
            .var("registry_username", reg.username())
            .var("registry_password", reg.password());
        t.apply("apply the example");
        let task = get(&emu, "/jobs/private-images/tasks/work");
        assert_eq!(task["executionInfo"]["exitCode"], 0, "{task}");
        let stdout = task_stdout(&emu, "private-images", "work");
        assert!(stdout.contains(HELLO_ENTRYPOINT_LINE), "{stdout}");
        t.saved_plan();
        t.assert_no_leaks(&tf.label(), &[("registry password", reg.password())]);
        t.destroy();
        assert!(Path::new(copy.path()).exists());
    });
}

/// A task's stdout.txt through the Batch API (File_GetFromTask).
fn task_stdout(emu: &e2e::Emulator, job: &str, task: &str) -> String {
    let opts = e2e::batch_client::RequestOptions::new();
    let file = e2e::block_on(async {
        emu.client()
            .get_task_file(job, task, "stdout.txt", None, &opts)
            .await
    })
    .expect("File_GetFromTask")
    .expect("the task has a stdout.txt");
    String::from_utf8_lossy(&file.data).into_owned()
}
