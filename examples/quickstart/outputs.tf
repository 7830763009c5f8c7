output "task_output" {
  description = "What the hello task wrote to output.txt."
  value       = chomp(data.batch_task_file.output.content)
}

output "task_exit_code" {
  value = batch_container_task.hello.exit_code
}

output "task_node" {
  description = "The compute node that ran the task."
  value       = batch_container_task.hello.node_id
}
