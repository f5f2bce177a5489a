//! A Chat Completions request turned into the contract's request.

use host_sdk::{
    ContentBlock, ConverseRequest, InferenceConfig, Message, OutputFormat, ReasoningConfig, Role,
    Tool, ToolChoice, ToolResultContent,
};
use serde_json::{json, Value};

use super::wire::{ChatMessage, ChatRequest};
use crate::dialects::{
    distinct_image_urls, image_from_url, openai_service_tier, push, tool_input, MAX_MESSAGES,
};
use crate::errors::ApiError;
use crate::image_urls::Fetched;

/// The contract's request for `chat`, to `model` (already resolved), with the images its
/// http(s) URLs name already `fetched` (none unless the gateway fetches image URLs).
pub fn to_converse(
    chat: &ChatRequest,
    model: String,
    fetched: &Fetched,
) -> Result<ConverseRequest, ApiError> {
    refuse_other_shapes(chat)?;
    refuse_unsupported(chat)?;
    let (system, messages) = conversation(chat, fetched)?;
    let mut request = ConverseRequest {
        model,
        system,
        messages,
        tools: tools(chat)?,
        tool_choice: tool_choice(chat.tool_choice.as_ref())?,
        output_format: output_format(chat.response_format.as_ref())?,
        inference: InferenceConfig {
            max_tokens: chat.max_completion_tokens.or(chat.max_tokens),
            temperature: chat.temperature,
            top_p: chat.top_p,
            stop_sequences: stop_sequences(chat.stop.as_ref())?,
        },
        reasoning: chat.reasoning_effort.as_deref().map(reasoning),
        service_tier: openai_service_tier(chat.service_tier.as_deref())?,
        ..ConverseRequest::default()
    };
    if let Some(user) = &chat.user {
        request.metadata.push(("user".into(), user.clone()));
    }
    Ok(request)
}

/// Options that would change the answer's shape are refused rather than ignored: a client
/// asking for three choices must not get one silently. So is a conversation too long.
fn refuse_other_shapes(chat: &ChatRequest) -> Result<(), ApiError> {
    if chat.messages.is_empty() {
        return Err(ApiError::bad_request("messages must not be empty"));
    }
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
    if chat.messages.len() > MAX_MESSAGES {
        return Err(ApiError::bad_request(format!(
            "messages has {} entries; this gateway takes at most {MAX_MESSAGES}",
            chat.messages.len()
        )));
    }
    Ok(())
}

/// The system prompts (system and developer messages) and the turns, tool results as the
/// user's.
fn conversation(
    chat: &ChatRequest,
    fetched: &Fetched,
) -> Result<(Vec<String>, Vec<Message>), ApiError> {
    let (mut system, mut messages) = (Vec::new(), Vec::new());
    for (i, m) in chat.messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        match m.role.as_str() {
            "system" | "developer" => system.push(text_of(m.content.as_ref(), &at)?),
            "user" => push(
                &mut messages,
                Role::User,
                content_blocks(m.content.as_ref(), &at, fetched)?,
            ),
            "assistant" => push(&mut messages, Role::Assistant, assistant(m, &at, fetched)?),
            "tool" => push(&mut messages, Role::User, vec![tool_result(m, &at)?]),
            other => {
                return Err(ApiError::bad_request(format!(
                    "{at}: role must be system, developer, user, assistant or tool, not {other:?}"
                )))
            }
        }
    }
    Ok((system, messages))
}

/// An assistant turn: its content, then its tool calls.
fn assistant(m: &ChatMessage, at: &str, fetched: &Fetched) -> Result<Vec<ContentBlock>, ApiError> {
    let mut blocks = match &m.content {
        None | Some(Value::Null) => Vec::new(),
        Some(c) => content_blocks(Some(c), at, fetched)?,
    };
    for call in &m.tool_calls {
        blocks.push(ContentBlock::ToolUse {
            id: call.id.clone(),
            name: call.function.name.clone(),
            input: tool_input(
                &call.function.arguments,
                &format!("{at}.tool_calls"),
                &call.function.name,
            )?,
        });
    }
    Ok(blocks)
}

fn tool_result(m: &ChatMessage, at: &str) -> Result<ContentBlock, ApiError> {
    let id = m
        .tool_call_id
        .clone()
        .ok_or_else(|| ApiError::bad_request(format!("{at}: a tool message needs tool_call_id")))?;
    let text = text_of(m.content.as_ref(), at)?;
    Ok(ContentBlock::ToolResult {
        tool_use_id: id,
        content: vec![ToolResultContent::Text { text }],
        is_error: false,
    })
}

