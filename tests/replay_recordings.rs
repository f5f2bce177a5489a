//! Issue #4, proof against real traffic: every recorded ConverseStream body in
//! `tests/recordings/extracted/` is served byte for byte (through the emulator's raw
//! responses) as the answer to the real plugin's request, and what the host receives must
//! match the recording's decoded events: text per block, reasoning and signatures, redacted
//! blocks, tool calls with their full input, stop reason, usage with cache tokens and latency.
//! The recorded error responses must become the right typed errors.
//!
//! The recordings are third-party data kept in the repository (`tests/recordings/README.md`
//! says where each came from).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use e2e_tests::{
    provider_with, run, scripted_request, start_emulator, stream_bodies, Outcome, FAST_RETRIES,
};
use emulator::RawResponse;
use host_sdk::contract::extension_kinds;
use host_sdk::{ContentBlock, ErrorKind, Event};
use serde_json::{json, Value};

const MODEL: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";

fn recordings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recordings")
}

/// What one content block amounts to, for comparing a recording with what the host saw.
#[derive(Debug, Default, PartialEq)]
struct BlockSummary {
    text: Option<String>,
    reasoning: Option<String>,
    signature: Option<String>,
    redacted: Vec<String>,
    /// (id, name, raw input fragments joined, parsed input)
    tool: Option<(String, String, String, Value)>,
    /// A server-side tool's call or result, as its extension event's data (without `index`).
    server: Option<Value>,
}

#[derive(Debug, Default, PartialEq)]
struct Summary {
    blocks: BTreeMap<u32, BlockSummary>,
    stop_reason: Option<String>,
    /// (input, output, total, cache read, cache write)
    usage: Option<(u64, u64, u64, u64, u64)>,
    latency_ms: Option<u64>,
}

fn push(slot: &mut Option<String>, s: &str) {
    slot.get_or_insert_with(String::new).push_str(s);
}

fn parsed_input(raw: &str) -> Value {
    if raw.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(raw).expect("recorded tool input is JSON")
    }
}

/// The summary of a recording's decoded events, and its exception type if it has one.
fn expected(jsonl: &str) -> (Summary, Option<String>) {
    let mut s = Summary::default();
    let mut exception = None;
    let mut raw_tools: BTreeMap<u32, (String, String, String)> = BTreeMap::new();
    let mut server_calls: BTreeMap<u32, (Value, Value, String)> = BTreeMap::new();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let event = v["event"].as_str().unwrap();
        let p = &v["payload"];
        let index = p["contentBlockIndex"].as_u64().unwrap_or(0) as u32;
        match event {
            "contentBlockStart" => {
                if let Some(t) = p["start"].get("toolResult") {
                    s.blocks.entry(index).or_default().server = Some(json!({
                        "toolUseId": t["toolUseId"],
                        "type": t["type"],
                        "status": t["status"],
                        "content": [],
                    }));
                } else if let Some(t) = p["start"]
                    .get("toolUse")
                    .filter(|t| t["type"] == "server_tool_use")
                {
                    server_calls.insert(
                        index,
                        (t["toolUseId"].clone(), t["name"].clone(), String::new()),
                    );
                } else if let Some(t) = p["start"].get("toolUse") {
                    raw_tools.insert(
                        index,
                        (
                            t["toolUseId"].as_str().unwrap().into(),
                            t["name"].as_str().unwrap().into(),
                            String::new(),
                        ),
                    );
                }
            }
            "contentBlockDelta" => {
                let d = &p["delta"];
                let b = s.blocks.entry(index).or_default();
                if let Some(t) = d.get("text") {
                    push(&mut b.text, t.as_str().unwrap());
                } else if let Some(r) = d.get("reasoningContent") {
                    if let Some(t) = r.get("text") {
                        push(&mut b.reasoning, t.as_str().unwrap());
                    }
                    if let Some(sig) = r.get("signature") {
                        push(&mut b.signature, sig.as_str().unwrap());
                    }
                    if let Some(data) = r.get("redactedContent") {
                        b.redacted.push(data.as_str().unwrap().into());
                    }
                } else if let Some(t) = d.get("toolUse") {
                    let input = t["input"].as_str().unwrap();
                    match server_calls.get_mut(&index) {
                        Some(call) => call.2 += input,
                        None => raw_tools.get_mut(&index).unwrap().2 += input,
                    }
                } else if let Some(parts) = d.get("toolResult").and_then(Value::as_array) {
                    let result = b.server.as_mut().unwrap();
                    for part in parts {
                        let part = match part.get("json") {
                            Some(value) => json!({"type": "json", "value": value}),
                            None => json!({"type": "text", "text": part["text"]}),
                        };
                        result["content"].as_array_mut().unwrap().push(part);
                    }
                }
            }
            "messageStop" => s.stop_reason = Some(p["stopReason"].as_str().unwrap().into()),
            "metadata" => {
                let u = &p["usage"];
                let n = |k: &str| u[k].as_u64().unwrap_or(0);
                s.usage = Some((
                    n("inputTokens"),
                    n("outputTokens"),
                    n("totalTokens"),
                    n("cacheReadInputTokens"),
                    n("cacheWriteInputTokens"),
                ));
                s.latency_ms = p["metrics"]["latencyMs"].as_u64();
            }
            e if e.starts_with("EXCEPTION:") => exception = Some(e["EXCEPTION:".len()..].into()),
            _ => {}
        }
    }
    for (index, (id, name, raw)) in raw_tools {
        let input = parsed_input(&raw);
        s.blocks.entry(index).or_default().tool = Some((id, name, raw, input));
    }
    for (index, (id, name, raw)) in server_calls {
        s.blocks.entry(index).or_default().server =
            Some(json!({"id": id, "name": name, "input": parsed_input(&raw)}));
    }
    s.blocks.retain(|_, b| b != &BlockSummary::default());
    (s, exception)
}

