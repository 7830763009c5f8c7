//! Unit tests of the schedule's models, mappings and update planner (no Terraform, no service).

use std::collections::BTreeMap;

use batch_client::models::{
    CloudJobSchedule, JobConstraints, JobManagerTask, JobScheduleExecutionInformation,
    JobSpecification, PoolInformation, RecentJob, Schedule, TaskContainerSettings,
};
use tfplugin::model::{Tf, check_round_trip};

use super::expand::{expand_job_spec, expand_schedule, expand_schedule_add, expand_schedule_patch};
use super::flatten::{flatten_job_schedule, flatten_job_spec, flatten_schedule};
use super::model::{
    JobConstraintsModel, JobScheduleModel, JobSpecModel, PreparationTaskModel, ReleaseTaskModel,
    ScheduleModel,
};
use super::plan::{ScheduleChanges, past_do_not_run_after, plan_schedule_update, replace_ended};
use super::schema::schema;
use crate::common::manager_task::ManagerTaskModel;
use crate::common::task_spec::task_parts::OutputFileModel;
use crate::common::task_spec::{TaskConstraintsModel, TaskContainerModel, UNLIMITED_DURATION};

fn nested_type(name: &str) -> tfplugin::Type {
    schema()
        .block
        .nested(name)
        .expect("block exists")
        .value_type()
}

#[test]
fn models_cover_their_schema() {
    check_round_trip::<JobScheduleModel>(&schema().block.value_type()).unwrap();
    check_round_trip::<ScheduleModel>(&nested_type("schedule")).unwrap();
    check_round_trip::<JobSpecModel>(&nested_type("job")).unwrap();
    // The check can fail: the schedule block lacks the job's attributes.
    assert!(check_round_trip::<JobSpecModel>(&nested_type("schedule")).is_err());
}

#[test]
fn the_schema_has_no_problems() {
    assert_eq!(schema().problems(), Vec::<String>::new());
}

fn model() -> JobScheduleModel {
    JobScheduleModel {
        id: Tf::Known("nightly".into()),
        name: Tf::Known("nightly".into()),
        display_name: Some("Nightly report".into()),
        schedule: Some(ScheduleModel {
            recurrence_interval: Some("P1D".into()),
            do_not_run_until: Some("2026-12-06T02:00:00Z".into()),
            do_not_run_after: None,
            start_window: Some("PT1H".into()),
        }),
        job: Some(JobSpecModel {
            pool_id: "pool".into(),
            display_name: None,
            priority: Some(100),
            max_parallel_tasks: Some(4),
            uses_task_dependencies: Some(false),
            on_all_tasks_complete: Some("terminatejob".into()),
            on_task_failure: Some("noaction".into()),
            environment: Some(BTreeMap::from([("STAGE".into(), "prod".into())])),
            constraints: Some(JobConstraintsModel {
                max_wall_clock_time: Some("PT2H".into()),
                max_task_retry_count: Some(0),
            }),
            manager_task: Some(ManagerTaskModel {
                name: "report".into(),
                command_line: "python report.py".into(),
                container: Some(TaskContainerModel {
                    image_name: "myregistry.azurecr.io/report:3".into(),
                    // As planned: the attribute's default.
                    working_directory: Some("taskWorkingDirectory".into()),
                    ..Default::default()
                }),
                kill_job_on_completion: Some(true),
                output_file: vec![OutputFileModel {
                    file_pattern: "report.txt".into(),
                    container_url: "https://acct.blob.core.windows.net/out?sas".into(),
                    path: Some("nightly/report.txt".into()),
                    upload_condition: Some("taskcompletion".into()),
                    ..Default::default()
                }],
                constraints: Some(TaskConstraintsModel {
                    max_wall_clock_time: Some("PT1H".into()),
                    retention_time: None,
                    max_task_retry_count: Some(2),
                }),
                ..Default::default()
            }),
            preparation_task: Some(PreparationTaskModel {
                command_line: "/bin/sh -c 'mkdir -p cache'".into(),
                container: Some(TaskContainerModel {
                    image_name: "ubuntu".into(),
                    working_directory: Some("taskWorkingDirectory".into()),
                    ..Default::default()
                }),
                wait_for_success: Some(true),
                rerun_on_node_reboot_after_success: Some(false),
                ..Default::default()
            }),
            release_task: Some(ReleaseTaskModel {
                command_line: "/bin/sh -c 'rm -rf cache'".into(),
                environment: Some(BTreeMap::from([("CLEAN".into(), "1".into())])),
                ..Default::default()
            }),
            metadata: Some(BTreeMap::from([("run".into(), "nightly".into())])),
        }),
        metadata: Some(BTreeMap::from([("team".into(), "bi".into())])),
        state: Tf::Known("active".into()),
        next_run_time: Tf::Known("2026-12-06T02:00:00Z".into()),
        recent_job_id: Tf::Null,
        timeouts: None,
    }
}

