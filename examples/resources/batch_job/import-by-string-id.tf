import {
  to = batch_job.example
  id = "render"
}