/// The same summary from the events the host received.
fn actual(events: &[Event]) -> Summary {
    let mut s = Summary::default();
    let mut fragments: BTreeMap<u32, String> = BTreeMap::new();
    for e in events {
        match e {
            Event::TextDelta { index, text } => {
                push(&mut s.blocks.entry(*index).or_default().text, text)
            }
            Event::ReasoningDelta { index, text } => {
                push(&mut s.blocks.entry(*index).or_default().reasoning, text)
            }
            Event::ReasoningSignature { index, signature } => push(
                &mut s.blocks.entry(*index).or_default().signature,
                signature,
            ),
            Event::RedactedReasoning { index, .. } => {
                let data = serde_json::to_value(e).unwrap()["data"]
                    .as_str()
                    .unwrap()
                    .to_string();
                s.blocks.entry(*index).or_default().redacted.push(data);
            }
            Event::ToolUseInputDelta { index, fragment } => {
                fragments.entry(*index).or_default().push_str(fragment)
            }
            Event::ToolUse {
                index,
                id,
                name,
                input,
                input_error,
            } => {
                assert_eq!(input_error, &None, "recorded tool inputs are valid JSON");
                let raw = fragments.remove(index).unwrap_or_default();
                s.blocks.entry(*index).or_default().tool =
                    Some((id.clone(), name.clone(), raw, input.clone()));
            }
            Event::MessageStop { reason } => s.stop_reason = Some(reason.as_str().into()),
            Event::Usage { usage, .. } => {
                s.usage = Some((
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.total_tokens,
                    usage.cache_read_tokens,
                    usage.cache_write_tokens,
                ))
            }
            Event::Metrics { latency_ms } => s.latency_ms = Some(*latency_ms),
            Event::Extension(x)
                if x.kind == extension_kinds::SERVER_TOOL_USE
                    || x.kind == extension_kinds::SERVER_TOOL_RESULT =>
            {
                let mut data = x.data.clone();
                let index = data["index"].as_u64().unwrap() as u32;
                data.as_object_mut().unwrap().remove("index");
                s.blocks.entry(index).or_default().server = Some(data);
            }
            _ => {}
        }
    }
    s.blocks.retain(|_, b| b != &BlockSummary::default());
    s
}

fn replay(body: Vec<u8>) -> (Outcome, usize) {
    let emu = start_emulator();
    let p = provider_with(
        &emu,
        "retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },",
    );
    emu.set_raw_response(MODEL, RawResponse::event_stream(body));
    let out = run(&p, &scripted_request(MODEL, "replay", json!({})));
    let requests = stream_bodies(&emu).len();
    (out, requests)
}

