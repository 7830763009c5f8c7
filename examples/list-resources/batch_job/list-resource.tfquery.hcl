# Terraform 1.14 or later: `terraform query -generate-config-out=adopted.tf`
list "batch_job" "render" {
  provider = batch
  config {
    pool_id = "containers"
    state   = "active"
  }
}
