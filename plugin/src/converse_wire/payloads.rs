//! An event's JSON payload as the SDK's `ConverseStreamOutput`: every event the SDK models,
//! into the fields the SDK's type has (guardrail traces in [`super::guardrail`]), read with
//! serde into structs of Bedrock's wire names; an event or delta of a kind newer than this
//! table is skipped, as the assembler skips the SDK's `Unknown`.

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
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use crate::document::to_document;

/// The event, or `None` for a type this path does not model.
type Parsed = Result<Option<ConverseStreamOutput>, String>;

pub(super) fn parse_event(kind: &str, payload: &[u8]) -> Parsed {
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
                ReasoningContentBlockDelta::RedactedContent(blob(&redacted, "redactedContent")?)
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
                Some(b64) => Some(ImageSource::Bytes(blob(&b64, "an image's bytes")?)),
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

/// Bytes sent as base64 (`what` names them in the error).
fn blob(b64: &str, what: &str) -> Result<Blob, String> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map(Blob::new)
        .map_err(|e| format!("{what} is not base64: {e}"))
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
