# Connection settings of the Batch account the tests run against: the local Batch service by
# default. Override with TF_VAR_batch_endpoint (and _account/_key) or -var.
variable "batch_endpoint" {
  type    = string
  default = "http://127.0.0.1:10100"
}

variable "batch_account" {
  type    = string
  default = "devbatch"
}

variable "batch_key" {
  type      = string
  sensitive = true
  default   = "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww=="
}

output "endpoint" {
  value = var.batch_endpoint
}

output "account" {
  value = var.batch_account
}

output "key" {
  value     = var.batch_key
  sensitive = true
}
