//! Fault injection for tests: throttling / unavailability answers, dropped connections after a
//! committed change, and added latency, per operation. Configured by `--faults` and at run time
//! through `/_emulator/faults` (see README.md).

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// Operation id from the spec (`Pool_Add`, `Task_Get`, ...) or `*` for every operation.
    #[serde(default = "star")]
    pub operation: String,
    /// Answer with this status instead of running the operation (429 TooManyRequests, 503 ServerBusy, 500 InternalError).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Run the operation, commit its change, then close the connection without a response.
    #[serde(default)]
    pub drop_after_commit: bool,
    /// Delay the answer by this many milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Probability (0..1) that a matching request is affected; absent = always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Seed for `rate`'s draws: the n-th matching request gets the same draw in every run, so a
    /// test's fault schedule is reproducible (absent = a fresh random draw each time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The seeded generator, created at the first draw.
    #[serde(skip)]
    rng: Option<StdRng>,
    /// Let this many matching requests through before the rule starts firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<u32>,
    /// Fire at most this many times (then the rule is spent); absent = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Value of the Retry-After header (seconds) on 429/503 answers; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// How many times the rule has fired (read-only, reported by GET).
    #[serde(default)]
    pub fired: u32,
}

fn star() -> String {
    "*".into()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Faults {
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    pub latency_ms: u64,
    pub error: Option<(u16, u64)>,
    pub drop_after_commit: bool,
}

impl Faults {
    pub fn parse(text: &str) -> anyhow::Result<Faults> {
        let v: serde_json::Value = serde_json::from_str(text)?;
        if v.is_array() {
            Ok(Faults {
                rules: serde_json::from_value(v)?,
            })
        } else {
            Ok(serde_json::from_value(v)?)
        }
    }

    pub fn decide(&mut self, op: &str) -> Decision {
        let mut d = Decision::default();
        for r in self.rules.iter_mut() {
            if r.operation != "*" && !r.operation.eq_ignore_ascii_case(op) {
                continue;
            }
            if r.count.is_some_and(|c| r.fired >= c) {
                continue;
            }
            if let Some(sk) = r.skip.as_mut()
                && *sk > 0
            {
                *sk -= 1;
                continue;
            }
            if let Some(rate) = r.rate {
                let draw: f64 = match r.seed {
                    Some(seed) => r
                        .rng
                        .get_or_insert_with(|| StdRng::seed_from_u64(seed))
                        .random(),
                    None => rand::random(),
                };
                if draw >= rate {
                    continue;
                }
            }
            r.fired += 1;
            d.latency_ms += r.latency_ms.unwrap_or(0);
            if let Some(st) = r.status
                && d.error.is_none()
            {
                d.error = Some((st, r.retry_after.unwrap_or(1)));
            }
            d.drop_after_commit |= r.drop_after_commit;
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_count() {
        let mut f =
            Faults::parse(r#"[{"operation":"Pool_Add","status":503,"skip":1,"count":2}]"#).unwrap();
        assert_eq!(f.decide("Pool_Get"), Decision::default());
        assert_eq!(f.decide("Pool_Add").error, None);
        assert_eq!(f.decide("pool_add").error, Some((503, 1)));
        assert_eq!(f.decide("Pool_Add").error, Some((503, 1)));
        assert_eq!(f.decide("Pool_Add").error, None);
    }

    #[test]
    fn a_seeded_rate_repeats_its_schedule() {
        let rules = r#"[{"operation":"Task_Add","status":503,"rate":0.3,"seed":7}]"#;
        let schedule = || {
            let mut f = Faults::parse(rules).unwrap();
            (0..200)
                .map(|_| f.decide("Task_Add").error.is_some())
                .collect::<Vec<bool>>()
        };
        let first = schedule();
        assert_eq!(first, schedule());
        let fired = first.iter().filter(|&&x| x).count();
        assert!(
            (20..100).contains(&fired),
            "fired {fired} of 200 at rate 0.3"
        );
    }

    #[test]
    fn rate_zero_never_fires() {
        let mut f = Faults::parse(
            r#"{"rules":[{"status":429,"rate":0.0},{"latencyMs":5,"operation":"*"}]}"#,
        )
        .unwrap();
        for _ in 0..20 {
            let d = f.decide("Job_Add");
            assert_eq!(d.error, None);
            assert_eq!(d.latency_ms, 5);
        }
    }
}
