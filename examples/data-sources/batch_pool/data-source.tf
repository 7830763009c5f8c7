# Reads a pool managed elsewhere, e.g. to submit jobs to a shared pool.
data "batch_pool" "shared" {
  name = "containers"
}

output "shared_pool_nodes" {
  value = data.batch_pool.shared.current_dedicated_nodes
}
