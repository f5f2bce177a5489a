//! The contract's answer as a Responses `response`: whole, or as OpenAI's event stream
//! (`response.created`, `response.in_progress`, `response.output_item.added/done`,
//! `response.content_part.added/done`, `response.output_text.delta/done`,
//! `response.function_call_arguments.delta/done`, `response.custom_tool_call_input.*`,
//! `response.reasoning_summary_*`, then `response.completed`, `response.incomplete` or
//! `response.failed`), each event with its `sequence_number`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::response::sse::Event as SseEvent;
use axum::response::{IntoResponse, Json, Response};
use host_sdk::{Completion, ContentBlock, Event, StopReason, TokenUsage};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::carried_reasoning;
use super::request::{ToolKinds, CUSTOM_INPUT};
use super::wire::ResponsesRequest;
use crate::errors::ApiError;
use crate::model_call::sse::{self, Frames};

/// What the answer's shape depends on in the request, and what the response echoes of it.
pub struct Settings {
    id: String,
    created_at: u64,
    /// The fields of the request a response repeats (model, instructions, tools, ...):
    /// typed, so each `response` object serializes them without copying them again.
    echo: Echo,
    /// The service tier asked for (`auto` unless the request named one).
    asked_tier: String,
    /// `reasoning.summary` was asked for: reasoning reaches the client as summary text.
    summaries: bool,
    /// `include: ["reasoning.encrypted_content"]`: reasoning items carry what the provider
    /// needs to take them back.
    encrypted_reasoning: bool,
    tools: ToolKinds,
    /// Items so far (their ids count them).
    next_item: usize,
}

impl Settings {
    pub fn of(req: &ResponsesRequest, tools: ToolKinds) -> Self {
        let reasoning = req.reasoning.as_ref();
        let format = req
            .text
            .as_ref()
            .and_then(|t| t.format.clone())
            .unwrap_or_else(|| json!({"type": "text"}));
        Self {
            id: format!("resp_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            created_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            echo: Echo {
                model: req.model.clone(),
                instructions: req.instructions.clone(),
                max_output_tokens: req.max_output_tokens,
                temperature: req.temperature,
                top_p: req.top_p,
                tools: req.tools.clone(),
                tool_choice: req.tool_choice.clone().unwrap_or_else(|| json!("auto")),
                parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
                reasoning: EchoedReasoning {
                    effort: reasoning.and_then(|r| r.effort.clone()),
                    summary: reasoning.and_then(|r| r.summary.clone()),
                },
                text: EchoedText { format },
                metadata: req.metadata.clone().unwrap_or_default(),
                previous_response_id: None,
                store: false,
                truncation: "disabled",
                user: req.user.clone(),
            },
            asked_tier: req.service_tier.clone().unwrap_or_else(|| "auto".into()),
            summaries: reasoning.is_some_and(|r| r.summary.is_some()),
            encrypted_reasoning: req
                .include
                .iter()
                .any(|i| i == "reasoning.encrypted_content"),
            tools,
            next_item: 0,
        }
    }

    /// A new item's id: short, since every delta event repeats it; the response's own
    /// random part and the item's number make it unique.
    fn item_id(&mut self, prefix: &str) -> String {
        self.next_item += 1;
        format!("{prefix}_{}{}", &self.id[5..17], self.next_item)
    }

    /// The `response` object with `status`, `output` and `usage`; not failed, not
    /// incomplete, and the service tier asked for.
    fn response<'a>(
        &'a self,
        status: &'static str,
        output: &'a [Value],
        usage: Option<&TokenUsage>,
    ) -> ResponseObject<'a> {
        ResponseObject {
            id: &self.id,
            object: "response",
            created_at: self.created_at,
            status,
            error: None,
            incomplete_details: None,
            output,
            usage: usage.map(Usage::of),
            echo: &self.echo,
            service_tier: &self.asked_tier,
        }
    }

    /// The `response` object of a finished answer: completed, or incomplete with why, and
    /// the tier that served it when the provider said.
    fn finished<'a>(
        &'a self,
        completion: &'a Completion,
        reason: Option<&StopReason>,
        output: &'a [Value],
        usage: Option<&TokenUsage>,
    ) -> ResponseObject<'a> {
        let (status, incomplete) = ending(reason);
        let mut response = self.response(status, output, usage);
        response.incomplete_details = incomplete.map(|reason| IncompleteDetails { reason });
        if let Some(tier) = crate::model_call::served_tier(completion) {
            response.service_tier = tier;
        }
        response
    }
}