#[test]
fn expand_schedule_add_maps_every_attribute() {
    let add = expand_schedule_add(&model(), None);
    assert_eq!(add.id, "nightly");
    assert_eq!(add.display_name.as_deref(), Some("Nightly report"));
    assert_eq!(add.schedule.recurrence_interval.as_deref(), Some("P1D"));
    assert_eq!(add.schedule.start_window.as_deref(), Some("PT1H"));
    assert_eq!(
        add.schedule.do_not_run_until.as_deref(),
        Some("2026-12-06T02:00:00Z")
    );
    let spec = add.job_specification;
    assert_eq!(spec.pool_info.pool_id.as_deref(), Some("pool"));
    assert_eq!(spec.priority, Some(100));
    assert_eq!(spec.on_all_tasks_complete.as_deref(), Some("terminatejob"));
    let jm = spec.job_manager_task.expect("job manager");
    assert_eq!(jm.id, "report");
    assert_eq!(jm.kill_job_on_completion, Some(true));
    assert_eq!(
        spec.constraints
            .and_then(|c| c.max_wall_clock_time)
            .as_deref(),
        Some("PT2H")
    );
    assert_eq!(add.metadata.unwrap()[0].name, "team");
}

#[test]
fn expand_sends_the_jobs_tasks_limits_and_metadata() {
    let spec = expand_schedule_add(&model(), None).job_specification;
    assert_eq!(spec.max_parallel_tasks, Some(4));
    assert_eq!(spec.metadata.unwrap()[0].value, "nightly");
    let prep = spec.job_preparation_task.expect("preparation task");
    assert_eq!(prep.command_line, "/bin/sh -c 'mkdir -p cache'");
    assert_eq!(prep.rerun_on_node_reboot_after_success, Some(false));
    assert_eq!(prep.container_settings.unwrap().image_name, "ubuntu");
    let release = spec.job_release_task.expect("release task");
    assert_eq!(release.environment_settings.unwrap()[0].name, "CLEAN");
    let jm = spec.job_manager_task.expect("job manager");
    let out = &jm.output_files.expect("output files")[0];
    assert_eq!(out.file_pattern, "report.txt");
    assert_eq!(
        out.destination.container.as_ref().unwrap().path.as_deref(),
        Some("nightly/report.txt")
    );
    let c = jm.constraints.expect("manager constraints");
    assert_eq!(c.max_task_retry_count, Some(2));
    assert_eq!(c.max_wall_clock_time.as_deref(), Some("PT1H"));
    // Unset: Batch's defaults (no limit, every task at once).
    let mut bare = model();
    let job = bare.job.as_mut().unwrap();
    job.max_parallel_tasks = None;
    job.preparation_task = None;
    job.release_task = None;
    job.metadata = None;
    let spec = expand_schedule_add(&bare, None).job_specification;
    assert_eq!(spec.max_parallel_tasks, None);
    assert!(spec.job_preparation_task.is_none() && spec.job_release_task.is_none());
    assert!(spec.metadata.is_none());
}

#[test]
fn an_absent_schedule_block_is_an_empty_element_and_reads_back_absent() {
    assert_eq!(expand_schedule(None), Schedule::default());
    assert_eq!(flatten_schedule(Some(&Schedule::default()), None), None);
    // A block the user wrote stays, even when empty.
    assert_eq!(
        flatten_schedule(None, Some(&ScheduleModel::default())),
        Some(ScheduleModel::default())
    );
}

#[test]
fn flatten_reads_back_what_expand_sent() {
    let m = model();
    let add = expand_schedule_add(&m, None);
    let got = CloudJobSchedule {
        id: Some(add.id.clone()),
        display_name: add.display_name.clone(),
        state: Some("active".into()),
        schedule: Some(add.schedule.clone()),
        job_specification: Some(add.job_specification.clone()),
        metadata: add.metadata.clone(),
        execution_info: Some(JobScheduleExecutionInformation {
            next_run_time: Some("2026-12-06T02:00:00Z".into()),
            recent_job: None,
            end_time: None,
        }),
        ..Default::default()
    };
    let read = crate::common::task_spec::normalized_read(
        &schema().block,
        Some(&m),
        flatten_job_schedule(&got, &m),
    );
    assert_eq!(read, m);
}

