# A collection is imported by its job id: every task of the job is adopted.
terraform import batch_container_task_collection.sweep sweep
