# A GPU pool for TensorFlow: NC-series nodes from an image with NVIDIA drivers and a
# Docker-compatible runtime, the TensorFlow GPU image pulled onto each node in advance, and a task
# that checks the GPU is visible inside the container.
#
# Needs a Batch account with quota for the GPU VM size (the local Batch service accepts any size
# but has no GPU: with its process runtime this task fails because nvidia-smi is missing).

terraform {
  required_version = ">= 1.11"
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
  description = "Shared Key of the account; null to use Microsoft Entra ID."
  type        = string
  sensitive   = true
  nullable    = true
  default     = "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww=="
}

variable "gpu_vm_size" {
  description = "A GPU VM size, e.g. STANDARD_NC6S_V3 (V100) or STANDARD_NC4AS_T4_V3 (T4)."
  type        = string
  default     = "STANDARD_NC6S_V3"
}

locals {
  tensorflow_image = "tensorflow/tensorflow:latest-gpu"
}

# Images with the "NvidiaTeslaDriverInstalled" capability come with the GPU drivers.
data "batch_supported_images" "docker" {
  docker_compatible_only = true
}

resource "batch_container_pool" "gpu" {
  name              = "tensorflow-gpu"
  vm_size           = var.gpu_vm_size
  node_agent_sku_id = "batch.node.ubuntu 22.04"

  image {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }

  container {
    type        = "dockerCompatible"
    image_names = [local.tensorflow_image] # large: pulled once per node, before tasks run
  }

  fixed_scale {
    target_dedicated_nodes = 1
    resize_timeout         = "PT20M"
  }

  wait_for = "nodes_ready"

  timeouts {
    create = "45m"
  }
}

resource "batch_job" "gpu" {
  name    = "tensorflow-gpu"
  pool_id = batch_container_pool.gpu.id
}

resource "batch_container_task" "gpu_check" {
  job_id = batch_job.gpu.id
  name   = "gpu-check"
  # Batch starts containers on GPU nodes with the NVIDIA runtime, so the GPUs are visible inside.
  command_line = "/bin/bash -c 'nvidia-smi && python -c \"import tensorflow as tf; print(tf.config.list_physical_devices())\"'"

  container {
    image_name  = local.tensorflow_image
    run_options = "--rm"
  }

  constraints {
    max_wall_clock_time = "PT30M"
  }

  wait_for_completion = true
}

data "batch_task_file" "stdout" {
  job_id  = batch_container_task.gpu_check.job_id
  task_id = batch_container_task.gpu_check.name
  path    = "stdout.txt"
}

output "gpu_images" {
  description = "Supported images that come with NVIDIA drivers."
  value = [
    for i in data.batch_supported_images.docker.images : "${i.publisher}:${i.offer}:${i.sku}"
    if contains(i.capabilities, "NvidiaTeslaDriverInstalled")
  ]
}

output "gpu_check_stdout" {
  value = data.batch_task_file.stdout.content
}
