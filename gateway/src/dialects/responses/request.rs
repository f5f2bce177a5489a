//! A Responses request turned into the contract's request. The gateway keeps no state:
//! everything the model needs is in the request (`previous_response_id`, `store: true`,
//! `conversation` and item references are refused, saying how to send the whole input).

use std::collections::{HashMap, HashSet};

use host_sdk::{
    CacheConfig, CacheRetention, ContentBlock, ConverseRequest, InferenceConfig, OutputFormat,
    ReasoningConfig, Role, Tool, ToolChoice, ToolResultContent,
};
use serde_json::{json, Value};

use super::carried_reasoning;
use super::wire::{CustomTool, FunctionTool, Item, ResponsesRequest};
use crate::dialects::{
    data_url, distinct_image_urls, image_from_url, openai_service_tier, push, tool_input,
    MAX_MESSAGES,
};
use crate::errors::ApiError;
use crate::image_urls::Fetched;

/// What a stateless gateway says instead of following a stored response.
const SEND_THE_WHOLE_INPUT: &str = "this gateway keeps no responses: send the whole conversation in `input` (earlier output items included, reasoning with include: [\"reasoning.encrypted_content\"]) and store: false";

/// The name of the one string parameter a custom tool takes as a function.
pub const CUSTOM_INPUT: &str = "input";

pub fn to_converse(
    req: &ResponsesRequest,
    model: String,
    fetched: &Fetched,
) -> Result<ConverseRequest, ApiError> {
    refuse_state(req)?;
    let mut request = ConverseRequest {
        model,
        ..ConverseRequest::default()
    };
    if let Some(instructions) = &req.instructions {
        request.system.push(instructions.clone());
    }
    match &req.input {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "input: Missing required parameter: give the conversation as a string or a list of items",
            ))
        }
        Some(Value::String(text)) => push(
            &mut request.messages,
            Role::User,
            vec![ContentBlock::Text { text: text.clone() }],
        ),
        Some(Value::Array(items)) => {
            if items.len() > MAX_MESSAGES {
                return Err(ApiError::bad_request(format!(
                    "input has {} items; this gateway takes at most {MAX_MESSAGES}",
                    items.len()
                )));
            }
            for (i, item) in items.iter().enumerate() {
                add_item(&mut request, item, &format!("input[{i}]"), fetched)?;
            }
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "input must be a string or a list of items, not {other}"
            )))
        }
    }
    request.tools = tools(req)?;
    request.tool_choice = tool_choice(req.tool_choice.as_ref())?;
    request.reasoning = reasoning(req)?;
    request.output_format = output_format(req)?;
    request.inference = InferenceConfig {
        max_tokens: req.max_output_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: Vec::new(),
    };
    for (key, value) in req.metadata.iter().flatten() {
        let Some(value) = value.as_str() else {
            return Err(ApiError::bad_request(format!(
                "metadata.{key}: values are strings"
            )));
        };
        request.metadata.push((key.clone(), value.to_string()));
    }
    if let Some(user) = req.safety_identifier.as_ref().or(req.user.as_ref()) {
        request.metadata.push(("user".into(), user.clone()));
    }
    request.service_tier = openai_service_tier(req.service_tier.as_deref())?;
    request.cache = match req.prompt_cache_retention.as_deref() {
        None => None,
        Some("in_memory") => Some(CacheConfig {
            retention: CacheRetention::Short,
        }),
        Some("24h") => Some(CacheConfig {
            retention: CacheRetention::Long,
        }),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "prompt_cache_retention: {other:?} is not a retention: use in_memory or 24h (the provider's longest, one hour)"
            )))
        }
    };
    Ok(request)
}

/// State the gateway does not keep, and options the provider cannot honour: a 400 naming
/// the parameter, never silence.
fn refuse_state(req: &ResponsesRequest) -> Result<(), ApiError> {
    let refuse = |what: &str| {
        Err(ApiError::bad_request(format!(
            "{what}: {SEND_THE_WHOLE_INPUT}"
        )))
    };
    if req.previous_response_id.is_some() {
        return refuse("previous_response_id");
    }
    if req.store == Some(true) {
        return refuse("store: true");
    }
    if req.conversation.is_some() {
        return refuse("conversation");
    }
    if req.background == Some(true) {
        return refuse("background: true");
    }
    if req.prompt.is_some() {
        return Err(ApiError::bad_request(
            "prompt: prompt templates live on OpenAI's platform; send the instructions and input themselves",
        ));
    }
    if req.truncation.as_deref() == Some("auto") {
        return Err(ApiError::bad_request(
            "truncation: this gateway never drops input to make it fit; remove it (or send disabled)",
        ));
    }
    if req.top_logprobs.is_some_and(|n| n > 0)
        || req
            .include
            .iter()
            .any(|i| i == "message.output_text.logprobs")
    {
        return Err(ApiError::bad_request(
            "logprobs: the provider's API returns no log probabilities",
        ));
    }
    Ok(())
}

