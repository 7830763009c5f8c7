//! Unit tests of the job's models, mappings and update planner (no Terraform, no service).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::task_spec::{RegistryModel, TaskContainerModel};
use batch_client::models::{
    CloudJob, JobConstraints, JobPreparationTask, JobReleaseTask, MetadataItem, PoolInformation,
};
use tfplugin::model::{Tf, check_round_trip, from_value, to_value};

use super::expand::{expand_constraints, expand_job_add, expand_job_patch, expand_job_update};
use super::flatten::{flatten_constraints, flatten_job, flatten_metadata};
use super::model::{
    JobConstraintsModel, JobModel, PreparationTaskModel, ReleaseTaskModel, Timeouts,
};
use super::plan::{JobCall, JobChanges, ReplaceReason, plan_job_update};
use super::*;
use crate::common::Op;
use crate::common::task_spec::UNLIMITED_DURATION;

fn nested_type(name: &str) -> tfplugin::Type {
    schema::schema()
        .block
        .nested(name)
        .expect("block exists")
        .value_type()
}

#[test]
fn job_model_covers_its_schema() {
    check_round_trip::<JobModel>(&schema::schema().block.value_type()).unwrap();
}

#[test]
fn task_models_cover_their_blocks() {
    check_round_trip::<PreparationTaskModel>(&nested_type("preparation_task")).unwrap();
    check_round_trip::<ReleaseTaskModel>(&nested_type("release_task")).unwrap();
}

#[test]
fn constraints_model_covers_its_block() {
    check_round_trip::<JobConstraintsModel>(&nested_type("constraints")).unwrap();
}

#[test]
fn timeouts_model_covers_its_block() {
    check_round_trip::<Timeouts>(&nested_type("timeouts")).unwrap();
}

#[test]
fn round_trip_check_notices_a_missing_attribute() {
    // The check must be able to fail: the job's schema has attributes the constraints lack.
    assert!(check_round_trip::<JobConstraintsModel>(&schema::schema().block.value_type()).is_err());
}

fn job(pairs: &[(&str, Value)]) -> Value {
    let mut v = tfplugin::framework::null_object(&schema::schema().block);
    for (k, x) in pairs {
        v.set(k, x.clone());
    }
    v
}

#[test]
fn a_planned_value_reads_and_writes_back_unchanged() {
    let planned = job(&[
        ("id", Value::string("render")),
        ("name", Value::string("render")),
        ("pool_id", Value::string("p")),
        ("priority", Value::int(100)),
        ("max_parallel_tasks", Value::int(-1)),
        ("metadata", Value::string_map([("team", "render")])),
        ("on_all_tasks_complete", Value::string("noaction")),
        (
            "constraints",
            Value::object([
                ("max_wall_clock_time", Value::string("PT2H")),
                ("max_task_retry_count", Value::Null),
            ]),
        ),
        (
            "timeouts",
            Value::object([
                ("create", Value::string("5m")),
                ("update", Value::Null),
                ("delete", Value::Null),
            ]),
        ),
    ]);
    let m: JobModel = from_value(&planned).unwrap();
    assert_eq!(m.priority, Some(100));
    assert_eq!(
        Timeouts::get(m.timeouts.as_ref(), Op::Create, Duration::ZERO),
        Duration::from_secs(300)
    );
    assert_eq!(
        Timeouts::get(m.timeouts.as_ref(), Op::Delete, Duration::from_secs(7)),
        Duration::from_secs(7)
    );
    let back = to_value(&m, &schema::schema().block.value_type()).unwrap();
    assert_eq!(back, planned);
}

#[test]
fn unknown_values_read_as_unknown_or_none() {
    let planned = job(&[
        ("name", Value::string("render")),
        ("id", Value::Unknown),
        ("state", Value::Unknown),
        ("pool_id", Value::Unknown),
        (
            "metadata",
            Value::Map([("k".to_string(), Value::Unknown)].into()),
        ),
    ]);
    // A map with an unknown value cannot be a BTreeMap<String, String> ...
    assert!(from_value::<JobModel>(&planned).is_err());
    // ... so plan-time code reads it as unknown as a whole.
    let m = plan_model(&planned).unwrap();
    assert!(m.id.is_unknown() && m.state.is_unknown());
    assert_eq!(m.pool_id, None);
    assert_eq!(m.metadata, None);
    assert_eq!(m.job_name(), "render");
}

