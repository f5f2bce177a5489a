//! Issue #9: the reliability audit's fault matrix, kept as a suite. Every fault a network, a
//! proxy or the service can throw at a stream, each run through the real built plugin, with
//! the same checks: the error kind and whether it is retryable, the partial text kept equal
//! to what the host saw, no event after the end, retries only before the first event of the
//! response (and how many), and a bound on the time taken.
//!
//! Faults come from three places: the emulator's scripted faults (HTTP errors, exception
//! frames, cuts, stalls, missing messageStop), raw bodies it replays byte for byte (corrupt
//! CRCs, garbage, truncated and oversized messages, JSON error bodies, slow drips), and a TCP
//! listener that fails before any HTTP header (`TcpFaultServer`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_tests::{
    config_with, init, plugin, scripted_request, start_emulator, text_of, TcpFault, TcpFaultServer,
    MODEL,
};
use emulator::frames::{event_frame, exception_frame};
use emulator::RawResponse;
use host_sdk::{Completion, Event, SinkFlow, StreamError, StreamEvent};
use serde_json::{json, Value};

/// Fast retries (3 attempts) and short timeouts, so the whole matrix takes seconds.
const SETTINGS: &str = "retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, \
                        timeouts: { connectMs: 1000, firstByteMs: 500, idleMs: 300 },";
/// The longest any case may take: three attempts that each wait out the first-byte timeout.
const BOUND: Duration = Duration::from_secs(5);

enum Setup {
    Script(Value),
    Raw(RawResponse),
    Tcp(TcpFault),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Fails with this kind, retryable or not, after this many retries.
    Fails(ErrorKindRef, bool, usize),
    Succeeds,
}

/// `ErrorKind` is not `Copy`; the matrix names kinds by their codes.
type ErrorKindRef = &'static str;

struct Seen {
    events: Vec<Event>,
    result: Result<Completion, StreamError>,
    elapsed: Duration,
    after_end: usize,
}

/// Runs one request to its end, then waits a moment to catch any event sent after the end.
fn run(setup: &Setup) -> Seen {
    init();
    let (url, _emulator) = match setup {
        Setup::Tcp(fault) => (TcpFaultServer::start(*fault).url, None),
        Setup::Script(_) | Setup::Raw(_) => {
            let emu = start_emulator();
            (emu.url(), Some(emu))
        }
    };
    if let (Setup::Raw(raw), Some(emu)) = (setup, &_emulator) {
        emu.set_raw_response(MODEL, raw.clone());
    }
    let script = match setup {
        Setup::Script(s) => s.clone(),
        _ => json!({}),
    };
    let provider = plugin()
        .new_provider(&config_with(&url, SETTINGS))
        .expect("configured");
    let request = scripted_request(MODEL, "Hi.", script);
    let events = Arc::new(Mutex::new(Vec::new()));
    let ended = Arc::new(AtomicBool::new(false));
    let after_end = Arc::new(AtomicUsize::new(0));
    let (sink, end_flag, late) = (events.clone(), ended.clone(), after_end.clone());
    let started = Instant::now();
    let running = provider.start(&request, move |e: &StreamEvent<'_>| {
        if end_flag.load(Ordering::SeqCst) {
            late.fetch_add(1, Ordering::SeqCst);
        }
        sink.lock().unwrap().push(Event::from(e));
        SinkFlow::Continue
    });
    let result = match running {
        Ok(running) => running.wait(),
        Err(error) => Err(StreamError {
            error,
            partial: Completion::empty(),
        }),
    };
    let elapsed = started.elapsed();
    ended.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    let events = std::mem::take(&mut *events.lock().unwrap());
    Seen {
        events,
        result,
        elapsed,
        after_end: after_end.load(Ordering::SeqCst),
    }
}

