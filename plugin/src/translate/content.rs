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

use super::media::{document_block, image_block, video_block, DocumentBody};
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
            Role::System => ConversationRole::System,
        };
        let mut blocks = Vec::new();
        for (j, block) in message.content.iter().enumerate() {
            let at = format!("messages[{i}].content[{j}]");
            let changes_tools = matches!(
                block,
                ContentBlock::ToolAddition { .. } | ContentBlock::ToolRemoval { .. }
            );
            // A system message changes the tools on offer, and only that.
            if changes_tools != (message.role == Role::System) {
                return Err(invalid_request(if changes_tools {
                    format!(
                        "{at}: `{}` blocks go in a message of role `system`",
                        block.type_name()
                    )
                } else {
                    format!("{at}: a `system` message holds only `toolAddition` and `toolRemoval` blocks; instructions go in the request's `system`")
                }));
            }
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

/// Appends the Converse block for `block` (`at` names it in errors) to `out`; for a model
/// that takes no tools (`tools_as_text`), tool calls and results are told as text.
pub(super) fn translate_block(
    block: &ContentBlock,
    at: &str,
    tools_as_text: bool,
    out: &mut Vec<bt::ContentBlock>,
) -> Result<(), ProviderError> {
    let described = tools_as_text.then(|| tool_as_text(block)).flatten();
    let translated = match described {
        Some(text) => Some(bt::ContentBlock::Text(text)),
        None => converse_block(block, at)?,
    };
    out.extend(translated);
    Ok(())
}

/// A tool call or result told as text, for a model that takes no tools (see
/// [`translate_block`]); none for other blocks.
fn tool_as_text(block: &ContentBlock) -> Option<String> {
    let results = |content: &[host_sdk::ToolResultContent]| {
        content
            .iter()
            .map(result_text)
            .collect::<Vec<_>>()
            .join("\n")
    };
    Some(match block {
        ContentBlock::ToolUse { name, input, .. } => format!("[called tool {name} with {input}]"),
        ContentBlock::ToolResult {
            content, is_error, ..
        } => {
            let label = if *is_error {
                "tool error"
            } else {
                "tool result"
            };
            format!("[{label}: {}]", results(content))
        }
        ContentBlock::ServerToolUse { name, input, .. } => {
            format!("[the service ran {name} with {input}]")
        }
        ContentBlock::ServerToolResult { content, .. } => {
            format!("[server tool result: {}]", results(content))
        }
        _ => return None,
    })
}

/// The Converse block for `block`; none for what is not sent (blank text, reasoning without a
/// signature).
fn converse_block(
    block: &ContentBlock,
    at: &str,
) -> Result<Option<bt::ContentBlock>, ProviderError> {
    let at_error = build_error(at);
    Ok(Some(match block {
        ContentBlock::Text { text } if text.trim().is_empty() => return Ok(None),
        ContentBlock::Text { text } => bt::ContentBlock::Text(text.clone()),
        ContentBlock::Image { format, data, s3 } => {
            bt::ContentBlock::Image(image_block(format.as_deref(), data, s3.as_ref(), at)?)
        }
        ContentBlock::Video { format, data, s3 } => {
            bt::ContentBlock::Video(video_block(format, data, s3.as_ref(), at)?)
        }
        ContentBlock::Audio { format, data, s3 } => bt::ContentBlock::Audio(
            super::audio::audio_block(format.as_deref(), data, s3.as_ref(), at)?,
        ),
        ContentBlock::Document { .. } => document(block, at)?,
        ContentBlock::SearchResult {
            source,
            title,
            content,
            citations,
        } => bt::ContentBlock::SearchResult(search_result(source, title, content, *citations, at)?),
        ContentBlock::CitedText { text, .. } if text.trim().is_empty() => return Ok(None),
        ContentBlock::CitedText { text, citations } => cited_text(text, citations, at)?,
        ContentBlock::ToolUse { id, name, input } => tool_use(id, name, input, at)?,
        ContentBlock::ToolResult {
            tool_use_id,
            content,
            is_error,
        } => tool_result(tool_use_id, content, *is_error, at)?,
        ContentBlock::Reasoning {
            text,
            signature: Some(signature),
        } => bt::ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
            ReasoningTextBlock::builder()
                .text(text)
                .signature(signature)
                .build()
                .map_err(at_error)?,
        )),
        // Unsigned reasoning cannot be verified by the service, so it is not replayed.
        ContentBlock::Reasoning {
            signature: None, ..
        } => return Ok(None),
        ContentBlock::RedactedReasoning { data } => bt::ContentBlock::ReasoningContent(
            ReasoningContentBlock::RedactedContent(Blob::new(data.clone())),
        ),
        ContentBlock::ServerToolUse { id, name, input } => server_tool_use(id, name, input, at)?,
        ContentBlock::ServerToolResult {
            tool_use_id,
            kind,
            is_error,
            content,
        } => server_tool_result(tool_use_id, kind, *is_error, content, at)?,
        ContentBlock::GuardedText { text, qualifiers } => {
            bt::ContentBlock::GuardContent(guard_content(text, qualifiers, at)?)
        }
        ContentBlock::GuardedImage { data, .. } => {
            bt::ContentBlock::GuardContent(guarded_image(data, at)?)
        }
        ContentBlock::ToolAddition { tool } => bt::ContentBlock::ToolAddition(
            bt::ToolAdditionBlock::builder()
                .tool(tool_reference(tool))
                .build(),
        ),
        ContentBlock::ToolRemoval { tool } => bt::ContentBlock::ToolRemoval(
            bt::ToolRemovalBlock::builder()
                .tool(tool_reference(tool))
                .build(),
        ),
        other => return Err(unsupported_block(other, at)),
    }))
}

