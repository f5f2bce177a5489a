//! A Messages request turned into the contract's request: every block, tool and option has
//! its counterpart, or the request is refused naming what cannot be honoured.

use base64::Engine as _;
use host_sdk::{
    CacheConfig, CacheRetention, ContentBlock, ConverseRequest, InferenceConfig, Message,
    OutputFormat, ReasoningConfig, Role, Tool, ToolChoice as Choice, ToolResultContent,
};
use serde_json::{json, Map, Value};

use super::betas::Betas;
use super::wire::{Block, CacheControl, CustomTool, MessagesRequest, Source, Thinking, ToolChoice};
use crate::dialects::{
    distinct_image_urls, image_format, image_from_url, push, ImageBytes, MAX_MESSAGES,
};
use crate::errors::ApiError;
use crate::image_urls::Fetched;
use crate::model_call::Target;

/// Whether the request is a model call (`max_tokens` required) or a token count.
#[derive(Clone, Copy, PartialEq)]
pub enum Purpose {
    Answer,
    CountTokens,
}

pub fn to_converse(
    req: &MessagesRequest,
    target: Target,
    fetched: &Fetched,
    betas: &Betas,
    purpose: Purpose,
) -> Result<ConverseRequest, ApiError> {
    refuse_other_shapes(req, purpose)?;
    let anthropic = target.vendor.eq_ignore_ascii_case("anthropic");
    let mut cache = Cache::default();
    cache.note(req.cache_control.as_ref());
    let mut request = ConverseRequest {
        model: target.id,
        system: system(req.system.as_ref(), &mut cache)?,
        messages: messages(req, fetched, &mut cache)?,
        tools: tools(req, &mut cache)?,
        tool_choice: tool_choice(req.tool_choice.as_ref())?,
        ..ConverseRequest::default()
    };
    let mut extra = Map::new();
    request.reasoning = reasoning(req, betas, &mut extra)?;
    request.output_format = output_format(req)?;
    request.inference = InferenceConfig {
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: req.stop_sequences.clone(),
    };
    if let Some(top_k) = req.top_k {
        extra.insert("top_k".into(), json!(top_k));
    }
    if anthropic && !betas.for_claude.is_empty() {
        extra.insert("anthropic_beta".into(), json!(betas.for_claude));
    }
    request.extra = (!extra.is_empty()).then_some(Value::Object(extra));
    cache.check()?;
    request.cache = Some(CacheConfig {
        retention: cache.retention(),
    });
    if let Some(user) = req.metadata.as_ref().and_then(|m| m.user_id.as_ref()) {
        request.metadata.push(("user".into(), opaque_user(user)));
    }
    request.service_tier = service_tier(req.service_tier.as_deref())?;
    Ok(request)
}

/// What Anthropic's API requires, and what only Anthropic's own platform runs.
fn refuse_other_shapes(req: &MessagesRequest, purpose: Purpose) -> Result<(), ApiError> {
    if purpose == Purpose::Answer && req.max_tokens.is_none() {
        return Err(ApiError::bad_request("max_tokens: Field required"));
    }
    if req.messages.is_empty() {
        return Err(ApiError::bad_request(
            "messages: at least one message is required",
        ));
    }
    if req.messages.len() > MAX_MESSAGES {
        return Err(ApiError::bad_request(format!(
            "messages has {} entries; this gateway takes at most {MAX_MESSAGES}",
            req.messages.len()
        )));
    }
    if req.container.is_some() {
        return Err(ApiError::bad_request(
            "container: code execution containers run on Anthropic's own platform only; remove it",
        ));
    }
    if req.mcp_servers.is_some() {
        return Err(ApiError::bad_request(
            "mcp_servers: remote MCP servers are called by Anthropic's own platform only; call them from your client as tools",
        ));
    }
    Ok(())
}

