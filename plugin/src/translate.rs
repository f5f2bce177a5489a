//! Request translation: the contract's [`ConverseRequest`] to a Bedrock ConverseStream call.
//!
//! Everything the service would reject is fixed or refused here, before any network call:
//! roles are merged so they alternate, empty blocks and turns are dropped, images are checked
//! from their bytes, tool ids are made acceptable, and reasoning and caching are requested the
//! way each model family wants them.

use std::collections::BTreeSet;

use aws_sdk_bedrockruntime::operation::converse_stream::builders::ConverseStreamFluentBuilder;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    self as bt, AnyToolChoice, AutoToolChoice, CachePointBlock, CachePointType, CacheTtl,
    ConversationRole, DocumentBlock, DocumentFormat, DocumentSource, ImageBlock, ImageFormat,
    ImageSource, InferenceConfiguration, ReasoningContentBlock, ReasoningTextBlock,
    SpecificToolChoice, SystemContentBlock, ToolConfiguration, ToolInputSchema, ToolResultBlock,
    ToolResultContentBlock, ToolResultStatus, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::{Document, Number};
use host_sdk::{
    CacheRetention, ContentBlock, ConverseRequest, Message, ProviderError, Role, ToolChoice,
    ToolResultContent,
};
use serde_json::Value;

use crate::errors::invalid_request;
use crate::families::{self, Caching, Family, ReasoningStyle};

/// Bedrock's limits on inline binary content.
pub const MAX_IMAGE_BYTES: usize = 3_750_000;
pub const MAX_DOCUMENT_BYTES: usize = 4_500_000;
/// Answer room left above a thinking budget when the caller's maxTokens would not leave any.
pub const THINKING_ANSWER_ROOM: u32 = 4096;

/// A validated, translated request, reusable for every attempt of a call.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub model_id: String,
    pub system: Vec<SystemContentBlock>,
    pub messages: Vec<bt::Message>,
    pub inference: Option<InferenceConfiguration>,
    pub tool_config: Option<ToolConfiguration>,
    pub additional_fields: Option<Document>,
    pub request_metadata: Vec<(String, String)>,
}

impl Prepared {
    pub fn apply(&self, builder: ConverseStreamFluentBuilder) -> ConverseStreamFluentBuilder {
        let mut b = builder
            .model_id(&self.model_id)
            .set_system((!self.system.is_empty()).then(|| self.system.clone()))
            .set_messages(Some(self.messages.clone()))
            .set_inference_config(self.inference.clone())
            .set_tool_config(self.tool_config.clone())
            .set_additional_model_request_fields(self.additional_fields.clone());
        for (k, v) in &self.request_metadata {
            b = b.request_metadata(k, v);
        }
        b
    }
}

/// Validates and translates `req`. `max_output` is the model's output limit when known.
/// Bedrock's limits on `requestMetadata`: at most 16 pairs, keys of 1 to 256 and values of up
/// to 256 characters, from letters, digits, white space and `:_@$#=/+,-.`.
pub const MAX_METADATA_PAIRS: usize = 16;
const MAX_METADATA_LEN: usize = 256;

fn request_metadata(pairs: &[(String, String)]) -> Result<Vec<(String, String)>, ProviderError> {
    if pairs.len() > MAX_METADATA_PAIRS {
        return Err(invalid_request(format!(
            "metadata has {} pairs; Bedrock's requestMetadata takes at most {MAX_METADATA_PAIRS}",
            pairs.len()
        )));
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c);
    for (key, value) in pairs {
        for (what, text, min) in [("key", key, 1), ("value", value, 0)] {
            let len = text.chars().count();
            if len < min || len > MAX_METADATA_LEN || !text.chars().all(allowed) {
                return Err(invalid_request(format!(
                    "metadata {what} {text:?} is not accepted by Bedrock's requestMetadata: {min} to {MAX_METADATA_LEN} characters from letters, digits, spaces and :_@$#=/+,-."
                )));
            }
        }
    }
    Ok(pairs.to_vec())
}