/// What a `response` object repeats of its request.
#[derive(Serialize)]
struct Echo {
    model: String,
    instructions: Option<String>,
    max_output_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    tools: Vec<Value>,
    tool_choice: Value,
    parallel_tool_calls: bool,
    reasoning: EchoedReasoning,
    text: EchoedText,
    metadata: Map<String, Value>,
    /// Always null: the gateway keeps no state.
    previous_response_id: Option<String>,
    store: bool,
    truncation: &'static str,
    user: Option<String>,
}

#[derive(Serialize)]
struct EchoedReasoning {
    effort: Option<String>,
    summary: Option<String>,
}

#[derive(Serialize)]
struct EchoedText {
    format: Value,
}

/// A Responses `response` object.
#[derive(Serialize)]
struct ResponseObject<'a> {
    id: &'a str,
    object: &'static str,
    created_at: u64,
    status: &'static str,
    error: Option<ResponseError<'a>>,
    incomplete_details: Option<IncompleteDetails>,
    output: &'a [Value],
    usage: Option<Usage>,
    #[serde(flatten)]
    echo: &'a Echo,
    service_tier: &'a str,
}

#[derive(Serialize)]
struct ResponseError<'a> {
    code: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct IncompleteDetails {
    reason: &'static str,
}

/// The Responses `usage` for the contract's: input tokens include the cache's reads and
/// writes. Reasoning tokens are counted apart only where the provider says (Bedrock's
/// Responses API does, Converse does not: they are in `output_tokens`, and 0 here).
#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    input_tokens_details: InputTokensDetails,
    output_tokens: u64,
    output_tokens_details: OutputTokensDetails,
    total_tokens: u64,
}

#[derive(Serialize)]
struct InputTokensDetails {
    cached_tokens: u64,
}

#[derive(Serialize)]
struct OutputTokensDetails {
    reasoning_tokens: u64,
}

impl Usage {
    fn of(u: &TokenUsage) -> Self {
        let input = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
        Self {
            input_tokens: input,
            input_tokens_details: InputTokensDetails {
                cached_tokens: u.cache_read_tokens,
            },
            output_tokens: u.output_tokens,
            output_tokens_details: OutputTokensDetails {
                reasoning_tokens: u.reasoning_tokens.unwrap_or(0),
            },
            total_tokens: input + u.output_tokens,
        }
    }
}

/// The status a finished answer has, and why it is incomplete when it is.
fn ending(reason: Option<&StopReason>) -> (&'static str, Option<&'static str>) {
    match reason {
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => {
            ("incomplete", Some("max_output_tokens"))
        }
        Some(StopReason::GuardrailIntervened | StopReason::ContentFiltered) => {
            ("incomplete", Some("content_filter"))
        }
        _ => ("completed", None),
    }
}

/// One output item as it is built.
enum Item {
    Message {
        id: String,
        text: String,
    },
    Reasoning {
        id: String,
        text: String,
        signature: String,
        redacted: Option<Vec<u8>>,
    },
    Call {
        id: String,
        call_id: String,
        name: String,
        /// The JSON text of the call's input, as it streams.
        arguments: String,
        /// A custom tool's call: its input is the string in `arguments`' `input`.
        custom: bool,
    },
}

impl Item {
    fn json(&self, status: &str, settings: &Settings) -> Value {
        match self {
            Item::Message { id, text } => json!({
                "type": "message", "id": id, "status": status, "role": "assistant",
                "content": if text.is_empty() && status == "in_progress" { json!([]) } else { json!([output_text(text)]) },
            }),
            Item::Reasoning {
                id,
                text,
                signature,
                redacted,
            } => {
                let mut item = json!({"type": "reasoning", "id": id, "summary": []});
                if settings.summaries && !text.is_empty() && status != "in_progress" {
                    item["summary"] = json!([{"type": "summary_text", "text": text}]);
                }
                if settings.encrypted_reasoning && status != "in_progress" {
                    let block = match redacted {
                        Some(data) => ContentBlock::RedactedReasoning { data: data.clone() },
                        None => ContentBlock::Reasoning {
                            text: text.clone(),
                            signature: (!signature.is_empty()).then(|| signature.clone()),
                        },
                    };
                    item["encrypted_content"] = json!(carried_reasoning::carry(&block));
                }
                item
            }
            Item::Call {
                id,
                call_id,
                name,
                arguments,
                custom: false,
            } => {
                let mut call = json!({
                    "type": "function_call", "id": id, "call_id": call_id, "name": name,
                    "arguments": arguments, "status": status,
                });
                if let Some(namespace) = settings.tools.namespace_of.get(name) {
                    call["namespace"] = json!(namespace);
                }
                call
            }
            Item::Call {
                id,
                call_id,
                name,
                custom: true,
                ..
            } => {
                let mut call = json!({
                    "type": "custom_tool_call", "id": id, "call_id": call_id, "name": name,
                    "input": self.custom_input(), "status": status,
                });
                if let Some(namespace) = settings.tools.namespace_of.get(name) {
                    call["namespace"] = json!(namespace);
                }
                call
            }
        }
    }