/// The turns, each block's cache mark noted in order.
fn messages(
    req: &MessagesRequest,
    fetched: &Fetched,
    cache: &mut Cache,
) -> Result<Vec<Message>, ApiError> {
    let mut messages = Vec::new();
    for (i, message) in req.messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let role = match message.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return Err(ApiError::bad_request(format!(
                    "{at}.role: Input should be 'user' or 'assistant', not {other:?}"
                )))
            }
        };
        let blocks = blocks(&message.content, &at)?
            .into_iter()
            .enumerate()
            .map(|(j, block)| {
                cache.note(block.cache_control());
                to_block(block, &format!("{at}.content[{j}]"), fetched)
            })
            .collect::<Result<Vec<_>, _>>()?;
        push(&mut messages, role, blocks);
    }
    Ok(messages)
}

fn tools(req: &MessagesRequest, cache: &mut Cache) -> Result<Vec<Tool>, ApiError> {
    let mut tools = Vec::with_capacity(req.tools.len());
    for (i, tool) in req.tools.iter().enumerate() {
        let tool = custom_tool(tool, i)?;
        cache.note(tool.cache_control.as_ref());
        tools.push(Tool {
            strict: tool.strict.unwrap_or(false),
            ..Tool::new(
                &tool.name,
                tool.description.as_deref().unwrap_or(""),
                tool.input_schema,
            )
        });
    }
    Ok(tools)
}

fn tool_choice(choice: Option<&ToolChoice>) -> Result<Option<Choice>, ApiError> {
    Ok(match choice {
        None => None,
        Some(
            ToolChoice::Auto {
                disable_parallel_tool_use: true,
            }
            | ToolChoice::Any {
                disable_parallel_tool_use: true,
            }
            | ToolChoice::Tool {
                disable_parallel_tool_use: true,
                ..
            },
        ) => {
            return Err(ApiError::bad_request(
                "tool_choice.disable_parallel_tool_use: Bedrock cannot be told to call one tool at a time; remove it and run the calls in order",
            ))
        }
        Some(ToolChoice::Auto { .. }) => Some(Choice::Auto),
        Some(ToolChoice::Any { .. }) => Some(Choice::Any),
        Some(ToolChoice::None) => Some(Choice::None),
        Some(ToolChoice::Tool { name, .. }) => Some(Choice::Tool { name: name.clone() }),
    })
}

fn service_tier(tier: Option<&str>) -> Result<Option<String>, ApiError> {
    match tier {
        None | Some("auto") => Ok(None),
        Some("standard_only") => Ok(Some("default".into())),
        Some(other) => Err(ApiError::bad_request(format!(
            "service_tier: Input should be 'auto' or 'standard_only', not {other:?}"
        ))),
    }
}

