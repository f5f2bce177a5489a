//! Issue #4, streams: every event a host sees and every way a stream ends, from the real
//! plugin against scripted emulator answers.

use std::time::Duration;

use e2e_tests::{
    chunks, only_body, provider_for, provider_with, run, run_with, scripted_request,
    start_emulator, stream_bodies, Outcome, FAST_RETRIES,
};
use emulator::RawResponse;
use host_sdk::{ContentBlock, ErrorKind, Event, Provider, SinkFlow, StopReason, TokenUsage};
use serde_json::{json, Value};

const NOVA: &str = "amazon.nova-micro-v1:0";
const SONNET_45: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// Runs a one-question request to Nova Micro whose answer `script` describes.
fn run_nova(p: &Provider, script: Value) -> Outcome {
    run(p, &scripted_request(NOVA, "hi", script))
}

#[test]
fn text_reasoning_signature_redacted_and_tool_calls_in_service_order() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let req = scripted_request(
        SONNET_45,
        "weather?",
        json!({
            "reasoning": {"text": "Let me think about it.", "signature": "sig-abc", "deltaSize": 7},
            "redactedReasoning": ["AQID"],
            "text": "Here you go.",
            "deltaSize": 5,
            "toolCalls": [{"name": "get_weather", "id": "tooluse_x1", "input": {"city": "Paris", "days": 3}, "fragmentSize": 4}],
            "usage": {"inputTokens": 120, "outputTokens": 45, "cacheReadInputTokens": 300, "cacheWriteInputTokens": 20},
            "latencyMs": 42
        }),
    );
    let out = run(&p, &req);
    let completion = out.completion().clone();

    let mut expected = vec![Event::MessageStart];
    for piece in chunks("Let me think about it.", 7) {
        expected.push(Event::ReasoningDelta {
            index: 0,
            text: piece,
        });
    }
    expected.push(Event::ReasoningSignature {
        index: 0,
        signature: "sig-abc".into(),
    });
    expected.push(Event::BlockStop { index: 0 });
    expected.push(Event::RedactedReasoning {
        index: 1,
        data: vec![1, 2, 3],
    });
    expected.push(Event::BlockStop { index: 1 });
    for piece in chunks("Here you go.", 5) {
        expected.push(Event::TextDelta {
            index: 2,
            text: piece,
        });
    }
    expected.push(Event::BlockStop { index: 2 });
    expected.push(Event::ToolUseStart {
        index: 3,
        id: "tooluse_x1".into(),
        name: "get_weather".into(),
    });
    expected.push(Event::ToolUseInputDelta {
        index: 3,
        fragment: String::new(),
    });
    for piece in chunks(r#"{"city":"Paris","days":3}"#, 4) {
        expected.push(Event::ToolUseInputDelta {
            index: 3,
            fragment: piece,
        });
    }
    expected.push(Event::ToolUse {
        index: 3,
        id: "tooluse_x1".into(),
        name: "get_weather".into(),
        input: json!({"city": "Paris", "days": 3}),
        input_error: None,
    });
    expected.push(Event::BlockStop { index: 3 });
    expected.push(Event::MessageStop {
        reason: StopReason::ToolUse,
    });
    let usage = TokenUsage {
        input_tokens: 120,
        output_tokens: 45,
        total_tokens: 485,
        cache_read_tokens: 300,
        cache_write_tokens: 20,
        ..TokenUsage::default()
    };
    // Priced from the model table, with the premium of a geographic (us.) profile.
    let cost = out
        .events
        .iter()
        .find_map(|e| match e {
            Event::Usage { cost_usd, .. } => *cost_usd,
            _ => None,
        })
        .expect("a priced usage event");
    let table_cost = (120.0 * 3.0 + 45.0 * 15.0 + 300.0 * 0.3 + 20.0 * 3.75) * 1.1 / 1e6;
    assert!((cost - table_cost).abs() < 1e-12, "{cost} {table_cost}");
    expected.push(Event::Usage {
        usage,
        cost_usd: Some(cost),
    });
    expected.push(Event::Metrics { latency_ms: 42 });
    assert_eq!(out.events, expected);

    assert_eq!(
        completion.message.content,
        vec![
            ContentBlock::Reasoning {
                text: "Let me think about it.".into(),
                signature: Some("sig-abc".into()),
            },
            ContentBlock::RedactedReasoning {
                data: vec![1, 2, 3]
            },
            ContentBlock::Text {
                text: "Here you go.".into()
            },
            ContentBlock::ToolUse {
                id: "tooluse_x1".into(),
                name: "get_weather".into(),
                input: json!({"city": "Paris", "days": 3}),
            },
        ]
    );
    assert_eq!(completion.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(completion.usage, Some(usage));
    assert_eq!(completion.latency_ms, Some(42));
}

