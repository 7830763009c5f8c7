# A job schedule is imported by its name (the job schedule id in Batch).
terraform import batch_job_schedule.nightly nightly-report
