# Terraform 1.14 or later. Run it alone with
#   terraform apply -invoke=action.batch_container_run.migrate
# or from a resource's lifecycle { action_trigger { ... } }.
action "batch_container_run" "migrate" {
  config {
    job_id       = "app"
    command_line = "migrate up"
    container {
      image_name = "myregistry.azurecr.io/app:2.0"
    }
    timeout = "30m"
  }
}