#[test]
fn malformed_tool_input_is_reported_with_the_raw_text() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let events = vec![
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "tooluse_bad", "name": "get_weather"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"city\": \"Par"}}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ("messageStop", json!({"stopReason": "malformed_tool_use"})),
    ];
    let body: Vec<u8> = emulator::events::encode_events(&events)
        .into_iter()
        .flat_map(|b| b.to_vec())
        .collect();
    emu.set_raw_response(NOVA, RawResponse::event_stream(body));
    let out = run_nova(&p, json!({}));
    let tool = out
        .events
        .iter()
        .find(|e| matches!(e, Event::ToolUse { .. }))
        .expect("the tool call is reported, not dropped");
    match tool {
        Event::ToolUse {
            id,
            input,
            input_error,
            ..
        } => {
            assert_eq!(id, "tooluse_bad");
            assert_eq!(input, &json!("{\"city\": \"Par"));
            let why = input_error.as_deref().expect("the parse error is given");
            assert!(why.contains("not valid JSON"), "{why}");
        }
        _ => unreachable!(),
    }
    assert_eq!(
        out.completion().stop_reason,
        Some(StopReason::MalformedToolUse)
    );
}

#[test]
fn every_stop_reason_is_mapped_and_unknown_ones_are_kept() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let known = [
        ("end_turn", StopReason::EndTurn),
        ("tool_use", StopReason::ToolUse),
        ("max_tokens", StopReason::MaxTokens),
        ("stop_sequence", StopReason::StopSequence),
        ("guardrail_intervened", StopReason::GuardrailIntervened),
        ("content_filtered", StopReason::ContentFiltered),
        (
            "model_context_window_exceeded",
            StopReason::ModelContextWindowExceeded,
        ),
        ("malformed_model_output", StopReason::MalformedModelOutput),
        ("malformed_tool_use", StopReason::MalformedToolUse),
        (
            "brand_new_reason",
            StopReason::Other("brand_new_reason".into()),
        ),
    ];
    for (wire, reason) in known {
        let out = run_nova(&p, json!({"text": "ok", "stopReason": wire}));
        assert!(
            out.events.contains(&Event::MessageStop {
                reason: reason.clone()
            }),
            "{wire}: {:?}",
            out.events
        );
        assert_eq!(out.completion().stop_reason.as_ref(), Some(&reason));
        assert_eq!(reason.as_str(), wire);
    }
}

#[test]
fn usage_latency_and_cost_from_the_configured_prices() {
    let emu = start_emulator();
    let p = provider_with(
        &emu,
        &format!(
            r#"models: [{{ id: "{NOVA}", cost: {{ input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }} }}],"#
        ),
    );
    let out = run_nova(
        &p,
        json!({"text": "priced", "latencyMs": 321, "usage": {"inputTokens": 1000, "outputTokens": 500, "cacheReadInputTokens": 2000, "cacheWriteInputTokens": 400}}),
    );
    let expected_cost = (1000.0 * 3.0 + 500.0 * 15.0 + 2000.0 * 0.3 + 400.0 * 3.75) / 1e6;
    let usage = TokenUsage {
        input_tokens: 1000,
        output_tokens: 500,
        total_tokens: 3900,
        cache_read_tokens: 2000,
        cache_write_tokens: 400,
        ..TokenUsage::default()
    };
    let (u, cost) = out
        .events
        .iter()
        .find_map(|e| match e {
            Event::Usage { usage, cost_usd } => Some((*usage, *cost_usd)),
            _ => None,
        })
        .expect("a usage event");
    assert_eq!(u, usage);
    assert!((cost.unwrap() - expected_cost).abs() < 1e-12, "{cost:?}");
    assert!(out.events.contains(&Event::Metrics { latency_ms: 321 }));
    let c = out.completion();
    assert_eq!(c.usage, Some(usage));
    assert!((c.cost_usd.unwrap() - expected_cost).abs() < 1e-12);
    assert_eq!(c.latency_ms, Some(321));

    // No configured price: the model table's, for the profile invoked.
    let out = run(
        &p,
        &scripted_request(
            SONNET_45,
            "hi",
            json!({"text": "priced by the table", "usage": {"inputTokens": 1000, "outputTokens": 100}}),
        ),
    );
    let table_cost = (1000.0 * 3.0 + 100.0 * 15.0) * 1.1 / 1e6;
    let cost = out
        .completion()
        .cost_usd
        .expect("the table prices Sonnet 4.5");
    assert!((cost - table_cost).abs() < 1e-12, "{cost} {table_cost}");

    // A model nobody priced (a raw answer for an id the table does not know): no cost.
    emu.set_raw_response("vendor.unpriced-v1:0", e2e_tests::tiny_stream());
    let out = run(
        &p,
        &host_sdk::ConverseRequest::user_text("vendor.unpriced-v1:0", "hi"),
    );
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, Event::Usage { cost_usd: None, .. })));
    assert_eq!(out.completion().cost_usd, None);
}

