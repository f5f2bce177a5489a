//! InvokeModel and InvokeModelWithResponseStream for the families whose own body is a prompt:
//! Amazon Titan Text (`inputText`, `textGenerationConfig`), Meta Llama (`prompt`,
//! `max_gen_len`) and Mistral's instruct models (`prompt`, `max_tokens`). Each body is checked
//! as Bedrock checks it (required and extraneous keys), answered by the emulator's model, whole
//! or as `chunk` events in the family's shape, the last with `amazon-bedrock-invocationMetrics`.

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use serde_json::{json, Map, Value};

use crate::answer::{self, tokens_for};
use crate::catalogue::FoundationModel;
use crate::error::{malformed, ApiError};

/// A family whose own body is a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Titan,
    Llama,
    Mistral,
}

impl Family {
    /// The family of `model`, by its id, when it is one of these.
    pub fn of(model: &FoundationModel) -> Option<Family> {
        let id = model.id;
        if id.starts_with("amazon.titan-text") {
            Some(Family::Titan)
        } else if id.starts_with("meta.llama") {
            Some(Family::Llama)
        } else if id.starts_with("mistral.mistral-") || id.starts_with("mistral.mixtral-") {
            Some(Family::Mistral)
        } else {
            None
        }
    }

    /// The body's keys, the required one first.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Family::Titan => &["inputText", "textGenerationConfig"],
            Family::Llama => &["prompt", "max_gen_len", "temperature", "top_p", "images"],
            Family::Mistral => &[
                "prompt",
                "max_tokens",
                "temperature",
                "top_p",
                "top_k",
                "stop",
            ],
        }
    }
}

/// Answers one call.
pub fn invoke(family: Family, body: &[u8], stream: bool) -> Result<Response<Body>, ApiError> {
    let request = crate::error::json_object(body)?;
    let prompt = checked(family, &request)?;
    let converse = json!({"messages": [{"role": "user", "content": [{"text": prompt}]}]});
    let made = answer::build(&converse, None, crate::model_rules::Reasoning::None);
    let text: String = made
        .blocks
        .iter()
        .filter_map(|b| match b {
            answer::Block::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let (input, output) = (tokens_for(prompt.len()), tokens_for(text.len()));
    if stream {
        return Ok(streamed(family, &text, input, output));
    }
    let mut response =
        crate::json_http::json_response(whole(family, &text, input, output).to_string());
    for (name, value) in [
        ("x-amzn-bedrock-input-token-count", input),
        ("x-amzn-bedrock-output-token-count", output),
    ] {
        response
            .headers_mut()
            .insert(name, HeaderValue::from(value));
    }
    Ok(response)
}

/// The prompt of a body that is well formed for its family.
fn checked(family: Family, request: &Map<String, Value>) -> Result<String, ApiError> {
    let keys = family.keys();
    crate::body_schema::only_keys("#", request, keys)?;
    let required = keys[0];
    let prompt = match request.get(required) {
        Some(Value::String(p)) => p.clone(),
        Some(_) => {
            return Err(malformed(format!(
                "#/{required}: expected type: String, found: other"
            )))
        }
        None => return Err(malformed(format!("#: required key [{required}] not found"))),
    };
    if family == Family::Titan {
        let allowed = ["maxTokenCount", "temperature", "topP", "stopSequences"];
        if let Some(config) = request
            .get("textGenerationConfig")
            .and_then(Value::as_object)
        {
            crate::body_schema::only_keys("#/textGenerationConfig", config, &allowed)?;
        }
    }
    Ok(prompt)
}

/// InvokeModel's answer in the family's shape.
fn whole(family: Family, text: &str, input: u64, output: u64) -> Value {
    match family {
        Family::Titan => json!({
            "inputTextTokenCount": input,
            "results": [{"tokenCount": output, "outputText": text, "completionReason": "FINISH"}],
        }),
        Family::Llama => json!({
            "generation": text, "prompt_token_count": input,
            "generation_token_count": output, "stop_reason": "stop",
        }),
        Family::Mistral => json!({"outputs": [{"text": text, "stop_reason": "stop"}]}),
    }
}

/// InvokeModelWithResponseStream's answer: the text in chunks of the family's shape, the last
/// with the invocation metrics.
fn streamed(family: Family, text: &str, input: u64, output: u64) -> Response<Body> {
    let pieces = answer::split_chars(text, 16);
    let last = pieces.len().saturating_sub(1);
    let chunks: Vec<Value> = pieces
        .iter()
        .enumerate()
        .map(|(n, piece)| {
            let done = n == last;
            let mut chunk = match family {
                Family::Titan => json!({
                    "outputText": piece, "index": 0, "totalOutputTextTokenCount": output,
                    "completionReason": if done { json!("FINISH") } else { Value::Null },
                    "inputTextTokenCount": input,
                }),
                Family::Llama => json!({
                    "generation": piece, "prompt_token_count": if n == 0 { json!(input) } else { Value::Null },
                    "generation_token_count": n + 1,
                    "stop_reason": if done { json!("stop") } else { Value::Null },
                }),
                Family::Mistral => json!({"outputs": [{"text": piece, "stop_reason": if done { json!("stop") } else { Value::Null }}]}),
            };
            if done {
                chunk["amazon-bedrock-invocationMetrics"] = json!({
                    "inputTokenCount": input, "outputTokenCount": output,
                    "invocationLatency": 40, "firstByteLatency": 20,
                });
            }
            chunk
        })
        .collect();
    crate::json_http::chunk_stream(&chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_takes_its_own_keys_only() {
        let titan = json!({"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 10}});
        assert!(checked(Family::Titan, titan.as_object().unwrap()).is_ok());
        let wrong = json!({"prompt": "hi"});
        let e = checked(Family::Titan, wrong.as_object().unwrap()).unwrap_err();
        assert!(e.message.contains("extraneous key [prompt]"), "{e}");
        let e = checked(
            Family::Llama,
            json!({"max_gen_len": 5}).as_object().unwrap(),
        )
        .unwrap_err();
        assert!(e.message.contains("required key [prompt]"), "{e}");
        assert!(checked(
            Family::Mistral,
            json!({"prompt": "<s>[INST] hi [/INST]", "max_tokens": 5})
                .as_object()
                .unwrap()
        )
        .is_ok());
    }
}
