terraform {
  required_providers {
    batch = {
      source = "local/batch"
    }
  }
}

# An Azure Batch account. With no account_key, the provider signs in with Microsoft Entra ID
# (here the Azure CLI's account; see the authentication guide for the other ways).
provider "batch" {
  account_name     = "mybatch"
  account_endpoint = "https://mybatch.westeurope.batch.azure.com"
  use_cli          = true
}

# The local Batch service (`batch-emulator`) with its well-known development account and key.
provider "batch" {
  alias            = "local"
  account_name     = "devbatch"
  account_endpoint = "http://127.0.0.1:10100"
  account_key      = var.local_batch_key
}

variable "local_batch_key" {
  description = "Account key of the local Batch service (its public development key by default)."
  type        = string
  sensitive   = true
  default     = "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww=="
}