/// One-hour cache writes are priced at their own rate: the usage's cacheDetails split the
/// writes by TTL, and the completion says how many were one-hour ones.
#[test]
fn cache_writes_are_priced_by_their_ttl() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let long = host_sdk::ConverseRequest {
        cache: Some(host_sdk::CacheConfig {
            retention: host_sdk::CacheRetention::Long,
        }),
        system: vec!["A long, stable system prompt. ".repeat(200)],
        ..host_sdk::ConverseRequest::user_text(SONNET_45, "hi")
    };
    let first = run(&p, &long);
    let usage = first.completion().usage.expect("usage");
    assert!(usage.cache_write_tokens > 0, "{usage:?}");
    assert_eq!(
        usage.cache_write_1h_tokens,
        Some(usage.cache_write_tokens),
        "{usage:?}"
    );
    let rates = (3.0 * 1.1, 15.0 * 1.1, 6.0 * 1.1);
    let expected = (usage.input_tokens as f64 * rates.0
        + usage.output_tokens as f64 * rates.1
        + usage.cache_write_tokens as f64 * rates.2)
        / 1e6;
    let cost = first.completion().cost_usd.unwrap();
    assert!((cost - expected).abs() < 1e-12, "{cost} {expected}");
}

#[test]
fn throttling_is_retried_with_retry_events_before_anything_else() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    let out = run_nova(&p, json!({"text": "finally", "throttleFirst": 2}));
    assert_eq!(out.completion().message.text(), "finally");
    for (i, event) in out.events[..2].iter().enumerate() {
        match event {
            Event::Retry {
                attempt,
                delay_ms,
                error,
            } => {
                assert_eq!(*attempt, i as u32 + 1);
                assert!(*delay_ms <= 20, "{delay_ms}");
                assert_eq!(error.kind, ErrorKind::Throttled);
                assert!(error.retryable);
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }
    assert_eq!(out.events[2], Event::MessageStart);
    assert_eq!(out.retries().len(), 2);
    assert_eq!(stream_bodies(&emu).len(), 3);
}

#[test]
fn retries_stop_at_the_configured_budget() {
    let emu = start_emulator();
    let p = provider_with(
        &emu,
        "retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },",
    );
    let out = run_nova(&p, json!({"text": "never", "throttleFirst": 5}));
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::Throttled);
    assert!(e.error.retryable, "throttling may succeed later");
    assert_eq!(out.retries().len(), 1);
    assert_eq!(stream_bodies(&emu).len(), 2);
}

#[test]
fn validation_and_access_errors_are_never_retried() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    for (spec, kind, needle) in [
        (
            json!({"type": "ValidationException", "message": "messages.0: bad block"}),
            ErrorKind::Validation,
            "messages.0: bad block",
        ),
        (
            json!({"type": "AccessDeniedException", "message": "User is not authorized to perform bedrock:InvokeModelWithResponseStream"}),
            ErrorKind::AccessDenied,
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment",
        ),
        (
            json!({"type": "ValidationException", "message": "Input is too long for requested model."}),
            ErrorKind::ContextWindowExceeded,
            "context window",
        ),
    ] {
        emu.clear_requests();
        let out = run_nova(&p, json!({"error": spec}));
        let e = out.error();
        assert_eq!(e.kind(), &kind, "{}", e.error.message);
        assert!(!e.error.retryable, "{kind}");
        assert!(e.error.message.contains(needle), "{}", e.error.message);
        assert!(out.retries().is_empty(), "{kind} is never retried");
        assert_eq!(stream_bodies(&emu).len(), 1);
    }

    // An in-stream validation exception is not retried either.
    emu.clear_requests();
    let out = run_nova(
        &p,
        json!({"text": "x", "fault": {"kind": "exception", "afterEvents": 0, "exception": "validationException"}}),
    );
    assert_eq!(out.error().kind(), &ErrorKind::Validation);
    assert!(out.retries().is_empty());
    assert_eq!(stream_bodies(&emu).len(), 1);
}

