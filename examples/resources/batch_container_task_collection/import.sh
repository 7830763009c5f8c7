# A collection is imported by its job id: every task of the job is adopted (wait_for_completion
# reads as false, its default).
terraform import batch_container_task_collection.sweep sweep