/// Bedrock's limit on `modelId` (an id, profile id or ARN) in the Converse API.
pub const MAX_MODEL_ID_LEN: usize = 2048;

pub fn prepare(req: &ConverseRequest) -> Result<Prepared, ProviderError> {
    let model_id = req.model.trim();
    if model_id.is_empty() {
        return Err(invalid_request(
            "the request has no model id: set `model` to an id from `models list`",
        ));
    }
    if model_id.len() > MAX_MODEL_ID_LEN {
        return Err(invalid_request(format!(
            "the model id is {} bytes long; Bedrock accepts at most {MAX_MODEL_ID_LEN} (a model id, inference profile id or ARN): check `model`",
            model_id.len()
        )));
    }
    let family = families::lookup(model_id);
    let tools_wanted = !req.tools.is_empty() && req.tool_choice != Some(ToolChoice::None);
    // With tool choice `none`, tool blocks in the history are replayed as text: Bedrock would
    // otherwise require a toolConfig, which would let the model call tools again.
    let tools_as_text = req.tool_choice == Some(ToolChoice::None);

    let mut messages = translate_messages(&req.messages, tools_as_text)?;
    if messages.is_empty() {
        return Err(invalid_request(
            "the request has no messages with content: add a user message",
        ));
    }
    if messages[0].role() != &ConversationRole::User {
        return Err(invalid_request(
            "the conversation must start with a user message",
        ));
    }
    let family_caching = family.map(|f| f.caching).unwrap_or(Caching::None);
    let caching = cache_ttl(req, family_caching);

    let mut system: Vec<SystemContentBlock> = req
        .system
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| SystemContentBlock::Text(s.clone()))
        .collect();
    if let (Some(ttl), false) = (&caching, system.is_empty()) {
        system.push(SystemContentBlock::CachePoint(cache_point(ttl)));
    }

    let tool_config = if tools_wanted {
        Some(tool_config(
            req,
            caching.as_ref().filter(|_| family_caching.tools()),
        )?)
    } else if !tools_as_text && history_uses_tools(&messages) {
        Some(tool_config_from_history(&messages))
    } else {
        None
    };

    if let Some(ttl) = &caching {
        add_cache_point_to_last_user_message(&mut messages, ttl);
    }

    let (inference, additional_fields) = inference_and_reasoning(req, family)?;
    Ok(Prepared {
        model_id: model_id.to_string(),
        system,
        messages,
        inference,
        tool_config,
        additional_fields,
        request_metadata: request_metadata(&req.metadata)?,
    })
}

fn translate_messages(
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

fn translate_block(
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
        ContentBlock::Image { format, data } => out.push(bt::ContentBlock::Image(image_block(
            format.as_deref(),
            data,
            at,
        )?)),
        ContentBlock::Document { format, name, data } => out.push(bt::ContentBlock::Document(
            document_block(format, name, data, at)?,
        )),
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
            let text: Vec<String> = content
                .iter()
                .map(|c| match c {
                    ToolResultContent::Text { text } => text.clone(),
                    ToolResultContent::Json { value } => value.to_string(),
                    ToolResultContent::Image { .. } => "[image]".into(),
                })
                .collect();
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
            let mut blocks = Vec::new();
            for (k, c) in content.iter().enumerate() {
                let at = format!("{at}.content[{k}]");
                match c {
                    ToolResultContent::Text { text } if !text.trim().is_empty() => {
                        blocks.push(ToolResultContentBlock::Text(text.clone()))
                    }
                    ToolResultContent::Text { .. } => {}
                    ToolResultContent::Json { value } => {
                        blocks.push(ToolResultContentBlock::Json(to_document(value)))
                    }
                    ToolResultContent::Image { format, data } => blocks.push(
                        ToolResultContentBlock::Image(image_block(format.as_deref(), data, &at)?),
                    ),
                }
            }
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
    }
    Ok(())
}

/// The image format, from the bytes' signature (a label is only checked against it).
pub fn sniff_image(data: &[u8]) -> Option<ImageFormat> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(ImageFormat::Jpeg)
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

