//! Issue 2's acceptance, with real Terraform: the provider loads over the plugin protocol, its
//! schema carries the whole documented surface with descriptions, bad configuration is rejected at
//! validate/plan time naming the attribute, unknown values plan cleanly, logging follows TF_LOG,
//! and provider processes exit promptly on Shutdown.

use e2e::{Workdir, for_each_terraform, required_providers_hcl};
use serde_json::Value;

/// A provider block pointing at a loopback port nothing listens on: none of these tests reaches
/// the Batch service (validate and plan of creates make no Batch calls).
fn offline_provider() -> String {
    format!(
        "{}\nprovider \"batch\" {{\n  account_name     = \"devbatch\"\n  account_endpoint = \"http://127.0.0.1:9\"\n  account_key      = \"{}\"\n}}\n",
        required_providers_hcl(),
        e2e::DEV_KEY
    )
}

/// Every attribute and block name SURFACE.md shows, per schema (nested ones as `block.attr`).
const SURFACE: &[(&str, &str, &[&str])] = &[
    (
        "provider",
        "",
        &["account_name", "account_endpoint", "account_key"],
    ),
    (
        "resource",
        "batch_container_pool",
        &[
            "name",
            "display_name",
            "vm_size",
            "node_agent_sku_id",
            "virtual_machine_image_id",
            "image.publisher",
            "image.offer",
            "image.sku",
            "image.version",
            "container.type",
            "container.image_names",
            "container.registry.server",
            "container.registry.username",
            "container.registry.password_wo",
            "container.registry.password_wo_version",
            "container.registry.password",
            "container.registry.identity_reference",
            "fixed_scale.target_dedicated_nodes",
            "fixed_scale.target_low_priority_nodes",
            "fixed_scale.resize_timeout",
            "auto_scale.formula",
            "auto_scale.evaluation_interval",
            "start_task.command_line",
            "start_task.wait_for_success",
            "start_task.environment",
            "start_task.container.image_name",
            "start_task.container.run_options",
            "start_task.container.working_directory",
            "network_configuration.subnet_id",
            "task_slots_per_node",
            "task_scheduling_policy",
            "inter_node_communication",
            "metadata",
            "wait_for",
            "timeouts.create",
            "timeouts.update",
            "timeouts.delete",
            "id",
            "state",
            "allocation_state",
            "current_dedicated_nodes",
            "current_low_priority_nodes",
            "last_modified",
        ],
    ),
    (
        "resource",
        "batch_job",
        &[
            "name",
            "pool_id",
            "priority",
            "max_parallel_tasks",
            "uses_task_dependencies",
            "on_all_tasks_complete",
            "metadata",
            "constraints.max_wall_clock_time",
            "constraints.max_task_retry_count",
            "preparation_task.command_line",
            "preparation_task.container.image_name",
            "release_task.command_line",
            "release_task.container.image_name",
            "timeouts.create",
            "timeouts.delete",
            "id",
            "state",
        ],
    ),
    (
        "resource",
        "batch_container_task",
        &[
            "job_id",
            "name",
            "display_name",
            "command_line",
            "container.image_name",
            "container.run_options",
            "container.working_directory",
            "container.registry.server",
            "container.registry.username",
            "container.registry.password_wo",
            "container.registry.password_wo_version",
            "container.host_batch_bind_mount.source",
            "container.host_batch_bind_mount.is_read_only",
            "environment",
            "resource_file.http_url",
            "resource_file.file_path",
            "output_file.file_pattern",
            "output_file.container_url",
            "output_file.path",
            "output_file.upload_condition",
            "constraints.max_wall_clock_time",
            "constraints.retention_time",
            "constraints.max_task_retry_count",
            "required_slots",
            "dependencies.task_ids",
            "multi_instance.number_of_instances",
            "multi_instance.coordination_command_line",
            "wait_for_completion",
            "timeouts.create",
            "timeouts.delete",
            "id",
            "state",
            "exit_code",
            "result",
            "node_id",
            "start_time",
            "end_time",
            "retry_count",
        ],
    ),
    (
        "resource",
        "batch_container_task_collection",
        &[
            "job_id",
            "tasks",
            "wait_for_completion",
            "timeouts.create",
            "timeouts.update",
            "timeouts.delete",
            "id",
            "results",
        ],
    ),
    (
        "resource",
        "batch_job_schedule",
        &[
            "name",
            "display_name",
            "schedule.recurrence_interval",
            "schedule.do_not_run_until",
            "schedule.do_not_run_after",
            "schedule.start_window",
            "job.pool_id",
            "job.priority",
            "job.manager_task.name",
            "job.manager_task.command_line",
            "job.manager_task.container.image_name",
            "job.manager_task.kill_job_on_completion",
            "job.manager_task.environment",
            "job.environment",
            "job.on_all_tasks_complete",
            "job.constraints.max_wall_clock_time",
            "metadata",
            "id",
            "state",
            "next_run_time",
            "recent_job_id",
        ],
    ),
    (
        "data",
        "batch_supported_images",
        &["docker_compatible_only", "images"],
    ),
    ("data", "batch_pool", &["name"]),
    (
        "data",
        "batch_task_file",
        &["job_id", "task_id", "path", "content", "size"],
    ),
];

