//! Anthropic's Messages API as clients send it. Fields the gateway does not use are
//! ignored, as Anthropic's API ignores unknown ones; content blocks are typed one at a time
//! (see `request`), so a refusal names the block.

use serde::Deserialize;
use serde_json::Value;

/// `POST /v1/messages` (and, without `max_tokens`, `/v1/messages/count_tokens`).
#[derive(Debug, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    pub messages: Vec<InputMessage>,
    /// Required by `/v1/messages`, absent from `count_tokens`.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub system: Option<Value>,
    #[serde(default)]
    pub stream: bool,
    /// Typed one by one: server tools are refused by name.
    #[serde(default)]
    pub tools: Vec<Value>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub thinking: Option<Thinking>,
    #[serde(default)]
    pub output_config: Option<OutputConfig>,
    /// The structured-outputs beta's place for the format (now `output_config.format`).
    #[serde(default)]
    pub output_format: Option<OutputFormat>,
    /// Automatic caching of the whole prompt.
    #[serde(default)]
    pub cache_control: Option<CacheControl>,
    #[serde(default)]
    pub stop_sequences: Vec<String>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub top_k: Option<u32>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub service_tier: Option<String>,
    /// Refused: code execution containers run on Anthropic's platform only.
    #[serde(default)]
    pub container: Option<Value>,
    /// Refused: remote MCP servers are called by Anthropic's platform only.
    #[serde(default)]
    pub mcp_servers: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct InputMessage {
    pub role: String,
    /// A string, or a list of blocks.
    pub content: Value,
}

/// A content block of a message.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Text {
        text: String,
        #[serde(default)]
        cache_control: Option<CacheControl>,
    },
    Image {
        source: Source,
        #[serde(default)]
        cache_control: Option<CacheControl>,
    },
    Document {
        source: Source,
        #[serde(default)]
        title: Option<String>,
        /// What the model should know about the document, beside it.
        #[serde(default)]
        context: Option<String>,
        #[serde(default)]
        citations: Option<Enabled>,
        #[serde(default)]
        cache_control: Option<CacheControl>,
    },
    SearchResult {
        source: String,
        title: String,
        content: Vec<TextPart>,
        #[serde(default)]
        citations: Option<Enabled>,
        #[serde(default)]
        cache_control: Option<CacheControl>,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
        #[serde(default)]
        cache_control: Option<CacheControl>,
    },
    ToolResult {
        tool_use_id: String,
        /// A string, or a list of text, image and document blocks.
        #[serde(default)]
        content: Option<Value>,
        #[serde(default)]
        is_error: bool,
        #[serde(default)]
        cache_control: Option<CacheControl>,
    },
    Thinking {
        thinking: String,
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
}

impl Block {
    pub fn cache_control(&self) -> Option<&CacheControl> {
        match self {
            Block::Text { cache_control, .. }
            | Block::Image { cache_control, .. }
            | Block::Document { cache_control, .. }
            | Block::SearchResult { cache_control, .. }
            | Block::ToolUse { cache_control, .. }
            | Block::ToolResult { cache_control, .. } => cache_control.as_ref(),
            Block::Thinking { .. } | Block::RedactedThinking { .. } => None,
        }
    }
}

/// Where an image's or a document's bytes are.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    Base64 { media_type: String, data: String },
    Url { url: String },
    Text { media_type: String, data: String },
    File { file_id: String },
    Content { content: Value },
}

#[derive(Debug, Deserialize)]
pub struct TextPart {
    pub text: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Enabled {
    #[serde(default)]
    pub enabled: bool,
}

#[derive(Debug, Deserialize)]
pub struct CacheControl {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub ttl: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    Auto {
        #[serde(default)]
        disable_parallel_tool_use: bool,
    },
    Any {
        #[serde(default)]
        disable_parallel_tool_use: bool,
    },
    Tool {
        name: String,
        #[serde(default)]
        disable_parallel_tool_use: bool,
    },
    None,
}

/// A custom tool (the only kind a provider other than Anthropic's platform runs).
#[derive(Debug, Deserialize)]
pub struct CustomTool {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub input_schema: Value,
    #[serde(default)]
    pub strict: Option<bool>,
    #[serde(default)]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Thinking {
    Enabled {
        budget_tokens: u32,
        #[serde(default)]
        display: Option<String>,
    },
    Adaptive {
        #[serde(default)]
        display: Option<String>,
    },
    Disabled,
}

#[derive(Debug, Deserialize)]
pub struct OutputConfig {
    #[serde(default)]
    pub effort: Option<String>,
    #[serde(default)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Deserialize)]
pub struct OutputFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub schema: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub user_id: Option<String>,
}