#[test]
fn transient_errors_before_the_first_event_are_retried() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    for (script, kind) in [
        (
            json!({"text": "x", "fault": {"kind": "exception", "afterEvents": 0, "exception": "serviceUnavailableException"}}),
            ErrorKind::ServiceUnavailable,
        ),
        (
            json!({"text": "x", "fault": {"kind": "exception", "afterEvents": 0, "exception": "internalServerException"}}),
            ErrorKind::ServiceError,
        ),
        (
            json!({"text": "x", "fault": {"kind": "exception", "afterEvents": 0, "exception": "modelStreamErrorException"}}),
            ErrorKind::ServiceError,
        ),
        (
            json!({"error": {"type": "ServiceUnavailableException"}}),
            ErrorKind::ServiceUnavailable,
        ),
    ] {
        emu.clear_requests();
        let out = run_nova(&p, script.clone());
        let e = out.error();
        assert_eq!(e.kind(), &kind, "{script}: {}", e.error.message);
        assert!(e.error.retryable);
        assert_eq!(out.retries().len(), 2, "{script}");
        assert_eq!(stream_bodies(&emu).len(), 3, "{script}");
    }
}

#[test]
fn an_exception_after_delivered_events_is_not_retried_and_keeps_the_partial() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    let out = run_nova(
        &p,
        json!({"text": "Hello world again", "deltaSize": 3,
               "fault": {"kind": "exception", "afterEvents": 4, "exception": "modelStreamErrorException"}}),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::ServiceError);
    assert!(out.retries().is_empty());
    assert_eq!(stream_bodies(&emu).len(), 1);
    assert_eq!(out.text(), "Hello wor");
    assert_eq!(e.partial.message.text(), "Hello wor");
    assert_eq!(e.partial.stop_reason, None);
}

/// What the model itself answered when it failed mid-stream is kept, and a model that was
/// throttled is a throttling error (retried as one).
#[test]
fn a_model_stream_error_keeps_what_the_model_answered() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    let out = run_nova(
        &p,
        json!({"text": "Hello world again", "deltaSize": 3,
               "fault": {"kind": "exception", "afterEvents": 4, "exception": "modelStreamErrorException",
                         "originalStatusCode": 503, "originalMessage": "upstream overloaded"}}),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::ServiceError);
    assert!(
        e.error
            .message
            .contains("the model answered 503: upstream overloaded"),
        "{}",
        e.error.message
    );
    assert_eq!(e.partial.message.text(), "Hello wor");
    let out = run_nova(
        &p,
        json!({"text": "x", "fault": {"kind": "exception", "afterEvents": 0, "exception": "modelStreamErrorException",
                                      "originalStatusCode": 429, "originalMessage": "Too many tokens"}}),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::Throttled, "{}", e.error.message);
    assert!(e.error.retryable);
    assert!(
        e.error.message.contains("429: Too many tokens"),
        "{}",
        e.error.message
    );
}

#[test]
fn a_stalled_stream_ends_with_a_timeout_and_the_partial() {
    let emu = start_emulator();
    let p = provider_with(&emu, "timeouts: { idleMs: 300 },");
    let out = run_nova(
        &p,
        json!({"text": "abcdefghij", "deltaSize": 2, "fault": {"kind": "stall", "afterEvents": 3, "ms": 10000}}),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::Timeout);
    assert!(e.error.message.contains("idle"), "{}", e.error.message);
    assert_eq!(e.partial.message.text(), "abcd");
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
}

