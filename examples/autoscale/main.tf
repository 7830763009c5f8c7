# An autoscaling container pool: Batch evaluates the formula every evaluation_interval and
# grows the pool with the queue of pending tasks, down to zero nodes when idle.
# Changing the formula or the interval updates the pool in place.

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
  type      = string
  sensitive = true
  nullable  = true
  default   = "LiTVyehCZlrfz4lJyV0JmYi9hiHOv3xV+G39YubGVdwr0ikYa/7ws5Q4WOYGpDltNPkG9dcHM6I8uEDpQuzLww=="
}

variable "max_nodes" {
  description = "Upper bound of the pool size."
  type        = number
  default     = 10
}

resource "batch_container_pool" "auto" {
  name              = "autoscale"
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
    image_names = ["busybox"]
  }

  auto_scale {
    evaluation_interval = "PT5M"
    formula             = <<-EOT
      maxNodes = ${var.max_nodes};
      samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);
      pending = samples < 70 ? max(0, $PendingTasks.GetSample(1)) : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));
      $TargetDedicatedNodes = min(maxNodes, pending);
      $NodeDeallocationOption = taskcompletion;
    EOT
  }

  task_slots_per_node = 2
}

output "pool_state" {
  value = {
    state            = batch_container_pool.auto.state
    allocation_state = batch_container_pool.auto.allocation_state
    dedicated_nodes  = batch_container_pool.auto.current_dedicated_nodes
  }
}
