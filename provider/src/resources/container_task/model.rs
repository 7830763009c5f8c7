//! The typed model of `batch_container_task`: one struct per block, field names = attribute
//! names. The common task parts come from `common::task_spec`.

use serde::{Deserialize, Serialize};
use tfplugin::model::Tf;

use crate::common::Timeouts;
use crate::common::task_spec::task_args::TaskArgs;
pub use crate::common::task_spec::task_parts::*;
use crate::common::task_spec::{
    Environment, ResourceFileModel, TaskConstraintsModel, TaskContainerModel, UserIdentityModel,
};

/// The whole resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskModel {
    pub id: Tf<String>,
    pub job_id: String,
    pub name: String,
    pub display_name: Option<String>,
    /// Defaults to "" in plan; null only in a freshly imported state.
    pub command_line: Option<String>,
    pub environment: Environment,
    pub required_slots: Option<i64>,
    pub wait_for_completion: Option<bool>,
    // The run, computed.
    pub state: Tf<String>,
    pub exit_code: Tf<i64>,
    pub result: Tf<String>,
    pub node_id: Tf<String>,
    pub start_time: Tf<String>,
    pub end_time: Tf<String>,
    pub retry_count: Tf<i64>,
    // Blocks.
    pub container: Option<TaskContainerModel>,
    #[serde(default)]
    pub resource_file: Vec<ResourceFileModel>,
    #[serde(default)]
    pub output_file: Vec<OutputFileModel>,
    pub constraints: Option<TaskConstraintsModel>,
    pub user_identity: Option<UserIdentityModel>,
    pub dependencies: Option<DependenciesModel>,
    pub multi_instance: Option<MultiInstanceModel>,
    pub exit_conditions: Option<ExitConditionsModel>,
    pub timeouts: Option<Timeouts>,
}

/// The computed attributes that describe the task's run (also a patch of the plan).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunModel {
    pub state: Tf<String>,
    pub exit_code: Tf<i64>,
    pub result: Tf<String>,
    pub node_id: Tf<String>,
    pub start_time: Tf<String>,
    pub end_time: Tf<String>,
    pub retry_count: Tf<i64>,
}

impl TaskModel {
    /// The run attributes as they are in this model.
    pub fn run(&self) -> RunModel {
        RunModel {
            state: self.state.clone(),
            exit_code: self.exit_code.clone(),
            result: self.result.clone(),
            node_id: self.node_id.clone(),
            start_time: self.start_time.clone(),
            end_time: self.end_time.clone(),
            retry_count: self.retry_count.clone(),
        }
    }
    /// Sets every run attribute.
    pub fn set_run(&mut self, r: RunModel) {
        self.state = r.state;
        self.exit_code = r.exit_code;
        self.result = r.result;
        self.node_id = r.node_id;
        self.start_time = r.start_time;
        self.end_time = r.end_time;
        self.retry_count = r.retry_count;
    }
    /// Sets the run attributes that are unknown here from `r`.
    pub fn fill_unknown_run(&mut self, r: RunModel) {
        fn fill<T>(mine: &mut Tf<T>, theirs: Tf<T>) {
            if mine.is_unknown() {
                *mine = theirs;
            }
        }
        fill(&mut self.state, r.state);
        fill(&mut self.exit_code, r.exit_code);
        fill(&mut self.result, r.result);
        fill(&mut self.node_id, r.node_id);
        fill(&mut self.start_time, r.start_time);
        fill(&mut self.end_time, r.end_time);
        fill(&mut self.retry_count, r.retry_count);
    }
    /// True when any run attribute is unknown ("known after apply").
    pub fn run_unknown(&self) -> bool {
        self.state.is_unknown()
            || self.exit_code.is_unknown()
            || self.result.is_unknown()
            || self.node_id.is_unknown()
            || self.start_time.is_unknown()
            || self.end_time.is_unknown()
            || self.retry_count.is_unknown()
    }
    /// `<job_id>/<name>`, or the parts of `id` when the attributes are not set.
    pub fn ids(&self) -> (String, String) {
        if !self.job_id.is_empty() && !self.name.is_empty() {
            return (self.job_id.clone(), self.name.clone());
        }
        let id = self.id.known().map(String::as_str).unwrap_or_default();
        let (j, n) = id.split_once('/').unwrap_or(("", id));
        (j.to_string(), n.to_string())
    }
    /// The task's arguments.
    pub fn args(&self) -> TaskArgs {
        TaskArgs {
            display_name: self.display_name.clone(),
            command_line: self.command_line.clone(),
            environment: self.environment.clone(),
            required_slots: self.required_slots,
            container: self.container.clone(),
            resource_file: Some(self.resource_file.clone()),
            output_file: Some(self.output_file.clone()),
            constraints: self.constraints.clone(),
            user_identity: self.user_identity.clone(),
            dependencies: self.dependencies.clone(),
            multi_instance: self.multi_instance.clone(),
            exit_conditions: self.exit_conditions.clone(),
        }
    }
    /// Sets every argument (lists as blocks: empty when unset).
    pub fn set_args(&mut self, a: TaskArgs) {
        self.display_name = a.display_name;
        self.command_line = a.command_line;
        self.environment = a.environment;
        self.required_slots = a.required_slots;
        self.container = a.container;
        self.resource_file = a.resource_file.unwrap_or_default();
        self.output_file = a.output_file.unwrap_or_default();
        self.constraints = a.constraints;
        self.user_identity = a.user_identity;
        self.dependencies = a.dependencies;
        self.multi_instance = a.multi_instance;
        self.exit_conditions = a.exit_conditions;
    }
    pub fn waits(&self) -> bool {
        self.wait_for_completion == Some(true)
    }
}