/// Finds `a.b.c` in a schema block (blocks by `block_types`, attributes by `attributes`).
fn find<'a>(block: &'a Value, path: &str) -> Option<&'a Value> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    match rest {
        None => block["attributes"]
            .get(head)
            .or_else(|| block["block_types"].get(head)),
        Some(rest) => find(&block["block_types"][head]["block"], rest),
    }
}

/// Every attribute and block below `block` without a description, as paths.
fn undescribed(block: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(attrs) = block["attributes"].as_object() {
        for (name, a) in attrs {
            if a["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                out.push(format!("{prefix}{name}"));
            }
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, b) in blocks {
            if b["block"]["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                out.push(format!("{prefix}{name} (block)"));
            }
            undescribed(&b["block"], &format!("{prefix}{name}."), out);
        }
    }
}

#[test]
fn schema_has_the_whole_surface_described() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write_main(&offline_provider());
        let schema = wd.providers_schema_json();
        let ours = &schema["provider_schemas"][e2e::PROVIDER_SOURCE];
        assert!(ours.is_object(), "provider missing from schema: {schema}");
        assert_eq!(
            ours["resource_schemas"].as_object().map(|m| m.len()),
            Some(5),
            "five resources"
        );
        assert_eq!(
            ours["data_source_schemas"].as_object().map(|m| m.len()),
            Some(3),
            "three data sources"
        );

        let mut missing = Vec::new();
        let mut no_description = Vec::new();
        for (kind, name, paths) in SURFACE {
            let block = match *kind {
                "provider" => &ours["provider"]["block"],
                "resource" => &ours["resource_schemas"][*name]["block"],
                _ => &ours["data_source_schemas"][*name]["block"],
            };
            assert!(block.is_object(), "{kind} {name} missing");
            if block["description"].as_str().is_none_or(|d| d.len() < 20) {
                no_description.push(format!("{kind} {name} (top-level description)"));
            }
            for p in *paths {
                if find(block, p).is_none() {
                    missing.push(format!("{kind} {name}: {p}"));
                }
            }
            let mut u = Vec::new();
            undescribed(block, "", &mut u);
            no_description.extend(u.into_iter().map(|p| format!("{kind} {name}: {p}")));
        }
        assert!(
            missing.is_empty(),
            "{}: not in the schema: {missing:#?}",
            tf.label()
        );
        assert!(
            no_description.is_empty(),
            "{}: without description: {no_description:#?}",
            tf.label()
        );

        let provider = &ours["provider"]["block"];
        assert_eq!(provider["attributes"]["account_key"]["sensitive"], true);
        let pool = &ours["resource_schemas"]["batch_container_pool"]["block"];
        let registry = find(pool, "container.registry").expect("registry block");
        assert_eq!(
            registry["block"]["attributes"]["password"]["sensitive"],
            true
        );
        let task_registry = find(
            &ours["resource_schemas"]["batch_container_task"]["block"],
            "container.registry",
        )
        .unwrap();
        if tf.at_least(1, 15) {
            // The JSON schema output shows write_only from Terraform 1.15's schema format on.
            assert_eq!(
                registry["block"]["attributes"]["password_wo"]["write_only"], true,
                "{registry}"
            );
            assert_eq!(
                task_registry["block"]["attributes"]["password_wo"]["write_only"],
                true
            );
        }
    });
}

