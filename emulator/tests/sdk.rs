//! The AWS Rust SDK, unmodified, against the emulator: control plane, runtime, every
//! scenario field and fault, and every authentication case.

mod common;

use aws_sdk_bedrock::types::{InferenceType, ModelCustomization, ModelModality};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConverseStreamOutput,
    ReasoningContentBlockDelta,
};
use common::*;
use emulator::{EmulatorConfig, RawResponse, Scenario};
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

#[tokio::test]
async fn list_foundation_models_with_filters() {
    let emu = start();
    let client = control(&emu);
    let all = client.list_foundation_models().send().await.unwrap();
    let models = all.model_summaries();
    assert!(models.len() >= 25);
    let haiku = models.iter().find(|m| m.model_id() == HAIKU).unwrap();
    assert_eq!(
        haiku.model_arn(),
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}")
    );
    assert_eq!(haiku.provider_name(), Some("Anthropic"));
    assert_eq!(haiku.response_streaming_supported(), Some(true));
    assert!(haiku
        .inference_types_supported()
        .contains(&InferenceType::OnDemand));
    assert_eq!(haiku.model_lifecycle().unwrap().status().as_str(), "ACTIVE");
    let sonnet45 = models
        .iter()
        .find(|m| m.model_id() == "anthropic.claude-sonnet-4-5-20250929-v1:0")
        .unwrap();
    // Profile-only models carry a value the service model does not enumerate.
    assert_eq!(
        sonnet45.inference_types_supported()[0].as_str(),
        "INFERENCE_PROFILE"
    );
    assert!(models
        .iter()
        .any(|m| m.model_lifecycle().unwrap().status().as_str() == "LEGACY"));
    assert!(models
        .iter()
        .any(|m| m.response_streaming_supported() == Some(false)
            && m.output_modalities().contains(&ModelModality::Text)));

    let anthropic = client
        .list_foundation_models()
        .by_provider("anthropic")
        .send()
        .await
        .unwrap();
    assert!(anthropic.model_summaries().len() >= 8);
    assert!(anthropic
        .model_summaries()
        .iter()
        .all(|m| m.provider_name() == Some("Anthropic")));

    let embeddings = client
        .list_foundation_models()
        .by_output_modality(ModelModality::Embedding)
        .send()
        .await
        .unwrap();
    assert!(!embeddings.model_summaries().is_empty());
    assert!(embeddings
        .model_summaries()
        .iter()
        .all(|m| m.response_streaming_supported() == Some(false)));

    let images = client
        .list_foundation_models()
        .by_output_modality(ModelModality::Image)
        .send()
        .await
        .unwrap();
    assert!(images
        .model_summaries()
        .iter()
        .any(|m| m.provider_name() == Some("Stability AI")));

    let provisioned = client
        .list_foundation_models()
        .by_inference_type(InferenceType::Provisioned)
        .send()
        .await
        .unwrap();
    assert!(provisioned
        .model_summaries()
        .iter()
        .any(|m| m.model_id() == HAIKU));
    assert!(provisioned.model_summaries().len() < models.len());

    let distill = client
        .list_foundation_models()
        .by_customization_type(ModelCustomization::Distillation)
        .send()
        .await
        .unwrap();
    assert!(distill
        .model_summaries()
        .iter()
        .all(|m| m.model_id().starts_with("amazon.nova")));
    let recorded = emu.requests();
    assert_eq!(recorded[0].operation, "ListFoundationModels");
    assert_eq!(recorded[1].query.as_deref(), Some("byProvider=anthropic"));
}

