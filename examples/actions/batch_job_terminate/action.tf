# Terraform 1.14 or later: terraform apply -invoke=action.batch_job_terminate.stop
action "batch_job_terminate" "stop" {
  config {
    job_id = "render"
    reason = "cancelled by operator"
  }
}
