//! The log bridge (contract 1.4): the plugin's `tracing` events, delivered to the host's
//! [`LogSink`].
//!
//! This cdylib links its own copy of `tracing`, whose dispatcher no host subscriber reaches.
//! When the host calls `set_log_sink`, [`install`] makes a small [`Bridge`] subscriber this
//! copy's global default (once per process; a later sink replaces the earlier one).
//!
//! Cost: the host's filter is asked once per log statement (callsite) and the answer is cached
//! by `tracing` itself as the callsite's interest, so a statement the host does not want costs
//! an atomic load, exactly as with no subscriber at all, and is never formatted. Spans are not
//! recorded (the bridge carries lines, not context).
//!
//! Secrets: the plugin's own statements never log a secret (see ARCHITECTURE.md). The AWS SDK
//! and the HTTP stack it uses log requests and headers at their debug and trace levels, which
//! this plugin cannot vouch for, so records from other crates are forwarded only at WARN and
//! ERROR.

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Once, RwLock};

use abi_stable::std_types::{ROption, RStr};
use host_sdk::contract::{LogLevel, LogRecord, LogSinkBox};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// The crate's own target prefix: its statements are forwarded at every level the host wants.
const OWN_TARGET: &str = "bedrock_plugin";

/// The host's sink, if one was set.
static SINK: RwLock<Option<Arc<LogSinkBox>>> = RwLock::new(None);

/// Installs (or replaces) the host's sink. Never panics.
pub fn install(sink: LogSinkBox) {
    static DISPATCH: Once = Once::new();
    let _ = catch_unwind(AssertUnwindSafe(|| {
        *SINK.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(sink));
        let mut first = false;
        DISPATCH.call_once(|| {
            first = true;
            // Fails only when something else in this library already set a global default
            // (never in the cdylib); then that subscriber keeps the events.
            let _ = tracing::subscriber::set_global_default(Bridge);
        });
        if !first {
            // The new sink may filter differently: ask it again about every callsite.
            tracing::callsite::rebuild_interest_cache();
        }
    }));
}

/// Panics inside the plugin are caught at its boundary and reported to the host as
/// `internal` errors; the default hook would also print them (and, with `RUST_BACKTRACE`,
/// a backtrace) on the host's stderr, which the plugin never writes to. This cdylib has its
/// own copy of `std`, so the hook covers the plugin's panics only: they go to the log bridge
/// at ERROR, with their location.
pub fn route_panics_to_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = host_sdk::host::panic_message(info.payload());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!("panic{at}: {message}");
        }));
    });
}

fn sink() -> Option<Arc<LogSinkBox>> {
    SINK.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn level_of(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

fn is_own(target: &str) -> bool {
    target
        .strip_prefix(OWN_TARGET)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// Whether the host wants events like `meta`: asked once per callsite.
fn wanted(meta: &Metadata<'_>) -> bool {
    if !meta.is_event() {
        return false;
    }
    let level = level_of(meta.level());
    if !is_own(meta.target()) && level > LogLevel::Warn {
        return false;
    }
    let Some(sink) = sink() else {
        return false;
    };
    catch_unwind(AssertUnwindSafe(|| {
        sink.max_level()
            .into_option()
            .is_some_and(|max| level <= max)
            && sink.enabled(level, RStr::from_str(meta.target()))
    }))
    .unwrap_or(false)
}

/// The subscriber: filters through the host's answers, formats and forwards events.
struct Bridge;

impl Subscriber for Bridge {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if wanted(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        wanted(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let max = sink().and_then(|sink| {
            catch_unwind(AssertUnwindSafe(|| sink.max_level()))
                .unwrap_or(ROption::RNone)
                .into_option()
        });
        Some(match max {
            None => LevelFilter::OFF,
            Some(LogLevel::Error) => LevelFilter::ERROR,
            Some(LogLevel::Warn) => LevelFilter::WARN,
            Some(LogLevel::Info) => LevelFilter::INFO,
            Some(LogLevel::Debug) => LevelFilter::DEBUG,
            Some(LogLevel::Trace) => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Spans are never enabled (see `wanted`); an id is still required.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let Some(sink) = sink() else {
                return;
            };
            let meta = event.metadata();
            let mut line = Line::default();
            event.record(&mut line);
            sink.log(&LogRecord {
                level: level_of(meta.level()),
                target: RStr::from_str(meta.target()),
                message: RStr::from_str(&line.finish()),
            });
        }));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// An event's message followed by its other fields as `key=value`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    fn finish(mut self) -> String {
        if self.message.is_empty() {
            return self.fields;
        }
        if !self.fields.is_empty() {
            self.message.push(' ');
            self.message.push_str(&self.fields);
        }
        self.message
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_targets_are_the_crate_and_its_modules() {
        assert!(is_own("bedrock_plugin"));
        assert!(is_own("bedrock_plugin::stream"));
        assert!(!is_own("bedrock_plugin_other"));
        assert!(!is_own("aws_smithy_runtime::client"));
    }

    #[test]
    fn a_line_is_the_message_then_the_fields() {
        let line = Line {
            message: "probed".into(),
            fields: "elapsed=3ms member=\"imds\"".into(),
        };
        assert_eq!(line.finish(), "probed elapsed=3ms member=\"imds\"");
        let fields_only = Line {
            message: String::new(),
            fields: "a=1".into(),
        };
        assert_eq!(fields_only.finish(), "a=1");
    }
}
