//! Streaming conversations through the loaded plugin: deltas in order, the completed message,
//! stopping from the callback, cancelling from another thread, panics in the host's callback,
//! and 200 concurrent streams from an async host.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_tests::{
    chunks, init, provider_for, recorded, run, scripted_request, start_emulator,
    start_emulator_with, text_deltas, DELIBERATE_PANIC, MODEL,
};
use emulator::EmulatorConfig;
use futures::StreamExt;
use host_sdk::{ErrorKind, Event, SinkFlow, StopReason, StreamEvent};
use serde_json::json;

#[test]
fn blocking_chat_streams_the_scripted_text_in_order() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let text = "The quick brown fox jumps over the lazy dog.";
    let question = "Tell me about foxes.";
    let request = scripted_request(MODEL, question, json!({"text": text, "deltaSize": 3}));

    let out = run(&provider, &request);
    let done = out.completion();

    let events = &out.events;
    assert_eq!(
        text_deltas(events),
        chunks(text, 3),
        "every delta, in order"
    );
    assert_eq!(events.first(), Some(&Event::MessageStart), "{events:?}");
    let stop_at = events
        .iter()
        .position(|e| matches!(e, Event::MessageStop { .. }))
        .expect("a messageStop event");
    let last_delta = events
        .iter()
        .rposition(|e| matches!(e, Event::TextDelta { .. }))
        .unwrap();
    assert!(
        last_delta < stop_at,
        "deltas come before the stop: {events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Usage { .. })),
        "usage is streamed: {events:?}"
    );

    assert_eq!(done.message.text(), text);
    assert_eq!(done.stop_reason, Some(StopReason::EndTurn));
    let usage = done.usage.expect("the completion carries usage");
    assert!(
        usage.input_tokens > 0 && usage.output_tokens > 0,
        "{usage:?}"
    );

    // The service received what the host asked for.
    let sent = recorded(&emu, "ConverseStream");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].model_id.as_deref(), Some(MODEL));
    let body = sent[0].body.as_ref().expect("a JSON body");
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(body["messages"][0]["content"][0]["text"], question);
}

#[test]
fn stopping_from_the_callback_keeps_exactly_the_delivered_text() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let text = "0123456789".repeat(20);
    let request = scripted_request(MODEL, "Count.", json!({"text": text, "deltaSize": 3}));

    let delivered = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = delivered.clone();
    let err = provider
        .converse(&request, move |event| {
            if let StreamEvent::TextDelta { text, .. } = event {
                let mut seen = sink.lock().unwrap();
                seen.push(text.to_string());
                if seen.len() == 3 {
                    return SinkFlow::Stop;
                }
            }
            SinkFlow::Continue
        })
        .expect_err("a stopped stream does not complete");

    let delivered = delivered.lock().unwrap().clone();
    assert_eq!(delivered, chunks(&text, 3)[..3], "nothing after the stop");
    assert_eq!(err.kind(), &ErrorKind::Cancelled, "{err}");
    assert_eq!(err.partial.message.text(), delivered.concat());
    assert_eq!(err.partial.message.text(), text[..9]);
}

#[test]
fn cancelling_from_another_thread_ends_the_stream_promptly() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    // 40 deltas 150 ms apart: the whole answer would take more than 6 s.
    let text = "ab".repeat(40);
    let script = json!({"text": text, "deltaSize": 2, "eventDelayMs": 150});
    let scripted = Duration::from_millis(150 * 40);
    let request = scripted_request(MODEL, "Go slowly.", script);

    let (first_tx, first_rx) = mpsc::channel();
    let delivered = Arc::new(Mutex::new(String::new()));
    let sink = delivered.clone();
    let started = Instant::now();
    let running = provider
        .start(&request, move |event| {
            if let StreamEvent::TextDelta { text, .. } = event {
                sink.lock().unwrap().push_str(text);
                let _ = first_tx.send(());
            }
            SinkFlow::Continue
        })
        .expect("the stream starts");

    first_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a first delta arrives");
    let canceller = running.canceller();
    let cancelled_at = Instant::now();
    std::thread::spawn(move || canceller.cancel())
        .join()
        .unwrap();
    let err = running
        .wait()
        .expect_err("a cancelled stream does not complete");
    let ended_after = cancelled_at.elapsed();

    assert_eq!(err.kind(), &ErrorKind::Cancelled, "{err}");
    assert!(
        ended_after < Duration::from_secs(1),
        "the stream ended {ended_after:?} after the cancel"
    );
    assert!(
        started.elapsed() < scripted / 2,
        "ended well before the scripted stream would have: {:?}",
        started.elapsed()
    );
    let delivered = delivered.lock().unwrap().clone();
    assert!(
        !delivered.is_empty() && delivered.len() < text.len(),
        "{delivered:?}"
    );
    assert_eq!(
        err.partial.message.text(),
        delivered,
        "the partial is what arrived"
    );
}