#[test]
fn every_recorded_stream_reaches_the_host_as_recorded() {
    let dir = recordings_dir().join("extracted");
    let mut bins: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    bins.sort();
    assert!(
        bins.len() >= 21,
        "expected the 21 recorded bodies, found {}",
        bins.len()
    );

    let mut checked = Vec::new();
    for bin in &bins {
        let name = bin.file_name().unwrap().to_string_lossy().to_string();
        let jsonl = bin.with_extension("events.jsonl");
        let (want, exception) = expected(&std::fs::read_to_string(&jsonl).unwrap());
        let (out, requests) = replay(std::fs::read(bin).unwrap());

        if let Some(exception) = exception {
            // The in-stream exception as the first frame: retried (nothing reached the host),
            // then reported with its type.
            assert_eq!(exception, "serviceUnavailableException", "{name}");
            let e = out.error();
            assert_eq!(e.kind(), &ErrorKind::ServiceUnavailable, "{name}");
            assert!(e.error.retryable, "{name}");
            assert!(
                e.error
                    .message
                    .contains("Bedrock is unable to process your request."),
                "{name}: {}",
                e.error.message
            );
            assert_eq!(out.retries().len(), 1, "{name}");
            assert_eq!(requests, 2, "{name}");
            checked.push(name);
            continue;
        }

        let got = actual(&out.events);
        assert_eq!(got, want, "{name}");
        assert!(out.retries().is_empty(), "{name}");
        assert_eq!(requests, 1, "{name}");

        // The completion the host keeps for the next turn agrees with the stream.
        let c = out.completion();
        assert_eq!(
            c.stop_reason.as_ref().map(|r| r.as_str()),
            want.stop_reason.as_deref(),
            "{name}"
        );
        let usage = c.usage.expect("usage");
        assert_eq!(
            Some((
                usage.input_tokens,
                usage.output_tokens,
                usage.total_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens
            )),
            want.usage,
            "{name}"
        );
        assert_eq!(c.latency_ms, want.latency_ms, "{name}");
        // Priced from the model table: Claude Sonnet 4 through its us. profile ($3 in, $15
        // out, $0.30 cache read, $3.75 cache write per million; no geographic premium).
        let (input, output, _, read, write) = want.usage.unwrap();
        let expected_cost =
            (input as f64 * 3.0 + output as f64 * 15.0 + read as f64 * 0.3 + write as f64 * 3.75)
                / 1e6;
        let cost = c.cost_usd.expect("a priced model");
        assert!(
            (cost - expected_cost).abs() < 1e-12,
            "{name}: {cost} {expected_cost}"
        );
        let mut blocks = want.blocks.values();
        for block in &c.message.content {
            // Empty text blocks are left out of the completion; skip them in the recording.
            let mut w = blocks.next().unwrap();
            while w.text.as_deref() == Some("") && w.tool.is_none() && w.reasoning.is_none() {
                w = blocks.next().unwrap();
            }
            match block {
                ContentBlock::Text { text } => assert_eq!(Some(text), w.text.as_ref(), "{name}"),
                ContentBlock::Reasoning { text, signature } => {
                    assert_eq!(Some(text), w.reasoning.as_ref(), "{name}");
                    assert_eq!(signature, &w.signature, "{name}");
                }
                ContentBlock::RedactedReasoning { .. } => assert!(!w.redacted.is_empty()),
                ContentBlock::ToolUse {
                    id,
                    name: tool,
                    input,
                } => {
                    let (wid, wname, _, winput) = w.tool.as_ref().unwrap();
                    assert_eq!((id, tool, input), (wid, wname, winput), "{name}");
                }
                ContentBlock::ServerToolUse {
                    id,
                    name: tool,
                    input,
                } => {
                    let want = w.server.as_ref().unwrap();
                    assert_eq!(
                        json!({"id": id, "name": tool, "input": input}),
                        *want,
                        "{name}"
                    );
                }
                ContentBlock::ServerToolResult {
                    tool_use_id,
                    kind,
                    content,
                    ..
                } => {
                    let want = w.server.as_ref().unwrap();
                    assert_eq!(want["toolUseId"], tool_use_id.as_str(), "{name}");
                    assert_eq!(want["type"], kind.as_str(), "{name}");
                    assert_eq!(
                        want["content"],
                        serde_json::to_value(content).unwrap(),
                        "{name}"
                    );
                }
                other => panic!("{name}: unexpected block {other:?}"),
            }
        }
        checked.push(name);
    }
    assert_eq!(checked.len(), bins.len());
}

