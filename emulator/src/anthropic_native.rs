//! InvokeModel and InvokeModelWithResponseStream for Anthropic's models, with Anthropic's own
//! Messages body as Bedrock takes it (`anthropic_version: "bedrock-2023-05-31"`, no `model`):
//! checked as Bedrock checks it (required and extraneous keys, the output limit, tool results
//! that answer no call), answered by the emulator's model, whole (Anthropic's message, with
//! Bedrock's token-count headers) or streamed as `chunk` events whose `bytes` are Anthropic's
//! stream events, the last carrying `amazon-bedrock-invocationMetrics`.

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;

use crate::answer::{self, Answer, Block};
use crate::catalogue::FoundationModel;
use crate::error::{malformed, ApiError};
use crate::state::State;

/// The only `anthropic_version` Bedrock takes.
const VERSION: &str = "bedrock-2023-05-31";
/// The body's keys Bedrock passes to Anthropic; any other is extraneous.
const KEYS: &[&str] = &[
    "anthropic_version",
    "anthropic_beta",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
    "output_config",
];

/// Answers one call for `model` (an Anthropic model).
pub fn invoke(
    state: &Arc<State>,
    model: &FoundationModel,
    body: &Bytes,
    stream: bool,
) -> Result<Response<Body>, ApiError> {
    let request = &crate::error::json_object(body)?;
    let converse = checked(request, model)?;
    let answer = crate::runtime::native_answer(state, &converse, model)?;
    let id = format!("msg_bdrk_{}", state.next_request_id().replace('-', ""));
    if stream {
        Ok(streamed(&answer, &id, model.id))
    } else {
        whole(&answer, &id, model.id)
    }
}

/// The body checked, as the Converse-shaped conversation the emulator's model answers.
fn checked(request: &Map<String, Value>, model: &FoundationModel) -> Result<Value, ApiError> {
    crate::body_schema::only_keys("#", request, KEYS)?;
    for key in ["anthropic_version", "max_tokens", "messages"] {
        if !request.contains_key(key) {
            return Err(malformed(format!("#: required key [{key}] not found")));
        }
    }
    if request["anthropic_version"] != VERSION {
        return Err(ApiError::validation(format!(
            "invalid anthropic_version: {}; use \"{VERSION}\"",
            request["anthropic_version"]
        )));
    }
    let max = request["max_tokens"]
        .as_u64()
        .filter(|n| *n >= 1)
        .ok_or_else(|| malformed("#/max_tokens: expected minimum: 1"))?;
    let limit = crate::model_rules::for_model(model.id).max_output_tokens;
    if max > u64::from(limit) {
        return Err(ApiError::validation(format!(
            "max_tokens: {max} > {limit}, which is the maximum allowed number of output tokens for {}",
            model.id
        )));
    }
    let messages = request["messages"]
        .as_array()
        .ok_or_else(|| malformed("#/messages: expected type: JSONArray, found: other"))?;
    let mut converse = json!({ "messages": conversation(messages)? });
    let system: Vec<Value> = match request.get("system") {
        Some(Value::String(text)) => vec![json!({ "text": text })],
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").map(|t| json!({ "text": t })))
            .collect(),
        _ => Vec::new(),
    };
    converse["system"] = json!(system);
    if let Some(thinking) = request.get("thinking") {
        converse["additionalModelRequestFields"] = json!({ "thinking": thinking });
    }
    Ok(converse)
}

/// Anthropic's messages as Converse's; a tool result must answer a call of the message
/// before it.
fn conversation(messages: &[Value]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    let mut called: Vec<String> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message["role"].as_str().unwrap_or("");
        if role != "user" && role != "assistant" {
            return Err(ApiError::validation(format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            )));
        }
        let blocks: Vec<Value> = match &message["content"] {
            Value::String(text) => vec![json!({"type": "text", "text": text})],
            Value::Array(blocks) => blocks.clone(),
            _ => {
                return Err(malformed(format!(
                    "#/messages/{i}/content: expected type: JSONArray, found: other"
                )))
            }
        };
        let mut content = Vec::new();
        let mut calls_here = Vec::new();
        for (j, b) in blocks.iter().enumerate() {
            match b["type"].as_str().unwrap_or("") {
                "text" => content.push(json!({"text": b["text"]})),
                "tool_use" => {
                    calls_here.push(b["id"].as_str().unwrap_or("").to_string());
                    content.push(json!({"toolUse": {"toolUseId": b["id"], "name": b["name"], "input": b["input"]}}));
                }
                "tool_result" => {
                    let id = b["tool_use_id"].as_str().unwrap_or("");
                    if !called.iter().any(|c| c == id) {
                        return Err(ApiError::validation(format!(
                            "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                        )));
                    }
                    content.push(
                        json!({"toolResult": {"toolUseId": id, "content": [{"text": "(result)"}]}}),
                    );
                }
                _ => content.push(json!({"text": "(other content)"})),
            }
        }
        called = calls_here;
        out.push(json!({"role": role, "content": content}));
    }
    Ok(out)
}

/// The answer's blocks in Anthropic's shape.
fn content(answer: &Answer) -> Vec<Value> {
    answer
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Reasoning {
                text, signature, ..
            } => Some(json!({"type": "thinking", "thinking": text, "signature": signature.clone().unwrap_or_default()})),
            Block::Redacted(data) => Some(json!({"type": "redacted_thinking", "data": data})),
            Block::Text { text, .. } | Block::CitedText { text, .. } => {
                Some(json!({"type": "text", "text": text}))
            }
            Block::ToolUse {
                id, name, input, ..
            } => Some(json!({"type": "tool_use", "id": id, "name": name, "input": input})),
            _ => None,
        })
        .collect()
}

