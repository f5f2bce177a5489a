//! Request translation: the contract's [`ConverseRequest`] to a Bedrock ConverseStream call,
//! or, for the models that answer only there, a call of the Responses API ([`responses`]).
//!
//! Everything the service would reject is fixed or refused here, before any network call:
//! roles are merged so they alternate, empty blocks and turns are dropped, images are checked
//! from their bytes, tool ids are made acceptable, and reasoning and caching are requested the
//! way each model family wants them.

mod audio;
mod caching;
mod content;
mod media;
mod options;
mod reasoning;
mod responses;
mod tools;

use aws_sdk_bedrockruntime::types::{
    self as bt, ConversationRole, InferenceConfiguration, SystemContentBlock, ToolConfiguration,
};
use aws_smithy_types::Document;
use host_sdk::{ContentBlock, ConverseRequest, ProviderError, ToolChoice};
use serde_json::Value;

pub use crate::document::to_document;
use crate::errors::invalid_request;
use crate::model_facts::{self, Caching, ModelTable};
use caching::{add_cache_point_to_last_user_message, cache_point, cache_ttl};
use content::{guard_content, translate_messages, unsupported_block};
#[cfg(test)]
pub(crate) use media::sniff_image;
pub use options::Options;
use reasoning::inference_and_reasoning;
#[cfg(test)]
pub(crate) use reasoning::ADAPTIVE_DEFAULT_MAX_TOKENS;
pub use tools::normalise_tool_id;
use tools::{history_uses_tools, tool_config, tool_config_from_history};

/// A validated, translated request, reusable for every attempt of a call.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub model_id: String,
    /// The foundation model whose rules (and prices) apply.
    pub base_model: String,
    /// The minor version of the host's contract: block types newer than it stay out of
    /// the completion.
    pub host_minor: u32,
    pub system: Vec<SystemContentBlock>,
    pub messages: Vec<bt::Message>,
    pub inference: Option<InferenceConfiguration>,
    pub tool_config: Option<ToolConfiguration>,
    pub additional_fields: Option<Document>,
    pub options: Options,
    /// The schema the answer must match (structured output), to check the answer against.
    pub output_schema: Option<Value>,
    /// What of the request could not be sent as asked, for the host's notices.
    pub notices: Vec<String>,
}

/// Bedrock's limit on `modelId` (an id, profile id or ARN) in the Converse API.
pub const MAX_MODEL_ID_LEN: usize = 2048;

/// A checked request on the API its model answers on.
#[derive(Debug, Clone)]
pub enum Call {
    Converse(Box<Prepared>),
    Responses(ResponsesCall),
}

/// A checked request for the Responses API on Mantle.
#[derive(Debug, Clone)]
pub struct ResponsesCall {
    pub model_id: String,
    /// The foundation model whose rules (and prices) apply.
    pub base_model: String,
    pub host_minor: u32,
    /// The request body (JSON), the same for every attempt.
    pub body: bytes::Bytes,
    pub output_schema: Option<Value>,
}

impl Call {
    pub fn model_id(&self) -> &str {
        match self {
            Call::Converse(p) => &p.model_id,
            Call::Responses(r) => &r.model_id,
        }
    }

    pub fn base_model(&self) -> &str {
        match self {
            Call::Converse(p) => &p.base_model,
            Call::Responses(r) => &r.base_model,
        }
    }

    pub fn host_minor(&self) -> u32 {
        match self {
            Call::Converse(p) => p.host_minor,
            Call::Responses(r) => r.host_minor,
        }
    }

    pub fn output_schema(&self) -> Option<&Value> {
        match self {
            Call::Converse(p) => p.output_schema.as_ref(),
            Call::Responses(r) => r.output_schema.as_ref(),
        }
    }

    /// What of the request could not be sent as asked.
    pub fn notices(&self) -> &[String] {
        match self {
            Call::Converse(p) => &p.notices,
            Call::Responses(_) => &[],
        }
    }
}

/// Validates and translates `req` for the API `api` (which the provider chose from its
/// configuration and model table), under `base_model`'s rules.
pub fn prepare_call(
    req: &ConverseRequest,
    base_model: &str,
    facts: &ModelTable,
    api: model_facts::Api,
) -> Result<Call, ProviderError> {
    match api {
        model_facts::Api::Converse => {
            prepare(req, base_model, facts).map(|p| Call::Converse(Box::new(p)))
        }
        model_facts::Api::Responses => {
            let model_id = checked_model_id(req)?;
            let family = facts.lookup(base_model);
            if let Some(family) = family {
                media_the_model_takes(req, family)?;
            }
            // A model the table does not know reasons as OpenAI's do there.
            let style = family.map_or(model_facts::ReasoningStyle::OpenAiNestedEffort, |f| {
                f.reasoning
            });
            let body = responses::body(req, model_id, style)?;
            Ok(Call::Responses(ResponsesCall {
                model_id: model_id.to_string(),
                base_model: model_facts::base_model_id(base_model).to_string(),
                host_minor: req.host_minor(),
                body: bytes::Bytes::from(body.to_string()),
                output_schema: output_schema(req),
            }))
        }
    }
}