fn tools(chat: &ChatRequest) -> Result<Vec<Tool>, ApiError> {
    chat.tools
        .iter()
        .enumerate()
        .map(|(i, tool)| {
            if tool.kind != "function" {
                return Err(ApiError::bad_request(format!(
                    "tools[{i}]: only function tools are supported, not {:?}",
                    tool.kind
                )));
            }
            Ok(Tool {
                strict: tool.function.strict.unwrap_or(false),
                ..Tool::new(
                    &tool.function.name,
                    tool.function.description.as_deref().unwrap_or(""),
                    tool.function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                )
            })
        })
        .collect()
}

fn tool_choice(choice: Option<&Value>) -> Result<Option<ToolChoice>, ApiError> {
    Ok(match choice {
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
    })
}

fn output_format(format: Option<&Value>) -> Result<Option<OutputFormat>, ApiError> {
    let Some(f) = format else { return Ok(None) };
    match f.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        // Any JSON object: a schema that says just that.
        Some("json_object") => Ok(Some(OutputFormat::JsonSchema {
            schema: json!({"type": "object"}),
            name: None,
            description: None,
        })),
        Some("json_schema") => {
            let spec = f.get("json_schema").ok_or_else(|| {
                ApiError::bad_request("response_format json_schema needs a json_schema object")
            })?;
            Ok(Some(OutputFormat::JsonSchema {
                schema: spec
                    .get("schema")
                    .cloned()
                    .unwrap_or(json!({"type": "object"})),
                name: spec.get("name").and_then(Value::as_str).map(str::to_string),
                description: spec
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }))
        }
        other => Err(ApiError::bad_request(format!(
            "response_format.type must be text, json_object or json_schema, not {other:?}"
        ))),
    }
}

fn stop_sequences(stop: Option<&Value>) -> Result<Vec<String>, ApiError> {
    match stop {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad_request("stop must be strings"))
            })
            .collect(),
        Some(_) => Err(ApiError::bad_request(
            "stop must be a string or a list of strings",
        )),
    }
}

/// `reasoning_effort` as the contract's effort; OpenAI's `minimal` is the lowest there is.
fn reasoning(effort: &str) -> ReasoningConfig {
    ReasoningConfig {
        effort: Some(match effort {
            "minimal" => "low".to_string(),
            other => other.to_string(),
        }),
        ..ReasoningConfig::default()
    }
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
                image_from_url(url, fetched, &format!("{at}.content[{j}]")).map(ContentBlock::from)
            }
            Some("input_audio") => input_audio(part, &format!("{at}.content[{j}]")),
            Some(other) => Err(ApiError::bad_request(format!(
                "{at}.content[{j}]: parts of type \"{other}\" are not supported here: send text, image_url and input_audio parts"
            ))),
            None => Err(ApiError::bad_request(format!(
                "{at}.content[{j}]: a part needs a type (text, image_url or input_audio)"
            ))),
        })
        .collect()
}

/// An `input_audio` part (`{data: base64, format}`) as audio, for the models that take speech.
fn input_audio(part: &Value, at: &str) -> Result<ContentBlock, ApiError> {
    use base64::Engine as _;
    let field = |k: &str| {
        part.pointer(&format!("/input_audio/{k}"))
            .and_then(Value::as_str)
    };
    let (Some(data), Some(format)) = (field("data"), field("format")) else {
        return Err(ApiError::bad_request(format!(
            "{at}.input_audio needs `data` (base64) and `format` (wav, mp3, ...)"
        )));
    };
    let data = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| ApiError::bad_request(format!("{at}.input_audio.data is not valid base64")))?;
    Ok(ContentBlock::Audio {
        format: Some(format.to_string()),
        data,
        s3: None,
    })
}

/// Each distinct http(s) image URL in the messages, with where it first appears.
pub fn image_urls(chat: &ChatRequest) -> Vec<(String, String)> {
    distinct_image_urls(chat.messages.iter().enumerate().flat_map(|(i, message)| {
        let parts = match &message.content {
            Some(Value::Array(parts)) => parts.as_slice(),
            _ => &[],
        };
        parts.iter().enumerate().filter_map(move |(j, part)| {
            let url = part.pointer("/image_url/url").and_then(Value::as_str)?;
            Some((format!("messages[{i}].content[{j}]"), url))
        })
    }))
}