fn image_block(label: Option<&str>, data: &[u8], at: &str) -> Result<ImageBlock, ProviderError> {
    if data.len() > MAX_IMAGE_BYTES {
        return Err(invalid_request(format!(
            "{at}: the image is {} bytes; Bedrock accepts at most {MAX_IMAGE_BYTES} bytes per image: resize or recompress it",
            data.len()
        )));
    }
    let format = sniff_image(data).ok_or_else(|| {
        invalid_request(format!(
            "{at}: the image is not PNG, JPEG, GIF or WebP (checked from its bytes)"
        ))
    })?;
    if let Some(label) = label {
        let label = label.trim().to_ascii_lowercase().replace("image/", "");
        let label = if label == "jpg" {
            "jpeg".to_string()
        } else {
            label
        };
        if label != format.as_str() {
            tracing::debug!(
                "{at}: image labelled {label} is really {}; sending {}",
                format.as_str(),
                format.as_str()
            );
        }
    }
    ImageBlock::builder()
        .format(format)
        .source(ImageSource::Bytes(Blob::new(data.to_vec())))
        .build()
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}

fn document_block(
    format: &str,
    name: &str,
    data: &[u8],
    at: &str,
) -> Result<DocumentBlock, ProviderError> {
    let format = match format.trim().to_ascii_lowercase().as_str() {
        "pdf" => DocumentFormat::Pdf,
        "csv" => DocumentFormat::Csv,
        "doc" => DocumentFormat::Doc,
        "docx" => DocumentFormat::Docx,
        "xls" => DocumentFormat::Xls,
        "xlsx" => DocumentFormat::Xlsx,
        "html" | "htm" => DocumentFormat::Html,
        "txt" | "text" => DocumentFormat::Txt,
        "md" | "markdown" => DocumentFormat::Md,
        other => {
            return Err(invalid_request(format!(
                "{at}: document format \"{other}\" is not supported; use pdf, csv, doc, docx, xls, xlsx, html, txt or md"
            )))
        }
    };
    if data.is_empty() {
        return Err(invalid_request(format!("{at}: the document is empty")));
    }
    if data.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid_request(format!(
            "{at}: the document is {} bytes; Bedrock accepts at most {MAX_DOCUMENT_BYTES} bytes per document",
            data.len()
        )));
    }
    if format == DocumentFormat::Pdf && !data.starts_with(b"%PDF") {
        return Err(invalid_request(format!(
            "{at}: the document is labelled pdf but is not a PDF"
        )));
    }
    DocumentBlock::builder()
        .format(format)
        .name(document_name(name))
        .source(DocumentSource::Bytes(Blob::new(data.to_vec())))
        .build()
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}

/// Bedrock document names allow letters, digits, whitespace, hyphens, parentheses and
/// brackets, with no consecutive whitespace.
fn document_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_alphanumeric() || "-()[]".contains(c) {
            c
        } else {
            ' '
        };
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    let out = out.trim().to_string();
    if out.is_empty() {
        "document".into()
    } else {
        out
    }
}

/// Bedrock accepts tool-use ids matching `[a-zA-Z0-9_-]{1,64}`; other clients' ids are mapped
/// deterministically so a tool use and its result still match. Ids that had to be shortened
/// keep a hash of the whole original, so two long ids with a common prefix stay distinct.
pub fn normalise_tool_id(id: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.len() > MAX {
        // FNV-1a: stable across runs and platforms (unlike the std hasher).
        let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
        });
        out.truncate(MAX - 17);
        out.push_str(&format!("_{hash:016x}"));
    }
    if out.is_empty() {
        out.push_str("tool_use");
    }
    out
}

