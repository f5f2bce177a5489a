//! The decoder on hand-made frames split at every size, the bodies written, and the
//! endpoint. (The end-to-end suites run it against the emulator and real recorded streams.)

use std::convert::Infallible;

use aws_sdk_bedrockruntime::types::{
    CitationLocation, ContentBlockDelta, ContentBlockStart, ConverseStreamOutput,
    ReasoningContentBlockDelta, ToolResultBlockDelta,
};
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use host_sdk::{ContentBlock, ConverseRequest, ErrorKind, Message as HostMessage, Role};
use serde_json::{json, Value};

use super::events::WireEvents;
use crate::errors::{CallContext, CallFailure};
use crate::response_body::Progress;

fn frame(message_type: &str, kind_header: &str, kind: &str, payload: Value) -> Vec<u8> {
    let message = Message::new(Bytes::from(payload.to_string()))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.to_string().into()),
        ))
        .add_header(Header::new(
            kind_header.to_string(),
            HeaderValue::String(kind.to_string().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&message, &mut out).expect("a test frame");
    out
}

fn event(kind: &str, payload: Value) -> Vec<u8> {
    frame("event", ":event-type", kind, payload)
}

/// `bytes` as a body arriving `chunk` bytes at a time.
fn body(bytes: &[u8], chunk: usize) -> SdkBody {
    let frames: Vec<Result<http_body_1::Frame<Bytes>, Infallible>> = bytes
        .chunks(chunk)
        .map(|c| Ok(http_body_1::Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    SdkBody::from_body_1_x(http_body_util::StreamBody::new(futures::stream::iter(
        frames,
    )))
}

fn ctx() -> CallContext<'static> {
    CallContext {
        operation: "ConverseStream",
        model_id: Some("m"),
        credential_source: "test",
        region: "us-east-1",
    }
}

async fn decode(
    bytes: &[u8],
    chunk: usize,
) -> (Vec<ConverseStreamOutput>, Option<CallFailure>, u64) {
    let progress = Progress::default();
    let mut events = WireEvents::new(body(bytes, chunk), progress.clone());
    let mut seen = Vec::new();
    loop {
        match events.recv(&ctx()).await {
            Ok(Some(e)) => seen.push(e),
            Ok(None) => return (seen, None, progress.bytes()),
            Err(e) => return (seen, Some(e), progress.bytes()),
        }
    }
}

fn whole_answer() -> Vec<u8> {
    [
        event("messageStart", json!({"role": "assistant", "p": "abc"})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "f", "type": "server_tool_use"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"a\":"}}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolResult": {"toolUseId": "t1", "type": "web_search_result", "status": "success"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolResult": [{"text": "found"}, {"json": {"n": 1}}]}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"reasoningContent": {"text": "hmm"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"reasoningContent": {"signature": "sig"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"reasoningContent": {"redactedContent": "AAEC"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 3, "delta": {"citation": {"title": "T", "sourceContent": [{"text": "quote"}], "location": {"documentPage": {"documentIndex": 0, "start": 2, "end": 3}}}}}),
        ),
        event("somethingNew", json!({"x": 1})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 3, "delta": {"text": "héllo \"you\""}}),
        ),
        event(
            "messageStop",
            json!({"stopReason": "end_turn", "additionalModelResponseFields": {"k": [1, 2]}}),
        ),
        event(
            "metadata",
            json!({
                "usage": {"inputTokens": 5, "outputTokens": 7, "totalTokens": 12, "cacheReadInputTokens": 3,
                          "cacheDetails": [{"ttl": "1h", "inputTokens": 3}]},
                "metrics": {"latencyMs": 42},
                "trace": {
                    "promptRouter": {"invokedModelId": "routed"},
                    "guardrail": {
                        "actionReason": "blocked",
                        "inputAssessment": {"g1": {
                            "topicPolicy": {"topics": [{"name": "dragons", "type": "DENY", "action": "BLOCKED", "detected": true}]},
                            "invocationMetrics": {"guardrailProcessingLatency": 9,
                                "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 0, "wordPolicyUnits": 0,
                                          "sensitiveInformationPolicyUnits": 0, "sensitiveInformationPolicyFreeUnits": 0,
                                          "contextualGroundingPolicyUnits": 0},
                                "guardrailCoverage": {"textCharacters": {"guarded": 4, "total": 4}}},
                            "automatedReasoningPolicy": {"findings": [{"valid": {}}, {"tooComplex": {}}]}
                        }}
                    }
                },
                "serviceTier": {"type": "flex"},
                "performanceConfig": {"latency": "optimized"}
            }),
        ),
    ]
    .concat()
}

