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
    image_names = ["busybox"]
  }

  fixed_scale {
    target_dedicated_nodes = 1
  }
}

resource "batch_job" "example" {
  name    = "hello"
  pool_id = batch_container_pool.example.id
}

# Runs once: a finished task is kept (and not re-run) until its configuration changes.
resource "batch_container_task" "hello" {
  job_id       = batch_job.example.id
  name         = "hello"
  display_name = "Hello"
  command_line = "/bin/sh -c \"echo 'hello world' > $AZ_BATCH_TASK_WORKING_DIR/output.txt\""

  container {
    image_name        = "busybox"
    run_options       = "--rm --workdir /"
    working_directory = "taskWorkingDirectory"
  }

  environment = { MODE = "fast" }

  constraints {
    max_wall_clock_time  = "PT1H"
    retention_time       = "P7D"
    max_task_retry_count = 2
  }

  # Apply waits for the task to finish; a failed task fails the apply with its exit code and
  # the tail of its stderr.
  wait_for_completion = true

  timeouts {
    create = "60m"
  }
}

output "hello_exit_code" {
  value = batch_container_task.hello.exit_code
}
