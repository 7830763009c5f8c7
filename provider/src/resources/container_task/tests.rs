//! Unit tests of the resource as a whole: expand/flatten round trips, validation, import ids,
//! failure detection. (Each part's own tables live beside it.)

use std::collections::BTreeMap;

use batch_client::models::{
    CloudTask, ExitCodeMapping, ExitConditions, ExitOptions, MultiInstanceSettings,
    TaskDependencies, TaskExecutionInformation, TaskFailureInformation,
};
use tfplugin::Diagnostics;
use tfplugin::model::{Tf, to_value};

use super::apply::{import, parse_import_id, state_of};
use super::expand::*;
use super::flatten::*;
use super::model::*;
use super::wait::is_failed;
use crate::common::task_spec::{
    ResourceFileModel, TaskConstraintsModel, TaskContainerModel, UNLIMITED_DURATION,
    UserIdentityModel, normalized_read,
};
use crate::common::task_watch::failure_detail;

/// What the framework stores after a read: [`flatten_task`], then the schema's declared
/// semantics and server defaults against the prior state (None: import).
fn read(remote: &CloudTask, prior: Option<&TaskModel>) -> TaskModel {
    let schema = super::schema::schema();
    normalized_read(&schema.block, prior, flatten_task(remote, "j", prior))
}

