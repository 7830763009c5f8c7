//! Actions (Terraform 1.14+): operations run by `terraform apply -invoke=action.<type>.<name>` or
//! by a resource's `lifecycle { action_trigger { … } }`, not resources.

pub mod container_run;
pub mod job_terminate;

use tfplugin::schema::Block;

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