/// A document block: its words one way (bytes, S3, text or chunks), citations, context.
fn document(block: &ContentBlock, at: &str) -> Result<bt::ContentBlock, ProviderError> {
    let ContentBlock::Document {
        format,
        name,
        data,
        citations,
        s3,
        text,
        content,
        context,
    } = block
    else {
        return Err(unsupported_block(block, at));
    };
    let source = DocumentBody {
        data,
        s3: s3.as_ref(),
        text: text.as_deref(),
        content,
    };
    let mut document = document_block(format, name, source, at)?;
    if *citations {
        document.citations = Some(citations_on());
    }
    document.context = context.clone();
    Ok(bt::ContentBlock::Document(document))
}

fn build_error(
    at: &str,
) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> ProviderError + '_ {
    move |e| invalid_request(format!("{at}: {e}"))
}

/// A call the model made, replayed: its id as Bedrock takes it, no input as `{}`.
fn tool_use(
    id: &str,
    name: &str,
    input: &Value,
    at: &str,
) -> Result<bt::ContentBlock, ProviderError> {
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
    Ok(bt::ContentBlock::ToolUse(
        ToolUseBlock::builder()
            .tool_use_id(normalise_tool_id(id))
            .name(name)
            .input(to_document(&input))
            .build()
            .map_err(build_error(at))?,
    ))
}

fn tool_result(
    tool_use_id: &str,
    content: &[ToolResultContent],
    is_error: bool,
    at: &str,
) -> Result<bt::ContentBlock, ProviderError> {
    let mut blocks = result_blocks(content, at)?;
    if blocks.is_empty() {
        // The service rejects an empty result; say so explicitly instead.
        blocks.push(ToolResultContentBlock::Text(
            if is_error { "error" } else { "(no output)" }.into(),
        ));
    }
    Ok(bt::ContentBlock::ToolResult(
        ToolResultBlock::builder()
            .tool_use_id(normalise_tool_id(tool_use_id))
            .set_content(Some(blocks))
            .status(result_status(is_error))
            .build()
            .map_err(build_error(at))?,
    ))
}

/// A tool the service ran itself, replayed as it was: its id unchanged.
fn server_tool_use(
    id: &str,
    name: &str,
    input: &Value,
    at: &str,
) -> Result<bt::ContentBlock, ProviderError> {
    Ok(bt::ContentBlock::ToolUse(
        ToolUseBlock::builder()
            .tool_use_id(id)
            .name(name)
            .input(to_document(input))
            .r#type(ToolUseType::ServerToolUse)
            .build()
            .map_err(build_error(at))?,
    ))
}

fn server_tool_result(
    tool_use_id: &str,
    kind: &str,
    is_error: bool,
    content: &[ToolResultContent],
    at: &str,
) -> Result<bt::ContentBlock, ProviderError> {
    let mut result = ToolResultBlock::builder()
        .tool_use_id(tool_use_id)
        .set_content(Some(result_blocks(content, at)?))
        .status(result_status(is_error));
    if !kind.is_empty() {
        result = result.r#type(kind);
    }
    Ok(bt::ContentBlock::ToolResult(
        result.build().map_err(build_error(at))?,
    ))
}

fn result_status(is_error: bool) -> ToolResultStatus {
    if is_error {
        ToolResultStatus::Error
    } else {
        ToolResultStatus::Success
    }
}

/// Answer text backed by citations, replayed as the service gave it.
fn cited_text(
    text: &str,
    citations: &[Value],
    at: &str,
) -> Result<bt::ContentBlock, ProviderError> {
    let citations = citations
        .iter()
        .enumerate()
        .map(|(k, c)| {
            crate::citations::from_json(c)
                .map_err(|e| invalid_request(format!("{at}.citations[{k}]: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(bt::ContentBlock::CitationsContent(
        CitationsContentBlock::builder()
            .content(CitationGeneratedContent::Text(text.to_string()))
            .set_citations(Some(citations))
            .build(),
    ))
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
                DocumentBody {
                    data,
                    s3: s3.as_ref(),
                    text: None,
                    content: &[],
                },
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

/// A tool named by reference, as Bedrock's `ToolReference`.
fn tool_reference(tool: &host_sdk::ToolReference) -> bt::ToolReference {
    bt::ToolReference::builder()
        .name(&tool.name)
        .set_type(tool.kind.clone())
        .set_server_name(tool.server_name.clone())
        .build()
}

/// An image a guardrail assesses (Bedrock's `guardContent.image`): png or jpeg, as its bytes
/// say, within the image limit.
fn guarded_image(data: &[u8], at: &str) -> Result<GuardrailConverseContentBlock, ProviderError> {
    use aws_sdk_bedrockruntime::types::{
        GuardrailConverseImageBlock, GuardrailConverseImageFormat, GuardrailConverseImageSource,
        ImageFormat,
    };
    if data.len() > super::media::MAX_IMAGE_BYTES {
        return Err(invalid_request(format!(
            "{at}: the guarded image is {} bytes; Bedrock takes at most {}",
            data.len(),
            super::media::MAX_IMAGE_BYTES
        )));
    }
    let format = match super::media::sniff_image(data) {
        Some(ImageFormat::Png) => GuardrailConverseImageFormat::Png,
        Some(ImageFormat::Jpeg) => GuardrailConverseImageFormat::Jpeg,
        _ => {
            return Err(invalid_request(format!(
                "{at}: a guardrail assesses png and jpeg images; these bytes are neither"
            )))
        }
    };
    GuardrailConverseImageBlock::builder()
        .format(format)
        .source(GuardrailConverseImageSource::Bytes(Blob::new(
            data.to_vec(),
        )))
        .build()
        .map(GuardrailConverseContentBlock::Image)
        .map_err(|e| invalid_request(format!("{at}: {e}")))
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
