//! The OpenAI chat completions API: the request clients send, turned into the contract's
//! request, and the contract's completion and events turned into OpenAI's response and
//! stream chunks.

use std::collections::HashSet;

use base64::Engine as _;
use host_sdk::{
    Completion, ContentBlock, ConverseRequest, InferenceConfig, Message, OutputFormat,
    ReasoningConfig, Role, StopReason, TokenUsage, Tool, ToolChoice, ToolResultContent,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::image_urls::{self, Fetched};

/// `POST /v1/chat/completions`, as clients send it (fields the gateway does not use are
/// ignored, as OpenAI's API ignores unknown ones).
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub tools: Vec<ChatTool>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub response_format: Option<Value>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub stop: Option<Value>,
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    /// Refused above 1: the Converse API answers once per request.
    #[serde(default)]
    pub n: Option<u32>,
    /// Refused when asked for: the Converse API returns no log probabilities.
    #[serde(default)]
    pub logprobs: Option<bool>,
    /// Refused: the Converse API takes no seed, so answers cannot be made repeatable.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Refused unless 0: the Converse API has no frequency or presence penalty.
    #[serde(default)]
    pub frequency_penalty: Option<f32>,
    #[serde(default)]
    pub presence_penalty: Option<f32>,
    /// `false` is refused: the Converse API cannot be told to call one tool at a time.
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// Only text is answered.
    #[serde(default)]
    pub modalities: Option<Vec<String>>,
    /// Refused: audio output.
    #[serde(default)]
    pub audio: Option<Value>,
    /// OpenAI's tier, mapped to Bedrock's (`auto` is the provider's default).
    #[serde(default)]
    pub service_tier: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub function: FunctionCall,
}

#[derive(Debug, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: String,
}

#[derive(Debug, Deserialize)]
pub struct ChatTool {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionSpec,
}

#[derive(Debug, Deserialize)]
pub struct FunctionSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}

/// Limits that keep one request from costing the gateway too much.
pub const MAX_MESSAGES: usize = 1000;

/// The contract's request for `chat`, to `model` (already resolved), with the images its
/// http(s) URLs name already `fetched` (none unless the gateway fetches image URLs).
pub fn to_converse(
    chat: &ChatRequest,
    model: String,
    fetched: &Fetched,
) -> Result<ConverseRequest, ApiError> {
    if chat.messages.is_empty() {
        return Err(ApiError::bad_request("messages must not be empty"));
    }
    // Options that would change the answer's shape are refused rather than ignored: a client
    // asking for three choices must not get one silently.
    if chat.n.is_some_and(|n| n != 1) {
        return Err(ApiError::bad_request(
            "n: this gateway returns one choice per request (n = 1); send several requests for several answers",
        ));
    }
    if chat.logprobs == Some(true) {
        return Err(ApiError::bad_request(
            "logprobs: the provider's API returns no log probabilities",
        ));
    }
    refuse_unsupported(chat)?;
    if chat.messages.len() > MAX_MESSAGES {
        return Err(ApiError::bad_request(format!(
            "messages has {} entries; this gateway takes at most {MAX_MESSAGES}",
            chat.messages.len()
        )));
    }
    let mut request = ConverseRequest {
        model,
        ..ConverseRequest::default()
    };
    for (i, m) in chat.messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        match m.role.as_str() {
            "system" | "developer" => request.system.push(text_of(m.content.as_ref(), &at)?),
            "user" => push(
                &mut request.messages,
                Role::User,
                content_blocks(m.content.as_ref(), &at, fetched)?,
            ),
            "assistant" => {
                let mut blocks = match &m.content {
                    None | Some(Value::Null) => Vec::new(),
                    Some(c) => content_blocks(Some(c), &at, fetched)?,
                };
                for call in &m.tool_calls {
                    let input = if call.function.arguments.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&call.function.arguments).map_err(|e| {
                            ApiError::bad_request(format!(
                                "{at}.tool_calls: the arguments of {} are not JSON: {e}",
                                call.function.name
                            ))
                        })?
                    };
                    blocks.push(ContentBlock::ToolUse {
                        id: call.id.clone(),
                        name: call.function.name.clone(),
                        input,
                    });
                }
                push(&mut request.messages, Role::Assistant, blocks);
            }
            "tool" => {
                let id = m.tool_call_id.clone().ok_or_else(|| {
                    ApiError::bad_request(format!("{at}: a tool message needs tool_call_id"))
                })?;
                let text = text_of(m.content.as_ref(), &at)?;
                push(
                    &mut request.messages,
                    Role::User,
                    vec![ContentBlock::ToolResult {
                        tool_use_id: id,
                        content: vec![ToolResultContent::Text { text }],
                        is_error: false,
                    }],
                );
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "{at}: role must be system, developer, user, assistant or tool, not {other:?}"
                )))
            }
        }
    }
    for (i, tool) in chat.tools.iter().enumerate() {
        if tool.kind != "function" {
            return Err(ApiError::bad_request(format!(
                "tools[{i}]: only function tools are supported, not {:?}",
                tool.kind
            )));
        }
        request.tools.push(Tool {
            strict: tool.function.strict.unwrap_or(false),
            ..Tool::new(
                &tool.function.name,
                tool.function.description.as_deref().unwrap_or(""),
                tool.function
                    .parameters
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            )
        });
    }
    request.tool_choice = match &chat.tool_choice {
        None => None,
        Some(Value::String(s)) if s == "auto" => Some(ToolChoice::Auto),
        Some(Value::String(s)) if s == "none" => Some(ToolChoice::None),
        Some(Value::String(s)) if s == "required" => Some(ToolChoice::Any),
        Some(v) => match v.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Some(ToolChoice::Tool { name: name.into() }),
            None => {
                return Err(ApiError::bad_request(format!(
                    "tool_choice must be auto, none, required or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}, not {v}"
                )))
            }
        },
    };
    request.output_format = match &chat.response_format {
        None => None,
        Some(f) => match f.get("type").and_then(Value::as_str) {
            Some("text") => None,
            Some("json_object") => {
                // Any JSON object: a schema that says just that.
                Some(OutputFormat::JsonSchema {
                    schema: json!({"type": "object"}),
                    name: None,
                    description: None,
                })
            }
            Some("json_schema") => {
                let spec = f.get("json_schema").ok_or_else(|| {
                    ApiError::bad_request("response_format json_schema needs a json_schema object")
                })?;
                Some(OutputFormat::JsonSchema {
                    schema: spec
                        .get("schema")
                        .cloned()
                        .unwrap_or(json!({"type": "object"})),
                    name: spec.get("name").and_then(Value::as_str).map(str::to_string),
                    description: spec
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "response_format.type must be text, json_object or json_schema, not {other:?}"
                )))
            }
        },
    };
    request.inference = InferenceConfig {
        max_tokens: chat.max_completion_tokens.or(chat.max_tokens),
        temperature: chat.temperature,
        top_p: chat.top_p,
        stop_sequences: match &chat.stop {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ApiError::bad_request("stop must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "stop must be a string or a list of strings",
                ))
            }
        },
    };
    if let Some(effort) = &chat.reasoning_effort {
        request.reasoning = Some(ReasoningConfig {
            effort: Some(match effort.as_str() {
                "minimal" => "low".to_string(),
                other => other.to_string(),
            }),
            ..ReasoningConfig::default()
        });
    }
    if let Some(user) = &chat.user {
        request.metadata.push(("user".into(), user.clone()));
    }
    request.service_tier = service_tier(chat.service_tier.as_deref())?;
    Ok(request)
}

