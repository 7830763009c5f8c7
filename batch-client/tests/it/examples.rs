//! Every example body in spec/examples parses into our models and serializes back to the same
//! JSON (so no property is lost or renamed), ignoring `odata.*` annotations.

use batch_client::models::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::PathBuf;

pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/examples")
}

pub fn load(name: &str) -> Value {
    let p = examples_dir().join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// Drops `odata.*` annotations (except the next link) and `null` properties.
fn strip_odata(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                // `null` means absent; our models omit absent properties.
                .filter(|(k, v)| {
                    (!k.starts_with("odata.") || k.as_str() == "odata.nextLink") && !v.is_null()
                })
                .map(|(k, v)| (k.clone(), strip_odata(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_odata).collect()),
        other => other.clone(),
    }
}

/// JSON equality where numbers compare by value (0 == 0.0).
fn same(a: &Value, b: &Value, path: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => same(p, q, &format!("{path}.{k}"))?,
                    (Some(_), None) => return Err(format!("{path}.{k} lost by the model")),
                    (None, Some(_)) => return Err(format!("{path}.{k} added by the model")),
                    (None, None) => unreachable!(),
                }
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => Ok(()),
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} became {b}")),
    }
}

pub fn roundtrip<T: DeserializeOwned + Serialize>(v: &Value) -> Result<T, String> {
    let parsed: T = serde_json::from_value(v.clone()).map_err(|e| format!("parse: {e}"))?;
    let back = serde_json::to_value(&parsed).unwrap();
    same(&strip_odata(v), &back, "$")?;
    Ok(parsed)
}

fn check<T: DeserializeOwned + Serialize>(file: &str, pointer: &str) -> T {
    let ex = load(file);
    let v = ex
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{file}: no {pointer}"));
    roundtrip::<T>(v).unwrap_or_else(|e| panic!("{file} {pointer}: {e}"))
}

#[test]
fn response_examples_roundtrip() {
    let pool: CloudPool = check("PoolGet_Basic.json", "/responses/200/body");
    assert_eq!(pool.id.as_deref(), Some("pool"));
    assert!(pool.virtual_machine_configuration.is_some());
    for f in [
        "PoolGet_AcceleratedNetworking.json",
        "PoolGet_SecurityProfile.json",
        "PoolGet_UpgradePolicy.json",
        "PoolGet_VirtualMachineConfigurationWithExtensions.json",
        "PoolGet_VirtualMachineConfigurationWithOSDisk.json",
    ] {
        let p: CloudPool = check(f, "/responses/200/body");
        assert!(p.e_tag.is_some(), "{f}");
    }
    let pools: CloudPoolListResult = check("PoolList_Basic.json", "/responses/200/body");
    assert!(!pools.value.unwrap().is_empty());

    let job: CloudJob = check("JobGet.json", "/responses/200/body");
    assert!(job.execution_info.is_some() && job.pool_info.is_some());

    let task: CloudTask = check("TaskGet.json", "/responses/200/body");
    let exec = task.execution_info.expect("executionInfo");
    let _ = (exec.retry_count, exec.requeue_count);
    let tasks: CloudTaskListResult = check("TaskList.json", "/responses/200/body");
    assert!(!tasks.value.unwrap().is_empty());

    let node: ComputeNode = check("NodeGet_Basic.json", "/responses/200/body");
    assert!(node.start_task_info.is_some());
    let nodes: ComputeNodeListResult = check("NodeList.json", "/responses/200/body");
    assert!(!nodes.value.unwrap().is_empty());

    let files: NodeFileListResult = check("FileListFromTask.json", "/responses/200/body");
    let files = files.value.unwrap();
    assert!(files.iter().any(|f| f.properties.is_some()));

    let images: AccountListSupportedImagesResult =
        check("AccountListSupportedImages.json", "/responses/200/body");
    let images = images.value.unwrap();
    assert!(images.iter().all(|i| !i.node_agent_sku_id.is_empty()));

    let counts: PoolNodeCountsListResult =
        check("AccountListPoolNodeCounts.json", "/responses/200/body");
    assert!(counts.value.unwrap().iter().all(|c| !c.pool_id.is_empty()));

    let results: TaskAddCollectionResult =
        check("TaskAddCollection_Basic.json", "/responses/200/body");
    assert!(!results.value.unwrap().is_empty());

    let run: AutoScaleRun = check("PoolEvaluateAutoscale.json", "/responses/200/body");
    assert!(!run.timestamp.is_empty());

    let sched: CloudJobSchedule = check("JobScheduleGet.json", "/responses/200/body");
    let spec = sched.job_specification.expect("jobSpecification");
    assert_eq!(spec.pool_info.pool_id.as_deref(), Some("testPool"));
    let recent = sched
        .execution_info
        .and_then(|e| e.recent_job)
        .expect("recentJob");
    assert_eq!(recent.id.as_deref(), Some("jobScheduleId:job-1"));
    let scheds: CloudJobScheduleListResult = check("JobScheduleList.json", "/responses/200/body");
    assert!(!scheds.value.unwrap().is_empty());
    let jobs: CloudJobListResult = check("JobListFromJobSchedule.json", "/responses/200/body");
    assert!(!jobs.value.unwrap().is_empty());
}

