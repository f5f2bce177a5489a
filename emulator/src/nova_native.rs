//! InvokeModel and InvokeModelWithResponseStream for Amazon Nova's understanding models, with
//! Nova's own body: the Converse request's shape (`system`, `messages`, `toolConfig`,
//! `inferenceConfig`) without documents, which only Converse takes, and with Nova's own
//! inference settings at the top level (`topK`, and Nova 2's `reasoningConfig`), where
//! Converse wants them in `additionalModelRequestFields`. Nova 1's guide spells three
//! settings in snake case (`max_new_tokens`, `top_p`, `top_k`) and Nova 2's in camel case
//! (`maxTokens`, `topP`, `topK`): either spelling is taken, both for one setting is refused.
//! The body is then checked as the Converse request it stands for (limits, tools, media,
//! reasoning), answered by the emulator's model, and sent in Nova's shape: whole (the
//! Converse answer's `output`, `stopReason` and `usage`, with Bedrock's token-count headers)
//! or as `chunk` events, each one of Converse's stream events as a one-key object, the last
//! carrying `amazon-bedrock-invocationMetrics`.

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use serde_json::{json, Map, Value};
use std::sync::Arc;

use crate::answer::Answer;
use crate::body_schema::{object_at, one_of, only_keys};
use crate::catalogue::FoundationModel;
use crate::error::{malformed, ApiError};
use crate::state::State;

const KEYS: &[&str] = &[
    "schemaVersion",
    "system",
    "messages",
    "inferenceConfig",
    "toolConfig",
];
/// Each inference setting Converse names, with its snake-case spelling where Nova 1 has one.
const SETTINGS: &[(&str, Option<&str>)] = &[
    ("maxTokens", Some("max_new_tokens")),
    ("temperature", None),
    ("topP", Some("top_p")),
    ("stopSequences", None),
];
/// Nova's own settings, which Converse takes in `additionalModelRequestFields`.
const NOVA_SETTINGS: &[(&str, Option<&str>)] =
    &[("topK", Some("top_k")), ("reasoningConfig", None)];

/// Whether `model` is one of Nova's understanding models (text out).
pub fn is_nova(model: &FoundationModel) -> bool {
    model.id.starts_with("amazon.nova") && model.conversational()
}

/// Answers one call for `model` (a Nova understanding model).
pub fn invoke(
    state: &Arc<State>,
    model: &FoundationModel,
    body: &[u8],
    stream: bool,
) -> Result<Response<Body>, ApiError> {
    let request = crate::error::json_object(body)?;
    let converse = as_converse(&request)?;
    crate::validate::converse_request(&converse)?;
    crate::validate::for_model(&converse, model)?;
    let answer = crate::runtime::native_answer(state, &converse, model)?;
    Ok(if stream {
        streamed(&answer)
    } else {
        whole(&answer)
    })
}

/// The Converse request a Nova body stands for.
fn as_converse(request: &Map<String, Value>) -> Result<Value, ApiError> {
    only_keys("#", request, KEYS)?;
    if let Some(version) = request.get("schemaVersion") {
        one_of(
            "#/schemaVersion",
            version.as_str().unwrap_or_default(),
            &["messages-v1"],
        )?;
    }
    let messages = request
        .get("messages")
        .ok_or_else(|| malformed("#: required key [messages] not found"))?;
    no_documents(messages)?;
    let mut converse = json!({ "messages": messages });
    for key in ["system", "toolConfig"] {
        if let Some(value) = request.get(key) {
            converse[key] = value.clone();
        }
    }
    let Some(config) = request.get("inferenceConfig") else {
        return Ok(converse);
    };
    let config = object_at("#/inferenceConfig", config)?;
    let spellings = SETTINGS.iter().chain(NOVA_SETTINGS);
    let allowed: Vec<&str> = spellings
        .clone()
        .flat_map(|(camel, snake)| std::iter::once(*camel).chain(*snake))
        .collect();
    only_keys("#/inferenceConfig", config, &allowed)?;
    let (inference, nova) = (
        settings(config, SETTINGS)?,
        settings(config, NOVA_SETTINGS)?,
    );
    if !inference.is_empty() {
        converse["inferenceConfig"] = Value::Object(inference);
    }
    let mut extra = Map::new();
    if let Some(top_k) = nova.get("topK") {
        extra.insert("inferenceConfig".into(), json!({ "topK": top_k }));
    }
    if let Some(reasoning) = nova.get("reasoningConfig") {
        extra.insert("reasoningConfig".into(), reasoning.clone());
    }
    if !extra.is_empty() {
        converse["additionalModelRequestFields"] = Value::Object(extra);
    }
    Ok(converse)
}

