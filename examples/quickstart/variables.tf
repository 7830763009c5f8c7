variable "batch_endpoint" {
  description = "Batch account endpoint. Default: the local Batch service."
  type        = string
  default     = "http://127.0.0.1:10100"
}

variable "batch_account" {
  description = "Batch account name. Default: the local Batch service's development account."
  type        = string
  default     = "devbatch"
}

variable "batch_key" {
  description = "Batch account key (Shared Key). Default: the local Batch service's public development key. Set to null to use Microsoft Entra ID."
  type        = string
  sensitive   = true
  nullable    = true
  default     = "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww=="
}