fn add_item(
    request: &mut ConverseRequest,
    item: &Value,
    at: &str,
    fetched: &Fetched,
) -> Result<(), ApiError> {
    let (role, block) = match parse_item(item, at)? {
        Item::Message { role, content } => {
            return add_message(request, &role, &content, at, fetched)
        }
        Item::FunctionCall {
            call_id,
            name,
            arguments,
        } => {
            let input = tool_input(&arguments, at, &name)?;
            let id = call_id;
            (Role::Assistant, ContentBlock::ToolUse { id, name, input })
        }
        Item::CustomToolCall {
            call_id,
            name,
            input,
        } => (
            Role::Assistant,
            ContentBlock::ToolUse {
                id: call_id,
                name,
                input: json!({ CUSTOM_INPUT: input }),
            },
        ),
        Item::FunctionCallOutput { call_id, output }
        | Item::CustomToolCallOutput { call_id, output } => (
            Role::User,
            ContentBlock::ToolResult {
                tool_use_id: call_id,
                content: tool_output(&output, at, fetched)?,
                is_error: false,
            },
        ),
        // Reasoning without its encrypted content cannot go back to the provider (it
        // would not be signed); the model answers without it, as OpenAI's does.
        Item::Reasoning {
            encrypted_content: None,
        } => return Ok(()),
        Item::Reasoning {
            encrypted_content: Some(encrypted),
        } => (Role::Assistant, carried_reasoning::restore(&encrypted, at)?),
        Item::Reference { id } => {
            return Err(ApiError::bad_request(format!(
                "{at}: item_reference {id:?}: {SEND_THE_WHOLE_INPUT}"
            )))
        }
    };
    push(&mut request.messages, role, vec![block]);
    Ok(())
}

/// An input item as its type says; an item with a role and no type is a message.
fn parse_item(item: &Value, at: &str) -> Result<Item, ApiError> {
    let item = match item {
        Value::Object(map) if !map.contains_key("type") && map.contains_key("role") => {
            let mut map = map.clone();
            map.insert("type".into(), json!("message"));
            Value::Object(map)
        }
        other => other.clone(),
    };
    serde_json::from_value(item).map_err(|e| ApiError::bad_request(format!("{at}: {e}")))
}

/// A message item: system and developer text joins the system prompt, the others a turn.
fn add_message(
    request: &mut ConverseRequest,
    role: &str,
    content: &Value,
    at: &str,
    fetched: &Fetched,
) -> Result<(), ApiError> {
    let role = match role {
        "system" | "developer" => {
            request.system.push(text_of(content, at)?);
            return Ok(());
        }
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(ApiError::bad_request(format!(
                "{at}.role must be user, assistant, system or developer, not {other:?}"
            )))
        }
    };
    push(&mut request.messages, role, parts(content, at, fetched)?);
    Ok(())
}

