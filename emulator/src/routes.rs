//! Every HTTP route of the service in one table, read top to bottom like the REST API's operation
//! list: method, path pattern, the spec's operation id (used for fault injection and logs), and the
//! handler. The control API (`/_emulator`, not part of Batch) follows at the end.
//!
//! Patterns: a literal segment matches itself, `{name}` matches one segment, `{*name}` matches the
//! rest of the path (zero or more segments, joined with `/`). The first matching row wins.

use axum::response::Response;

use crate::admin;
use crate::app::{App, HandlerResult, Req};
use crate::state::State;
use crate::{account, files, jobs, nodes, pools, schedules};

/// A Batch operation: runs under the state lock with the path's captures.
pub type OpFn = fn(&App, &mut State, &Req, &[String]) -> HandlerResult;
/// A control API endpoint that does not touch the service's state.
pub type ControlFn = fn(&App, &[u8], &[String]) -> Response;
/// A control API endpoint that reads or changes the service's state (locked and persisted for it).
pub type ControlStateFn = fn(&App, &mut State, &[u8], &[String]) -> Response;

pub enum Handler {
    /// Authenticated, api-version checked, subject to fault injection.
    Op(&'static str, OpFn),
    Control(ControlFn),
    ControlState(ControlStateFn),
}

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub handler: Handler,
}

/// The path prefix of the control API.
pub const CONTROL_PREFIX: &str = "/_emulator";

const fn op(method: &'static str, path: &'static str, id: &'static str, f: OpFn) -> Route {
    Route {
        method,
        path,
        handler: Handler::Op(id, f),
    }
}

const fn control(method: &'static str, path: &'static str, f: ControlFn) -> Route {
    Route {
        method,
        path,
        handler: Handler::Control(f),
    }
}

const fn control_state(method: &'static str, path: &'static str, f: ControlStateFn) -> Route {
    Route {
        method,
        path,
        handler: Handler::ControlState(f),
    }
}

