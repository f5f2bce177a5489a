//! The contract's answer as Anthropic's: a whole `message`, or its event stream
//! (`message_start`, `content_block_start/delta/stop`, `message_delta`, `message_stop`,
//! `ping`, `error`). Signed thinking and redacted thinking go out exactly as Bedrock gave
//! them, so a client sends them back unchanged.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::response::sse::Event as SseEvent;
use base64::Engine as _;
use host_sdk::{Completion, ContentBlock, Event, StopReason, TokenUsage};
use serde::Serialize;
use serde_json::{json, Value};

use super::errors::error_body;
use crate::errors::ApiError;
use crate::model_call::sse::{self, Frames};

/// Anthropic's `stop_reason` for the contract's.
fn stop_reason(reason: Option<&StopReason>) -> &'static str {
    match reason {
        Some(StopReason::ToolUse) => "tool_use",
        Some(StopReason::MaxTokens) => "max_tokens",
        Some(StopReason::StopSequence) => "stop_sequence",
        Some(StopReason::GuardrailIntervened | StopReason::ContentFiltered) => "refusal",
        Some(StopReason::ModelContextWindowExceeded) => "model_context_window_exceeded",
        _ => "end_turn",
    }
}

/// Anthropic's `usage`: input tokens apart from the cache's reads and writes, as the
/// contract counts them too.
#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    /// The cache writes by lifetime, when the provider told them apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_creation: Option<CacheCreation>,
}

#[derive(Serialize)]
struct CacheCreation {
    ephemeral_5m_input_tokens: u64,
    ephemeral_1h_input_tokens: u64,
}

impl Usage {
    fn of(usage: &TokenUsage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cache_creation_input_tokens: usage.cache_write_tokens,
            cache_read_input_tokens: usage.cache_read_tokens,
            cache_creation: usage.cache_write_1h_tokens.map(|one_hour| CacheCreation {
                ephemeral_5m_input_tokens: usage.cache_write_tokens.saturating_sub(one_hour),
                ephemeral_1h_input_tokens: one_hour,
            }),
        }
    }
}

fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A whole answer: `{"type": "message", ...}`.
#[derive(Serialize)]
pub struct Message<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<Block<'a>>,
    stop_reason: &'static str,
    /// Bedrock does not say which stop sequence matched.
    stop_sequence: Option<&'a str>,
    usage: Usage,
}

/// A block of a whole answer.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: String,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Value,
    },
}

impl<'a> Message<'a> {
    pub fn of(id: &'a str, model: &'a str, completion: &'a Completion) -> Self {
        let content = completion
            .message
            .content
            .iter()
            .filter_map(|block| {
                Some(match block {
                    ContentBlock::Text { text } | ContentBlock::CitedText { text, .. } => {
                        Block::Text { text }
                    }
                    ContentBlock::Reasoning { text, signature } => Block::Thinking {
                        thinking: text,
                        signature: signature.as_deref().unwrap_or(""),
                    },
                    ContentBlock::RedactedReasoning { data } => {
                        Block::RedactedThinking { data: base64(data) }
                    }
                    ContentBlock::ToolUse { id, name, input } => Block::ToolUse { id, name, input },
                    _ => return None,
                })
            })
            .collect();
        Self {
            id,
            kind: "message",
            role: "assistant",
            model,
            content,
            stop_reason: stop_reason(completion.stop_reason.as_ref()),
            stop_sequence: None,
            usage: Usage::of(completion.usage.as_ref().unwrap_or(&TokenUsage::default())),
        }
    }
}

/// The contract's events as Anthropic's stream.
pub struct Stream {
    id: String,
    model: String,
    /// The blocks started and not yet stopped: the contract's index to the block's position
    /// in the message (Anthropic's `index`, counted from 0 without gaps).
    open: HashMap<u32, usize>,
    started: usize,
    stop_reason: Option<StopReason>,
    usage: Option<TokenUsage>,
}

/// What a block starts as.
enum Start<'a> {
    Text,
    Thinking,
    ToolUse { id: &'a str, name: &'a str },
    RedactedThinking(&'a [u8]),
}

impl Stream {
    pub fn new(id: String, model: String) -> Self {
        Self {
            id,
            model,
            open: HashMap::new(),
            started: 0,
            stop_reason: None,
            usage: None,
        }
    }