fn tool_config(
    req: &ConverseRequest,
    caching: Option<&CacheTtl>,
) -> Result<ToolConfiguration, ProviderError> {
    let mut tools = Vec::new();
    let mut names = BTreeSet::new();
    for (i, tool) in req.tools.iter().enumerate() {
        if tool.name.trim().is_empty() {
            return Err(invalid_request(format!("tools[{i}] has no name")));
        }
        if !names.insert(tool.name.as_str()) {
            return Err(invalid_request(format!(
                "tools[{i}]: the tool name `{}` is used twice",
                tool.name
            )));
        }
        if !tool.input_schema.is_object() {
            return Err(invalid_request(format!(
                "tools[{i}] (`{}`): inputSchema must be a JSON Schema object",
                tool.name
            )));
        }
        let mut spec = ToolSpecification::builder()
            .name(&tool.name)
            .input_schema(ToolInputSchema::Json(to_document(&tool.input_schema)));
        if !tool.description.trim().is_empty() {
            spec = spec.description(&tool.description);
        }
        tools.push(bt::Tool::ToolSpec(
            spec.build()
                .map_err(|e| invalid_request(format!("tools[{i}]: {e}")))?,
        ));
    }
    if let Some(ttl) = caching {
        tools.push(bt::Tool::CachePoint(cache_point(ttl)));
    }
    let choice = match &req.tool_choice {
        None | Some(ToolChoice::Auto) => {
            Some(bt::ToolChoice::Auto(AutoToolChoice::builder().build()))
        }
        Some(ToolChoice::Any) => Some(bt::ToolChoice::Any(AnyToolChoice::builder().build())),
        Some(ToolChoice::Tool { name }) => {
            if !names.contains(name.as_str()) {
                return Err(invalid_request(format!(
                    "toolChoice names `{name}`, which is not among the request's tools"
                )));
            }
            Some(bt::ToolChoice::Tool(
                SpecificToolChoice::builder()
                    .name(name)
                    .build()
                    .map_err(|e| invalid_request(e.to_string()))?,
            ))
        }
        Some(ToolChoice::None) => None,
    };
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .set_tool_choice(choice)
        .build()
        .map_err(|e| invalid_request(format!("tool configuration: {e}")))
}

fn history_uses_tools(messages: &[bt::Message]) -> bool {
    messages
        .iter()
        .flat_map(|m| m.content())
        .any(|b| b.is_tool_use() || b.is_tool_result())
}

/// The service requires a toolConfig whenever the history holds tool blocks; when the host
/// sent none, declare the tools the history used, with permissive schemas.
fn tool_config_from_history(messages: &[bt::Message]) -> ToolConfiguration {
    let names: BTreeSet<&str> = messages
        .iter()
        .flat_map(|m| m.content())
        .filter_map(|b| b.as_tool_use().ok().map(|t| t.name()))
        .collect();
    let names: Vec<&str> = if names.is_empty() {
        vec!["tool"]
    } else {
        names.into_iter().collect()
    };
    let tools = names
        .into_iter()
        .filter_map(|name| {
            ToolSpecification::builder()
                .name(name)
                .description("A tool used earlier in this conversation.")
                .input_schema(ToolInputSchema::Json(to_document(
                    &serde_json::json!({"type": "object"}),
                )))
                .build()
                .ok()
                .map(bt::Tool::ToolSpec)
        })
        .collect();
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .build()
        .expect("tools are set")
}

fn cache_ttl(req: &ConverseRequest, caching: Caching) -> Option<CacheTtl> {
    let retention = req.cache.map(|c| c.retention).unwrap_or_default();
    if !caching.enabled() {
        return None;
    }
    match retention {
        CacheRetention::None => None,
        CacheRetention::Short => Some(CacheTtl::FiveMinutes),
        // Models without the one-hour ttl would reject it: they get the default retention.
        CacheRetention::Long if caching.one_hour() => Some(CacheTtl::OneHour),
        CacheRetention::Long => {
            tracing::debug!(
                "model `{}` has no one-hour cache retention; using the default",
                req.model
            );
            Some(CacheTtl::FiveMinutes)
        }
    }
}

fn cache_point(ttl: &CacheTtl) -> CachePointBlock {
    let mut b = CachePointBlock::builder().r#type(CachePointType::Default);
    // The default (five minutes) is sent without a ttl, as the service documents it.
    if *ttl == CacheTtl::OneHour {
        b = b.ttl(CacheTtl::OneHour);
    }
    b.build().expect("type is set")
}

