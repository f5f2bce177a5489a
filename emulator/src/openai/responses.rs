//! `POST …/responses`: the request checked as OpenAI's Responses API checks it, answered by
//! the emulator's model as a response object, or streamed as OpenAI's events
//! ([`super::responses_stream`]).

use axum::body::Body;
use axum::http::Response;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::models::{self, Api, OpenAiModel};
use super::response_object::{Answer, Item};
use super::responses_input::{conversation, encrypted_content};
use super::{OpenAiError, Surface};
use crate::answer::{self, tokens_for, Block};
use crate::json_http::json_response;
use crate::model_rules::Reasoning;
use crate::state::State;

/// The request's parameters OpenAI's API knows; any other is an unknown parameter.
const PARAMETERS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "reasoning",
    "text",
    "max_output_tokens",
    "temperature",
    "top_p",
    "store",
    "include",
    "metadata",
    "parallel_tool_calls",
    "previous_response_id",
    "truncation",
    "user",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "background",
    "top_logprobs",
    "max_tool_calls",
];

const SUMMARIES: &[&str] = &["auto", "concise", "detailed"];
const INCLUDES: &[&str] = &[
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
    "message.input_image.image_url",
    "web_search_call.action.sources",
    "file_search_call.results",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
];
/// The smallest `max_output_tokens` the API takes.
const MIN_OUTPUT_TOKENS: u64 = 16;

/// Answers one Responses request.
pub async fn create(
    state: &Arc<State>,
    api: Api,
    surface: Surface,
    body: &Bytes,
) -> Result<Response<Body>, OpenAiError> {
    let request = super::request_body(body, PARAMETERS)?;
    let model = checked_model(&request, api)?;
    let stream = request
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if stream && surface == Surface::Runtime {
        return Err(OpenAiError::invalid(
            "Streaming is not supported on bedrock-runtime's /openai/v1/responses; stream from bedrock-mantle instead.",
            Some("stream"),
            Some("unsupported_parameter"),
        ));
    }
    let answer = answer(state, &request, model)?;
    if stream {
        return Ok(super::responses_stream::response(&answer));
    }
    let status = answer.final_status();
    Ok(json_response(answer.object(status, true).to_string()))
}

/// The model the request names, served on this route.
pub(super) fn checked_model(
    request: &Value,
    api: Api,
) -> Result<&'static OpenAiModel, OpenAiError> {
    let id = match request.get("model") {
        Some(Value::String(id)) => id,
        Some(other) => return Err(OpenAiError::invalid_type("model", "a string", other)),
        None => return Err(OpenAiError::missing("model")),
    };
    let Some(model) = models::model(id) else {
        return Err(OpenAiError::not_found(format!(
            "The model '{id}' does not exist or you do not have access to it."
        )));
    };
    if !model.apis.contains(&api) {
        return Err(OpenAiError::invalid(
            format!("The model '{id}' does not support the '{}' API", api.path()),
            Some("model"),
            None,
        ));
    }
    Ok(model)
}

/// The settings that shape the answer, each checked.
struct Settings {
    effort: String,
    summary: bool,
    encrypted: bool,
    max_output_tokens: Option<u64>,
    schema: Option<Value>,
}

