//! Resource identity (Terraform 1.12 and later): every resource reports an identity that names
//! its Batch object, Terraform stores it, and `import { identity = { ... } }` adopts existing
//! objects with an empty first plan. Older Terraform ignores identity; the other suites run there.

use e2e::{Emulator, Runtime, Workdir, for_each_terraform, note};
use serde_json::{Value, json};

const CONFIG: &str = r#"
resource "batch_container_pool" "pool" {
  name              = "idpool"
  vm_size           = "STANDARD_D2S_V3"
  node_agent_sku_id = "batch.node.ubuntu 22.04"
  image {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }
  container {
    type        = "dockerCompatible"
    image_names = ["busybox"]
  }
  fixed_scale {
    target_dedicated_nodes = 1
  }
}

resource "batch_job" "job" {
  name    = "idjob"
  pool_id = batch_container_pool.pool.id
}

resource "batch_container_task" "task" {
  job_id       = batch_job.job.id
  name         = "idtask"
  command_line = "/bin/echo identity"
  container {
    image_name = "busybox"
  }
  wait_for_completion = true
}
"#;

const IMPORTS: &str = r#"
import {
  to       = batch_container_pool.pool
  identity = { name = "idpool" }
}
import {
  to       = batch_job.job
  identity = { name = "idjob" }
}
import {
  to       = batch_container_task.task
  identity = { job_id = "idjob", name = "idtask" }
}
"#;

fn identity_of(state: &Value, address: &str) -> Value {
    state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == address))
        .map(|r| r["identity"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn identity_is_reported_and_import_by_identity_plans_clean() {
    for_each_terraform(|tf| {
        if !tf.at_least(1, 12) {
            note(&format!(
                "{}: resource identity needs Terraform 1.12 or later; not tested here",
                tf.label()
            ));
            return;
        }
        let emu = Emulator::start(Runtime::Process);
        let wd = Workdir::new(tf);
        wd.write_main(&format!("{}\n{CONFIG}", emu.provider_hcl()));
        wd.apply();
        let state = wd.state_json();
        assert_eq!(
            identity_of(&state, "batch_container_pool.pool"),
            json!({"name": "idpool"}),
            "{state}"
        );
        assert_eq!(
            identity_of(&state, "batch_job.job"),
            json!({"name": "idjob"})
        );
        assert_eq!(
            identity_of(&state, "batch_container_task.task"),
            json!({"job_id": "idjob", "name": "idtask"})
        );
        wd.assert_plan_empty();

        // A second configuration adopts the same objects by identity alone. (wait_for_completion
        // only steers `apply`; Batch has no such property, so an import cannot know it.)
        let adopt = Workdir::new(tf);
        let config = CONFIG.replace("wait_for_completion = true", "");
        adopt.write_main(&format!("{}\n{config}\n{IMPORTS}", emu.provider_hcl()));
        let plan = adopt.plan_json();
        for change in plan["resource_changes"]
            .as_array()
            .expect("resource_changes")
        {
            assert_eq!(
                change["change"]["actions"],
                json!(["no-op"]),
                "{}: {change}",
                tf.label()
            );
            assert!(
                change["change"]["importing"].is_object(),
                "{}: not an import: {change}",
                tf.label()
            );
        }
        assert_eq!(plan["resource_changes"].as_array().unwrap().len(), 3);
        adopt.apply();
        let adopted = adopt.state_json();
        assert_eq!(
            identity_of(&adopted, "batch_container_task.task"),
            json!({"job_id": "idjob", "name": "idtask"})
        );
        adopt.assert_plan_empty();

        // An identity naming nothing fails clearly instead of adopting something else.
        let missing = Workdir::new(tf);
        missing.write_main(&format!(
            "{}\n{CONFIG}\nimport {{\n  to       = batch_job.job\n  identity = {{ name = \"nosuchjob\" }}\n}}\n",
            emu.provider_hcl()
        ));
        let out = missing.run(&["plan", "-no-color"]).assert_failure();
        assert!(out.combined().contains("nosuchjob"), "{}", out.describe());

        wd.destroy();
    });
}