fn add_cache_point_to_last_user_message(messages: &mut [bt::Message], ttl: &CacheTtl) {
    if let Some(last_user) = messages
        .iter_mut()
        .rev()
        .find(|m| m.role() == &ConversationRole::User)
    {
        let mut content = last_user.content().to_vec();
        content.push(bt::ContentBlock::CachePoint(cache_point(ttl)));
        if let Ok(m) = bt::Message::builder()
            .role(ConversationRole::User)
            .set_content(Some(content))
            .build()
        {
            *last_user = m;
        }
    }
}

fn inference_and_reasoning(
    req: &ConverseRequest,
    family: Option<Family>,
) -> Result<(Option<InferenceConfiguration>, Option<Document>), ProviderError> {
    let inf = &req.inference;
    if let Some(t) = inf.temperature {
        if !(0.0..=1.0).contains(&t) {
            return Err(invalid_request(format!(
                "inference.temperature must be between 0 and 1, got {t}"
            )));
        }
    }
    if let Some(p) = inf.top_p {
        if !(0.0..=1.0).contains(&p) {
            return Err(invalid_request(format!(
                "inference.topP must be between 0 and 1, got {p}"
            )));
        }
    }
    if inf.max_tokens == Some(0) {
        return Err(invalid_request(
            "inference.maxTokens must be greater than 0",
        ));
    }
    let mut max_tokens = inf.max_tokens;
    let mut temperature = inf.temperature;
    let mut top_p = inf.top_p;
    let mut extra = match &req.extra {
        None => serde_json::Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(invalid_request(
                "`extra` must be a JSON object (it becomes additionalModelRequestFields)",
            ))
        }
    };

    if let Some(reasoning) = &req.reasoning {
        let style = family.map(|f| f.reasoning).unwrap_or(ReasoningStyle::None);
        let limit = family.map(|f| f.max_tokens as u32).unwrap_or(u32::MAX);
        if let Some(effort) = &reasoning.effort {
            if !EFFORTS.contains(&effort.as_str()) {
                return Err(invalid_request(format!(
                    "reasoning.effort must be one of {}, got \"{effort}\"",
                    EFFORTS.join(", ")
                )));
            }
        }
        if matches!(
            style,
            ReasoningStyle::AnthropicBudget | ReasoningStyle::AnthropicAdaptive { .. }
        ) && matches!(
            req.tool_choice,
            Some(ToolChoice::Any | ToolChoice::Tool { .. })
        ) && !req.tools.is_empty()
        {
            return Err(invalid_request(format!(
                "model `{}` cannot be forced to call a tool while it reasons: use toolChoice auto (or none), or remove `reasoning`",
                req.model
            )));
        }
        match style {
            ReasoningStyle::AnthropicBudget => {
                let budget = reasoning.budget_tokens.unwrap_or_else(|| {
                    // An effort level stands for a budget that still leaves answer room.
                    budget_for_effort(reasoning.effort.as_deref())
                        .min(limit.saturating_sub(THINKING_ANSWER_ROOM))
                        .max(1024)
                });
                if budget < 1024 {
                    return Err(invalid_request(format!(
                        "reasoning.budgetTokens must be at least 1024, got {budget}"
                    )));
                }
                if budget >= limit {
                    return Err(invalid_request(format!(
                        "reasoning.budgetTokens ({budget}) must be below the model's output limit of {limit} tokens"
                    )));
                }
                // The budget counts against maxTokens: raise maxTokens to leave room for the
                // answer (the caller's maxTokens, or a default answer room, above the budget).
                let answer = max_tokens.unwrap_or(THINKING_ANSWER_ROOM);
                let needed = if answer <= budget {
                    budget.saturating_add(answer.max(THINKING_ANSWER_ROOM))
                } else {
                    answer
                };
                max_tokens = Some(needed.min(limit).max(budget + 1));
                extra.insert(
                    "thinking".into(),
                    serde_json::json!({"type": "enabled", "budget_tokens": budget}),
                );
                // Thinking requires the default sampling settings.
                temperature = None;
                top_p = None;
            }
            ReasoningStyle::AnthropicAdaptive { summarize } => {
                // Adaptive thinking takes no budget; a budget-only request asks for the effort
                // that budget stands for.
                let effort = reasoning
                    .effort
                    .clone()
                    .or_else(|| reasoning.budget_tokens.map(effort_for_budget));
                let mut thinking = serde_json::json!({"type": "adaptive"});
                if summarize {
                    thinking["display"] = "summarized".into();
                }
                extra.insert("thinking".into(), thinking);
                if let Some(effort) = effort {
                    let mut output_config = match extra.remove("output_config") {
                        Some(Value::Object(o)) => o,
                        _ => serde_json::Map::new(),
                    };
                    output_config.insert("effort".into(), Value::String(effort));
                    extra.insert("output_config".into(), Value::Object(output_config));
                }
                // maxTokens caps thinking and answer together: leave room for both.
                if max_tokens.is_none() {
                    max_tokens = Some(ADAPTIVE_DEFAULT_MAX_TOKENS.min(limit));
                }
                temperature = None;
                top_p = None;
            }
            ReasoningStyle::Always => {}
            ReasoningStyle::None => {
                return Err(invalid_request(format!(
                    "model `{}` does not support configurable reasoning: remove `reasoning` from the request",
                    req.model
                )))
            }
        }
    }

    let inference = InferenceConfiguration::builder()
        .set_max_tokens(max_tokens.map(|n| n.min(i32::MAX as u32) as i32))
        .set_temperature(temperature)
        .set_top_p(top_p)
        .set_stop_sequences((!inf.stop_sequences.is_empty()).then(|| inf.stop_sequences.clone()))
        .build();
    let inference = (inference != InferenceConfiguration::builder().build()).then_some(inference);
    let extra = (!extra.is_empty()).then(|| to_document(&Value::Object(extra)));
    Ok((inference, extra))
}

