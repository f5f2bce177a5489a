//! Issue #20, the second wire: models that answer only on Bedrock's OpenAI-compatible
//! Responses API (GPT-5.4, GPT-5.5) are called there by the real plugin, through Mantle's
//! `/openai/v1/responses` on the emulator, signed for `bedrock-mantle`; the emulator checks
//! every request as the API does, so these tests prove what the plugin sends.

use e2e_tests::{provider_for, provider_with, recorded, run, scenario, start_emulator};
use host_sdk::{
    ContentBlock, ConverseRequest, ErrorKind, Event, Message, ReasoningConfig, Role, StopReason,
    Tool, ToolResultContent,
};
use serde_json::json;

const GPT_55: &str = "openai.gpt-5.5";

fn weather() -> Tool {
    Tool::new(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

fn ask(model: &str, content: Vec<ContentBlock>) -> ConverseRequest {
    ConverseRequest {
        model: model.into(),
        messages: vec![Message {
            role: Role::User,
            content,
        }],
        ..ConverseRequest::default()
    }
}

fn text(t: &str) -> ContentBlock {
    ContentBlock::Text { text: t.into() }
}

#[test]
fn a_responses_only_model_streams_reasons_calls_a_tool_and_takes_its_result_back() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let script = scenario(
        json!({"toolCalls": [{"name": "get_weather", "input": {"city": "Paris"}, "id": "call_w1"}]}),
    );
    let mut req = ask(GPT_55, vec![text("Weather in Paris?"), text(&script)]);
    req.system = vec!["Be brief.".into()];
    req.tools = vec![weather()];
    req.reasoning = Some(ReasoningConfig {
        effort: Some("low".into()),
        ..Default::default()
    });
    let first = run(&p, &req);
    let completion = first.completion();

    // The call went to Mantle's Responses route, signed for bedrock-mantle, stateless.
    let sent = recorded(&emu, "CreateResponse");
    assert_eq!(sent.len(), 1, "{:?}", emu.requests());
    assert_eq!(sent[0].path, "/openai/v1/responses");
    let authorization = &sent[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1;
    assert!(
        authorization.contains("/bedrock-mantle/aws4_request"),
        "{authorization}"
    );
    let body = sent[0].body.as_ref().unwrap();
    assert_eq!(body["store"], false);
    assert_eq!(body["stream"], true);
    assert_eq!(body["instructions"], "Be brief.");
    assert_eq!(
        body["reasoning"],
        json!({"effort": "low", "summary": "auto"})
    );
    assert!(recorded(&emu, "ConverseStream").is_empty());

    // The host saw reasoning as it came, and the call.
    assert!(first
        .events
        .iter()
        .any(|e| matches!(e, Event::ReasoningDelta { .. })));
    assert_eq!(completion.stop_reason, Some(StopReason::ToolUse));
    let call = completion
        .message
        .content
        .iter()
        .find_map(|b| match b {
            ContentBlock::ToolUse { id, name, input } => {
                Some((id.clone(), name.clone(), input.clone()))
            }
            _ => None,
        })
        .expect("a tool call");
    assert_eq!(
        call,
        (
            "call_w1".into(),
            "get_weather".into(),
            json!({"city": "Paris"})
        )
    );
    assert!(completion
        .message
        .content
        .iter()
        .any(|b| matches!(b, ContentBlock::RedactedReasoning { .. })));
    let usage = completion.usage.as_ref().expect("usage");
    assert!(
        usage
            .reasoning_tokens
            .is_some_and(|r| r > 0 && r <= usage.output_tokens),
        "{usage:?}"
    );
    assert!(
        completion.cost_usd.is_some_and(|c| c > 0.0),
        "GPT-5.5 has a price"
    );

    // The next turn carries the encrypted reasoning back byte for byte (the emulator refuses
    // it changed) and the tool's result.
    req.messages[0].content.truncate(1);
    req.messages.push(completion.message.clone());
    req.messages.push(Message {
        role: Role::User,
        content: vec![ContentBlock::ToolResult {
            tool_use_id: "call_w1".into(),
            content: vec![ToolResultContent::Text {
                text: "sunny".into(),
            }],
            is_error: false,
        }],
    });
    let second = run(&p, &req);
    assert!(
        second.text().contains("(a tool result)"),
        "{:?}",
        second.result
    );
    let sent = recorded(&emu, "CreateResponse");
    let input = &sent[1].body.as_ref().unwrap()["input"];
    let kinds: Vec<&str> = input
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "message",
            "reasoning",
            "function_call",
            "function_call_output"
        ]
    );
}

#[test]
fn what_the_responses_api_refuses_is_refused_before_any_call_and_the_rest_is_typed() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    // Stop sequences have no place there: refused without a call.
    let mut req = ask(GPT_55, vec![text("hi")]);
    req.inference.stop_sequences = vec!["END".into()];
    let e = run(&p, &req).error().error.clone();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("stopSequences"), "{e}");
    assert!(recorded(&emu, "CreateResponse").is_empty());

    // What the service refuses reaches the host typed, its message kept.
    let mut req = ask(GPT_55, vec![text("hi")]);
    req.extra = Some(json!({"reasoning_effort": "low"}));
    let e = run(&p, &req).error().error.clone();
    assert_eq!(e.kind, ErrorKind::Validation, "{e}");
    assert!(
        e.message.contains("Unknown parameter: 'reasoning_effort'"),
        "{e}"
    );

    // A short limit ends the answer early, as max_tokens.
    let mut req = ask(GPT_55, vec![text(&scenario(json!({"textLength": 4000})))]);
    req.inference.max_tokens = Some(16);
    req.reasoning = Some(ReasoningConfig {
        effort: Some("none".into()),
        ..Default::default()
    });
    let outcome = run(&p, &req);
    assert_eq!(
        outcome.completion().stop_reason,
        Some(StopReason::MaxTokens)
    );
}

