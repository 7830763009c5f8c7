//! Managed resources, one file each with the schema beside the logic.

pub mod container_pool;
pub mod container_task;
pub mod container_task_collection;
pub mod job;
pub mod job_schedule;