/// The effort levels Anthropic's `output_config.effort` accepts.
pub const EFFORTS: [&str; 5] = ["low", "medium", "high", "xhigh", "max"];

/// maxTokens for adaptive thinking when the caller set none (thinking and answer share it).
pub const ADAPTIVE_DEFAULT_MAX_TOKENS: u32 = 32_000;

fn effort_for_budget(budget: u32) -> String {
    match budget {
        0..=2_048 => "low",
        2_049..=8_192 => "medium",
        _ => "high",
    }
    .into()
}

fn budget_for_effort(effort: Option<&str>) -> u32 {
    match effort {
        Some("low") => 1024,
        Some("high") => 16_384,
        Some("xhigh") => 24_576,
        Some("max") => 32_000,
        _ => 4096,
    }
}

/// JSON to the SDK's document type.
pub fn to_document(v: &Value) -> Document {
    match v {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or(0.0))
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(a) => Document::Array(a.iter().map(to_document).collect()),
        Value::Object(o) => {
            Document::Object(o.iter().map(|(k, v)| (k.clone(), to_document(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_sdk::{ReasoningConfig, Tool};

    const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

    fn req(messages: Vec<Message>) -> ConverseRequest {
        ConverseRequest {
            model: MODEL.into(),
            messages,
            ..Default::default()
        }
    }

    #[test]
    fn consecutive_roles_merge_and_empty_turns_drop() {
        let p = prepare(&req(vec![
            Message::user_text("a"),
            Message::user_text("b"),
            Message::assistant_text("  "),
            Message::user_text("c"),
        ]))
        .unwrap();
        assert_eq!(p.messages.len(), 1);
        // a, b, c and the cache point on the last user message.
        assert_eq!(p.messages[0].content().len(), 4);
    }

    #[test]
    fn images_are_checked_from_bytes() {
        let mut r = req(vec![Message::user_text("look")]);
        r.messages[0].content.push(ContentBlock::Image {
            format: Some("png".into()),
            data: b"not an image".to_vec(),
        });
        let e = prepare(&r).unwrap_err();
        assert!(
            e.message.contains("messages[0].content[1]"),
            "{}",
            e.message
        );
        assert_eq!(sniff_image(b"GIF89a...."), Some(ImageFormat::Gif));
        assert_eq!(
            sniff_image(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
    }

    #[test]
    fn tool_ids_are_normalised() {
        assert_eq!(normalise_tool_id("call:1/x"), "call_1_x");
        assert_eq!(normalise_tool_id(&"a".repeat(80)).len(), 64);
    }

    #[test]
    fn budget_thinking_raises_max_tokens_and_drops_temperature() {
        let mut r = req(vec![Message::user_text("think")]);
        r.inference.max_tokens = Some(1000);
        r.inference.temperature = Some(0.2);
        r.reasoning = Some(ReasoningConfig {
            budget_tokens: Some(2048),
            effort: None,
        });
        let p = prepare(&r).unwrap();
        let inf = p.inference.unwrap();
        assert!(inf.max_tokens().unwrap() > 2048);
        assert_eq!(inf.temperature(), None);
        let extra = p.additional_fields.unwrap();
        let thinking = extra.as_object().unwrap().get("thinking").unwrap();
        assert_eq!(
            thinking
                .as_object()
                .unwrap()
                .get("type")
                .unwrap()
                .as_string(),
            Some("enabled")
        );
    }

    #[test]
    fn tool_choice_none_sends_no_tool_config() {
        let mut r = req(vec![Message::user_text("hi")]);
        r.tools = vec![Tool {
            name: "t".into(),
            description: String::new(),
            input_schema: serde_json::json!({"type": "object"}),
        }];
        r.tool_choice = Some(ToolChoice::None);
        assert!(prepare(&r).unwrap().tool_config.is_none());
    }

    #[test]
    fn tool_history_without_tools_gets_a_tool_config() {
        let r = req(vec![
            Message::user_text("weather?"),
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolUse {
                    id: "t1".into(),
                    name: "get_weather".into(),
                    input: serde_json::json!({}),
                }],
            },
            Message {
                role: Role::User,
                content: vec![ContentBlock::ToolResult {
                    tool_use_id: "t1".into(),
                    content: vec![ToolResultContent::Text {
                        text: "sunny".into(),
                    }],
                    is_error: false,
                }],
            },
        ]);
        let p = prepare(&r).unwrap();
        let tc = p.tool_config.unwrap();
        assert_eq!(tc.tools()[0].as_tool_spec().unwrap().name(), "get_weather");
    }
    fn extra_json(p: &Prepared) -> Value {
        fn to_json(d: &Document) -> Value {
            match d {
                Document::Null => Value::Null,
                Document::Bool(b) => Value::Bool(*b),
                Document::Number(Number::PosInt(u)) => (*u).into(),
                Document::Number(Number::NegInt(i)) => (*i).into(),
                Document::Number(Number::Float(f)) => (*f).into(),
                Document::String(s) => Value::String(s.clone()),
                Document::Array(a) => Value::Array(a.iter().map(to_json).collect()),
                Document::Object(o) => {
                    Value::Object(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
                }
            }
        }
        p.additional_fields
            .as_ref()
            .map(to_json)
            .unwrap_or(Value::Null)
    }

    fn reasoning(budget: Option<u32>, effort: Option<&str>) -> Option<ReasoningConfig> {
        Some(ReasoningConfig {
            budget_tokens: budget,
            effort: effort.map(Into::into),
        })
    }

    #[test]
    fn adaptive_thinking_puts_effort_in_output_config() {
        let mut r = req(vec![Message::user_text("think")]);
        r.model = "us.anthropic.claude-opus-4-6-v1".into();
        r.reasoning = reasoning(None, Some("medium"));
        r.inference.temperature = Some(0.5);
        let p = prepare(&r).unwrap();
        assert_eq!(
            extra_json(&p),
            serde_json::json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}})
        );
        let inf = p.inference.unwrap();
        assert_eq!(inf.max_tokens(), Some(ADAPTIVE_DEFAULT_MAX_TOKENS as i32));
        assert_eq!(inf.temperature(), None);

        // Opus 4.7 hides its reasoning unless asked for a summary.
        r.model = "us.anthropic.claude-opus-4-7".into();
        r.reasoning = reasoning(Some(2000), None);
        r.inference.max_tokens = Some(9000);
        let p = prepare(&r).unwrap();
        assert_eq!(
            extra_json(&p),
            serde_json::json!({"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "low"}})
        );
        assert_eq!(p.inference.unwrap().max_tokens(), Some(9000));
    }

    #[test]
    fn effort_levels_are_checked() {
        let mut r = req(vec![Message::user_text("think")]);
        r.model = "anthropic.claude-sonnet-4-6".into();
        r.reasoning = reasoning(None, Some("extreme"));
        let e = prepare(&r).unwrap_err();
        assert_eq!(e.code.as_str(), "invalid_request");
        assert!(e.message.contains("reasoning.effort"), "{}", e.message);
    }

    #[test]
    fn budget_from_effort_fits_the_model() {
        let mut r = req(vec![Message::user_text("think")]);
        r.model = "us.anthropic.claude-opus-4-1-20250805-v1:0".into();
        r.reasoning = reasoning(None, Some("max"));
        let p = prepare(&r).unwrap();
        let budget = extra_json(&p)["thinking"]["budget_tokens"]
            .as_u64()
            .unwrap();
        let max = p.inference.unwrap().max_tokens().unwrap() as u64;
        assert!(budget < max && max <= 32_000, "{budget} {max}");
    }

    #[test]
    fn forced_tool_choice_with_thinking_is_refused_early() {
        let mut r = req(vec![Message::user_text("hi")]);
        r.tools = vec![Tool {
            name: "t".into(),
            description: String::new(),
            input_schema: serde_json::json!({"type": "object"}),
        }];
        r.tool_choice = Some(ToolChoice::Any);
        r.reasoning = reasoning(Some(2048), None);
        let e = prepare(&r).unwrap_err();
        assert!(e.message.contains("toolChoice auto"), "{}", e.message);
    }

    #[test]
    fn tool_results_come_first_in_their_turn() {
        let r = req(vec![
            Message::user_text("weather?"),
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolUse {
                    id: "t1".into(),
                    name: "get_weather".into(),
                    input: serde_json::json!({"city": "Paris"}),
                }],
            },
            Message::user_text("and hurry"),
            Message {
                role: Role::User,
                content: vec![ContentBlock::ToolResult {
                    tool_use_id: "t1".into(),
                    content: vec![ToolResultContent::Text {
                        text: "sunny".into(),
                    }],
                    is_error: false,
                }],
            },
        ]);
        let p = prepare(&r).unwrap();
        let last = p.messages.last().unwrap().content();
        assert!(last[0].is_tool_result());
        assert_eq!(last[1].as_text().unwrap(), "and hurry");
    }

    #[test]
    fn nova_caches_system_and_messages_but_not_tools() {
        let mut r = req(vec![Message::user_text("hi")]);
        r.model = "us.amazon.nova-pro-v1:0".into();
        r.system = vec!["be brief".into()];
        r.tools = vec![Tool {
            name: "t".into(),
            description: String::new(),
            input_schema: serde_json::json!({"type": "object"}),
        }];
        r.cache = Some(host_sdk::CacheConfig {
            retention: CacheRetention::Long,
        });
        let p = prepare(&r).unwrap();
        assert!(p.system.last().unwrap().is_cache_point());
        // Nova has no one-hour retention: the default is used.
        assert_eq!(
            p.system.last().unwrap().as_cache_point().unwrap().ttl(),
            None
        );
        assert!(!p
            .tool_config
            .unwrap()
            .tools()
            .iter()
            .any(|t| t.is_cache_point()));
        assert!(p.messages[0].content().last().unwrap().is_cache_point());
    }

    #[test]
    fn long_tool_ids_stay_distinct() {
        let a = normalise_tool_id(&format!("{}a", "x".repeat(70)));
        let b = normalise_tool_id(&format!("{}b", "x".repeat(70)));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        assert_eq!(normalise_tool_id("tooluse_abc-1"), "tooluse_abc-1");
    }
}
