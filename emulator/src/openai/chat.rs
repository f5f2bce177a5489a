//! `POST …/chat/completions`: the request checked as OpenAI's Chat Completions API checks it
//! (parameters, roles, tool messages that answer a call), answered by the emulator's model
//! whole or as `chat.completion.chunk` events ending in `data: [DONE]`.

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

use super::models::Api;
use super::responses::checked_model;
use super::OpenAiError;
use crate::answer::{self, tokens_for, Block};
use crate::model_rules::Reasoning;
use crate::state::State;

/// The parameters OpenAI's Chat Completions knows; any other is an unknown parameter.
const PARAMETERS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "seed",
    "user",
    "metadata",
    "logprobs",
    "top_logprobs",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "service_tier",
    "store",
    "prompt_cache_key",
    "safety_identifier",
];

/// Answers one Chat Completions request.
pub fn create(state: &Arc<State>, api: Api, body: &Bytes) -> Result<Response<Body>, OpenAiError> {
    let request = super::request_body(body, PARAMETERS)?;
    let model = checked_model(&request, api)?;
    if let Some(effort) = request.get("reasoning_effort").and_then(Value::as_str) {
        OpenAiError::check_enum("reasoning_effort", effort, &["low", "medium", "high"])?;
    }
    let messages = request
        .get("messages")
        .ok_or_else(|| OpenAiError::missing("messages"))?;
    let converse = conversation(messages)?;
    let found = crate::scenario::from_request(&converse)
        .map_err(|e| OpenAiError::invalid(format!("Invalid EMULATOR_SCENARIO: {e}"), None, None))?
        .map(|f| f.scenario)
        .or_else(|| state.scenario_for(&[model.id]));
    let made = answer::build(&converse, found.as_ref(), Reasoning::None);
    let id = format!("chatcmpl-{}", state.next_request_id().replace('-', ""));
    let completion = Completion::of(&made, &id, model.id);
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let usage = request.pointer("/stream_options/include_usage") == Some(&json!(true));
        return Ok(streamed(&completion, usage));
    }
    Ok(crate::json_http::json_response(
        completion.whole().to_string(),
    ))
}

/// The messages as a Converse-shaped conversation (system text apart); a tool message must
/// answer a call of the assistant message before it.
fn conversation(messages: &Value) -> Result<Value, OpenAiError> {
    let list = messages
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            OpenAiError::invalid(
                "[] is too short - 'messages'",
                Some("messages"),
                Some("empty_array"),
            )
        })?;
    let mut system = Vec::new();
    let mut turns: Vec<Value> = Vec::new();
    let mut calls: Vec<String> = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        OpenAiError::check_enum(
            &format!("messages[{i}].role"),
            role,
            &["system", "developer", "user", "assistant", "tool"],
        )?;
        let text = text_of(&m["content"]);
        let (role, blocks) = match role {
            "system" | "developer" => {
                system.push(json!({ "text": text }));
                continue;
            }
            "assistant" => {
                let mut blocks: Vec<Value> = Vec::new();
                if !text.is_empty() {
                    blocks.push(json!({ "text": text }));
                }
                for call in m["tool_calls"].as_array().into_iter().flatten() {
                    let id = call["id"].as_str().unwrap_or("").to_string();
                    let input: Value = serde_json::from_str(
                        call["function"]["arguments"].as_str().unwrap_or("{}"),
                    )
                    .unwrap_or(Value::Null);
                    blocks.push(json!({"toolUse": {"toolUseId": id, "name": call["function"]["name"], "input": input}}));
                    calls.push(id);
                }
                ("assistant", blocks)
            }
            "tool" => {
                let id = m["tool_call_id"].as_str().unwrap_or("");
                if !calls.iter().any(|c| c == id) {
                    return Err(OpenAiError::invalid(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                        Some(&format!("messages.[{i}].role")),
                        None,
                    ));
                }
                (
                    "user",
                    vec![json!({"toolResult": {"toolUseId": id, "content": [{"text": text}]}})],
                )
            }
            _ => ("user", vec![json!({ "text": text })]),
        };
        match turns.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(content) = last["content"].as_array_mut() {
                    content.extend(blocks);
                }
            }
            _ => turns.push(json!({ "role": role, "content": blocks })),
        }
    }
    Ok(json!({ "system": system, "messages": turns }))
}

/// A message's content as text: a string, or its text parts.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// What the model answered, in Chat Completions' terms.
struct Completion<'a> {
    id: &'a str,
    model: &'a str,
    text: String,
    delta_size: usize,
    calls: Vec<(String, String, String)>,
    finish_reason: &'static str,
    usage: Value,
}

impl<'a> Completion<'a> {
    fn of(made: &answer::Answer, id: &'a str, model: &'a str) -> Self {
        let mut text = String::new();
        let mut delta_size = 8;
        let mut calls = Vec::new();
        for block in &made.blocks {
            match block {
                Block::Text {
                    text: t,
                    delta_size: d,
                } => {
                    text.push_str(t);
                    delta_size = *d;
                }
                Block::ToolUse {
                    id, name, input, ..
                } => calls.push((id.clone(), name.clone(), input.to_string())),
                _ => {}
            }
        }
        let completion_tokens =
            tokens_for(text.len() + calls.iter().map(|c| c.2.len()).sum::<usize>());
        let prompt_tokens = made.usage.input;
        Completion {
            id,
            model,
            delta_size,
            finish_reason: if calls.is_empty() {
                "stop"
            } else {
                "tool_calls"
            },
            usage: json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}),
            text,
            calls,
        }
    }

    fn tool_calls(&self) -> Vec<Value> {
        self.calls
            .iter()
            .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}))
            .collect()
    }

    /// The whole `chat.completion`.
    fn whole(&self) -> Value {
        let mut message = json!({"role": "assistant", "content": self.text, "refusal": null});
        if !self.calls.is_empty() {
            message["tool_calls"] = json!(self.tool_calls());
        }
        json!({
            "id": self.id, "object": "chat.completion", "created": now(), "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason, "logprobs": null}],
            "usage": self.usage,
        })
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": now(), "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": null}],
        })
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The completion as chunks: the role, the text in pieces, each call (its name, then its
/// arguments), the finish reason, the usage when asked for, then `[DONE]`.
fn streamed(c: &Completion<'_>, include_usage: bool) -> Response<Body> {
    let mut chunks = vec![c.chunk(json!({"role": "assistant", "content": ""}), None)];
    for piece in answer::split_chars(&c.text, c.delta_size.max(1)) {
        chunks.push(c.chunk(json!({ "content": piece }), None));
    }
    for (index, (id, name, args)) in c.calls.iter().enumerate() {
        let opening = json!({"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}});
        chunks.push(c.chunk(json!({ "tool_calls": [opening] }), None));
        let rest = json!({"index": index, "function": {"arguments": args}});
        chunks.push(c.chunk(json!({ "tool_calls": [rest] }), None));
    }
    chunks.push(c.chunk(json!({}), Some(c.finish_reason)));
    if include_usage {
        let mut usage = c.chunk(json!({}), None);
        usage["choices"] = json!([]);
        usage["usage"] = c.usage.clone();
        chunks.push(usage);
    }
    let mut frames: Vec<Result<Bytes, std::convert::Infallible>> = chunks
        .into_iter()
        .map(|chunk| Ok(Bytes::from(format!("data: {chunk}\n\n"))))
        .collect();
    frames.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
    let mut resp = Response::new(Body::from_stream(futures::stream::iter(frames)));
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    resp
}
