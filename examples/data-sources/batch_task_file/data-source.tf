# Reads a file a task wrote: stdout.txt and stderr.txt sit in the task directory, the files a
# task writes to $AZ_BATCH_TASK_WORKING_DIR under wd/.
data "batch_task_file" "stdout" {
  job_id  = "hello"
  task_id = "hello"
  path    = "stdout.txt"
}

output "task_stdout" {
  value = data.batch_task_file.stdout.content
}
