# A task is imported by "<job id>/<task id>".
terraform import batch_container_task.hello hello/hello
