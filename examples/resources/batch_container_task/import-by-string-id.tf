import {
  to = batch_container_task.hello
  id = "hello/hello"
}