#[test]
fn the_recordings_cover_what_the_issue_names() {
    // Guards the replay above against a silently thinner corpus.
    let dir = recordings_dir().join("extracted");
    let read = |f: &str| expected(&std::fs::read_to_string(dir.join(f)).unwrap()).0;
    let thinking = read("test_bedrock_model_thinking_part_stream.yaml.0.events.jsonl");
    assert!(thinking.blocks[&0].signature.as_ref().unwrap().len() > 100);
    let redacted = read("test_bedrock_model_thinking_part_redacted_stream.yaml.0.events.jsonl");
    assert!(!redacted.blocks[&0].redacted.is_empty() && !redacted.blocks[&1].redacted.is_empty());
    let tools = read("test_converse_stream_with_content_tool_call.yaml.0.events.jsonl");
    assert_eq!(
        tools.blocks.values().filter(|b| b.tool.is_some()).count(),
        2
    );
    let cache = read("bedrock_converse_stream_prompt_caching.yaml.0.events.jsonl");
    assert_eq!(cache.usage.unwrap().4, 1028);
    let cache = read("bedrock_converse_stream_prompt_caching.yaml.1.events.jsonl");
    assert_eq!(cache.usage.unwrap().3, 1028);
    let guardrail = read("test_guardrail_converse_stream.yaml.0.events.jsonl");
    assert_eq!(
        guardrail.stop_reason.as_deref(),
        Some("guardrail_intervened")
    );
}