/// Anthropic's `user_id` is an opaque id for abuse detection, in any form (Claude Code sends
/// a JSON document); the provider gets a digest of it: as opaque, the same for the same
/// user, and in the letters any provider's request metadata takes.
fn opaque_user(user_id: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(user_id.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The prompt caching a request asks for: Anthropic's `cache_control` marks, wherever they
/// are, become the provider's cache points (after the system prompt, the tools and the last
/// user message) with the longest ttl asked; a request without any is not cached, as on
/// Anthropic's API.
#[derive(Default)]
struct Cache {
    asked: bool,
    one_hour: bool,
    unknown: bool,
}

impl Cache {
    fn note(&mut self, control: Option<&CacheControl>) {
        if let Some(control) = control {
            self.asked = true;
            self.one_hour |= control.ttl.as_deref() == Some("1h");
            self.unknown |= control.kind != "ephemeral"
                || !matches!(control.ttl.as_deref(), None | Some("5m" | "1h"));
        }
    }

    /// A `cache_control` of a kind or ttl Anthropic's API does not know either.
    fn check(&self) -> Result<(), ApiError> {
        if self.unknown {
            return Err(ApiError::bad_request(
                "cache_control: the type is ephemeral, with a ttl of 5m or 1h",
            ));
        }
        Ok(())
    }

    fn retention(&self) -> CacheRetention {
        match (self.asked, self.one_hour) {
            (false, _) => CacheRetention::None,
            (true, false) => CacheRetention::Short,
            (true, true) => CacheRetention::Long,
        }
    }
}

/// `system`: a string, or text blocks.
fn system(system: Option<&Value>, cache: &mut Cache) -> Result<Vec<String>, ApiError> {
    match system {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![text.clone()]),
        Some(Value::Array(_)) => blocks(system.unwrap_or(&Value::Null), "system")?
            .into_iter()
            .enumerate()
            .map(|(i, block)| {
                cache.note(block.cache_control());
                match block {
                    Block::Text { text, .. } => Ok(text),
                    _ => Err(ApiError::bad_request(format!(
                        "system[{i}]: system blocks are text blocks"
                    ))),
                }
            })
            .collect(),
        Some(other) => Err(ApiError::bad_request(format!(
            "system must be a string or a list of text blocks, not {other}"
        ))),
    }
}

/// A message's content as typed blocks (a string is one text block).
fn blocks(content: &Value, at: &str) -> Result<Vec<Block>, ApiError> {
    match content {
        Value::String(text) => Ok(vec![Block::Text {
            text: text.clone(),
            cache_control: None,
        }]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(j, item)| {
                serde_json::from_value(item.clone())
                    .map_err(|e| ApiError::bad_request(format!("{at}[{j}]: {e}")))
            })
            .collect(),
        other => Err(ApiError::bad_request(format!(
            "{at}.content must be a string or a list of content blocks, not {other}"
        ))),
    }
}

fn to_block(block: Block, at: &str, fetched: &Fetched) -> Result<ContentBlock, ApiError> {
    Ok(match block {
        Block::Text { text, .. } => ContentBlock::Text { text },
        Block::Image { source, .. } => image(source, at, fetched)?.into(),
        Block::Document {
            source,
            title,
            context,
            citations,
            ..
        } => {
            let body = document(source, at)?;
            ContentBlock::Document {
                format: body.format.into(),
                // Bedrock names every document; Anthropic's title is optional.
                name: title.unwrap_or_else(|| "document".into()),
                data: body.data,
                s3: None,
                citations: citations.unwrap_or_default().enabled,
                text: body.text,
                content: body.content,
                context,
            }
        }
        Block::SearchResult {
            source,
            title,
            content,
            citations,
            ..
        } => ContentBlock::SearchResult {
            source,
            title,
            content: content.into_iter().map(|p| p.text).collect(),
            citations: citations.unwrap_or_default().enabled,
        },
        Block::ToolUse { id, name, input, .. } => ContentBlock::ToolUse { id, name, input },
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
            ..
        } => ContentBlock::ToolResult {
            tool_use_id,
            content: tool_result(content, at, fetched)?,
            is_error,
        },
        // Bedrock's Claude signatures are Anthropic's: the block goes back unchanged.
        Block::Thinking {
            thinking,
            signature,
        } => ContentBlock::Reasoning {
            text: thinking,
            signature: Some(signature),
        },
        // The opaque data is, byte for byte, what Bedrock returned (see `reply`).
        Block::RedactedThinking { data } => ContentBlock::RedactedReasoning {
            data: base64::engine::general_purpose::STANDARD
                .decode(&data)
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "{at}.data: not the data of a redacted_thinking block this gateway returned; send it back unchanged"
                    ))
                })?,
        },
    })
}

fn image(source: Source, at: &str, fetched: &Fetched) -> Result<ImageBytes, ApiError> {
    match source {
        Source::Base64 { media_type, data } => Ok(ImageBytes {
            format: image_format(&media_type),
            data: decode(&data, at)?,
        }),
        Source::Url { url } => image_from_url(&url, fetched, &format!("{at}.source")),
        _ => Err(ApiError::bad_request(format!(
            "{at}.source: an image is given as base64 or a URL"
        ))),
    }
}

