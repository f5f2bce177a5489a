//! What a finished stream gives back: the message, why it stopped, its tokens and cost.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Message, Role};

/// Since 1.5: whether a structured answer ([`ConverseRequest::output_format`](super::ConverseRequest::output_format)) parsed and
/// matched its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputCheck {
    /// The answer's text is JSON and matches the schema.
    pub valid: bool,
    /// Why not, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Since 1.5: an extension event kept in the completion (see
/// [`crate::contract::extension_kinds`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    /// The kind (see [`crate::contract::extension_kinds`]).
    pub kind: String,
    /// The kind's JSON document.
    pub data: Value,
}

/// Why the model stopped. Unknown reasons are kept, not rejected.
///
/// ```
/// use host_sdk::StopReason;
///
/// assert_eq!(StopReason::parse("tool_use"), StopReason::ToolUse);
/// assert_eq!(StopReason::parse("a_reason_from_2027").as_str(), "a_reason_from_2027");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The model finished its answer.
    EndTurn,
    /// The model called a tool and waits for its result.
    ToolUse,
    /// The answer reached the token limit.
    MaxTokens,
    /// The model generated a stop sequence.
    StopSequence,
    /// A guardrail blocked the input or the answer.
    GuardrailIntervened,
    /// The service's content filters stopped the answer.
    ContentFiltered,
    /// The conversation filled the model's context window.
    ModelContextWindowExceeded,
    /// The model's output could not be parsed.
    MalformedModelOutput,
    /// The model's tool call could not be parsed.
    MalformedToolUse,
    #[serde(untagged)]
    /// A reason this version does not know, kept as is.
    Other(String),
}

impl StopReason {
    /// The reason for a snake_case name; unknown names are kept as `Other`.
    pub fn parse(s: &str) -> Self {
        serde_json::from_value(Value::String(s.to_owned()))
            .unwrap_or_else(|_| Self::Other(s.to_owned()))
    }

    /// The snake_case name.
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
    /// Input tokens, cache reads and writes excluded.
    pub input_tokens: u64,
    /// Output tokens, reasoning included.
    pub output_tokens: u64,
    /// All tokens, as the service counts them.
    pub total_tokens: u64,
    #[serde(default)]
    /// Input tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    #[serde(default)]
    /// Input tokens written to the prompt cache.
    pub cache_write_tokens: u64,
    /// Since 1.5: of `cache_write_tokens`, those written with the one-hour ttl, when the
    /// service said (Bedrock: the usage's `cacheDetails`); the rest had the default ttl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_tokens: Option<u64>,
    /// Since 1.9: of `output_tokens`, those the model spent reasoning, when the service says
    /// (Bedrock's Responses API does; Converse does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

impl From<crate::contract::Usage> for TokenUsage {
    fn from(u: crate::contract::Usage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            total_tokens: u.total_tokens,
            cache_read_tokens: u.cache_read_tokens,
            cache_write_tokens: u.cache_write_tokens,
            cache_write_1h_tokens: None,
            reasoning_tokens: None,
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
    /// Why the model stopped (absent from a partial message).
    pub stop_reason: Option<StopReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Token counts, when the service reported them.
    pub usage: Option<TokenUsage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The cost in US dollars, when the model's prices are known.
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The service's own latency, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Since 1.5: for a request with an `outputFormat`, whether the answer matched it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_check: Option<OutputCheck>,
    /// Since 1.5: the stream's extension events, in order (a guardrail's trace, the model a
    /// router chose, ...), so a host that keeps only the completion keeps them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

impl Completion {
    /// An empty assistant message with nothing else (a failure before any event).
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
            output_check: None,
            extensions: Vec::new(),
        }
    }
}
