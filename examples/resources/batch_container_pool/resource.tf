# A pool of two Ubuntu nodes that run Docker-compatible containers, with the images tasks need
# pulled onto every node when it starts.
resource "batch_container_pool" "example" {
  name              = "containers"
  display_name      = "Container pool"
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
    image_names = ["ubuntu:22.04", "busybox"]
  }

  fixed_scale {
    target_dedicated_nodes    = 2
    target_low_priority_nodes = 0
    resize_timeout            = "PT15M"
  }

  start_task {
    command_line     = "/bin/sh -c 'echo node ready'"
    wait_for_success = true
    environment      = { STAGE = "prod" }
    container {
      image_name        = "ubuntu:22.04"
      run_options       = "--rm"
      working_directory = "taskWorkingDirectory"
    }
  }

  task_slots_per_node    = 1
  task_scheduling_policy = "spread"
  metadata               = { team = "render" }

  # Apply returns once every node is idle with its start task done.
  wait_for = "nodes_ready"

  timeouts {
    create = "30m"
  }
}
