//! hclog-style JSON logs on stderr, which Terraform re-logs through its `provider.<binary>` logger
//! (plugin-handshake.md §6).
//!
//! Each `tracing` event becomes one line:
//! `{"@level":"info","@message":"…","@timestamp":"2026-11-27T18:00:00.123456Z","@module":"<target>",…}`
//! plus the event's fields and the fields of its enclosing spans. Terraform only parses timestamps
//! with exactly six fractional digits; a line it cannot parse is logged whole at DEBUG.
//! The level follows Terraform's own rule for the provider logger: `TF_LOG_PROVIDER`, else `TF_LOG`.
//! When neither is set Terraform throws stderr away, so no subscriber is installed at all.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Dependencies that log every HTTP/2 frame and TLS handshake step (about a hundred lines per
/// connection, some with request metadata). They stay at `warn` at every level, trace included, so
/// `TF_LOG=trace` shows the provider's own story; `RUST_LOG=h2=trace,rustls=debug` (appended to
/// the filter) brings them back when debugging the transport itself.
const NOISY_TARGETS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "rustls",
    "tokio_rustls",
    "reqwest",
    "want",
    "mio",
];

/// The level Terraform's provider logger uses: `TF_LOG_PROVIDER`, falling back to `TF_LOG`
/// (an empty value counts as unset). `None` means off. Like Terraform, `JSON` means trace, and an
/// unknown value also means trace (Terraform warns and defaults to TRACE, so it shows everything).
pub fn parse_level(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> Option<Level> {
    let raw = match tf_log_provider.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => v,
        None => tf_log.map(str::trim).filter(|s| !s.is_empty())?,
    };
    match raw.to_ascii_uppercase().as_str() {
        "OFF" => None,
        "ERROR" => Some(Level::ERROR),
        "WARN" => Some(Level::WARN),
        "INFO" => Some(Level::INFO),
        "DEBUG" => Some(Level::DEBUG),
        _ => Some(Level::TRACE), // TRACE, JSON, and anything Terraform does not know
    }
}

/// The level from this process's environment.
pub fn level_from_env() -> Option<Level> {
    let provider = std::env::var("TF_LOG_PROVIDER").ok();
    let all = std::env::var("TF_LOG").ok();
    parse_level(provider.as_deref(), all.as_deref())
}

/// `tracing_subscriber` filter directives for a level: everything at `level`, noisy dependencies
/// at `warn` (or `level`, if stricter).
pub fn filter_directives(level: Level) -> String {
    let name = level_name(level);
    let dep = if level < Level::WARN { name } else { "warn" };
    let mut out = name.to_string();
    for t in NOISY_TARGETS {
        let _ = write!(out, ",{t}={dep}");
    }
    out
}

/// Installs the JSON logger (if `TF_LOG_PROVIDER`/`TF_LOG` ask for logs) and the panic hook.
/// `RUST_LOG`, if set, adds filter directives after ours (for finer control while debugging).
/// Safe to call more than once; later calls keep the first subscriber.
pub fn init() {
    install_panic_hook();
    let Some(level) = level_from_env() else {
        return;
    };
    let mut directives = filter_directives(level);
    if let Ok(extra) = std::env::var("RUST_LOG")
        && !extra.trim().is_empty()
    {
        directives.push(',');
        directives.push_str(&extra);
    }
    let filter = tracing_subscriber::EnvFilter::builder().parse_lossy(directives);
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(HclogLayer::new(std::io::stderr))
        .try_init();
}

/// hclog's level names.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

static TIMESTAMP_FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// `2006-01-02T15:04:05.000000Z`: UTC with exactly six fractional digits, the only form
/// Terraform's hclog parser accepts.
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP_FORMAT)
        .unwrap_or_default()
}

/// A `tracing_subscriber` layer that writes one hclog JSON line per event to a writer made by
/// `make_writer` (stderr in production, a buffer in tests).
pub struct HclogLayer<W> {
    make_writer: W,
}

impl<W> HclogLayer<W> {
    pub fn new(make_writer: W) -> Self {
        HclogLayer { make_writer }
    }
}

/// The fields recorded on a span, kept in its extensions.
struct SpanFields(Map<String, Value>);

