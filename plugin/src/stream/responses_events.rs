//! The Responses API's streamed events, as the ConverseStream events the rest of the stream
//! driver (and its [`super::assemble::Assembler`]) already understands: one place where the
//! two APIs meet, so retries, timeouts, backpressure and the completion are the same for both.
//!
//! Each output item gets content block indices of its own: a message one (text), a function
//! call one (tool use), a reasoning item two (its summary as reasoning text, and the item
//! itself, JSON with its encrypted content, as redacted reasoning: that is what goes back on
//! the next turn).

use std::collections::HashMap;

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent,
    ContentBlockStopEvent, ConversationRole, ConverseStreamMetadataEvent, ConverseStreamOutput,
    MessageStartEvent, MessageStopEvent, ReasoningContentBlockDelta, ServiceTier, ServiceTierType,
    StopReason, TokenUsage, ToolUseBlockDelta, ToolUseBlockStart,
};
use aws_smithy_types::error::operation::BuildError;
use host_sdk::ErrorKind;
use serde_json::Value;

use crate::errors::{error, from_service_error, CallContext, CallFailure};

/// Turns the events of one response into ConverseStream events.
#[derive(Debug, Default)]
pub struct Translator {
    /// Block indices by output item (`output_index`): its main block, and a reasoning item's
    /// second (redacted) one once it is done.
    blocks: HashMap<u64, u32>,
    next_block: u32,
    /// Summary parts seen per reasoning item, to separate them.
    summary_parts: HashMap<u64, u32>,
    called_a_function: bool,
    /// Of the output tokens, those spent reasoning (from the final usage).
    pub reasoning_tokens: Option<u64>,
    /// The final event arrived.
    pub finished: bool,
}

fn built<T>(r: Result<T, BuildError>) -> Result<T, CallFailure> {
    r.map_err(|e| error(ErrorKind::Internal, format!("building a stream event: {e}")).into())
}

impl Translator {
    /// The ConverseStream events one Responses event stands for (often none).
    pub fn translate(
        &mut self,
        kind: &str,
        data: &Value,
        ctx: &CallContext<'_>,
    ) -> Result<Vec<ConverseStreamOutput>, CallFailure> {
        let output_index = data["output_index"].as_u64().unwrap_or(0);
        let delta = data["delta"].as_str().unwrap_or("");
        Ok(match kind {
            "response.created" => vec![ConverseStreamOutput::MessageStart(built(
                MessageStartEvent::builder()
                    .role(ConversationRole::Assistant)
                    .build(),
            )?)],
            "response.output_item.added" => self.item_added(output_index, &data["item"])?,
            "response.output_text.delta" | "response.refusal.delta" if !delta.is_empty() => {
                let index = self.block(output_index);
                vec![block_delta(index, ContentBlockDelta::Text(delta.into()))?]
            }
            "response.reasoning_summary_part.added" => {
                let parts = self.summary_parts.entry(output_index).or_default();
                *parts += 1;
                if *parts == 1 {
                    Vec::new()
                } else {
                    let index = self.block(output_index);
                    vec![reasoning_text(index, "\n\n")?]
                }
            }
            "response.reasoning_summary_text.delta" if !delta.is_empty() => {
                let index = self.block(output_index);
                vec![reasoning_text(index, delta)?]
            }
            "response.function_call_arguments.delta" if !delta.is_empty() => {
                let index = self.block(output_index);
                let input = built(ToolUseBlockDelta::builder().input(delta).build())?;
                vec![block_delta(index, ContentBlockDelta::ToolUse(input))?]
            }
            "response.output_item.done" => self.item_done(output_index, &data["item"])?,
            "response.completed" | "response.incomplete" => self.finish(&data["response"])?,
            "response.failed" => {
                let e = &data["response"]["error"];
                return Err(failure(e["code"].as_str(), e["message"].as_str(), ctx));
            }
            "error" => {
                return Err(failure(
                    data["code"].as_str(),
                    data["message"].as_str(),
                    ctx,
                ));
            }
            _ => Vec::new(),
        })
    }

