//! The one wording for "the object exists in Batch but not in this state": Terraform's convention
//! is that such an object is imported, never adopted silently, so the error names the command.

/// The `terraform import` command for an object of `resource_type` with import id `import_id`.
/// Terraform does not tell providers the resource's address, so `ADDRESS` stands for the one it
/// prints with the error ("with batch_job.example"); the id is exact.
pub fn import_command(import_id: &str) -> String {
    format!("terraform import ADDRESS {import_id}")
}

/// The detail of an "already exists" create error. `what` is the object, e.g. `a job "render"`;
/// `resource_type` the resource type whose address `ADDRESS` stands for.
pub fn already_exists_detail(what: &str, resource_type: &str, import_id: &str) -> String {
    format!(
        "The Batch account already has {what} (ids are case-insensitive) that this Terraform state does not hold, \
         e.g. because an earlier apply was interrupted after creating it. Terraform never adopts it silently. \
         Bring it under Terraform and apply again:\n\n  {}\n\nwhere ADDRESS is this {resource_type}'s address shown \
         with this error (quote it if it has brackets, e.g. '{resource_type}.example[0]'). Or delete it, or choose another name.",
        import_command(import_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_names_the_exact_command_and_where_the_address_is() {
        let d = already_exists_detail(
            "a task \"t1\" in job \"render\"",
            "batch_container_task",
            "render/t1",
        );
        assert!(
            d.contains("\n  terraform import ADDRESS render/t1\n"),
            "{d}"
        );
        assert!(
            d.contains("batch_container_task's address shown with this error"),
            "{d}"
        );
        assert!(d.contains("never adopts it silently"), "{d}");
    }
}
