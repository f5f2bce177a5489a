//! The provider-neutral conversation schema: what a host sends ([`ConverseRequest`]) and what
//! a finished stream gives back ([`Completion`]). These documents cross the plugin boundary as
//! JSON (camelCase); every field a newer version adds is optional, so hosts and plugins one
//! minor version apart still understand each other.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// Who wrote a message.
pub enum Role {
    /// The user (and tool results).
    User,
    /// The model.
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// One turn of the conversation.
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// A block of a type this version does not know is kept as [`ContentBlock::Unknown`].
    #[serde(deserialize_with = "known_or_raw")]
    pub content: Vec<ContentBlock>,
}

impl Message {
    /// A user message of one text block.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    /// An assistant message of one text block.
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
///
/// Non-exhaustive: a later minor adds block types. A document holding a type this version
/// does not know still reads, with that block kept as [`ContentBlock::Unknown`] and written
/// back unchanged.
///
/// ```
/// use host_sdk::{ContentBlock, Message};
///
/// let newer = serde_json::json!({"role": "assistant", "content": [
///     {"type": "text", "text": "Here:"},
///     {"type": "hologram", "frames": 3}
/// ]});
/// let message: Message = serde_json::from_value(newer.clone()).unwrap();
/// assert_eq!(message.content[1].type_name(), "hologram");
/// assert!(matches!(message.content[1], ContentBlock::Unknown(_)));
/// assert_eq!(serde_json::to_value(&message).unwrap(), newer);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ContentBlock {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An image. The provider checks the real format from the bytes; `format` is a hint.
    #[serde(rename_all = "camelCase")]
    Image {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A format hint (`png`, `jpeg`, `gif`, `webp`); required with `s3`.
        format: Option<String>,
        #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
        /// The bytes (empty when the image is in `s3`).
        data: Vec<u8>,
        /// Since 1.5: where the image is in Amazon S3, instead of `data`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Location>,
    },
    /// Since 1.5: a video, as bytes or in Amazon S3, on models that take video.
    #[serde(rename_all = "camelCase")]
    Video {
        /// mp4, mov, mkv, webm, flv, mpeg, mpg, wmv or three_gp.
        format: String,
        #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
        /// The bytes (empty when the video is in `s3`).
        data: Vec<u8>,
        /// Where the video is in Amazon S3, instead of `data`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Location>,
    },
    #[serde(rename_all = "camelCase")]
    /// A document for the model to read.
    Document {
        /// pdf, csv, doc, docx, xls, xlsx, html, txt, md.
        format: String,
        /// The name.
        name: String,
        #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
        /// The bytes (empty when the document is in `s3`).
        data: Vec<u8>,
        /// Since 1.5: where the document is in Amazon S3, instead of `data`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Location>,
        /// Since 1.5: the model may cite the document (its answer then holds
        /// [`ContentBlock::CitedText`] blocks), on models that can.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        citations: bool,
    },
    #[serde(rename_all = "camelCase")]
    /// A tool call the model made.
    ToolUse {
        /// The tool-use id.
        id: String,
        /// The name.
        name: String,
        /// The call's input (a JSON object).
        input: Value,
    },
    #[serde(rename_all = "camelCase")]
    /// The result of a tool call, in a user message.
    ToolResult {
        /// The id of the tool call this answers.
        tool_use_id: String,
        #[serde(deserialize_with = "known_or_raw")]
        /// The result.
        content: Vec<ToolResultContent>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        /// The tool failed; `content` says how.
        is_error: bool,
    },
    /// Model reasoning. `signature` is present when the model signed it; only signed
    /// reasoning can be replayed as reasoning.
    #[serde(rename_all = "camelCase")]
    Reasoning {
        /// The text.
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The signature that lets the reasoning be replayed.
        signature: Option<String>,
    },
    /// Reasoning the service returned encrypted; replayed as is.
    #[serde(rename_all = "camelCase")]
    RedactedReasoning {
        #[serde(with = "base64_bytes")]
        /// The bytes.
        data: Vec<u8>,
    },
    /// Since 1.5: text a guardrail assesses (Bedrock: `guardContent`), in a user message or
    /// in `systemBlocks`. `qualifiers` mark its role for contextual grounding checks
    /// (`grounding_source`, `query`, `guard_content`).
    #[serde(rename_all = "camelCase")]
    GuardedText {
        /// The text.
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        /// The text's role for contextual grounding checks.
        qualifiers: Vec<String>,
    },
    /// Since 1.5: answer text backed by citations of the request's documents or search
    /// results. `citations` are the provider's citation documents (Bedrock: `title`,
    /// `source`, `sourceContent`, `location`); the block is replayed as is.
    #[serde(rename_all = "camelCase")]
    CitedText {
        /// The text.
        text: String,
        /// What backs it.
        citations: Vec<Value>,
    },
    /// Since 1.5: a search result to answer from (retrieval-augmented generation), which the
    /// model may cite.
    #[serde(rename_all = "camelCase")]
    SearchResult {
        /// Where the result comes from (a URL or an id).
        source: String,
        /// Its title.
        title: String,
        /// Its text, in passages.
        content: Vec<String>,
        /// The model may cite it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        citations: bool,
    },
    /// Since 1.5: a call of a tool the provider ran itself (see
    /// [`ConverseRequest::server_tools`]), kept so the conversation can be replayed.
    #[serde(rename_all = "camelCase")]
    ServerToolUse {
        /// The call's id.
        id: String,
        /// The server tool's name.
        name: String,
        /// The call's input.
        input: Value,
    },
    /// Since 1.5: the result of a server tool call, in the assistant's message.
    #[serde(rename_all = "camelCase")]
    ServerToolResult {
        /// The id of the call this answers.
        tool_use_id: String,
        /// The result's type, as the provider names it (`nova_code_interpreter_result`).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        kind: String,
        /// The tool failed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
        /// The result.
        #[serde(deserialize_with = "known_or_raw")]
        content: Vec<ToolResultContent>,
    },
    /// Since 1.5: a block of a type this version of the schema does not know (sent by a newer
    /// host or plugin), kept as its raw JSON object so it survives a round trip. A provider
    /// that cannot send it refuses the request, naming the type.
    #[serde(untagged, skip_deserializing)]
    Unknown(Value),
}

