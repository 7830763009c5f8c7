//! Actions (Terraform 1.14+): operations run by `terraform apply -invoke=action.<type>.<name>` or
//! by a resource's `lifecycle { action_trigger { … } }`, not resources.

pub mod container_run;
pub mod job_terminate;

use serde::de::DeserializeOwned;
use tfplugin::model::from_value;
use tfplugin::schema::Block;
use tfplugin::{Diagnostics, Value};

/// An action's configuration as its model (None, with an error, if it does not fit: a bug).
pub fn read_config<T: DeserializeOwned>(config: &Value, diags: &mut Diagnostics) -> Option<T> {
    match from_value(config) {
        Ok(c) => Some(c),
        Err(e) => {
            diags.error(
                "Provider bug: the action configuration does not fit its model",
                format!("{e}. Please report this issue."),
            );
            None
        }
    }
}

/// An action's configuration is never stored, so the resource blocks it reuses need no
/// write-only attributes (Terraform allows those on managed resources only): they become
/// ordinary sensitive ones.
pub fn without_write_only(mut b: Block) -> Block {
    for a in &mut b.attributes {
        if a.write_only {
            a.write_only = false;
            a.sensitive = true;
        }
        if let Some(n) = &mut a.nested {
            n.block = without_write_only(std::mem::take(&mut n.block));
        }
    }
    for nb in &mut b.blocks {
        nb.block = without_write_only(std::mem::take(&mut nb.block));
    }
    b
}
