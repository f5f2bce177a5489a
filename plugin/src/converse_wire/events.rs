//! ConverseStream's response: event-stream frames (decoded, CRCs checked, by
//! `aws-smithy-eventstream`) whose JSON payloads become the SDK's `ConverseStreamOutput`, so
//! the stream driver and its assembler handle one event type whichever path answered. Bytes
//! are counted as they arrive (the idle timeout's measure of progress), and a message whose
//! prelude claims more than [`MAX_MESSAGE_BYTES`] is refused before it is buffered.
//!
//! Every event the SDK models is decoded, into the fields the SDK's type has (guardrail traces
//! in [`super::guardrail`]); an event or delta of a kind newer than this table is skipped, as
//! the assembler skips the SDK's `Unknown`.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    CacheDetail, CacheTtl, CitationSourceContentDelta, CitationsDelta, ContentBlockDelta,
    ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent, ContentBlockStopEvent,
    ConversationRole, ConverseStreamMetadataEvent, ConverseStreamMetrics, ConverseStreamOutput,
    ConverseStreamTrace, ErrorBlock, ImageBlockDelta, ImageBlockStart, ImageFormat, ImageSource,
    MessageStartEvent, MessageStopEvent, PerformanceConfigLatency, PerformanceConfiguration,
    PromptRouterTrace, ReasoningContentBlockDelta, ServiceTier, ServiceTierType, StopReason,
    TokenUsage, ToolResultBlockDelta, ToolResultBlockStart, ToolResultStatus, ToolUseBlockDelta,
    ToolUseBlockStart, ToolUseType,
};
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::event_stream::Message;
use base64::Engine;
use bytes::{Buf, BytesMut};
use host_sdk::{ErrorKind, ProviderError};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::Value;

use crate::document::to_document;
use crate::errors::{error, from_service_error, stream_exception, CallContext, CallFailure};
use crate::response_body::{OversizedResponse, Progress, MAX_MESSAGE_BYTES};

/// The events of one ConverseStream response.
pub struct WireEvents {
    body: SdkBody,
    buffer: BytesMut,
    decoder: MessageFrameDecoder,
    /// The length of the message at the front of `buffer` was checked.
    length_checked: bool,
    progress: Progress,
}

impl WireEvents {
    pub fn new(body: SdkBody, progress: Progress) -> Self {
        Self {
            body,
            buffer: BytesMut::new(),
            decoder: MessageFrameDecoder::new(),
            length_checked: false,
            progress,
        }
    }