    /// A custom call's free-text input (the one string parameter of its function).
    fn custom_input(&self) -> String {
        match self {
            Item::Call { arguments, .. } => serde_json::from_str::<Value>(arguments)
                .ok()
                .and_then(|v| v[CUSTOM_INPUT].as_str().map(str::to_string))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// The output items of a finished answer.
fn items_of(completion: &Completion, settings: &mut Settings) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for block in &completion.message.content {
        match block {
            ContentBlock::Text { text } | ContentBlock::CitedText { text, .. } => {
                // Consecutive text blocks are one message.
                if let Some(Item::Message { text: all, .. }) = items.last_mut() {
                    all.push_str(text);
                    continue;
                }
                items.push(Item::Message {
                    id: settings.item_id("msg"),
                    text: text.clone(),
                });
            }
            ContentBlock::Reasoning { text, signature } => items.push(Item::Reasoning {
                id: settings.item_id("rs"),
                text: text.clone(),
                signature: signature.clone().unwrap_or_default(),
                redacted: None,
            }),
            ContentBlock::RedactedReasoning { data } => items.push(Item::Reasoning {
                id: settings.item_id("rs"),
                text: String::new(),
                signature: String::new(),
                redacted: Some(data.clone()),
            }),
            ContentBlock::ToolUse { id, name, input } => {
                let custom = settings.tools.custom.contains(name);
                items.push(Item::Call {
                    id: settings.item_id(if custom { "ctc" } else { "fc" }),
                    call_id: id.clone(),
                    name: name.clone(),
                    arguments: input.to_string(),
                    custom,
                });
            }
            _ => {}
        }
    }
    items
}

/// A whole answer: the `response` object as the HTTP answer.
pub fn whole(mut settings: Settings, completion: &Completion) -> Response {
    let items = items_of(completion, &mut settings);
    let output: Vec<Value> = items
        .iter()
        .map(|item| item.json("completed", &settings))
        .collect();
    let response = settings.finished(
        completion,
        completion.stop_reason.as_ref(),
        &output,
        completion.usage.as_ref(),
    );
    Json(response).into_response()
}

/// The contract's events as the Responses event stream.
pub struct Stream {
    settings: Settings,
    sequence: u64,
    /// Items in output order; `open` maps the contract's block index to the item still
    /// streaming.
    items: Vec<Item>,
    done: Vec<Value>,
    open: HashMap<u32, usize>,
    /// Per item, what its delta events say after their sequence number
    /// (`,"item_id":"…","output_index":N,`), written once.
    delta_heads: Vec<String>,
    stop_reason: Option<StopReason>,
    usage: Option<TokenUsage>,
}

impl Stream {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            sequence: 0,
            items: Vec::new(),
            done: Vec::new(),
            open: HashMap::new(),
            delta_heads: Vec::new(),
            stop_reason: None,
            usage: None,
        }
    }

