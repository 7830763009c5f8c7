# Batch has no wait_for_completion or timeouts: an import stores their defaults (false, none), so
# a configuration that sets them plans one in-place update of those Terraform-only settings, which
# makes no Batch call. `terraform query -generate-config-out` leaves them out (Terraform 1.14+).
import {
  to = batch_container_task.hello
  id = "hello/hello"
}