/// The request's model id, trimmed, within Bedrock's limit.
fn checked_model_id(req: &ConverseRequest) -> Result<&str, ProviderError> {
    let model_id = req.model.trim();
    if model_id.is_empty() {
        return Err(invalid_request(
            "the request has no model id: set `model` to an id from the provider's model list",
        ));
    }
    if model_id.len() > MAX_MODEL_ID_LEN {
        return Err(invalid_request(format!(
            "the model id is {} bytes long; Bedrock accepts at most {MAX_MODEL_ID_LEN} (a model id, inference profile id or ARN): check `model`",
            model_id.len()
        )));
    }
    Ok(model_id)
}

/// The schema a structured answer must match.
fn output_schema(req: &ConverseRequest) -> Option<Value> {
    req.output_format.as_ref().map(|f| match f {
        host_sdk::OutputFormat::JsonSchema { schema, .. } => schema.clone(),
        _ => Value::Null,
    })
}

/// Validates and translates `req` for `base_model`, the foundation model whose rules apply
/// (the model id itself, or the model behind an application profile's ARN).
/// `facts` is the provider's model table.
pub fn prepare(
    req: &ConverseRequest,
    base_model: &str,
    facts: &ModelTable,
) -> Result<Prepared, ProviderError> {
    let model_id = checked_model_id(req)?;
    let family = facts.lookup(base_model);
    if let Some(family) = family {
        media_the_model_takes(req, family)?;
    }
    tools_referenced_exist(req)?;
    let tools_wanted = !(req.tools.is_empty() && req.server_tools.is_empty())
        && req.tool_choice != Some(ToolChoice::None);
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

    let mut system = system_blocks(req)?;
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

    let mut options = options::options(req)?;
    let sampling = inference_and_reasoning(req, family, &options.model_request_fields)?;
    if let Some(effort) = sampling.effort {
        let text_format = options.output.take().and_then(|o| o.text_format);
        options.output = Some(
            bt::OutputConfig::builder()
                .set_text_format(text_format)
                .effort(effort)
                .build(),
        );
    }
    Ok(Prepared {
        model_id: model_id.to_string(),
        base_model: model_facts::base_model_id(base_model).to_string(),
        host_minor: req.host_minor(),
        system,
        messages,
        inference: sampling.inference,
        tool_config,
        additional_fields: sampling.extra,
        notices: sampling.notices,
        output_schema: output_schema(req),
        options,
    })
}

/// A `toolAddition` or `toolRemoval` names a tool of the request's `tools` (Bedrock keeps the
/// declarations in the tool configuration; the blocks only refer to them).
fn tools_referenced_exist(req: &ConverseRequest) -> Result<(), ProviderError> {
    for (i, message) in req.messages.iter().enumerate() {
        for (j, block) in message.content.iter().enumerate() {
            let (ContentBlock::ToolAddition { tool } | ContentBlock::ToolRemoval { tool }) = block
            else {
                continue;
            };
            if !req.tools.iter().any(|t| t.name == tool.name) {
                return Err(invalid_request(format!(
                    "messages[{i}].content[{j}]: `{}` names the tool `{}`, which is not among the request's `tools`: declare it there",
                    block.type_name(),
                    tool.name
                )));
            }
        }
    }
    Ok(())
}

/// Images, videos and audio only for models that take them (by the model table), before
/// any call.
fn media_the_model_takes(
    req: &ConverseRequest,
    family: &model_facts::Family,
) -> Result<(), ProviderError> {
    for (i, message) in req.messages.iter().enumerate() {
        for (j, block) in message.content.iter().enumerate() {
            let kind = match block {
                ContentBlock::Image { .. } => "image",
                ContentBlock::Video { .. } => "video",
                ContentBlock::Audio { .. } => "audio",
                _ => continue,
            };
            if !family.input.iter().any(|m| m == kind) {
                return Err(invalid_request(format!(
                    "messages[{i}].content[{j}]: model `{}` does not take {kind} input (it takes {}); remove the {kind} or choose a model that takes it",
                    req.model,
                    family.input.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// `system` (plain text) then `systemBlocks` (text or guarded text).
fn system_blocks(req: &ConverseRequest) -> Result<Vec<SystemContentBlock>, ProviderError> {
    let mut system: Vec<SystemContentBlock> = req
        .system
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| SystemContentBlock::Text(s.clone()))
        .collect();
    for (i, block) in req.system_blocks.iter().enumerate() {
        let at = format!("systemBlocks[{i}]");
        match block {
            ContentBlock::Text { text } if text.trim().is_empty() => {}
            ContentBlock::Text { text } => system.push(SystemContentBlock::Text(text.clone())),
            ContentBlock::GuardedText { text, qualifiers } => {
                system.push(SystemContentBlock::GuardContent(guard_content(
                    text, qualifiers, &at,
                )?));
            }
            other => {
                return Err(match other {
                    ContentBlock::Unknown(_) => unsupported_block(other, &at),
                    _ => invalid_request(format!(
                        "{at}: a system block is text or guardedText, not {}",
                        other.type_name()
                    )),
                })
            }
        }
    }
    Ok(system)
}

#[cfg(test)]
mod tests;
