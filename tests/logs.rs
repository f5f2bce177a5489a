//! The log bridge (contract 1.4): the real plugin's `tracing` events reach the host's sink set
//! with `Plugin::set_log_sink`, filtered in the plugin by the host's answer, never carrying a
//! secret.
//!
//! The sink is process-wide for the plugin's library, so every test here holds [`serial`] and
//! installs its own sink; records go to the test's own collector.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use e2e_tests::{
    init, plugin, provider_with, run, scripted_request, start_emulator, DELIBERATE_PANIC,
    FAST_RETRIES, MODEL,
};
use host_sdk::LogLevel;
use serde_json::json;

type Records = Arc<Mutex<Vec<(LogLevel, String, String)>>>;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs a sink that keeps every record, at `max_level` and above.
fn collect(max_level: Option<LogLevel>) -> Records {
    init();
    let records: Records = Arc::default();
    let into = records.clone();
    assert!(
        plugin().set_log_sink_filtered(
            max_level,
            |_, _| true,
            move |level, target, message| {
                into.lock()
                    .unwrap()
                    .push((level, target.to_string(), message.to_string()));
            },
        ),
        "the current plugin implements contract 1.4"
    );
    records
}

fn take(records: &Records) -> Vec<(LogLevel, String, String)> {
    std::mem::take(&mut *records.lock().unwrap())
}

/// Runs a stream the emulator throttles once, so the plugin retries and logs it.
fn throttled_stream() {
    let emu = start_emulator();
    let provider = provider_with(&emu, FAST_RETRIES);
    let script = json!({"text": "after the retry", "throttleFirst": 1});
    let out = run(&provider, &scripted_request(MODEL, "Busy?", script));
    assert_eq!(out.completion().message.text(), "after the retry");
    assert_eq!(out.retries().len(), 1, "{:?}", out.events);
}

fn assert_no_secret(records: &[(LogLevel, String, String)]) {
    for (level, target, message) in records {
        assert!(
            !message.contains(emulator::DEFAULT_SECRET_ACCESS_KEY)
                && !target.contains(emulator::DEFAULT_SECRET_ACCESS_KEY),
            "a record carries the secret access key: {level} {target}: {message}"
        );
    }
}

#[test]
fn the_retry_is_logged_to_the_host_with_level_and_target() {
    let _serial = serial();
    let records = collect(Some(LogLevel::Trace));
    throttled_stream();
    let seen = take(&records);
    let retry = seen
        .iter()
        .find(|(_, _, m)| m.contains("ConverseStream attempt 1 failed") && m.contains("retrying"))
        .unwrap_or_else(|| panic!("the retry line reaches the host: {seen:#?}"));
    assert_eq!(retry.0, LogLevel::Info, "{retry:?}");
    assert!(
        retry.1.starts_with("bedrock_plugin"),
        "the target names the plugin's module: {retry:?}"
    );
    // Debug statements with fields arrive formatted: message, then `key=value`.
    let configured = seen
        .iter()
        .find(|(_, _, m)| m.starts_with("Bedrock provider configured"))
        .unwrap_or_else(|| panic!("the provider's debug line reaches the host: {seen:#?}"));
    assert_eq!(configured.0, LogLevel::Debug);
    assert!(configured.2.contains("source="), "{configured:?}");
    assert_no_secret(&seen);
}

#[test]
fn a_sink_at_warn_gets_no_debug_or_info_records() {
    let _serial = serial();
    let records = collect(Some(LogLevel::Warn));
    // The provider's debug line, the retry's info line and, with an unknown key, the debug
    // line for the configuration warning (the host gets those through config_warnings).
    throttled_stream();
    let emu = start_emulator();
    let provider = provider_with(&emu, "maxRetriez: 2,");
    assert_eq!(provider.config_warnings().len(), 1);
    let seen = take(&records);
    assert!(
        seen.iter().all(|(level, _, _)| *level <= LogLevel::Warn),
        "nothing below WARN: {seen:#?}"
    );
    assert!(
        !seen.iter().any(|(_, _, m)| m.contains("retrying")),
        "{seen:#?}"
    );
    assert_no_secret(&seen);

    // A later sink replaces this one, and its wider filter applies at once.
    let records = collect(Some(LogLevel::Debug));
    throttled_stream();
    let seen = take(&records);
    assert!(
        seen.iter().any(|(l, _, _)| *l == LogLevel::Debug),
        "the new sink's filter applies: {seen:#?}"
    );
    assert!(
        seen.iter()
            .any(|(l, _, m)| *l == LogLevel::Info && m.contains("retrying")),
        "{seen:#?}"
    );
    assert!(
        seen.iter().all(|(l, _, _)| *l <= LogLevel::Debug),
        "nothing at TRACE: {seen:#?}"
    );
}

#[test]
fn the_hosts_filter_is_asked_once_per_statement_not_per_record() {
    let _serial = serial();
    init();
    let asked = Arc::new(AtomicUsize::new(0));
    let logged = Arc::new(AtomicUsize::new(0));
    let (a, l) = (asked.clone(), logged.clone());
    assert!(plugin().set_log_sink_filtered(
        Some(LogLevel::Trace),
        move |_, target| {
            a.fetch_add(1, Ordering::SeqCst);
            // Everything but the stream module.
            target != "bedrock_plugin::stream"
        },
        move |_, target, _| {
            assert_ne!(target, "bedrock_plugin::stream");
            l.fetch_add(1, Ordering::SeqCst);
        },
    ));
    throttled_stream();
    let asked_once = asked.load(Ordering::SeqCst);
    assert!(
        logged.load(Ordering::SeqCst) > 0,
        "provider lines still arrive"
    );
    for _ in 0..3 {
        throttled_stream();
    }
    assert_eq!(
        asked.load(Ordering::SeqCst),
        asked_once,
        "the same statements again: the plugin kept the host's answers"
    );
}

#[test]
fn a_panicking_sink_breaks_nothing() {
    let _serial = serial();
    init();
    assert!(
        plugin().set_log_sink(|_, _, _| panic!("the host's logger is broken {DELIBERATE_PANIC}"))
    );
    throttled_stream();
    // Leave a quiet sink for whatever runs next in this process.
    assert!(plugin().set_log_sink_filtered(None, |_, _| false, |_, _, _| {}));
}
