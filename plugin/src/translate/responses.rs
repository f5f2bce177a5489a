//! The contract's [`ConverseRequest`] as a request body of the OpenAI-compatible Responses API
//! on Bedrock (Mantle's `/openai/v1/responses`), for the models that answer nowhere else.
//!
//! The conversation goes as stateless input items (`store: false`): messages, function calls
//! and their outputs, and the model's earlier reasoning as the encrypted items it returned
//! (kept byte for byte in `redactedReasoning` blocks). What the API has no place for is
//! refused here, naming it, before any call.

use base64::Engine as _;
use host_sdk::{
    ContentBlock, ConverseRequest, OutputFormat, ProviderError, Role, ToolChoice, ToolResultContent,
};
use serde_json::{json, Map, Value};

use super::media::{sniff_image, MAX_IMAGE_BYTES};
use super::reasoning::asked_effort;
use super::unsupported_block;
use crate::errors::invalid_request;
use crate::model_facts::ReasoningStyle;

/// The API's smallest output limit.
const MIN_OUTPUT_TOKENS: u32 = 16;
/// The service tiers a Responses request may name.
const SERVICE_TIERS: [&str; 3] = ["default", "flex", "priority"];

/// The request body for `model_id`, which reasons in `style` (streamed, stateless,
/// encrypted reasoning included).
pub fn body(
    req: &ConverseRequest,
    model_id: &str,
    style: ReasoningStyle,
) -> Result<Value, ProviderError> {
    refuse_what_has_no_place(req)?;
    let mut body = Map::new();
    body.insert("model".into(), json!(model_id));
    body.insert("input".into(), Value::Array(input(req)?));
    if let Some(instructions) = instructions(req)? {
        body.insert("instructions".into(), json!(instructions));
    }
    body.insert("stream".into(), json!(true));
    body.insert("store".into(), json!(false));
    body.insert("include".into(), json!(["reasoning.encrypted_content"]));
    let effort = reasoning(req, style, &mut body)?;
    sampling(req, style, effort.as_deref(), &mut body)?;
    tools(req, &mut body);
    if let Some(OutputFormat::JsonSchema {
        schema,
        name,
        description,
    }) = &req.output_format
    {
        let mut format = json!({"type": "json_schema", "name": name.as_deref().unwrap_or("output"), "schema": schema, "strict": true});
        if let Some(d) = description {
            format["description"] = json!(d);
        }
        body.insert("text".into(), json!({ "format": format }));
    }
    if let Some(tier) = &req.service_tier {
        if !SERVICE_TIERS.contains(&tier.as_str()) {
            return Err(invalid_request(format!(
                "serviceTier `{tier}` is not one the Responses API takes ({}): `{model_id}` answers only there",
                SERVICE_TIERS.join(", ")
            )));
        }
        body.insert("service_tier".into(), json!(tier));
    }
    if !req.metadata.is_empty() {
        let map: Map<String, Value> = req
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        body.insert("metadata".into(), Value::Object(map));
    }
    // The host's raw additions go as top-level parameters: the service checks them.
    if let Some(Value::Object(extra)) = &req.extra {
        body.extend(extra.clone());
    }
    Ok(Value::Object(body))
}

/// What only Converse has.
fn refuse_what_has_no_place(req: &ConverseRequest) -> Result<(), ProviderError> {
    let only_converse = |what: &str| {
        invalid_request(format!(
            "{what} is not available for `{}`: the model answers only on Bedrock's Responses API, which has no place for it",
            req.model
        ))
    };
    if !req.inference.stop_sequences.is_empty() {
        return Err(only_converse("stopSequences"));
    }
    if !req.server_tools.is_empty() {
        return Err(only_converse("serverTools"));
    }
    if req.cache.is_some() {
        return Err(only_converse(
            "cache (the Responses API caches prompts by itself)",
        ));
    }
    if let Some(options) = req
        .provider_options
        .get(crate::config::PROVIDER_ID)
        .and_then(Value::as_object)
        .filter(|o| !o.is_empty())
    {
        let keys: Vec<&str> = options.keys().map(String::as_str).collect();
        return Err(only_converse(&format!(
            "providerOptions[\"{}\"] ({})",
            crate::config::PROVIDER_ID,
            keys.join(", ")
        )));
    }
    Ok(())
}

/// `system` and `systemBlocks` (text only) as the instructions.
fn instructions(req: &ConverseRequest) -> Result<Option<String>, ProviderError> {
    let mut parts: Vec<&str> = req
        .system
        .iter()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .collect();
    for (i, block) in req.system_blocks.iter().enumerate() {
        match block {
            ContentBlock::Text { text } => parts.push(text),
            other => return Err(unsupported_block(other, &format!("systemBlocks[{i}]"))),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("\n\n")))
}

