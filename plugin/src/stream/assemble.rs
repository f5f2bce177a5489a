//! The event assembler: turns each service event into a borrowed [`StreamEvent`] (or an
//! extension event) for the host's sink, and builds the [`Completion`] the stream ends with,
//! partial on failure.

use std::collections::BTreeMap;

use abi_stable::std_types::{RSlice, RStr};
use aws_sdk_bedrockruntime::types::{
    CacheTtl, ContentBlockDelta, ContentBlockStart, ConverseStreamMetadataEvent,
    ConverseStreamOutput, ImageSource, ReasoningContentBlockDelta, ToolResultBlockDelta,
    ToolResultStatus, ToolUseType,
};
use host_sdk::contract::{extension_kinds, EventSinkBox};
use host_sdk::{
    Completion, ContentBlock, Extension, Message, OutputCheck, Role, SinkFlow, StopReason,
    StreamEvent, TokenUsage, Usage,
};
use serde_json::Value;

use super::guardrail_trace;
use crate::document::from_document;
use crate::pricing::Pricing;

/// A content block under construction, by service block index.
#[derive(Debug)]
enum Block {
    Text(String),
    Reasoning {
        text: String,
        signature: Option<String>,
    },
    Redacted(Vec<u8>),
    ToolUse {
        id: String,
        name: String,
        input: String,
        done: Option<serde_json::Value>,
    },
    /// A call of a tool the service ran itself; `input` is the JSON text received.
    ServerToolUse {
        id: String,
        name: String,
        input: String,
    },
    /// A server tool's result; `content` holds parts in the schema of `ToolResultContent`.
    ServerToolResult {
        tool_use_id: String,
        kind: String,
        is_error: bool,
        content: Vec<Value>,
    },
    /// An image the model makes, its bytes as they arrive (or why it could not be made).
    Image {
        format: String,
        data: Vec<u8>,
        error: Option<String>,
    },
}

impl Block {
    /// A completed block that reaches the host as an extension event (kind and data): a
    /// server tool's call or result, an image.
    fn extension_event(&self) -> Option<(&'static str, Value)> {
        match self {
            Block::Image {
                format,
                data,
                error,
            } => Some((
                extension_kinds::IMAGE,
                match error {
                    Some(why) => serde_json::json!({ "format": format, "error": why }),
                    None => {
                        use base64::Engine as _;
                        let data = base64::engine::general_purpose::STANDARD.encode(data);
                        serde_json::json!({ "format": format, "data": data })
                    }
                },
            )),
            Block::ServerToolUse { id, name, input } => Some((
                extension_kinds::SERVER_TOOL_USE,
                serde_json::json!({ "id": id, "name": name, "input": json_or_text(input) }),
            )),
            Block::ServerToolResult {
                tool_use_id,
                kind,
                is_error,
                content,
            } => Some((
                extension_kinds::SERVER_TOOL_RESULT,
                serde_json::json!({
                    "toolUseId": tool_use_id,
                    "type": kind,
                    "status": if *is_error { "error" } else { "success" },
                    "content": content,
                }),
            )),
            _ => None,
        }
    }
}