fn full_model() -> TaskModel {
    TaskModel {
        id: Tf::Known("j/t".into()),
        job_id: "j".into(),
        name: "t".into(),
        display_name: Some("T".into()),
        command_line: Some("/bin/sh -c 'echo hi'".into()),
        environment: Some(BTreeMap::from([("A".into(), "1".into())])),
        required_slots: Some(2),
        wait_for_completion: Some(true),
        container: Some(TaskContainerModel {
            image_name: "ubuntu:22.04".into(),
            working_directory: Some("taskWorkingDirectory".into()),
            ..Default::default()
        }),
        resource_file: vec![ResourceFileModel {
            auto_storage_container_name: Some("inputs".into()),
            ..Default::default()
        }],
        output_file: vec![OutputFileModel {
            file_pattern: "out/**".into(),
            container_url: "https://a.blob.core.windows.net/c?sig=x".into(),
            path: Some("run1".into()),
            upload_condition: Some("taskSuccess".into()),
            identity_reference: None,
            upload_headers: Some(BTreeMap::from([(
                "Content-Type".into(),
                "text/plain".into(),
            )])),
        }],
        constraints: Some(TaskConstraintsModel {
            max_wall_clock_time: Some("PT60M".into()),
            retention_time: None,
            max_task_retry_count: Some(1),
        }),
        user_identity: Some(UserIdentityModel {
            user_name: Some("bob".into()),
            auto_user: None,
        }),
        dependencies: Some(DependenciesModel {
            task_ids: Some(vec!["a".into()]),
            task_id_range: vec![TaskIdRangeModel { start: 1, end: 9 }],
        }),
        multi_instance: Some(MultiInstanceModel {
            number_of_instances: Some(3),
            coordination_command_line: "mpd".into(),
            common_resource_file: vec![],
        }),
        exit_conditions: Some(ExitConditionsModel {
            exit_code: vec![ExitCodeModel {
                code: 3,
                job_action: Some("terminate".into()),
                dependency_action: None,
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What the service would report for a task added with `body`, after it ran.
fn as_service_reports(m: &TaskModel) -> CloudTask {
    let add = expand_task(m, &TaskConfig::default());
    CloudTask {
        id: Some(add.id.to_uppercase()),
        display_name: add.display_name,
        command_line: Some(add.command_line),
        container_settings: add.container_settings,
        resource_files: add.resource_files,
        output_files: add.output_files.map(|mut l| {
            for o in &mut l {
                o.upload_options.upload_condition =
                    o.upload_options.upload_condition.to_uppercase();
                if let Some(c) = &mut o.destination.container {
                    // The service withholds the SAS.
                    c.container_url = c.container_url.split('?').next().unwrap().to_string();
                }
            }
            l
        }),
        environment_settings: add.environment_settings,
        constraints: add.constraints.map(|mut c| {
            c.max_wall_clock_time = Some("PT1H".into());
            c.retention_time = Some("P7D".into());
            c
        }),
        required_slots: add.required_slots,
        user_identity: add.user_identity,
        multi_instance_settings: add.multi_instance_settings,
        depends_on: add.depends_on,
        exit_conditions: add.exit_conditions,
        state: Some("completed".into()),
        execution_info: Some(TaskExecutionInformation {
            exit_code: Some(0),
            result: Some("success".into()),
            retry_count: 0,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn expand_then_flatten_gives_the_plan_back() {
    let m = full_model();
    let remote = as_service_reports(&m);
    // Batch reports the duration in another spelling: the read keeps the user's.
    assert_eq!(
        flatten_task(&remote, "j", Some(&m))
            .constraints
            .and_then(|c| c.max_wall_clock_time),
        Some("PT1H".into())
    );
    let got = read(&remote, Some(&m));
    let mut want = m.clone();
    want.state = Tf::Known("completed".into());
    want.exit_code = Tf::Known(0);
    want.result = Tf::Known("success".into());
    want.retry_count = Tf::Known(0);
    assert_eq!(got, want);
    // And it is a valid state value of the schema.
    let _ = state_of(&got);
}

#[test]
fn expand_maps_every_part() {
    let add = expand_task(&full_model(), &TaskConfig::default());
    assert_eq!(add.id, "t");
    assert_eq!(add.required_slots, Some(2));
    assert_eq!(add.environment_settings.as_ref().map(Vec::len), Some(1));
    let o = &add.output_files.as_ref().unwrap()[0];
    assert_eq!(o.upload_options.upload_condition, "taskSuccess");
    let c = o.destination.container.as_ref().unwrap();
    assert_eq!(c.upload_headers.as_ref().unwrap()[0].name, "Content-Type");
    assert_eq!(
        add.depends_on
            .as_ref()
            .unwrap()
            .task_id_ranges
            .as_ref()
            .unwrap()[0]
            .end,
        9
    );
    assert_eq!(
        add.multi_instance_settings
            .as_ref()
            .unwrap()
            .number_of_instances,
        Some(3)
    );
    assert_eq!(
        add.exit_conditions
            .as_ref()
            .unwrap()
            .exit_codes
            .as_ref()
            .unwrap()[0]
            .code,
        3
    );
    assert_eq!(
        add.user_identity.as_ref().unwrap().username.as_deref(),
        Some("bob")
    );
    // An unset command line is sent as "": the image's ENTRYPOINT.
    let bare = TaskModel::default();
    let add = expand_task(&bare, &TaskConfig::default());
    assert_eq!(add.command_line, "");
    assert!(add.output_files.is_none() && add.resource_files.is_none());
    let o = expand_output_file(&OutputFileModel::default());
    assert_eq!(o.upload_options.upload_condition, DEFAULT_UPLOAD_CONDITION);
}

#[test]
fn first_read_keeps_server_defaults_unset() {
    // What an import reads: a task with only Batch's defaults.
    let remote = CloudTask {
        id: Some("t".into()),
        command_line: Some(String::new()),
        required_slots: None,
        depends_on: Some(TaskDependencies::default()),
        multi_instance_settings: Some(MultiInstanceSettings {
            number_of_instances: Some(1),
            coordination_command_line: "c".into(),
            common_resource_files: None,
        }),
        exit_conditions: Some(ExitConditions {
            default: Some(ExitOptions {
                job_action: Some("none".into()),
                dependency_action: Some("satisfy".into()),
            }),
            ..Default::default()
        }),
        constraints: Some(batch_client::models::TaskConstraints {
            max_wall_clock_time: Some(UNLIMITED_DURATION.into()),
            retention_time: Some("P7D".into()),
            max_task_retry_count: Some(0),
        }),
        ..Default::default()
    };
    let m = read(&remote, None);
    assert_eq!(m.id, Tf::Known("j/t".into()));
    assert_eq!(m.required_slots, Some(1));
    assert_eq!(m.wait_for_completion, Some(false));
    assert_eq!(m.dependencies, None);
    assert_eq!(m.multi_instance.as_ref().unwrap().number_of_instances, None);
    assert_eq!(m.exit_conditions, None);
    assert_eq!(m.constraints, None);
    assert_eq!(m.environment, None);
    assert!(m.output_file.is_empty());
}

#[test]
fn exit_conditions_table() {
    let terminate = |code| ExitCodeMapping {
        code,
        exit_options: ExitOptions {
            job_action: Some("Terminate".into()),
            dependency_action: None,
        },
    };
    let remote = ExitConditions {
        exit_codes: Some(vec![terminate(3)]),
        pre_processing_error: Some(ExitOptions {
            job_action: Some("none".into()),
            dependency_action: Some("Block".into()),
        }),
        ..Default::default()
    };
    let got = flatten_exit_conditions(Some(&remote), None).unwrap();
    assert_eq!(got.exit_code[0].job_action.as_deref(), Some("terminate"));
    assert_eq!(got.exit_code[0].dependency_action, None);
    let pre = got.pre_processing_error.as_ref().unwrap();
    assert_eq!(pre.dependency_action.as_deref(), Some("block"));
    assert_eq!(got.default, None);
    // Immutable in Batch: a known value is kept as configured.
    let configured = ExitConditionsModel {
        exit_code: vec![ExitCodeModel {
            code: 3,
            job_action: Some("TERMINATE".into()),
            dependency_action: None,
        }],
        ..Default::default()
    };
    assert_eq!(
        flatten_exit_conditions(Some(&remote), Some(&configured)),
        Some(configured.clone())
    );
    assert_eq!(flatten_exit_conditions(None, None), None);
    // Expanding what was flattened gives the service's options back (lower-cased).
    let back = expand_exit_conditions(&got);
    assert_eq!(back.exit_codes.unwrap()[0].code, 3);
}

#[test]
fn output_files_keep_prior_spellings() {
    let prior = full_model().output_file;
    let remote = as_service_reports(&full_model()).output_files;
    let b = super::schema::output_file_block();
    let got = flatten_output_files(remote.as_ref(), &prior);
    // Batch's spelling and the URL without its SAS; the semantics keep the user's.
    assert_eq!(got[0].upload_condition.as_deref(), Some("tasksuccess"));
    let kept: Vec<OutputFileModel> = got
        .into_iter()
        .zip(&prior)
        .map(|(g, p)| normalized_read(&b, Some(p), g))
        .collect();
    assert_eq!(kept, prior);
    // Without a prior: the service's values, lower-cased condition, no headers map invented.
    let mut remote = remote.unwrap();
    remote[0]
        .destination
        .container
        .as_mut()
        .unwrap()
        .upload_headers = None;
    let got = flatten_output_files(Some(&remote), &[]);
    assert_eq!(got[0].upload_condition.as_deref(), Some("tasksuccess"));
    assert_eq!(got[0].container_url, "https://a.blob.core.windows.net/c");
    assert_eq!(got[0].upload_headers, None);
}

#[test]
fn dependencies_keep_an_empty_list_the_user_wrote() {
    let prior = DependenciesModel {
        task_ids: Some(vec![]),
        task_id_range: vec![TaskIdRangeModel { start: 1, end: 2 }],
    };
    let remote = expand_dependencies(&prior);
    assert_eq!(remote.task_ids, None);
    assert_eq!(flatten_dependencies(&remote, Some(&prior)), prior);
    assert_eq!(flatten_dependencies(&remote, None).task_ids, None);
}

#[test]
fn validation_table() {
    let ty = super::schema::schema().value_type().clone();
    // The schema's declared rules and validators (as the framework checks them), then the
    // resource's own.
    let block = super::schema::schema().block.clone();
    let check = |m: &TaskModel| {
        let v = to_value(m, &ty).unwrap();
        let mut d = Diagnostics::new();
        tfplugin::framework::validate_values(&block, &v, &tfplugin::AttrPath::root(), &mut d);
        super::validate_task(&tfplugin::model::from_value(&v).unwrap(), &mut d);
        d
    };
    let ok = TaskModel {
        job_id: "j".into(),
        name: "t".into(),
        container: full_model().container,
        ..Default::default()
    };
    assert!(!check(&ok).has_errors(), "{:?}", check(&ok));
    assert!(check(&TaskModel::default()).has_errors(), "no container");
    let bad_range = TaskModel {
        dependencies: Some(DependenciesModel {
            task_ids: None,
            task_id_range: vec![TaskIdRangeModel { start: 5, end: 2 }],
        }),
        ..ok.clone()
    };
    let d = check(&bad_range);
    assert_eq!(d.0.len(), 1);
    assert_eq!(
        d.0[0].path.as_ref().map(|p| p.to_string()).as_deref(),
        Some("dependencies.task_id_range[0].end")
    );
    let bad_file = TaskModel {
        multi_instance: Some(MultiInstanceModel {
            number_of_instances: None,
            coordination_command_line: "c".into(),
            common_resource_file: vec![ResourceFileModel::default()],
        }),
        user_identity: Some(UserIdentityModel::default()),
        ..ok
    };
    let paths: Vec<String> = check(&bad_file)
        .0
        .iter()
        .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
        .collect();
    assert_eq!(
        paths,
        ["multi_instance.common_resource_file[0]", "user_identity"],
        "{paths:?}"
    );
}

#[test]
fn import_ids() {
    assert_eq!(parse_import_id("j/t"), Ok(("j".into(), "t".into())));
    for bad in ["j", "j/t/x", "/t", "j/", "a b/t"] {
        assert!(parse_import_id(bad).is_err(), "{bad}");
    }
    let r = import("render/hello");
    assert!(r.diags.is_empty());
    let m: TaskModel = tfplugin::model::from_value(&r.state).unwrap();
    assert_eq!((m.job_id.as_str(), m.name.as_str()), ("render", "hello"));
    assert!(r.private.contains_key(super::apply::IMPORTED));
    assert!(import("nope").diags.has_errors());
}

#[test]
fn failed_runs() {
    let run = |exit: Option<i32>, result: Option<&str>, failure: bool| CloudTask {
        execution_info: Some(TaskExecutionInformation {
            exit_code: exit,
            result: result.map(str::to_string),
            failure_info: failure.then(TaskFailureInformation::default),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(!is_failed(&CloudTask::default()));
    assert!(!is_failed(&run(Some(0), Some("success"), false)));
    assert!(is_failed(&run(Some(1), None, false)));
    assert!(is_failed(&run(None, Some("Failure"), false)));
    assert!(is_failed(&run(None, None, true)));
}

#[test]
fn batch_property_names_point_at_attributes() {
    let w = super::wait::wire_paths();
    let cases = [
        ("maxWallClockTime", Some("constraints.max_wall_clock_time")),
        (
            "constraints.retentionTime",
            Some("constraints.retention_time"),
        ),
        ("imageName", Some("container.image_name")),
        ("commandLine", Some("command_line")),
        ("requiredSlots", Some("required_slots")),
        ("filePattern", Some("output_file")),
        (
            "numberOfInstances",
            Some("multi_instance.number_of_instances"),
        ),
        ("noSuchProperty", None),
    ];
    for (property, want) in cases {
        assert_eq!(
            w.lookup(property).map(|p| p.to_string()).as_deref(),
            want,
            "{property}"
        );
    }
}

#[test]
fn a_failed_task_s_error_leaves_out_the_parts_batch_left_empty() {
    use batch_client::models::{NameValuePair, TaskContainerExecutionInformation};
    let mut t = CloudTask {
        execution_info: Some(TaskExecutionInformation {
            exit_code: Some(2),
            failure_info: Some(TaskFailureInformation {
                category: "usererror".into(),
                code: Some("FailureExitCode".into()),
                message: Some(String::new()),
                details: Some(vec![NameValuePair {
                    name: Some(String::new()),
                    value: None,
                }]),
            }),
            container_info: Some(TaskContainerExecutionInformation {
                error: Some(" ".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let d = failure_detail(&t, "");
    assert_eq!(
        d,
        "Exit code: 2\nFailure: category usererror, code FailureExitCode\n"
    );
    assert!(
        !d.contains("Container error") && !d.contains("stderr.txt"),
        "{d}"
    );

    // Given parts are shown.
    let ei = t.execution_info.as_mut().unwrap();
    ei.container_info.as_mut().unwrap().error = Some("image not found".into());
    ei.failure_info.as_mut().unwrap().message = Some("The task exited with 2".into());
    let d = failure_detail(&t, "boom");
    assert!(d.contains("Container error: image not found\n"), "{d}");
    assert!(d.contains(", message: The task exited with 2\n"), "{d}");
    assert!(d.contains("Last lines of stderr.txt:\nboom\n"), "{d}");
}