/// Only what `create` needs from the configuration: the write-only registry password.
#[derive(Debug, Default, Deserialize)]
pub struct TaskConfig {
    pub container: Option<TaskContainerModel>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::model::check_round_trip;

    #[test]
    fn models_cover_their_schemas() {
        let s = super::super::schema::schema();
        let block = &s.block;
        check_round_trip::<TaskModel>(s.value_type()).unwrap();
        let ty = |n: &str| block.nested(n).unwrap().block.value_type();
        check_round_trip::<OutputFileModel>(&ty("output_file")).unwrap();
        check_round_trip::<DependenciesModel>(&ty("dependencies")).unwrap();
        check_round_trip::<MultiInstanceModel>(&ty("multi_instance")).unwrap();
        check_round_trip::<ExitConditionsModel>(&ty("exit_conditions")).unwrap();
        let exit = &block.nested("exit_conditions").unwrap().block;
        check_round_trip::<ExitOptionsModel>(&exit.nested("default").unwrap().block.value_type())
            .unwrap();
        check_round_trip::<ExitCodeModel>(&exit.nested("exit_code").unwrap().block.value_type())
            .unwrap();
        check_round_trip::<ExitCodeRangeModel>(
            &exit.nested("exit_code_range").unwrap().block.value_type(),
        )
        .unwrap();
    }

    #[test]
    fn run_attributes_fill_only_where_unknown() {
        let mut m = TaskModel {
            state: Tf::Unknown,
            exit_code: Tf::Known(0),
            retry_count: Tf::Unknown,
            ..Default::default()
        };
        assert!(m.run_unknown());
        m.fill_unknown_run(RunModel {
            state: Tf::Known("completed".into()),
            exit_code: Tf::Known(3),
            retry_count: Tf::Known(1),
            ..Default::default()
        });
        assert_eq!(m.state, Tf::Known("completed".into()));
        assert_eq!(m.exit_code, Tf::Known(0));
        assert_eq!(m.retry_count, Tf::Known(1));
        assert!(!m.run_unknown());
    }

    #[test]
    fn ids_come_from_attributes_or_the_id() {
        let m = TaskModel {
            id: Tf::Known("j/t".into()),
            ..Default::default()
        };
        assert_eq!(m.ids(), ("j".to_string(), "t".to_string()));
        let m = TaskModel {
            id: Tf::Known("x/y".into()),
            job_id: "a".into(),
            name: "b".into(),
            ..Default::default()
        };
        assert_eq!(m.ids(), ("a".to_string(), "b".to_string()));
    }
}