    /// A delta event (`kind`) of the item at `output_index`, written directly: a stream is
    /// mostly these. `part` is the content or summary index, by its field name.
    fn emit_delta(
        &mut self,
        kind: &str,
        position: usize,
        part: Option<&str>,
        text: &str,
        out: &mut Vec<SseEvent>,
    ) {
        let mut data = String::with_capacity(text.len() + 160);
        let sequence = self.sequence;
        self.sequence += 1;
        let _ = write!(data, r#"{{"type":"{kind}","sequence_number":{sequence}"#);
        data.push_str(&self.delta_heads[position]);
        if let Some(part) = part {
            let _ = write!(data, r#""{part}":0,"#);
        }
        data.push_str(r#""delta":"#);
        sse::push_json_str(&mut data, text);
        if kind == "response.output_text.delta" {
            data.push_str(r#","logprobs":[]"#);
        }
        data.push('}');
        out.push(SseEvent::default().event(kind).data(data));
    }

    fn emit(&mut self, kind: &str, mut data: Value, out: &mut Vec<SseEvent>) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.push(sse::named(kind, &data));
    }

    /// The item streaming at the contract's `index`, added (as `new` makes it) when new.
    fn item(
        &mut self,
        index: u32,
        new: impl FnOnce(&mut Settings) -> Item,
        out: &mut Vec<SseEvent>,
    ) -> usize {
        if let Some(position) = self.open.get(&index) {
            return *position;
        }
        let item = new(&mut self.settings);
        let position = self.items.len();
        let added = item.json("in_progress", &self.settings);
        let mut head = String::from(r#","item_id":"#);
        sse::push_json_str(&mut head, item_id(&item));
        let _ = write!(head, r#","output_index":{position},"#);
        self.delta_heads.push(head);
        self.items.push(item);
        self.open.insert(index, position);
        self.emit(
            "response.output_item.added",
            json!({"output_index": position, "item": added}),
            out,
        );
        let id = item_id(&self.items[position]).to_string();
        match &self.items[position] {
            Item::Message { .. } => self.emit(
                "response.content_part.added",
                json!({"item_id": id, "output_index": position, "content_index": 0, "part": output_text("")}),
                out,
            ),
            Item::Reasoning { .. } if self.settings.summaries => self.emit(
                "response.reasoning_summary_part.added",
                json!({"item_id": id, "output_index": position, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}),
                out,
            ),
            _ => {}
        }
        position
    }

    /// Ends the item at the contract's `index` with its `.done` events.
    fn finish(&mut self, index: u32, out: &mut Vec<SseEvent>) {
        let Some(position) = self.open.remove(&index) else {
            return;
        };
        let id = item_id(&self.items[position]).to_string();
        match &self.items[position] {
            Item::Message { text, .. } => {
                let text = text.clone();
                self.emit(
                    "response.output_text.done",
                    json!({"item_id": id, "output_index": position, "content_index": 0, "text": text, "logprobs": []}),
                    out,
                );
                self.emit(
                    "response.content_part.done",
                    json!({"item_id": id, "output_index": position, "content_index": 0, "part": output_text(&text)}),
                    out,
                );
            }
            Item::Reasoning { text, .. } if self.settings.summaries => {
                let text = text.clone();
                self.emit(
                    "response.reasoning_summary_text.done",
                    json!({"item_id": id, "output_index": position, "summary_index": 0, "text": text}),
                    out,
                );
                self.emit(
                    "response.reasoning_summary_part.done",
                    json!({"item_id": id, "output_index": position, "summary_index": 0, "part": {"type": "summary_text", "text": text}}),
                    out,
                );
            }
            Item::Call {
                arguments,
                name,
                custom: false,
                ..
            } => {
                let (arguments, name) = (arguments.clone(), name.clone());
                self.emit(
                    "response.function_call_arguments.done",
                    json!({"item_id": id, "output_index": position, "arguments": arguments, "name": name}),
                    out,
                );
            }
            item @ Item::Call { custom: true, .. } => {
                // The input streams as the JSON of a function's arguments; the client gets
                // the free text inside, whole.
                let input = item.custom_input();
                self.emit(
                    "response.custom_tool_call_input.delta",
                    json!({"item_id": id, "output_index": position, "delta": input}),
                    out,
                );
                self.emit(
                    "response.custom_tool_call_input.done",
                    json!({"item_id": id, "output_index": position, "input": input}),
                    out,
                );
            }
            _ => {}
        }
        let done = self.items[position].json("completed", &self.settings);
        self.done.push(done.clone());
        self.emit(
            "response.output_item.done",
            json!({"output_index": position, "item": done}),
            out,
        );
    }

    fn finish_all(&mut self, out: &mut Vec<SseEvent>) {
        let mut open: Vec<(u32, usize)> = self.open.iter().map(|(i, p)| (*i, *p)).collect();
        open.sort_by_key(|(_, position)| *position);
        for (index, _) in open {
            self.finish(index, out);
        }
    }

    /// The output so far, in output order.
    fn output(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|item| item.json("completed", &self.settings))
            .collect()
    }

    fn text_delta(&mut self, index: u32, text: &str, out: &mut Vec<SseEvent>) {
        let position = self.item(
            index,
            |s| Item::Message {
                id: s.item_id("msg"),
                text: String::new(),
            },
            out,
        );
        if let Item::Message { text: all, .. } = &mut self.items[position] {
            all.push_str(text);
            self.emit_delta(
                "response.output_text.delta",
                position,
                Some("content_index"),
                text,
                out,
            );
        }
    }

    /// Reasoning is kept for the item (and its encrypted content); it reaches the client as
    /// summary deltas only when summaries were asked for.
    fn reasoning_delta(&mut self, index: u32, text: &str, out: &mut Vec<SseEvent>) {
        let position = self.item(index, new_reasoning, out);
        if let Item::Reasoning { text: all, .. } = &mut self.items[position] {
            all.push_str(text);
            if self.settings.summaries {
                self.emit_delta(
                    "response.reasoning_summary_text.delta",
                    position,
                    Some("summary_index"),
                    text,
                    out,
                );
            }
        }
    }

    /// A custom tool's input arrives whole at its end; a function's arguments as deltas.
    fn arguments_delta(&mut self, index: u32, fragment: &str, out: &mut Vec<SseEvent>) {
        let Some(position) = self.open.get(&index).copied() else {
            return;
        };
        if let Item::Call {
            arguments, custom, ..
        } = &mut self.items[position]
        {
            arguments.push_str(fragment);
            if !*custom {
                self.emit_delta(
                    "response.function_call_arguments.delta",
                    position,
                    None,
                    fragment,
                    out,
                );
            }
        }
    }

    /// The final event: completed, or incomplete with why.
    fn complete(&mut self, completion: Completion, out: &mut Vec<SseEvent>) {
        self.finish_all(out);
        let reason = self.stop_reason.clone().or(completion.stop_reason.clone());
        let usage = self.usage.or(completion.usage);
        let output = self.output();
        let response =
            self.settings
                .finished(&completion, reason.as_ref(), &output, usage.as_ref());
        let kind = match response.incomplete_details {
            Some(_) => "response.incomplete",
            None => "response.completed",
        };
        emit_response(&mut self.sequence, kind, &response, out);
    }
}

/// `{"type": …, "sequence_number": …, "response": {…}}`.
#[derive(Serialize)]
struct ResponseEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    sequence_number: u64,
    response: &'a ResponseObject<'a>,
}

/// An event whose one field is the `response` object (created, in progress, completed,
/// incomplete, failed). A function of its own, not a method: the object borrows the
/// stream's settings while the event takes the next sequence number.
fn emit_response(
    sequence: &mut u64,
    kind: &str,
    response: &ResponseObject<'_>,
    out: &mut Vec<SseEvent>,
) {
    let event = ResponseEvent {
        kind,
        sequence_number: *sequence,
        response,
    };
    *sequence += 1;
    out.push(sse::named(kind, &event));
}

fn item_id(item: &Item) -> &str {
    match item {
        Item::Message { id, .. } | Item::Reasoning { id, .. } | Item::Call { id, .. } => id,
    }
}

impl Frames for Stream {
    fn push(&mut self, event: Event, out: &mut Vec<SseEvent>) {
        match event {
            Event::MessageStart => {
                let response = self.settings.response("in_progress", &[], None);
                for kind in ["response.created", "response.in_progress"] {
                    emit_response(&mut self.sequence, kind, &response, out);
                }
            }
            Event::TextDelta { index, text } => self.text_delta(index, &text, out),
            Event::ReasoningDelta { index, text } => self.reasoning_delta(index, &text, out),
            Event::ReasoningSignature { index, signature } => {
                let position = self.item(index, new_reasoning, out);
                if let Item::Reasoning { signature: all, .. } = &mut self.items[position] {
                    all.push_str(&signature);
                }
            }
            Event::RedactedReasoning { index, data } => {
                let position = self.item(index, new_reasoning, out);
                if let Item::Reasoning { redacted, .. } = &mut self.items[position] {
                    *redacted = Some(data);
                }
            }
            Event::ToolUseStart { index, id, name } => {
                let custom = self.settings.tools.custom.contains(&name);
                self.item(
                    index,
                    |s| Item::Call {
                        id: s.item_id(if custom { "ctc" } else { "fc" }),
                        call_id: id,
                        name,
                        arguments: String::new(),
                        custom,
                    },
                    out,
                );
            }
            Event::ToolUseInputDelta { index, fragment } => {
                self.arguments_delta(index, &fragment, out)
            }
            Event::BlockStop { index } => self.finish(index, out),
            Event::MessageStop { reason } => self.stop_reason = Some(reason),
            Event::Usage { usage, .. } => self.usage = Some(usage),
            Event::Completed(completion) => self.complete(completion, out),
            _ => {}
        }
    }

    fn failed(&mut self, error: &ApiError, out: &mut Vec<SseEvent>) {
        let output = self.output();
        let mut response = self
            .settings
            .response("failed", &output, self.usage.as_ref());
        response.error = Some(ResponseError {
            code: &error.code,
            message: &error.message,
        });
        emit_response(&mut self.sequence, "response.failed", &response, out);
    }
}

fn new_reasoning(settings: &mut Settings) -> Item {
    Item::Reasoning {
        id: settings.item_id("rs"),
        text: String::new(),
        signature: String::new(),
        redacted: None,
    }
}
