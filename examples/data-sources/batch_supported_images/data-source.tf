# Marketplace images the Batch account supports for container pools.
data "batch_supported_images" "containers" {
  docker_compatible_only = true
}

locals {
  # The newest Ubuntu image that runs Docker-compatible containers.
  ubuntu = [
    for i in data.batch_supported_images.containers.images : i
    if startswith(i.node_agent_sku_id, "batch.node.ubuntu")
  ][0]
}

output "ubuntu_image" {
  value = "${local.ubuntu.publisher}:${local.ubuntu.offer}:${local.ubuntu.sku} (${local.ubuntu.node_agent_sku_id})"
}