/// The `settings` `config` gives, by their camel-case names; both spellings of one is refused.
fn settings(
    config: &Map<String, Value>,
    settings: &[(&str, Option<&str>)],
) -> Result<Map<String, Value>, ApiError> {
    let mut given = Map::new();
    for (camel, snake) in settings {
        let value = match (config.get(*camel), snake.and_then(|s| config.get(s))) {
            (Some(_), Some(_)) => {
                return Err(malformed(format!(
                    "#/inferenceConfig: {camel} and {} name one setting; give one of them",
                    snake.unwrap_or_default()
                )))
            }
            (Some(value), None) | (None, Some(value)) => value,
            (None, None) => continue,
        };
        given.insert((*camel).to_string(), value.clone());
    }
    Ok(given)
}

/// Documents are Converse's alone: the Invoke body has no such block.
fn no_documents(messages: &Value) -> Result<(), ApiError> {
    for (i, message) in messages.as_array().into_iter().flatten().enumerate() {
        let content = message.get("content").and_then(Value::as_array);
        for (j, block) in content.into_iter().flatten().enumerate() {
            if block.get("document").is_some() {
                return Err(malformed(format!(
                    "#/messages/{i}/content/{j}: extraneous key [document] is not permitted (documents are taken by Converse only)"
                )));
            }
        }
    }
    Ok(())
}

/// Nova's usage object (its cache counters named `...TokenCount`).
fn usage(answer: &Answer) -> Value {
    let (read, write) = answer.usage.cache.unwrap_or((0, 0));
    json!({
        "inputTokens": answer.usage.input,
        "outputTokens": answer.usage.output,
        "totalTokens": answer.usage.total(),
        "cacheReadInputTokenCount": read,
        "cacheWriteInputTokenCount": write,
    })
}

/// InvokeModel's answer: the message, why it stopped, the usage; and Bedrock's headers.
fn whole(answer: &Answer) -> Response<Body> {
    let body = json!({
        "output": { "message": crate::events::message(answer) },
        "stopReason": answer.stop_reason,
        "usage": usage(answer),
    });
    let mut response = crate::json_http::json_response(body.to_string());
    for (name, value) in [
        ("x-amzn-bedrock-input-token-count", answer.usage.input),
        ("x-amzn-bedrock-output-token-count", answer.usage.output),
        (
            "x-amzn-bedrock-invocation-latency",
            answer.latency_ms.unwrap_or(40),
        ),
    ] {
        response
            .headers_mut()
            .insert(name, HeaderValue::from(value));
    }
    response
}

/// InvokeModelWithResponseStream's answer: Converse's events, each a `chunk` of its own.
fn streamed(answer: &Answer) -> Response<Body> {
    let latency = answer.latency_ms.unwrap_or(40);
    let mut chunks: Vec<Value> = crate::events::stream_events(answer, latency)
        .into_iter()
        .map(|(kind, payload)| json!({ kind: payload }))
        .collect();
    if let Some(last) = chunks.last_mut() {
        last["metadata"]["usage"] = usage(answer);
        last["amazon-bedrock-invocationMetrics"] = json!({
            "inputTokenCount": answer.usage.input, "outputTokenCount": answer.usage.output,
            "invocationLatency": latency, "firstByteLatency": 20,
        });
    }
    crate::json_http::chunk_stream(&chunks)
}