#[rustfmt::skip]
pub static ROUTES: &[Route] = &[
    // Pools
    op("POST",   "/pools",                                   "Pool_Add",               |a, st, r, _| pools::pool_add(a, st, r)),
    op("GET",    "/pools",                                   "Pool_List",              |a, st, r, _| pools::pool_list(a, st, r)),
    op("GET",    "/pools/{poolId}",                          "Pool_Get",               |a, st, r, p| pools::pool_get(a, st, r, &p[0])),
    op("HEAD",   "/pools/{poolId}",                          "Pool_Exists",            |a, st, r, p| pools::pool_get(a, st, r, &p[0])),
    op("PATCH",  "/pools/{poolId}",                          "Pool_Patch",             |a, st, r, p| pools::pool_patch(a, st, r, &p[0])),
    op("DELETE", "/pools/{poolId}",                          "Pool_Delete",            |a, st, r, p| pools::pool_delete(a, st, r, &p[0])),
    op("POST",   "/pools/{poolId}/resize",                   "Pool_Resize",            |a, st, r, p| pools::pool_resize(a, st, r, &p[0])),
    op("POST",   "/pools/{poolId}/stopresize",               "Pool_StopResize",        |a, st, r, p| pools::pool_stop_resize(a, st, r, &p[0])),
    op("POST",   "/pools/{poolId}/enableautoscale",          "Pool_EnableAutoScale",   |a, st, r, p| pools::pool_enable_autoscale(a, st, r, &p[0])),
    op("POST",   "/pools/{poolId}/disableautoscale",         "Pool_DisableAutoScale",  |a, st, r, p| pools::pool_disable_autoscale(a, st, r, &p[0])),
    op("POST",   "/pools/{poolId}/evaluateautoscale",        "Pool_EvaluateAutoScale", |a, st, r, p| pools::pool_evaluate_autoscale(a, st, r, &p[0])),
    op("POST",   "/pools/{poolId}/updateproperties",         "Pool_UpdateProperties",  |a, st, r, p| pools::pool_update_properties(a, st, r, &p[0])),
    op("POST",   "/pools/{poolId}/removenodes",              "Pool_RemoveNodes",       |a, st, r, p| pools::pool_remove_nodes(a, st, r, &p[0])),
    // Compute nodes
    op("GET",    "/pools/{poolId}/nodes",                    "ComputeNode_List",       |a, st, r, p| nodes::node_list(a, st, r, &p[0])),
    op("GET",    "/pools/{poolId}/nodes/{nodeId}",           "ComputeNode_Get",        |a, st, r, p| nodes::node_get(a, st, r, &p[0], &p[1])),
    op("POST",   "/pools/{poolId}/nodes/{nodeId}/reboot",    "ComputeNode_Reboot",     |a, st, r, p| nodes::node_reboot(a, st, r, &p[0], &p[1])),
    op("POST",   "/pools/{poolId}/nodes/{nodeId}/disablescheduling", "ComputeNode_DisableScheduling", |a, st, r, p| nodes::node_scheduling(a, st, r, &p[0], &p[1], false)),
    op("POST",   "/pools/{poolId}/nodes/{nodeId}/enablescheduling",  "ComputeNode_EnableScheduling",  |a, st, r, p| nodes::node_scheduling(a, st, r, &p[0], &p[1], true)),
    op("GET",    "/pools/{poolId}/nodes/{nodeId}/files",     "File_ListFromComputeNode",          |a, st, r, p| files::node_files(a, st, r, &p[0], &p[1])),
    op("GET",    "/pools/{poolId}/nodes/{nodeId}/files/{*filePath}", "File_GetFromComputeNode",           |a, st, r, p| files::node_file(a, st, r, &p[0], &p[1], &p[2])),
    op("HEAD",   "/pools/{poolId}/nodes/{nodeId}/files/{*filePath}", "File_GetPropertiesFromComputeNode", |a, st, r, p| files::node_file(a, st, r, &p[0], &p[1], &p[2])),
    // Jobs
    op("POST",   "/jobs",                                    "Job_Add",                |a, st, r, _| jobs::job_add(a, st, r)),
    op("GET",    "/jobs",                                    "Job_List",               |a, st, r, _| jobs::job_list(a, st, r)),
    op("GET",    "/jobs/{jobId}",                            "Job_Get",                |a, st, r, p| jobs::job_get(a, st, r, &p[0])),
    op("PATCH",  "/jobs/{jobId}",                            "Job_Patch",              |a, st, r, p| jobs::job_patch(a, st, r, &p[0], false)),
    op("PUT",    "/jobs/{jobId}",                            "Job_Update",             |a, st, r, p| jobs::job_patch(a, st, r, &p[0], true)),
    op("DELETE", "/jobs/{jobId}",                            "Job_Delete",             |a, st, r, p| jobs::job_delete(a, st, r, &p[0])),
    op("POST",   "/jobs/{jobId}/terminate",                  "Job_Terminate",          |a, st, r, p| jobs::job_terminate(a, st, r, &p[0])),
    op("POST",   "/jobs/{jobId}/disable",                    "Job_Disable",            |a, st, r, p| jobs::job_disable(a, st, r, &p[0])),
    op("POST",   "/jobs/{jobId}/enable",                     "Job_Enable",             |a, st, r, p| jobs::job_enable(a, st, r, &p[0])),
    op("GET",    "/jobs/{jobId}/taskcounts",                 "Job_GetTaskCounts",      |a, st, r, p| jobs::task_counts(a, st, r, &p[0])),
    op("GET",    "/jobs/{jobId}/jobpreparationandreleasetaskstatus", "Job_ListPreparationAndReleaseTaskStatus", |a, st, r, p| jobs::prep_release_status(a, st, r, &p[0])),
    // Job schedules
    op("POST",   "/jobschedules",                            "JobSchedule_Add",        |a, st, r, _| schedules::add(a, st, r)),
    op("GET",    "/jobschedules",                            "JobSchedule_List",       |a, st, r, _| schedules::list(a, st, r)),
    op("GET",    "/jobschedules/{jobScheduleId}",            "JobSchedule_Get",        |a, st, r, p| schedules::get(a, st, r, &p[0])),
    op("HEAD",   "/jobschedules/{jobScheduleId}",            "JobSchedule_Exists",     |a, st, r, p| schedules::get(a, st, r, &p[0])),
    op("PATCH",  "/jobschedules/{jobScheduleId}",            "JobSchedule_Patch",      |a, st, r, p| schedules::patch(a, st, r, &p[0], false)),
    op("PUT",    "/jobschedules/{jobScheduleId}",            "JobSchedule_Update",     |a, st, r, p| schedules::patch(a, st, r, &p[0], true)),
    op("DELETE", "/jobschedules/{jobScheduleId}",            "JobSchedule_Delete",     |a, st, r, p| schedules::delete(a, st, r, &p[0])),
    op("POST",   "/jobschedules/{jobScheduleId}/disable",    "JobSchedule_Disable",    |a, st, r, p| schedules::set_enabled(a, st, r, &p[0], false)),
    op("POST",   "/jobschedules/{jobScheduleId}/enable",     "JobSchedule_Enable",     |a, st, r, p| schedules::set_enabled(a, st, r, &p[0], true)),
    op("POST",   "/jobschedules/{jobScheduleId}/terminate",  "JobSchedule_Terminate",  |a, st, r, p| schedules::terminate(a, st, r, &p[0])),
    op("GET",    "/jobschedules/{jobScheduleId}/jobs",       "Job_ListFromJobSchedule", |a, st, r, p| schedules::jobs(a, st, r, &p[0])),
    // Tasks
    op("POST",   "/jobs/{jobId}/tasks",                      "Task_Add",               |a, st, r, p| jobs::tasks::task_add(a, st, r, &p[0])),
    op("GET",    "/jobs/{jobId}/tasks",                      "Task_List",              |a, st, r, p| jobs::tasks::task_list(a, st, r, &p[0])),
    op("POST",   "/jobs/{jobId}/addtaskcollection",          "Task_AddCollection",     |a, st, r, p| jobs::tasks::task_add_collection(a, st, r, &p[0])),
    op("GET",    "/jobs/{jobId}/tasks/{taskId}",             "Task_Get",               |a, st, r, p| jobs::tasks::task_get(a, st, r, &p[0], &p[1])),
    op("PUT",    "/jobs/{jobId}/tasks/{taskId}",             "Task_Update",            |a, st, r, p| jobs::tasks::task_update(a, st, r, &p[0], &p[1])),
    op("DELETE", "/jobs/{jobId}/tasks/{taskId}",             "Task_Delete",            |a, st, r, p| jobs::tasks::task_delete(a, st, r, &p[0], &p[1])),
    op("POST",   "/jobs/{jobId}/tasks/{taskId}/terminate",   "Task_Terminate",         |a, st, r, p| jobs::tasks::task_terminate(a, st, r, &p[0], &p[1])),
    op("POST",   "/jobs/{jobId}/tasks/{taskId}/reactivate",  "Task_Reactivate",        |a, st, r, p| jobs::tasks::task_reactivate(a, st, r, &p[0], &p[1])),
    op("GET",    "/jobs/{jobId}/tasks/{taskId}/subtasksinfo", "Task_ListSubtasks",     |a, st, r, p| jobs::tasks::task_subtasks(a, st, r, &p[0], &p[1])),
    op("GET",    "/jobs/{jobId}/tasks/{taskId}/files",       "File_ListFromTask",      |a, st, r, p| files::task_files(a, st, r, &p[0], &p[1])),
    op("GET",    "/jobs/{jobId}/tasks/{taskId}/files/{*filePath}", "File_GetFromTask",           |a, st, r, p| files::task_file(a, st, r, &p[0], &p[1], &p[2])),
    op("HEAD",   "/jobs/{jobId}/tasks/{taskId}/files/{*filePath}", "File_GetPropertiesFromTask", |a, st, r, p| files::task_file(a, st, r, &p[0], &p[1], &p[2])),
    // Account
    op("GET",    "/supportedimages",                         "Account_ListSupportedImages", |a, _, r, _| account::supported_images_list(a, r)),
    op("GET",    "/nodecounts",                              "Account_ListPoolNodeCounts",  |a, st, r, _| account::node_counts(a, st, r)),
    // Control API (not part of Batch; no authentication, loopback only)
    control("GET",          "/_emulator/health",                          |a, _, _| admin::health(a)),
    control("GET",          "/_emulator/faults",                          |a, _, _| admin::faults_get(a)),
    control("PUT",          "/_emulator/faults",                          |a, b, _| admin::faults_put(a, b)),
    control("POST",         "/_emulator/faults",                          |a, b, _| admin::faults_add(a, b)),
    control("DELETE",       "/_emulator/faults",                          |a, _, _| admin::faults_clear(a)),
    control("GET",          "/_emulator/requests",                        |a, _, _| admin::requests_get(a)),
    control("DELETE",       "/_emulator/requests",                        |a, _, _| admin::requests_clear(a)),
    control_state("GET",    "/_emulator/pools/{poolId}/overrides",        |_, st, _, p| admin::overrides_get(st, &p[0])),
    control_state("PUT",    "/_emulator/pools/{poolId}/overrides",        |a, st, b, p| admin::overrides_put(a, st, b, &p[0])),
    control_state("DELETE", "/_emulator/pools/{poolId}/overrides",        |a, st, _, p| admin::overrides_delete(a, st, &p[0])),
    control_state("POST",   "/_emulator/pools/{poolId}/nodes/{nodeId}/state", |_, st, b, p| admin::node_state(st, b, &p[0], &p[1])),
];