fn settings(request: &Value, model: &OpenAiModel) -> Result<Settings, OpenAiError> {
    let reasoning = request.get("reasoning").unwrap_or(&Value::Null);
    let effort = match reasoning.get("effort") {
        Some(Value::String(e)) => {
            OpenAiError::check_enum("reasoning.effort", e, model.efforts)?;
            e.clone()
        }
        _ => "medium".to_string(),
    };
    let summary = match reasoning.get("summary") {
        Some(Value::String(s)) => {
            OpenAiError::check_enum("reasoning.summary", s, SUMMARIES)?;
            true
        }
        _ => false,
    };
    let mut encrypted = false;
    if let Some(include) = request.get("include") {
        let list = include
            .as_array()
            .ok_or_else(|| OpenAiError::invalid_type("include", "an array", include))?;
        for (i, v) in list.iter().enumerate() {
            let v = v.as_str().ok_or_else(|| {
                OpenAiError::invalid_type(&format!("include[{i}]"), "a string", v)
            })?;
            OpenAiError::check_enum(&format!("include[{i}]"), v, INCLUDES)?;
            encrypted |= v == "reasoning.encrypted_content";
        }
    }
    if effort != "none" && !model.samples_while_reasoning {
        for p in ["temperature", "top_p"] {
            if request.get(p).is_some_and(|v| !v.is_null()) {
                return Err(OpenAiError::invalid(
                    format!("Unsupported parameter: '{p}' is not supported with this model."),
                    Some(p),
                    Some("unsupported_parameter"),
                ));
            }
        }
    }
    let max_output_tokens = match request.get("max_output_tokens") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let n = v
                .as_u64()
                .ok_or_else(|| OpenAiError::invalid_type("max_output_tokens", "an integer", v))?;
            if n < MIN_OUTPUT_TOKENS {
                return Err(OpenAiError::invalid(
                    format!("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= {MIN_OUTPUT_TOKENS}, but got {n} instead."),
                    Some("max_output_tokens"),
                    Some("integer_below_min_value"),
                ));
            }
            if n > model.max_output_tokens {
                return Err(OpenAiError::invalid(
                    format!("max_output_tokens is too large: {n}. This model supports at most {} output tokens.", model.max_output_tokens),
                    Some("max_output_tokens"),
                    Some("invalid_value"),
                ));
            }
            Some(n)
        }
    };
    Ok(Settings {
        effort,
        summary,
        encrypted,
        max_output_tokens,
        schema: output_schema(request)?,
    })
}

/// `text.format`'s schema, when the answer must match one.
fn output_schema(request: &Value) -> Result<Option<Value>, OpenAiError> {
    let Some(format) = request.pointer("/text/format") else {
        return Ok(None);
    };
    let kind = format.get("type").and_then(Value::as_str).unwrap_or("");
    OpenAiError::check_enum(
        "text.format.type",
        kind,
        &["text", "json_schema", "json_object"],
    )?;
    if kind != "json_schema" {
        return Ok(None);
    }
    for key in ["name", "schema"] {
        if format.get(key).is_none() {
            return Err(OpenAiError::missing(&format!("text.format.{key}")));
        }
    }
    Ok(format.get("schema").cloned())
}

/// The tools' names, each tool checked (functions only: the emulator runs no server tool).
fn check_tools(request: &Value) -> Result<(), OpenAiError> {
    let Some(tools) = request.get("tools") else {
        return Ok(());
    };
    let list = tools
        .as_array()
        .ok_or_else(|| OpenAiError::invalid_type("tools", "an array", tools))?;
    for (i, tool) in list.iter().enumerate() {
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or("");
        OpenAiError::check_enum(&format!("tools[{i}].type"), kind, &["function"])?;
        if !tool.get("name").is_some_and(Value::is_string) {
            return Err(OpenAiError::missing(&format!("tools[{i}].name")));
        }
    }
    Ok(())
}

/// The model's answer: reasoning (unless effort is `none`), then text or calls, as the
/// emulator's model makes them (scenarios included), within `max_output_tokens`.
fn answer(state: &State, request: &Value, model: &OpenAiModel) -> Result<Answer, OpenAiError> {
    let settings = settings(request, model)?;
    check_tools(request)?;
    if let Some(id) = request.get("previous_response_id").filter(|v| !v.is_null()) {
        return Err(OpenAiError::not_found(format!(
            "Previous response with id '{}' not found.",
            id.as_str().unwrap_or_default()
        )));
    }
    let input = request
        .get("input")
        .ok_or_else(|| OpenAiError::missing("input"))?;
    let mut converse = json!({ "messages": conversation(input)? });
    if let Some(schema) = &settings.schema {
        converse["outputConfig"] = json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": schema.to_string()}}}});
    }
    let found = crate::scenario::from_request(&converse)
        .map_err(|e| OpenAiError::invalid(format!("Invalid EMULATOR_SCENARIO: {e}"), None, None))?
        .or_else(|| {
            state
                .scenario_for(&[model.id])
                .map(|s| crate::scenario::registered(&s))
        });
    if let Some(found) = &found {
        scripted_refusal(state, found)?;
    }
    let found = found.map(|f| f.scenario);
    let made = answer::build(&converse, found.as_ref(), Reasoning::None);
    let hex = state.next_request_id().replace('-', "");
    let output = output(&made, &settings, model, &hex);
    let input_tokens = made.usage.input;
    let cached = made.usage.cache.map(|(read, _)| read).unwrap_or(0);
    let usage = json!({
        "input_tokens": input_tokens + cached,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output.tokens,
        "output_tokens_details": {"reasoning_tokens": output.reasoning_tokens},
        "total_tokens": input_tokens + cached + output.tokens,
    });
    Ok(Answer {
        id: format!("resp_{hex}"),
        model: model.id.to_string(),
        items: output.items,
        incomplete: output.incomplete,
        usage,
        echo: echo(request, &settings),
        fault: found.and_then(|s| s.fault),
    })
}