impl ContentBlock {
    /// The `type` names of the blocks this version knows (every variant but `Unknown`).
    pub const KNOWN_TYPES: [&'static str; 13] = [
        "text",
        "image",
        "document",
        "toolUse",
        "toolResult",
        "reasoning",
        "redactedReasoning",
        "guardedText",
        "serverToolUse",
        "serverToolResult",
        "citedText",
        "searchResult",
        "video",
    ];

    /// The block's `type` name (for an unknown block, the one it carries).
    pub fn type_name(&self) -> &str {
        match self {
            Self::Text { .. } => "text",
            Self::Image { .. } => "image",
            Self::Document { .. } => "document",
            Self::ToolUse { .. } => "toolUse",
            Self::ToolResult { .. } => "toolResult",
            Self::Reasoning { .. } => "reasoning",
            Self::RedactedReasoning { .. } => "redactedReasoning",
            Self::GuardedText { .. } => "guardedText",
            Self::ServerToolUse { .. } => "serverToolUse",
            Self::ServerToolResult { .. } => "serverToolResult",
            Self::CitedText { .. } => "citedText",
            Self::SearchResult { .. } => "searchResult",
            Self::Video { .. } => "video",
            Self::Unknown(raw) => raw.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// Reads a list of tagged blocks: a block whose `type` this version knows must be well formed
/// (its error names the problem); any other object is kept raw (`Unknown`).
fn known_or_raw<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + FromRaw,
{
    let raw = Vec::<Value>::deserialize(d)?;
    raw.into_iter()
        .enumerate()
        .map(|(i, value)| {
            let kind = value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let kind = kind.as_str();
            if T::known(kind) {
                // Serde's message for a malformed member of a union with a raw fallback says
                // only that nothing matched: name what is missing instead.
                let missing: Vec<&str> = T::required(kind)
                    .iter()
                    .copied()
                    .filter(|f| value.get(f).is_none_or(Value::is_null))
                    .collect();
                serde_json::from_value(value).map_err(|_| {
                    serde::de::Error::custom(if missing.is_empty() {
                        format!("block {i} ({kind}) has a field of the wrong type")
                    } else {
                        format!("block {i} ({kind}) lacks `{}`", missing.join("`, `"))
                    })
                })
            } else if value.is_object() && !kind.is_empty() {
                Ok(T::from_raw(value))
            } else {
                Err(serde::de::Error::custom(format!(
                    "block {i} is not an object with a `type` name"
                )))
            }
        })
        .collect()
}

/// A tagged union that keeps members of types it does not know as raw JSON.
trait FromRaw {
    fn known(type_name: &str) -> bool;
    /// The fields a member of this type must have.
    fn required(type_name: &str) -> &'static [&'static str];
    fn from_raw(raw: Value) -> Self;
}

impl FromRaw for ContentBlock {
    fn known(type_name: &str) -> bool {
        Self::KNOWN_TYPES.contains(&type_name)
    }
    fn required(type_name: &str) -> &'static [&'static str] {
        match type_name {
            "text" | "reasoning" | "guardedText" => &["text"],
            "document" => &["format", "name"],
            "video" => &["format"],
            "toolUse" | "serverToolUse" => &["id", "name", "input"],
            "toolResult" | "serverToolResult" => &["toolUseId", "content"],
            "redactedReasoning" => &["data"],
            "citedText" => &["text", "citations"],
            "searchResult" => &["source", "title", "content"],
            _ => &[],
        }
    }
    fn from_raw(raw: Value) -> Self {
        Self::Unknown(raw)
    }
}

impl FromRaw for ToolResultContent {
    fn known(type_name: &str) -> bool {
        Self::KNOWN_TYPES.contains(&type_name)
    }
    fn required(type_name: &str) -> &'static [&'static str] {
        match type_name {
            "text" => &["text"],
            "json" => &["value"],
            "document" => &["format", "name"],
            "video" => &["format"],
            "searchResult" => &["source", "title", "content"],
            _ => &[],
        }
    }
    fn from_raw(raw: Value) -> Self {
        Self::Unknown(raw)
    }
}

