# terraform test: applies the module against a Batch account (the local Batch service unless
# TF_VAR_batch_endpoint says otherwise) and checks what the tasks did. Everything is destroyed
# at the end.

run "setup" {
  module {
    source = "./tests/setup"
  }
}

provider "batch" {
  account_name     = run.setup.account
  account_endpoint = run.setup.endpoint
  account_key      = run.setup.key
}

variables {
  name = "tftest-workload"
  tasks = {
    prepare = {
      command_line = "/bin/sh -c 'echo preparing'"
    }
    compute = {
      command_line = "/bin/sh -c 'test \"$MODE\" = fast && echo computed'"
      environment  = { MODE = "fast" }
      depends_on   = ["prepare"]
    }
  }
}

run "tasks_run_to_completion" {
  command = apply

  assert {
    condition     = output.pool_id == "tftest-workload" && output.job_id == "tftest-workload"
    error_message = "pool and job are named after var.name"
  }

  assert {
    condition     = output.task_ids == { prepare = "tftest-workload/prepare", compute = "tftest-workload/compute" }
    error_message = "task ids are <job>/<task>, got ${jsonencode(output.task_ids)}"
  }

  assert {
    condition     = alltrue([for s in values(output.task_states) : s == "completed"])
    error_message = "every task has completed, got ${jsonencode(output.task_states)}"
  }

  assert {
    condition     = output.task_exit_codes == { prepare = 0, compute = 0 }
    error_message = "every task exits 0, got ${jsonencode(output.task_exit_codes)}"
  }

  assert {
    condition     = output.task_results == { prepare = "success", compute = "success" }
    error_message = "every task succeeds, got ${jsonencode(output.task_results)}"
  }
}