fn check(name: &str, setup: Setup, expect: Expect) -> Seen {
    let seen = run(&setup);
    let seen_text: String = seen
        .events
        .iter()
        .filter_map(|e| match e {
            Event::TextDelta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let retries = seen
        .events
        .iter()
        .filter(|e| matches!(e, Event::Retry { .. }))
        .count();
    let first_other = seen
        .events
        .iter()
        .position(|e| !matches!(e, Event::Retry { .. }))
        .unwrap_or(seen.events.len());
    assert_eq!(
        retries,
        seen.events[..first_other].len(),
        "{name}: retries only before the first event: {:?}",
        seen.events
    );
    assert_eq!(seen.after_end, 0, "{name}: events after the end");
    assert!(seen.elapsed < BOUND, "{name}: took {:?}", seen.elapsed);
    match (expect, &seen.result) {
        (Expect::Succeeds, Ok(done)) => {
            assert_eq!(text_of(&done.message.content), seen_text, "{name}");
            assert!(!seen_text.is_empty(), "{name}");
        }
        (Expect::Fails(kind, retryable, want_retries), Err(e)) => {
            assert_eq!(
                e.kind().code(),
                kind,
                "{name}: {} (events {:?})",
                e.error.message,
                seen.events
            );
            assert_eq!(e.error.retryable, retryable, "{name}: {}", e.error.message);
            assert_eq!(retries, want_retries, "{name}: {}", e.error.message);
            assert_eq!(
                text_of(&e.partial.message.content),
                seen_text,
                "{name}: the partial text is what the host saw"
            );
        }
        (expect, result) => panic!("{name}: expected {expect:?}, got {result:?}"),
    }
    seen
}

fn error(status: u16, kind: &str) -> Value {
    json!({"error": {"status": status, "type": kind, "message": format!("emulated {kind}")}})
}

#[test]
fn http_errors_before_the_stream() {
    for (status, kind, expect) in [
        (
            429,
            "ThrottlingException",
            Expect::Fails("throttled", true, 2),
        ),
        (
            500,
            "InternalServerException",
            Expect::Fails("service_error", true, 2),
        ),
        (
            503,
            "ServiceUnavailableException",
            Expect::Fails("service_unavailable", true, 2),
        ),
        (
            400,
            "ValidationException",
            Expect::Fails("validation", false, 0),
        ),
        (
            403,
            "AccessDeniedException",
            Expect::Fails("access_denied", false, 0),
        ),
    ] {
        let _ = check(
            &format!("HTTP {status}"),
            Setup::Script(error(status, kind)),
            expect,
        );
    }
}

#[test]
fn connection_faults_before_any_header() {
    for (fault, expect) in [
        (
            TcpFault::CloseBeforeHeaders,
            Expect::Fails("network", true, 2),
        ),
        (
            TcpFault::ResetBeforeHeaders,
            Expect::Fails("network", true, 2),
        ),
        (
            TcpFault::StallBeforeHeaders,
            Expect::Fails("timeout", true, 2),
        ),
    ] {
        check(&format!("{fault:?}"), Setup::Tcp(fault), expect);
    }
}

const ANSWER: &str = "Hello there, this is the answer.";

fn answer_with(fault: Value) -> Setup {
    Setup::Script(json!({"text": ANSWER, "deltaSize": 4, "fault": fault}))
}

#[test]
fn faults_in_the_middle_of_the_stream() {
    check(
        "cut mid-stream",
        answer_with(json!({"kind": "cut", "afterEvents": 4})),
        Expect::Fails("network", true, 0),
    );
    check(
        "no messageStop",
        answer_with(json!({"kind": "noMessageStop"})),
        Expect::Fails("incomplete_stream", false, 0),
    );
    check(
        "stall right after the headers",
        answer_with(json!({"kind": "stall", "afterEvents": 0, "ms": 4000})),
        Expect::Fails("timeout", true, 2),
    );
    check(
        "stall mid-stream",
        answer_with(json!({"kind": "stall", "afterEvents": 4, "ms": 4000})),
        Expect::Fails("timeout", true, 0),
    );
}

#[test]
fn exception_frames_of_each_kind_before_and_after_the_first_delta() {
    for (exception, kind, retryable) in [
        ("throttlingException", "throttled", true),
        ("serviceUnavailableException", "service_unavailable", true),
        ("internalServerException", "service_error", true),
        ("modelStreamErrorException", "service_error", true),
        ("validationException", "validation", false),
    ] {
        // As the very first frame: nothing reached the host, so a retryable one is retried.
        check(
            &format!("{exception} first"),
            answer_with(json!({"kind": "exception", "afterEvents": 0, "exception": exception})),
            Expect::Fails(kind, retryable, if retryable { 2 } else { 0 }),
        );
        // After text reached the host: never retried, the text is kept.
        check(
            &format!("{exception} after a delta"),
            answer_with(json!({"kind": "exception", "afterEvents": 3, "exception": exception})),
            Expect::Fails(kind, retryable, 0),
        );
    }
}

/// A well-formed answer as raw event-stream bytes, and where each message starts.
fn raw_answer(with_metadata: bool) -> (Vec<u8>, Vec<usize>) {
    let mut events = vec![("messageStart", json!({"role": "assistant"}))];
    for piece in ["Hello ", "there, ", "friend."] {
        events.push((
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
        ));
    }
    events.push(("contentBlockStop", json!({"contentBlockIndex": 0})));
    events.push(("messageStop", json!({"stopReason": "end_turn"})));
    if with_metadata {
        events.push((
            "metadata",
            json!({"usage": {"inputTokens": 3, "outputTokens": 3, "totalTokens": 6}, "metrics": {"latencyMs": 9}}),
        ));
    }
    let mut body = Vec::new();
    let mut starts = Vec::new();
    for (event, payload) in events {
        starts.push(body.len());
        body.extend_from_slice(&event_frame(event, payload.to_string()));
    }
    (body, starts)
}

#[test]
fn broken_bytes_in_the_stream() {
    let (good, starts) = raw_answer(true);
    // The third message (the second delta) damaged in its prelude CRC, then in its payload.
    let mut bad_prelude = good.clone();
    bad_prelude[starts[2] + 9] ^= 0xff;
    let mut bad_message = good.clone();
    bad_message[starts[3] - 8] ^= 0xff;
    // Cut in the middle of the fourth message, then a clean end of the body.
    let truncated = good[..starts[3] + 20].to_vec();
    // A message whose prelude claims 2 GiB.
    let mut oversized = good[..starts[2]].to_vec();
    oversized.extend_from_slice(&0x8000_0000u32.to_be_bytes());
    oversized.extend(std::iter::repeat_n(7u8, 64 * 1024));
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    for (name, body, expect) in [
        (
            "bad prelude CRC",
            bad_prelude,
            Expect::Fails("network", true, 0),
        ),
        (
            "bad message CRC",
            bad_message,
            Expect::Fails("network", true, 0),
        ),
        (
            "truncated message",
            truncated,
            Expect::Fails("network", true, 0),
        ),
        (
            "oversized message",
            oversized,
            Expect::Fails("network", true, 0),
        ),
        ("garbage", garbage, Expect::Fails("network", true, 2)),
    ] {
        check(name, Setup::Raw(RawResponse::event_stream(body)), expect);
    }
    let (no_metadata, _) = raw_answer(false);
    check(
        "no metadata",
        Setup::Raw(RawResponse::event_stream(no_metadata)),
        Expect::Succeeds,
    );
    check(
        "slow drip (7 bytes every 10 ms)",
        Setup::Raw(RawResponse::event_stream(good.clone()).dripped(7, 10)),
        Expect::Succeeds,
    );
    let mut in_stream_after_delta = good[..starts[3]].to_vec();
    in_stream_after_delta.extend_from_slice(&exception_frame(
        "throttlingException",
        &json!({"message": "Too many tokens, please wait before trying again."}),
    ));
    check(
        "recorded-shape exception frame after deltas",
        Setup::Raw(RawResponse::event_stream(in_stream_after_delta)),
        Expect::Fails("throttled", true, 0),
    );
}

#[test]
fn json_error_bodies() {
    for (status, body, expect) in [
        (
            200,
            r#"{"message":"Rate exceeded for this account."}"#,
            // No error code: unknown, so not retried.
            Expect::Fails("service_error", false, 0),
        ),
        (
            429,
            r#"{"message":"Too many requests, please wait before trying again."}"#,
            Expect::Fails("throttled", true, 2),
        ),
    ] {
        let raw = RawResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            drip: None,
        };
        let seen = check(&format!("JSON body with {status}"), Setup::Raw(raw), expect);
        let message: Value = serde_json::from_str(body).unwrap();
        let e = seen.result.unwrap_err();
        assert!(
            e.error
                .message
                .contains(message["message"].as_str().unwrap()),
            "HTTP {status}: the service's message is kept: {}",
            e.error.message
        );
    }
}
