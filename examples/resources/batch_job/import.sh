# A job is imported by its name (the job id in Batch).
terraform import batch_job.example render