/// A message's text (a string, or text parts joined), for system and developer messages.
fn text_of(content: &Value, at: &str) -> Result<String, ApiError> {
    match content {
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => Ok(parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")),
        other => Err(ApiError::bad_request(format!(
            "{at}.content must be a string or a list of parts, not {other}"
        ))),
    }
}

/// A message's parts.
fn parts(content: &Value, at: &str, fetched: &Fetched) -> Result<Vec<ContentBlock>, ApiError> {
    let parts = match content {
        Value::String(text) => return Ok(vec![ContentBlock::Text { text: text.clone() }]),
        Value::Array(parts) => parts,
        other => {
            return Err(ApiError::bad_request(format!(
                "{at}.content must be a string or a list of parts, not {other}"
            )))
        }
    };
    parts
        .iter()
        .enumerate()
        .map(|(j, part)| {
            let at = format!("{at}.content[{j}]");
            let text = |key: &str| part.get(key).and_then(Value::as_str).unwrap_or("").to_string();
            match part.get("type").and_then(Value::as_str) {
                Some("input_text" | "output_text") => Ok(ContentBlock::Text { text: text("text") }),
                // A refusal the model gave: the assistant said it.
                Some("refusal") => Ok(ContentBlock::Text {
                    text: text("refusal"),
                }),
                Some("input_image") => input_image(part, &at, fetched),
                Some("input_file") => input_file(part, &at),
                Some(other) => Err(ApiError::bad_request(format!(
                    "{at}: parts of type {other:?} are not supported here: send input_text, input_image and input_file parts"
                ))),
                None => Err(ApiError::bad_request(format!("{at}: a part needs a type"))),
            }
        })
        .collect()
}

fn input_image(part: &Value, at: &str, fetched: &Fetched) -> Result<ContentBlock, ApiError> {
    match part.get("image_url").and_then(Value::as_str) {
        Some(url) => image_from_url(url, fetched, at).map(ContentBlock::from),
        None => Err(ApiError::bad_request(format!(
            "{at}: an input_image needs an image_url (a data URL, or an http(s) URL); uploaded files (file_id) live on OpenAI's platform"
        ))),
    }
}

/// A file given inline (`file_data`, a data URL, with its `filename`): a document.
fn input_file(part: &Value, at: &str) -> Result<ContentBlock, ApiError> {
    let Some(file_data) = part.get("file_data").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(format!(
            "{at}: an input_file needs file_data (data:application/pdf;base64,...); uploaded files (file_id) and file URLs are not read by this gateway"
        )));
    };
    let (media_type, data) = data_url(file_data, &format!("{at}.file_data"))?;
    let filename = part
        .get("filename")
        .and_then(Value::as_str)
        .unwrap_or("document");
    let format = document_format(&media_type, filename).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{at}: {media_type:?} is not a document type the provider reads (pdf, csv, doc, docx, xls, xlsx, html, txt, md)"
        ))
    })?;
    // Bedrock names documents without their extension.
    let name = filename
        .rsplit_once('.')
        .map_or(filename, |(stem, _)| stem)
        .to_string();
    Ok(ContentBlock::Document {
        format: format.into(),
        name,
        data,
        s3: None,
        citations: false,
        text: None,
        content: Vec::new(),
        context: None,
    })
}

/// The provider's document format for a media type (or, when it says nothing, the file's
/// extension).
fn document_format(media_type: &str, filename: &str) -> Option<&'static str> {
    const BY_MEDIA_TYPE: &[(&str, &str)] = &[
        ("application/pdf", "pdf"),
        ("text/csv", "csv"),
        ("application/msword", "doc"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        ("application/vnd.ms-excel", "xls"),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        ("text/html", "html"),
        ("text/plain", "txt"),
        ("text/markdown", "md"),
    ];
    let extension = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase());
    BY_MEDIA_TYPE
        .iter()
        .find(|(known, _)| *known == media_type)
        .map(|(_, format)| *format)
        .or_else(|| {
            BY_MEDIA_TYPE
                .iter()
                .map(|(_, format)| *format)
                .find(|format| extension.as_deref() == Some(*format))
        })
}

/// A tool call's output: a string, or input parts (text, images, files).
fn tool_output(
    output: &Value,
    at: &str,
    fetched: &Fetched,
) -> Result<Vec<ToolResultContent>, ApiError> {
    if let Value::String(text) = output {
        return Ok(vec![ToolResultContent::Text { text: text.clone() }]);
    }
    parts(output, &format!("{at}.output"), fetched)?
        .into_iter()
        .map(|block| match block {
            ContentBlock::Text { text } => Ok(ToolResultContent::Text { text }),
            ContentBlock::Image { format, data, .. } => {
                Ok(ToolResultContent::Image { format, data })
            }
            ContentBlock::Document {
                format, name, data, ..
            } => Ok(ToolResultContent::Document {
                format,
                name,
                data,
                s3: None,
            }),
            _ => Err(ApiError::bad_request(format!(
                "{at}.output: a tool's output holds text, images and files"
            ))),
        })
        .collect()
}

/// What the answer needs to know of the request's tools: which are custom (their calls go
/// back as `custom_tool_call`s) and which sit in a namespace (their calls name it).
#[derive(Default)]
pub struct ToolKinds {
    pub custom: HashSet<String>,
    pub namespace_of: HashMap<String, String>,
}