#[test]
fn a_panic_in_the_hosts_callback_ends_the_stream_with_an_internal_error() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let request = scripted_request(
        MODEL,
        "Hi.",
        json!({"text": "Hello there!", "deltaSize": 4}),
    );

    let err = provider
        .converse(&request, |event| {
            if let StreamEvent::TextDelta { .. } = event {
                panic!("host callback exploded {DELIBERATE_PANIC}");
            }
            SinkFlow::Continue
        })
        .expect_err("the stream fails instead of crashing the process");
    assert_eq!(err.kind(), &ErrorKind::Internal, "{err}");
    assert!(
        err.error.message.contains("host callback exploded"),
        "the error carries the panic message: {err}"
    );

    // The process, the plugin and the provider are still fine.
    let again = scripted_request(MODEL, "Hi.", json!({"text": "Still here."}));
    let done = provider
        .converse(&again, |_| SinkFlow::Continue)
        .expect("the provider still works after the panic");
    assert_eq!(done.message.text(), "Still here.");
}

/// Collects one async stream and checks it against its own scripted text.
async fn run_one(provider: host_sdk::Provider, n: usize) -> Result<(), String> {
    let text = format!("stream {n:03} answers with its own number {n}");
    let script = json!({"text": text, "deltaSize": 4, "eventDelayMs": 10});
    let request = scripted_request(MODEL, &format!("Stream {n}"), script);
    let events: Vec<Event> = provider
        .converse_stream(&request)
        .map_err(|e| format!("stream {n} did not start: {e}"))?
        .collect()
        .await;
    let deltas = text_deltas(&events);
    if deltas != chunks(&text, 4) {
        return Err(format!("stream {n}: deltas {deltas:?}"));
    }
    match events.last() {
        Some(Event::Completed(done)) if done.message.text() == text => Ok(()),
        other => Err(format!("stream {n} ended with {other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_streams_from_an_async_host() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    const STREAMS: usize = 200;

    let threads_before = thread_count();
    let peak_threads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak_threads.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(thread_count(), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let results =
        futures::future::join_all((0..STREAMS).map(|n| run_one(provider.clone(), n))).await;
    let elapsed = started.elapsed();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();

    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );
    assert_eq!(recorded(&emu, "ConverseStream").len(), STREAMS);
    // Each stream takes over 100 ms of scripted delays (about 12 events 10 ms apart): run one
    // after the other they would need more than 20 s.
    assert!(
        elapsed < Duration::from_secs(10),
        "200 streams took {elapsed:?}: they did not run concurrently"
    );
    // Streams are tasks on the plugin's runtime, not threads: the process barely grows.
    let peak = peak_threads.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        peak < threads_before + 16,
        "{STREAMS} streams took the process from {threads_before} to {peak} threads"
    );
}

/// The process's current number of threads (Linux), for the test above.
fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .expect("/proc/self/status has a Threads line")
}

#[test]
fn cancelling_before_the_first_byte_ends_promptly() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    // The model takes 5 s to start answering; the host gives up long before.
    let script = json!({"text": "too late", "firstByteDelayMs": 5000});
    let running = provider
        .start(&scripted_request(MODEL, "Hello?", script), |_| {
            SinkFlow::Continue
        })
        .expect("the stream starts");
    std::thread::sleep(Duration::from_millis(300));
    let cancelled_at = Instant::now();
    running.canceller().cancel();
    let err = running
        .wait()
        .expect_err("a cancelled stream does not complete");
    assert_eq!(err.kind(), &ErrorKind::Cancelled, "{err}");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "ended {:?} after the cancel",
        cancelled_at.elapsed()
    );
    assert!(err.partial.message.content.is_empty(), "{:?}", err.partial);
}

#[test]
fn a_failure_mid_stream_keeps_the_partial_answer() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let text = "abcdefghijklmnopqrstuvwxyz";
    // messageStart, contentBlockStart? and a few deltas, then the model fails.
    let script = json!({
        "text": text,
        "deltaSize": 2,
        "fault": {"kind": "exception", "afterEvents": 5, "exception": "modelStreamErrorException"},
    });
    let delivered = Arc::new(Mutex::new(String::new()));
    let sink = delivered.clone();
    let err = provider
        .converse(
            &scripted_request(MODEL, "Alphabet.", script),
            move |event| {
                if let StreamEvent::TextDelta { text, .. } = event {
                    sink.lock().unwrap().push_str(text);
                }
                SinkFlow::Continue
            },
        )
        .expect_err("the stream fails");
    let delivered = delivered.lock().unwrap().clone();
    assert_eq!(err.kind(), &ErrorKind::ServiceError, "{err}");
    assert!(
        !delivered.is_empty() && text.starts_with(&delivered),
        "{delivered:?}"
    );
    assert_eq!(err.partial.message.text(), delivered);
    // Text had reached the host, so the plugin must not retry (it would repeat it).
    assert_eq!(recorded(&emu, "ConverseStream").len(), 1);
}