/// Match `segments` against a pattern's segments; returns the captures.
fn captures(pattern: &str, segments: &[&str]) -> Option<Vec<String>> {
    let mut out = vec![];
    let mut rest = segments;
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        if part.starts_with("{*") {
            out.push(rest.join("/"));
            return Some(out);
        }
        let (first, tail) = rest.split_first()?;
        if part.starts_with('{') {
            out.push(first.to_string());
        } else if part != *first {
            return None;
        }
        rest = tail;
    }
    rest.is_empty().then_some(out)
}

/// The Batch operation a request addresses (its path already split and percent-decoded).
pub fn find_op(method: &str, segments: &[&str]) -> Option<(&'static Route, Vec<String>)> {
    ROUTES
        .iter()
        .filter(|r| r.method == method && matches!(r.handler, Handler::Op(..)))
        .find_map(|r| captures(r.path, segments).map(|c| (r, c)))
}

/// The control API endpoint a request addresses (`segments` come after [`CONTROL_PREFIX`]).
pub fn find_control(method: &str, segments: &[&str]) -> Option<(&'static Route, Vec<String>)> {
    ROUTES
        .iter()
        .filter(|r| r.method == method && !matches!(r.handler, Handler::Op(..)))
        .filter_map(|r| r.path.strip_prefix(CONTROL_PREFIX).map(|p| (r, p)))
        .find_map(|(r, p)| captures(p, segments).map(|c| (r, c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op_id(method: &str, path: &str) -> Option<(&'static str, Vec<String>)> {
        let seg: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        find_op(method, &seg).map(|(r, c)| match r.handler {
            Handler::Op(id, _) => (id, c),
            _ => unreachable!(),
        })
    }

    #[test]
    fn operations_and_captures() {
        assert_eq!(op_id("POST", "/pools"), Some(("Pool_Add", vec![])));
        assert_eq!(
            op_id("HEAD", "/pools/p1"),
            Some(("Pool_Exists", vec!["p1".into()]))
        );
        assert_eq!(
            op_id("GET", "/pools/p/nodes/n/files"),
            Some(("File_ListFromComputeNode", vec!["p".into(), "n".into()]))
        );
        assert_eq!(
            op_id("GET", "/jobs/j/tasks/t/files/wd/out.txt"),
            Some((
                "File_GetFromTask",
                vec!["j".into(), "t".into(), "wd/out.txt".into()]
            ))
        );
        // A bare files path answered by HEAD reads the properties of the root (empty path).
        assert_eq!(
            op_id("HEAD", "/jobs/j/tasks/t/files"),
            Some((
                "File_GetPropertiesFromTask",
                vec!["j".into(), "t".into(), String::new()]
            ))
        );
        assert_eq!(op_id("GET", "/pools/p/nope"), None);
        assert_eq!(op_id("PUT", "/pools"), None);
        assert_eq!(op_id("GET", "/_emulator/health"), None);
    }

    #[test]
    fn control_routes_match_after_the_prefix() {
        let found = |m: &str, p: &[&str]| find_control(m, p).map(|(r, c)| (r.path, c));
        assert_eq!(
            found("GET", &["health"]),
            Some(("/_emulator/health", vec![]))
        );
        assert_eq!(
            found("POST", &["pools", "p", "nodes", "n", "state"]),
            Some((
                "/_emulator/pools/{poolId}/nodes/{nodeId}/state",
                vec!["p".into(), "n".into()]
            ))
        );
        assert!(found("GET", &["pools"]).is_none());
    }

    #[test]
    fn every_operation_id_is_unique() {
        let mut ids: Vec<&str> = ROUTES
            .iter()
            .filter_map(|r| match r.handler {
                Handler::Op(id, _) => Some(id),
                _ => None,
            })
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
