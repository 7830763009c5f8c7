//! Plan decides, apply carries out: which tasks an apply adds, deletes, replaces, updates in
//! place or waits for, as a pure function of (prior, planned) that both `modify_plan` (to plan
//! the results of exactly those tasks) and `create`/`update` use.

use std::collections::BTreeMap;

use crate::common::task_spec::task_args::TaskArgs;

/// A task the prior state has.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorTask {
    pub args: TaskArgs,
    /// Its run failed: it runs again (is replaced) on the next apply.
    pub failed: bool,
    pub completed: bool,
}

/// What an apply does, per task name (each list sorted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// New names: added in bulk.
    pub add: Vec<String>,
    /// Changed entries (other than constraints), entries not yet known, and failed runs:
    /// deleted, then added again.
    pub replace: Vec<String>,
    /// Names no longer in the map: deleted.
    pub delete: Vec<String>,
    /// Only `constraints` changed: Task_Update in place.
    pub update_constraints: Vec<String>,
    /// Tasks left alone that apply still waits for (waiting was just turned on and they have
    /// not finished).
    pub wait: Vec<String>,
}

impl Changes {
    /// The names this apply adds (new and replaced).
    pub fn added(&self) -> Vec<String> {
        let mut v: Vec<String> = self.add.iter().chain(&self.replace).cloned().collect();
        v.sort();
        v
    }
    /// The names whose results this apply decides anew (added or waited for).
    pub fn rerun_or_waited(&self) -> Vec<String> {
        let mut v = self.added();
        v.extend(self.wait.iter().cloned());
        v.sort();
        v
    }
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// The changes from `prior` (empty on create) to `planned` (None: an entry with unknown values).
/// `starts_waiting`: `wait_for_completion` turns on with this apply.
pub fn plan_changes(
    prior: &BTreeMap<String, PriorTask>,
    planned: &BTreeMap<String, Option<TaskArgs>>,
    starts_waiting: bool,
) -> Changes {
    let mut c = Changes::default();
    for (name, want) in planned {
        let Some(have) = prior.get(name) else {
            c.add.push(name.clone());
            continue;
        };
        let Some(want) = want else {
            c.replace.push(name.clone());
            continue;
        };
        if have.failed || want.without_constraints() != have.args.without_constraints() {
            c.replace.push(name.clone());
        } else {
            if want.constraints != have.args.constraints {
                c.update_constraints.push(name.clone());
            }
            if starts_waiting && !have.completed {
                c.wait.push(name.clone());
            }
        }
    }
    c.delete = prior
        .keys()
        .filter(|k| !planned.contains_key(*k))
        .cloned()
        .collect();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::task_spec::TaskConstraintsModel;

    fn args(cmd: &str, wall: Option<&str>) -> TaskArgs {
        TaskArgs {
            command_line: Some(cmd.into()),
            constraints: wall.map(|w| TaskConstraintsModel {
                max_wall_clock_time: Some(w.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn prior(entries: &[(&str, TaskArgs, bool, bool)]) -> BTreeMap<String, PriorTask> {
        entries
            .iter()
            .map(|(k, a, failed, completed)| {
                (
                    k.to_string(),
                    PriorTask {
                        args: a.clone(),
                        failed: *failed,
                        completed: *completed,
                    },
                )
            })
            .collect()
    }

    fn planned(entries: &[(&str, Option<TaskArgs>)]) -> BTreeMap<String, Option<TaskArgs>> {
        entries
            .iter()
            .map(|(k, a)| (k.to_string(), a.clone()))
            .collect()
    }

    fn names(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn create_adds_every_task() {
        let c = plan_changes(
            &BTreeMap::new(),
            &planned(&[("a", Some(args("x", None))), ("b", None)]),
            true,
        );
        assert_eq!(c.add, names(&["a", "b"]));
        assert!(c.replace.is_empty() && c.delete.is_empty() && c.wait.is_empty());
    }

    #[test]
    fn update_table() {
        let p = prior(&[
            ("same", args("x", None), false, true),
            ("cmd", args("x", None), false, true),
            ("limits", args("x", Some("PT1H")), false, false),
            ("gone", args("x", None), false, true),
            ("failed", args("x", None), true, true),
            ("running", args("x", None), false, false),
        ]);
        let q = planned(&[
            ("same", Some(args("x", None))),
            ("cmd", Some(args("y", None))),
            ("limits", Some(args("x", Some("PT2H")))),
            ("failed", Some(args("x", None))),
            ("running", Some(args("x", None))),
            ("new", Some(args("x", None))),
        ]);
        let c = plan_changes(&p, &q, false);
        assert_eq!(
            c,
            Changes {
                add: names(&["new"]),
                replace: names(&["cmd", "failed"]),
                delete: names(&["gone"]),
                update_constraints: names(&["limits"]),
                wait: vec![],
            }
        );
        assert_eq!(c.added(), names(&["cmd", "failed", "new"]));
        // Turning waiting on waits for the unfinished tasks left alone, too.
        let c = plan_changes(&p, &q, true);
        assert_eq!(c.wait, names(&["limits", "running"]));
        assert_eq!(
            c.rerun_or_waited(),
            names(&["cmd", "failed", "limits", "new", "running"])
        );
    }

    #[test]
    fn unchanged_plan_changes_nothing_and_unknown_entries_replace() {
        let p = prior(&[("a", args("x", None), false, true)]);
        assert!(plan_changes(&p, &planned(&[("a", Some(args("x", None)))]), true).is_empty());
        let c = plan_changes(&p, &planned(&[("a", None)]), false);
        assert_eq!(c.replace, names(&["a"]));
    }

    #[test]
    fn a_constraints_and_argument_change_replaces() {
        let p = prior(&[("a", args("x", Some("PT1H")), false, true)]);
        let c = plan_changes(&p, &planned(&[("a", Some(args("y", Some("PT2H"))))]), false);
        assert_eq!(c.replace, names(&["a"]));
        assert!(c.update_constraints.is_empty());
    }
}