impl<S, W, O> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: Fn() -> O + Send + Sync + 'static,
    O: std::io::Write,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = JsonVisitor::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if let Some(SpanFields(map)) = ext.get_mut::<SpanFields>() {
                let mut v = JsonVisitor::default();
                values.record(&mut v);
                map.extend(v.fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert("@level".into(), level_name(*meta.level()).into());
        // Filled below; inserted first so the common keys lead the line.
        line.insert("@message".into(), Value::Null);
        line.insert(
            "@timestamp".into(),
            format_timestamp(time::OffsetDateTime::now_utc()).into(),
        );
        line.insert("@module".into(), meta.target().into());
        if let (Some(file), Some(n)) = (meta.file(), meta.line()) {
            line.insert("@caller".into(), format!("{file}:{n}").into());
        }
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(map)) = span.extensions().get::<SpanFields>() {
                    for (k, v) in map {
                        line.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let mut v = JsonVisitor::default();
        event.record(&mut v);
        // Events bridged from the `log` crate carry their origin in `log.*` fields.
        if let Some(Value::String(target)) = v.log.remove("log.target") {
            line.insert("@module".into(), target.into());
        }
        if let (Some(Value::String(file)), Some(n)) =
            (v.log.remove("log.file"), v.log.remove("log.line"))
        {
            line.insert("@caller".into(), format!("{file}:{n}").into());
        }
        line.insert("@message".into(), v.message.unwrap_or_default().into());
        for (k, val) in v.fields {
            // Do not let a field called e.g. "@level" override the hclog keys.
            if !k.starts_with('@') {
                line.insert(k, val);
            }
        }
        let mut out = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        out.push(b'\n');
        // One write per line so concurrent events never interleave within a line.
        let _ = (self.make_writer)().write_all(&out);
    }
}

#[derive(Default)]
struct JsonVisitor {
    message: Option<String>,
    fields: Map<String, Value>,
    log: Map<String, Value>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else if name.starts_with("log.") {
            self.log.insert(name.to_string(), value);
        } else {
            self.fields.insert(name.to_string(), value);
        }
    }
}

impl Visit for JsonVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let v = serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| value.to_string().into());
        self.put(field, v);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, as anyhow's `{:#}` would show it.
        let mut s = value.to_string();
        let mut source = value.source();
        while let Some(e) = source {
            let _ = write!(s, ": {e}");
            source = e.source();
        }
        self.put(field, s.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

/// Replaces the default panic message (which Terraform would only show at DEBUG) with an hclog
/// `error` line carrying the message, location, thread and, when `RUST_BACKTRACE` is set, the
/// backtrace. Written even when logging is off: panics are rare and must be visible.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let line = panic_line(info, std::backtrace::Backtrace::capture());
        let _ = std::io::stderr().write_all(line.as_bytes());
    }));
}

