//! ISO 8601 durations as REST APIs write them (`PT15M`, `P7D`, `P1DT2H30M`, `PT0.5S`, `P2W`):
//! the workspace's one parser, used by the Terraform SDK's duration validator and semantic
//! equality and by the local Batch service. Years and months count as 365 and 30 days, as
//! .NET's `XmlConvert.ToTimeSpan` does; values too large for `Duration` saturate (Batch writes
//! "no limit" as `P10675199DT2H48M5.4775807S`).

use std::time::Duration;

/// Parses an ISO 8601 duration; the error says what is wrong in a phrase that fits after
/// "it is not an ISO 8601 duration: ".
pub fn parse(s: &str) -> Result<Duration, String> {
    let rest = s.strip_prefix('P').ok_or("it must start with P")?;
    if rest.is_empty() {
        return Err("no components after P".into());
    }
    let mut total = 0f64;
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' if !in_time && num.is_empty() => in_time = true,
            '0'..='9' | '.' | ',' => num.push(if c == ',' { '.' } else { c }),
            _ => {
                if num.is_empty() {
                    return Err(format!("no number before {c:?}"));
                }
                let n: f64 = num.parse().map_err(|_| format!("bad number {num:?}"))?;
                num.clear();
                let secs = match (in_time, c) {
                    (false, 'Y') => 365.0 * 86400.0,
                    (false, 'M') => 30.0 * 86400.0,
                    (false, 'W') => 7.0 * 86400.0,
                    (false, 'D') => 86400.0,
                    (true, 'H') => 3600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return Err(format!("unexpected designator {c:?}")),
                };
                total += n * secs;
                any = true;
            }
        }
    }
    if !num.is_empty() {
        return Err(format!("number {num:?} has no unit designator"));
    }
    if !any {
        return Err("no components".into());
    }
    if rest.ends_with('T') {
        return Err("no time components after T".into());
    }
    Ok(Duration::try_from_secs_f64(total).unwrap_or(Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_rest_apis_write() {
        for (s, secs) in [
            ("PT15M", 900.0),
            ("PT900S", 900.0),
            ("P7D", 7.0 * 86400.0),
            ("P1DT2H", 86400.0 + 7200.0),
            ("P2W", 14.0 * 86400.0),
            ("PT0.5S", 0.5),
            ("PT1,5S", 1.5),
            ("P1Y", 365.0 * 86400.0),
            ("P1M", 30.0 * 86400.0),
            ("PT1M", 60.0),
        ] {
            assert_eq!(parse(s), Ok(Duration::from_secs_f64(secs)), "{s}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for s in ["15M", "PT", "P", "P1H", "PT5", "PTM", "pt5m", "P1DT", ""] {
            assert!(parse(s).is_err(), "{s} parsed");
        }
    }

    #[test]
    fn the_unlimited_value_and_overflow_do_not_panic() {
        let max = parse("P10675199DT2H48M5.4775807S").unwrap();
        assert!(max > Duration::from_secs(900_000_000_000));
        assert_eq!(parse("P99999999999999999999999D"), Ok(Duration::MAX));
    }
}
