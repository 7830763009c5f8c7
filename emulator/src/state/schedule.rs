//! A job schedule and its timing: when the next job is due, when a missed start window skips a
//! run, when the schedule completes. The engine's tick makes the jobs ([`crate::engine`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::s;
use crate::util::{iso, now_iso, parse_duration_ms, parse_iso};

#[derive(Serialize, Deserialize)]
pub struct JobSchedule {
    /// The `CloudJobSchedule` the service returns.
    pub body: Value,
    /// Jobs made so far; the next one is `<id>:job-<jobs_made + 1>`.
    pub jobs_made: u64,
    /// Epoch ms of the next run (its slot), if another run is planned.
    pub next_run: Option<i64>,
    /// The slot of the last run made (or skipped).
    pub last_slot: Option<i64>,
    pub delete_done_at: Option<i64>,
}

/// What is due for a schedule now.
#[derive(Debug, PartialEq)]
pub enum ScheduleStep {
    /// Make the next job.
    Run,
    /// The start window of the due run passed while a job was still active: no job for it.
    Skip,
    /// No further job will be made (or a terminate finished): the schedule completes.
    Complete,
    /// A deleting schedule whose jobs are gone goes away.
    Remove,
}

impl JobSchedule {
    pub fn new(body: Value, now: i64, speed: u32) -> Self {
        let mut sc = JobSchedule {
            body,
            jobs_made: 0,
            next_run: None,
            last_slot: None,
            delete_done_at: None,
        };
        sc.plan_next(now, speed);
        sc
    }

    pub fn state(&self) -> &str {
        s(&self.body, "state")
    }

    /// A duration of the schedule element in ms, divided by the development clock speed.
    fn scaled(&self, key: &str, speed: u32) -> Option<i64> {
        parse_duration_ms(s(&self.body["schedule"], key)).map(|ms| ms / i64::from(speed.max(1)))
    }

    fn do_not_run_after(&self) -> Option<i64> {
        parse_iso(s(&self.body["schedule"], "doNotRunAfter"))
    }

    /// Plan the next run after a change of the schedule element (or at creation): at
    /// `doNotRunUntil` when that is ahead, else one interval after the last run, else now.
    pub fn plan_next(&mut self, now: i64, speed: u32) {
        let until = parse_iso(s(&self.body["schedule"], "doNotRunUntil")).filter(|t| *t > now);
        let interval = self.scaled("recurrenceInterval", speed);
        self.next_run = match (until, self.last_slot, interval) {
            (Some(t), _, _) => Some(t),
            (None, None, _) => Some(now),
            (None, Some(last), Some(iv)) => Some(last + iv),
            (None, Some(_), None) => None,
        };
        self.show_next_run();
    }

    fn show_next_run(&mut self) {
        let live = matches!(self.state(), "active" | "disabled");
        let info = &mut self.body["executionInfo"];
        if !info.is_object() {
            *info = json!({});
        }
        match self.next_run {
            Some(t) if live => info["nextRunTime"] = json!(iso(t)),
            _ => {
                info.as_object_mut().unwrap().remove("nextRunTime");
            }
        }
    }

    /// The step due at `now`, given whether a job of this schedule is still active and whether
    /// any of its jobs still exist.
    pub fn due_step(
        &self,
        now: i64,
        job_active: bool,
        jobs_left: bool,
        speed: u32,
    ) -> Option<ScheduleStep> {
        match self.state() {
            "deleting" if !jobs_left && self.delete_done_at.is_none_or(|t| t <= now) => {
                Some(ScheduleStep::Remove)
            }
            "terminating" if !job_active => Some(ScheduleStep::Complete),
            "active" => {
                let past_end = self.do_not_run_after().is_some_and(|t| now >= t);
                if past_end || self.next_run.is_none() {
                    return (!job_active).then_some(ScheduleStep::Complete);
                }
                let slot = self.next_run?;
                if slot > now {
                    return None;
                }
                let window = self.scaled("startWindow", speed);
                if window.is_some_and(|w| now > slot.saturating_add(w)) {
                    Some(ScheduleStep::Skip)
                } else if job_active {
                    None
                } else {
                    Some(ScheduleStep::Run)
                }
            }
            _ => None,
        }
    }

    /// The due slot was used (a job made) or skipped: plan the one after it. Slots wholly in
    /// the past are passed over, so a late run never causes a burst of catch-up jobs.
    pub fn advance(&mut self, now: i64, speed: u32) {
        let Some(slot) = self.next_run else { return };
        self.last_slot = Some(slot);
        self.next_run = self.scaled("recurrenceInterval", speed).map(|iv| {
            let iv = iv.max(1);
            let mut next = slot + iv;
            if next + iv <= now {
                next += (now - next) / iv * iv;
            }
            next
        });
        self.show_next_run();
    }

