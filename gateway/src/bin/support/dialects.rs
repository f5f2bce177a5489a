//! The gateway's dialects as the benchmark programs speak them: where each request goes,
//! its body, and how its stream's text deltas, end and errors look.

use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// OpenAI Chat Completions.
    Chat,
    /// OpenAI Responses.
    Responses,
    /// Anthropic Messages.
    Messages,
    /// OpenAI Embeddings (whole answers only; a one-text request to an embedding model).
    Embeddings,
}

impl Dialect {
    /// The dialects that chat (and stream).
    pub const ALL: [Dialect; 3] = [Dialect::Chat, Dialect::Responses, Dialect::Messages];

    /// The embedding model an embeddings request names (the chat dialects name theirs).
    pub const EMBEDDING_MODEL: &str = "amazon.titan-embed-text-v2:0";

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Chat => "chat",
            Dialect::Responses => "responses",
            Dialect::Messages => "messages",
            Dialect::Embeddings => "embeddings",
        }
    }

    /// The path after the gateway's `/v1`.
    pub fn path(self) -> &'static str {
        match self {
            Dialect::Chat => "chat/completions",
            Dialect::Responses => "responses",
            Dialect::Messages => "messages",
            Dialect::Embeddings => "embeddings",
        }
    }

    /// A one-turn request for `prompt` to `model`.
    pub fn body(self, model: &str, prompt: &str, stream: bool) -> Value {
        match self {
            Dialect::Chat => json!({
                "model": model, "stream": stream,
                "messages": [{"role": "user", "content": prompt}],
            }),
            Dialect::Responses => json!({"model": model, "stream": stream, "input": prompt}),
            Dialect::Messages => json!({
                "model": model, "stream": stream, "max_tokens": 4096,
                "messages": [{"role": "user", "content": prompt}],
            }),
            Dialect::Embeddings => json!({
                "model": format!("amazon-bedrock/{}", Self::EMBEDDING_MODEL), "input": prompt,
            }),
        }
    }

    /// The answer text an event of the stream carries (`data` of one server-sent event).
    pub fn text_delta(self, data: &Value) -> Option<&str> {
        match self {
            Dialect::Chat => data.pointer("/choices/0/delta/content")?.as_str(),
            Dialect::Responses => (data["type"] == "response.output_text.delta")
                .then(|| data["delta"].as_str())
                .flatten(),
            Dialect::Messages => (data["type"] == "content_block_delta")
                .then(|| data.pointer("/delta/text")?.as_str())
                .flatten(),
            Dialect::Embeddings => None,
        }
    }

    /// Whether the event is the last of a successful answer (Chat Completions ends with
    /// `[DONE]`, which is no JSON).
    pub fn ends(self, data: &Value) -> bool {
        match self {
            Dialect::Chat => false,
            Dialect::Responses => data["type"] == "response.completed",
            Dialect::Messages => data["type"] == "message_stop",
            Dialect::Embeddings => false,
        }
    }

    /// The failure an event reports, if it reports one.
    pub fn error(self, data: &Value) -> Option<String> {
        match self {
            Dialect::Chat => data.get("error").map(Value::to_string),
            Dialect::Responses => {
                (data["type"] == "response.failed").then(|| data["response"]["error"].to_string())
            }
            Dialect::Messages => (data["type"] == "error").then(|| data["error"].to_string()),
            Dialect::Embeddings => data.get("error").map(Value::to_string),
        }
    }
}