fn constraints(wall: Option<&str>, retries: Option<i64>) -> JobConstraintsModel {
    JobConstraintsModel {
        max_wall_clock_time: wall.map(str::to_string),
        max_task_retry_count: retries,
    }
}

fn remote_constraints(wall: Option<&str>, retries: Option<i32>) -> JobConstraints {
    JobConstraints {
        max_wall_clock_time: wall.map(str::to_string),
        max_task_retry_count: retries,
    }
}

#[test]
fn flatten_constraints_keeps_server_defaults_null() {
    let cases = [
        // Batch's defaults with no block in the configuration: no block.
        (
            Some(remote_constraints(Some(UNLIMITED_DURATION), Some(0))),
            None,
            None,
        ),
        // The user's spelling of a wall clock time survives; an unset retry count stays null.
        (
            Some(remote_constraints(Some("PT2H"), Some(0))),
            Some(constraints(Some("PT120M"), None)),
            Some(constraints(Some("PT120M"), None)),
        ),
        // A retry count the user set to 0 stays 0.
        (
            Some(remote_constraints(Some(UNLIMITED_DURATION), Some(0))),
            Some(constraints(None, Some(0))),
            Some(constraints(None, Some(0))),
        ),
        // Changed outside Terraform: the new values show.
        (
            Some(remote_constraints(Some("PT3H"), Some(2))),
            None,
            Some(constraints(Some("PT3H"), Some(2))),
        ),
        // Batch has none but the state had a block: an empty block.
        (
            None,
            Some(constraints(Some("PT1H"), None)),
            Some(constraints(None, None)),
        ),
        (None, None, None),
    ];
    for (remote, prior, want) in cases {
        // Through the framework's read normalisation, as Terraform sees it.
        let job = CloudJob {
            constraints: remote.clone(),
            ..cloud_job()
        };
        let prior_job = JobModel {
            constraints: prior.clone(),
            ..flatten_job(&cloud_job(), &JobModel::default())
        };
        assert_eq!(
            read_back(&job, &prior_job).constraints,
            want,
            "remote {remote:?}, prior {prior:?}"
        );
    }
    // flatten alone leaves spelling to the declared semantics, but drops a block of defaults.
    let remote = remote_constraints(Some("PT2H"), Some(0));
    let prior = constraints(Some("PT120M"), None);
    assert_eq!(
        flatten_constraints(Some(&remote), Some(&prior)),
        Some(constraints(Some("PT2H"), Some(0)))
    );
    let defaults = remote_constraints(Some(UNLIMITED_DURATION), None);
    assert_eq!(flatten_constraints(Some(&defaults), None), None);
}

/// What a read leaves in state: flatten, then the framework's normalisation against the prior
/// state (declared semantics and server defaults).
fn read_back(job: &CloudJob, prior: &JobModel) -> JobModel {
    let s = schema::schema();
    let ty = s.block.value_type();
    let prior_value = to_value(prior, &ty).unwrap();
    let mut new = to_value(&flatten_job(job, prior), &ty).unwrap();
    tfplugin::framework::normalize_read(&s.block, &prior_value, &mut new);
    from_value(&new).unwrap()
}

#[test]
fn flatten_metadata_keeps_null_and_empty_apart() {
    let items = vec![MetadataItem {
        name: "team".into(),
        value: "render".into(),
    }];
    let empty = BTreeMap::new();
    let team: BTreeMap<String, String> = [("team".to_string(), "render".to_string())].into();
    assert_eq!(flatten_metadata(Some(&items), None), Some(team.clone()));
    assert_eq!(flatten_metadata(Some(&vec![]), None), None);
    assert_eq!(flatten_metadata(None, Some(&team)), Some(empty.clone()));
    assert_eq!(flatten_metadata(Some(&vec![]), Some(&empty)), Some(empty));
}

fn cloud_job() -> CloudJob {
    CloudJob {
        id: Some("RENDER".into()),
        pool_info: Some(PoolInformation {
            pool_id: Some("Pool-1".into()),
            auto_pool_specification: None,
        }),
        on_all_tasks_complete: Some("TerminateJob".into()),
        state: Some("active".into()),
        priority: Some(5),
        ..Default::default()
    }
}

