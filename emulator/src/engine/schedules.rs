//! Job schedule runs: at each due slot a job `<scheduleId>:job-<n>` is made from the schedule's
//! job specification, never while the previous job is still active; missed start windows skip a
//! run; a schedule past `doNotRunAfter` (or with no further run) completes; a deleting schedule
//! goes once its jobs are gone.

use crate::app::App;
use crate::state::{JobSchedule, ScheduleStep, State, s};
use serde_json::json;

pub fn tick(app: &App, st: &mut State, now: i64) {
    let speed = app.schedule_speed;
    let keys: Vec<String> = st.schedules.keys().cloned().collect();
    for key in keys {
        let prefix = JobSchedule::job_prefix(&key);
        let mut jobs_left = false;
        let mut job_active = false;
        for (_, j) in st
            .jobs
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            jobs_left = true;
            job_active |= !matches!(j.state(), "completed" | "deleting");
        }
        let sc = &st.schedules[&key];
        let Some(step) = sc.due_step(now, job_active, jobs_left, speed) else {
            continue;
        };
        st.dirty = true;
        match step {
            ScheduleStep::Remove => {
                st.schedules.remove(&key);
            }
            ScheduleStep::Complete => {
                let sc = st.schedules.get_mut(&key).unwrap();
                sc.set_state("completed");
                crate::util::touch(&mut sc.body);
            }
            ScheduleStep::Skip => st.schedules.get_mut(&key).unwrap().advance(now, speed),
            ScheduleStep::Run => {
                let sc = &st.schedules[&key];
                let id = format!("{}:job-{}", s(&sc.body, "id"), sc.jobs_made + 1);
                let mut spec = sc.body["jobSpecification"].clone();
                spec["id"] = json!(id);
                match crate::jobs::create_job(app, st, &spec) {
                    Ok(job) => {
                        let sc = st.schedules.get_mut(&key).unwrap();
                        sc.made_job(&id, s(&job, "url"));
                    }
                    // The service records no job for a run it cannot make; the schedule goes on.
                    Err(e) => {
                        tracing::warn!("job schedule {key}: cannot make job {id}: {}", e.message)
                    }
                }
                let sc = st.schedules.get_mut(&key).unwrap();
                sc.advance(now, speed);
                crate::util::touch(&mut sc.body);
            }
        }
    }
}
