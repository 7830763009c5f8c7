//! The background "fabric": allocation, node start-up (image prefetch, start task), task scheduling,
//! task completion and retries, job completion, retention. One tick every few tens of milliseconds
//! under the state lock; processes and containers run in spawned tasks that report back.
//!
//! The tick decides what is due and calls the transitions of the state ([`crate::state`]); the
//! submodules run what happens outside the state: node setup ([`nodes`]), task placement
//! ([`scheduler`]) and task runs ([`tasks`]).

mod nodes;
mod scheduler;
mod schedules;
mod tasks;

use crate::app::AppRef;
use crate::state::{JobStep, NodeSite};
use crate::util::now_ms;

pub fn run(app: AppRef) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut iv = tokio::time::interval(std::time::Duration::from_millis(25));
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = iv.tick() => tick(&app).await,
                _ = app.shutdown.cancelled() => break,
            }
        }
    })
}

async fn tick(app: &AppRef) {
    let mut st = app.state.lock().await;
    let now = now_ms();
    let nodes_dir = app.data_dir.join("nodes");
    let site = NodeSite {
        nodes_dir: &nodes_dir,
        start_delay_ms: app.node_start_delay.as_millis() as i64,
    };
    let pool_keys: Vec<String> = st.pools.keys().cloned().collect();
    for pk in pool_keys {
        if st.pools[&pk].delete_due(now) {
            st.remove_pool(&app.cancels, &pk);
            continue;
        }
        if st.pools[&pk].resize_due(now) {
            st.complete_resize(&app.cancels, &pk, &site);
        }
        let p = st.pools.get_mut(&pk).unwrap();
        if p.autoscale_due(now) {
            p.apply_autoscale(app.allocation_delay.as_millis() as i64);
            st.dirty = true;
        }
        for n in st.pools.get_mut(&pk).unwrap().nodes.iter_mut() {
            if n.begin_setup(now) {
                let app2 = app.clone();
                let (pk2, nid) = (pk.clone(), n.id().to_string());
                tokio::spawn(async move { nodes::node_setup(app2, pk2, nid).await });
            }
        }
    }
    let job_keys: Vec<String> = st.jobs.keys().cloned().collect();
    for jk in job_keys {
        let Some(step) = st.jobs[&jk].due_step(now) else {
            continue;
        };
        // A job that ends (completes or goes away) runs its release tasks first.
        if matches!(step, JobStep::Remove | JobStep::Complete) {
            tasks::spawn_release_tasks(app, &mut st, &jk);
        }
        let auto_pool_delete_at = now + app.delete_delay.as_millis() as i64;
        st.advance_job(&app.cancels, &jk, step, auto_pool_delete_at);
    }
    schedules::tick(app, &mut st, now);
    st.expire_task_files(now);
    for a in scheduler::plan(&st) {
        tasks::start_task(app, &mut st, a);
    }
    let path = app.state_path.clone();
    st.save_if_dirty(&path);
}