    /// The job `id` was made for the due slot.
    pub fn made_job(&mut self, id: &str, url: &str) {
        self.jobs_made += 1;
        self.body["executionInfo"]["recentJob"] = json!({"id": id, "url": url});
    }

    pub fn set_state(&mut self, state: &str) {
        let now = now_iso();
        let b = &mut self.body;
        b["previousState"] = b["state"].clone();
        b["previousStateTransitionTime"] = b["stateTransitionTime"].clone();
        b["state"] = json!(state);
        b["stateTransitionTime"] = json!(now);
        if state == "completed" {
            self.body["executionInfo"]["endTime"] = json!(now);
        }
        self.show_next_run();
    }

    /// The id prefix of the jobs this schedule makes (lower case, like state keys).
    pub fn job_prefix(key: &str) -> String {
        format!("{key}:job-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(schedule: Value) -> JobSchedule {
        JobSchedule::new(
            json!({"id": "s", "state": "active", "schedule": schedule}),
            1_000_000,
            1,
        )
    }

    #[test]
    fn first_run_is_at_once_without_do_not_run_until() {
        let s = sched(json!({"recurrenceInterval": "PT1M"}));
        assert_eq!(s.next_run, Some(1_000_000));
        assert_eq!(
            s.due_step(1_000_000, false, false, 1),
            Some(ScheduleStep::Run)
        );
    }

    #[test]
    fn do_not_run_until_in_the_future_delays_the_first_run() {
        let s = sched(json!({"doNotRunUntil": iso(1_060_000)}));
        assert_eq!(s.due_step(1_000_000, false, false, 1), None);
        assert_eq!(
            s.due_step(1_060_000, false, false, 1),
            Some(ScheduleStep::Run)
        );
    }

    #[test]
    fn recurrences_wait_for_the_previous_job() {
        let mut s = sched(json!({"recurrenceInterval": "PT1M"}));
        s.made_job("s:job-1", "u");
        s.advance(1_000_000, 1);
        assert_eq!(s.next_run, Some(1_060_000));
        assert_eq!(s.due_step(1_030_000, true, true, 1), None);
        // Due while the first job still runs: no new job until it is done.
        assert_eq!(s.due_step(1_070_000, true, true, 1), None);
        assert_eq!(
            s.due_step(1_080_000, false, true, 1),
            Some(ScheduleStep::Run)
        );
    }

    #[test]
    fn a_missed_start_window_skips_the_run() {
        let mut s = sched(json!({"recurrenceInterval": "PT1M", "startWindow": "PT1M"}));
        s.advance(1_000_000, 1);
        assert_eq!(
            s.due_step(1_130_000, true, true, 1),
            Some(ScheduleStep::Skip)
        );
        s.advance(1_130_000, 1);
        assert_eq!(s.next_run, Some(1_120_000));
        assert_eq!(
            s.due_step(1_130_000, false, true, 1),
            Some(ScheduleStep::Run)
        );
    }

    #[test]
    fn the_clock_speed_divides_intervals() {
        let mut s = sched(json!({"recurrenceInterval": "PT1M"}));
        s.advance(1_000_000, 60);
        assert_eq!(s.next_run, Some(1_001_000));
    }

    #[test]
    fn one_off_and_do_not_run_after_complete_the_schedule() {
        let mut once = sched(json!({}));
        once.advance(1_000_000, 1);
        assert_eq!(once.next_run, None);
        assert_eq!(once.due_step(1_000_500, true, true, 1), None);
        assert_eq!(
            once.due_step(1_000_500, false, true, 1),
            Some(ScheduleStep::Complete)
        );
        let ended = sched(json!({"recurrenceInterval": "PT1M", "doNotRunAfter": iso(900_000)}));
        assert_eq!(
            ended.due_step(1_000_000, false, false, 1),
            Some(ScheduleStep::Complete)
        );
    }

    #[test]
    fn a_deleting_schedule_goes_when_its_jobs_are_gone() {
        let mut s = sched(json!({}));
        s.set_state("deleting");
        assert_eq!(s.due_step(1_000_000, false, true, 1), None);
        assert_eq!(
            s.due_step(1_000_000, false, false, 1),
            Some(ScheduleStep::Remove)
        );
    }
}
