# Terraform 1.14 or later: `terraform query -generate-config-out=adopted.tf`
list "batch_container_pool" "render" {
  provider = batch
  config {
    name_prefix = "render-"
  }
}
