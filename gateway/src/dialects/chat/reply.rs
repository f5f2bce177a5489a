//! The contract's answer as Chat Completions: a whole `chat.completion`, or
//! `chat.completion.chunk` events.

use std::collections::HashMap;

use axum::response::sse::Event as SseEvent;
use host_sdk::{Completion, ContentBlock, Event, StopReason, TokenUsage};
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::model_call::sse::{self, Frames};

/// OpenAI's `finish_reason` for a stop reason.
pub fn finish_reason(reason: Option<&StopReason>) -> &'static str {
    match reason {
        Some(StopReason::ToolUse) => "tool_calls",
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => "length",
        Some(StopReason::GuardrailIntervened | StopReason::ContentFiltered) => "content_filter",
        _ => "stop",
    }
}

/// OpenAI's `usage` for the contract's (reasoning tokens where the provider counts them).
pub fn usage_json(u: &TokenUsage) -> Value {
    let prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
    let mut usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": u.output_tokens,
        "total_tokens": prompt + u.output_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens},
    });
    if let Some(reasoning) = u.reasoning_tokens {
        usage["completion_tokens_details"] = json!({ "reasoning_tokens": reasoning });
    }
    usage
}

/// The non-streaming response for a completion.
pub fn response(id: &str, created: u64, model: &str, c: &Completion) -> Value {
    let text: String = c.message.text();
    let reasoning: String = c
        .message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Reasoning { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let calls: Vec<Value> = c
        .message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolUse { id, name, input } => Some(json!({
                "id": id, "type": "function",
                "function": {"name": name, "arguments": input.to_string()}
            })),
            _ => None,
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) }});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    if !reasoning.is_empty() {
        message["reasoning_content"] = Value::String(reasoning);
    }
    let mut body = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(c.stop_reason.as_ref())}],
    });
    if let Some(u) = &c.usage {
        body["usage"] = usage_json(u);
    }
    if let Some(tier) = crate::model_call::served_tier(c) {
        body["service_tier"] = tier.into();
    }
    body
}

/// The contract's events as `chat.completion.chunk`s, then `[DONE]`.
pub struct Chunks {
    /// The start every chunk of this answer shares, serialised once: a stream may have
    /// tens of thousands of chunks.
    head: String,
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    /// Tool calls by block index: their position among the answer's tool calls.
    tool_calls: HashMap<u32, usize>,
}

/// The delta of a text chunk.
#[derive(serde::Serialize)]
struct ContentDelta<'a> {
    content: &'a str,
}

/// The delta of a reasoning chunk, named as DeepSeek-style clients expect.
#[derive(serde::Serialize)]
struct ReasoningContentDelta<'a> {
    reasoning_content: &'a str,
}

impl Chunks {
    pub fn new(id: String, created: u64, model: String, include_usage: bool) -> Self {
        // `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[{"index":0,"delta":`
        let mut head = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model})
            .to_string();
        head.pop(); // the closing brace
        head.push_str(r#","choices":[{"index":0,"delta":"#);
        Self {
            head,
            id,
            created,
            model,
            include_usage,
            tool_calls: HashMap::new(),
        }
    }

    /// One `chat.completion.chunk` carrying `delta`.
    fn chunk(&self, delta: &impl serde::Serialize, finish: Option<&str>) -> SseEvent {
        let delta = serde_json::to_string(delta).unwrap_or_else(|_| "{}".into());
        let finish = serde_json::to_string(&finish).unwrap_or_else(|_| "null".into());
        let mut chunk = String::with_capacity(self.head.len() + delta.len() + 40);
        chunk.push_str(&self.head);
        chunk.push_str(&delta);
        chunk.push_str(r#","finish_reason":"#);
        chunk.push_str(&finish);
        chunk.push_str("}]}");
        sse::data(chunk)
    }
}

impl Frames for Chunks {
    fn push(&mut self, event: Event, out: &mut Vec<SseEvent>) {
        match event {
            Event::MessageStart => {
                out.push(self.chunk(&json!({"role": "assistant", "content": ""}), None));
            }
            Event::TextDelta { text, .. } => {
                out.push(self.chunk(&ContentDelta { content: &text }, None));
            }
            Event::ReasoningDelta { text, .. } => out.push(self.chunk(
                &ReasoningContentDelta {
                    reasoning_content: &text,
                },
                None,
            )),
            Event::ToolUseStart { index, id, name } => {
                let position = self.tool_calls.len();
                self.tool_calls.insert(index, position);
                out.push(self.chunk(
                    &json!({"tool_calls": [{"index": position, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                    None,
                ));
            }
            Event::ToolUseInputDelta { index, fragment } => {
                let position = self.tool_calls.get(&index).copied().unwrap_or(0);
                out.push(self.chunk(
                    &json!({"tool_calls": [{"index": position, "function": {"arguments": fragment}}]}),
                    None,
                ));
            }
            Event::MessageStop { reason } => {
                out.push(self.chunk(&json!({}), Some(finish_reason(Some(&reason)))));
            }
            Event::Usage { usage, .. } if self.include_usage => out.push(sse::data(
                json!({
                    "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                    "model": self.model, "choices": [], "usage": usage_json(&usage),
                })
                .to_string(),
            )),
            Event::Completed(_) => out.push(sse::data("[DONE]")),
            _ => {}
        }
    }

    fn failed(&mut self, error: &ApiError, out: &mut Vec<SseEvent>) {
        out.push(sse::data(error.body().to_string()));
    }
}
