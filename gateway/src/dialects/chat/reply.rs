//! The contract's answer as Chat Completions: a whole `chat.completion`, or
//! `chat.completion.chunk` events.

use std::collections::HashMap;

use axum::response::sse::Event as SseEvent;
use host_sdk::{Completion, ContentBlock, Event, StopReason, TokenUsage};
use serde_json::json;

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
#[derive(serde::Serialize)]
pub struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptTokensDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens_details: Option<CompletionTokensDetails>,
}

#[derive(serde::Serialize)]
struct PromptTokensDetails {
    cached_tokens: u64,
}

#[derive(serde::Serialize)]
struct CompletionTokensDetails {
    reasoning_tokens: u64,
}

impl Usage {
    pub fn of(u: &TokenUsage) -> Self {
        let prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
        Usage {
            prompt_tokens: prompt,
            completion_tokens: u.output_tokens,
            total_tokens: prompt + u.output_tokens,
            prompt_tokens_details: PromptTokensDetails {
                cached_tokens: u.cache_read_tokens,
            },
            completion_tokens_details: u
                .reasoning_tokens
                .map(|reasoning_tokens| CompletionTokensDetails { reasoning_tokens }),
        }
    }
}

/// A whole `chat.completion`, serialised from the completion it borrows (typed rather than
/// built as a JSON value: every non-streamed answer is one).
#[derive(serde::Serialize)]
pub struct ChatCompletion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct Choice<'a> {
    index: u32,
    message: AssistantMessage<'a>,
    finish_reason: &'static str,
}

#[derive(serde::Serialize)]
struct AssistantMessage<'a> {
    role: &'static str,
    /// `null` when the answer is tool calls alone.
    content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    reasoning_content: String,
}

#[derive(serde::Serialize)]
struct ToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionCall<'a>,
}

#[derive(serde::Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    /// The input as a JSON text, as OpenAI sends it.
    arguments: String,
}

/// The non-streaming response for a completion.
pub fn response<'a>(
    id: &'a str,
    created: u64,
    model: &'a str,
    c: &'a Completion,
) -> ChatCompletion<'a> {
    let text: String = c.message.text();
    let reasoning_content: String = c
        .message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Reasoning { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let tool_calls: Vec<ToolCall<'_>> = c
        .message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolUse { id, name, input } => Some(ToolCall {
                id,
                kind: "function",
                function: FunctionCall {
                    name,
                    arguments: input.to_string(),
                },
            }),
            _ => None,
        })
        .collect();
    let content = (!text.is_empty() || tool_calls.is_empty()).then_some(text);
    ChatCompletion {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [Choice {
            index: 0,
            message: AssistantMessage {
                role: "assistant",
                content,
                tool_calls,
                reasoning_content,
            },
            finish_reason: finish_reason(c.stop_reason.as_ref()),
        }],
        usage: c.usage.as_ref().map(Usage::of),
        service_tier: crate::model_call::served_tier(c),
    }
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
                    "model": self.model, "choices": [], "usage": Usage::of(&usage),
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
