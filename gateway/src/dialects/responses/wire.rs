//! OpenAI's Responses API as clients send it. Fields the gateway does not use are ignored,
//! as OpenAI's API ignores unknown ones; input items and tools are typed one at a time (see
//! `request`), so a refusal names the item.

use serde::Deserialize;
use serde_json::{Map, Value};

/// `POST /v1/responses`.
#[derive(Debug, Deserialize)]
pub struct ResponsesRequest {
    pub model: String,
    /// A string, or a list of input items.
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub tools: Vec<Value>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub reasoning: Option<Reasoning>,
    #[serde(default)]
    pub text: Option<TextConfig>,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// `true` is refused: the gateway keeps no state.
    #[serde(default)]
    pub store: Option<bool>,
    /// Refused: the gateway keeps no state, so the client sends the whole input.
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// Refused, as `previous_response_id`.
    #[serde(default)]
    pub conversation: Option<Value>,
    /// `true` is refused: a background response is one the gateway would have to keep.
    #[serde(default)]
    pub background: Option<bool>,
    /// Refused: prompt templates live on OpenAI's platform.
    #[serde(default)]
    pub prompt: Option<Value>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub service_tier: Option<String>,
    #[serde(default)]
    pub prompt_cache_retention: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub safety_identifier: Option<String>,
    /// `auto` is refused: the gateway never drops input to make it fit.
    #[serde(default)]
    pub truncation: Option<String>,
    /// Refused above 0: the provider returns no log probabilities.
    #[serde(default)]
    pub top_logprobs: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Reasoning {
    #[serde(default)]
    pub effort: Option<String>,
    /// `auto`, `concise` or `detailed`: the reasoning reaches the client as summary text.
    #[serde(default)]
    pub summary: Option<String>,
}

/// `text`. Its `verbosity` (a style hint of OpenAI's models, which Codex sends to them) is
/// not read: no Bedrock model takes it, and the answer is valid without it.
#[derive(Debug, Default, Deserialize)]
pub struct TextConfig {
    #[serde(default)]
    pub format: Option<Value>,
}

/// One input item. An item without `type` but with a `role` is a message (OpenAI's "easy"
/// input message).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    Message {
        role: String,
        content: Value,
    },
    FunctionCall {
        call_id: String,
        name: String,
        #[serde(default)]
        arguments: String,
    },
    FunctionCallOutput {
        call_id: String,
        output: Value,
    },
    CustomToolCall {
        call_id: String,
        name: String,
        #[serde(default)]
        input: String,
    },
    CustomToolCallOutput {
        call_id: String,
        output: Value,
    },
    Reasoning {
        #[serde(default)]
        encrypted_content: Option<String>,
    },
    /// A reference to a stored item (refused: nothing is stored).
    #[serde(rename = "item_reference")]
    Reference {
        id: String,
    },
}

/// A function tool.
#[derive(Debug, Deserialize)]
pub struct FunctionTool {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}

/// A custom tool: its input is free text (optionally following a grammar).
#[derive(Debug, Deserialize)]
pub struct CustomTool {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub format: Option<Value>,
}