fn usage(answer: &Answer) -> Value {
    json!({"input_tokens": answer.usage.input, "output_tokens": answer.usage.output})
}

/// InvokeModel's answer: Anthropic's message, and Bedrock's headers.
fn whole(answer: &Answer, id: &str, model: &str) -> Result<Response<Body>, ApiError> {
    let message = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content(answer),
        "stop_reason": answer.stop_reason,
        "stop_sequence": null,
        "usage": usage(answer),
    });
    let mut response = crate::json_http::json_response(message.to_string());
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-amzn-bedrock-input-token-count", answer.usage.input),
        ("x-amzn-bedrock-output-token-count", answer.usage.output),
        (
            "x-amzn-bedrock-invocation-latency",
            answer.latency_ms.unwrap_or(40),
        ),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    Ok(response)
}

/// InvokeModelWithResponseStream's answer: Anthropic's events, each as a `chunk`.
fn streamed(answer: &Answer, id: &str, model: &str) -> Response<Body> {
    let mut events = vec![json!({"type": "message_start", "message": {
        "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": answer.usage.input, "output_tokens": 1},
    }})];
    for (index, block) in content(answer).into_iter().enumerate() {
        events.extend(block_events(index, block));
    }
    events.push(json!({"type": "message_delta", "delta": {"stop_reason": answer.stop_reason, "stop_sequence": null}, "usage": {"output_tokens": answer.usage.output}}));
    events.push(
        json!({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": answer.usage.input, "outputTokenCount": answer.usage.output,
            "invocationLatency": answer.latency_ms.unwrap_or(40), "firstByteLatency": 20,
        }}),
    );
    crate::json_http::chunk_stream(&events)
}

/// A block as Anthropic streams it: its start (empty), its deltas, its stop.
fn block_events(index: usize, block: Value) -> Vec<Value> {
    let mut start = block.clone();
    let deltas: Vec<Value> = match block["type"].as_str().unwrap_or("") {
        "text" => {
            start["text"] = json!("");
            answer::split_chars(block["text"].as_str().unwrap_or(""), 8)
                .into_iter()
                .map(|t| json!({"type": "text_delta", "text": t}))
                .collect()
        }
        "thinking" => {
            start["thinking"] = json!("");
            start["signature"] = json!("");
            let mut d: Vec<Value> =
                answer::split_chars(block["thinking"].as_str().unwrap_or(""), 16)
                    .into_iter()
                    .map(|t| json!({"type": "thinking_delta", "thinking": t}))
                    .collect();
            d.push(json!({"type": "signature_delta", "signature": block["signature"]}));
            d
        }
        "tool_use" => {
            start["input"] = json!({});
            vec![json!({"type": "input_json_delta", "partial_json": block["input"].to_string()})]
        }
        _ => Vec::new(),
    };
    let mut events =
        vec![json!({"type": "content_block_start", "index": index, "content_block": start})];
    events.extend(
        deltas
            .into_iter()
            .map(|delta| json!({"type": "content_block_delta", "index": index, "delta": delta})),
    );
    events.push(json!({"type": "content_block_stop", "index": index}));
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sonnet() -> &'static FoundationModel {
        crate::catalogue::model("anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap()
    }

    #[test]
    fn the_body_is_checked_as_bedrock_checks_it() {
        let ok = json!({"anthropic_version": VERSION, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]});
        assert!(checked(ok.as_object().unwrap(), sonnet()).is_ok());
        let mut extra = ok.clone();
        extra["model"] = json!("claude");
        let e = checked(extra.as_object().unwrap(), sonnet()).unwrap_err();
        assert!(e.message.contains("extraneous key [model]"), "{e}");
        let mut missing = ok.clone();
        missing.as_object_mut().unwrap().remove("max_tokens");
        let e = checked(missing.as_object().unwrap(), sonnet()).unwrap_err();
        assert!(e.message.contains("required key [max_tokens]"), "{e}");
        let orphan = json!({"anthropic_version": VERSION, "max_tokens": 100, "messages": [
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "4"}]}
        ]});
        let e = checked(orphan.as_object().unwrap(), sonnet()).unwrap_err();
        assert!(e.message.contains("unexpected `tool_use_id`"), "{e}");
    }
}
