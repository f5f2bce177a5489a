//! Issue #9: what an outside reliability audit found, kept fixed. Each test drives the real
//! built plugin (or the loader) the way the audit did and asserts a typed error instead of a
//! crash, a leak or a lost message.

use std::time::Duration;

use e2e_tests::{
    artifact, init, plugin, provider_with, run, scripted_request, start_emulator, stream_bodies,
    text_of, FAST_RETRIES, MODEL, PLUGIN_LIB,
};
use emulator::frames::event_frame;
use emulator::RawResponse;
use host_sdk::{ConverseRequest, ErrorKind, LoadError, Plugin};
use serde_json::{json, Value};

fn config_error(text: &str) -> String {
    init();
    match plugin().new_provider(text) {
        Ok(_) => panic!("must be rejected: {}", &text[..text.len().min(200)]),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Config, "{e}");
            e.message
        }
    }
}

#[test]
fn a_configuration_nested_thousands_deep_is_refused_not_a_stack_overflow() {
    for depth in [65, 8_000, 40_000, 200_000] {
        let text = format!("{{ a: {}1{} }}", "[".repeat(depth), "]".repeat(depth));
        let message = config_error(&text);
        assert!(message.contains("more than 64 levels deep"), "{message}");
        assert!(message.contains("line 1, column"), "{message}");
    }
    // Brackets inside strings and comments are not nesting.
    let quoted = format!(
        "{{ // {}\n models: {{ bedrockDiscovery: {{ region: 'us-east-1' }} }}, note: '{}' }}",
        "[".repeat(1000),
        "{".repeat(1000)
    );
    init();
    plugin()
        .new_provider(&quoted)
        .expect("strings and comments do not nest");
}

#[test]
fn a_request_value_nested_60000_deep_is_refused_before_serialising() {
    init();
    let emu = start_emulator();
    let provider = provider_with(&emu, "");
    let mut deep = json!(1);
    for _ in 0..60_000 {
        deep = Value::Array(vec![deep]);
    }
    let mut request = ConverseRequest::user_text(MODEL, "hi");
    request.extra = Some(deep);
    let err = run(&provider, &request).error().error.clone();
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err}");
    assert!(err.message.contains("64 levels"), "{err}");
    assert!(
        stream_bodies(&emu).is_empty(),
        "nothing reached the network"
    );
    // Dropping a value this deep recurses too (serde_json's own drop): not ours to fix.
    std::mem::forget(request);
}

#[test]
fn credentials_in_base_url_are_refused_and_never_echoed() {
    for key in [
        "models: { providers: { 'amazon-bedrock': { baseUrl: 'https://AKIDSECRET:hunter2@bedrock-runtime.us-east-1.amazonaws.com' } } }",
        "models: { bedrockDiscovery: { baseUrl: 'http://user:hunter2@127.0.0.1:9/' } }",
    ] {
        let message = config_error(&format!("{{ {key} }}"));
        assert!(message.contains("must not contain credentials"), "{message}");
        assert!(message.contains("AWS_PROFILE"), "names where credentials belong: {message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[test]
fn an_over_long_model_id_is_an_invalid_request_before_the_network() {
    init();
    let emu = start_emulator();
    let provider = provider_with(&emu, "");
    let request = ConverseRequest::user_text("a".repeat(70_000), "hi");
    let err = run(&provider, &request).error().error.clone();
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err}");
    assert!(err.message.contains("at most 2048"), "{err}");
    assert!(stream_bodies(&emu).is_empty());
}

fn frame(event: &str, payload: Value) -> Vec<u8> {
    event_frame(event, payload.to_string()).to_vec()
}

fn start_of_answer() -> Vec<u8> {
    let mut body = frame("messageStart", json!({"role": "assistant"}));
    body.extend(frame(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "partial"}}),
    ));
    body
}

#[test]
fn a_message_claiming_2_gib_fails_at_once_with_its_partial_text() {
    init();
    let emu = start_emulator();
    let provider = provider_with(&emu, FAST_RETRIES);
    let mut body = start_of_answer();
    // A prelude claiming 2 GiB, then a megabyte of whatever: the plugin must not buffer on.
    body.extend_from_slice(&0x8000_0000u32.to_be_bytes());
    body.extend(std::iter::repeat_n(0u8, 1 << 20));
    emu.set_raw_response(MODEL, RawResponse::event_stream(body));
    let out = run(&provider, &scripted_request(MODEL, "hi", json!({})));
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::Network, "{e}");
    assert!(e.error.message.contains("2147483648 bytes"), "{e}");
    assert!(e.error.message.contains("limit 16777216"), "{e}");
    assert_eq!(text_of(&e.partial.message.content), "partial");
    assert!(out.retries().is_empty(), "no retry after the host saw text");
}

