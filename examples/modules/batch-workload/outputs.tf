output "pool_id" {
  description = "Id of the pool."
  value       = batch_container_pool.this.id
}

output "job_id" {
  description = "Id of the job."
  value       = batch_job.this.id
}

output "task_ids" {
  description = "Resource ids (\"<job>/<task>\") of the tasks, by task name."
  value       = { for k, t in batch_container_task.this : k => t.id }
}

output "task_states" {
  description = "Batch state of each task (active, preparing, running or completed)."
  value       = { for k, t in batch_container_task.this : k => t.state }
}

output "task_exit_codes" {
  description = "Exit code of each finished task (null while it runs)."
  value       = { for k, t in batch_container_task.this : k => t.exit_code }
}

output "task_results" {
  description = "Result of each finished task: success or failure."
  value       = { for k, t in batch_container_task.this : k => t.result }
}