/// Parameters that would change the answer but that the provider's API cannot honour: a
/// 400 naming the parameter, never silence.
fn refuse_unsupported(chat: &ChatRequest) -> Result<(), ApiError> {
    let refuse = |message: &str| Err(ApiError::bad_request(message.to_string()));
    if chat.seed.is_some() {
        return refuse("seed: the provider's API takes no seed, so answers cannot be made repeatable; remove it");
    }
    if chat.frequency_penalty.is_some_and(|p| p != 0.0) {
        return refuse(
            "frequency_penalty: the provider's API has no frequency penalty; remove it (or send 0)",
        );
    }
    if chat.presence_penalty.is_some_and(|p| p != 0.0) {
        return refuse(
            "presence_penalty: the provider's API has no presence penalty; remove it (or send 0)",
        );
    }
    if chat.parallel_tool_calls == Some(false) && !chat.tools.is_empty() {
        return refuse("parallel_tool_calls: the provider's API cannot be told to call one tool at a time; remove it and run the calls it returns in order if you must");
    }
    if let Some(other) = chat
        .modalities
        .iter()
        .flatten()
        .find(|m| m.as_str() != "text")
    {
        return Err(ApiError::bad_request(format!(
            "modalities: this gateway answers with text only, not {other:?}"
        )));
    }
    if chat.audio.is_some() {
        return refuse("audio: this gateway answers with text only");
    }
    Ok(())
}

/// Bedrock's service tier for OpenAI's `service_tier`: `auto` (or none) leaves the
/// provider's default; `default`, `flex` and `priority` are Bedrock's tiers of those names.
fn service_tier(tier: Option<&str>) -> Result<Option<String>, ApiError> {
    match tier {
        None | Some("auto") => Ok(None),
        Some(tier @ ("default" | "flex" | "priority")) => Ok(Some(tier.to_string())),
        Some(other) => Err(ApiError::bad_request(format!(
            "service_tier: {other:?} is not a tier here: use auto, default, flex or priority"
        ))),
    }
}

