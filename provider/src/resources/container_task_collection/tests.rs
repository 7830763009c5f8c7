//! Unit tests of the collection: the model against its schema, the planned results, validation,
//! the plan modifier's patch and import ids.

use std::collections::BTreeMap;

use tfplugin::Diagnostics;
use tfplugin::model::{Tf, check_round_trip, from_value, to_value};

use super::apply::{import, plan, planned_results};
use super::model::*;
use super::plan::plan_changes;
use super::schema::{schema, task_object};
use crate::common::task_spec::TaskContainerModel;
use crate::common::task_spec::task_args::TaskArgs;

fn args(cmd: &str) -> TaskArgs {
    TaskArgs {
        command_line: Some(cmd.into()),
        container: Some(TaskContainerModel {
            image_name: "busybox".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn result(state: &str, res: Option<&str>) -> ResultModel {
    ResultModel {
        state: Tf::Known(state.into()),
        exit_code: Tf::Null,
        result: res.map(str::to_string).into(),
    }
}

#[test]
fn models_cover_their_schemas() {
    check_round_trip::<CollectionModel>(schema().value_type()).unwrap();
    check_round_trip::<TaskArgs>(&task_object().value_type()).unwrap();
}

#[test]
fn only_job_id_forces_replacement() {
    let b = &schema().block;
    let replacing: Vec<&str> = b
        .attributes
        .iter()
        .filter(|a| a.is_requires_replace())
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(replacing, vec!["job_id"]);
    fn none_inside(b: &tfplugin::schema::Block) {
        for a in &b.attributes {
            assert!(!a.is_requires_replace(), "{} forces replacement", a.name);
            if let Some(n) = &a.nested {
                none_inside(&n.block);
            }
        }
        assert!(b.blocks.is_empty(), "nested attributes only");
    }
    none_inside(&task_object());
}

#[test]
fn results_are_unknown_exactly_for_the_tasks_apply_touches() {
    let prior = BTreeMap::from([
        ("a".to_string(), result("completed", Some("success"))),
        ("b".to_string(), result("completed", Some("failure"))),
        ("c".to_string(), result("completed", Some("success"))),
    ]);
    let planned = BTreeMap::from([
        ("a".to_string(), Some(args("x"))),
        ("b".to_string(), Some(args("x"))),
        ("c".to_string(), Some(args("changed"))),
        ("d".to_string(), Some(args("x"))),
    ]);
    let prior_tasks = ["a", "b", "c"]
        .iter()
        .map(|k| {
            (
                k.to_string(),
                super::plan::PriorTask {
                    args: args("x"),
                    failed: prior[*k].failed(),
                    completed: true,
                },
            )
        })
        .collect();
    let c = plan_changes(&prior_tasks, &planned, false);
    let r = planned_results(&prior, &planned, &c);
    assert_eq!(r["a"], prior["a"]);
    for k in ["b", "c", "d"] {
        assert_eq!(r[k], ResultModel::unknown(), "{k}");
    }
}

#[test]
fn plan_patch_keeps_untouched_results_and_marks_the_failed_one() {
    let ty = schema().value_type();
    let prior = CollectionModel {
        id: Tf::Known("j".into()),
        job_id: "j".into(),
        tasks: Some(BTreeMap::from([
            ("ok".to_string(), args("x")),
            ("bad".to_string(), args("y")),
        ])),
        wait_for_completion: Some(true),
        results: Some(BTreeMap::from([
            ("ok".to_string(), result("completed", Some("success"))),
            ("bad".to_string(), result("completed", Some("failure"))),
        ])),
        timeouts: None,
    };
    let prior_v = to_value(&prior, ty).unwrap();
    let mut planned_v = prior_v.clone();
    plan(&prior_v, &mut planned_v);
    let planned: CollectionModel = from_value(&planned_v).unwrap();
    let r = planned.results.unwrap();
    assert_eq!(r["ok"], prior.results.as_ref().unwrap()["ok"]);
    assert_eq!(r["bad"], ResultModel::unknown());
    assert_eq!(planned.id, Tf::Known("j".into()));
    // Nothing failed: the plan is the prior state.
    let mut clean = prior.clone();
    clean
        .results
        .as_mut()
        .unwrap()
        .insert("bad".into(), result("completed", Some("success")));
    let clean_v = to_value(&clean, ty).unwrap();
    let mut planned_v = clean_v.clone();
    plan(&clean_v, &mut planned_v);
    assert_eq!(planned_v, clean_v);
}

#[test]
fn validation_names_the_entry() {
    let ty = schema().value_type();
    let m = CollectionModel {
        job_id: "j".into(),
        tasks: Some(BTreeMap::from([
            ("Frame-1".to_string(), args("x")),
            ("frame-1".to_string(), args("x")),
            ("no container".to_string(), TaskArgs::default()),
        ])),
        ..Default::default()
    };
    let v = to_value(&m, ty).unwrap();
    let mut d = Diagnostics::new();
    super::validate_tasks(&from_value(&v).unwrap(), &mut d);
    let got: Vec<String> =
        d.0.iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    d.path.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                    d.summary
                )
            })
            .collect();
    assert!(
        got.iter()
            .any(|g| g.contains("frame-1") && g.contains("Duplicate task name")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|g| g.contains("no container") && g.contains("Invalid task name")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|g| g.contains("no container") && g.contains("Missing container")),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn import_takes_a_job_id() {
    let r = import("render");
    assert!(!r.diags.has_errors());
    let m: CollectionModel = from_value(&r.state).unwrap();
    assert_eq!(m.job_id, "render");
    assert_eq!(m.tasks, None, "the first read adopts the tasks");
    let r = import("render/frame-1");
    assert!(r.diags.has_errors());
    assert!(
        r.diags.0[0]
            .detail
            .contains("terraform import batch_container_task_collection")
    );
}
