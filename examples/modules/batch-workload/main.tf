# A container pool, a job on it and a set of container tasks (optionally depending on each other).

locals {
  uses_dependencies = anytrue([for t in values(var.tasks) : length(t.depends_on) > 0])
}

resource "batch_container_pool" "this" {
  name              = var.name
  vm_size           = var.vm_size
  node_agent_sku_id = "batch.node.ubuntu 22.04"

  image {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }

  container {
    type        = "dockerCompatible"
    image_names = var.images
  }

  fixed_scale {
    target_dedicated_nodes = var.node_count
  }

  wait_for = "nodes_ready"
}

resource "batch_job" "this" {
  name                   = var.name
  pool_id                = batch_container_pool.this.id
  uses_task_dependencies = local.uses_dependencies
}

resource "batch_container_task" "this" {
  for_each = var.tasks

  job_id       = batch_job.this.id
  name         = each.key
  command_line = each.value.command_line
  environment  = each.value.environment

  container {
    image_name  = coalesce(each.value.image, var.images[0])
    run_options = each.value.run_options
  }

  dynamic "dependencies" {
    for_each = length(each.value.depends_on) > 0 ? [each.value.depends_on] : []
    content {
      task_ids = dependencies.value
    }
  }

  wait_for_completion = var.wait_for_completion
}
