//! The Chat Completions request as clients send it (fields the gateway does not use are
//! ignored, as OpenAI's API ignores unknown ones).

use serde::Deserialize;
use serde_json::Value;

/// `POST /v1/chat/completions`, as clients send it (fields the gateway does not use are
/// ignored, as OpenAI's API ignores unknown ones).
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub tools: Vec<ChatTool>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub response_format: Option<Value>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub stop: Option<Value>,
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    /// Refused above 1: the Converse API answers once per request.
    #[serde(default)]
    pub n: Option<u32>,
    /// Refused when asked for: the Converse API returns no log probabilities.
    #[serde(default)]
    pub logprobs: Option<bool>,
    /// Refused: the Converse API takes no seed, so answers cannot be made repeatable.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Refused unless 0: the Converse API has no frequency or presence penalty.
    #[serde(default)]
    pub frequency_penalty: Option<f32>,
    #[serde(default)]
    pub presence_penalty: Option<f32>,
    /// `false` is refused: the Converse API cannot be told to call one tool at a time.
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// Only text is answered.
    #[serde(default)]
    pub modalities: Option<Vec<String>>,
    /// Refused: audio output.
    #[serde(default)]
    pub audio: Option<Value>,
    /// OpenAI's tier, mapped to Bedrock's (`auto` is the provider's default).
    #[serde(default)]
    pub service_tier: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub function: FunctionCall,
}

#[derive(Debug, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: String,
}

#[derive(Debug, Deserialize)]
pub struct ChatTool {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionSpec,
}

#[derive(Debug, Deserialize)]
pub struct FunctionSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}