#[test]
fn flatten_job_spec_leaves_server_defaults_unset() {
    // What the service reports for a job block with only a pool and a manager.
    let j = JobSpecification {
        priority: Some(0),
        on_all_tasks_complete: Some("NoAction".into()),
        constraints: Some(JobConstraints {
            max_wall_clock_time: Some(UNLIMITED_DURATION.into()),
            max_task_retry_count: Some(0),
        }),
        job_manager_task: Some(JobManagerTask {
            id: "m".into(),
            command_line: "true".into(),
            container_settings: Some(TaskContainerSettings {
                image_name: "alpine".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        pool_info: PoolInformation {
            pool_id: Some("p".into()),
            auto_pool_specification: None,
        },
        ..Default::default()
    };
    let m = flatten_job_spec(&j, None);
    assert_eq!(m.constraints, None, "unlimited/0 are Batch's defaults");
    assert_eq!(m.max_parallel_tasks, Some(-1), "Batch's default: no limit");
    assert_eq!(m.metadata, None);
    assert!(m.preparation_task.is_none() && m.release_task.is_none());
    let jm = m.manager_task.clone().unwrap();
    assert_eq!(jm.constraints, None);
    assert!(jm.output_file.is_empty());
    assert_eq!(m.on_all_tasks_complete.as_deref(), Some("noaction"));
    assert_eq!(m.on_task_failure.as_deref(), Some("noaction"));
    assert_eq!(m.priority, Some(0));
    assert_eq!(
        m.manager_task.and_then(|t| t.kill_job_on_completion),
        Some(true)
    );
    assert_eq!(
        expand_job_spec(&flatten_job_spec(&j, None), None).pool_info,
        j.pool_info
    );
}

#[test]
fn computed_attributes_come_from_the_execution_info() {
    let s = CloudJobSchedule {
        id: Some("nightly".into()),
        state: Some("completed".into()),
        execution_info: Some(JobScheduleExecutionInformation {
            next_run_time: None,
            recent_job: Some(RecentJob {
                id: Some("nightly:job-3".into()),
                url: None,
            }),
            end_time: Some("2026-12-07T00:00:00Z".into()),
        }),
        ..Default::default()
    };
    let m = flatten_job_schedule(&s, &JobScheduleModel::default());
    assert_eq!(m.state, Tf::Known("completed".into()));
    assert_eq!(m.recent_job_id, Tf::Known("nightly:job-3".into()));
    assert_eq!(m.next_run_time, Tf::Null);
    assert_eq!(m.name, Tf::Known("nightly".into()));
}

#[test]
fn the_update_planner_patches_only_changed_elements() {
    let prior = model();
    assert_eq!(plan_schedule_update(&prior, &prior), None);

    let mut p = prior.clone();
    p.schedule.as_mut().unwrap().recurrence_interval = Some("PT12H".into());
    let changes = plan_schedule_update(&prior, &p).unwrap();
    assert_eq!(
        changes,
        ScheduleChanges {
            schedule: true,
            job: false,
            metadata: false
        }
    );
    let patch = expand_schedule_patch(&p, None, &changes);
    assert_eq!(
        patch.schedule.unwrap().recurrence_interval.as_deref(),
        Some("PT12H")
    );
    assert!(patch.job_specification.is_none() && patch.metadata.is_none());

    let mut q = prior.clone();
    q.job
        .as_mut()
        .unwrap()
        .manager_task
        .as_mut()
        .unwrap()
        .command_line = "python report.py --full".into();
    let changes = plan_schedule_update(&prior, &q).unwrap();
    assert!(changes.job && !changes.schedule);
    // The whole job specification goes: Batch replaces the element as a unit.
    let spec = expand_schedule_patch(&q, None, &changes)
        .job_specification
        .unwrap();
    assert_eq!(spec.priority, Some(100));
    assert_eq!(
        spec.job_manager_task.unwrap().command_line,
        "python report.py --full"
    );

    // Removing the metadata sends an empty list (omitting it would keep the old items).
    let mut r = prior.clone();
    r.metadata = None;
    let changes = plan_schedule_update(&prior, &r).unwrap();
    assert_eq!(
        expand_schedule_patch(&r, None, &changes).metadata,
        Some(vec![])
    );

    // Timeouts are not Batch's business.
    let mut t = prior.clone();
    t.timeouts = Some(Default::default());
    assert_eq!(plan_schedule_update(&prior, &t), None);
}

#[test]
fn import_needs_a_schedule_name() {
    let mut d = tfplugin::Diagnostics::new();
    assert!(super::apply::import_state("nightly:job-1", &mut d).is_null());
    assert!(d.has_errors());
    let mut d = tfplugin::Diagnostics::new();
    assert!(!super::apply::import_state("nightly", &mut d).is_null());
    assert!(!d.has_errors());
}

#[test]
fn a_change_to_an_ended_schedule_replaces_it() {
    let with_state = |s: &str| JobScheduleModel {
        state: Tf::Known(s.into()),
        ..model()
    };
    let mut changed = model();
    changed.metadata = Some(BTreeMap::from([("team".into(), "ops".into())]));
    changed.schedule.as_mut().unwrap().recurrence_interval = Some("PT12H".into());
    for (state, want) in [
        ("active", vec![]),
        ("disabled", vec![]),
        ("completed", vec!["schedule", "metadata"]),
        ("terminating", vec!["schedule", "metadata"]),
    ] {
        let prior = with_state(state);
        let planned = JobScheduleModel {
            state: prior.state.clone(),
            ..changed.clone()
        };
        assert_eq!(replace_ended(&prior, &planned), want, "{state}");
        // Without a change nothing is replaced, whatever the state.
        assert_eq!(replace_ended(&prior, &prior), Vec::<&str>::new(), "{state}");
    }
}

#[test]
fn a_new_do_not_run_after_in_the_past_is_refused() {
    let now = crate::common::validators::parse_rfc3339("2026-12-05T12:00:00Z").unwrap();
    let after = |t: Option<&str>| {
        let mut m = model();
        m.schedule.as_mut().unwrap().do_not_run_after = t.map(str::to_string);
        m
    };
    let past = "2026-12-05T11:59:59Z";
    let future = "2026-12-05T12:00:01Z";
    // New: refused in the past, accepted in the future or unset.
    assert_eq!(
        past_do_not_run_after(None, &after(Some(past)), now),
        Some(past.to_string())
    );
    assert_eq!(past_do_not_run_after(None, &after(Some(future)), now), None);
    assert_eq!(past_do_not_run_after(None, &after(None), now), None);
    // Changed to a past time: refused; unchanged (the same instant, in Batch's spelling): kept.
    let prior = after(Some(future));
    assert!(past_do_not_run_after(Some(&prior), &after(Some(past)), now).is_some());
    let prior = after(Some("2026-12-05T11:59:59.0000000Z"));
    assert_eq!(
        past_do_not_run_after(Some(&prior), &after(Some(past)), now),
        None
    );
}

#[test]
fn the_jobs_limits_tasks_and_manager_constraints_change_in_place() {
    let prior = model();
    let mut p = prior.clone();
    let job = p.job.as_mut().unwrap();
    job.max_parallel_tasks = Some(8);
    job.manager_task.as_mut().unwrap().constraints = Some(TaskConstraintsModel {
        max_task_retry_count: Some(5),
        ..Default::default()
    });
    let changes = plan_schedule_update(&prior, &p).unwrap();
    assert_eq!(
        changes,
        ScheduleChanges {
            schedule: false,
            job: true,
            metadata: false
        }
    );
    let spec = expand_schedule_patch(&p, None, &changes)
        .job_specification
        .unwrap();
    assert_eq!(spec.max_parallel_tasks, Some(8));
    let c = spec.job_manager_task.unwrap().constraints.unwrap();
    assert_eq!(c.max_task_retry_count, Some(5));
    assert_eq!(c.max_wall_clock_time, None, "removed limits are not sent");
    // JobSchedule_Patch replaces the job specification: nothing in the job block replaces the
    // schedule.
    fn replacing(b: &tfplugin::schema::Block, at: &str, out: &mut Vec<String>) {
        for a in &b.attributes {
            if a.is_requires_replace() {
                out.push(format!("{at}.{}", a.name));
            }
        }
        for n in &b.blocks {
            if n.requires_replace {
                out.push(format!("{at}.{}", n.name));
            }
            replacing(&n.block, &format!("{at}.{}", n.name), out);
        }
    }
    let job = schema().block.nested("job").unwrap();
    let mut found = vec![];
    replacing(&job.block, "job", &mut found);
    assert_eq!(found, Vec::<String>::new());
    assert!(job.block.nested("preparation_task").is_some());
}

#[test]
fn zero_parallel_tasks_and_a_lone_release_task_are_refused_at_plan_time() {
    let errors = |job: tfplugin::Value| {
        let mut v = tfplugin::framework::null_object(&schema().block);
        v.set("job", job);
        let mut d = tfplugin::Diagnostics::new();
        tfplugin::framework::validate_values(
            &schema().block,
            &v,
            &tfplugin::AttrPath::root(),
            &mut d,
        );
        d.0.into_iter()
            .filter(|d| d.severity == tfplugin::Severity::Error)
            .map(|d| (d.path.map(|p| p.to_string()).unwrap_or_default(), d.detail))
            .collect::<Vec<_>>()
    };
    let job_block = &schema().block.nested("job").unwrap().block;
    let job = |pairs: &[(&str, tfplugin::Value)]| {
        let mut v = tfplugin::framework::null_object(job_block);
        v.set("pool_id", tfplugin::Value::string("p"));
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    };
    let e = errors(job(&[("max_parallel_tasks", tfplugin::Value::int(0))]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "job.max_parallel_tasks");
    assert!(e[0].1.contains("-1 (no limit)"), "{e:?}");
    assert!(errors(job(&[("max_parallel_tasks", tfplugin::Value::int(-1))])).is_empty());
    let release = tfplugin::Value::object([("command_line", tfplugin::Value::string("true"))]);
    let e = errors(job(&[("release_task", release.clone())]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "job.release_task");
    let both = job(&[
        ("release_task", release.clone()),
        ("preparation_task", release),
    ]);
    assert!(errors(both).is_empty());
}

#[test]
fn batch_property_names_point_at_attributes() {
    let w = super::apply::wire_paths();
    let cases = [
        (
            "jobSpecification.maxParallelTasks",
            Some("job.max_parallel_tasks"),
        ),
        ("jobSpecification.metadata", Some("job.metadata")),
        ("metadata", Some("metadata")),
        (
            "jobSpecification.constraints.maxTaskRetryCount",
            Some("job.constraints.max_task_retry_count"),
        ),
        (
            "jobSpecification.jobManagerTask.constraints.maxTaskRetryCount",
            Some("job.manager_task.constraints.max_task_retry_count"),
        ),
        (
            "jobManagerTask.constraints.maxTaskRetryCount",
            Some("job.manager_task.constraints.max_task_retry_count"),
        ),
        (
            "jobSpecification.jobManagerTask.outputFiles",
            Some("job.manager_task.output_file"),
        ),
        (
            "jobSpecification.jobPreparationTask.commandLine",
            Some("job.preparation_task.command_line"),
        ),
        (
            "jobReleaseTask.containerSettings.imageName",
            Some("job.release_task.container.image_name"),
        ),
        // The job's and the manager's: the bare name alone says neither.
        ("maxTaskRetryCount", None),
        ("constraints.maxTaskRetryCount", None),
    ];
    w.assert_lookups(&cases);
}

#[test]
fn an_ambiguous_property_name_is_told_apart_by_the_value_sent() {
    use batch_client::{BatchError, ServiceError};
    let w = super::apply::wire_paths();
    // The job retries 0 times, its manager twice (the model's values).
    let body = expand_schedule_add(&model(), None);
    let service = |values: &[(&str, &str)]| {
        BatchError::Service(Box::new(ServiceError {
            status: 400,
            code: "InvalidPropertyValue".into(),
            message: "The value provided for one of the properties in the request body is invalid."
                .into(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            request_id: None,
        }))
    };
    let err =
        |name: &str, value: &str| service(&[("PropertyName", name), ("PropertyValue", value)]);
    let path = |e: &BatchError| w.error_path(e, &body).map(|p| p.to_string());
    assert_eq!(
        path(&err("maxTaskRetryCount", "2")).as_deref(),
        Some("job.manager_task.constraints.max_task_retry_count")
    );
    assert_eq!(
        path(&err("maxTaskRetryCount", "0")).as_deref(),
        Some("job.constraints.max_task_retry_count")
    );
    assert_eq!(
        path(&err("constraints.maxTaskRetryCount", "2")).as_deref(),
        Some("job.manager_task.constraints.max_task_retry_count")
    );
    // A value neither holds names nothing rather than a guess.
    assert_eq!(path(&err("maxTaskRetryCount", "7")), None);
    // A full path needs no value.
    let full = service(&[(
        "PropertyName",
        "jobSpecification.constraints.maxTaskRetryCount",
    )]);
    assert_eq!(
        path(&full).as_deref(),
        Some("job.constraints.max_task_retry_count")
    );
}