/// JSON text as a value, or the text itself when it is not JSON (an empty input is `{}`).
fn json_or_text(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// One part of a server tool's result, in the schema of `ToolResultContent`.
fn result_part(part: &ToolResultBlockDelta) -> Value {
    match part {
        ToolResultBlockDelta::Json(doc) => {
            serde_json::json!({ "type": "json", "value": from_document(doc) })
        }
        ToolResultBlockDelta::Text(text) => serde_json::json!({ "type": "text", "text": text }),
        other => serde_json::json!({ "type": "text", "text": format!("{other:?}") }),
    }
}

/// Forwards events to the sink and builds the completion from them.
#[derive(Default)]
pub(super) struct Assembler {
    blocks: BTreeMap<i32, Block>,
    pub(super) stop_reason: Option<String>,
    usage: Option<Usage>,
    latency_ms: Option<u64>,
    /// Of the cache writes, those with the one-hour ttl (the usage's `cacheDetails`).
    cache_write_1h: u64,
    /// The citations backing each text block, by block index.
    citations: BTreeMap<i32, Vec<Value>>,
    extensions: Vec<Extension>,
    /// Response events the host has seen (retries are allowed only while this is 0).
    pub(super) delivered: usize,
    /// Of the output tokens, those spent reasoning, when the service said (Responses API).
    pub(super) reasoning_tokens: Option<u64>,
}

impl Assembler {
    fn emit(&mut self, sink: &mut EventSinkBox, event: StreamEvent<'_>) -> SinkFlow {
        self.delivered += 1;
        sink.on_event(&event)
    }

    /// Sends an extension event and keeps it for the completion.
    fn emit_extension(&mut self, sink: &mut EventSinkBox, kind: &str, data: Value) -> SinkFlow {
        self.delivered += 1;
        let json = data.to_string();
        let flow = sink.on_extension(kind.into(), json.as_str().into());
        self.extensions.push(Extension {
            kind: kind.to_owned(),
            data,
        });
        flow
    }

    /// The metadata event's traces, as extension events.
    fn traces(&mut self, meta: &ConverseStreamMetadataEvent, sink: &mut EventSinkBox) -> SinkFlow {
        let Some(trace) = meta.trace() else {
            return SinkFlow::Continue;
        };
        if let Some(model) = trace.prompt_router().and_then(|r| r.invoked_model_id()) {
            let data = serde_json::json!({ "model": model });
            if self.emit_extension(sink, extension_kinds::MODEL_ROUTED, data) == SinkFlow::Stop {
                return SinkFlow::Stop;
            }
        }
        if let Some(guardrail) = trace.guardrail() {
            let data = serde_json::json!({
                "intervened": self.stop_reason.as_deref() == Some("guardrail_intervened"),
                "trace": guardrail_trace::to_json(guardrail),
            });
            return self.emit_extension(sink, extension_kinds::GUARDRAIL, data);
        }
        SinkFlow::Continue
    }

    /// Forwards one event of the service's stream to the sink (as the contract's events) and
    /// keeps what the completion needs; a function per kind of event.
    pub(super) fn handle(
        &mut self,
        event: &ConverseStreamOutput,
        sink: &mut EventSinkBox,
        cost: Option<Pricing>,
    ) -> SinkFlow {
        match event {
            ConverseStreamOutput::MessageStart(_) => self.emit(sink, StreamEvent::MessageStart),
            ConverseStreamOutput::ContentBlockStart(start) => self.block_start(start, sink),
            ConverseStreamOutput::ContentBlockDelta(d) => match d.delta() {
                Some(delta) => self.delta(d.content_block_index(), delta, sink),
                None => SinkFlow::Continue,
            },
            ConverseStreamOutput::ContentBlockStop(stop) => {
                self.block_stop(stop.content_block_index(), sink)
            }
            ConverseStreamOutput::MessageStop(stop) => self.message_stop(stop, sink),
            ConverseStreamOutput::Metadata(meta) => self.metadata(meta, sink, cost),
            other => {
                tracing::debug!(
                    "ignoring a stream event this plugin version does not map: {other:?}"
                );
                SinkFlow::Continue
            }
        }
    }

    /// A block begins: a tool call is announced; a server tool's call or result is kept
    /// until complete; text and reasoning begin with their first delta.
    fn block_start(
        &mut self,
        start: &aws_sdk_bedrockruntime::types::ContentBlockStartEvent,
        sink: &mut EventSinkBox,
    ) -> SinkFlow {
        let index = start.content_block_index();
        match start.start() {
            // A call the service runs itself: its own block, announced when complete.
            Some(ContentBlockStart::ToolUse(t))
                if t.r#type() == Some(&ToolUseType::ServerToolUse) =>
            {
                self.blocks.insert(
                    index,
                    Block::ServerToolUse {
                        id: t.tool_use_id().into(),
                        name: t.name().into(),
                        input: String::new(),
                    },
                );
                SinkFlow::Continue
            }
            Some(ContentBlockStart::ToolResult(r)) => {
                self.blocks.insert(
                    index,
                    Block::ServerToolResult {
                        tool_use_id: r.tool_use_id().into(),
                        kind: r.r#type().unwrap_or_default().into(),
                        is_error: r.status() == Some(&ToolResultStatus::Error),
                        content: Vec::new(),
                    },
                );
                SinkFlow::Continue
            }
            Some(ContentBlockStart::Image(image)) => {
                self.blocks.insert(
                    index,
                    Block::Image {
                        format: image.format().as_str().to_string(),
                        data: Vec::new(),
                        error: None,
                    },
                );
                SinkFlow::Continue
            }
            Some(ContentBlockStart::ToolUse(t)) => {
                self.blocks.insert(
                    index,
                    Block::ToolUse {
                        id: t.tool_use_id().into(),
                        name: t.name().into(),
                        input: String::new(),
                        done: None,
                    },
                );
                self.emit(
                    sink,
                    StreamEvent::ToolUseStart {
                        index: index as u32,
                        id: t.tool_use_id().into(),
                        name: t.name().into(),
                    },
                )
            }
            _ => SinkFlow::Continue,
        }
    }

    /// A block ends: a server tool's block becomes its extension event; a tool call's input
    /// is parsed (or its error said) and the whole call sent; then the block's stop.
    fn block_stop(&mut self, index: i32, sink: &mut EventSinkBox) -> SinkFlow {
        if let Some((kind, mut data)) = self.blocks.get(&index).and_then(Block::extension_event) {
            data["index"] = index.into();
            return self.emit_extension(sink, kind, data);
        }
        if let Some(Block::ToolUse {
            id,
            name,
            input,
            done,
        }) = self.blocks.get_mut(&index)
        {
            // An empty input means "no arguments".
            let raw = if input.trim().is_empty() {
                "{}"
            } else {
                input.as_str()
            };
            let parsed = serde_json::from_str::<serde_json::Value>(raw);
            let err = parsed
                .as_ref()
                .err()
                .map(|e| format!("the tool input is not valid JSON: {e}"));
            *done = parsed.ok();
            let (id, name, raw) = (id.clone(), name.clone(), raw.to_string());
            let flow = self.emit(
                sink,
                StreamEvent::ToolUse {
                    index: index as u32,
                    id: id.as_str().into(),
                    name: name.as_str().into(),
                    input_json: raw.as_str().into(),
                    error: err.as_deref().map(RStr::from).into(),
                },
            );
            if flow == SinkFlow::Stop {
                return flow;
            }
        }
        self.emit(
            sink,
            StreamEvent::BlockStop {
                index: index as u32,
            },
        )
    }

    /// The model stopped: its reason, then the model's own response fields when asked for.
    fn message_stop(
        &mut self,
        stop: &aws_sdk_bedrockruntime::types::MessageStopEvent,
        sink: &mut EventSinkBox,
    ) -> SinkFlow {
        let reason = stop.stop_reason().as_str().to_string();
        let flow = self.emit(
            sink,
            StreamEvent::MessageStop {
                reason: reason.as_str().into(),
            },
        );
        self.stop_reason = Some(reason);
        match stop.additional_model_response_fields() {
            Some(fields) if flow == SinkFlow::Continue => {
                let data = serde_json::json!({ "fields": from_document(fields) });
                self.emit_extension(sink, extension_kinds::MODEL_RESPONSE_FIELDS, data)
            }
            _ => flow,
        }
    }

    /// The service tier and latency configuration that served the request, as an extension
    /// event, when the metadata says.
    fn served(&mut self, meta: &ConverseStreamMetadataEvent, sink: &mut EventSinkBox) -> SinkFlow {
        let mut data = serde_json::Map::new();
        if let Some(tier) = meta.service_tier() {
            data.insert("serviceTier".into(), tier.r#type().as_str().into());
        }
        if let Some(performance) = meta.performance_config() {
            data.insert("latency".into(), performance.latency().as_str().into());
        }
        if data.is_empty() {
            return SinkFlow::Continue;
        }
        self.emit_extension(sink, extension_kinds::SERVED, Value::Object(data))
    }

    /// The stream's metadata: traces (as extension events), how it was served, usage with its
    /// cost, latency.
    fn metadata(
        &mut self,
        meta: &ConverseStreamMetadataEvent,
        sink: &mut EventSinkBox,
        cost: Option<Pricing>,
    ) -> SinkFlow {
        let mut flow = self.traces(meta, sink);
        if flow == SinkFlow::Stop {
            return flow;
        }
        flow = self.served(meta, sink);
        if flow == SinkFlow::Stop {
            return flow;
        }
        if let Some(u) = meta.usage() {
            self.cache_write_1h = u
                .cache_details()
                .iter()
                .filter(|d| d.ttl() == &CacheTtl::OneHour)
                .map(|d| d.input_tokens().max(0) as u64)
                .sum();
            let usage = Usage {
                input_tokens: u.input_tokens().max(0) as u64,
                output_tokens: u.output_tokens().max(0) as u64,
                total_tokens: u.total_tokens().max(0) as u64,
                cache_read_tokens: u.cache_read_input_tokens().unwrap_or(0).max(0) as u64,
                cache_write_tokens: u.cache_write_input_tokens().unwrap_or(0).max(0) as u64,
            };
            self.usage = Some(usage);
            flow = self.emit(
                sink,
                StreamEvent::Usage {
                    usage,
                    cost_usd: cost.map(|p| p.cost_usd(&usage, self.cache_write_1h)).into(),
                },
            );
        }
        if let Some(m) = meta.metrics() {
            let latency_ms = m.latency_ms().max(0) as u64;
            self.latency_ms = Some(latency_ms);
            if flow == SinkFlow::Continue {
                flow = self.emit(sink, StreamEvent::Metrics { latency_ms });
            }
        }
        flow
    }

    fn delta(
        &mut self,
        index: i32,
        delta: &ContentBlockDelta,
        sink: &mut EventSinkBox,
    ) -> SinkFlow {
        let i = index as u32;
        match delta {
            ContentBlockDelta::Text(text) => {
                let flow = self.emit(
                    sink,
                    StreamEvent::TextDelta {
                        index: i,
                        text: text.as_str().into(),
                    },
                );
                match self
                    .blocks
                    .entry(index)
                    .or_insert_with(|| Block::Text(String::new()))
                {
                    Block::Text(buf) => buf.push_str(text),
                    other => tracing::debug!("text delta for non-text block {index}: {other:?}"),
                }
                flow
            }
            ContentBlockDelta::ToolUse(t)
                if matches!(self.blocks.get(&index), Some(Block::ServerToolUse { .. })) =>
            {
                if let Some(Block::ServerToolUse { input, .. }) = self.blocks.get_mut(&index) {
                    input.push_str(t.input());
                }
                SinkFlow::Continue
            }
            ContentBlockDelta::Citation(c) => {
                let citation = crate::citations::delta_to_json(c);
                self.citations
                    .entry(index)
                    .or_default()
                    .push(citation.clone());
                let data = serde_json::json!({ "index": i, "citation": citation });
                self.emit_extension(sink, extension_kinds::CITATION, data)
            }
            ContentBlockDelta::ToolResult(parts) => {
                if let Some(Block::ServerToolResult { content, .. }) = self.blocks.get_mut(&index) {
                    content.extend(parts.iter().map(result_part));
                }
                SinkFlow::Continue
            }
            ContentBlockDelta::ToolUse(t) => {
                let flow = self.emit(
                    sink,
                    StreamEvent::ToolUseInputDelta {
                        index: i,
                        fragment: t.input().into(),
                    },
                );
                if let Some(Block::ToolUse { input, .. }) = self.blocks.get_mut(&index) {
                    input.push_str(t.input());
                }
                flow
            }
            ContentBlockDelta::ReasoningContent(r) => self.reasoning_delta(index, r, sink),
            ContentBlockDelta::Image(piece) => {
                self.image_delta(index, piece);
                SinkFlow::Continue
            }
            other => {
                tracing::debug!(
                    "ignoring a delta kind this plugin version does not map: {other:?}"
                );
                SinkFlow::Continue
            }
        }
    }

    /// A piece of an image the model makes (kept until its block stops), or why it failed.
    fn image_delta(&mut self, index: i32, piece: &aws_sdk_bedrockruntime::types::ImageBlockDelta) {
        if let Some(Block::Image { data, error, .. }) = self.blocks.get_mut(&index) {
            if let Some(ImageSource::Bytes(bytes)) = piece.source() {
                data.extend_from_slice(bytes.as_ref());
            }
            if let Some(e) = piece.error() {
                *error = Some(e.message().unwrap_or("the image could not be made").into());
            }
        }
    }

    /// A piece of reasoning: its text, its signature, or its redacted bytes.
    fn reasoning_delta(
        &mut self,
        index: i32,
        delta: &ReasoningContentBlockDelta,
        sink: &mut EventSinkBox,
    ) -> SinkFlow {
        let i = index as u32;
        match delta {
            ReasoningContentBlockDelta::Text(text) => {
                let flow = self.emit(
                    sink,
                    StreamEvent::ReasoningDelta {
                        index: i,
                        text: text.as_str().into(),
                    },
                );
                if let Block::Reasoning { text: buf, .. } = self.reasoning_block(index) {
                    buf.push_str(text);
                }
                flow
            }
            ReasoningContentBlockDelta::Signature(sig) => {
                let flow = self.emit(
                    sink,
                    StreamEvent::ReasoningSignature {
                        index: i,
                        signature: sig.as_str().into(),
                    },
                );
                if let Block::Reasoning { signature, .. } = self.reasoning_block(index) {
                    signature.get_or_insert_with(String::new).push_str(sig);
                }
                flow
            }
            ReasoningContentBlockDelta::RedactedContent(blob) => {
                let bytes = blob.as_ref();
                let flow = self.emit(
                    sink,
                    StreamEvent::RedactedReasoning {
                        index: i,
                        data: RSlice::from_slice(bytes),
                    },
                );
                match self
                    .blocks
                    .entry(index)
                    .or_insert_with(|| Block::Redacted(Vec::new()))
                {
                    Block::Redacted(buf) => buf.extend_from_slice(bytes),
                    other => tracing::debug!("redacted delta for block {index}: {other:?}"),
                }
                flow
            }
            other => {
                tracing::debug!("ignoring an unknown reasoning delta: {other:?}");
                SinkFlow::Continue
            }
        }
    }

    fn reasoning_block(&mut self, index: i32) -> &mut Block {
        self.blocks
            .entry(index)
            .or_insert_with(|| Block::Reasoning {
                text: String::new(),
                signature: None,
            })
    }

    /// The completion document. `schema` is the request's structured-output schema: the
    /// answer's text is checked against it. Block types newer than the host's contract
    /// (`host_minor`) are left out: an older host could not read the document otherwise.
    pub(super) fn completion_json(
        &self,
        cost: Option<Pricing>,
        schema: Option<&Value>,
        host_minor: u32,
    ) -> String {
        let content: Vec<ContentBlock> = self
            .blocks
            .iter()
            .filter_map(|(index, b)| self.content_block(*index, b, host_minor))
            .collect();
        let message = Message {
            role: Role::Assistant,
            content,
        };
        let mut completion = Completion::empty();
        completion.output_check = schema.map(|schema| check_output(&message.text(), schema));
        completion.message = message;
        completion.stop_reason = self.stop_reason.as_deref().map(StopReason::parse);
        completion.usage = self.usage.map(TokenUsage::from);
        completion.cost_usd = self
            .usage
            .as_ref()
            .zip(cost)
            .map(|(u, p)| p.cost_usd(u, self.cache_write_1h));
        if let Some(usage) = completion.usage.as_mut() {
            usage.cache_write_1h_tokens = (self.cache_write_1h > 0).then_some(self.cache_write_1h);
            usage.reasoning_tokens = self.reasoning_tokens;
        }
        completion.latency_ms = self.latency_ms;
        completion.extensions = self.extensions.clone();
        serde_json::to_string(&completion).unwrap_or_else(|_| "{}".into())
    }

    /// The contract's block for block `index`, as a host of `host_minor` reads it: cited text
    /// and server tools from 1.5 on; none for an empty text or a call whose input never
    /// completed (it cannot be replayed).
    fn content_block(&self, index: i32, b: &Block, host_minor: u32) -> Option<ContentBlock> {
        match b {
            Block::Text(t) if t.is_empty() => None,
            Block::Text(t) if host_minor >= 5 && self.citations.contains_key(&index) => {
                Some(ContentBlock::CitedText {
                    text: t.clone(),
                    citations: self.citations[&index].clone(),
                })
            }
            Block::Text(t) => Some(ContentBlock::Text { text: t.clone() }),
            Block::Reasoning { text, signature } => Some(ContentBlock::Reasoning {
                text: text.clone(),
                signature: signature.clone(),
            }),
            Block::Redacted(data) => Some(ContentBlock::RedactedReasoning { data: data.clone() }),
            // A tool call whose input never completed cannot be replayed: leave it out.
            Block::ToolUse {
                id,
                name,
                done: Some(input),
                ..
            } => Some(ContentBlock::ToolUse {
                id: id.clone(),
                name: name.clone(),
                input: input.clone(),
            }),
            Block::ToolUse { .. } => None,
            // Images reach the host as extension events (kept in the completion's
            // `extensions`), not as content to send back.
            Block::Image { .. } => None,
            Block::ServerToolUse { .. } | Block::ServerToolResult { .. } if host_minor < 5 => None,
            Block::ServerToolUse { id, name, input } => Some(ContentBlock::ServerToolUse {
                id: id.clone(),
                name: name.clone(),
                input: json_or_text(input),
            }),
            Block::ServerToolResult {
                tool_use_id,
                kind,
                is_error,
                content,
            } => serde_json::from_value(serde_json::json!({
                "type": "serverToolResult",
                "toolUseId": tool_use_id,
                "kind": kind,
                "isError": is_error,
                "content": content,
            }))
            .ok(),
        }
    }
}

/// Whether a structured answer is JSON matching its schema, and if not, the first problem.
fn check_output(text: &str, schema: &Value) -> OutputCheck {
    let invalid = |problem: String| OutputCheck {
        valid: false,
        problem: Some(problem),
    };
    let answer: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return invalid(format!("the answer is not JSON: {e}")),
    };
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => return invalid(format!("the schema does not compile: {e}")),
    };
    let problem = validator.iter_errors(&answer).next().map(|e| {
        format!(
            "the answer does not match the schema at `{}`: {e}",
            e.instance_path()
        )
    });
    match problem {
        None => OutputCheck {
            valid: true,
            problem: None,
        },
        Some(problem) => invalid(problem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi_stable::sabi_trait::TD_Opaque;
    use aws_sdk_bedrockruntime::types::{
        ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent,
        MessageStartEvent, MessageStopEvent, StopReason, ToolUseBlockDelta, ToolUseBlockStart,
    };
    use host_sdk::contract::{EventSink, EventSink_TO, StreamEnd};
    use std::sync::{Arc, Mutex};

    /// A sink that keeps what it was given, as owned events.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<host_sdk::Event>>>);

    impl EventSink for Seen {
        fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
            self.0.lock().unwrap().push(host_sdk::Event::from(event));
            SinkFlow::Continue
        }
        fn on_end(&mut self, _: StreamEnd) {}
    }

    fn feed(events: Vec<ConverseStreamOutput>) -> (Assembler, Vec<host_sdk::Event>) {
        let seen = Seen::default();
        let mut sink: EventSinkBox = EventSink_TO::from_value(seen.clone(), TD_Opaque);
        let mut assembler = Assembler::default();
        for event in &events {
            assert_eq!(assembler.handle(event, &mut sink, None), SinkFlow::Continue);
        }
        let events = seen.0.lock().unwrap().clone();
        (assembler, events)
    }

    fn text(index: i32, text: &str) -> ConverseStreamOutput {
        ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder()
                .content_block_index(index)
                .delta(ContentBlockDelta::Text(text.into()))
                .build()
                .unwrap(),
        )
    }

    fn start() -> ConverseStreamOutput {
        ConverseStreamOutput::MessageStart(
            MessageStartEvent::builder()
                .role(aws_sdk_bedrockruntime::types::ConversationRole::Assistant)
                .build()
                .unwrap(),
        )
    }

    fn stop(reason: StopReason) -> ConverseStreamOutput {
        ConverseStreamOutput::MessageStop(
            MessageStopEvent::builder()
                .stop_reason(reason)
                .build()
                .unwrap(),
        )
    }

    fn block_stop(index: i32) -> ConverseStreamOutput {
        ConverseStreamOutput::ContentBlockStop(
            ContentBlockStopEvent::builder()
                .content_block_index(index)
                .build()
                .unwrap(),
        )
    }

    fn completion(assembler: &Assembler) -> host_sdk::Completion {
        serde_json::from_str(&assembler.completion_json(None, None, 6)).unwrap()
    }

    #[test]
    fn text_deltas_reach_the_sink_in_order_and_make_the_answer() {
        let (assembler, events) = feed(vec![
            start(),
            text(0, "Hello"),
            text(0, ", world"),
            block_stop(0),
            stop(StopReason::EndTurn),
        ]);
        let deltas: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                host_sdk::Event::TextDelta { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(deltas, ["Hello", ", world"]);
        assert_eq!(events.first(), Some(&host_sdk::Event::MessageStart));
        assert_eq!(assembler.delivered, events.len());
        let done = completion(&assembler);
        assert_eq!(done.message.text(), "Hello, world");
        assert_eq!(done.stop_reason, Some(host_sdk::StopReason::EndTurn));
    }

    #[test]
    fn a_tool_call_arrives_in_fragments_and_completes_as_parsed_json() {
        let tool_start = ConverseStreamOutput::ContentBlockStart(
            ContentBlockStartEvent::builder()
                .content_block_index(1)
                .start(ContentBlockStart::ToolUse(
                    ToolUseBlockStart::builder()
                        .tool_use_id("t1")
                        .name("get_weather")
                        .build()
                        .unwrap(),
                ))
                .build()
                .unwrap(),
        );
        let fragment = |part: &str| {
            ConverseStreamOutput::ContentBlockDelta(
                ContentBlockDeltaEvent::builder()
                    .content_block_index(1)
                    .delta(ContentBlockDelta::ToolUse(
                        ToolUseBlockDelta::builder().input(part).build().unwrap(),
                    ))
                    .build()
                    .unwrap(),
            )
        };
        let (assembler, events) = feed(vec![
            start(),
            tool_start,
            fragment(r#"{"city": "#),
            fragment(r#""Paris"}"#),
            block_stop(1),
            stop(StopReason::ToolUse),
        ]);
        assert!(events.iter().any(|e| matches!(
            e,
            host_sdk::Event::ToolUseStart { id, name, .. } if id == "t1" && name == "get_weather"
        )));
        let fragments: String = events
            .iter()
            .filter_map(|e| match e {
                host_sdk::Event::ToolUseInputDelta { fragment, .. } => Some(fragment.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(fragments, r#"{"city": "Paris"}"#);
        assert!(events.iter().any(|e| matches!(
            e,
            host_sdk::Event::ToolUse { input, .. } if input["city"] == "Paris"
        )));
        let done = completion(&assembler);
        assert!(done.message.content.iter().any(|b| matches!(
            b,
            host_sdk::ContentBlock::ToolUse { name, input, .. }
                if name == "get_weather" && input["city"] == "Paris"
        )));
        assert_eq!(done.stop_reason, Some(host_sdk::StopReason::ToolUse));
    }

    #[test]
    fn a_stream_cut_short_keeps_its_partial_answer() {
        let (assembler, _) = feed(vec![start(), text(0, "Half an ans")]);
        assert!(assembler.stop_reason.is_none());
        assert_eq!(completion(&assembler).message.text(), "Half an ans");
    }
}
