//! Data sources, one file each with the schema beside the logic.

pub mod pool;
pub mod supported_images;
pub mod task_file;
