//! The provider-neutral conversation schema: what a host sends ([`ConverseRequest`]) and what
//! a finished stream gives back ([`Completion`]). These documents cross the plugin boundary as
//! JSON (camelCase); every field a newer version adds is optional, so hosts and plugins one
//! minor version apart still understand each other.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One streaming conversation turn to run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseRequest {
    /// Model id as listed by the provider (without the `provider/` prefix).
    pub model: String,
    /// System prompt blocks, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<String>,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "InferenceConfig::is_empty")]
    pub inference: InferenceConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheConfig>,
    /// Model-specific fields passed through unchanged (Bedrock: `additionalModelRequestFields`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
    /// Opaque key/value pairs the provider forwards to the service when it supports them
    /// (Bedrock: `requestMetadata`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<(String, String)>,
}

/// How deeply a JSON value inside a request (tool input, tool schema, tool result, `extra`)
/// may nest. Serialising and parsing recurse once per level, so a value nested tens of
/// thousands deep would overflow the stack; no real schema or tool input comes near this.
pub const MAX_JSON_DEPTH: usize = 64;

/// Whether `value` nests arrays and objects more than `limit` levels deep. Iterative, so it
/// is safe on any value.
pub fn json_deeper_than(value: &Value, limit: usize) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth + 1 > limit {
            return true;
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

impl ConverseRequest {
    /// Every free-form JSON value the request carries.
    pub fn json_values(&self) -> impl Iterator<Item = &Value> {
        let in_messages = self
            .messages
            .iter()
            .flat_map(|m| m.content.iter())
            .flat_map(|block| -> Box<dyn Iterator<Item = &Value> + '_> {
                match block {
                    ContentBlock::ToolUse { input, .. } => Box::new(std::iter::once(input)),
                    ContentBlock::ToolResult { content, .. } => {
                        Box::new(content.iter().filter_map(|c| match c {
                            ToolResultContent::Json { value } => Some(value),
                            _ => None,
                        }))
                    }
                    _ => Box::new(std::iter::empty()),
                }
            });
        self.extra
            .iter()
            .chain(self.tools.iter().map(|t| &t.input_schema))
            .chain(in_messages)
    }

    /// A one-turn request: a single user message with `prompt` as text.
    pub fn user_text(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            messages: vec![Message::user_text(prompt)],
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
}

impl Message {
    pub fn user_text(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    pub fn assistant_text(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    /// All text blocks joined, for display.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// One block of message content. Binary data is base64 in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ContentBlock {
    Text {
        text: String,
    },
    /// An image. The provider checks the real format from the bytes; `format` is a hint.
    #[serde(rename_all = "camelCase")]
    Image {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename_all = "camelCase")]
    Document {
        /// pdf, csv, doc, docx, xls, xlsx, html, txt, md.
        format: String,
        name: String,
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename_all = "camelCase")]
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    #[serde(rename_all = "camelCase")]
    ToolResult {
        tool_use_id: String,
        content: Vec<ToolResultContent>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    /// Model reasoning. `signature` is present when the model signed it; only signed
    /// reasoning can be replayed as reasoning.
    #[serde(rename_all = "camelCase")]
    Reasoning {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// Reasoning the service returned encrypted; replayed as is.
    #[serde(rename_all = "camelCase")]
    RedactedReasoning {
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ToolResultContent {
    Text {
        text: String,
    },
    Json {
        value: Value,
    },
    #[serde(rename_all = "camelCase")]
    Image {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// JSON Schema of the tool's input.
    pub input_schema: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must not call tools.
    None,
    /// The model must call this tool.
    Tool { name: String },
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
}

impl InferenceConfig {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// How much the model may think before answering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningConfig {
    /// A token budget for models with budget-based thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u32>,
    /// An effort level (`low`, `medium`, `high`, `max`) for models with adaptive thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CacheRetention {
    /// The service's default (about five minutes).
    #[default]
    Short,
    /// One hour, where the model supports it.
    Long,
    /// No cache points.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheConfig {
    #[serde(default)]
    pub retention: CacheRetention,
}

/// Why the model stopped. Unknown reasons are kept, not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    ToolUse,
    MaxTokens,
    StopSequence,
    GuardrailIntervened,
    ContentFiltered,
    ModelContextWindowExceeded,
    MalformedModelOutput,
    MalformedToolUse,
    #[serde(untagged)]
    Other(String),
}

impl StopReason {
    pub fn parse(s: &str) -> Self {
        serde_json::from_value(Value::String(s.to_owned()))
            .unwrap_or_else(|_| Self::Other(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::EndTurn => "end_turn",
            Self::ToolUse => "tool_use",
            Self::MaxTokens => "max_tokens",
            Self::StopSequence => "stop_sequence",
            Self::GuardrailIntervened => "guardrail_intervened",
            Self::ContentFiltered => "content_filtered",
            Self::ModelContextWindowExceeded => "model_context_window_exceeded",
            Self::MalformedModelOutput => "malformed_model_output",
            Self::MalformedToolUse => "malformed_tool_use",
            Self::Other(s) => s,
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token counts, as in [`crate::contract::Usage`], in serde form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
}

impl From<crate::contract::Usage> for TokenUsage {
    fn from(u: crate::contract::Usage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            total_tokens: u.total_tokens,
            cache_read_tokens: u.cache_read_tokens,
            cache_write_tokens: u.cache_write_tokens,
        }
    }
}

/// A finished (or, inside an error, partial) assistant turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// The assistant message assembled from the stream, ready to append to the history.
    pub message: Message,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

impl Completion {
    pub fn empty() -> Self {
        Self {
            message: Message {
                role: Role::Assistant,
                content: Vec::new(),
            },
            stop_reason: None,
            usage: None,
            cost_usd: None,
            latency_ms: None,
        }
    }
}

/// Base64 (standard alphabet) for binary content in the JSON documents.
pub mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_round_trip_and_unknown_ones_are_kept() {
        assert_eq!(StopReason::parse("tool_use"), StopReason::ToolUse);
        assert_eq!(
            StopReason::parse("brand_new_reason"),
            StopReason::Other("brand_new_reason".into())
        );
        assert_eq!(
            StopReason::parse("brand_new_reason").as_str(),
            "brand_new_reason"
        );
    }

    #[test]
    fn request_json_is_camel_case_and_binary_is_base64() {
        let mut req = ConverseRequest::user_text("m", "hi");
        req.messages[0].content.push(ContentBlock::Image {
            format: None,
            data: vec![0xff, 0xd8, 0xff],
        });
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(json["messages"][0]["content"][1]["data"], "/9j/");
        let back: ConverseRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, req);
    }
}
