# A job whose nodes are prepared before its first task and cleaned up when it ends, and tasks
# that run in order: "process" starts only after "download" succeeded, "report" after both
# "process" shards.

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

resource "batch_container_pool" "work" {
  name              = "pipeline"
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

  fixed_scale {
    target_dedicated_nodes = 1
  }

  wait_for = "nodes_ready"
}

resource "batch_job" "pipeline" {
  name                   = "pipeline"
  pool_id                = batch_container_pool.work.id
  uses_task_dependencies = true # required for the dependencies blocks below

  # Runs once on each node before the job's first task there.
  preparation_task {
    command_line = "/bin/sh -c 'mkdir -p $AZ_BATCH_NODE_SHARED_DIR/pipeline && echo prepared > $AZ_BATCH_NODE_SHARED_DIR/pipeline/ready'"
    container {
      image_name = "busybox"
    }
  }

  # Runs on each node that ran a task of the job when the job ends (e.g. on destroy).
  release_task {
    command_line = "/bin/sh -c 'rm -rf $AZ_BATCH_NODE_SHARED_DIR/pipeline'"
    container {
      image_name = "busybox"
    }
  }
}

resource "batch_container_task" "download" {
  job_id       = batch_job.pipeline.id
  name         = "download"
  command_line = "/bin/sh -c 'echo 1 2 3 4 > $AZ_BATCH_NODE_SHARED_DIR/pipeline/input.txt'"
  container {
    image_name = "busybox"
  }
}

resource "batch_container_task" "process" {
  count        = 2
  job_id       = batch_job.pipeline.id
  name         = "process-${count.index}"
  command_line = "/bin/sh -c 'wc -w $AZ_BATCH_NODE_SHARED_DIR/pipeline/input.txt'"
  container {
    image_name = "busybox"
  }
  dependencies {
    task_ids = [batch_container_task.download.name]
  }
}

resource "batch_container_task" "report" {
  job_id       = batch_job.pipeline.id
  name         = "report"
  command_line = "/bin/sh -c 'echo all shards done'"
  container {
    image_name = "busybox"
  }
  dependencies {
    task_ids = batch_container_task.process[*].name
  }
  wait_for_completion = true # apply returns when the whole chain has run
}

# The last task waited for the whole chain; the other tasks' states are as of their creation
# (`terraform refresh` updates them).
output "report" {
  value = {
    state     = batch_container_task.report.state
    exit_code = batch_container_task.report.exit_code
    result    = batch_container_task.report.result
  }
}
