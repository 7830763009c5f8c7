//! Small helpers: clocks, date formats, ISO 8601 durations, ETags, ids.

use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// ISO 8601 / RFC 3339 UTC timestamp with 7 fractional digits like the service (`2024-01-01T00:00:00.1234567Z`).
pub fn iso(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

pub fn now_iso() -> String {
    iso(now_ms())
}

/// Parse an RFC 3339 timestamp into epoch milliseconds.
pub fn parse_iso(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// RFC 1123 date for HTTP headers.
pub fn http_date(ms: i64) -> String {
    let st = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    httpdate::fmt_http_date(st)
}

pub fn parse_http_date(s: &str) -> Option<i64> {
    let st = httpdate::parse_http_date(s).ok()?;
    Some(st.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// The service's spelling of "unlimited" (.NET TimeSpan.MaxValue).
pub const MAX_DURATION: &str = "P10675199DT2H48M5.4775807S";

/// An ISO 8601 duration (`P7D`, `PT15M`, `P1DT2H3M4.5S`, `P2W`) in milliseconds, saturating at
/// `i64::MAX` (the service's "unlimited" is about 29,000 years).
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let d = iso_duration::parse(s.trim()).ok()?;
    Some(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

static ETAG_SEQ: AtomicU64 = AtomicU64::new(0);

/// A new ETag in the service's style (`0x8DC...`). Strictly increasing within the process and
/// across restarts (based on the clock in 100 ns ticks).
pub fn new_etag() -> String {
    let ticks = (now_ms() as u64) * 10_000;
    let mut prev = ETAG_SEQ.load(Ordering::SeqCst);
    loop {
        let next = ticks.max(prev + 1);
        match ETAG_SEQ.compare_exchange(prev, next, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return format!("0x8D{:013X}", next & 0xF_FFFF_FFFF_FFFF),
            Err(p) => prev = p,
        }
    }
}

/// A node id shaped like the service's (`tvmps_<64 hex>_d` for dedicated, `_p` for Spot).
pub fn new_node_id(dedicated: bool) -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("tvmps_{a}{b}_{}", if dedicated { "d" } else { "p" })
}

/// Ids of pools, jobs and tasks: letters, digits, hyphens and underscores, 1..=64 chars.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Set a new ETag and lastModified on a resource body.
pub fn touch(body: &mut serde_json::Value) {
    body["eTag"] = serde_json::json!(new_etag());
    body["lastModified"] = serde_json::json!(now_iso());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("PT15M"), Some(900_000));
        assert_eq!(parse_duration_ms("P7D"), Some(7 * 86_400_000));
        assert_eq!(
            parse_duration_ms("P1DT1H1M1.5S"),
            Some(86_400_000 + 3_600_000 + 60_000 + 1500)
        );
        assert_eq!(parse_duration_ms("P2W"), Some(14 * 86_400_000));
        assert!(parse_duration_ms(MAX_DURATION).unwrap() > 900_000_000_000_000);
        assert_eq!(parse_duration_ms("15M"), None);
        assert_eq!(parse_duration_ms("P"), None);
        // Months count as 30 days, as .NET's XmlConvert.ToTimeSpan reads them.
        assert_eq!(parse_duration_ms("P1M"), Some(30 * 86_400_000));
        assert_eq!(parse_duration_ms("PT"), None);
    }

    #[test]
    fn etags_increase_and_ids() {
        let a = new_etag();
        let b = new_etag();
        assert_ne!(a, b);
        assert!(a.starts_with("0x8D"));
        assert!(valid_id("a-B_9"));
        assert!(!valid_id("a.b"));
        assert!(!valid_id(&"x".repeat(65)));
        let n = new_node_id(true);
        assert!(n.starts_with("tvmps_") && n.ends_with("_d") && n.len() == 6 + 64 + 2);
    }

    #[test]
    fn iso_round_trip() {
        let ms = 1_700_000_000_123;
        assert_eq!(parse_iso(&iso(ms)), Some(ms));
        assert!(iso(ms).ends_with('Z'));
    }
}