#[tokio::test]
async fn inference_profiles_paginate() {
    let emu = start();
    let client = control(&emu);
    let pages: Vec<_> = client
        .list_inference_profiles()
        .max_results(4)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert!(pages.len() > 3, "several pages expected");
    let items: Vec<_> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().inference_profile_summaries().to_vec())
        .collect();
    assert_eq!(
        items.len(),
        emulator::catalogue::profiles_for_region("us-east-1").len()
    );
    let ids: HashSet<&str> = items.iter().map(|p| p.inference_profile_id()).collect();
    assert_eq!(ids.len(), items.len(), "no duplicates across pages");
    // Like the service, only profiles callable from the client's region are listed.
    for prefix in ["us.", "global."] {
        assert!(ids.iter().any(|id| id.starts_with(prefix)), "{prefix}");
    }
    assert!(!ids
        .iter()
        .any(|id| id.starts_with("eu.") || id.starts_with("apac.")));
    let all_ids: HashSet<String> = emulator::catalogue::profiles()
        .iter()
        .map(|p| p.id())
        .collect();
    for prefix in ["us.", "eu.", "apac.", "global."] {
        assert!(all_ids.iter().any(|id| id.starts_with(prefix)), "{prefix}");
    }
    assert!(ids.contains("global.anthropic.claude-sonnet-4-5-20250929-v1:0"));
    assert!(!ids.contains("global.anthropic.claude-3-haiku-20240307-v1:0"));
    assert!(!all_ids.contains("eu.anthropic.claude-opus-4-1-20250805-v1:0"));
    let us_haiku = items
        .iter()
        .find(|p| p.inference_profile_id() == format!("us.{HAIKU}"))
        .unwrap();
    assert_eq!(
        us_haiku.inference_profile_arn(),
        format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}")
    );
    assert_eq!(us_haiku.status().as_str(), "ACTIVE");
    assert_eq!(us_haiku.r#type().as_str(), "SYSTEM_DEFINED");
    assert!(us_haiku.models().iter().any(|m| m.model_arn()
        == Some(&*format!(
            "arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}"
        ))));

    let apps = client
        .list_inference_profiles()
        .type_equals(aws_sdk_bedrock::types::InferenceProfileType::Application)
        .send()
        .await
        .unwrap();
    assert!(apps.inference_profile_summaries().is_empty());
    let got = client
        .get_inference_profile()
        .inference_profile_identifier("global.anthropic.claude-haiku-4-5-20251001-v1:0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.inference_profile_id(),
        "global.anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    let missing = client
        .get_inference_profile()
        .inference_profile_identifier("us.nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn converse_echoes_and_records() {
    let emu = start();
    let client = runtime(&emu);
    let out = client
        .converse()
        .model_id("amazon.nova-micro-v1:0")
        .messages(user("hello there"))
        .send()
        .await
        .unwrap();
    let msg = out.output().unwrap().as_message().unwrap();
    let ContentBlock::Text(text) = &msg.content()[0] else {
        panic!("text expected")
    };
    assert_eq!(
        text,
        "You said: hello there. (This is the local Bedrock emulator; no AWS account was used.)"
    );
    assert_eq!(out.stop_reason().as_str(), "end_turn");
    let usage = out.usage().unwrap();
    assert_eq!(
        usage.total_tokens(),
        usage.input_tokens() + usage.output_tokens()
    );
    let rec = &emu.requests()[0];
    assert_eq!(rec.operation, "Converse");
    assert_eq!(rec.model_id.as_deref(), Some("amazon.nova-micro-v1:0"));
    assert_eq!(rec.path, "/model/amazon.nova-micro-v1%3A0/converse");
    assert_eq!(
        rec.auth,
        Some(emulator::AuthKind::SigV4 {
            access_key_id: emulator::DEFAULT_ACCESS_KEY_ID.into(),
            session_token: false
        })
    );
    assert_eq!(
        rec.body.as_ref().unwrap()["messages"][0]["content"][0]["text"],
        "hello there"
    );
    assert!(rec
        .header("authorization")
        .unwrap()
        .ends_with("Signature=<redacted>"));
    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn converse_with_scripted_tools_and_reasoning() {
    let emu = start();
    let client = runtime(&emu);
    let s = r#"{"text":"Let me check.","reasoning":{"text":"think","signature":"sig=="},
        "toolCalls":[{"name":"get_weather","input":{"city":"Paris"},"id":"tooluse_abc"}],
        "usage":{"inputTokens":10,"outputTokens":20,"cacheReadInputTokens":5,"cacheWriteInputTokens":7}}"#;
    let out = client
        .converse()
        .model_id(format!("us.{HAIKU}"))
        .messages(user(&scenario_text(s)))
        .send()
        .await
        .unwrap();
    let content = out.output().unwrap().as_message().unwrap().content();
    assert_eq!(content.len(), 3);
    let ContentBlock::ReasoningContent(r) = &content[0] else {
        panic!()
    };
    assert_eq!(r.as_reasoning_text().unwrap().signature(), Some("sig=="));
    let ContentBlock::ToolUse(t) = &content[2] else {
        panic!()
    };
    assert_eq!(t.tool_use_id(), "tooluse_abc");
    assert_eq!(out.stop_reason().as_str(), "tool_use");
    let usage = out.usage().unwrap();
    assert_eq!(usage.cache_read_input_tokens(), Some(5));
    assert_eq!(usage.cache_write_input_tokens(), Some(7));
    assert_eq!(usage.total_tokens(), 42);
}

#[tokio::test]
async fn stream_text_in_deltas() {
    let emu = start();
    let client = runtime(&emu);
    let c = stream_text(
        &client,
        HAIKU,
        &scenario_text(r#"{"text":"héllo wörld!","deltaSize":3,"latencyMs":77}"#),
    )
    .await
    .unwrap();
    assert!(c.error.is_none());
    assert_eq!(c.text(), "héllo wörld!");
    assert_eq!(
        c.kinds(),
        vec![
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    let ConverseStreamOutput::Metadata(m) = c.events.last().unwrap() else {
        panic!()
    };
    assert_eq!(m.metrics().unwrap().latency_ms(), 77);
    // The echo model streams too.
    let echo = stream_text(&client, HAIKU, "ping").await.unwrap();
    assert!(echo.text().starts_with("You said: ping."));
    assert_eq!(emu.requests()[0].operation, "ConverseStream");
}

#[tokio::test]
async fn stream_reasoning_redacted_and_fragmented_tools() {
    let emu = start();
    let client = runtime(&emu);
    let s = r#"{"reasoning":{"text":"Let me think about it.","signature":"EqQBCkYIBxgC","deltaSize":5},
        "redactedReasoning":["cmVkYWN0ZWQ="],
        "text":"Calling tools.",
        "toolCalls":[{"name":"get_weather","input":{"city":"Paris","units":"metric"},"fragmentSize":4},
                     {"name":"get_time","input":{"tz":"CET"}}]}"#;
    let c = stream_text(&client, HAIKU, &scenario_text(s))
        .await
        .unwrap();
    assert!(c.error.is_none(), "{:?}", c.error);
    let mut reasoning = String::new();
    let mut signature = None;
    let mut redacted = Vec::new();
    let mut tool_inputs: Vec<(String, String, String)> = Vec::new();
    let mut first_fragment = None;
    for e in &c.events {
        match e {
            ConverseStreamOutput::ContentBlockStart(s) => {
                let Some(ContentBlockStart::ToolUse(t)) = s.start() else {
                    panic!()
                };
                tool_inputs.push((
                    t.tool_use_id().to_string(),
                    t.name().to_string(),
                    String::new(),
                ));
            }
            ConverseStreamOutput::ContentBlockDelta(d) => match d.delta().unwrap() {
                ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(t)) => {
                    assert_eq!(d.content_block_index(), 0);
                    reasoning.push_str(t)
                }
                ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Signature(s)) => {
                    signature = Some(s.clone())
                }
                ContentBlockDelta::ReasoningContent(
                    ReasoningContentBlockDelta::RedactedContent(b),
                ) => {
                    assert_eq!(d.content_block_index(), 1);
                    redacted.push(b.as_ref().to_vec())
                }
                ContentBlockDelta::ToolUse(t) => {
                    if first_fragment.is_none() {
                        first_fragment = Some(t.input().to_string());
                    }
                    tool_inputs.last_mut().unwrap().2.push_str(t.input())
                }
                ContentBlockDelta::Text(_) => assert_eq!(d.content_block_index(), 2),
                other => panic!("unexpected {other:?}"),
            },
            _ => {}
        }
    }
    assert_eq!(reasoning, "Let me think about it.");
    assert_eq!(signature.as_deref(), Some("EqQBCkYIBxgC"));
    assert_eq!(redacted, vec![b"redacted".to_vec()]);
    assert_eq!(c.text(), "Calling tools.");
    assert_eq!(first_fragment.as_deref(), Some(""));
    assert_eq!(tool_inputs.len(), 2);
    assert!(tool_inputs[0].0.starts_with("tooluse_"));
    let input: serde_json::Value = serde_json::from_str(&tool_inputs[0].2).unwrap();
    assert_eq!(input, serde_json::json!({"city":"Paris","units":"metric"}));
    assert_eq!(tool_inputs[1].2, r#"{"tz":"CET"}"#);
    assert_eq!(c.stop_reason().as_deref(), Some("tool_use"));
}

#[tokio::test]
async fn every_stop_reason_passes_through() {
    let emu = start();
    let client = runtime(&emu);
    for reason in [
        "end_turn",
        "tool_use",
        "max_tokens",
        "stop_sequence",
        "guardrail_intervened",
        "content_filtered",
        "model_context_window_exceeded",
        "malformed_model_output",
        "malformed_tool_use",
        "brand_new_reason",
    ] {
        let s = format!(r#"{{"text":"x","stopReason":"{reason}"}}"#);
        let c = stream_text(&client, HAIKU, &scenario_text(&s))
            .await
            .unwrap();
        assert_eq!(c.stop_reason().as_deref(), Some(reason));
    }
}

#[tokio::test]
async fn stream_usage_with_cache_tokens_and_defaults() {
    let emu = start();
    let client = runtime(&emu);
    let s = r#"{"textLength":40,"usage":{"inputTokens":11,"outputTokens":236,"cacheWriteInputTokens":1028}}"#;
    let c = stream_text(&client, HAIKU, &scenario_text(s))
        .await
        .unwrap();
    assert_eq!(c.text().chars().count(), 40);
    let ConverseStreamOutput::Metadata(m) = c.events.last().unwrap() else {
        panic!()
    };
    let u = m.usage().unwrap();
    assert_eq!(
        (u.input_tokens(), u.output_tokens(), u.total_tokens()),
        (11, 236, 1275)
    );
    assert_eq!(u.cache_write_input_tokens(), Some(1028));
    assert_eq!(u.cache_read_input_tokens(), Some(0));
    let d = stream_text(&client, HAIKU, &scenario_text(r#"{"textLength":400}"#))
        .await
        .unwrap();
    let ConverseStreamOutput::Metadata(m) = d.events.last().unwrap() else {
        panic!()
    };
    assert_eq!(m.usage().unwrap().output_tokens(), 100);
    assert_eq!(m.usage().unwrap().cache_read_input_tokens(), None);
}

#[tokio::test]
async fn stream_delays() {
    let emu = start();
    let client = runtime(&emu);
    let started = Instant::now();
    let c = stream_text(
        &client,
        HAIKU,
        &scenario_text(
            r#"{"text":"abcdef","deltaSize":2,"firstByteDelayMs":100,"eventDelayMs":20}"#,
        ),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100 + 20 * 6));
    assert_eq!(c.text(), "abcdef");
    let ConverseStreamOutput::Metadata(m) = c.events.last().unwrap() else {
        panic!()
    };
    assert_eq!(m.metrics().unwrap().latency_ms(), 120 + 100 + 20 * 7);
}

#[tokio::test]
async fn exception_frames_surface_as_typed_errors() {
    let emu = start();
    let client = runtime(&emu);
    for exception in [
        "throttlingException",
        "validationException",
        "modelStreamErrorException",
        "internalServerException",
        "serviceUnavailableException",
    ] {
        let s = format!(
            r#"{{"text":"abcdefghij","deltaSize":2,"fault":{{"kind":"exception","afterEvents":3,"exception":"{exception}","message":"boom {exception}"}}}}"#
        );
        let c = stream_text(&client, HAIKU, &scenario_text(&s))
            .await
            .unwrap();
        assert_eq!(c.events.len(), 3, "{exception}");
        let err = c.service_error.expect("service error");
        let ok = match &err {
            ConverseStreamOutputError::ThrottlingException(_) => exception == "throttlingException",
            ConverseStreamOutputError::ValidationException(_) => exception == "validationException",
            ConverseStreamOutputError::ModelStreamErrorException(_) => {
                exception == "modelStreamErrorException"
            }
            ConverseStreamOutputError::InternalServerException(_) => {
                exception == "internalServerException"
            }
            ConverseStreamOutputError::ServiceUnavailableException(_) => {
                exception == "serviceUnavailableException"
            }
            _ => false,
        };
        assert!(ok, "{exception}: {err:?}");
        assert_eq!(err.message(), Some(&*format!("boom {exception}")));
    }
}

#[tokio::test]
async fn cut_and_no_message_stop_and_stall() {
    let emu = start();
    let client = runtime(&emu);
    let cut = stream_text(
        &client,
        HAIKU,
        &scenario_text(
            r#"{"text":"abcdefghij","deltaSize":2,"fault":{"kind":"cut","afterEvents":2}}"#,
        ),
    )
    .await
    .unwrap();
    assert_eq!(cut.events.len(), 2);
    assert!(cut.error.is_some(), "a cut stream is an error");

    let nms = stream_text(
        &client,
        HAIKU,
        &scenario_text(r#"{"text":"abc","fault":{"kind":"noMessageStop"}}"#),
    )
    .await
    .unwrap();
    assert!(nms.error.is_none());
    assert_eq!(
        nms.kinds(),
        vec!["messageStart", "contentBlockDelta", "contentBlockStop"]
    );

    let started = Instant::now();
    let stall = stream_text(
        &client,
        HAIKU,
        &scenario_text(r#"{"text":"abc","fault":{"kind":"stall","afterEvents":2,"ms":300}}"#),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(stall.error.is_none());
    assert_eq!(stall.text(), "abc");
}

#[tokio::test]
async fn throttle_first_then_success() {
    let emu = start();
    let s = scenario_text(r#"{"text":"finally","throttleFirst":2}"#);
    let retrying = runtime_retrying(&emu, 3);
    let c = stream_text(&retrying, HAIKU, &s).await.unwrap();
    assert_eq!(c.text(), "finally");
    assert_eq!(emu.requests().len(), 3);
    // A different scenario text has its own counter; without retries the 429 surfaces.
    let once = runtime(&emu);
    let err = once
        .converse()
        .model_id(HAIKU)
        .messages(user(&scenario_text(
            r#"{"text":"other","throttleFirst":1}"#,
        )))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_throttling_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("Too many requests, please wait before trying again.")
    );
}

#[tokio::test]
async fn scripted_errors_before_the_stream() {
    let emu = start();
    let client = runtime(&emu);
    for (ty, status) in [
        ("ModelNotReadyException", 429),
        ("AccessDeniedException", 403),
        ("ResourceNotFoundException", 404),
        ("ServiceUnavailableException", 503),
        ("InternalServerException", 500),
        ("ModelTimeoutException", 408),
    ] {
        let s = format!(r#"{{"error":{{"type":"{ty}","message":"nope"}}}}"#);
        let err = client
            .converse_stream()
            .model_id(HAIKU)
            .messages(user(&scenario_text(&s)))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.raw_response().unwrap().status().as_u16(), status);
        let se = err.into_service_error();
        assert_eq!(se.code(), Some(ty));
        assert_eq!(se.message(), Some("nope"));
    }
}

#[tokio::test]
async fn model_id_forms_and_validation() {
    let emu = start();
    let client = runtime(&emu);
    let ok_ids = [
        format!("us.{HAIKU}"),
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0".to_string(),
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"),
        format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}"),
    ];
    for id in &ok_ids {
        let c = stream_text(&client, id, "hi").await.unwrap();
        assert!(c.error.is_none(), "{id}");
    }
    let recorded: Vec<_> = emu
        .requests()
        .into_iter()
        .map(|r| r.model_id.unwrap())
        .collect();
    assert_eq!(recorded, ok_ids.to_vec());

    let msg = |id: &str| {
        let client = client.clone();
        let id = id.to_string();
        async move {
            let e = client
                .converse()
                .model_id(id)
                .messages(user("hi"))
                .send()
                .await
                .unwrap_err()
                .into_service_error();
            assert!(e.is_validation_exception(), "{e:?}");
            e.message().unwrap().to_string()
        }
    };
    assert_eq!(
        msg("anthropic.claude-sonnet-4-5-20250929-v1:0").await,
        "Invocation of model ID anthropic.claude-sonnet-4-5-20250929-v1:0 with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
    );
    assert_eq!(
        msg("does-not-exist").await,
        "The provided model identifier is invalid."
    );
    assert_eq!(
        msg("us.does-not-exist-model-v1:0").await,
        "The provided model identifier is invalid."
    );
    // An EU profile cannot be called from us-east-1.
    assert_eq!(
        msg(&format!("eu.{HAIKU}")).await,
        "The provided model identifier is invalid."
    );
    assert!(msg("amazon.titan-embed-text-v2:0")
        .await
        .contains("doesn't support the model"));
    let e = client
        .converse_stream()
        .model_id("ai21.j2-ultra-v1")
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_validation_exception());
    assert!(e.message().unwrap().contains("streaming"));
    // The same model works without streaming.
    client
        .converse()
        .model_id("ai21.j2-ultra-v1")
        .messages(user("hi"))
        .send()
        .await
        .unwrap();

    use aws_sdk_bedrockruntime::types::{ConversationRole, InferenceConfiguration, Message};
    let assistant = Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::Text("a".into()))
        .build()
        .unwrap();
    let cases: Vec<(Vec<Message>, Option<i32>, &str)> = vec![
        (vec![], None, "must start with a user message"),
        (
            vec![assistant.clone()],
            None,
            "must start with a user message",
        ),
        (vec![user("a"), user("b")], None, "must alternate"),
        (vec![user(" ")], None, "is blank"),
        (vec![user("a")], Some(0), "maxTokens"),
    ];
    for (messages, max_tokens, expected) in cases {
        let mut req = client
            .converse()
            .model_id(HAIKU)
            .set_messages(Some(messages));
        if let Some(m) = max_tokens {
            req = req.inference_config(InferenceConfiguration::builder().max_tokens(m).build());
        }
        let e = req.send().await.unwrap_err().into_service_error();
        assert!(e.is_validation_exception());
        assert!(
            e.message().unwrap().contains(expected),
            "{:?} vs {expected}",
            e.message()
        );
    }
}

#[tokio::test]
async fn scenario_sources_and_precedence() {
    let emu = start();
    let client = runtime(&emu);
    emu.set_scenario(
        HAIKU,
        Scenario {
            text: Some("registered".into()),
            ..Default::default()
        },
    );
    let c = stream_text(&client, HAIKU, "hi").await.unwrap();
    assert_eq!(c.text(), "registered");
    let via_profile = stream_text(&client, &format!("us.{HAIKU}"), "hi")
        .await
        .unwrap();
    assert_eq!(via_profile.text(), "registered");
    let meta = client
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .request_metadata("emulator-scenario", r#"{"text":"from metadata"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(collect(meta).await.text(), "from metadata");
    let text = stream_text(
        &client,
        HAIKU,
        &scenario_text(r#"{"text":"from text"} trailing words"#),
    )
    .await
    .unwrap();
    assert_eq!(text.text(), "from text");
    emu.clear_scenario(HAIKU);
    assert!(stream_text(&client, HAIKU, "hi")
        .await
        .unwrap()
        .text()
        .starts_with("You said: hi."));
    let bad = stream_text(&client, HAIKU, &scenario_text(r#"{"txet":"typo"}"#))
        .await
        .err()
        .unwrap();
    assert!(bad.contains("Invalid EMULATOR_SCENARIO"), "{bad}");
}

#[tokio::test]
async fn replays_raw_recordings() {
    let emu = start();
    let dir = recordings_dir().join("extracted");
    let bin = std::fs::read(dir.join("test_bedrock_model_thinking_part_stream.yaml.0.bin"))
        .expect("the recordings are in tests/recordings");
    let model = "us.anthropic.claude-sonnet-4-20250514-v1:0";
    emu.set_raw_response(model, RawResponse::event_stream(bin.clone()));
    let client = runtime(&emu);
    let c = stream_text(&client, model, "hi").await.unwrap();
    assert!(c.error.is_none());
    assert_eq!(
        c.events.len(),
        emulator::frames::decode_all(&bin).unwrap().len()
    );
    assert!(c.text().starts_with("Hello! It"));
    let unavailable =
        std::fs::read(dir.join("converse_stream_serviceUnavailableException.bin.0.bin")).unwrap();
    emu.set_raw_response(HAIKU, RawResponse::event_stream(unavailable));
    let c = stream_text(&client, HAIKU, "hi").await.unwrap();
    assert!(matches!(
        c.service_error,
        Some(ConverseStreamOutputError::ServiceUnavailableException(_))
    ));
    emu.clear_raw_response(HAIKU);
    assert!(stream_text(&client, HAIKU, "hi")
        .await
        .unwrap()
        .error
        .is_none());
}

#[tokio::test]
async fn large_answer_is_fast() {
    // Fast delivery: what benchmarks use.
    let emu = start_with(EmulatorConfig {
        delivery: emulator::pacing::Delivery::Fast,
        ..EmulatorConfig::default()
    });
    let body = serde_json::json!({"messages":[{"role":"user","content":[{"text": scenario_text(r#"{"textLength":600000,"deltaSize":6}"#)}]}]}).to_string();
    let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream";
    let mut headers = vec![(
        "authorization".to_string(),
        format!("Bearer {}", emu.api_key()),
    )];
    headers.push(("content-type".into(), "application/json".into()));
    let started = Instant::now();
    let (status, _, bytes) = raw_http(&emu, "POST", path, &headers, body.as_bytes()).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200);
    let frames = emulator::frames::decode_all(&bytes).unwrap();
    assert_eq!(frames.len(), 100_000 + 4);
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

/// A runtime client signing with these keys and no session token.
fn runtime_with_keys(
    emu: &emulator::RunningEmulator,
    access_key_id: &str,
    secret_access_key: &str,
) -> aws_sdk_bedrockruntime::Client {
    aws_sdk_bedrockruntime::Client::from_conf(
        runtime_builder(emu)
            .credentials_provider(aws_sdk_bedrockruntime::config::Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "t",
            ))
            .build(),
    )
}

/// A one-message Converse call the test expects to be refused.
async fn converse_error(
    client: &aws_sdk_bedrockruntime::Client,
) -> aws_sdk_bedrockruntime::error::SdkError<
    aws_sdk_bedrockruntime::operation::converse::ConverseError,
    aws_sdk_bedrockruntime::config::http::HttpResponse,
> {
    client
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .expect_err("the call is refused")
}

#[tokio::test]
async fn auth_sigv4_session_token_and_bearer() {
    // Session credentials: the SDK signs x-amz-security-token.
    let emu = start_with(EmulatorConfig {
        session_token: Some("session-token-123".into()),
        ..Default::default()
    });
    let ok = stream_text(&runtime(&emu), HAIKU, "hi").await.unwrap();
    assert!(ok.error.is_none());
    assert_eq!(
        emu.requests()[0].header("x-amz-security-token"),
        Some("session-token-123")
    );
    let no_token = runtime_with_keys(&emu, emu.access_key_id(), emu.secret_access_key());
    let e = converse_error(&no_token).await;
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(
        e.into_service_error().code(),
        Some("UnrecognizedClientException")
    );

    let emu = start();
    let wrong_secret = runtime_with_keys(&emu, emu.access_key_id(), "wrong");
    let e = converse_error(&wrong_secret).await.into_service_error();
    assert_eq!(e.code(), Some("InvalidSignatureException"));
    assert!(e.message().unwrap().starts_with(
        "The request signature we calculated does not match the signature you provided."
    ));

    let wrong_key = runtime_with_keys(&emu, "AKIAOTHER", emu.secret_access_key());
    let e = converse_error(&wrong_key).await.into_service_error();
    assert_eq!(e.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        e.message(),
        Some("The security token included in the request is invalid.")
    );

    let wrong_region = aws_sdk_bedrockruntime::Client::from_conf(
        runtime_builder(&emu)
            .region(aws_sdk_bedrockruntime::config::Region::new("us-west-2"))
            .credentials_provider(sigv4_creds(&emu))
            .build(),
    );
    let e = converse_error(&wrong_region).await.into_service_error();
    assert_eq!(e.code(), Some("InvalidSignatureException"));
    assert!(e.message().unwrap().contains("scoped to a valid region"));

    let bearer = runtime_bearer(&emu, emu.api_key());
    assert!(stream_text(&bearer, HAIKU, "hi")
        .await
        .unwrap()
        .error
        .is_none());
    assert_eq!(
        emu.requests().last().unwrap().auth,
        Some(emulator::AuthKind::Bearer)
    );
    let bad_bearer = runtime_bearer(&emu, "ABSKnotthekey");
    let e = converse_error(&bad_bearer).await;
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
}

#[tokio::test]
async fn auth_raw_unsigned_tampered_and_stale() {
    let emu = start();
    let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
    let (status, head, resp) = raw_http(&emu, "POST", path, &[], body).await;
    assert_eq!(status, 403);
    assert!(head
        .to_ascii_lowercase()
        .contains("x-amzn-errortype: missingauthenticationtokenexception"));
    assert_eq!(
        String::from_utf8_lossy(&resp),
        r#"{"message":"Missing Authentication Token"}"#
    );

    let now = SystemTime::now();
    let good = sign_headers(
        &emu,
        "POST",
        path,
        body,
        emu.secret_access_key(),
        emu.region(),
        now,
    );
    let (status, _, resp) = raw_http(&emu, "POST", path, &good, body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));

    let tampered = br#"{"messages":[{"role":"user","content":[{"text":"HI"}]}]}"#;
    let (status, head, _) = raw_http(&emu, "POST", path, &good, tampered).await;
    assert_eq!(status, 403);
    assert!(head
        .to_ascii_lowercase()
        .contains("invalidsignatureexception"));

    // A lying x-amz-content-sha256 (signed) does not help a tampered body either.
    let mut with_hash = good.clone();
    with_hash.push(("x-amz-content-sha256".into(), "0".repeat(64)));
    let (status, _, _) = raw_http(&emu, "POST", path, &with_hash, tampered).await;
    assert_eq!(status, 403);

    let stale = sign_headers(
        &emu,
        "POST",
        path,
        body,
        emu.secret_access_key(),
        emu.region(),
        now - Duration::from_secs(20 * 60),
    );
    let (status, _, resp) = raw_http(&emu, "POST", path, &stale, body).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&resp).contains("Signature expired"));

    let wrong_service_path = "/foundation-models";
    let mut h = sign_headers(
        &emu,
        "GET",
        wrong_service_path,
        b"",
        emu.secret_access_key(),
        emu.region(),
        now,
    );
    for (k, v) in h.iter_mut() {
        if k == "authorization" {
            *v = v.replace("/bedrock/", "/s3/");
        }
    }
    let (status, _, resp) = raw_http(&emu, "GET", wrong_service_path, &h, b"").await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&resp).contains("correct service"));
}

#[tokio::test]
async fn malformed_requests_get_service_errors() {
    let emu = start();
    let bearer = vec![(
        "authorization".to_string(),
        format!("Bearer {}", emu.api_key()),
    )];
    let (status, head, body) = raw_http(
        &emu,
        "POST",
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
        &bearer,
        b"{not json",
    )
    .await;
    assert_eq!(status, 400);
    assert!(head
        .to_ascii_lowercase()
        .contains("x-amzn-errortype: validationexception:"));
    assert!(String::from_utf8_lossy(&body).contains("Malformed input request"));
    let (status, head, _) = raw_http(&emu, "GET", "/nope", &bearer, b"").await;
    assert_eq!(status, 404);
    assert!(head
        .to_ascii_lowercase()
        .contains("x-amzn-errortype: unknownoperationexception"));
    let (status, _, _) = raw_http(&emu, "GET", "/model/x/converse", &bearer, b"").await;
    assert_eq!(status, 404);
    let (status, _, _) = raw_http(&emu, "POST", "/model/%FF%FE/converse", &bearer, b"{}").await;
    assert_eq!(status, 400);
    let (status, _, _) = raw_http(
        &emu,
        "GET",
        "/inference-profiles?maxResults=0",
        &bearer,
        b"",
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = raw_http(
        &emu,
        "GET",
        "/inference-profiles?nextToken=garbage",
        &bearer,
        b"",
    )
    .await;
    assert_eq!(status, 400);
}

/// HTTP/2 carries the host in `:authority`, not a `host` header; clients (the AWS JS SDK's
/// default transport among them) still sign it as `host`. Prior-knowledge HTTP/2 (h2c) here.
#[tokio::test]
async fn sigv4_over_http2_is_accepted() {
    use http_body_util::{BodyExt, Full};
    let emu = start();
    let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    let body = serde_json::json!({"messages":[{"role":"user","content":[{"text":"Hi over h2"}]}]})
        .to_string();
    let tcp = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .expect("the emulator speaks HTTP/2 with prior knowledge");
    tokio::spawn(connection);
    let send = |secret: &'static str| {
        let headers = sign_headers(
            &emu,
            "POST",
            path,
            body.as_bytes(),
            secret,
            emulator::DEFAULT_REGION,
            SystemTime::now(),
        );
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", emu.addr()))
            .version(http::Version::HTTP_2);
        for (name, value) in headers {
            // No `host` header on HTTP/2: the authority is in the URI.
            if name != "host" {
                request = request.header(name, value);
            }
        }
        request
            .body(Full::new(bytes::Bytes::from(body.clone())))
            .unwrap()
    };
    let response = sender
        .send_request(send(emulator::DEFAULT_SECRET_ACCESS_KEY))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    let status = response.status();
    let answer = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert!(String::from_utf8_lossy(&answer).contains("Hi over h2"));
    // A wrong secret is still refused over HTTP/2.
    let response = sender.send_request(send("wrong-secret")).await.unwrap();
    assert_eq!(response.status(), 403);
}

/// The sizes of the HTTP/1.1 chunks (one per write of the emulator) of a streamed answer.
async fn chunk_sizes(emu: &emulator::RunningEmulator, scenario: &str) -> (Vec<usize>, Vec<u8>) {
    use http_body_util::BodyExt;
    let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream";
    let body = serde_json::json!({"messages":[{"role":"user","content":[{"text": scenario_text(scenario)}]}]})
        .to_string();
    let tcp = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("host", emu.addr().to_string())
        .header("authorization", format!("Bearer {}", emu.api_key()))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let mut response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let (mut sizes, mut all) = (Vec::new(), Vec::new());
    while let Some(frame) = response.body_mut().frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            sizes.push(data.len());
            all.extend_from_slice(&data);
        }
    }
    (sizes, all)
}

/// By default answers arrive as Bedrock's do: paced, and cut at byte boundaries that do not
/// follow the frames; `Fast` sends them at once.
#[tokio::test]
async fn paced_delivery_splits_frames_across_writes() {
    let scenario = r#"{"textLength":600,"deltaSize":6}"#;
    let paced = |seed| {
        start_with(EmulatorConfig {
            delivery: emulator::pacing::Delivery::Paced { seed },
            ..EmulatorConfig::default()
        })
    };
    let emu_a = paced(7);
    let started = Instant::now();
    let (sizes, bytes) = chunk_sizes(&emu_a, scenario).await;
    let elapsed = started.elapsed();
    let frames = emulator::frames::decode_all(&bytes).unwrap();
    assert_eq!(
        frames.len(),
        100 + 4,
        "every frame arrives, whole once joined"
    );
    // Where the frames end, and where the writes end: some writes end inside a frame.
    let mut frame_ends = std::collections::BTreeSet::new();
    let mut at = 0;
    for f in emulator::frames::decode_all(&bytes).unwrap() {
        at += emulator::frames::event_frame(f.header(":event-type").unwrap(), f.payload.clone())
            .len();
        frame_ends.insert(at);
    }
    let mut write_ends = Vec::new();
    let mut at = 0;
    for s in &sizes {
        at += s;
        write_ends.push(at);
    }
    assert!(
        write_ends.iter().any(|end| !frame_ends.contains(end)),
        "some write splits a frame: {sizes:?}"
    );
    assert!(sizes.len() > 20, "written in many pieces: {sizes:?}");
    assert!(elapsed >= Duration::from_millis(5), "paced: {elapsed:?}");
    // (That a seed replays its delivery is the unit test `pacing::tests`: TCP may merge or
    // split reads, so read sizes are not compared here.)
    let fast = start_with(EmulatorConfig {
        delivery: emulator::pacing::Delivery::Fast,
        ..EmulatorConfig::default()
    });
    let fast_reads = chunk_sizes(&fast, scenario).await.0.len();
    assert!(fast_reads <= 3, "fast: sent at once ({fast_reads} reads)");
}

/// GetFoundationModel, CountTokens, and serviceTier / performanceConfig echoed back, through
/// the AWS Rust SDK's own operations and types; request ids are random UUIDs.
#[tokio::test]
async fn get_foundation_model_count_tokens_and_echoed_settings() {
    use aws_sdk_bedrockruntime::types::{
        ConverseTokensRequest, CountTokensInput, PerformanceConfigLatency,
        PerformanceConfiguration, ServiceTier, ServiceTierType,
    };
    let emu = start();
    let details = control(&emu)
        .get_foundation_model()
        .model_identifier("anthropic.claude-opus-4-6-v1")
        .send()
        .await
        .expect("GetFoundationModel");
    let model = details.model_details().unwrap();
    assert_eq!(model.model_name(), Some("Claude Opus 4.6"));
    let missing = control(&emu)
        .get_foundation_model()
        .model_identifier("anthropic.claude-nope")
        .send()
        .await
        .unwrap_err();
    assert!(missing
        .into_service_error()
        .is_resource_not_found_exception());

    let client = runtime(&emu);
    let counted = client
        .count_tokens()
        .model_id("anthropic.claude-sonnet-4-5-20250929-v1:0")
        .input(CountTokensInput::Converse(
            ConverseTokensRequest::builder()
                .messages(user("How many tokens is this sentence?"))
                .build(),
        ))
        .send()
        .await
        .expect("CountTokens");
    assert!(counted.input_tokens() > 0);
    let refused = client
        .count_tokens()
        .model_id("amazon.nova-micro-v1:0")
        .input(CountTokensInput::Converse(
            ConverseTokensRequest::builder()
                .messages(user("hi"))
                .build(),
        ))
        .send()
        .await
        .unwrap_err();
    assert!(format!("{:?}", refused).contains("doesn't support counting tokens"));

    let out = client
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .service_tier(
            ServiceTier::builder()
                .r#type(ServiceTierType::Flex)
                .build()
                .unwrap(),
        )
        .performance_config(
            PerformanceConfiguration::builder()
                .latency(PerformanceConfigLatency::Optimized)
                .build(),
        )
        .send()
        .await
        .expect("ConverseStream with a service tier");
    let mut stream = out.stream;
    let mut metadata = None;
    while let Some(event) = stream.recv().await.unwrap() {
        if let aws_sdk_bedrockruntime::types::ConverseStreamOutput::Metadata(m) = event {
            metadata = Some(m);
        }
    }
    let metadata = metadata.expect("a metadata event");
    assert_eq!(
        metadata.service_tier().unwrap().r#type(),
        &ServiceTierType::Flex
    );
    assert_eq!(
        metadata.performance_config().unwrap().latency(),
        &PerformanceConfigLatency::Optimized
    );

    // Request ids: random version-4 UUIDs, never repeated.
    let headers = vec![(
        "authorization".to_string(),
        format!("Bearer {}", emu.api_key()),
    )];
    let mut ids = HashSet::new();
    for _ in 0..20 {
        let (_, response_headers, _) =
            raw_http(&emu, "GET", "/foundation-models", &headers, b"").await;
        // The response head as text: find `x-amzn-RequestId: <id>`.
        let id = response_headers
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("x-amzn-requestid")
                    .then(|| value.trim().to_string())
            })
            .expect("a request id");
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{id}"
        );
        assert!(parts[2].starts_with('4'), "version 4: {id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 20, "never repeated");
}

/// Application inference profiles: created by a test, listed with `typeEquals=APPLICATION`,
/// described by GetInferenceProfile (the models behind them), invoked through their ARN.
#[tokio::test]
async fn application_inference_profiles_are_listed_described_and_invocable() {
    use aws_sdk_bedrock::types::InferenceProfileType;
    let emu = start();
    let arn = emu
        .create_application_profile(
            "team-a-sonnet",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        )
        .expect("a known source");
    assert!(arn.contains(":application-inference-profile/"), "{arn}");
    assert!(emu
        .create_application_profile("x", "no.such-model")
        .is_none());

    let listed = control(&emu)
        .list_inference_profiles()
        .type_equals(InferenceProfileType::Application)
        .send()
        .await
        .unwrap();
    let summaries = listed.inference_profile_summaries();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].inference_profile_arn(), arn);
    assert_eq!(summaries[0].r#type(), &InferenceProfileType::Application);
    // The system-defined list is unchanged.
    let system = control(&emu)
        .list_inference_profiles()
        .send()
        .await
        .unwrap();
    assert!(system
        .inference_profile_summaries()
        .iter()
        .all(|p| p.r#type() == &InferenceProfileType::SystemDefined));

    let described = control(&emu)
        .get_inference_profile()
        .inference_profile_identifier(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.inference_profile_name(), "team-a-sonnet");
    let models: Vec<&str> = described
        .models()
        .iter()
        .filter_map(|m| m.model_arn())
        .collect();
    assert!(!models.is_empty());
    assert!(models
        .iter()
        .all(|m| m.ends_with("foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0")));

    let c = stream_text(&runtime(&emu), &arn, "via an application profile")
        .await
        .unwrap();
    assert!(c.error.is_none());
    assert!(
        c.text().contains("via an application profile"),
        "{}",
        c.text()
    );
}

/// Guardrails a test defines: a blocked word in the input or the answer ends it with
/// `guardrail_intervened` and the guardrail's message; with trace enabled the metadata event
/// carries the assessments, which the SDK reads into its own types; `guardContent` limits
/// what is assessed; an unknown guardrail is refused.
#[tokio::test]
async fn guardrails_intervene_with_their_trace() {
    use aws_sdk_bedrockruntime::types::{
        ConversationRole, GuardrailConverseContentBlock, GuardrailConverseTextBlock,
        GuardrailStreamConfiguration, GuardrailTrace, Message, StopReason,
    };
    let emu = start();
    let (id, version) = emu.create_guardrail(&["pineapple"], "Sorry, I can't talk about that.");
    let config = |id: &str| {
        GuardrailStreamConfiguration::builder()
            .guardrail_identifier(id)
            .guardrail_version(&version)
            .trace(GuardrailTrace::Enabled)
            .build()
    };
    async fn run(
        client: &aws_sdk_bedrockruntime::Client,
        message: Message,
        config: GuardrailStreamConfiguration,
    ) -> (
        String,
        Option<StopReason>,
        Option<aws_sdk_bedrockruntime::types::GuardrailTraceAssessment>,
    ) {
        let out = client
            .converse_stream()
            .model_id(HAIKU)
            .messages(message)
            .guardrail_config(config)
            .send()
            .await
            .expect("a guarded stream");
        let mut stream = out.stream;
        let (mut text, mut stop, mut trace) = (String::new(), None, None);
        while let Some(event) = stream.recv().await.unwrap() {
            match event {
                ConverseStreamOutput::ContentBlockDelta(d) => {
                    if let Some(ContentBlockDelta::Text(t)) = d.delta() {
                        text.push_str(t);
                    }
                }
                ConverseStreamOutput::MessageStop(s) => stop = Some(s.stop_reason().clone()),
                ConverseStreamOutput::Metadata(m) => {
                    trace = m.trace().and_then(|t| t.guardrail()).cloned()
                }
                _ => {}
            }
        }
        (text, stop, trace)
    }
    let client = runtime(&emu);

    // Blocked input: the model never answers.
    let (text, stop, trace) =
        run(&client, user("Tell me about PINEAPPLE pizza."), config(&id)).await;
    assert_eq!(text, "Sorry, I can't talk about that.");
    assert_eq!(stop, Some(StopReason::GuardrailIntervened));
    let trace = trace.expect("the trace is enabled");
    let assessment = &trace.input_assessment().unwrap()[&id];
    let word = &assessment.word_policy().unwrap().custom_words()[0];
    assert_eq!(word.r#match(), "pineapple");

    // Blocked answer: the input passes, the model's text is replaced.
    let (text, stop, trace) = run(
        &client,
        user(&scenario_text(r#"{"text":"I love pineapple."}"#)),
        config(&id),
    )
    .await;
    assert_eq!(text, "Sorry, I can't talk about that.");
    assert_eq!(stop, Some(StopReason::GuardrailIntervened));
    assert_eq!(trace.unwrap().model_output(), ["I love pineapple."]);

    // Only the guardContent blocks are assessed when there are some.
    let guarded = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::GuardContent(
            GuardrailConverseContentBlock::Text(
                GuardrailConverseTextBlock::builder()
                    .text("Nothing to see.")
                    .build()
                    .unwrap(),
            ),
        ))
        .content(ContentBlock::Text("pineapple".into()))
        .content(ContentBlock::Text(scenario_text(r#"{"text":"Fine."}"#)))
        .build()
        .unwrap();
    let (_, stop, _) = run(&client, guarded, config(&id)).await;
    assert_eq!(stop, Some(StopReason::EndTurn));

    // An unknown guardrail is refused before anything runs.
    let err = client
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .guardrail_config(config("nosuchguardrail"))
        .send()
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("does not exist"), "{err:?}");
}

/// Citations: a document that enables them is quoted and cited (a `citation` delta after
/// the text in a stream, a `citationsContent` block from Converse), read by the SDK into its
/// own types; a model without citations refuses them.
#[tokio::test]
async fn documents_with_citations_enabled_are_cited() {
    use aws_sdk_bedrockruntime::types::{
        CitationLocation, CitationsConfig, ConversationRole, DocumentBlock, DocumentFormat,
        DocumentSource, Message,
    };
    let emu = start();
    let client = runtime(&emu);
    let message = || {
        Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text("What does it say?".into()))
            .content(ContentBlock::Document(
                DocumentBlock::builder()
                    .format(DocumentFormat::Txt)
                    .name("Policy")
                    .source(DocumentSource::Text(
                        "Refunds are accepted within 30 days of purchase.".into(),
                    ))
                    .citations(CitationsConfig::builder().enabled(true).build().unwrap())
                    .build()
                    .unwrap(),
            ))
            .build()
            .unwrap()
    };
    let sonnet = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let out = client
        .converse_stream()
        .model_id(sonnet)
        .messages(message())
        .send()
        .await
        .expect("a cited stream");
    let mut stream = out.stream;
    let (mut text, mut citations) = (String::new(), Vec::new());
    while let Some(event) = stream.recv().await.unwrap() {
        if let ConverseStreamOutput::ContentBlockDelta(d) = event {
            match d.delta() {
                Some(ContentBlockDelta::Text(t)) => text.push_str(t),
                Some(ContentBlockDelta::Citation(c)) => citations.push(c.clone()),
                _ => {}
            }
        }
    }
    assert!(
        text.contains("Refunds are accepted within 30 days"),
        "{text}"
    );
    assert_eq!(citations.len(), 1);
    assert_eq!(citations[0].title(), Some("Policy"));
    assert!(matches!(
        citations[0].location(),
        Some(CitationLocation::DocumentChar(l)) if l.document_index() == Some(0)
    ));

    let out = client
        .converse()
        .model_id(sonnet)
        .messages(message())
        .send()
        .await
        .expect("a cited answer");
    let content = out.output().unwrap().as_message().unwrap().content();
    let cited = content[0].as_citations_content().expect("citationsContent");
    assert_eq!(cited.citations().len(), 1);

    let refused = client
        .converse()
        .model_id(HAIKU)
        .messages(message())
        .send()
        .await
        .unwrap_err();
    assert!(format!("{refused:?}").contains("doesn't support citations"));
}

/// Prompt caching as Bedrock counts it: the prefix up to the last cache point is written the
/// first time (with `cacheDetails` by TTL), read the next; a prefix under the minimum is not
/// cached. The SDK reads the numbers into its own usage type.
#[tokio::test]
async fn prompt_caching_writes_then_reads_with_details_by_ttl() {
    use aws_sdk_bedrockruntime::types::{
        CachePointBlock, CachePointType, CacheTtl, SystemContentBlock,
    };
    let emu = start();
    let client = runtime(&emu);
    let long_system = "Stable instructions for the assistant. ".repeat(150);
    let ask = |system: String, ttl: Option<CacheTtl>| {
        let mut point = CachePointBlock::builder().r#type(CachePointType::Default);
        if let Some(ttl) = ttl {
            point = point.ttl(ttl);
        }
        client
            .converse()
            .model_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
            .system(SystemContentBlock::Text(system))
            .system(SystemContentBlock::CachePoint(point.build().unwrap()))
            .messages(user("hi"))
            .send()
    };
    let first = ask(long_system.clone(), None).await.unwrap();
    let usage = first.usage().unwrap();
    let written = usage.cache_write_input_tokens().unwrap();
    assert!(written >= 1024, "{usage:?}");
    assert_eq!(usage.cache_read_input_tokens(), Some(0));
    assert_eq!(usage.cache_details().len(), 1);
    assert_eq!(usage.cache_details()[0].ttl(), &CacheTtl::FiveMinutes);
    assert_eq!(usage.cache_details()[0].input_tokens(), written);

    let second = ask(long_system.clone(), None).await.unwrap();
    let usage = second.usage().unwrap();
    assert_eq!(usage.cache_read_input_tokens(), Some(written));
    assert_eq!(usage.cache_write_input_tokens(), Some(0));
    assert!(usage.cache_details().is_empty());

    let hour = ask(format!("{long_system} (v2)"), Some(CacheTtl::OneHour))
        .await
        .unwrap();
    assert_eq!(
        hour.usage().unwrap().cache_details()[0].ttl(),
        &CacheTtl::OneHour
    );

    let short = ask("Short.".into(), None).await.unwrap();
    assert_eq!(short.usage().unwrap().cache_write_input_tokens(), None);
}