fn panic_line(
    info: &std::panic::PanicHookInfo<'_>,
    backtrace: std::backtrace::Backtrace,
) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_string());
    let mut line = Map::new();
    line.insert("@level".into(), "error".into());
    line.insert("@message".into(), format!("panic: {message}").into());
    line.insert(
        "@timestamp".into(),
        format_timestamp(time::OffsetDateTime::now_utc()).into(),
    );
    line.insert("@module".into(), "panic".into());
    if let Some(loc) = info.location() {
        line.insert(
            "@caller".into(),
            format!("{}:{}:{}", loc.file(), loc.line(), loc.column()).into(),
        );
    }
    let thread = std::thread::current();
    line.insert("thread".into(), thread.name().unwrap_or("<unnamed>").into());
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        line.insert("backtrace".into(), backtrace.to_string().into());
    }
    let mut s = Value::Object(line).to_string();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn timestamp_has_exactly_six_fraction_digits_in_utc() {
        let t = time::macros::datetime!(2026-11-27 18:00:00.123456789 UTC);
        assert_eq!(format_timestamp(t), "2026-11-27T18:00:00.123456Z");
        let t = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(format_timestamp(t), "2026-01-02T03:04:05.000000Z");
        // A non-UTC time is converted, never printed with its offset.
        let t = time::macros::datetime!(2026-01-02 03:04:05.5 +02:00);
        assert_eq!(format_timestamp(t), "2026-01-02T01:04:05.500000Z");
    }

    #[test]
    fn level_follows_terraforms_provider_logger() {
        assert_eq!(parse_level(None, None), None);
        assert_eq!(parse_level(Some(""), Some("")), None);
        assert_eq!(parse_level(None, Some("debug")), Some(Level::DEBUG));
        assert_eq!(parse_level(None, Some("WARN")), Some(Level::WARN));
        assert_eq!(parse_level(None, Some("json")), Some(Level::TRACE));
        assert_eq!(parse_level(None, Some("Trace")), Some(Level::TRACE));
        assert_eq!(parse_level(None, Some("error")), Some(Level::ERROR));
        assert_eq!(parse_level(None, Some("info")), Some(Level::INFO));
        // TF_LOG_PROVIDER wins over TF_LOG, also to switch provider logs off.
        assert_eq!(
            parse_level(Some("error"), Some("trace")),
            Some(Level::ERROR)
        );
        assert_eq!(parse_level(Some("off"), Some("trace")), None);
        // An empty TF_LOG_PROVIDER falls back to TF_LOG.
        assert_eq!(parse_level(Some(""), Some("info")), Some(Level::INFO));
        // Unknown values: Terraform warns and uses TRACE.
        assert_eq!(parse_level(None, Some("verbose")), Some(Level::TRACE));
    }

    #[test]
    fn noisy_dependencies_stay_quiet() {
        let d = filter_directives(Level::DEBUG);
        assert!(d.starts_with("debug,"));
        assert!(d.contains("h2=warn") && d.contains("rustls=warn"));
        let t = filter_directives(Level::TRACE);
        assert!(t.starts_with("trace,") && t.contains("hyper=warn"), "{t}");
        assert!(filter_directives(Level::ERROR).contains("h2=error"));
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn events_become_hclog_json_lines_with_span_fields() {
        let buf = Buf::default();
        let w = buf.clone();
        let filter =
            tracing_subscriber::EnvFilter::builder().parse_lossy(filter_directives(Level::DEBUG));
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(HclogLayer::new(move || w.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("rpc", rpc = "PlanResourceChange", attempt = 1);
            let _g = span.enter();
            span.record("attempt", 2);
            tracing::info!(answer = 42, ok = true, "planned {}", "pool");
            tracing::trace!("too fine for debug");
            tracing::debug!(target: "h2::codec", "noisy frame");
            tracing::warn!(target: "tfplugin::x", err = %"boom", "careful");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first = &lines[0];
        assert_eq!(first["@level"], "info");
        assert_eq!(first["@message"], "planned pool");
        assert_eq!(first["answer"].to_string(), "42");
        assert_eq!(first["ok"], true);
        assert_eq!(first["rpc"], "PlanResourceChange");
        assert_eq!(first["attempt"].to_string(), "2");
        assert!(first["@module"].as_str().unwrap().starts_with("tfplugin"));
        assert!(first["@caller"].as_str().unwrap().contains("logging.rs:"));
        let ts = first["@timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2026-11-27T18:00:00.123456Z".len(), "{ts}");
        assert!(ts.ends_with('Z'));
        assert_eq!(lines[1]["@level"], "warn");
        assert_eq!(lines[1]["@module"], "tfplugin::x");
        assert_eq!(lines[1]["err"], "boom");
    }

    #[test]
    fn panic_hook_line_is_an_error_with_location() {
        let captured = Arc::new(Mutex::new(String::new()));
        let c = captured.clone();
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            *c.lock().unwrap() = panic_line(info, std::backtrace::Backtrace::disabled());
        }));
        let r = std::panic::catch_unwind(|| panic!("bad value {}", 7));
        std::panic::set_hook(prev);
        assert!(r.is_err());
        let line = captured.lock().unwrap().clone();
        assert!(line.ends_with('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "error");
        assert_eq!(v["@message"], "panic: bad value 7");
        assert!(v["@caller"].as_str().unwrap().contains("logging.rs:"));
        assert!(v.get("backtrace").is_none());
    }
}