/// A document's format and bytes: a PDF (base64), or plain text.
/// A document's words as the contract carries them: PDF bytes, plain text, or chunks of
/// text (each cited on its own, as Anthropic's content documents are).
struct DocumentBody {
    format: &'static str,
    data: Vec<u8>,
    text: Option<String>,
    content: Vec<String>,
}

impl DocumentBody {
    /// The document as bytes (a tool result carries no other kind): its text, its chunks a
    /// line apart.
    fn into_bytes(self) -> (String, Vec<u8>) {
        let data = match (self.text, self.content.is_empty()) {
            (Some(text), _) => text.into_bytes(),
            (None, false) => self.content.join("\n").into_bytes(),
            (None, true) => self.data,
        };
        (self.format.into(), data)
    }
}

fn document(source: Source, at: &str) -> Result<DocumentBody, ApiError> {
    let body = |format, data, text, content| DocumentBody {
        format,
        data,
        text,
        content,
    };
    Ok(match source {
        Source::Base64 { media_type, data } if media_type == "application/pdf" => {
            body("pdf", decode(&data, at)?, None, Vec::new())
        }
        Source::Text { media_type, data } if media_type == "text/plain" => {
            body("txt", Vec::new(), Some(data), Vec::new())
        }
        Source::Text { media_type, .. } => {
            return Err(ApiError::bad_request(format!(
                "{at}.source.media_type: a text document is text/plain, not {media_type:?}"
            )))
        }
        Source::Content { content } => {
            let chunks = blocks(&content, &format!("{at}.source.content"))?
                .into_iter()
                .map(|block| match block {
                    Block::Text { text, .. } => Ok(text),
                    _ => Err(ApiError::bad_request(format!(
                        "{at}.source.content: a content document holds text blocks only"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            body("txt", Vec::new(), None, chunks)
        }
        Source::File { file_id } => {
            return Err(ApiError::bad_request(format!(
                "{at}.source: the file {file_id:?} is in Anthropic's Files API, which this gateway cannot read; send the document as base64"
            )))
        }
        Source::Base64 { media_type, .. } => {
            return Err(ApiError::bad_request(format!(
                "{at}.source.media_type: a base64 document is application/pdf, not {media_type:?}"
            )))
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "{at}.source: a document is given as base64 (PDF), text or content; this gateway does not fetch document URLs"
            )))
        }
    })
}

fn tool_result(
    content: Option<Value>,
    at: &str,
    fetched: &Fetched,
) -> Result<Vec<ToolResultContent>, ApiError> {
    let Some(content) = content else {
        return Ok(Vec::new());
    };
    blocks(&content, &format!("{at}.content"))?
        .into_iter()
        .enumerate()
        .map(|(k, block)| {
            let at = format!("{at}.content[{k}]");
            Ok(match block {
                Block::Text { text, .. } => ToolResultContent::Text { text },
                Block::Image { source, .. } => {
                    let ImageBytes { format, data } = image(source, &at, fetched)?;
                    ToolResultContent::Image { format, data }
                }
                Block::Document { source, title, .. } => {
                    let (format, data) = document(source, &at)?.into_bytes();
                    ToolResultContent::Document {
                        format,
                        name: title.unwrap_or_else(|| "document".into()),
                        data,
                        s3: None,
                    }
                }
                Block::SearchResult {
                    source,
                    title,
                    content,
                    citations,
                    ..
                } => ToolResultContent::SearchResult {
                    source,
                    title,
                    content: content.into_iter().map(|p| p.text).collect(),
                    citations: citations.unwrap_or_default().enabled,
                },
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "{at}: a tool result holds text, image, document and search_result blocks"
                    )))
                }
            })
        })
        .collect()
}

fn decode(data: &str, at: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| ApiError::bad_request(format!("{at}.source.data: not valid base64")))
}