/// One part of a tool's result. Non-exhaustive, with unknown types kept raw, as
/// [`ContentBlock`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ToolResultContent {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// A JSON value.
    Json {
        /// The value.
        value: Value,
    },
    #[serde(rename_all = "camelCase")]
    /// An image.
    Image {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A format hint (`png`, `jpeg`, `gif`, `webp`).
        format: Option<String>,
        #[serde(with = "base64_bytes")]
        /// The bytes.
        data: Vec<u8>,
    },
    /// Since 1.5: a document the tool returned.
    #[serde(rename_all = "camelCase")]
    Document {
        /// As [`ContentBlock::Document`]'s.
        format: String,
        /// The name.
        name: String,
        #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
        /// The bytes (empty when the document is in `s3`).
        data: Vec<u8>,
        /// Where the document is in Amazon S3, instead of `data`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Location>,
    },
    /// Since 1.5: a video the tool returned.
    #[serde(rename_all = "camelCase")]
    Video {
        /// As [`ContentBlock::Video`]'s.
        format: String,
        #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
        /// The bytes (empty when the video is in `s3`).
        data: Vec<u8>,
        /// Where the video is in Amazon S3, instead of `data`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Location>,
    },
    /// Since 1.5: search results the tool found (a retrieval tool), which the model may cite.
    #[serde(rename_all = "camelCase")]
    SearchResult {
        /// Where the result comes from.
        source: String,
        /// Its title.
        title: String,
        /// Its text, in passages.
        content: Vec<String>,
        /// The model may cite it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        citations: bool,
    },
    /// Since 1.5: a part of a type this version does not know, kept as its raw JSON.
    #[serde(untagged, skip_deserializing)]
    Unknown(Value),
}

