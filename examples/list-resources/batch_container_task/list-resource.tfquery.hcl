# Terraform 1.14 or later: `terraform query -generate-config-out=adopted.tf`
list "batch_container_task" "failed" {
  provider = batch
  config {
    job_id      = "render"
    state       = "completed"
    failed_only = true
  }
}