#[tokio::test]
async fn every_event_decodes_at_every_split_and_progress_counts_every_byte() {
    let bytes = whole_answer();
    for chunk in [1, 3, 7, 64, bytes.len()] {
        let (seen, failure, counted) = decode(&bytes, chunk).await;
        assert!(
            failure.is_none(),
            "chunk {chunk}: {:?}",
            failure.map(|f| f.error)
        );
        assert_eq!(counted, bytes.len() as u64, "chunk {chunk}");
        // The unknown event is skipped.
        assert_eq!(seen.len(), 13, "chunk {chunk}");
        let ConverseStreamOutput::ContentBlockStart(start) = &seen[1] else {
            panic!("{:?}", seen[1])
        };
        let Some(ContentBlockStart::ToolUse(tool)) = start.start() else {
            panic!("{start:?}")
        };
        assert_eq!(
            (
                tool.tool_use_id(),
                tool.name(),
                tool.r#type().map(|t| t.as_str())
            ),
            ("t1", "f", Some("server_tool_use"))
        );
        let ConverseStreamOutput::ContentBlockDelta(d) = &seen[5] else {
            panic!()
        };
        let Some(ContentBlockDelta::ToolResult(parts)) = d.delta() else {
            panic!("{d:?}")
        };
        assert!(matches!(&parts[0], ToolResultBlockDelta::Text(t) if t == "found"));
        assert!(matches!(parts[1], ToolResultBlockDelta::Json(_)));
        let reasoning: Vec<_> = seen[6..9]
            .iter()
            .map(|e| match e {
                ConverseStreamOutput::ContentBlockDelta(d) => d.delta().cloned(),
                _ => None,
            })
            .collect();
        assert!(
            matches!(&reasoning[0], Some(ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(t))) if t == "hmm")
        );
        assert!(
            matches!(&reasoning[1], Some(ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Signature(s))) if s == "sig")
        );
        assert!(
            matches!(&reasoning[2], Some(ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::RedactedContent(b))) if b.as_ref() == [0, 1, 2])
        );
        let ConverseStreamOutput::ContentBlockDelta(d) = &seen[9] else {
            panic!()
        };
        let Some(ContentBlockDelta::Citation(c)) = d.delta() else {
            panic!("{d:?}")
        };
        assert_eq!(c.title(), Some("T"));
        assert_eq!(c.source_content()[0].text(), Some("quote"));
        assert!(
            matches!(c.location(), Some(CitationLocation::DocumentPage(p)) if p.start() == Some(2))
        );
        let ConverseStreamOutput::ContentBlockDelta(d) = &seen[10] else {
            panic!()
        };
        assert!(matches!(d.delta(), Some(ContentBlockDelta::Text(t)) if t == "héllo \"you\""));
        let ConverseStreamOutput::MessageStop(stop) = &seen[11] else {
            panic!()
        };
        assert_eq!(stop.stop_reason().as_str(), "end_turn");
        assert_eq!(
            crate::document::from_document(stop.additional_model_response_fields().unwrap()),
            json!({"k": [1, 2]})
        );
        let ConverseStreamOutput::Metadata(meta) = &seen[12] else {
            panic!()
        };
        let usage = meta.usage().unwrap();
        assert_eq!(
            (
                usage.input_tokens(),
                usage.output_tokens(),
                usage.cache_read_input_tokens()
            ),
            (5, 7, Some(3))
        );
        assert_eq!(usage.cache_details()[0].ttl().as_str(), "1h");
        assert_eq!(meta.metrics().unwrap().latency_ms(), 42);
        assert_eq!(meta.service_tier().unwrap().r#type().as_str(), "flex");
        assert_eq!(
            meta.performance_config().unwrap().latency().as_str(),
            "optimized"
        );
        let trace = meta.trace().unwrap();
        assert_eq!(
            trace.prompt_router().unwrap().invoked_model_id(),
            Some("routed")
        );
        // What the host is shown of the guardrail's trace is the same as from the SDK's types.
        let shown = crate::stream::guardrail_trace::to_json(trace.guardrail().unwrap());
        assert_eq!(shown["actionReason"], "blocked");
        let g1 = &shown["inputAssessment"]["g1"];
        assert_eq!(g1["topicPolicy"]["topics"][0]["name"], "dragons");
        assert_eq!(
            g1["invocationMetrics"]["guardrailCoverage"]["textCharacters"]["guarded"],
            4
        );
        assert_eq!(g1["automatedReasoningPolicy"]["findingCount"], 2);
    }
}

#[tokio::test]
async fn a_throttled_model_mid_stream_is_a_throttling_error_after_the_text() {
    let bytes = [
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "part"}}),
        ),
        frame(
            "exception",
            ":exception-type",
            "modelStreamErrorException",
            json!({"message": "model failed", "originalStatusCode": 429, "originalMessage": "slow down"}),
        ),
    ]
    .concat();
    let (seen, failure, _) = decode(&bytes, 5).await;
    assert_eq!(seen.len(), 1);
    let failure = failure.expect("the exception");
    assert_eq!(failure.error.code.as_str(), ErrorKind::Throttled.code());
    assert!(failure.error.retryable);
    assert!(
        failure
            .error
            .message
            .contains("the model answered 429: slow down"),
        "{}",
        failure.error.message
    );
}

