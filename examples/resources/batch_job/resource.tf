resource "batch_container_pool" "example" {
  name              = "containers"
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
    image_names = ["ubuntu:22.04"]
  }

  fixed_scale {
    target_dedicated_nodes = 2
  }
}

# A job on the pool: tasks are added with batch_container_task.
resource "batch_job" "example" {
  name                   = "render"
  pool_id                = batch_container_pool.example.id
  priority               = 100
  max_parallel_tasks     = 4
  uses_task_dependencies = true
  on_all_tasks_complete  = "noaction"
  metadata               = { team = "render" }

  constraints {
    max_wall_clock_time  = "PT2H"
    max_task_retry_count = 1
  }

  # Runs on each node before the job's first task there, and when the job ends.
  preparation_task {
    command_line = "/bin/sh -c 'mkdir -p $AZ_BATCH_NODE_SHARED_DIR/cache'"
    container {
      image_name = "ubuntu:22.04"
    }
  }
  release_task {
    command_line = "/bin/sh -c 'rm -rf $AZ_BATCH_NODE_SHARED_DIR/cache'"
    container {
      image_name = "ubuntu:22.04"
    }
  }
}
