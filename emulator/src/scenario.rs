//! The scripting format tests use to ask the emulated model for an exact response.
//! See the crate documentation for the format; this module parses and locates scenarios.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Prefix of a user text block that carries a scenario.
pub const SCENARIO_PREFIX: &str = "EMULATOR_SCENARIO ";
/// Key in `requestMetadata` that carries a scenario as a JSON string.
pub const SCENARIO_METADATA_KEY: &str = "emulator-scenario";

/// A scripted model response. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Exact answer text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Deterministic answer text of this many characters (ignored when `text` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_length: Option<usize>,
    /// Characters per text delta (default [`DEFAULT_DELTA_SIZE`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_size: Option<usize>,
    /// A reasoning block, emitted as block 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningSpec>,
    /// Redacted reasoning blocks (base64 strings), after the reasoning block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted_reasoning: Option<Vec<String>>,
    /// Server-side tool calls with their results, emitted first (the request must declare
    /// each as a `systemTool`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_tool_calls: Option<Vec<ServerToolCallSpec>>,
    /// Tool calls, emitted after the text block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallSpec>>,
    /// Stop reason; any string passes through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Usage numbers; missing ones are computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageSpec>,
    /// `metrics.latencyMs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Delay before the response starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte_delay_ms: Option<u64>,
    /// Delay between stream events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_delay_ms: Option<u64>,
    /// A failure injected into the stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// The first N requests carrying this same scenario get HTTP 429.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_first: Option<u32>,
    /// An error response sent instead of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSpec>,
    /// An image the model makes, after the text (as Bedrock streams a generated image:
    /// `contentBlockStart.image`, then its bytes in `contentBlockDelta.image`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSpec>,
    /// The service tier Bedrock reports having served the request at (`serviceTier.type` in
    /// the response or the `metadata` event), when it is not the one asked for: a `flex`
    /// request served at `default`, say. Without it the asked tier is echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_tier: Option<String>,
}

/// A generated image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    /// png, jpeg, gif or webp.
    pub format: String,
    /// The bytes, base64.
    #[serde(default)]
    pub data: String,
    /// Why the image could not be made (an `ErrorBlock`), instead of bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Default characters per text delta.
pub const DEFAULT_DELTA_SIZE: usize = 6;

/// Reasoning block content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReasoningSpec {
    /// Reasoning text.
    #[serde(default)]
    pub text: String,
    /// Signature, sent as the last delta of the block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Characters per reasoning delta (default: the text delta size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_size: Option<usize>,
}

/// One tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolCallSpec {
    /// Tool name.
    pub name: String,
    /// Input object (any JSON value).
    #[serde(default)]
    pub input: Value,
    /// toolUseId (default `tooluse_emulator<block index>...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Split the input JSON into fragments of this many chars, preceded by an empty fragment
    /// as Claude does. Without it the input is sent in one fragment, as Nova does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment_size: Option<usize>,
}

/// A tool the service runs itself (Nova 2's `nova_code_interpreter`, `nova_grounding`): its
/// call and its result are streamed as blocks of their own, before the answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerToolCallSpec {
    /// The system tool, as declared in `toolConfig.tools[].systemTool.name`.
    pub name: String,
    /// Its input (`{"snippet": "1234 * 5678"}` for the code interpreter).
    #[serde(default)]
    pub input: Value,
    /// What the service's run returned (`{"stdOut": "7006652", "stdErr": "", "exitCode": 0,
    /// "isError": false}`).
    #[serde(default)]
    pub result: Value,
    /// toolUseId (default `tooluse_server<block index>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Usage numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsageSpec {
    /// inputTokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// outputTokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// cacheReadInputTokens (also sent as cacheReadInputTokenCount, like the service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// cacheWriteInputTokens (also sent as cacheWriteInputTokenCount, like the service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_input_tokens: Option<u64>,
}

/// A failure injected into a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Fault {
    /// An exception frame after N events, then the stream ends.
    Exception {
        /// Events sent before the exception.
        #[serde(default)]
        after_events: usize,
        /// e.g. `throttlingException`.
        exception: String,
        /// Message (default: the service's wording for that exception).
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// `modelStreamErrorException`'s `originalStatusCode`: what the model itself answered.
        #[serde(skip_serializing_if = "Option::is_none")]
        original_status_code: Option<u16>,
        /// `modelStreamErrorException`'s `originalMessage`.
        #[serde(skip_serializing_if = "Option::is_none")]
        original_message: Option<String>,
    },
    /// Close the connection in the middle of the frame after N events.
    Cut {
        /// Events sent before the cut.
        #[serde(default)]
        after_events: usize,
    },
    /// End the stream cleanly without messageStop and metadata.
    NoMessageStop,
    /// Stop sending for `ms` milliseconds after N events.
    Stall {
        /// Events sent before the stall.
        #[serde(default)]
        after_events: usize,
        /// Stall duration.
        ms: u64,
    },
}