#[test]
fn flatten_job_keeps_the_users_case_and_fills_defaults() {
    let prior = JobModel {
        id: Tf::Known("render".into()),
        name: Tf::Known("render".into()),
        pool_id: Some("pool-1".into()),
        timeouts: Some(Timeouts {
            create: Some("1m".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let m = read_back(&cloud_job(), &prior);
    assert_eq!(m.name, Tf::Known("render".into()));
    assert_eq!(m.id, Tf::Known("render".into()));
    assert_eq!(m.pool_id.as_deref(), Some("pool-1"));
    assert_eq!(m.on_all_tasks_complete.as_deref(), Some("terminatejob"));
    assert_eq!(m.on_task_failure.as_deref(), Some("noaction"));
    assert_eq!(m.priority, Some(5));
    assert_eq!(m.max_parallel_tasks, Some(-1));
    assert_eq!(m.uses_task_dependencies, Some(false));
    assert_eq!(m.state, Tf::Known("active".into()));
    assert_eq!(m.metadata, None);
    assert_eq!(m.constraints, None);
    assert_eq!(m.timeouts, prior.timeouts);
    // Another name (not only another case) is what Batch says.
    let other = JobModel {
        name: Tf::Known("other".into()),
        ..Default::default()
    };
    assert_eq!(
        read_back(&cloud_job(), &other).name,
        Tf::Known("RENDER".into())
    );
    // flatten itself reports Batch's spelling; the schema's IgnoreCase keeps the user's.
    assert_eq!(
        flatten_job(&cloud_job(), &prior).name,
        Tf::Known("RENDER".into())
    );
}

fn planned_job() -> JobModel {
    JobModel {
        id: Tf::Known("render".into()),
        name: Tf::Known("render".into()),
        pool_id: Some("p".into()),
        priority: Some(100),
        max_parallel_tasks: Some(4),
        uses_task_dependencies: Some(true),
        on_all_tasks_complete: Some("noaction".into()),
        on_task_failure: Some("noaction".into()),
        metadata: Some([("team".to_string(), "render".to_string())].into()),
        constraints: Some(constraints(Some("PT2H"), Some(1))),
        ..Default::default()
    }
}

#[test]
fn expand_job_add_carries_every_attribute() {
    let body = expand_job_add(&planned_job(), None);
    let json = serde_json::to_value(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "render",
            "priority": 100,
            "maxParallelTasks": 4,
            "usesTaskDependencies": true,
            "onAllTasksComplete": "noaction",
            "onTaskFailure": "noaction",
            "metadata": [{"name": "team", "value": "render"}],
            "constraints": {"maxWallClockTime": "PT2H", "maxTaskRetryCount": 1},
            "poolInfo": {"poolId": "p"},
        })
    );
}

#[test]
fn expand_constraints_maps_the_block() {
    assert_eq!(expand_constraints(None), None);
    assert_eq!(
        expand_constraints(Some(&constraints(None, Some(-1)))),
        Some(remote_constraints(None, Some(-1)))
    );
}

#[test]
fn expand_job_patch_sends_only_what_changed() {
    let m = JobModel {
        metadata: None,
        constraints: None,
        ..planned_job()
    };
    let cases = [
        (
            JobChanges {
                priority: true,
                ..Default::default()
            },
            serde_json::json!({"priority": 100}),
        ),
        (
            // Removed metadata and constraints are sent empty, so that Batch clears them.
            JobChanges {
                metadata: true,
                constraints: true,
                ..Default::default()
            },
            serde_json::json!({"metadata": [], "constraints": {}}),
        ),
        (
            JobChanges {
                max_parallel_tasks: true,
                on_all_tasks_complete: true,
                ..Default::default()
            },
            serde_json::json!({"maxParallelTasks": 4, "onAllTasksComplete": "noaction"}),
        ),
    ];
    for (changes, want) in cases {
        let body = expand_job_patch(&m, &changes);
        assert_eq!(serde_json::to_value(&body).unwrap(), want, "{changes:?}");
    }
}

#[test]
fn expand_job_update_keeps_what_terraform_does_not_manage() {
    let current = CloudJob {
        allow_task_preemption: Some(true),
        ..Default::default()
    };
    let m = JobModel {
        constraints: Some(constraints(Some("PT2H"), None)),
        metadata: None,
        ..planned_job()
    };
    let json = serde_json::to_value(expand_job_update(&m, &current)).unwrap();
    assert_eq!(json["allowTaskPreemption"], true);
    assert_eq!(
        json["constraints"],
        serde_json::json!({"maxWallClockTime": "PT2H"})
    );
    assert_eq!(json["metadata"], serde_json::json!([]));
    assert_eq!(json["poolInfo"]["poolId"], "p");
    assert_eq!(json["priority"], 100);
}

#[test]
fn update_planner_decides_patch_put_replace_or_nothing() {
    let prior = planned_job();
    let with = |f: &dyn Fn(&mut JobModel)| {
        let mut m = prior.clone();
        f(&mut m);
        m
    };
    let patch = |c: JobChanges| Some(JobCall::Patch(c));
    let cases: Vec<(&str, JobModel, Vec<ReplaceReason>, Option<JobCall>)> = vec![
        ("nothing", prior.clone(), vec![], None),
        (
            "timeouts only",
            with(&|m| m.timeouts = Some(Timeouts::default())),
            vec![],
            None,
        ),
        (
            "priority",
            with(&|m| m.priority = Some(1)),
            vec![],
            patch(JobChanges {
                priority: true,
                ..Default::default()
            }),
        ),
        (
            "metadata removed",
            with(&|m| m.metadata = None),
            vec![],
            patch(JobChanges {
                metadata: true,
                ..Default::default()
            }),
        ),
        (
            "constraint changed",
            with(&|m| m.constraints = Some(constraints(Some("PT3H"), Some(1)))),
            vec![],
            patch(JobChanges {
                constraints: true,
                ..Default::default()
            }),
        ),
        (
            "constraint removed",
            with(&|m| m.constraints = Some(constraints(Some("PT2H"), None))),
            vec![],
            Some(JobCall::Update),
        ),
        (
            "constraints block removed",
            with(&|m| m.constraints = None),
            vec![],
            Some(JobCall::Update),
        ),
        (
            "noaction -> terminatejob",
            with(&|m| m.on_all_tasks_complete = Some("terminatejob".into())),
            vec![],
            patch(JobChanges {
                on_all_tasks_complete: true,
                ..Default::default()
            }),
        ),
    ];
    for (what, planned, replace, call) in cases {
        let p = plan_job_update(&prior, &planned);
        assert_eq!(p.replace, replace, "{what}");
        assert_eq!(p.call, call, "{what}");
    }
    // terminatejob -> noaction replaces the job.
    let term = with(&|m| m.on_all_tasks_complete = Some("terminatejob".into()));
    let p = plan_job_update(&term, &prior);
    assert_eq!(p.replace, [ReplaceReason::OnAllTasksCompleteBackToNoAction]);
    // Unknown in the plan: no replacement decided yet.
    let unknown = with(&|m| m.on_all_tasks_complete = None);
    assert!(plan_job_update(&term, &unknown).replace.is_empty());
}

#[test]
fn import_starts_from_the_name() {
    let mut diags = Diagnostics::new();
    let st = apply::import_state("render", &mut diags);
    assert!(diags.is_empty());
    let mut want = tfplugin::framework::null_object(&schema::schema().block);
    want.set("id", Value::string("render"));
    want.set("name", Value::string("render"));
    assert_eq!(st, want);
    let st = apply::import_state("a/b", &mut diags);
    assert!(st.is_null() && diags.has_errors());
}

#[test]
fn etags_live_in_private_state() {
    let p = apply::etag_private(Some("0x1".into()));
    assert_eq!(apply::private_etag(&p).as_deref(), Some("0x1"));
    assert!(apply::etag_private(None).is_empty());
}

#[test]
fn validate_rejects_zero_parallel_tasks_and_a_lone_release_task() {
    let mut diags = Diagnostics::new();
    JobResource.validate(&job(&[("max_parallel_tasks", Value::int(0))]), &mut diags);
    assert!(diags.has_errors());
    let mut diags = Diagnostics::new();
    JobResource.validate(&job(&[("max_parallel_tasks", Value::int(2))]), &mut diags);
    assert!(diags.is_empty());
    // A release task needs a preparation task: a rule declared on the schema, which the
    // framework checks.
    let release = Value::object([("command_line", Value::string("true"))]);
    let rules = |v: &Value| {
        let mut diags = Diagnostics::new();
        for r in schema::schema().block.rules() {
            r.check(v, &tfplugin::AttrPath::root(), &mut diags);
        }
        diags
    };
    let lone = rules(&job(&[("release_task", release.clone())]));
    assert_eq!(lone.0.len(), 1);
    assert_eq!(
        lone.0[0].path,
        Some(tfplugin::AttrPath::attr("release_task"))
    );
    let both = job(&[
        ("release_task", release.clone()),
        ("preparation_task", release),
    ]);
    assert!(rules(&both).is_empty());
}

fn modify(prior: &Value, planned: &Value) -> PlanResponse {
    let private = tfplugin::framework::Private::new();
    let req = PlanRequest {
        config: planned,
        prior,
        prior_private: &private,
    };
    let mut resp = PlanResponse {
        planned: planned.clone(),
        requires_replace: vec![],
        private: private.clone(),
        diags: Diagnostics::new(),
    };
    JobResource.modify_plan(&req, &mut resp);
    resp
}

#[test]
fn modify_plan_uses_the_planner() {
    let state = |on_all: &str, priority: i64, st: Value| {
        job(&[
            ("id", Value::string("render")),
            ("name", Value::string("render")),
            ("pool_id", Value::string("p")),
            ("priority", Value::int(priority)),
            ("on_all_tasks_complete", Value::string(on_all)),
            ("state", st),
        ])
    };
    let prior = state("terminatejob", 0, Value::string("active"));
    // Back to noaction: replace, and the state is unknown.
    let r = modify(&prior, &state("noaction", 0, Value::Unknown));
    assert_eq!(
        r.requires_replace,
        [tfplugin::AttrPath::attr("on_all_tasks_complete")]
    );
    assert!(r.planned.get("state").is_unknown());
    // An in-place change keeps the state known.
    let r = modify(&prior, &state("terminatejob", 5, Value::Unknown));
    assert!(r.requires_replace.is_empty());
    assert_eq!(r.planned.get("state"), &Value::string("active"));
    // Create: the id is the name, the state unknown.
    let mut planned = state("noaction", 0, Value::Null);
    planned.set("id", Value::Unknown);
    let r = modify(&Value::Null, &planned);
    assert_eq!(r.planned.get("id"), &Value::string("render"));
    assert!(r.planned.get("state").is_unknown());
}

fn container(image: &str, password_wo: Option<&str>) -> TaskContainerModel {
    TaskContainerModel {
        image_name: image.into(),
        registry: Some(RegistryModel {
            server: Some("r.example".into()),
            username: Some("u".into()),
            password_wo: password_wo.map(str::to_string),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn tasks_expand_with_the_configs_write_only_password() {
    let planned = JobModel {
        preparation_task: Some(PreparationTaskModel {
            command_line: "prep".into(),
            environment: Some([("A".to_string(), "1".to_string())].into()),
            container: Some(container("ubuntu", None)),
            wait_for_success: Some(true),
            rerun_on_node_reboot_after_success: Some(false),
            ..Default::default()
        }),
        release_task: Some(ReleaseTaskModel {
            command_line: "release".into(),
            container: Some(container("ubuntu", None)),
            ..Default::default()
        }),
        ..planned_job()
    };
    let mut config = planned.clone();
    if let Some(t) = config.preparation_task.as_mut() {
        t.container = Some(container("ubuntu", Some("secret")));
    }
    let body = serde_json::to_value(expand_job_add(&planned, Some(&config))).unwrap();
    let prep = &body["jobPreparationTask"];
    assert_eq!(prep["commandLine"], "prep");
    assert_eq!(
        prep["environmentSettings"],
        serde_json::json!([{"name": "A", "value": "1"}])
    );
    assert_eq!(prep["waitForSuccess"], true);
    assert_eq!(prep["rerunOnNodeRebootAfterSuccess"], false);
    assert_eq!(prep["containerSettings"]["imageName"], "ubuntu");
    assert_eq!(prep["containerSettings"]["registry"]["password"], "secret");
    let release = &body["jobReleaseTask"];
    assert_eq!(release["commandLine"], "release");
    assert!(
        release["containerSettings"]["registry"]
            .get("password")
            .is_none()
    );
    // Without the configuration there is no password to send.
    let body = serde_json::to_value(expand_job_add(&planned, None)).unwrap();
    assert!(
        body["jobPreparationTask"]["containerSettings"]["registry"]
            .get("password")
            .is_none()
    );
}

#[test]
fn tasks_flatten_with_defaults_and_the_prior_block() {
    let remote = CloudJob {
        job_preparation_task: Some(JobPreparationTask {
            command_line: "prep".into(),
            ..Default::default()
        }),
        job_release_task: Some(JobReleaseTask {
            command_line: "release".into(),
            environment_settings: Some(vec![]),
            ..Default::default()
        }),
        ..cloud_job()
    };
    let prior = JobModel {
        release_task: Some(ReleaseTaskModel {
            command_line: "release".into(),
            environment: Some(BTreeMap::new()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let m = flatten_job(&remote, &prior);
    let prep = m.preparation_task.unwrap();
    assert_eq!(prep.command_line, "prep");
    // Batch omits its defaults: true, as the schema's defaults say.
    assert_eq!(prep.wait_for_success, Some(true));
    assert_eq!(prep.rerun_on_node_reboot_after_success, Some(true));
    assert_eq!(prep.environment, None);
    assert_eq!(prep.container, None);
    // An empty environment the user wrote stays empty rather than null.
    assert_eq!(m.release_task.unwrap().environment, Some(BTreeMap::new()));
}

#[test]
fn batch_property_names_point_at_attributes() {
    let w = apply::wire_paths();
    let cases = [
        ("poolInfo.poolId", Some("pool_id")),
        ("priority", Some("priority")),
        ("maxParallelTasks", Some("max_parallel_tasks")),
        (
            "constraints.maxWallClockTime",
            Some("constraints.max_wall_clock_time"),
        ),
        (
            "constraints.maxTaskRetryCount",
            Some("constraints.max_task_retry_count"),
        ),
        (
            "jobManagerTask.constraints.maxTaskRetryCount",
            Some("manager_task.constraints.max_task_retry_count"),
        ),
        // The job's or its manager task's: the bare name says neither (the value sent does,
        // see below).
        ("maxTaskRetryCount", None),
        ("onAllTasksComplete", Some("on_all_tasks_complete")),
        (
            "jobPreparationTask.containerSettings.imageName",
            Some("preparation_task.container.image_name"),
        ),
        (
            "jobReleaseTask.commandLine",
            Some("release_task.command_line"),
        ),
        ("noSuchProperty", None),
    ];
    w.assert_lookups(&cases);
    // A bare name with the value Batch quotes: the property sent with that value.
    let m = JobModel {
        constraints: Some(constraints(None, Some(1))),
        manager_task: Some(crate::common::manager_task::ManagerTaskModel {
            name: "m".into(),
            constraints: Some(crate::common::task_spec::TaskConstraintsModel {
                max_task_retry_count: Some(-1),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..planned_job()
    };
    let sent = serde_json::to_value(expand_job_add(&m, None)).unwrap();
    let at = |v: &str| {
        w.lookup_sent("maxTaskRetryCount", Some(v), &sent)
            .map(|p| p.to_string())
    };
    assert_eq!(at("1").as_deref(), Some("constraints.max_task_retry_count"));
    assert_eq!(
        at("-1").as_deref(),
        Some("manager_task.constraints.max_task_retry_count")
    );
    assert_eq!(at("3"), None);
}

#[test]
fn the_manager_task_goes_to_batch_and_reads_back() {
    use crate::common::manager_task::ManagerTaskModel;
    let m = JobModel {
        manager_task: Some(ManagerTaskModel {
            name: "manager".into(),
            command_line: "/bin/sh -c 'echo done'".into(),
            container: Some(TaskContainerModel {
                image_name: "busybox".into(),
                working_directory: Some("taskWorkingDirectory".into()),
                ..Default::default()
            }),
            kill_job_on_completion: Some(false),
            ..Default::default()
        }),
        ..planned_job()
    };
    let body = expand_job_add(&m, None);
    let jm = body.job_manager_task.clone().expect("jobManagerTask");
    assert_eq!(jm.id, "manager");
    assert_eq!(jm.kill_job_on_completion, Some(false));
    assert_eq!(jm.container_settings.unwrap().image_name, "busybox");
    let job = CloudJob {
        id: Some("render".into()),
        job_manager_task: body.job_manager_task,
        ..Default::default()
    };
    assert_eq!(read_back(&job, &m).manager_task, m.manager_task);
    // The block replaces the job: Batch has no call that changes a job's manager task.
    assert!(
        schema::schema()
            .block
            .nested("manager_task")
            .unwrap()
            .requires_replace
    );
}