#[tokio::test]
async fn a_generic_error_frame_keeps_the_services_code_and_message() {
    let message = Message::new(Bytes::new())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("error".into()),
        ))
        .add_header(Header::new(
            ":error-code",
            HeaderValue::String("ValidationException".into()),
        ))
        .add_header(Header::new(
            ":error-message",
            HeaderValue::String("the input is too long".into()),
        ));
    let mut bytes = Vec::new();
    write_message_to(&message, &mut bytes).unwrap();
    let (_, failure, _) = decode(&bytes, 4).await;
    let failure = failure.expect("the error");
    assert_eq!(
        failure.service_message.as_deref(),
        Some("the input is too long")
    );
    assert!(!failure.error.retryable);
}

#[tokio::test]
async fn a_stream_cut_inside_a_message_is_an_error_not_an_end() {
    let bytes = event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "whole"}}),
    );
    for cut in [1, 4, 13, bytes.len() - 1] {
        let (seen, failure, _) = decode(&bytes[..cut], 3).await;
        assert!(seen.is_empty());
        let failure = failure.expect("a truncated stream fails");
        assert_eq!(
            failure.error.code.as_str(),
            ErrorKind::Network.code(),
            "cut {cut}"
        );
    }
}

#[tokio::test]
async fn a_corrupt_frame_or_a_huge_prelude_fails_before_buffering() {
    let mut corrupt = event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "x"}}),
    );
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let (_, failure, _) = decode(&corrupt, 8).await;
    assert!(failure
        .expect("a CRC mismatch")
        .error
        .message
        .contains("not a valid event stream"));

    let mut huge = 0x8000_0000u32.to_be_bytes().to_vec();
    huge.extend(std::iter::repeat_n(0u8, 4096));
    let (_, failure, counted) = decode(&huge, 4).await;
    assert!(failure
        .expect("refused")
        .error
        .message
        .contains("2147483648 bytes"));
    assert_eq!(counted, 4, "refused at the prelude, before reading on");
}

fn prepared(messages: Vec<HostMessage>) -> crate::translate::Prepared {
    let req = ConverseRequest {
        model: "anthropic.claude-3-haiku-20240307-v1:0".into(),
        messages,
        ..ConverseRequest::default()
    };
    crate::translate::prepare(
        &req,
        "anthropic.claude-3-haiku-20240307-v1:0",
        crate::model_facts::ModelTable::built_in(),
    )
    .expect("a valid request")
}

#[test]
fn documents_are_written_as_bedrock_reads_them() {
    let document = prepared(vec![HostMessage {
        role: Role::User,
        content: vec![
            ContentBlock::Text {
                text: "summarise".into(),
            },
            ContentBlock::Document {
                format: "txt".into(),
                name: "notes".into(),
                data: b"some notes".to_vec(),
                s3: None,
                citations: true,
                text: None,
                content: Vec::new(),
                context: Some("from the wiki".into()),
            },
        ],
    }]);
    let body: Value = serde_json::from_slice(&super::request::body(&document).unwrap()).unwrap();
    assert_eq!(
        body["messages"][0]["content"][1],
        json!({"document": {
            "format": "txt", "name": "notes", "source": {"bytes": "c29tZSBub3Rlcw=="},
            "context": "from the wiki", "citations": {"enabled": true}
        }})
    );
}

#[test]
fn the_endpoint_is_the_one_the_sdks_rules_give() {
    let plain = aws_config::SdkConfig::builder().build();
    let fips = aws_config::SdkConfig::builder().use_fips(true).build();
    let dual = aws_config::SdkConfig::builder()
        .use_dual_stack(true)
        .build();
    let configured = aws_config::SdkConfig::builder()
        .endpoint_url("https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com")
        .build();
    let url = |sdk: &aws_config::SdkConfig, endpoint: Option<&str>, region: &str| {
        super::runtime_url(sdk, endpoint, region).unwrap()
    };
    assert_eq!(
        url(&plain, None, "us-west-2"),
        "https://bedrock-runtime.us-west-2.amazonaws.com"
    );
    assert_eq!(
        url(&fips, None, "us-east-1"),
        "https://bedrock-runtime-fips.us-east-1.amazonaws.com"
    );
    assert_eq!(
        url(&dual, None, "us-east-1"),
        "https://bedrock-runtime.us-east-1.api.aws"
    );
    assert_eq!(
        url(&plain, None, "cn-north-1"),
        "https://bedrock-runtime.cn-north-1.amazonaws.com.cn"
    );
    assert_eq!(
        url(&configured, None, "us-east-1"),
        "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com"
    );
    // The provider's own endpoint wins over all of them.
    assert_eq!(
        url(&fips, Some("http://127.0.0.1:4000/"), "us-east-1"),
        "http://127.0.0.1:4000"
    );
    assert!(super::runtime_url(&plain, None, "not a region!").is_err());
}