/// The response of a recorded error interaction: (status, x-amzn-ErrorType, body, model id).
fn cassette_error(path: &Path) -> (u16, Option<String>, String, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let after = |needle: &str| {
        lines
            .iter()
            .position(|l| l.trim() == needle)
            .map(|i| lines[i + 1].trim().to_string())
    };
    let status: u16 = after("status:")
        .unwrap()
        .trim_start_matches("code:")
        .trim()
        .parse()
        .unwrap();
    let error_type = after("x-amzn-ErrorType:").map(|l| l.trim_start_matches("- ").to_string());
    let response = lines.iter().position(|l| l.trim() == "response:").unwrap();
    let rest = &lines[response..];
    let body = if let Some(i) = rest.iter().position(|l| l.trim() == "parsed_body:") {
        // pydantic-ai keeps the JSON as a YAML mapping: serialise it back.
        let message = rest[i + 1].trim().trim_start_matches("message:").trim();
        json!({ "message": message }).to_string()
    } else {
        let i = rest
            .iter()
            .position(|l| l.trim().starts_with("string:"))
            .unwrap();
        let first = rest[i].trim().trim_start_matches("string:").trim();
        if first == "|-" {
            let indent = rest[i + 1].len() - rest[i + 1].trim_start().len();
            rest[i + 1..]
                .iter()
                .take_while(|l| l.len() - l.trim_start().len() >= indent && !l.trim().is_empty())
                .map(|l| &l[indent..])
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            first.trim_matches('\'').replace("''", "'")
        }
    };
    let uri = lines
        .iter()
        .find(|l| l.trim().starts_with("uri:"))
        .unwrap()
        .trim()
        .trim_start_matches("uri:")
        .trim();
    let model = uri
        .split("/model/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    (status, error_type, body, model.replace("%3A", ":"))
}

#[test]
fn recorded_error_responses_become_typed_errors() {
    let dir = recordings_dir();
    for (file, kind, needles) in [
        (
            "dd-trace-py/bedrock_converse_error.yaml",
            ErrorKind::AccessDenied,
            vec![
                "The security token included in the request is expired",
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment",
                "ExpiredTokenException",
            ],
        ),
        (
            "opentelemetry-python-contrib/test_converse_stream_with_invalid_model.yaml",
            ErrorKind::ModelNotFound,
            vec![
                "The provided model identifier is invalid.",
                "`does-not-exist`",
            ],
        ),
        (
            // No x-amzn-ErrorType kept: the HTTP status and the message decide.
            "pydantic-ai/test_bedrock_streaming_error.yaml",
            ErrorKind::ModelNotFound,
            vec![
                "The provided model identifier is invalid.",
                "`us.does-not-exist-model-v1:0`",
            ],
        ),
    ] {
        let (status, error_type, body, model) = cassette_error(&dir.join(file));
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(t) = &error_type {
            headers.push(("x-amzn-ErrorType".into(), t.clone()));
        }
        let emu = start_emulator();
        let p = provider_with(&emu, FAST_RETRIES);
        emu.set_raw_response(
            &model,
            RawResponse {
                status,
                headers,
                body: body.into_bytes().into(),
                drip: None,
            },
        );
        let out = run(&p, &scripted_request(&model, "hi", json!({})));
        let e = out.error();
        assert_eq!(e.kind(), &kind, "{file}: {}", e.error.message);
        assert!(!e.error.retryable, "{file}");
        for needle in needles {
            assert!(
                e.error.message.contains(needle),
                "{file}: {}",
                e.error.message
            );
        }
        assert!(out.retries().is_empty(), "{file}: never retried");
        assert_eq!(stream_bodies(&emu).len(), 1, "{file}");
    }
}

/// Issue #12: the recorded code-interpreter stream (Nova's `nova_code_interpreter` run by the
/// service, its result 7006652, then a client tool call `final_result`) reaches a host as
/// exactly one server-side call with its result and exactly one client tool call: the host
/// is never asked to run the service's own tool.
#[test]
fn a_recorded_code_interpreter_stream_is_one_server_call_and_one_client_call() {
    let body = std::fs::read(
        recordings_dir()
            .join("extracted")
            .join("test_bedrock_model_code_execution_tool_stream.yaml.0.bin"),
    )
    .unwrap();
    let (out, _) = replay(body);
    let client_calls: Vec<&Event> = out
        .events
        .iter()
        .filter(|e| matches!(e, Event::ToolUseStart { .. } | Event::ToolUse { .. }))
        .collect();
    assert_eq!(
        client_calls.len(),
        2,
        "one start and one complete call: {client_calls:?}"
    );
    assert!(matches!(client_calls[1], Event::ToolUse { name, input, .. }
        if name == "final_result" && input == &json!({"result": 7006652.0})));
    let server: Vec<_> = e2e_tests::extensions(&out.events);
    let kinds: Vec<&str> = server.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            extension_kinds::SERVER_TOOL_USE,
            extension_kinds::SERVER_TOOL_RESULT
        ]
    );
    assert_eq!(server[0].data["name"], "nova_code_interpreter");
    assert_eq!(server[0].data["input"], json!({"snippet": "1234 * 5678"}));
    assert_eq!(server[1].data["content"][0]["value"]["stdOut"], "7006652");
    assert_eq!(server[1].data["toolUseId"], server[0].data["id"]);
    let c = out.completion();
    let kinds: Vec<&str> = c.message.content.iter().map(|b| b.type_name()).collect();
    assert_eq!(kinds, ["serverToolUse", "serverToolResult", "toolUse"]);
}

/// Issue #12: the recorded guardrail stream (a masked answer, `guardrail_intervened`, the
/// trace in its metadata) reaches the host with the guardrail's assessment as an extension
/// event and in the completion.
#[test]
fn a_recorded_guardrail_stream_brings_its_assessment() {
    let body = std::fs::read(
        recordings_dir()
            .join("extracted")
            .join("test_guardrail_converse_stream.yaml.0.bin"),
    )
    .unwrap();
    let (out, _) = replay(body);
    let c = out.completion();
    assert_eq!(
        c.stop_reason,
        Some(host_sdk::StopReason::GuardrailIntervened)
    );
    assert!(c.message.text().contains("{ADDRESS}"), "{c:?}");
    let seen = e2e_tests::extensions(&out.events);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, extension_kinds::GUARDRAIL);
    assert_eq!(seen[0].data["intervened"], true);
    let trace = &seen[0].data["trace"];
    assert_eq!(trace["actionReason"], "No action.\nGuardrail masked.");
    let input = &trace["inputAssessment"]["5zwrmdlsra2e"];
    assert_eq!(
        input["invocationMetrics"]["guardrailCoverage"]["textCharacters"]["guarded"],
        58
    );
    assert_eq!(c.extensions.len(), 1);
}
