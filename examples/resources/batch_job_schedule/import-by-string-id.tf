import {
  to = batch_job_schedule.nightly
  id = "nightly-report"
}
