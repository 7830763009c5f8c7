terraform {
  required_version = ">= 1.11"
  required_providers {
    batch = {
      source  = "local/batch"
      version = ">= 0.1.0"
    }
  }
}
