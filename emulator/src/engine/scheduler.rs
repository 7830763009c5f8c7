//! Task placement: which active tasks start on which nodes this tick. Jobs by priority, tasks in
//! the order they were added, within `maxParallelTasks`, dependencies, free slots and the pool's
//! fill policy (spread or pack); a multi-instance task needs that many distinct nodes at once.

use serde_json::Value;

use crate::state::{Job, Placement, State, Task, i, s};

pub(super) fn plan(st: &State) -> Vec<Placement> {
    let mut jobs: Vec<(&String, &Job)> = st
        .jobs
        .iter()
        .filter(|(_, j)| s(&j.body, "state") == "active")
        .collect();
    jobs.sort_by_key(|(_, j)| std::cmp::Reverse(i(&j.body, "priority")));
    let mut plan: Vec<Placement> = vec![];
    // Slots planned in this round, per (pool, node index).
    let mut extra: std::collections::HashMap<(String, usize), i64> = Default::default();
    for (jk, job) in jobs {
        let pk = job.pool_key();
        let Some(pool) = st.pools.get(&pk) else {
            continue;
        };
        if s(&pool.body, "state") != "active" {
            continue;
        }
        let slots_per_node = i(&pool.body, "taskSlotsPerNode").max(1);
        let pack =
            s(&pool.body["taskSchedulingPolicy"], "nodeFillType").eq_ignore_ascii_case("pack");
        let max_parallel = i(&job.body, "maxParallelTasks");
        let mut running = job.tasks.values().filter(|t| t.is_running()).count() as i64;
        let mut tasks: Vec<(&String, &Task)> = job
            .tasks
            .iter()
            .filter(|(_, t)| s(&t.body, "state") == "active")
            .collect();
        tasks.sort_by_key(|(_, t)| t.seq);
        for (tk, t) in tasks {
            if max_parallel >= 0 && running >= max_parallel {
                break;
            }
            if !job.deps_satisfied(&t.body) {
                continue;
            }
            let need = i(&t.body, "requiredSlots").max(1);
            let instances = t.body["multiInstanceSettings"]
                .get("numberOfInstances")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .max(1) as usize;
            if instances > 1 {
                // A multi-instance task needs that many distinct nodes at once.
                let mut cands: Vec<(usize, i64)> = vec![];
                for (k, n) in pool.nodes.iter().enumerate() {
                    if !n.schedulable() {
                        continue;
                    }
                    let used = n.slots_used + extra.get(&(pk.clone(), k)).copied().unwrap_or(0);
                    if used + need <= slots_per_node {
                        cands.push((k, used));
                    }
                }
                cands.sort_by_key(|(_, u)| *u);
                if cands.len() >= instances {
                    let picked: Vec<usize> = cands[..instances].iter().map(|(k, _)| *k).collect();
                    for k in &picked {
                        *extra.entry((pk.clone(), *k)).or_default() += need;
                    }
                    running += 1;
                    plan.push(Placement {
                        jk: jk.clone(),
                        tk: tk.clone(),
                        pk: pk.clone(),
                        nid: s(&pool.nodes[picked[0]].body, "id").to_string(),
                        subs: picked[1..]
                            .iter()
                            .map(|k| s(&pool.nodes[*k].body, "id").to_string())
                            .collect(),
                    });
                }
                continue;
            }
            let mut best: Option<(usize, i64)> = None;
            for (k, n) in pool.nodes.iter().enumerate() {
                if !n.schedulable() {
                    continue;
                }
                if job.body.get("jobPreparationTask").is_some()
                    && n.prep.get(jk.as_str()) == Some(&false)
                {
                    continue;
                }
                let used = n.slots_used + extra.get(&(pk.clone(), k)).copied().unwrap_or(0);
                if used + need > slots_per_node {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((_, u)) => (pack && used > u) || (!pack && used < u),
                };
                if better {
                    best = Some((k, used));
                }
            }
            if let Some((k, _)) = best {
                *extra.entry((pk.clone(), k)).or_default() += need;
                running += 1;
                plan.push(Placement {
                    jk: jk.clone(),
                    tk: tk.clone(),
                    pk: pk.clone(),
                    nid: s(&pool.nodes[k].body, "id").to_string(),
                    subs: vec![],
                });
            }
        }
    }
    plan
}
