import {
  to = batch_container_task_collection.sweep
  id = "sweep"
}