/// The request's tools, flattened (a namespace's tools are tools of their own names).
fn tools(req: &ResponsesRequest) -> Result<Vec<Tool>, ApiError> {
    let mut tools = Vec::new();
    for (i, tool) in req.tools.iter().enumerate() {
        let at = format!("tools[{i}]");
        match tool["type"].as_str() {
            Some("namespace") => {
                let inner = tool["tools"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                for (j, tool) in inner.iter().enumerate() {
                    tools.extend(tool_of(tool, &format!("{at}.tools[{j}]"))?);
                }
            }
            _ => tools.extend(tool_of(tool, &at)?),
        }
    }
    let mut names = HashSet::new();
    if let Some(twice) = tools.iter().find(|t| !names.insert(t.name.as_str())) {
        return Err(ApiError::bad_request(format!(
            "tools: two tools are named {:?} (namespaces included); the provider needs distinct names",
            twice.name
        )));
    }
    Ok(tools)
}

/// A tool: function tools as they are; custom tools (free-text input, as Codex's
/// `apply_patch`) as a function of one string, their grammar in the description. Of the
/// tools OpenAI's platform runs itself, `web_search` without live access (what Codex CLI
/// sends by default) is left out, since the model can answer without it; the others, and
/// live web search, are refused by name.
fn tool_of(tool: &Value, at: &str) -> Result<Option<Tool>, ApiError> {
    let parse_error = |e: serde_json::Error| ApiError::bad_request(format!("{at}: {e}"));
    match tool.get("type").and_then(Value::as_str) {
        Some("function") => {
            let f: FunctionTool = serde_json::from_value(tool.clone()).map_err(parse_error)?;
            Ok(Some(Tool {
                strict: f.strict.unwrap_or(false),
                ..Tool::new(
                    &f.name,
                    f.description.as_deref().unwrap_or(""),
                    f.parameters
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                )
            }))
        }
        Some("custom") => {
            let c: CustomTool = serde_json::from_value(tool.clone()).map_err(parse_error)?;
            let mut description = c.description.unwrap_or_default();
            if let Some(grammar) = c.format.as_ref().filter(|f| f["type"] == "grammar") {
                description.push_str(&format!(
                    "\n\nThe `{CUSTOM_INPUT}` must follow this {} grammar:\n{}",
                    grammar["syntax"].as_str().unwrap_or(""),
                    grammar["definition"].as_str().unwrap_or("")
                ));
            }
            Ok(Some(Tool::new(
                &c.name,
                &description,
                json!({
                    "type": "object",
                    "properties": {CUSTOM_INPUT: {"type": "string", "description": "The tool's input, as free text."}},
                    "required": [CUSTOM_INPUT],
                }),
            )))
        }
        Some("web_search") if tool["external_web_access"] == json!(false) => Ok(None),
        Some(kind) => Err(ApiError::bad_request(format!(
            "{at}: the tool type {kind:?} runs on OpenAI's own platform, not on Bedrock through this gateway; give it as a function tool your client runs (Codex CLI: web_search = \"disabled\" or \"cached\")"
        ))),
        None => Err(ApiError::bad_request(format!("{at}: a tool needs a type"))),
    }
}

/// The kinds of the request's tools (see [`ToolKinds`]).
pub fn tool_kinds(req: &ResponsesRequest) -> ToolKinds {
    let mut kinds = ToolKinds::default();
    let named = |t: &Value| t["name"].as_str().map(str::to_string);
    for tool in &req.tools {
        match tool["type"].as_str() {
            Some("custom") => kinds.custom.extend(named(tool)),
            Some("namespace") => {
                for inner in tool["tools"].as_array().into_iter().flatten() {
                    if let (Some(name), Some(namespace)) = (named(inner), named(tool)) {
                        if inner["type"] == "custom" {
                            kinds.custom.insert(name.clone());
                        }
                        kinds.namespace_of.insert(name, namespace);
                    }
                }
            }
            _ => {}
        }
    }
    kinds
}

fn tool_choice(choice: Option<&Value>) -> Result<Option<ToolChoice>, ApiError> {
    Ok(match choice {
        None => None,
        Some(Value::String(s)) if s == "auto" => Some(ToolChoice::Auto),
        Some(Value::String(s)) if s == "none" => Some(ToolChoice::None),
        Some(Value::String(s)) if s == "required" => Some(ToolChoice::Any),
        Some(v) if matches!(v["type"].as_str(), Some("function" | "custom")) => {
            match v["name"].as_str() {
                Some(name) => Some(ToolChoice::Tool { name: name.into() }),
                None => return Err(ApiError::bad_request("tool_choice.name: Field required")),
            }
        }
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "tool_choice must be auto, none, required or {{\"type\": \"function\", \"name\": ...}}, not {v}"
            )))
        }
    })
}

fn reasoning(req: &ResponsesRequest) -> Result<Option<ReasoningConfig>, ApiError> {
    let Some(effort) = req.reasoning.as_ref().and_then(|r| r.effort.as_deref()) else {
        return Ok(None);
    };
    let effort = match effort {
        "none" => return Ok(None),
        "minimal" => "low",
        effort @ ("low" | "medium" | "high" | "xhigh") => effort,
        other => {
            return Err(ApiError::bad_request(format!(
                "reasoning.effort must be none, minimal, low, medium, high or xhigh, not {other:?}"
            )))
        }
    };
    Ok(Some(ReasoningConfig {
        effort: Some(effort.into()),
        ..ReasoningConfig::default()
    }))
}