#[test]
fn no_first_byte_within_the_timeout_is_a_timeout() {
    let emu = start_emulator();
    let p = provider_with(
        &emu,
        "timeouts: { firstByteMs: 300 }, retry: { maxAttempts: 1 },",
    );
    let out = run_nova(&p, json!({"text": "late", "firstByteDelayMs": 10000}));
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::Timeout);
    assert!(
        e.error.message.contains("first-byte"),
        "{}",
        e.error.message
    );
    assert!(e.error.retryable);
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
}

#[test]
fn a_stream_without_message_stop_is_incomplete_with_the_partial() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    let out = run_nova(
        &p,
        json!({"text": "all of it", "fault": {"kind": "noMessageStop"}}),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::IncompleteStream);
    assert_eq!(e.partial.message.text(), "all of it");
    assert!(out.retries().is_empty(), "events were delivered");
}

#[test]
fn a_cut_connection_keeps_what_arrived() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    let out = run_nova(
        &p,
        json!({"text": "abcdefghij", "deltaSize": 2, "fault": {"kind": "cut", "afterEvents": 4}}),
    );
    let e = out.error();
    assert!(
        matches!(e.kind(), ErrorKind::Network | ErrorKind::IncompleteStream),
        "{e}"
    );
    assert_eq!(e.partial.message.text(), "abcdef");
    assert!(out.retries().is_empty());
}

#[test]
fn cancelling_during_a_stall_ends_the_http_stream_promptly() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let req = scripted_request(
        NOVA,
        "hi",
        json!({"text": "abcdefghij", "deltaSize": 2, "fault": {"kind": "stall", "afterEvents": 3, "ms": 20000}}),
    );
    let running = p.start(&req, |_| SinkFlow::Continue).unwrap();
    let canceller = running.canceller();
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    canceller.cancel();
    let e = running.wait().unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.kind(), &ErrorKind::Cancelled);
    assert!(!e.error.retryable);
    assert_eq!(e.partial.message.text(), "abcd");
}

#[test]
fn stopping_from_the_callback_reports_cancelled_with_the_partial() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut seen = 0;
    let out = run_with(
        &p,
        &scripted_request(NOVA, "hi", json!({"text": "abcdefghij", "deltaSize": 2})),
        move |e| {
            if matches!(e, Event::TextDelta { .. }) {
                seen += 1;
            }
            if seen == 2 {
                SinkFlow::Stop
            } else {
                SinkFlow::Continue
            }
        },
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::Cancelled);
    assert_eq!(e.partial.message.text(), "abcd");
}

#[test]
fn model_errors_are_typed_and_name_what_to_use() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);

    let out = run(
        &p,
        &scripted_request("anthropic.claude-9-nonexistent-v1:0", "hi", json!({})),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::ModelNotFound);
    assert!(!e.error.retryable);
    assert!(
        e.error
            .message
            .contains("anthropic.claude-9-nonexistent-v1:0"),
        "{}",
        e.error.message
    );

    // A profile-only model by its base id: the error names the profiles that exist.
    let out = run(
        &p,
        &scripted_request("anthropic.claude-sonnet-4-5-20250929-v1:0", "hi", json!({})),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::NeedsInferenceProfile);
    assert!(!e.error.retryable);
    for id in [
        "`us.anthropic.claude-sonnet-4-5-20250929-v1:0`",
        "`global.anthropic.claude-sonnet-4-5-20250929-v1:0`",
    ] {
        assert!(e.error.message.contains(id), "{}", e.error.message);
    }
    assert!(out.retries().is_empty());

    // Opus 4.1 has only a US profile: only that one is named.
    let out = run(
        &p,
        &scripted_request("anthropic.claude-opus-4-1-20250805-v1:0", "hi", json!({})),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::NeedsInferenceProfile);
    assert!(
        e.error
            .message
            .contains("use `us.anthropic.claude-opus-4-1-20250805-v1:0` instead"),
        "{}",
        e.error.message
    );
    assert!(!e.error.message.contains("global."), "{}", e.error.message);
}

