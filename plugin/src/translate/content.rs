//! Messages and their content blocks: roles merged so they alternate, empty blocks dropped,
//! images and documents checked from their bytes, tool blocks replayed as the service wants.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    self as bt, CitationGeneratedContent, CitationsConfig, CitationsContentBlock, ConversationRole,
    GuardrailConverseContentBlock, GuardrailConverseContentQualifier, GuardrailConverseTextBlock,
    ReasoningContentBlock, ReasoningTextBlock, SearchResultBlock, SearchResultContentBlock,
    ToolResultBlock, ToolResultContentBlock, ToolResultStatus, ToolUseBlock, ToolUseType,
};
use host_sdk::{ContentBlock, Message, ProviderError, Role, ToolResultContent};
use serde_json::Value;

use super::media::{document_block, image_block, video_block};
use super::{normalise_tool_id, to_document};
use crate::errors::invalid_request;

pub(super) fn translate_messages(
    input: &[Message],
    tools_as_text: bool,
) -> Result<Vec<bt::Message>, ProviderError> {
    // (role, blocks) with consecutive same-role messages merged: Bedrock requires alternation,
    // and consecutive tool results must share one user message.
    let mut turns: Vec<(ConversationRole, Vec<bt::ContentBlock>)> = Vec::new();
    for (i, message) in input.iter().enumerate() {
        let role = match message.role {
            Role::User => ConversationRole::User,
            Role::Assistant => ConversationRole::Assistant,
        };
        let mut blocks = Vec::new();
        for (j, block) in message.content.iter().enumerate() {
            let at = format!("messages[{i}].content[{j}]");
            translate_block(block, &at, tools_as_text, &mut blocks)?;
        }
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last_role, last)) if *last_role == role => last.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    turns
        .into_iter()
        .map(|(role, mut content)| {
            if role == ConversationRole::User {
                // The service wants a turn's tool results before anything else in it.
                content.sort_by_key(|b| !b.is_tool_result());
            }
            bt::Message::builder()
                .role(role)
                .set_content(Some(content))
                .build()
                .map_err(|e| invalid_request(format!("message could not be built: {e}")))
        })
        .collect()
}

