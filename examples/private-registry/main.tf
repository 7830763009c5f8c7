# Container images from a private registry. The registry password is a write-only argument fed
# from an ephemeral variable: Terraform sends it to Batch but never writes it to the plan or the
# state. Bump password_wo_version to send a new password: it never replaces the pool (Batch
# takes registry changes only on an empty pool, so on a pool with nodes the change waits, and the
# plan says so, until an apply finds the pool empty).
#
#   TF_VAR_registry_password=... terraform apply

terraform {
  required_version = ">= 1.11" # write-only arguments and ephemeral variables
  required_providers {
    batch = {
      source = "local/batch"
    }
  }
}

provider "batch" {
  account_name     = var.batch_account
  account_endpoint = var.batch_endpoint
  account_key      = var.batch_key
}

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
  nullable  = true
  default   = "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww=="
}

variable "registry_server" {
  type    = string
  default = "myregistry.azurecr.io"
}

variable "registry_username" {
  type    = string
  default = "puller"
}

variable "registry_password" {
  description = "Password or token of the registry user. Never stored in state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "registry_password_version" {
  description = "Increase to send a changed registry_password to Batch."
  type        = number
  default     = 1
}

locals {
  image = "${var.registry_server}/tools/worker:1.0"
}

resource "batch_container_pool" "private" {
  name              = "private-images"
  vm_size           = "STANDARD_D2S_V3"
  node_agent_sku_id = "batch.node.ubuntu 22.04"

  image {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }

  container {
    type        = "dockerCompatible"
    image_names = [local.image]

    registry {
      server              = var.registry_server
      username            = var.registry_username
      password_wo         = var.registry_password
      password_wo_version = var.registry_password_version
    }
  }

  fixed_scale {
    target_dedicated_nodes = 1
  }
}

resource "batch_job" "private" {
  name    = "private-images"
  pool_id = batch_container_pool.private.id
}

# Tasks pull with the pool's registry credentials; a task can also carry its own registry block.
resource "batch_container_task" "work" {
  job_id       = batch_job.private.id
  name         = "work"
  command_line = "" # run the image's ENTRYPOINT

  container {
    image_name  = local.image
    run_options = "--rm"
  }

  wait_for_completion = true # the apply fails if the image cannot be pulled or the task fails
}