/// Issue #10: the emulator answers a reasoning request with reasoning (no script needed), so
/// what the plugin sends for reasoning is checked by a model that takes it.
#[test]
fn a_reasoning_request_gets_signed_reasoning_before_the_answer() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut request = host_sdk::ConverseRequest::user_text(SONNET_45, "Why is the sky blue?");
    request.reasoning = Some(host_sdk::ReasoningConfig {
        budget_tokens: Some(2048),
        effort: None,
        ..host_sdk::ReasoningConfig::default()
    });
    let out = run(&p, &request);
    let done = out.completion();
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, Event::ReasoningDelta { .. })),
        "{:?}",
        out.events
    );
    match &done.message.content[0] {
        ContentBlock::Reasoning { text, signature } => {
            assert!(text.contains("Why is the sky blue?"), "{text}");
            assert!(signature.is_some(), "signed");
        }
        other => panic!("reasoning first: {other:?}"),
    }
    assert!(matches!(
        &done.message.content[1],
        ContentBlock::Text { .. }
    ));
    // What the plugin sent is what Bedrock takes for Sonnet 4.5.
    let body = only_body(&emu);
    assert_eq!(
        body["additionalModelRequestFields"]["thinking"]["type"],
        "enabled"
    );
}

/// Issue #10: an application inference profile's ARN is invoked as is.
#[test]
fn an_application_inference_profile_arn_is_invoked_as_is() {
    let emu = start_emulator();
    let arn = emu
        .create_application_profile("team-b", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        .unwrap();
    let p = provider_for(&emu);
    let out = run(
        &p,
        &scripted_request(&arn, "Hi.", json!({"text": "Through the profile."})),
    );
    assert_eq!(out.text(), "Through the profile.");
    let recorded = stream_bodies(&emu);
    assert_eq!(recorded.len(), 1);
    let paths: Vec<String> = emu.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.contains("application-inference-profile")),
        "{paths:?}"
    );
}

/// Issue #12: a server-side tool (Nova's code interpreter) declared, streamed as its own
/// events, kept in the completion, and replayed in the next turn as the service wants it.
#[test]
fn server_tools_are_declared_surfaced_and_replayed() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    const NOVA_2: &str = "us.amazon.nova-2-lite-v1:0";
    let mut first = scripted_request(
        NOVA_2,
        "What is 1234 * 5678?",
        json!({"serverToolCalls": [{"name": "nova_code_interpreter", "input": {"snippet": "1234 * 5678"}, "result": {"stdOut": "7006652", "exitCode": 0}}], "text": "It is 7006652."}),
    );
    first.server_tools = vec!["nova_code_interpreter".into()];
    let out = run(&p, &first);
    let body = stream_bodies(&emu).pop().unwrap();
    assert_eq!(
        body["toolConfig"]["tools"],
        json!([{"systemTool": {"name": "nova_code_interpreter"}}])
    );
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, Event::ToolUseStart { .. } | Event::ToolUse { .. })),
        "a server call is not a call the host must run: {:?}",
        out.events
    );
    let seen = e2e_tests::extensions(&out.events);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].data["content"][0]["value"]["stdOut"], "7006652");
    let completion = out.completion().clone();
    let kinds: Vec<&str> = completion
        .message
        .content
        .iter()
        .map(|b| b.type_name())
        .collect();
    assert_eq!(kinds, ["serverToolUse", "serverToolResult", "text"]);

    // The next turn replays the server blocks as Bedrock's own (the strict emulator takes
    // them only so).
    let mut second = first.clone();
    second.messages.push(completion.message.clone());
    second
        .messages
        .push(host_sdk::Message::user_text("And doubled?"));
    run(&p, &second).completion();
    let body = stream_bodies(&emu).pop().unwrap();
    let replayed = &body["messages"][1]["content"];
    assert_eq!(replayed[0]["toolUse"]["type"], "server_tool_use");
    assert_eq!(replayed[0]["toolUse"]["name"], "nova_code_interpreter");
    assert_eq!(
        replayed[1]["toolResult"]["toolUseId"],
        replayed[0]["toolUse"]["toolUseId"]
    );
    assert_eq!(
        replayed[1]["toolResult"]["type"],
        "nova_code_interpreter_result"
    );
    assert_eq!(
        replayed[1]["toolResult"]["content"][0]["json"]["stdOut"],
        "7006652"
    );
}