/// A tool: custom tools only (Anthropic's server tools run on its own platform).
fn custom_tool(tool: &Value, i: usize) -> Result<CustomTool, ApiError> {
    match tool.get("type").and_then(Value::as_str) {
        None | Some("custom") => serde_json::from_value(tool.clone())
            .map_err(|e| ApiError::bad_request(format!("tools[{i}]: {e}"))),
        Some(kind) => Err(ApiError::bad_request(format!(
            "tools[{i}]: the server tool {kind:?} runs on Anthropic's own platform, not on Bedrock through this gateway; give it as a custom tool your client runs"
        ))),
    }
}

/// `thinking` and `output_config.effort` as the contract's reasoning.
fn reasoning(
    req: &MessagesRequest,
    betas: &Betas,
    extra: &mut Map<String, Value>,
) -> Result<Option<ReasoningConfig>, ApiError> {
    let effort = req.output_config.as_ref().and_then(|c| c.effort.clone());
    let interleaved = Some(betas.interleaved_thinking);
    let display = match &req.thinking {
        Some(Thinking::Enabled { display, .. } | Thinking::Adaptive { display }) => {
            display.as_deref()
        }
        _ => None,
    };
    match display {
        None | Some("summarized") => {}
        Some("omitted") => {
            extra.insert("thinking".into(), json!({"display": "omitted"}));
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "thinking.display: Input should be 'summarized' or 'omitted', not {other:?}"
            )))
        }
    }
    Ok(match &req.thinking {
        Some(Thinking::Enabled { budget_tokens, .. }) => Some(ReasoningConfig {
            budget_tokens: Some(*budget_tokens),
            effort,
            interleaved,
        }),
        Some(Thinking::Adaptive { .. }) => Some(ReasoningConfig {
            effort: Some(effort.unwrap_or_else(|| "high".into())),
            interleaved,
            ..ReasoningConfig::default()
        }),
        Some(Thinking::Disabled) | None => {
            // Effort without thinking shapes the answer alone (Claude's `output_config`).
            if let Some(effort) = effort {
                extra.insert("output_config".into(), json!({"effort": effort}));
            }
            None
        }
    })
}

/// `output_config.format` (or the beta's `output_format`): a JSON schema the answer follows.
fn output_format(req: &MessagesRequest) -> Result<Option<OutputFormat>, ApiError> {
    let format = req
        .output_config
        .as_ref()
        .and_then(|c| c.format.as_ref())
        .or(req.output_format.as_ref());
    let Some(format) = format else {
        return Ok(None);
    };
    match (format.kind.as_str(), &format.schema) {
        ("json_schema", Some(schema)) => Ok(Some(OutputFormat::JsonSchema {
            schema: schema.clone(),
            name: None,
            description: None,
        })),
        ("json_schema", None) => Err(ApiError::bad_request(
            "output_config.format.schema: Field required",
        )),
        (other, _) => Err(ApiError::bad_request(format!(
            "output_config.format.type: Input should be 'json_schema', not {other:?}"
        ))),
    }
}

