variable "name" {
  description = "Name of the pool and of the job (Batch ids: letters, digits, '-' and '_')."
  type        = string
}

variable "vm_size" {
  description = "VM size of the pool's nodes."
  type        = string
  default     = "STANDARD_D2S_V3"
}

variable "node_count" {
  description = "Number of dedicated nodes."
  type        = number
  default     = 1
}

variable "images" {
  description = "Container images pulled onto every node before it takes tasks."
  type        = list(string)
  default     = ["busybox"]
}

variable "tasks" {
  description = <<-EOT
    Tasks to run, keyed by task name. `depends_on` lists names of other tasks in this map that
    must succeed first; `image` defaults to the first of `images`.
  EOT
  type = map(object({
    command_line = string
    image        = optional(string)
    run_options  = optional(string, "--rm")
    environment  = optional(map(string), {})
    depends_on   = optional(list(string), [])
  }))
}

variable "wait_for_completion" {
  description = "Whether apply waits for every task to finish (and fails when one fails)."
  type        = bool
  default     = true
}
