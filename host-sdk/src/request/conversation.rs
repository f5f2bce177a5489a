//! The request: one streaming conversation turn to run, and the bounds on the JSON it carries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    CacheConfig, ContentBlock, InferenceConfig, Message, OutputFormat, ReasoningConfig, Tool,
    ToolChoice, ToolResultContent,
};

/// One streaming conversation turn to run.
///
/// Build it with [`ConverseRequest::user_text`] or struct update syntax: a later minor may add
/// optional fields.
///
/// ```
/// use host_sdk::{ConverseRequest, InferenceConfig, Message};
///
/// let request = ConverseRequest {
///     system: vec!["Answer in one sentence.".into()],
///     inference: InferenceConfig { max_tokens: Some(200), ..InferenceConfig::default() },
///     ..ConverseRequest::user_text("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Why is the sky blue?")
/// };
/// // The document that crosses the plugin boundary is camelCase JSON.
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["inference"]["maxTokens"], 200);
/// assert_eq!(json["messages"][0], serde_json::json!({
///     "role": "user",
///     "content": [{"type": "text", "text": "Why is the sky blue?"}]
/// }));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseRequest {
    /// Model id as listed by the provider (without the `provider/` prefix).
    pub model: String,
    /// System prompt blocks, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<String>,
    /// The conversation so far, oldest first; it must start with a user message.
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// The tools the model may call.
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Whether and which tool the model must call [default: auto].
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "InferenceConfig::is_empty")]
    /// Sampling and length settings.
    pub inference: InferenceConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Reasoning before the answer, on models that can.
    pub reasoning: Option<ReasoningConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Prompt caching [default: short retention where the model supports it].
    pub cache: Option<CacheConfig>,
    /// Model-specific fields passed through unchanged (Bedrock: `additionalModelRequestFields`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
    /// Opaque key/value pairs the provider forwards to the service when it supports them
    /// (Bedrock: `requestMetadata`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<(String, String)>,
    /// Since 1.5: system blocks beyond plain text, after `system`'s: [`ContentBlock::Text`]
    /// and [`ContentBlock::GuardedText`] (text a guardrail assesses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system_blocks: Vec<ContentBlock>,
    /// Since 1.5: the answer must be JSON matching a schema (structured output). The
    /// completion's `outputCheck` says whether it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
    /// Since 1.5: the service tier to run on, for providers that sell several (`priority`,
    /// `default`, `flex`, `reserved` on Bedrock). Unset: the provider's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Since 1.5: settings only one provider understands, keyed by provider id (the
    /// convention of the Vercel AI SDK's `providerOptions`), in that provider's own field
    /// names: for `amazon-bedrock`, ConverseStream's (`guardrailConfig`, `performanceConfig`,
    /// `serviceTier`, `promptVariables`, `additionalModelResponseFieldPaths`,
    /// `requestMetadata`, `additionalModelRequestFields`). A provider reads its own entry,
    /// checks it before any network call, and ignores the others.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub provider_options: serde_json::Map<String, Value>,
    /// Since 1.5: tools the provider runs itself (Bedrock's system tools:
    /// `nova_code_interpreter`, `nova_grounding`), by name. Their calls and results reach the
    /// host as `serverToolUse` / `serverToolResult` extension events and blocks, never as
    /// calls the host must run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_tools: Vec<String>,
    /// Since 1.5: the contract version of the host that sent the request. `host-sdk` sets it
    /// as the request crosses the boundary (it is never written from this field), so a
    /// plugin can keep completions readable by an older host: block types newer than the
    /// host's contract are left out of them (the host saw none of their events either).
    #[serde(default, skip_serializing)]
    pub host_contract: Option<String>,
}

impl ConverseRequest {
    /// The minor version of the host's contract (`host_contract`); a request without one
    /// comes from a host built before 1.5, which did not send it.
    pub fn host_minor(&self) -> u32 {
        self.host_contract
            .as_deref()
            .and_then(|v| v.split('.').nth(1))
            .and_then(|m| m.parse().ok())
            .unwrap_or(4)
    }
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
                    ContentBlock::Unknown(value) => Box::new(std::iter::once(value)),
                    _ => Box::new(std::iter::empty()),
                }
            });
        self.extra
            .iter()
            .chain(self.tools.iter().map(|t| &t.input_schema))
            .chain(self.output_format.iter().map(|f| match f {
                OutputFormat::JsonSchema { schema, .. } => schema,
            }))
            .chain(self.provider_options.values())
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