#[test]
fn a_generic_error_frame_keeps_the_services_code_and_message() {
    init();
    let emu = start_emulator();
    let provider = provider_with(&emu, FAST_RETRIES);
    let mut body = start_of_answer();
    body.extend(emulator::frames::error_frame(
        "InternalFailure",
        "The shard behind this stream went away.",
    ));
    emu.set_raw_response(MODEL, RawResponse::event_stream(body));
    let out = run(&provider, &scripted_request(MODEL, "hi", json!({})));
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::ServiceError, "{e}");
    assert!(
        e.error
            .message
            .contains("The shard behind this stream went away."),
        "{e}"
    );
    assert!(e.error.message.contains("InternalFailure"), "{e}");
    assert_eq!(text_of(&e.partial.message.content), "partial");
}

#[test]
fn a_json_error_body_sent_with_200_keeps_the_services_message() {
    init();
    let emu = start_emulator();
    let provider = provider_with(&emu, "retry: { maxAttempts: 1 },");
    emu.set_raw_response(
        MODEL,
        RawResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: r#"{"message":"Too many tokens per day, please wait before trying again."}"#
                .into(),
            drip: None,
        },
    );
    let out = run(&provider, &scripted_request(MODEL, "hi", json!({})));
    let e = out.error();
    assert!(
        e.error
            .message
            .contains("Too many tokens per day, please wait before trying again."),
        "{e}"
    );
    assert_ne!(e.kind(), &ErrorKind::Network, "{e}");
}

#[test]
fn a_large_event_arriving_slowly_is_progress_not_an_idle_timeout() {
    init();
    let emu = start_emulator();
    // 300 ms idle limit; one 40 KiB event dripped 2 KiB every 100 ms (2 s in all).
    let provider = provider_with(
        &emu,
        "timeouts: { idleMs: 300 }, retry: { maxAttempts: 1 },",
    );
    let big = "x".repeat(40 * 1024);
    let mut body = frame("messageStart", json!({"role": "assistant"}));
    body.extend(frame(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "first "}}),
    ));
    body.extend(frame(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": big}}),
    ));
    body.extend(frame("contentBlockStop", json!({"contentBlockIndex": 0})));
    body.extend(frame("messageStop", json!({"stopReason": "end_turn"})));
    emu.set_raw_response(MODEL, RawResponse::event_stream(body).dripped(2048, 100));
    let out = run(&provider, &scripted_request(MODEL, "hi", json!({})));
    assert_eq!(out.text().len(), "first ".len() + big.len());
    assert!(
        out.elapsed > Duration::from_millis(1500),
        "{:?}",
        out.elapsed
    );

    // A real stall still times out.
    let stalled = scripted_request(
        MODEL,
        "hi",
        json!({"text": "Hello there", "deltaSize": 4, "fault": {"kind": "stall", "afterEvents": 3, "ms": 5000}}),
    );
    emu.clear_raw_response(MODEL);
    let out = run(&provider, &stalled);
    assert_eq!(out.error().kind(), &ErrorKind::Timeout, "{}", out.error());
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);
}

#[test]
fn a_truncated_plugin_file_is_refused_before_the_system_loader_maps_it() {
    init();
    let original = std::fs::read(artifact(PLUGIN_LIB)).expect("the built plugin");
    let dir = std::env::temp_dir().join(format!("truncated-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(e2e_tests::library_file_name("truncated"));
    for keep in [original.len() / 2, original.len() - 4096, 4096] {
        std::fs::write(&file, &original[..keep]).unwrap();
        match Plugin::load(&file) {
            Err(LoadError::Damaged { path, reason }) => {
                assert_eq!(path, file);
                assert!(reason.contains("truncated"), "{reason}");
            }
            other => panic!("{keep} bytes: expected Damaged, got {other:?}"),
        }
        // The same file found in a directory scan.
        match Plugin::load(&dir) {
            Err(LoadError::NoPluginInDirectory { tried, .. }) => {
                assert!(tried.contains("truncated"), "{tried}")
            }
            other => panic!("expected NoPluginInDirectory, got {other:?}"),
        }
    }
    // A few bytes are not an object file at all.
    std::fs::write(&file, &original[..10]).unwrap();
    assert!(matches!(
        Plugin::load(&file),
        Err(LoadError::NotAPlugin { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_relative_plugin_path_is_loaded_as_that_very_file() {
    init();
    let absolute = artifact(PLUGIN_LIB);
    let cwd = std::env::current_dir().unwrap();
    let relative = pathdiff(&absolute, &cwd);
    assert!(relative.is_relative());
    let loaded = Plugin::load(&relative).expect("loads by a relative path");
    assert!(loaded.path().is_absolute(), "{}", loaded.path().display());
    assert_eq!(
        loaded.path().canonicalize().unwrap(),
        absolute.canonicalize().unwrap()
    );
    // A bare name with no such file here is not looked up on the system's library path.
    let bare = e2e_tests::library_file_name("c");
    assert!(matches!(Plugin::load(&bare), Err(LoadError::NotFound(_))));
}

/// `target` relative to `base` (both absolute).
fn pathdiff(target: &std::path::Path, base: &std::path::Path) -> std::path::PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}
