# Quickstart: one container pool, one job and a "hello world" container task whose output file is
# read back with the batch_task_file data source.
#
# By default it targets the local Batch service (`batch-emulator`, see scripts/quickstart.sh).
# For an Azure Batch account set batch_endpoint/batch_account/batch_key (or TF_VAR_*).

terraform {
  required_version = ">= 1.11"
  required_providers {
    batch = {
      source  = "local/batch"
      version = ">= 0.1.0"
    }
  }
}

provider "batch" {
  account_name     = var.batch_account
  account_endpoint = var.batch_endpoint
  account_key      = var.batch_key
}

resource "batch_container_pool" "quickstart" {
  name              = "quickstart"
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
    image_names = ["busybox"] # pulled onto the node before it takes tasks
  }

  fixed_scale {
    target_dedicated_nodes = 1
  }

  wait_for = "nodes_ready"
}

resource "batch_job" "quickstart" {
  name    = "quickstart"
  pool_id = batch_container_pool.quickstart.id
}

resource "batch_container_task" "hello" {
  job_id       = batch_job.quickstart.id
  name         = "hello"
  command_line = "/bin/sh -c \"echo 'hello world' > $AZ_BATCH_TASK_WORKING_DIR/output.txt\""

  container {
    image_name  = "busybox"
    run_options = "--rm --workdir /"
  }

  # `terraform apply` returns when the task has finished (and fails if the task fails).
  wait_for_completion = true
}

# The file the task wrote into its working directory ($AZ_BATCH_TASK_WORKING_DIR = <task dir>/wd).
data "batch_task_file" "output" {
  job_id  = batch_container_task.hello.job_id
  task_id = batch_container_task.hello.name
  path    = "wd/output.txt"
}