/// The conversation as input items.
fn input(req: &ConverseRequest) -> Result<Vec<Value>, ProviderError> {
    let mut items = Vec::new();
    for (i, message) in req.messages.iter().enumerate() {
        let mut parts = Vec::new();
        for (j, block) in message.content.iter().enumerate() {
            let at = format!("messages[{i}].content[{j}]");
            let item = match (message.role, block) {
                (Role::User, ContentBlock::Text { text }) => {
                    parts.push(json!({"type": "input_text", "text": text}));
                    None
                }
                (Role::Assistant, ContentBlock::Text { text }) => {
                    parts.push(json!({"type": "output_text", "text": text}));
                    None
                }
                (Role::User, ContentBlock::Image { data, s3, .. }) => {
                    parts.push(image(data, s3.is_some(), &at)?);
                    None
                }
                (
                    Role::User,
                    ContentBlock::ToolResult {
                        tool_use_id,
                        content,
                        is_error,
                    },
                ) => Some(
                    json!({"type": "function_call_output", "call_id": tool_use_id, "output": tool_output(content, *is_error, &at)?}),
                ),
                (Role::Assistant, ContentBlock::ToolUse { id, name, input }) => Some(
                    json!({"type": "function_call", "call_id": id, "name": name, "arguments": input.to_string()}),
                ),
                (Role::Assistant, ContentBlock::RedactedReasoning { data }) => reasoning_item(data),
                // A summary is what the model showed of its reasoning; the encrypted item
                // beside it is what goes back.
                (Role::Assistant, ContentBlock::Reasoning { .. }) => None,
                (_, other) => return Err(unsupported_block(other, &at)),
            };
            if let Some(item) = item {
                flush(&mut items, message.role, &mut parts);
                items.push(item);
            }
        }
        flush(&mut items, message.role, &mut parts);
    }
    if items.is_empty() {
        return Err(invalid_request(
            "the request has no messages with content: add a user message",
        ));
    }
    Ok(items)
}

/// The message parts gathered so far, as one message item.
fn flush(items: &mut Vec<Value>, role: Role, parts: &mut Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    let role = if role == Role::Assistant {
        "assistant"
    } else {
        "user"
    };
    items.push(json!({"type": "message", "role": role, "content": std::mem::take(parts)}));
}

/// A reasoning item this plugin received from the Responses API (its JSON, kept as the
/// redacted block's bytes). Encrypted reasoning of another API or model cannot go back.
fn reasoning_item(data: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(data)
        .ok()
        .filter(|v| v["type"] == "reasoning" && v["encrypted_content"].is_string())
}

fn image(data: &[u8], in_s3: bool, at: &str) -> Result<Value, ProviderError> {
    if in_s3 {
        return Err(invalid_request(format!(
            "{at}: the Responses API takes images as bytes, not S3 locations"
        )));
    }
    if data.len() > MAX_IMAGE_BYTES {
        return Err(invalid_request(format!(
            "{at}: the image is {} bytes; Bedrock takes at most {MAX_IMAGE_BYTES}",
            data.len()
        )));
    }
    let format = sniff_image(data).ok_or_else(|| {
        invalid_request(format!(
            "{at}: the image's bytes are not PNG, JPEG, GIF or WebP"
        ))
    })?;
    let data = base64::engine::general_purpose::STANDARD.encode(data);
    Ok(
        json!({"type": "input_image", "image_url": format!("data:image/{};base64,{data}", format.as_str())}),
    )
}

/// A tool result as the function call's output text.
fn tool_output(
    content: &[ToolResultContent],
    is_error: bool,
    at: &str,
) -> Result<String, ProviderError> {
    let mut parts = Vec::new();
    for part in content {
        match part {
            ToolResultContent::Text { text } => parts.push(text.clone()),
            ToolResultContent::Json { value } => parts.push(value.to_string()),
            _ => {
                return Err(invalid_request(format!(
                    "{at}: a tool result for the Responses API holds text or JSON only"
                )))
            }
        }
    }
    let text = parts.join("\n");
    Ok(if is_error {
        format!("Error: {text}")
    } else {
        text
    })
}

/// `reasoning`: the effort asked for (a budget stands for its level), with a summary to show.
fn reasoning(
    req: &ConverseRequest,
    style: ReasoningStyle,
    body: &mut Map<String, Value>,
) -> Result<Option<String>, ProviderError> {
    let Some(effort) = req.reasoning.as_ref().and_then(asked_effort) else {
        return Ok(None);
    };
    let efforts = style.responses_efforts();
    if !efforts.contains(&effort.as_str()) {
        return Err(invalid_request(format!(
            "reasoning effort `{effort}` is not one `{}` takes on the Responses API: use {}",
            req.model,
            efforts.join(", ")
        )));
    }
    let mut config = json!({ "effort": effort });
    if effort != "none" {
        config["summary"] = json!("auto");
    }
    body.insert("reasoning".into(), config);
    Ok(Some(effort))
}