impl ToolResultContent {
    /// The `type` names this version knows (every variant but `Unknown`).
    pub const KNOWN_TYPES: [&'static str; 6] =
        ["text", "json", "image", "document", "video", "searchResult"];
}

/// Since 1.5: an object in Amazon S3 (media the model reads from there).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Location {
    /// `s3://bucket/key`.
    pub uri: String,
    /// The bucket owner's account id, when the bucket belongs to another account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_owner: Option<String>,
}

/// A tool the model may call. Build it with [`Tool::new`] or `..Default::default()`: a later
/// minor may add optional fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The tool's name, unique in the request.
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the tool's input.
    pub input_schema: Value,
    /// Since 1.5: the model's call must match `input_schema` exactly (strict tool use), on
    /// models that support it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
}

impl Tool {
    /// A tool that is not strict.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
            strict: false,
        }
    }
}

/// Since 1.5: the shape an answer must have (structured output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum OutputFormat {
    /// The answer is one JSON document matching `schema` (a JSON Schema object).
    #[serde(rename_all = "camelCase")]
    JsonSchema {
        /// The JSON Schema (an object).
        schema: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A name for the schema.
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// What the schema describes.
        description: Option<String>,
    },
}

/// Since 1.5: whether a structured answer ([`ConverseRequest::output_format`]) parsed and
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
/// Whether and which tool the model must call.
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must not call tools.
    None,
    /// The model must call this tool.
    Tool {
        /// The tool's name.
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Sampling and length settings; unset fields take the model's defaults.
pub struct InferenceConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The most tokens the answer may have.
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Sampling temperature, 0 to 1.
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Nucleus sampling mass, 0 to 1.
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Texts that end the answer when generated.
    pub stop_sequences: Vec<String>,
}

impl InferenceConfig {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// How much the model may think before answering. Build it with struct update syntax
/// (`..ReasoningConfig::default()`): a later minor may add optional fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningConfig {
    /// A token budget for models with budget-based thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u32>,
    /// An effort level (`low`, `medium`, `high`, `xhigh`, `max`); models with fewer levels
    /// take the nearest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// Since 1.5: whether the model may also think between tool calls (interleaved thinking)
    /// where it can [default: yes].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interleaved: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// How long cached prompt prefixes are kept.
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
/// Prompt caching settings.
pub struct CacheConfig {
    #[serde(default)]
    /// How long cached prefixes are kept.
    pub retention: CacheRetention,
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

/// Base64 (standard alphabet) for binary content in the JSON documents.
pub mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Reads base64 into bytes.
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

    /// A completion from a newer plugin, with a block type and a tool result part this
    /// version does not know: it reads, the unknown parts are kept raw, and they are written
    /// back unchanged (a host can replay them).
    #[test]
    fn unknown_block_types_are_kept_as_raw_json_both_ways() {
        let newer = serde_json::json!({
            "message": {"role": "assistant", "content": [
                {"type": "text", "text": "The answer"},
                {"type": "hologram", "frames": [1, 2], "nested": {"deep": true}},
                {"type": "toolResult", "toolUseId": "t1", "content": [
                    {"type": "text", "text": "ok"},
                    {"type": "audio", "uri": "s3://b/k"}
                ]}
            ]},
            "stopReason": "brand_new_reason",
            "someFieldFromTheFuture": 7
        });
        let completion: Completion = serde_json::from_value(newer.clone()).unwrap();
        let content = &completion.message.content;
        assert_eq!(
            content[0],
            ContentBlock::Text {
                text: "The answer".into()
            }
        );
        assert_eq!(content[1].type_name(), "hologram");
        assert_eq!(
            content[1],
            ContentBlock::Unknown(newer["message"]["content"][1].clone())
        );
        let ContentBlock::ToolResult { content: parts, .. } = &content[2] else {
            panic!("{content:?}")
        };
        assert_eq!(
            parts[1],
            ToolResultContent::Unknown(serde_json::json!({"type": "audio", "uri": "s3://b/k"}))
        );
        assert_eq!(
            completion.stop_reason,
            Some(StopReason::Other("brand_new_reason".into()))
        );
        let written = serde_json::to_value(&completion).unwrap();
        assert_eq!(written["message"], newer["message"]);
    }

