# A pool is imported by its name (the pool id in Batch).
terraform import batch_container_pool.example containers
