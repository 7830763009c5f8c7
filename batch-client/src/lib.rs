//! Azure Batch data-plane client. Knows Batch, not Terraform.