    /// The block index of output item `output_index`, given one when first seen.
    fn block(&mut self, output_index: u64) -> u32 {
        if let Some(index) = self.blocks.get(&output_index) {
            return *index;
        }
        let index = self.new_block();
        self.blocks.insert(output_index, index);
        index
    }

    /// The next unused block index.
    fn new_block(&mut self) -> u32 {
        self.next_block += 1;
        self.next_block - 1
    }

    fn item_added(
        &mut self,
        output_index: u64,
        item: &Value,
    ) -> Result<Vec<ConverseStreamOutput>, CallFailure> {
        let index = self.block(output_index);
        if item["type"] != "function_call" {
            return Ok(Vec::new());
        }
        self.called_a_function = true;
        let start = built(
            ToolUseBlockStart::builder()
                .tool_use_id(item["call_id"].as_str().unwrap_or_default())
                .name(item["name"].as_str().unwrap_or_default())
                .build(),
        )?;
        Ok(vec![ConverseStreamOutput::ContentBlockStart(built(
            ContentBlockStartEvent::builder()
                .content_block_index(index as i32)
                .start(ContentBlockStart::ToolUse(start))
                .build(),
        )?)])
    }

    /// An item is complete: its block stops; a reasoning item's encrypted content becomes a
    /// redacted block of its own (the whole item, to be sent back as it came).
    fn item_done(
        &mut self,
        output_index: u64,
        item: &Value,
    ) -> Result<Vec<ConverseStreamOutput>, CallFailure> {
        let index = self.block(output_index);
        let mut events = vec![block_stop(index)?];
        if item["type"] == "reasoning" && item["encrypted_content"].is_string() {
            let redacted = self.new_block();
            let bytes = Blob::new(item.to_string().into_bytes());
            let delta = ContentBlockDelta::ReasoningContent(
                ReasoningContentBlockDelta::RedactedContent(bytes),
            );
            events.push(block_delta(redacted, delta)?);
            events.push(block_stop(redacted)?);
        }
        Ok(events)
    }

    /// The final response: why it stopped, then its usage and how it was served.
    fn finish(&mut self, response: &Value) -> Result<Vec<ConverseStreamOutput>, CallFailure> {
        self.finished = true;
        let stop = match response["incomplete_details"]["reason"].as_str() {
            Some("max_output_tokens") => StopReason::MaxTokens,
            Some("content_filter") => StopReason::ContentFiltered,
            _ if self.called_a_function => StopReason::ToolUse,
            _ => StopReason::EndTurn,
        };
        let mut events = vec![ConverseStreamOutput::MessageStop(built(
            MessageStopEvent::builder().stop_reason(stop).build(),
        )?)];
        let usage = &response["usage"];
        let count = |v: &Value| v.as_u64().unwrap_or(0);
        let cached = count(&usage["input_tokens_details"]["cached_tokens"]);
        let input = count(&usage["input_tokens"]);
        let output = count(&usage["output_tokens"]);
        self.reasoning_tokens = usage["output_tokens_details"]["reasoning_tokens"].as_u64();
        let mut metadata = ConverseStreamMetadataEvent::builder();
        if usage.is_object() {
            let total = usage["total_tokens"].as_u64().unwrap_or(input + output);
            metadata = metadata.usage(built(
                TokenUsage::builder()
                    .input_tokens(tokens(input.saturating_sub(cached)))
                    .output_tokens(tokens(output))
                    .total_tokens(tokens(total))
                    .cache_read_input_tokens(tokens(cached))
                    .build(),
            )?);
        }
        if let Some(tier) = response["service_tier"].as_str() {
            metadata = metadata.service_tier(built(
                ServiceTier::builder()
                    .r#type(ServiceTierType::from(tier))
                    .build(),
            )?);
        }
        events.push(ConverseStreamOutput::Metadata(metadata.build()));
        Ok(events)
    }
}

