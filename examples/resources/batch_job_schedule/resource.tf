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

variable "reports_container_sas_url" {
  description = "SAS URL (with write access) of the blob container the reports go to."
  type        = string
  sensitive   = true
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
    pool_id            = batch_container_pool.example.id
    priority           = 100
    max_parallel_tasks = 4
    metadata           = { run = "nightly" } # on each job

    manager_task {
      name                   = "report"
      command_line           = "/bin/sh -c 'python report.py > report.txt'"
      kill_job_on_completion = true
      container {
        image_name = "myregistry.azurecr.io/report:3"
      }
      output_file {
        file_pattern  = "report.txt"
        container_url = var.reports_container_sas_url
        path          = "nightly/report.txt"
      }
      constraints {
        max_wall_clock_time  = "PT1H"
        max_task_retry_count = 1
      }
    }

    # Runs on each node before the job's first task there; the release task cleans up.
    preparation_task {
      command_line = "/bin/sh -c 'mkdir -p $AZ_BATCH_NODE_SHARED_DIR/report-cache'"
      container {
        image_name = "myregistry.azurecr.io/report:3"
      }
    }
    release_task {
      command_line = "/bin/sh -c 'rm -rf $AZ_BATCH_NODE_SHARED_DIR/report-cache'"
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