const NEITHER: &str = r#"
resource "batch_container_pool" "neither" {
  name              = "neither"
  vm_size           = "STANDARD_D2S_V3"
  node_agent_sku_id = "batch.node.ubuntu 22.04"
  container {
    type        = "dockerCompatible"
    image_names = ["busybox"]
  }
}
"#;

/// One configuration with each kind of bad input; validate must name every offending attribute.
const BAD: &str = r#"
resource "batch_container_pool" "both" {
  name                     = "bad name!"
  vm_size                  = "STANDARD_D2S_V3"
  node_agent_sku_id        = "batch.node.ubuntu 22.04"
  virtual_machine_image_id = "/subscriptions/x/images/y"
  image {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }
  container {
    type        = "dockerCompat"
    image_names = ["busybox"]
    registry {
      server      = "myregistry.azurecr.io"
      username    = "puller"
      password    = "one"
      password_wo = "two"
    }
  }
  fixed_scale {
    target_dedicated_nodes = 1
    resize_timeout         = "15m"
  }
  auto_scale {
    formula = "$TargetDedicatedNodes = 1;"
  }
  task_scheduling_policy = "spreadd"
  wait_for               = "forever"
}

resource "batch_container_task" "t" {
  job_id = "job"
  name   = "no/slashes"
  container {
    image_name        = "busybox"
    working_directory = "somewhere"
  }
  constraints {
    max_wall_clock_time = "1 hour"
  }
}

resource "batch_job" "j" {
  name    = "j"
  pool_id = "p"
  on_all_tasks_complete = "explode"
  timeouts {
    create = "5 minutes"
  }
}
"#;

#[test]
fn validate_names_each_bad_attribute() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        // Terraform stops at a bad provider block, so that one is checked on its own.
        // (A provider no resource uses is not even configured, hence the job.)
        wd.write_main(&format!(
            "{}\nresource \"batch_job\" \"j\" {{\n  name    = \"j\"\n  pool_id = \"p\"\n}}\n",
            offline_provider().replace("http://127.0.0.1:9", "http://batch.example.com")
        ));
        let v = wd.validate_json();
        assert!(
            v.errors().iter().any(|d| d
                .highlight()
                .is_some_and(|h| h.contains("batch.example.com"))
                && d.detail.contains("loopback")),
            "{}: non-loopback http endpoint accepted: {:#?}",
            tf.label(),
            v.diagnostics
        );
        wd.write_main(&format!("{}\n{BAD}", offline_provider()));
        let v = wd.validate_json();
        assert!(!v.valid, "{:#?}", v.diagnostics);
        let errors: Vec<String> = v
            .errors()
            .iter()
            .map(|d| {
                format!(
                    "{} | {} | {}",
                    d.highlight().unwrap_or(""),
                    d.summary,
                    d.detail
                )
            })
            .collect();
        // (what must be named, a word of the fix or the bad value that must appear)
        let expected: &[(&str, &str)] = &[
            ("name", "bad name!"),
            ("virtual_machine_image_id", "image"),
            ("container.type", "dockerCompatible"),
            ("password_wo", "password"),
            ("resize_timeout", "PT15M"),
            ("auto_scale", "fixed_scale"),
            ("task_scheduling_policy", "spread"),
            ("wait_for", "steady"),
            ("working_directory", "taskWorkingDirectory"),
            ("max_wall_clock_time", "PT"),
            ("no/slashes", "letter"),
            ("on_all_tasks_complete", "terminatejob"),
            ("timeouts.create", "30m"),
        ];
        let mut unmatched = Vec::new();
        for (name, hint) in expected {
            let leaf = name.rsplit('.').next().unwrap();
            if !errors.iter().any(|e| e.contains(leaf) && e.contains(hint)) {
                unmatched.push(format!("{name} (with {hint:?})"));
            }
        }
        assert!(
            unmatched.is_empty(),
            "{}: not reported: {unmatched:#?}\nerrors: {errors:#?}",
            tf.label()
        );

        // A pool with neither an image nor a scale block.
        let wd = Workdir::new(tf);
        wd.write_main(&format!("{}\n{NEITHER}", offline_provider()));
        let v = wd.validate_json();
        let errors: Vec<String> = v
            .errors()
            .iter()
            .map(|d| format!("{} | {}", d.summary, d.detail))
            .collect();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("image") && e.contains("virtual_machine_image_id")),
            "{}: no error for a pool without image: {errors:#?}",
            tf.label()
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("fixed_scale") && e.contains("auto_scale")),
            "{}: no error for a pool without scale: {errors:#?}",
            tf.label()
        );
    });
}