/// The output items of an answer, and what they cost.
struct Output {
    items: Vec<Item>,
    incomplete: Option<&'static str>,
    tokens: u64,
    reasoning_tokens: u64,
}

/// Reasoning (unless effort is `none`), then the model's text and calls, within
/// `max_output_tokens` (text past it is cut, and the answer is incomplete).
fn output(made: &answer::Answer, settings: &Settings, model: &OpenAiModel, hex: &str) -> Output {
    let mut out = Output {
        items: Vec::new(),
        incomplete: None,
        tokens: 0,
        reasoning_tokens: 0,
    };
    if model.reasons && settings.effort != "none" {
        let id = format!("rs_{hex}");
        let text = format!("Considering the request ({} effort).", settings.effort);
        out.reasoning_tokens = tokens_for(text.len()) * 8;
        out.items.push(Item::Reasoning {
            encrypted: settings.encrypted.then(|| encrypted_content(&id)),
            summary: settings.summary.then_some(text),
            id,
        });
    }
    out.tokens = out.reasoning_tokens;
    let budget = settings
        .max_output_tokens
        .unwrap_or(u64::MAX)
        .saturating_sub(out.reasoning_tokens);
    for (n, block) in made.blocks.iter().enumerate() {
        match block {
            Block::Text { text, delta_size } => {
                let mut text = text.clone();
                if tokens_for(text.len()) > budget {
                    text = text.chars().take(budget as usize * 4).collect();
                    out.incomplete = Some("max_output_tokens");
                }
                out.tokens += tokens_for(text.len());
                out.items.push(Item::Message {
                    id: format!("msg_{hex}{n}"),
                    text,
                    delta_size: *delta_size,
                });
            }
            Block::ToolUse {
                id, name, input, ..
            } => {
                let arguments = input.to_string();
                out.tokens += tokens_for(arguments.len());
                out.items.push(Item::FunctionCall {
                    id: format!("fc_{hex}{n}"),
                    call_id: id.clone(),
                    name: name.clone(),
                    arguments,
                });
            }
            _ => {}
        }
    }
    out
}

/// The request's settings, echoed in the response object.
fn echo(request: &Value, settings: &Settings) -> Map<String, Value> {
    let mut echo = Map::new();
    echo.insert(
        "reasoning".into(),
        json!({"effort": settings.effort, "summary": request.pointer("/reasoning/summary")}),
    );
    for key in [
        "instructions",
        "max_output_tokens",
        "store",
        "text",
        "temperature",
        "top_p",
        "service_tier",
    ] {
        echo.insert(key.into(), request.get(key).cloned().unwrap_or(Value::Null));
    }
    echo
}

/// A scenario's refusals, in OpenAI's shape: the first requests throttled, or an error
/// instead of the answer.
fn scripted_refusal(
    state: &State,
    found: &crate::scenario::FoundScenario,
) -> Result<(), OpenAiError> {
    let s = &found.scenario;
    if s.throttle_first
        .is_some_and(|n| state.should_throttle(&found.key, n))
    {
        return Err(OpenAiError::with_status(
            429,
            "rate_limit_error",
            "Too many requests, please wait before trying again.",
        ));
    }
    if let Some(err) = &s.error {
        let status = err
            .status
            .unwrap_or_else(|| crate::error::status_for_error_type(&err.error_type));
        let message = err
            .message
            .clone()
            .unwrap_or_else(|| format!("Emulated {}.", err.error_type));
        return Err(OpenAiError::with_status(status, "api_error", message));
    }
    Ok(())
}