#[test]
fn converse_does_not_know_a_responses_only_model_as_bedrock_does_not() {
    let emu = start_emulator();
    // A configuration that sends GPT-5.5 through Converse anyway gets Bedrock's answer.
    let p = provider_with(
        &emu,
        r#"models: [{ id: "openai.gpt-5.5", api: "bedrock-converse-stream" }],"#,
    );
    let e = run(&p, &ask(GPT_55, vec![text("hi")]))
        .error()
        .error
        .clone();
    assert_eq!(e.kind, ErrorKind::ModelNotFound, "{e}");
    assert_eq!(recorded(&emu, "ConverseStream").len(), 1);
    assert!(recorded(&emu, "CreateResponse").is_empty());
}

#[test]
fn retries_partial_answers_structured_output_and_cached_tokens_work_as_on_converse() {
    let emu = start_emulator();
    let p = provider_with(&emu, e2e_tests::FAST_RETRIES);

    // A throttled first attempt is retried, and the host is told.
    let script = json!({"text": "after a retry", "throttleFirst": 1});
    let outcome = run(&p, &ask(GPT_55, vec![text(&scenario(script))]));
    assert_eq!(outcome.retries().len(), 1, "{:?}", outcome.events);
    assert_eq!(outcome.text(), "after a retry");
    assert_eq!(recorded(&emu, "CreateResponse").len(), 2);

    // A connection cut mid-answer fails the stream, keeping what arrived.
    let script = json!({"text": "the first words and then more", "deltaSize": 5, "fault": {"kind": "cut", "afterEvents": 8}});
    let outcome = run(&p, &ask(GPT_55, vec![text(&scenario(script))]));
    let failed = outcome.error();
    let kept = e2e_tests::text_of(&failed.partial.message.content);
    assert!(
        !kept.is_empty() && "the first words and then more".starts_with(&kept),
        "{kept:?}"
    );
    assert!(
        outcome.retries().is_empty(),
        "nothing is retried once the host saw text"
    );

    // A structured answer is checked against its schema; cached input is counted apart.
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false});
    let script = json!({"usage": {"inputTokens": 30, "cacheReadInputTokens": 1200}});
    let mut req = ask(GPT_55, vec![text("Where?"), text(&scenario(script))]);
    req.output_format = Some(host_sdk::OutputFormat::JsonSchema {
        schema,
        name: Some("place".into()),
        description: None,
    });
    let outcome = run(&p, &req);
    let completion = outcome.completion();
    assert_eq!(
        completion.output_check.as_ref().map(|c| c.valid),
        Some(true),
        "{completion:?}"
    );
    let sent = recorded(&emu, "CreateResponse");
    assert_eq!(
        sent.last().unwrap().body.as_ref().unwrap()["text"]["format"]["name"],
        "place"
    );
    let usage = completion.usage.as_ref().unwrap();
    assert_eq!((usage.input_tokens, usage.cache_read_tokens), (30, 1200));
}

/// Grok 4.3 and 4.6 answer only on Mantle's Responses API too, each with its own reasoning
/// levels (none to high; low to xhigh) and sampling settings while it reasons; a level it
/// does not have is refused before any call.
#[test]
fn grok_reasons_at_its_own_levels_and_takes_sampling_settings() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = ask("xai.grok-4.3", vec![text("Think it over")]);
    req.reasoning = Some(ReasoningConfig {
        effort: Some("high".into()),
        ..Default::default()
    });
    req.inference.temperature = Some(0.3);
    let outcome = run(&p, &req);
    assert!(
        outcome
            .completion()
            .message
            .text()
            .contains("Think it over"),
        "{:?}",
        outcome.completion()
    );
    assert!(outcome.completion().usage.unwrap().reasoning_tokens > Some(0));
    let sent = recorded(&emu, "CreateResponse");
    let body = sent.last().and_then(|r| r.body.clone()).unwrap();
    assert_eq!(body["reasoning"]["effort"], "high", "{body}");
    assert_eq!(body["temperature"], 0.3, "{body}");

    let before = recorded(&emu, "CreateResponse").len();
    req.reasoning = Some(ReasoningConfig {
        effort: Some("xhigh".into()),
        ..Default::default()
    });
    let e = run(&p, &req).error().error.clone();
    assert_eq!(e.kind, ErrorKind::InvalidRequest, "{e}");
    assert!(e.message.contains("none, low, medium, high"), "{e}");
    assert_eq!(recorded(&emu, "CreateResponse").len(), before, "no call");

    // Grok 4.6 always reasons, up to xhigh.
    req.model = "xai.grok-4.6".into();
    let outcome = run(&p, &req);
    assert!(outcome
        .completion()
        .message
        .text()
        .contains("Think it over"));
    req.reasoning = Some(ReasoningConfig {
        effort: Some("none".into()),
        ..Default::default()
    });
    let e = run(&p, &req).error().error.clone();
    assert!(e.message.contains("low, medium, high, xhigh"), "{e}");
}
