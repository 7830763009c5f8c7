import {
  to = batch_container_pool.example
  id = "containers"
}
