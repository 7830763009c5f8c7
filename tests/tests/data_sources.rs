//! `batch_supported_images` and `batch_task_file` end to end: filters, every image attribute,
//! and the task file's content plus its errors (missing file with hints, unknown task, binary
//! content, size limit).

mod batch_api;

use batch_api::{api, pool, start};
use e2e::{Runtime, Workdir, for_each_terraform};
use serde_json::{Value, json};

#[test]
fn supported_images_and_task_files() {
    for_each_terraform(|tf| {
        let emu = start(Runtime::Process);
        let wd = Workdir::new(tf);
        let (pool_hcl, pool_ref) = pool(&emu, &wd, 2);

        // What the service lists, to compare with.
        let (st, all) = api(&emu, "GET", "/supportedimages", None);
        assert_eq!(st, 200, "{all}");
        let all = all["value"].as_array().unwrap().clone();
        let docker_count = all
            .iter()
            .filter(|i| {
                i["osType"] == "linux"
                    && i["capabilities"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|c| c == "DockerCompatible"))
            })
            .count();
        assert!(
            docker_count > 0 && docker_count < all.len(),
            "the service must list both kinds"
        );

        let base = format!(
            r#"{}{pool_hcl}
data "batch_supported_images" "all" {{}}
data "batch_supported_images" "docker" {{
  docker_compatible_only = true
  os_type                = "linux"
}}
data "batch_supported_images" "windows" {{
  os_type = "windows"
}}
output "all" {{ value = data.batch_supported_images.all.images }}
output "docker" {{ value = data.batch_supported_images.docker.images }}
output "windows" {{ value = data.batch_supported_images.windows.images }}

resource "batch_job" "job" {{
  name    = "files"
  pool_id = {pool_ref}
}}
resource "batch_container_task" "writer" {{
  job_id       = batch_job.job.id
  name         = "writer"
  command_line = "/bin/sh -c 'printf hello-file > $AZ_BATCH_TASK_WORKING_DIR/small.txt; printf \"\\377\\376\\375\" > $AZ_BATCH_TASK_WORKING_DIR/binary.bin; echo to-stdout'"
  container {{
    image_name = "busybox"
  }}
  wait_for_completion = true
}}
data "batch_task_file" "stdout" {{
  job_id  = batch_job.job.id
  task_id = batch_container_task.writer.name
  path    = "stdout.txt"
}}
output "stdout" {{ value = data.batch_task_file.stdout.content }}
output "stdout_size" {{ value = data.batch_task_file.stdout.size }}
"#,
            emu.provider_hcl()
        );
        wd.write_main(&base);
        wd.apply();

        let images = wd.output("all");
        let images = images.as_array().unwrap();
        assert_eq!(images.len(), all.len());
        let ubuntu = images
            .iter()
            .find(|i| i["offer"] == "ubuntu-hpc")
            .expect("ubuntu-hpc image");
        assert_eq!(ubuntu["node_agent_sku_id"], "batch.node.ubuntu 22.04");
        assert_eq!(ubuntu["publisher"], "microsoft-dsvm");
        assert_eq!(ubuntu["sku"], "2204");
        assert_eq!(ubuntu["version"], "latest");
        assert_eq!(ubuntu["os_type"], "linux");
        assert_eq!(ubuntu["verification_type"], "verified");
        assert_eq!(ubuntu["docker_compatible"], true);
        assert!(
            ubuntu["capabilities"]
                .as_array()
                .unwrap()
                .contains(&json!("DockerCompatible"))
        );
        assert!(
            ubuntu
                .as_object()
                .unwrap()
                .contains_key("batch_support_end_of_life")
        );
        let docker = wd.output("docker");
        let docker = docker.as_array().unwrap();
        assert_eq!(docker.len(), docker_count);
        assert!(
            docker
                .iter()
                .all(|i| i["docker_compatible"] == true && i["os_type"] == "linux")
        );
        let windows = wd.output("windows");
        assert!(
            windows
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["os_type"] == "windows"),
            "{windows}"
        );
        // The container guide's Windows Server images are there (with containers).
        assert!(
            windows
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["docker_compatible"] == true),
            "{windows}"
        );

        assert_eq!(wd.output("stdout"), json!("to-stdout\n"));
        assert_eq!(wd.output("stdout_size"), json!(10));
        wd.assert_plan_empty();

        // Errors: each names the attribute and says what to do.
        let cases: &[(&str, &str, &[&str])] = &[
            (
                r#"task_id = batch_container_task.writer.name
  path = "wd/small.txt"
  max_size = 4"#,
                "larger than max_size",
                &["10 bytes", "max_size (4)"],
            ),
            (
                r#"task_id = batch_container_task.writer.name
  path = "nothing.txt""#,
                "not found",
                &[
                    "\"nothing.txt\"",
                    "\"writer\"",
                    "wd/nothing.txt",
                    "may not have run yet",
                ],
            ),
            (
                r#"task_id = batch_container_task.writer.name
  path = "wd/binary.bin""#,
                "not UTF-8",
                &["binary", "wd/binary.bin"],
            ),
            (
                r#"task_id = "no-such-task"
  path = "stdout.txt""#,
                "not found",
                &["no-such-task"],
            ),
        ];
        for (args, summary, details) in cases {
            wd.write_main(&format!(
                "{base}\ndata \"batch_task_file\" \"bad\" {{\n  job_id = batch_job.job.id\n  {args}\n}}\n"
            ));
            let out = wd.plan_ui_json().assert_failure();
            let errors = out.errors();
            let e = errors
                .iter()
                .find(|d| d.summary.contains(summary))
                .unwrap_or_else(|| panic!("no error {summary:?}:\n{}", out.describe()));
            for d in *details {
                assert!(
                    e.detail.contains(d) || e.summary.contains(d),
                    "{d:?} missing in {}",
                    e.text()
                );
            }
            assert_eq!(
                e.address.as_deref(),
                Some("data.batch_task_file.bad"),
                "{}",
                e.text()
            );
        }
        // The small file reads fine within its limit.
        wd.write_main(&format!(
            "{base}\ndata \"batch_task_file\" \"small\" {{\n  job_id = batch_job.job.id\n  task_id = batch_container_task.writer.name\n  path = \"wd/small.txt\"\n  max_size = 10\n}}\noutput \"small\" {{ value = data.batch_task_file.small.content }}\n"
        ));
        wd.apply();
        assert_eq!(wd.output("small"), Value::String("hello-file".into()));
        wd.destroy();
    });
}