pub(super) fn translate_block(
    block: &ContentBlock,
    at: &str,
    tools_as_text: bool,
    out: &mut Vec<bt::ContentBlock>,
) -> Result<(), ProviderError> {
    match block {
        ContentBlock::Text { text } => {
            if !text.trim().is_empty() {
                out.push(bt::ContentBlock::Text(text.clone()));
            }
        }
        ContentBlock::Image { format, data, s3 } => out.push(bt::ContentBlock::Image(image_block(
            format.as_deref(),
            data,
            s3.as_ref(),
            at,
        )?)),
        ContentBlock::Video { format, data, s3 } => out.push(bt::ContentBlock::Video(video_block(
            format,
            data,
            s3.as_ref(),
            at,
        )?)),
        ContentBlock::Document {
            format,
            name,
            data,
            citations,
            s3,
        } => {
            let mut document = document_block(format, name, data, s3.as_ref(), at)?;
            if *citations {
                document.citations = Some(citations_on());
            }
            out.push(bt::ContentBlock::Document(document))
        }
        ContentBlock::SearchResult {
            source,
            title,
            content,
            citations,
        } => out.push(bt::ContentBlock::SearchResult(search_result(
            source, title, content, *citations, at,
        )?)),
        ContentBlock::CitedText { text, .. } if text.trim().is_empty() => {}
        ContentBlock::CitedText { text, citations } => {
            let citations = citations
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    crate::citations::from_json(c)
                        .map_err(|e| invalid_request(format!("{at}.citations[{k}]: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push(bt::ContentBlock::CitationsContent(
                CitationsContentBlock::builder()
                    .content(CitationGeneratedContent::Text(text.clone()))
                    .set_citations(Some(citations))
                    .build(),
            ))
        }
        ContentBlock::ToolUse { id, name, input } if tools_as_text => out.push(
            bt::ContentBlock::Text(format!("[called tool {name} with {input}]")),
        ),
        ContentBlock::ToolUse { id, name, input } => {
            if name.trim().is_empty() {
                return Err(invalid_request(format!(
                    "{at}: a tool use needs a tool name"
                )));
            }
            let input = if input.is_null() {
                Value::Object(Default::default())
            } else {
                input.clone()
            };
            out.push(bt::ContentBlock::ToolUse(
                ToolUseBlock::builder()
                    .tool_use_id(normalise_tool_id(id))
                    .name(name)
                    .input(to_document(&input))
                    .build()
                    .map_err(|e| invalid_request(format!("{at}: {e}")))?,
            ))
        }
        ContentBlock::ToolResult {
            content, is_error, ..
        } if tools_as_text => {
            let text: Vec<String> = content.iter().map(result_text).collect();
            let label = if *is_error {
                "tool error"
            } else {
                "tool result"
            };
            out.push(bt::ContentBlock::Text(format!(
                "[{label}: {}]",
                text.join("\n")
            )));
        }
        ContentBlock::ToolResult {
            tool_use_id,
            content,
            is_error,
        } => {
            let mut blocks = result_blocks(content, at)?;
            if blocks.is_empty() {
                // The service rejects an empty result; say so explicitly instead.
                blocks.push(ToolResultContentBlock::Text(
                    if *is_error { "error" } else { "(no output)" }.into(),
                ));
            }
            out.push(bt::ContentBlock::ToolResult(
                ToolResultBlock::builder()
                    .tool_use_id(normalise_tool_id(tool_use_id))
                    .set_content(Some(blocks))
                    .status(if *is_error {
                        ToolResultStatus::Error
                    } else {
                        ToolResultStatus::Success
                    })
                    .build()
                    .map_err(|e| invalid_request(format!("{at}: {e}")))?,
            ))
        }
        ContentBlock::Reasoning {
            text,
            signature: Some(signature),
        } => out.push(bt::ContentBlock::ReasoningContent(
            ReasoningContentBlock::ReasoningText(
                ReasoningTextBlock::builder()
                    .text(text)
                    .signature(signature)
                    .build()
                    .map_err(|e| invalid_request(format!("{at}: {e}")))?,
            ),
        )),
        // Unsigned reasoning cannot be verified by the service, so it is not replayed.
        ContentBlock::Reasoning {
            signature: None, ..
        } => {}
        ContentBlock::RedactedReasoning { data } => out.push(bt::ContentBlock::ReasoningContent(
            ReasoningContentBlock::RedactedContent(Blob::new(data.clone())),
        )),
        ContentBlock::ServerToolUse { name, input, .. } if tools_as_text => out.push(
            bt::ContentBlock::Text(format!("[the service ran {name} with {input}]")),
        ),
        ContentBlock::ServerToolUse { id, name, input } => out.push(bt::ContentBlock::ToolUse(
            ToolUseBlock::builder()
                .tool_use_id(id)
                .name(name)
                .input(to_document(input))
                .r#type(ToolUseType::ServerToolUse)
                .build()
                .map_err(|e| invalid_request(format!("{at}: {e}")))?,
        )),
        ContentBlock::ServerToolResult { content, .. } if tools_as_text => {
            let parts: Vec<String> = content.iter().map(result_text).collect();
            out.push(bt::ContentBlock::Text(format!(
                "[server tool result: {}]",
                parts.join("\n")
            )))
        }
        ContentBlock::ServerToolResult {
            tool_use_id,
            kind,
            is_error,
            content,
        } => {
            let mut b = ToolResultBlock::builder()
                .tool_use_id(tool_use_id)
                .set_content(Some(result_blocks(content, at)?))
                .status(if *is_error {
                    ToolResultStatus::Error
                } else {
                    ToolResultStatus::Success
                });
            if !kind.is_empty() {
                b = b.r#type(kind);
            }
            out.push(bt::ContentBlock::ToolResult(
                b.build()
                    .map_err(|e| invalid_request(format!("{at}: {e}")))?,
            ))
        }
        ContentBlock::GuardedText { text, qualifiers } => out.push(bt::ContentBlock::GuardContent(
            guard_content(text, qualifiers, at)?,
        )),
        other => return Err(unsupported_block(other, at)),
    }
    Ok(())
}

/// Citations turned on, for a document or a search result.
fn citations_on() -> CitationsConfig {
    CitationsConfig::builder()
        .enabled(true)
        .build()
        .expect("enabled is set")
}

/// A search result for the model to answer from (and cite).
pub(super) fn search_result(
    source: &str,
    title: &str,
    content: &[String],
    citations: bool,
    at: &str,
) -> Result<SearchResultBlock, ProviderError> {
    if content.iter().all(|c| c.trim().is_empty()) {
        return Err(invalid_request(format!(
            "{at}: a search result needs some text in `content`"
        )));
    }
    let mut b = SearchResultBlock::builder().source(source).title(title);
    for passage in content.iter().filter(|c| !c.trim().is_empty()) {
        b = b.content(
            SearchResultContentBlock::builder()
                .text(passage)
                .build()
                .map_err(|e| invalid_request(format!("{at}: {e}")))?,
        );
    }
    if citations {
        b = b.citations(citations_on());
    }
    b.build().map_err(|e| invalid_request(format!("{at}: {e}")))
}

/// A tool result part as text, for a history replayed without tools.
fn result_text(part: &ToolResultContent) -> String {
    match part {
        ToolResultContent::Text { text } => text.clone(),
        ToolResultContent::Json { value } => value.to_string(),
        ToolResultContent::Image { .. } => "[image]".into(),
        other => format!(
            "[{}]",
            serde_json::to_value(other).unwrap_or_default()["type"]
        ),
    }
}

/// A tool result's parts as Bedrock's (blank text parts dropped).
fn result_blocks(
    content: &[ToolResultContent],
    at: &str,
) -> Result<Vec<ToolResultContentBlock>, ProviderError> {
    let mut blocks = Vec::new();
    for (k, part) in content.iter().enumerate() {
        let at = format!("{at}.content[{k}]");
        match part {
            ToolResultContent::Text { text } if !text.trim().is_empty() => {
                blocks.push(ToolResultContentBlock::Text(text.clone()))
            }
            ToolResultContent::Text { .. } => {}
            ToolResultContent::Json { value } => {
                blocks.push(ToolResultContentBlock::Json(to_document(value)))
            }
            ToolResultContent::Image { format, data } => blocks.push(
                ToolResultContentBlock::Image(image_block(format.as_deref(), data, None, &at)?),
            ),
            ToolResultContent::Document {
                format,
                name,
                data,
                s3,
            } => blocks.push(ToolResultContentBlock::Document(document_block(
                format,
                name,
                data,
                s3.as_ref(),
                &at,
            )?)),
            ToolResultContent::Video { format, data, s3 } => blocks.push(
                ToolResultContentBlock::Video(video_block(format, data, s3.as_ref(), &at)?),
            ),
            ToolResultContent::SearchResult {
                source,
                title,
                content,
                citations,
            } => blocks.push(ToolResultContentBlock::SearchResult(search_result(
                source, title, content, *citations, &at,
            )?)),
            other => {
                let kind = serde_json::to_value(other).unwrap_or_default()["type"].clone();
                return Err(invalid_request(format!(
                    "{at}: tool result parts of type {kind} are not supported by this plugin (contract {}): remove the part or upgrade the plugin",
                    host_sdk::CONTRACT_VERSION
                )));
            }
        }
    }
    Ok(blocks)
}

/// The qualifiers Bedrock's `guardContent` text takes.
const QUALIFIERS: [&str; 3] = ["grounding_source", "query", "guard_content"];

/// Text a guardrail assesses (Bedrock's `guardContent`).
pub(super) fn guard_content(
    text: &str,
    qualifiers: &[String],
    at: &str,
) -> Result<GuardrailConverseContentBlock, ProviderError> {
    if text.trim().is_empty() {
        return Err(invalid_request(format!(
            "{at}: guarded text is empty; Bedrock refuses a blank guardContent"
        )));
    }
    let mut b = GuardrailConverseTextBlock::builder().text(text);
    for q in qualifiers {
        if !QUALIFIERS.contains(&q.as_str()) {
            return Err(invalid_request(format!(
                "{at}: qualifier {q:?} is not one of {}",
                QUALIFIERS.join(", ")
            )));
        }
        b = b.qualifiers(GuardrailConverseContentQualifier::from(q.as_str()));
    }
    b.build()
        .map(GuardrailConverseContentBlock::Text)
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}

/// A block this plugin cannot send: a type from a newer contract, or one the service has no
/// place for here.
pub(super) fn unsupported_block(block: &ContentBlock, at: &str) -> ProviderError {
    invalid_request(format!(
        "{at}: content blocks of type `{}` are not supported by this plugin (amazon-bedrock {}, contract {}): remove the block or upgrade the plugin",
        block.type_name(),
        env!("CARGO_PKG_VERSION"),
        host_sdk::CONTRACT_VERSION
    ))
}