fn tokens(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn block_delta(index: u32, delta: ContentBlockDelta) -> Result<ConverseStreamOutput, CallFailure> {
    Ok(ConverseStreamOutput::ContentBlockDelta(built(
        ContentBlockDeltaEvent::builder()
            .content_block_index(index as i32)
            .delta(delta)
            .build(),
    )?))
}

fn reasoning_text(index: u32, text: &str) -> Result<ConverseStreamOutput, CallFailure> {
    block_delta(
        index,
        ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(text.into())),
    )
}

fn block_stop(index: u32) -> Result<ConverseStreamOutput, CallFailure> {
    Ok(ConverseStreamOutput::ContentBlockStop(built(
        ContentBlockStopEvent::builder()
            .content_block_index(index as i32)
            .build(),
    )?))
}

/// A failure the service reported in the stream, typed as the same failure from Converse.
fn failure(code: Option<&str>, message: Option<&str>, ctx: &CallContext<'_>) -> CallFailure {
    let message = message.unwrap_or("the response failed");
    let code = match code.unwrap_or("") {
        "rate_limit_exceeded" => "ThrottlingException",
        "invalid_prompt" | "invalid_request_error" => "ValidationException",
        "context_length_exceeded" => "ValidationException",
        "server_is_overloaded" | "slow_down" => "ServiceUnavailableException",
        _ => "ModelStreamErrorException",
    };
    CallFailure {
        error: from_service_error(code, message, ctx),
        service_message: Some(message.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> CallContext<'static> {
        CallContext {
            operation: "CreateResponse",
            model_id: Some("openai.gpt-5.5"),
            credential_source: "test",
            region: "us-east-1",
        }
    }

    #[test]
    fn reasoning_text_and_a_call_get_blocks_of_their_own() {
        let mut t = Translator::default();
        let mut all = Vec::new();
        for (kind, data) in [
            ("response.created", json!({})),
            (
                "response.output_item.added",
                json!({"output_index": 0, "item": {"type": "reasoning"}}),
            ),
            (
                "response.reasoning_summary_part.added",
                json!({"output_index": 0}),
            ),
            (
                "response.reasoning_summary_text.delta",
                json!({"output_index": 0, "delta": "hmm"}),
            ),
            (
                "response.output_item.done",
                json!({"output_index": 0, "item": {"type": "reasoning", "id": "rs_1", "encrypted_content": "x"}}),
            ),
            (
                "response.output_item.added",
                json!({"output_index": 1, "item": {"type": "function_call", "call_id": "call_1", "name": "add"}}),
            ),
            (
                "response.function_call_arguments.delta",
                json!({"output_index": 1, "delta": "{}"}),
            ),
            (
                "response.output_item.done",
                json!({"output_index": 1, "item": {"type": "function_call"}}),
            ),
            (
                "response.completed",
                json!({"response": {"usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 5}, "total_tokens": 17}}}),
            ),
        ] {
            all.extend(t.translate(kind, &data, &ctx()).unwrap());
        }
        let index_of = |e: &ConverseStreamOutput| match e {
            ConverseStreamOutput::ContentBlockDelta(d) => Some(d.content_block_index()),
            _ => None,
        };
        let indices: Vec<i32> = all.iter().filter_map(index_of).collect();
        assert_eq!(
            indices,
            vec![0, 1, 2],
            "summary, encrypted item, call arguments"
        );
        let ConverseStreamOutput::MessageStop(stop) = &all[all.len() - 2] else {
            panic!("{all:?}")
        };
        assert_eq!(stop.stop_reason(), &StopReason::ToolUse);
        let ConverseStreamOutput::Metadata(meta) = all.last().unwrap() else {
            panic!()
        };
        let usage = meta.usage().unwrap();
        assert_eq!(
            (usage.input_tokens(), usage.cache_read_input_tokens()),
            (6, Some(4))
        );
        assert_eq!(t.reasoning_tokens, Some(5));
        assert!(t.finished);
    }

    #[test]
    fn a_failed_response_is_typed_as_the_same_failure_on_converse() {
        let mut t = Translator::default();
        let failed =
            json!({"response": {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}});
        let e = t.translate("response.failed", &failed, &ctx()).unwrap_err();
        assert_eq!(e.error.code.as_str(), ErrorKind::Throttled.code());
        assert!(e.error.retryable);
    }
}