#[test]
fn unknown_values_plan_without_false_errors() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write_main(&format!(
            r#"{}
resource "terraform_data" "names" {{
  input = {{ pool = "p1", image = "busybox", nodes = 2, timeout = "PT10M", policy = "pack" }}
}}
locals {{ n = terraform_data.names.output }}

resource "batch_container_pool" "p" {{
  name                   = local.n.pool
  vm_size                = "STANDARD_D2S_V3"
  node_agent_sku_id      = "batch.node.ubuntu 22.04"
  virtual_machine_image_id = local.n.image
  task_scheduling_policy = local.n.policy
  container {{
    type        = "dockerCompatible"
    image_names = [local.n.image]
  }}
  fixed_scale {{
    target_dedicated_nodes = local.n.nodes
    resize_timeout         = local.n.timeout
  }}
}}

resource "batch_job" "j" {{
  name    = "${{local.n.pool}}-job"
  pool_id = batch_container_pool.p.id
}}

resource "batch_container_task" "t" {{
  job_id = batch_job.j.id
  name   = local.n.pool
  container {{ image_name = local.n.image }}
  constraints {{ max_wall_clock_time = local.n.timeout }}
}}
"#,
            offline_provider()
        ));
        let plan = wd.plan_json();
        let actions: Vec<String> = plan["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["address"].as_str().unwrap(),
                    c["change"]["actions"]
                )
            })
            .collect();
        assert_eq!(actions.len(), 4, "{actions:?}");
        assert!(
            actions.iter().all(|a| a.ends_with("[\"create\"]")),
            "{actions:?}"
        );
    });
}

#[test]
fn logging_follows_tf_log_and_shutdown_is_prompt() {
    for_each_terraform(|tf| {
        let mut wd = Workdir::new(tf);
        wd.write_main(&format!(
            "{}\nresource \"batch_job\" \"j\" {{\n  name    = \"j\"\n  pool_id = \"p\"\n}}\n",
            offline_provider()
        ));
        let quiet = wd.run(&["plan", "-no-color"]).assert_success();
        assert!(
            !quiet.combined().contains("@level")
                && !quiet
                    .combined()
                    .contains("provider.terraform-provider-batch"),
            "provider log lines leaked without TF_LOG:\n{}",
            quiet.describe()
        );

        wd.set_env("TF_LOG", "trace");
        let out = wd.run(&["plan", "-no-color"]).assert_success();
        let log = out.stderr;
        let ours: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("provider.terraform-provider-batch:"))
            .collect();
        assert!(
            ours.iter().any(|l| l.contains("[DEBUG]")),
            "{}: no provider DEBUG lines at TF_LOG=trace",
            tf.label()
        );
        assert!(
            !ours.iter().any(|l| l.contains("@level")),
            "{}: a provider line was not parsed as hclog JSON: {ours:#?}",
            tf.label()
        );
        // Terraform waits 2 s and then kills a provider that does not exit after Shutdown.
        assert!(
            log.contains("plugin exited"),
            "{}: provider never exited",
            tf.label()
        );
        assert!(
            !log.contains("plugin failed to exit gracefully"),
            "{}: provider had to be killed",
            tf.label()
        );

        wd.set_env("TF_LOG", "warn");
        let warn = wd.run(&["plan", "-no-color"]).assert_success();
        assert!(
            !warn
                .stderr
                .lines()
                .any(|l| l.contains("provider.terraform-provider-batch:")
                    && (l.contains("[DEBUG]") || l.contains("[INFO]"))),
            "{}: debug/info provider lines at TF_LOG=warn",
            tf.label()
        );
    });
}