/// Each distinct http(s) image URL in the messages (and their tool results).
pub fn image_urls(req: &MessagesRequest) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, message) in req.messages.iter().enumerate() {
        let Value::Array(blocks) = &message.content else {
            continue;
        };
        for (j, block) in blocks.iter().enumerate() {
            let nested = block.get("content").and_then(Value::as_array);
            let candidates = std::iter::once(block).chain(nested.into_iter().flatten());
            for candidate in candidates {
                let is_image = candidate.get("type").and_then(Value::as_str) == Some("image");
                if is_image
                    && candidate.pointer("/source/type").and_then(Value::as_str) == Some("url")
                {
                    if let Some(url) = candidate.pointer("/source/url").and_then(Value::as_str) {
                        found.push((format!("messages[{i}].content[{j}]"), url));
                    }
                }
            }
        }
    }
    distinct_image_urls(found.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converse(body: Value, betas: &Betas) -> Result<ConverseRequest, ApiError> {
        let request: MessagesRequest = serde_json::from_value(body).unwrap();
        let target = Target {
            id: "claude".into(),
            vendor: "Anthropic".into(),
        };
        to_converse(&request, target, &Fetched::new(), betas, Purpose::Answer)
    }

    fn with(extra: Value) -> Value {
        let mut body = json!({"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    }

    #[test]
    fn cache_control_marks_become_the_cache_retention() {
        let retention = |extra: Value| {
            converse(with(extra), &Betas::default())
                .unwrap()
                .cache
                .unwrap()
                .retention
        };
        assert_eq!(
            retention(json!({})),
            CacheRetention::None,
            "no mark, no caching"
        );
        assert_eq!(
            retention(
                json!({"system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}]})
            ),
            CacheRetention::Short
        );
        assert_eq!(
            retention(json!({"cache_control": {"type": "ephemeral", "ttl": "5m"},
                "tools": [{"name": "t", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]})),
            CacheRetention::Long
        );
        let unknown = converse(
            with(json!({"cache_control": {"type": "ephemeral", "ttl": "2h"}})),
            &Betas::default(),
        );
        assert!(unknown.unwrap_err().message.contains("5m or 1h"));
    }

    #[test]
    fn betas_and_claude_only_fields_reach_claude_models_only() {
        let betas = Betas {
            interleaved_thinking: true,
            for_claude: vec!["context-1m-2025-08-07".into()],
        };
        let body =
            with(json!({"thinking": {"type": "enabled", "budget_tokens": 2048}, "top_k": 5}));
        let claude = converse(body.clone(), &betas).unwrap();
        assert_eq!(claude.reasoning.as_ref().unwrap().interleaved, Some(true));
        assert_eq!(claude.reasoning.as_ref().unwrap().budget_tokens, Some(2048));
        assert_eq!(
            claude.extra,
            Some(json!({"top_k": 5, "anthropic_beta": ["context-1m-2025-08-07"]}))
        );
        let request: MessagesRequest = serde_json::from_value(body).unwrap();
        let nova = Target {
            id: "nova".into(),
            vendor: "Amazon".into(),
        };
        let nova = to_converse(&request, nova, &Fetched::new(), &betas, Purpose::Answer).unwrap();
        assert_eq!(
            nova.extra,
            Some(json!({"top_k": 5})),
            "no betas for other vendors"
        );
    }

    #[test]
    fn what_bedrock_cannot_do_is_refused_by_name() {
        let refused = |extra: Value, says: &str| {
            let error = converse(with(extra), &Betas::default()).unwrap_err();
            assert!(error.message.contains(says), "{}", error.message);
        };
        refused(
            json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            "web_search_20250305",
        );
        refused(
            json!({"tool_choice": {"type": "any", "disable_parallel_tool_use": true}}),
            "disable_parallel_tool_use",
        );
        refused(json!({"mcp_servers": []}), "mcp_servers");
        refused(json!({"service_tier": "premium"}), "service_tier");
        refused(
            json!({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]}),
            "messages[0].content[0]",
        );
        let no_max = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        assert!(converse(no_max, &Betas::default())
            .unwrap_err()
            .message
            .contains("max_tokens"));
    }

    #[test]
    fn thinking_blocks_go_back_as_they_came() {
        let body = with(json!({"messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I think.", "signature": "c2ln"},
                {"type": "redacted_thinking", "data": "AAEC"},
                {"type": "text", "text": "Hello"}
            ]},
            {"role": "user", "content": "and?"}
        ]}));
        let request = converse(body, &Betas::default()).unwrap();
        assert_eq!(
            request.messages[1].content[..2],
            [
                ContentBlock::Reasoning {
                    text: "I think.".into(),
                    signature: Some("c2ln".into())
                },
                ContentBlock::RedactedReasoning {
                    data: vec![0, 1, 2]
                },
            ]
        );
        assert_eq!(opaque_user("u").len(), 32);
    }
}
