//! What a turn holds: text, media, tool calls and results, reasoning, citations; and blocks
//! of types this version does not know, kept raw.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::base64_bytes;

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
    /// Since 1.9: audio (speech) as bytes or in Amazon S3, on models that take audio.
    #[serde(rename_all = "camelCase")]
    Audio {
        /// mp3, opus, wav, aac, flac, mp4, ogg, mkv, mka, x-aac, m4a, mpeg, mpga, pcm or webm;
        /// the provider reads it from the bytes where they say, and needs it for `s3` and raw
        /// `pcm`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
        /// The bytes (empty when the audio is in `s3`).
        data: Vec<u8>,
        /// Where the audio is in Amazon S3, instead of `data`.
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
        /// Since 1.9: the document as plain text, instead of `data` (a `txt` or `md` one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// Since 1.9: the document as chunks of text, instead of `data`; each is cited on its
        /// own.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        content: Vec<String>,
        /// Since 1.9: what the model should know about the document (where it comes from,
        /// why it is given), beside it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<String>,
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
    /// Since 1.9: in a `system` message, a tool of the request's `tools` is offered from here
    /// on.
    #[serde(rename_all = "camelCase")]
    ToolAddition {
        /// Which tool.
        tool: ToolReference,
    },
    /// Since 1.9: in a `system` message, a tool of the request's `tools` is no longer offered.
    #[serde(rename_all = "camelCase")]
    ToolRemoval {
        /// Which tool.
        tool: ToolReference,
    },
    /// Since 1.9: an image a guardrail assesses (Bedrock: `guardContent.image`), in a user
    /// message; png or jpeg, read from the bytes.
    #[serde(rename_all = "camelCase")]
    GuardedImage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A format hint (`png`, `jpeg`).
        format: Option<String>,
        #[serde(with = "base64_bytes")]
        /// The bytes.
        data: Vec<u8>,
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
    /// [`ConverseRequest::server_tools`](super::ConverseRequest::server_tools)), kept so the conversation can be replayed.
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
    pub const KNOWN_TYPES: [&'static str; 17] = [
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
        "audio",
        "guardedImage",
        "toolAddition",
        "toolRemoval",
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
            Self::Audio { .. } => "audio",
            Self::GuardedImage { .. } => "guardedImage",
            Self::ToolAddition { .. } => "toolAddition",
            Self::ToolRemoval { .. } => "toolRemoval",
            Self::Unknown(raw) => raw.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// Reads a list of tagged blocks: a block whose `type` this version knows must be well formed
/// (its error names the problem); any other object is kept raw (`Unknown`).
pub(super) fn known_or_raw<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
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
pub(super) trait FromRaw {
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
            "redactedReasoning" | "guardedImage" => &["data"],
            "toolAddition" | "toolRemoval" => &["tool"],
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

/// Since 1.9: a tool named by reference (in `toolAddition` and `toolRemoval` blocks).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolReference {
    /// The tool's name, as in the request's `tools`.
    pub name: String,
    /// The kind of reference, when the provider distinguishes them.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The MCP server that provides the tool, for an MCP tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
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