    /// The next event, `None` at the end of the stream; an exception the service sent in the
    /// stream is its typed error.
    pub async fn recv(
        &mut self,
        ctx: &CallContext<'_>,
    ) -> Result<Option<ConverseStreamOutput>, CallFailure> {
        loop {
            if !self.length_checked && self.buffer.len() >= 4 {
                let claimed = (&self.buffer[..4]).get_u32();
                if claimed > MAX_MESSAGE_BYTES {
                    let oversized = OversizedResponse {
                        what: "an event-stream message claims to be larger than any Bedrock sends",
                        claimed: u64::from(claimed),
                        limit: u64::from(MAX_MESSAGE_BYTES),
                    };
                    return Err(error(
                        ErrorKind::Network,
                        format!("{} failed: {oversized}", ctx.operation),
                    )
                    .into());
                }
                self.length_checked = true;
            }
            match self.decoder.decode_frame(&mut self.buffer) {
                Ok(DecodedFrame::Complete(message)) => {
                    self.length_checked = false;
                    match event(&message, ctx)? {
                        Some(event) => return Ok(Some(event)),
                        None => continue,
                    }
                }
                Ok(DecodedFrame::Incomplete) => {}
                Err(e) => return Err(broken(ctx, e.to_string())),
            }
            match self.body.frame().await {
                None if self.buffer.is_empty() && !self.length_checked => return Ok(None),
                None => {
                    return Err(broken(
                        ctx,
                        "the connection closed in the middle of a message".into(),
                    ))
                }
                Some(Err(e)) => {
                    return Err(error(
                        ErrorKind::Network,
                        format!(
                            "{} failed reading the response stream: {}",
                            ctx.operation,
                            crate::errors::source_chain(e.as_ref())
                        ),
                    )
                    .into())
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.progress.add(data.len() as u64);
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

fn broken(ctx: &CallContext<'_>, why: String) -> CallFailure {
    error(
        ErrorKind::Network,
        format!(
            "{}: Bedrock's response is not a valid event stream: {why}",
            ctx.operation
        ),
    )
    .into()
}

/// One decoded message: an event, or the service's exception or error.
fn event(
    message: &Message,
    ctx: &CallContext<'_>,
) -> Result<Option<ConverseStreamOutput>, CallFailure> {
    let header = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|v| v.as_str())
    };
    let payload = message.payload();
    match header(":message-type") {
        Some("event") => {
            let kind = header(":event-type").unwrap_or_default();
            parse_event(kind, payload).map_err(|e| {
                broken(
                    ctx,
                    format!(
                        "its `{kind}` event does not parse ({e}): {}",
                        preview(payload)
                    ),
                )
            })
        }
        Some("exception") => {
            let code = header(":exception-type").unwrap_or("Unknown");
            let fields: ExceptionFields = serde_json::from_slice(payload).unwrap_or_default();
            Err(service_failure(stream_exception(
                code,
                fields.message.as_deref(),
                fields.original_status_code,
                fields.original_message.as_deref(),
                ctx,
            )))
        }
        Some("error") => {
            let code = header(":error-code").unwrap_or("Unknown");
            let text = header(":error-message").unwrap_or("no message");
            Err(CallFailure {
                error: from_service_error(code, text, ctx),
                service_message: Some(text.to_string()),
            })
        }
        other => Err(broken(
            ctx,
            format!("a message of type `{}`", other.unwrap_or("(none)")),
        )),
    }
}

fn service_failure(e: ProviderError) -> CallFailure {
    let message = e.message.to_string();
    CallFailure {
        error: e,
        service_message: Some(message),
    }
}

fn preview(payload: &[u8]) -> String {
    String::from_utf8_lossy(&payload[..payload.len().min(200)]).into_owned()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ExceptionFields {
    message: Option<String>,
    original_status_code: Option<i32>,
    original_message: Option<String>,
}

/// The event, or `None` for a type this path does not model.
type Parsed = Result<Option<ConverseStreamOutput>, String>;

fn parse_event(kind: &str, payload: &[u8]) -> Parsed {
    let json = |e: serde_json::Error| e.to_string();
    let built = |e: aws_smithy_types::error::operation::BuildError| e.to_string();
    Ok(Some(match kind {
        "messageStart" => {
            let e: MessageStart = serde_json::from_slice(payload).map_err(json)?;
            ConverseStreamOutput::MessageStart(
                MessageStartEvent::builder()
                    .role(ConversationRole::from(e.role.as_str()))
                    .build()
                    .map_err(built)?,
            )
        }
        "contentBlockStart" => {
            let e: BlockStart = serde_json::from_slice(payload).map_err(json)?;
            let start = match e.start {
                Some(Start {
                    tool_use: Some(t), ..
                }) => Some(ContentBlockStart::ToolUse(
                    ToolUseBlockStart::builder()
                        .tool_use_id(t.tool_use_id)
                        .name(t.name)
                        .set_type(t.r#type.as_deref().map(ToolUseType::from))
                        .build()
                        .map_err(built)?,
                )),
                Some(Start {
                    tool_result: Some(r),
                    ..
                }) => Some(ContentBlockStart::ToolResult(
                    ToolResultBlockStart::builder()
                        .set_tool_use_id(r.tool_use_id)
                        .set_type(r.r#type)
                        .set_status(r.status.as_deref().map(ToolResultStatus::from))
                        .build()
                        .map_err(built)?,
                )),
                Some(Start { image: Some(i), .. }) => Some(ContentBlockStart::Image(
                    ImageBlockStart::builder()
                        .set_format(i.format.as_deref().map(ImageFormat::from))
                        .build()
                        .map_err(built)?,
                )),
                _ => None,
            };
            ConverseStreamOutput::ContentBlockStart(
                ContentBlockStartEvent::builder()
                    .content_block_index(e.content_block_index)
                    .set_start(start)
                    .build()
                    .map_err(built)?,
            )
        }
        "contentBlockDelta" => {
            let e: BlockDelta = serde_json::from_slice(payload).map_err(json)?;
            ConverseStreamOutput::ContentBlockDelta(
                ContentBlockDeltaEvent::builder()
                    .content_block_index(e.content_block_index)
                    .set_delta(e.delta.map(Delta::into_sdk).transpose()?.flatten())
                    .build()
                    .map_err(built)?,
            )
        }
        "contentBlockStop" => {
            let e: BlockStop = serde_json::from_slice(payload).map_err(json)?;
            ConverseStreamOutput::ContentBlockStop(
                ContentBlockStopEvent::builder()
                    .content_block_index(e.content_block_index)
                    .build()
                    .map_err(built)?,
            )
        }
        "messageStop" => {
            let e: MessageStop = serde_json::from_slice(payload).map_err(json)?;
            ConverseStreamOutput::MessageStop(
                MessageStopEvent::builder()
                    .stop_reason(StopReason::from(e.stop_reason.as_str()))
                    .set_additional_model_response_fields(
                        e.additional_model_response_fields.as_ref().map(to_document),
                    )
                    .build()
                    .map_err(built)?,
            )
        }
        "metadata" => {
            let e: Metadata = serde_json::from_slice(payload).map_err(json)?;
            ConverseStreamOutput::Metadata(e.into_sdk()?)
        }
        // A type not modelled here is skipped, as the SDK's `Unknown` would be.
        _ => return Ok(None),
    }))
}

#[derive(Deserialize)]
struct MessageStart {
    role: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    content_block_index: i32,
    start: Option<Start>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start {
    tool_use: Option<ToolUseStart>,
    tool_result: Option<ToolResultStart>,
    image: Option<ImageStart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolResultStart {
    tool_use_id: Option<String>,
    r#type: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
struct ImageStart {
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart {
    tool_use_id: String,
    name: String,
    r#type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    content_block_index: i32,
    delta: Option<Delta>,
}

/// A delta is a union: one of these fields is set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delta {
    text: Option<String>,
    tool_use: Option<ToolUseDelta>,
    reasoning_content: Option<ReasoningDelta>,
    citation: Option<Value>,
    tool_result: Option<Vec<Value>>,
    image: Option<ImageDelta>,
}

#[derive(Deserialize)]
struct ImageDelta {
    source: Option<ImageBytes>,
    error: Option<ErrorText>,
}

#[derive(Deserialize)]
struct ImageBytes {
    bytes: Option<String>,
}

#[derive(Deserialize)]
struct ErrorText {
    message: Option<String>,
}

#[derive(Deserialize)]
struct ToolUseDelta {
    input: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasoningDelta {
    text: Option<String>,
    signature: Option<String>,
    redacted_content: Option<String>,
}

impl Delta {
    /// The SDK's delta; `None` for a kind this path does not model.
    fn into_sdk(self) -> Result<Option<ContentBlockDelta>, String> {
        Ok(Some(if let Some(text) = self.text {
            ContentBlockDelta::Text(text)
        } else if let Some(t) = self.tool_use {
            ContentBlockDelta::ToolUse(
                ToolUseBlockDelta::builder()
                    .input(t.input)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
        } else if let Some(r) = self.reasoning_content {
            ContentBlockDelta::ReasoningContent(if let Some(text) = r.text {
                ReasoningContentBlockDelta::Text(text)
            } else if let Some(signature) = r.signature {
                ReasoningContentBlockDelta::Signature(signature)
            } else if let Some(redacted) = r.redacted_content {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(redacted)
                    .map_err(|e| format!("redactedContent is not base64: {e}"))?;
                ReasoningContentBlockDelta::RedactedContent(Blob::new(bytes))
            } else {
                return Ok(None);
            })
        } else if let Some(c) = self.citation {
            ContentBlockDelta::Citation(citation(&c))
        } else if let Some(parts) = self.tool_result {
            ContentBlockDelta::ToolResult(
                parts
                    .iter()
                    .filter_map(|p| {
                        if let Some(text) = p.get("text").and_then(Value::as_str) {
                            Some(ToolResultBlockDelta::Text(text.to_string()))
                        } else {
                            p.get("json")
                                .map(|j| ToolResultBlockDelta::Json(to_document(j)))
                        }
                    })
                    .collect(),
            )
        } else if let Some(image) = self.image {
            let source = match image.source.and_then(|s| s.bytes) {
                Some(b64) => Some(ImageSource::Bytes(Blob::new(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|e| format!("an image's bytes are not base64: {e}"))?,
                ))),
                None => None,
            };
            ContentBlockDelta::Image(
                ImageBlockDelta::builder()
                    .set_source(source)
                    .set_error(
                        image
                            .error
                            .map(|e| ErrorBlock::builder().set_message(e.message).build()),
                    )
                    .build(),
            )
        } else {
            return Ok(None);
        }))
    }
}

/// A citation delta: its source's title and text, and where in the source it points.
fn citation(v: &Value) -> CitationsDelta {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    // A location of a kind newer than the SDK's types is left out, as the SDK leaves it.
    let location = v
        .get("location")
        .and_then(|l| crate::citations::location_from_json(l).ok());
    let content = v
        .get("sourceContent")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .map(|p| {
                    CitationSourceContentDelta::builder()
                        .set_text(text(p, "text"))
                        .build()
                })
                .collect()
        });
    CitationsDelta::builder()
        .set_title(text(v, "title"))
        .set_source(text(v, "source"))
        .set_source_content(content)
        .set_location(location)
        .build()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStop {
    content_block_index: i32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop {
    stop_reason: String,
    additional_model_response_fields: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    usage: Option<Usage>,
    metrics: Option<Metrics>,
    trace: Option<Trace>,
    performance_config: Option<Performance>,
    service_tier: Option<Tier>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    input_tokens: i32,
    output_tokens: i32,
    total_tokens: i32,
    cache_read_input_tokens: Option<i32>,
    cache_write_input_tokens: Option<i32>,
    cache_details: Option<Vec<CacheUse>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheUse {
    ttl: String,
    input_tokens: i32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    latency_ms: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Trace {
    guardrail: Option<Value>,
    prompt_router: Option<RouterTrace>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouterTrace {
    invoked_model_id: Option<String>,
}

#[derive(Deserialize)]
struct Performance {
    latency: String,
}

#[derive(Deserialize)]
struct Tier {
    r#type: String,
}

impl Metadata {
    fn into_sdk(self) -> Result<ConverseStreamMetadataEvent, String> {
        let built = |e: aws_smithy_types::error::operation::BuildError| e.to_string();
        let usage = match self.usage {
            Some(u) => {
                let details = u
                    .cache_details
                    .map(|details| {
                        details
                            .into_iter()
                            .map(|d| {
                                CacheDetail::builder()
                                    .ttl(CacheTtl::from(d.ttl.as_str()))
                                    .input_tokens(d.input_tokens)
                                    .build()
                                    .map_err(built)
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .transpose()?;
                Some(
                    TokenUsage::builder()
                        .input_tokens(u.input_tokens)
                        .output_tokens(u.output_tokens)
                        .total_tokens(u.total_tokens)
                        .set_cache_read_input_tokens(u.cache_read_input_tokens)
                        .set_cache_write_input_tokens(u.cache_write_input_tokens)
                        .set_cache_details(details)
                        .build()
                        .map_err(built)?,
                )
            }
            None => None,
        };
        let metrics = self
            .metrics
            .map(|m| {
                ConverseStreamMetrics::builder()
                    .latency_ms(m.latency_ms)
                    .build()
                    .map_err(built)
            })
            .transpose()?;
        let trace = match self.trace {
            Some(t) => Some(
                ConverseStreamTrace::builder()
                    .set_guardrail(
                        t.guardrail
                            .as_ref()
                            .map(super::guardrail::trace)
                            .transpose()?,
                    )
                    .set_prompt_router(t.prompt_router.map(|r| {
                        PromptRouterTrace::builder()
                            .set_invoked_model_id(r.invoked_model_id)
                            .build()
                    }))
                    .build(),
            ),
            None => None,
        };
        let performance = self.performance_config.map(|p| {
            PerformanceConfiguration::builder()
                .latency(PerformanceConfigLatency::from(p.latency.as_str()))
                .build()
        });
        let tier = self
            .service_tier
            .map(|t| {
                ServiceTier::builder()
                    .r#type(ServiceTierType::from(t.r#type.as_str()))
                    .build()
                    .map_err(built)
            })
            .transpose()?;
        Ok(ConverseStreamMetadataEvent::builder()
            .set_usage(usage)
            .set_metrics(metrics)
            .set_trace(trace)
            .set_performance_config(performance)
            .set_service_tier(tier)
            .build())
    }
}