/// Appends blocks to the history, merging consecutive turns of one role.
fn push(messages: &mut Vec<Message>, role: Role, blocks: Vec<ContentBlock>) {
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(Message {
            role,
            content: blocks,
        }),
    }
}

/// A message's text (a string, or text parts joined).
fn text_of(content: Option<&Value>, at: &str) -> Result<String, ApiError> {
    match content {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => Ok(parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")),
        None | Some(Value::Null) => Ok(String::new()),
        Some(other) => Err(ApiError::bad_request(format!(
            "{at}.content must be a string or a list of parts, not {other}"
        ))),
    }
}

/// A message's parts: text, and images as data URLs or as URLs already `fetched`.
fn content_blocks(
    content: Option<&Value>,
    at: &str,
    fetched: &Fetched,
) -> Result<Vec<ContentBlock>, ApiError> {
    let parts = match content {
        Some(Value::String(s)) => return Ok(vec![ContentBlock::Text { text: s.clone() }]),
        Some(Value::Array(parts)) => parts,
        _ => {
            return Err(ApiError::bad_request(format!(
                "{at}.content must be a string or a list of parts"
            )))
        }
    };
    parts
        .iter()
        .enumerate()
        .map(|(j, part)| match part.get("type").and_then(Value::as_str) {
            Some("text") => Ok(ContentBlock::Text {
                text: part.get("text").and_then(Value::as_str).unwrap_or("").into(),
            }),
            Some("image_url") => {
                let url = part
                    .pointer("/image_url/url")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if image_urls::is_fetched(url) {
                    return match fetched.get(url) {
                        Some(image) => Ok(ContentBlock::Image {
                            format: image.format.clone(),
                            data: image.data.clone(),
                            s3: None,
                        }),
                        None => Err(ApiError::bad_request(format!(
                            "{at}.content[{j}]: this gateway does not fetch image URLs (its operator can allow them with --allow-image-urls): send the image as a data URL (data:image/png;base64,...)"
                        ))),
                    };
                }
                let Some((meta, data)) = url.strip_prefix("data:").and_then(|u| u.split_once(','))
                else {
                    return Err(ApiError::bad_request(format!(
                        "{at}.content[{j}]: an image is a data URL (data:image/png;base64,...) or an http(s) URL"
                    )));
                };
                let data = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|_| {
                        ApiError::bad_request(format!(
                            "{at}.content[{j}]: the image's data URL does not hold valid base64 after the comma"
                        ))
                    })?;
                let format = meta
                    .strip_prefix("image/")
                    .and_then(|m| m.split(';').next())
                    .map(str::to_string);
                Ok(ContentBlock::Image {
                    format,
                    data,
                    s3: None,
                })
            }
            Some(other) => Err(ApiError::bad_request(format!(
                "{at}.content[{j}]: parts of type \"{other}\" are not supported here: send text and image_url parts"
            ))),
            None => Err(ApiError::bad_request(format!(
                "{at}.content[{j}]: a part needs a type (text or image_url)"
            ))),
        })
        .collect()
}

/// OpenAI's `finish_reason` for a stop reason.
pub fn finish_reason(reason: Option<&StopReason>) -> &'static str {
    match reason {
        Some(StopReason::ToolUse) => "tool_calls",
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => "length",
        Some(StopReason::GuardrailIntervened | StopReason::ContentFiltered) => "content_filter",
        _ => "stop",
    }
}

/// OpenAI's `usage` for the contract's.
pub fn usage(u: &TokenUsage) -> Value {
    let prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": u.output_tokens,
        "total_tokens": prompt + u.output_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens},
    })
}

/// The non-streaming response for a completion.
pub fn response(id: &str, created: u64, model: &str, c: &Completion) -> Value {
    let text: String = c.message.text();
    let reasoning: String = c
        .message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Reasoning { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let calls: Vec<Value> = c
        .message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolUse { id, name, input } => Some(json!({
                "id": id, "type": "function",
                "function": {"name": name, "arguments": input.to_string()}
            })),
            _ => None,
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) }});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    if !reasoning.is_empty() {
        message["reasoning_content"] = Value::String(reasoning);
    }
    let mut body = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(c.stop_reason.as_ref())}],
    });
    if let Some(u) = &c.usage {
        body["usage"] = usage(u);
    }
    body
}

/// Each distinct http(s) image URL in the messages, with where it first appears.
pub fn image_urls(chat: &ChatRequest) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    let mut urls = Vec::new();
    for (i, message) in chat.messages.iter().enumerate() {
        let Some(Value::Array(parts)) = &message.content else {
            continue;
        };
        for (j, part) in parts.iter().enumerate() {
            let Some(url) = part.pointer("/image_url/url").and_then(Value::as_str) else {
                continue;
            };
            if image_urls::is_fetched(url) && seen.insert(url) {
                urls.push((format!("messages[{i}].content[{j}]"), url.to_string()));
            }
        }
    }
    urls
}
