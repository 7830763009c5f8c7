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
    image_names = ["myregistry.azurecr.io/report:3"]
  }

  fixed_scale {
    target_dedicated_nodes = 1
  }
}

# A nightly report: Batch makes the job nightly-report:job-<n> every day at 02:00 UTC; its
# manager task does the work in a container and completes the job when it ends.
resource "batch_job_schedule" "nightly" {
  name         = "nightly-report"
  display_name = "Nightly report"

  schedule {
    recurrence_interval = "P1D"
    do_not_run_until    = "2026-12-06T02:00:00Z"
    do_not_run_after    = "2027-12-31T00:00:00Z"
    start_window        = "PT1H"
  }

  job {
    pool_id  = batch_container_pool.example.id
    priority = 100

    manager_task {
      name                   = "report"
      command_line           = "python report.py"
      kill_job_on_completion = true
      container {
        image_name = "myregistry.azurecr.io/report:3"
      }
    }

    environment           = { STAGE = "prod" }
    on_all_tasks_complete = "terminatejob"

    constraints {
      max_wall_clock_time = "PT2H"
    }
  }

  metadata = { team = "bi" }
}