    /// The block at the contract's `index`, started (with `start`) when it is new.
    fn block(&mut self, index: u32, start: Start<'_>, out: &mut Vec<SseEvent>) -> usize {
        if let Some(position) = self.open.get(&index) {
            return *position;
        }
        let position = self.started;
        self.started += 1;
        self.open.insert(index, position);
        let block = match start {
            Start::Text => json!({"type": "text", "text": ""}),
            Start::Thinking => json!({"type": "thinking", "thinking": "", "signature": ""}),
            Start::ToolUse { id, name } => {
                json!({"type": "tool_use", "id": id, "name": name, "input": {}})
            }
            Start::RedactedThinking(data) => {
                json!({"type": "redacted_thinking", "data": base64(data)})
            }
        };
        out.push(sse::named(
            "content_block_start",
            &json!({"type": "content_block_start", "index": position, "content_block": block}),
        ));
        position
    }

    /// A `content_block_delta` of `kind` carrying `text` in `field`, written directly: a
    /// stream is mostly these.
    fn delta(position: usize, kind: &str, field: &str, text: &str, out: &mut Vec<SseEvent>) {
        let mut data = String::with_capacity(text.len() + 96);
        let _ = write!(
            data,
            r#"{{"type":"content_block_delta","index":{position},"delta":{{"type":""#
        );
        data.push_str(kind);
        data.push_str(r#"",""#);
        data.push_str(field);
        data.push_str(r#"":"#);
        sse::push_json_str(&mut data, text);
        data.push_str("}}");
        out.push(SseEvent::default().event("content_block_delta").data(data));
    }

    fn stop(&mut self, index: u32, out: &mut Vec<SseEvent>) {
        if let Some(position) = self.open.remove(&index) {
            out.push(sse::named(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": position}),
            ));
        }
    }
}

impl Frames for Stream {
    fn push(&mut self, event: Event, out: &mut Vec<SseEvent>) {
        match event {
            Event::MessageStart => {
                out.push(sse::named(
                    "message_start",
                    &json!({"type": "message_start", "message": {
                        "id": self.id, "type": "message", "role": "assistant",
                        "model": self.model, "content": [], "stop_reason": null,
                        "stop_sequence": null,
                        // The provider counts input tokens at the end: `message_delta` has them.
                        "usage": {"input_tokens": 0, "output_tokens": 0},
                    }}),
                ));
                out.push(sse::named("ping", &json!({"type": "ping"})));
            }
            Event::TextDelta { index, text } => {
                let position = self.block(index, Start::Text, out);
                Self::delta(position, "text_delta", "text", &text, out);
            }
            Event::ReasoningDelta { index, text } => {
                let position = self.block(index, Start::Thinking, out);
                Self::delta(position, "thinking_delta", "thinking", &text, out);
            }
            Event::ReasoningSignature { index, signature } => {
                let position = self.block(index, Start::Thinking, out);
                Self::delta(position, "signature_delta", "signature", &signature, out);
            }
            Event::RedactedReasoning { index, data } => {
                self.block(index, Start::RedactedThinking(&data), out);
            }
            Event::ToolUseStart { index, id, name } => {
                self.block(
                    index,
                    Start::ToolUse {
                        id: &id,
                        name: &name,
                    },
                    out,
                );
            }
            Event::ToolUseInputDelta { index, fragment } => {
                if let Some(position) = self.open.get(&index).copied() {
                    Self::delta(position, "input_json_delta", "partial_json", &fragment, out);
                }
            }
            Event::BlockStop { index } => self.stop(index, out),
            Event::MessageStop { reason } => self.stop_reason = Some(reason),
            Event::Usage { usage, .. } => self.usage = Some(usage),
            Event::Completed(completion) => {
                let mut open: Vec<u32> = self.open.keys().copied().collect();
                open.sort_by_key(|index| self.open[index]);
                for index in open {
                    self.stop(index, out);
                }
                let usage = self.usage.or(completion.usage).unwrap_or_default();
                let reason = self
                    .stop_reason
                    .as_ref()
                    .or(completion.stop_reason.as_ref());
                out.push(sse::named(
                    "message_delta",
                    &json!({
                        "type": "message_delta",
                        "delta": {"stop_reason": stop_reason(reason), "stop_sequence": null},
                        "usage": Usage::of(&usage),
                    }),
                ));
                out.push(sse::named("message_stop", &json!({"type": "message_stop"})));
            }
            _ => {}
        }
    }

    fn failed(&mut self, error: &ApiError, out: &mut Vec<SseEvent>) {
        out.push(sse::named("error", &error_body(error)));
    }
}