fn output_format(req: &ResponsesRequest) -> Result<Option<OutputFormat>, ApiError> {
    let Some(format) = req.text.as_ref().and_then(|t| t.format.as_ref()) else {
        return Ok(None);
    };
    match format["type"].as_str() {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(OutputFormat::JsonSchema {
            schema: json!({"type": "object"}),
            name: None,
            description: None,
        })),
        Some("json_schema") => Ok(Some(OutputFormat::JsonSchema {
            schema: format
                .get("schema")
                .cloned()
                .ok_or_else(|| ApiError::bad_request("text.format.schema: Field required"))?,
            name: format["name"].as_str().map(str::to_string),
            description: format["description"].as_str().map(str::to_string),
        })),
        other => Err(ApiError::bad_request(format!(
            "text.format.type must be text, json_object or json_schema, not {other:?}"
        ))),
    }
}

/// Each distinct http(s) image URL in the input (messages and tool outputs).
pub fn image_urls(req: &ResponsesRequest) -> Vec<(String, String)> {
    let Some(Value::Array(items)) = &req.input else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let parts = item
            .get("content")
            .or_else(|| item.get("output"))
            .and_then(Value::as_array);
        for (j, part) in parts.into_iter().flatten().enumerate() {
            if part["type"] == "input_image" {
                if let Some(url) = part["image_url"].as_str() {
                    found.push((format!("input[{i}].content[{j}]"), url));
                }
            }
        }
    }
    distinct_image_urls(found.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converse(body: Value) -> Result<ConverseRequest, ApiError> {
        let request: ResponsesRequest = serde_json::from_value(body).unwrap();
        to_converse(&request, "m".into(), &Fetched::new())
    }

    #[test]
    fn codex_tools_are_flattened_and_its_cached_web_search_left_out() {
        let body = json!({"model": "m", "input": "hi", "tools": [
            {"type": "function", "name": "exec_command", "parameters": {"type": "object"}},
            {"type": "namespace", "name": "agents", "tools": [
                {"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}}
            ]},
            {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "start: /x/"}},
            {"type": "web_search", "external_web_access": false}
        ]});
        let request = converse(body.clone()).unwrap();
        let names: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["exec_command", "spawn_agent", "apply_patch"]);
        assert!(request.tools[2].description.contains("start: /x/"));
        let kinds = tool_kinds(&serde_json::from_value(body).unwrap());
        assert!(kinds.custom.contains("apply_patch"));
        assert_eq!(kinds.namespace_of["spawn_agent"], "agents");
        let live = json!({"model": "m", "input": "hi", "tools": [{"type": "web_search"}]});
        assert!(converse(live).unwrap_err().message.contains("web_search"));
        let twice = json!({"model": "m", "input": "hi", "tools": [
            {"type": "function", "name": "f"},
            {"type": "namespace", "name": "n", "tools": [{"type": "function", "name": "f"}]}
        ]});
        assert!(converse(twice).unwrap_err().message.contains("two tools"));
    }

    #[test]
    fn state_the_gateway_does_not_keep_is_refused_with_what_to_send() {
        for extra in [
            json!({"previous_response_id": "resp_1"}),
            json!({"store": true}),
            json!({"conversation": "conv_1"}),
            json!({"input": [{"type": "item_reference", "id": "msg_1"}]}),
        ] {
            let mut body = json!({"model": "m", "input": "hi"});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let error = converse(body).unwrap_err();
            assert!(
                error.message.contains("send the whole conversation"),
                "{}",
                error.message
            );
        }
        assert!(converse(json!({"model": "m", "input": "hi", "store": false})).is_ok());
    }

    #[test]
    fn items_become_turns_in_order() {
        let request = converse(json!({"model": "m", "instructions": "Be brief.", "input": [
            {"role": "developer", "content": "Use tools."},
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{\"a\":1}"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin"},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "two"},
            {"type": "reasoning", "summary": []}
        ]}))
        .unwrap();
        assert_eq!(request.system, ["Be brief.", "Use tools."]);
        assert_eq!(request.messages.len(), 3);
        assert_eq!(
            request.messages[1].content[1],
            ContentBlock::ToolUse {
                id: "c2".into(),
                name: "apply_patch".into(),
                input: json!({"input": "*** Begin"})
            }
        );
        assert_eq!(
            request.messages[2].content.len(),
            2,
            "both results in one turn"
        );
    }
}