/// An error response sent before any stream starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorSpec {
    /// HTTP status (default: the usual status of `type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Error type, e.g. `ModelNotReadyException`.
    #[serde(rename = "type")]
    pub error_type: String,
    /// Message (default: a generic one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A scenario plus the canonical JSON text that keys its `throttleFirst` counter.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundScenario {
    /// The parsed scenario.
    pub scenario: Scenario,
    /// Canonical JSON text of the scenario.
    pub key: String,
}

/// Parses scenario JSON text (used for all three sources).
pub fn parse(text: &str) -> Result<FoundScenario, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    from_value(value)
}

fn from_value(value: Value) -> Result<FoundScenario, String> {
    let key = canonical(&value);
    let scenario: Scenario = serde_json::from_value(value).map_err(|e| e.to_string())?;
    Ok(FoundScenario { scenario, key })
}

/// Serializes with sorted keys, whatever map type serde_json was built with.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&map[*k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

/// Whether a text is a scenario carrier (never echoed, never counted as user text).
pub fn is_scenario_text(text: &str) -> bool {
    text.starts_with(SCENARIO_PREFIX)
}

/// The content blocks of the last user message of a request body, if it has one.
pub fn last_user_content(body: &Value) -> Option<&Vec<Value>> {
    body.get("messages")
        .and_then(Value::as_array)
        .and_then(|ms| {
            ms.iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
}

/// Finds the scenario in a request body: last user message first, then `requestMetadata`.
/// `Ok(None)` when the request carries none; `Err` when one is present but malformed.
pub fn from_request(body: &Value) -> Result<Option<FoundScenario>, String> {
    if let Some(content) = last_user_content(body) {
        for block in content {
            if let Some(text) = block.get("text").and_then(Value::as_str) {
                if let Some(rest) = text.strip_prefix(SCENARIO_PREFIX) {
                    // Only the first JSON value counts; trailing prose is allowed.
                    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
                    return match values.next() {
                        Some(Ok(v)) => from_value(v).map(Some),
                        Some(Err(e)) => Err(e.to_string()),
                        None => Err("missing scenario JSON".to_string()),
                    };
                }
            }
        }
    }
    if let Some(meta) = body
        .get("requestMetadata")
        .and_then(|m| m.get(SCENARIO_METADATA_KEY))
    {
        return match meta.as_str() {
            Some(text) => parse(text).map(Some),
            None => Err(format!(
                "requestMetadata.{SCENARIO_METADATA_KEY} must be a JSON string"
            )),
        };
    }
    Ok(None)
}

/// Registered scenarios are keyed like request-carried ones.
pub fn registered(scenario: &Scenario) -> FoundScenario {
    let value = serde_json::to_value(scenario).unwrap_or(Value::Null);
    FoundScenario {
        key: canonical(&value),
        scenario: scenario.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_text_scenario_and_ignores_trailing_prose() {
        let body = serde_json::json!({"messages":[{"role":"user","content":[
            {"text":"EMULATOR_SCENARIO {\"text\":\"hi\",\"fault\":{\"kind\":\"cut\",\"afterEvents\":2}} and more"}]}]});
        let found = from_request(&body).unwrap().unwrap();
        assert_eq!(found.scenario.text.as_deref(), Some("hi"));
        assert_eq!(found.scenario.fault, Some(Fault::Cut { after_events: 2 }));
    }

    #[test]
    fn metadata_scenario_and_bad_json() {
        let body = serde_json::json!({"messages":[{"role":"user","content":[{"text":"x"}]}],
            "requestMetadata":{"emulator-scenario":"{\"textLength\":5}"}});
        assert_eq!(
            from_request(&body).unwrap().unwrap().scenario.text_length,
            Some(5)
        );
        let bad = serde_json::json!({"messages":[{"role":"user","content":[{"text":"EMULATOR_SCENARIO {\"nope\":1}"}]}]});
        assert!(from_request(&bad).is_err());
    }

    #[test]
    fn canonical_key_ignores_key_order() {
        assert_eq!(
            parse("{\"text\":\"a\",\"deltaSize\":2}").unwrap().key,
            parse("{\"deltaSize\":2, \"text\":\"a\"}").unwrap().key
        );
    }
}
