resource "batch_container_pool" "example" {
  name              = "sweep"
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
    target_dedicated_nodes = 4
  }
  task_slots_per_node = 8
}

resource "batch_job" "example" {
  name    = "sweep"
  pool_id = batch_container_pool.example.id
}

locals {
  learning_rates = [0.001, 0.01, 0.1]
  batch_sizes    = [32, 64, 128, 256]
}

# A parameter sweep: one task per combination, added in bulk and watched with one listing per poll.
# Changing one combination re-runs only that task; failed tasks run again on the next apply.
resource "batch_container_task_collection" "sweep" {
  job_id = batch_job.example.id
  tasks = {
    for pair in setproduct(local.learning_rates, local.batch_sizes) :
    "lr${replace(tostring(pair[0]), ".", "_")}-bs${pair[1]}" => {
      command_line = "/bin/sh -c \"echo training with lr=$LR batch=$BATCH\""
      container    = { image_name = "busybox", run_options = "--rm" }
      environment  = { LR = tostring(pair[0]), BATCH = tostring(pair[1]) }
      constraints  = { max_wall_clock_time = "PT1H", max_task_retry_count = 1 }
    }
  }
  wait_for_completion = true

  timeouts {
    create = "2h"
    update = "2h"
  }
}

output "sweep_results" {
  value = { for name, r in batch_container_task_collection.sweep.results : name => r.result }
}