/// `max_output_tokens`; temperature and top_p, for OpenAI's models only without reasoning,
/// as they take them.
fn sampling(
    req: &ConverseRequest,
    style: ReasoningStyle,
    effort: Option<&str>,
    body: &mut Map<String, Value>,
) -> Result<(), ProviderError> {
    let inference = &req.inference;
    if let Some(max) = inference.max_tokens {
        if max < MIN_OUTPUT_TOKENS {
            return Err(invalid_request(format!(
                "maxTokens is {max}; the Responses API takes at least {MIN_OUTPUT_TOKENS}"
            )));
        }
        body.insert("max_output_tokens".into(), json!(max));
    }
    for (name, value) in [
        ("temperature", inference.temperature),
        ("top_p", inference.top_p),
    ] {
        let Some(value) = value else { continue };
        if effort != Some("none") && !style.samples_while_reasoning() {
            return Err(invalid_request(format!(
                "{name} is taken by `{}` only with reasoning off: set the reasoning effort to `none`, or leave {name} out",
                req.model
            )));
        }
        body.insert(name.into(), json!(decimal(value)));
    }
    Ok(())
}

/// A setting held as `f32`, as the decimal the host wrote (0.3, not the 0.30000001192092896
/// a widening to `f64` would send).
fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// The request's functions and the tool choice.
fn tools(req: &ConverseRequest, body: &mut Map<String, Value>) {
    if req.tools.is_empty() {
        return;
    }
    let tools: Vec<Value> = req
        .tools
        .iter()
        .map(|t| {
            json!({"type": "function", "name": t.name, "description": t.description, "parameters": t.input_schema, "strict": t.strict})
        })
        .collect();
    body.insert("tools".into(), Value::Array(tools));
    let choice = match &req.tool_choice {
        None | Some(ToolChoice::Auto) => json!("auto"),
        Some(ToolChoice::Any) => json!("required"),
        Some(ToolChoice::None) => json!("none"),
        Some(ToolChoice::Tool { name }) => json!({"type": "function", "name": name}),
        Some(_) => json!("auto"),
    };
    body.insert("tool_choice".into(), choice);
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_sdk::{Message, ReasoningConfig, Tool};

    fn request() -> ConverseRequest {
        ConverseRequest::user_text("openai.gpt-5.5", "Hello")
    }

    #[test]
    fn a_conversation_goes_as_stateless_items_with_reasoning_going_back() {
        let mut req = request();
        req.system = vec!["Be brief.".into()];
        let item =
            json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "abc"});
        req.messages.push(Message {
            role: Role::Assistant,
            content: vec![
                ContentBlock::Reasoning {
                    text: "thinking".into(),
                    signature: None,
                },
                ContentBlock::RedactedReasoning {
                    data: item.to_string().into_bytes(),
                },
                ContentBlock::ToolUse {
                    id: "call_1".into(),
                    name: "add".into(),
                    input: json!({"a": 1}),
                },
            ],
        });
        req.messages.push(Message {
            role: Role::User,
            content: vec![ContentBlock::ToolResult {
                tool_use_id: "call_1".into(),
                content: vec![ToolResultContent::Json { value: json!(2) }],
                is_error: false,
            }],
        });
        req.tools = vec![Tool::new("add", "Adds", json!({"type": "object"}))];
        let body = body(&req, "openai.gpt-5.5", ReasoningStyle::OpenAiNestedEffort).unwrap();
        assert_eq!(body["instructions"], "Be brief.");
        assert_eq!(body["store"], false);
        let input = body["input"].as_array().unwrap();
        assert_eq!(
            input[0]["content"][0],
            json!({"type": "input_text", "text": "Hello"})
        );
        assert_eq!(input[1], item);
        assert_eq!(input[2]["type"], "function_call");
        assert_eq!(input[2]["arguments"], "{\"a\":1}");
        assert_eq!(
            input[3],
            json!({"type": "function_call_output", "call_id": "call_1", "output": "2"})
        );
        assert_eq!(body["tools"][0]["name"], "add");
    }

    #[test]
    fn what_the_api_cannot_take_is_refused_before_any_call() {
        let mut req = request();
        req.inference.stop_sequences = vec!["END".into()];
        assert!(
            body(&req, "openai.gpt-5.5", ReasoningStyle::OpenAiNestedEffort)
                .unwrap_err()
                .message
                .contains("stopSequences")
        );
        let mut req = request();
        req.inference.temperature = Some(0.3);
        assert!(
            body(&req, "openai.gpt-5.5", ReasoningStyle::OpenAiNestedEffort)
                .unwrap_err()
                .message
                .contains("reasoning off")
        );
        req.reasoning = Some(ReasoningConfig {
            effort: Some("none".into()),
            ..Default::default()
        });
        assert_eq!(
            body(&req, "openai.gpt-5.5", ReasoningStyle::OpenAiNestedEffort).unwrap()
                ["temperature"],
            json!(0.3),
            "the decimal the host wrote, not its f32 widened"
        );
        let mut req = request();
        req.reasoning = Some(ReasoningConfig {
            effort: Some("max".into()),
            ..Default::default()
        });
        assert!(
            body(&req, "openai.gpt-5.5", ReasoningStyle::OpenAiNestedEffort)
                .unwrap_err()
                .message
                .contains("xhigh")
        );
        let mut req = request();
        req.inference.max_tokens = Some(8);
        assert!(
            body(&req, "openai.gpt-5.5", ReasoningStyle::OpenAiNestedEffort)
                .unwrap_err()
                .message
                .contains("at least 16")
        );
    }
}