/// Issue #12: citations end to end: a document (or a search result) enables them, the
/// host gets each citation as an extension event and the completion keeps the cited text
/// with them, and the next turn replays it as Bedrock's `citationsContent`.
#[test]
fn citations_reach_the_host_and_are_replayed() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let document = ContentBlock::Document {
        format: "txt".into(),
        name: "Handbook".into(),
        data: b"Refunds are possible within thirty days of purchase.".to_vec(),
        citations: true,
        s3: None,
        text: None,
        content: Vec::new(),
        context: None,
    };
    let first = host_sdk::ConverseRequest {
        messages: vec![host_sdk::Message {
            role: host_sdk::Role::User,
            content: vec![
                document,
                ContentBlock::Text {
                    text: "When can I get a refund?".into(),
                },
            ],
        }],
        ..host_sdk::ConverseRequest::user_text(SONNET_45, "")
    };
    let out = run(&p, &first);
    let sent = stream_bodies(&emu).pop().unwrap();
    assert_eq!(
        sent["messages"][0]["content"][0]["document"]["citations"],
        json!({"enabled": true})
    );
    let cites = e2e_tests::extensions(&out.events);
    assert_eq!(cites.len(), 1, "{cites:?}");
    assert_eq!(cites[0].kind, host_sdk::contract::extension_kinds::CITATION);
    let citation = &cites[0].data["citation"];
    assert_eq!(citation["location"]["documentChar"]["documentIndex"], 0);
    assert!(citation["sourceContent"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Refunds are possible"));
    let completion = out.completion().clone();
    let ContentBlock::CitedText { text, citations } = &completion.message.content[0] else {
        panic!("{:?}", completion.message.content)
    };
    assert!(text.contains("Refunds are possible"), "{text}");
    assert_eq!(&citations[0], citation);

    let mut second = first.clone();
    second.messages.push(completion.message.clone());
    second
        .messages
        .push(host_sdk::Message::user_text("Thanks. And exchanges?"));
    run(&p, &second).completion();
    let sent = stream_bodies(&emu).pop().unwrap();
    let replayed = &sent["messages"][1]["content"][0]["citationsContent"];
    assert_eq!(replayed["content"][0]["text"], text.as_str());
    assert_eq!(replayed["citations"][0], *citation);

    // A search result cites by its own location.
    let rag = host_sdk::ConverseRequest {
        messages: vec![host_sdk::Message {
            role: host_sdk::Role::User,
            content: vec![
                ContentBlock::SearchResult {
                    source: "https://example.com/policy".into(),
                    title: "Refund policy".into(),
                    content: vec!["Thirty days, with a receipt.".into()],
                    citations: true,
                },
                ContentBlock::Text {
                    text: "Refund window?".into(),
                },
            ],
        }],
        ..host_sdk::ConverseRequest::user_text(SONNET_45, "")
    };
    let out = run(&p, &rag);
    let sent = stream_bodies(&emu).pop().unwrap();
    assert_eq!(
        sent["messages"][0]["content"][0]["searchResult"]["content"],
        json!([{"text": "Thirty days, with a receipt."}])
    );
    let cites = e2e_tests::extensions(&out.events);
    assert_eq!(
        cites[0].data["citation"]["location"]["searchResultLocation"]["searchResultIndex"],
        0
    );
    assert_eq!(
        cites[0].data["citation"]["source"],
        "https://example.com/policy"
    );
}

/// Issue #20: an image the model makes (`contentBlockStart.image`, its bytes in
/// `contentBlockDelta.image` pieces) reaches the host whole as an `image` extension event, kept
/// in the completion; one that could not be made says why.
#[test]
fn an_image_the_model_makes_reaches_the_host_whole() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    // A PNG signature and 40,000 more bytes: several pieces on the wire.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..40_000u32).map(|i| (i % 251) as u8));
    let data = e2e_tests::b64(&png);
    let outcome = run_nova(
        &p,
        json!({"text": "Here it is:", "image": {"format": "png", "data": data}}),
    );
    let completion = outcome.completion();
    let images: Vec<&host_sdk::Extension> = e2e_tests::extensions(&outcome.events)
        .into_iter()
        .filter(|e| e.kind == host_sdk::contract::extension_kinds::IMAGE)
        .collect();
    assert_eq!(images.len(), 1, "{:?}", outcome.events);
    assert_eq!(images[0].data["format"], "png");
    assert_eq!(
        images[0].data["data"], data,
        "the pieces make the whole image"
    );
    assert!(completion.extensions.iter().any(|e| e.kind == "image"));
    assert_eq!(completion.message.text(), "Here it is:");

    let outcome = run_nova(
        &p,
        json!({"image": {"format": "png", "error": "The image violates the content policy."}}),
    );
    let images = e2e_tests::extensions(&outcome.events);
    assert_eq!(
        images[0].data["error"],
        "The image violates the content policy."
    );
}