#[test]
fn request_examples_roundtrip() {
    for f in [
        "PoolAdd_AcceleratedNetworking.json",
        "PoolAdd_MountConfiguration.json",
        "PoolAdd_OSDisk.json",
        "PoolAdd_ResourceTags.json",
        "PoolAdd_SecurityProfile.json",
        "PoolAdd_UpgradePolicy.json",
        "PoolAdd_VirtualMachineConfiguration.json",
        "PoolAdd_VirtualMachineConfigurationWithContainers.json",
        "PoolAdd_VirtualMachineConfigurationWithExtensions.json",
    ] {
        let p: PoolAddParameter = check(f, "/parameters/pool");
        assert!(!p.id.is_empty(), "{f}");
    }
    for f in ["JobAdd_Basic.json", "JobAdd_Complex.json"] {
        let _: JobAddParameter = check(f, "/parameters/job");
    }
    for f in [
        "TaskAdd_Basic.json",
        "TaskAdd_ContainerSettings.json",
        "TaskAdd_ContainerSettingsWithDataIsolation.json",
        "TaskAdd_ContainerSettingsWithDataIsolation_DuplicateSources.json",
        "TaskAdd_ExitConditions.json",
        "TaskAdd_RequiredSlots.json",
    ] {
        let _: TaskAddParameter = check(f, "/parameters/task");
    }
    let _: TaskAddCollectionParameter =
        check("TaskAddCollection_Basic.json", "/parameters/taskCollection");
    let _: PoolPatchParameter = check("PoolPatch.json", "/parameters/poolPatchParameter");
    let _: PoolUpdatePropertiesParameter = check(
        "PoolUpdate.json",
        "/parameters/poolUpdatePropertiesParameter",
    );
    let _: PoolResizeParameter = check("PoolResize.json", "/parameters/poolResizeParameter");
    let _: PoolEnableAutoScaleParameter = check(
        "PoolEnableAutoscale.json",
        "/parameters/poolEnableAutoScaleParameter",
    );
    let _: JobPatchParameter = check("JobPatch.json", "/parameters/jobPatchParameter");
    let _: JobUpdateParameter = check("JobUpdate.json", "/parameters/jobUpdateParameter");
    let _: JobTerminateParameter = check("JobTerminate.json", "/parameters/jobTerminateParameter");
    let _: TaskUpdateParameter = check("TaskUpdate.json", "/parameters/taskUpdateParameter");
    let add: JobScheduleAddParameter = check(
        "JobScheduleAdd_Complex.json",
        "/parameters/cloudJobSchedule",
    );
    assert!(add.job_specification.job_manager_task.is_some());
    let upd: JobScheduleUpdateParameter = check(
        "JobScheduleUpdate.json",
        "/parameters/jobScheduleUpdateParameter",
    );
    assert!(upd.schedule.do_not_run_until.is_some());
}

#[test]
fn unknown_fields_and_enum_values_never_fail_parsing() {
    let v = serde_json::json!({
        "odata.metadata": "https://x/$metadata#pools/@Element",
        "id": "p", "state": "somenewstate", "allocationState": "Resizing",
        "brandNewProperty": {"nested": [1, 2, 3]},
        "taskSchedulingPolicy": {"nodeFillType": "Spread", "jobDefaultOrder": "none"},
        "virtualMachineConfiguration": {"imageReference": {}, "nodeAgentSKUId": "x",
            "containerConfiguration": {"type": "futureRuntime"}}
    });
    let p: CloudPool = serde_json::from_value(v).unwrap();
    assert_eq!(p.state.as_deref(), Some("somenewstate"));
    assert!(!p.is_steady());
    assert_eq!(
        p.virtual_machine_configuration
            .unwrap()
            .container_configuration
            .unwrap()
            .type_,
        "futureRuntime"
    );
}

#[test]
fn secrets_are_redacted_in_debug_but_sent_on_the_wire() {
    let reg = ContainerRegistry {
        registry_server: Some("myregistry.azurecr.io".into()),
        username: Some("puller".into()),
        password: Some(Secret::new("hunter2-very-secret".to_string())),
        identity_reference: None,
    };
    let dbg = format!("{reg:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(dbg.contains("puller"));
    let wire = serde_json::to_value(&reg).unwrap();
    assert_eq!(wire["password"], "hunter2-very-secret");
    let back: ContainerRegistry = serde_json::from_value(wire).unwrap();
    assert_eq!(back, reg);
}