    /// A block of a known type that is malformed is an error naming the block and the
    /// problem, not an "unknown" block.
    #[test]
    fn a_malformed_known_block_is_an_error_that_names_it() {
        let bad = serde_json::json!({"role": "user", "content": [
            {"type": "text", "text": "fine"},
            {"type": "toolUse", "id": "t1"}
        ]});
        let e = serde_json::from_value::<Message>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("block 1 (toolUse) lacks `name`, `input`"), "{e}");
        let untyped = serde_json::json!({"role": "user", "content": [{"text": "no type"}]});
        let e = serde_json::from_value::<Message>(untyped)
            .unwrap_err()
            .to_string();
        assert!(e.contains("block 0 is not an object with a `type`"), "{e}");
    }

    /// Every variant's `type` name is in `KNOWN_TYPES`, so none is mistaken for unknown.
    #[test]
    fn known_types_list_every_variant() {
        let blocks = [
            ContentBlock::Text { text: "t".into() },
            ContentBlock::Image {
                format: None,
                data: vec![1],
                s3: None,
            },
            ContentBlock::Document {
                format: "txt".into(),
                name: "n".into(),
                data: vec![1],
                citations: false,
                s3: None,
            },
            ContentBlock::ToolUse {
                id: "i".into(),
                name: "n".into(),
                input: Value::Null,
            },
            ContentBlock::ToolResult {
                tool_use_id: "i".into(),
                content: vec![],
                is_error: false,
            },
            ContentBlock::Reasoning {
                text: "r".into(),
                signature: None,
            },
            ContentBlock::RedactedReasoning { data: vec![1] },
            ContentBlock::GuardedText {
                text: "g".into(),
                qualifiers: vec![],
            },
            ContentBlock::ServerToolUse {
                id: "i".into(),
                name: "n".into(),
                input: Value::Null,
            },
            ContentBlock::CitedText {
                text: "t".into(),
                citations: vec![Value::Null],
            },
            ContentBlock::Video {
                format: "mp4".into(),
                data: vec![1],
                s3: None,
            },
            ContentBlock::SearchResult {
                source: "s".into(),
                title: "t".into(),
                content: vec!["c".into()],
                citations: true,
            },
            ContentBlock::ServerToolResult {
                tool_use_id: "i".into(),
                kind: "k".into(),
                is_error: false,
                content: vec![ToolResultContent::Json { value: Value::Null }],
            },
        ];
        assert_eq!(blocks.len(), ContentBlock::KNOWN_TYPES.len());
        for block in blocks {
            let json = serde_json::to_value(&block).unwrap();
            // Each required field really is: without it the block does not read.
            for field in <ContentBlock as FromRaw>::required(block.type_name()) {
                let mut lacking = json.clone();
                lacking.as_object_mut().unwrap().remove(*field);
                let message = serde_json::json!({"role": "user", "content": [lacking]});
                let e = serde_json::from_value::<Message>(message).unwrap_err();
                assert!(e.to_string().contains(field), "{field}: {e}");
            }
            assert_eq!(json["type"], block.type_name());
            assert!(ContentBlock::KNOWN_TYPES.contains(&block.type_name()));
            let back: Message =
                serde_json::from_value(serde_json::json!({"role": "user", "content": [json]}))
                    .unwrap();
            assert_eq!(back.content[0], block);
        }
        for part in [
            ToolResultContent::Text { text: "t".into() },
            ToolResultContent::Json { value: Value::Null },
            ToolResultContent::Image {
                format: None,
                data: vec![1],
            },
        ] {
            let json = serde_json::to_value(&part).unwrap();
            assert!(ToolResultContent::KNOWN_TYPES.contains(&json["type"].as_str().unwrap()));
        }
    }

    #[test]
    fn request_json_is_camel_case_and_binary_is_base64() {
        let mut req = ConverseRequest::user_text("m", "hi");
        req.messages[0].content.push(ContentBlock::Image {
            format: None,
            data: vec![0xff, 0xd8, 0xff],
            s3: None,
        });
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(json["messages"][0]["content"][1]["data"], "/9j/");
        let back: ConverseRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, req);
    }
}