#[test]
fn a_throttled_request_is_retried_and_the_host_is_told() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let script = json!({"text": "after the retry", "throttleFirst": 1});
    let out = run(&provider, &scripted_request(MODEL, "Busy?", script));
    assert_eq!(out.completion().message.text(), "after the retry");
    match out.events.first() {
        Some(Event::Retry {
            attempt: 1, error, ..
        }) => {
            assert_eq!(error.kind, ErrorKind::Throttled, "{error}")
        }
        other => panic!("the first event announces the retry: {other:?}"),
    }
    assert_eq!(recorded(&emu, "ConverseStream").len(), 2);
}

/// Contract 1.6 backpressure: an async host that stops reading slows the plugin's reading
/// from Bedrock instead of piling events up: while the host reads nothing, no more than
/// about 256 KiB wait for it, although Bedrock has the whole 4 MB answer ready; once it
/// reads again, every delta arrives, in order.
#[test]
fn an_async_host_that_stops_reading_pauses_the_plugin() {
    init();
    let emu = start_emulator_with(EmulatorConfig {
        delivery: emulator::pacing::Delivery::Fast,
        ..EmulatorConfig::default()
    });
    let provider = provider_for(&emu);
    let text: String = (0..4_000).map(|i| format!("{:0999}\n", i)).collect();
    let request = scripted_request(
        MODEL,
        "All of it.",
        json!({"text": text, "deltaSize": 1000}),
    );
    let mut stream = provider.converse_stream(&request).unwrap();
    // The first event (the message's start), then nothing read for a while.
    let first = futures::executor::block_on(stream.next());
    assert_eq!(first, Some(Event::MessageStart));
    let mut peak = 0;
    for _ in 0..30 {
        std::thread::sleep(Duration::from_millis(50));
        peak = peak.max(stream.backlog_bytes());
    }
    assert!(
        peak > 64 * 1024 && peak < 512 * 1024,
        "the plugin paused near 256 KiB waiting, not at {peak} bytes"
    );
    let events: Vec<Event> = futures::executor::block_on(stream.collect());
    let deltas: String = text_deltas(&events).concat();
    assert!(deltas == text, "every delta arrives, in order");
    assert!(
        matches!(events.last(), Some(Event::Completed(_))),
        "{:?}",
        events.last()
    );
}

/// A host that wants the answer whole (`converse_whole`, as the gateway's non-streamed
/// responses do) is told when the output begins and gets the completion at the end; a
/// failure before any output is told at once (nothing was answered: another model may try),
/// one after it keeps the partial; dropping the answer cancels the stream at Bedrock.
#[test]
fn a_whole_answer_tells_its_start_then_its_completion() {
    use futures::executor::block_on;
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);

    let text = "The quick brown fox jumps over the lazy dog.";
    let request = scripted_request(MODEL, "Foxes?", json!({"text": text, "deltaSize": 5}));
    let mut answer = provider.converse_whole(&request).unwrap();
    block_on(answer.output_started()).expect("the output began");
    let done = block_on(answer.completion()).expect("a completion");
    assert_eq!(done.message.text(), text);
    assert!(done.usage.is_some(), "{done:?}");

    let refused = scripted_request(
        MODEL,
        "x",
        json!({"text": "x", "fault": {"kind": "exception", "afterEvents": 0, "exception": "validationException"}}),
    );
    let mut answer = provider.converse_whole(&refused).unwrap();
    let e = block_on(answer.output_started()).expect_err("it failed before any output");
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.partial.message.text(), "");

    let broken = scripted_request(
        MODEL,
        "x",
        json!({"text": "Hello world again", "deltaSize": 3,
               "fault": {"kind": "exception", "afterEvents": 4, "exception": "validationException"}}),
    );
    let mut answer = provider.converse_whole(&broken).unwrap();
    block_on(answer.output_started()).expect("the output began");
    let e = block_on(answer.completion()).expect_err("it failed after its output began");
    assert_eq!(e.kind(), &ErrorKind::Validation);
    assert_eq!(e.partial.message.text(), "Hello wor");

    let slow = scripted_request(
        MODEL,
        "x",
        json!({"text": "ab".repeat(30), "deltaSize": 2, "eventDelayMs": 100}),
    );
    let mut answer = provider.converse_whole(&slow).unwrap();
    block_on(answer.output_started()).expect("the output began");
    drop(answer);
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.stream_ends().abandoned() == 0 {
        assert!(
            Instant::now() < deadline,
            "the dropped answer's stream was never cancelled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
