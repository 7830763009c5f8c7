//! What a new user trips over, checked as they would meet it: the errors for empty required
//! arguments say what a valid value looks like (not "remove the argument", which is an error for a
//! required one). Runs on every Terraform version under test.

use e2e::{Workdir, for_each_terraform};

/// Empty required arguments in a pool and a task (independent of the pool: Terraform skips
/// validating what depends on a resource that failed validation).
const EMPTY_ARGUMENTS: &str = r#"
resource "batch_container_pool" "p" {
  name              = "p"
  vm_size           = ""
  node_agent_sku_id = "batch.node.ubuntu 22.04"
  image {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
  }
  container {
    type = "dockerCompatible"
  }
  fixed_scale {
    target_dedicated_nodes = 0
  }
}

resource "batch_container_task" "t" {
  job_id       = "j"
  name         = "t"
  command_line = "/bin/true"
  container {
    image_name = ""
  }
}
"#;

#[test]
fn an_empty_required_argument_is_told_what_a_valid_value_looks_like() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write_main(&format!(
            "{}{EMPTY_ARGUMENTS}",
            e2e::required_providers_hcl()
        ));
        let v = wd.validate_json();
        let errors = v.errors();
        let find = |summary: &str| {
            errors
                .iter()
                .find(|d| d.summary == summary)
                .unwrap_or_else(|| panic!("no {summary:?} among {errors:#?}"))
        };
        let vm_size = find("Empty value in vm_size");
        assert_eq!(
            vm_size.detail,
            "vm_size is required and must not be empty: give it a value like \"STANDARD_D2S_V3\"."
        );
        assert_eq!(vm_size.highlight(), Some("\"\""));
        let image = find("Empty value in container.image_name");
        assert_eq!(
            image.detail,
            "container.image_name is required and must not be empty: give it a value like \"ubuntu:22.04\"."
        );
        assert_eq!(errors.len(), 2, "{errors:#?}");
    });
}
