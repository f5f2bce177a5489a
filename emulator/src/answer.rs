//! The deterministic "model": turns a request (and optional scenario) into an [`Answer`],
//! the response content independent of how it is delivered (stream or JSON).

use crate::model_rules::Reasoning;
use crate::scenario::{Scenario, ToolCallSpec, DEFAULT_DELTA_SIZE};
use serde_json::{json, Value};

/// One content block of the answer, in output order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Visible reasoning with optional signature.
    Reasoning {
        /// Reasoning text.
        text: String,
        /// Signature, if any.
        signature: Option<String>,
        /// Characters per delta.
        delta_size: usize,
    },
    /// Redacted reasoning (base64 string as sent in JSON).
    Redacted(String),
    /// Answer text.
    Text {
        /// The text.
        text: String,
        /// Characters per delta.
        delta_size: usize,
    },
    /// Answer text that cites documents: streamed as text deltas then one `citation` delta
    /// per citation; in Converse a `citationsContent` block.
    CitedText {
        /// The text.
        text: String,
        /// Each citation as Bedrock sends it (`title`, `sourceContent`, `location`).
        citations: Vec<Value>,
        /// Characters per delta.
        delta_size: usize,
    },
    /// A call of a tool the service runs itself (`type: server_tool_use`).
    ServerToolUse {
        /// toolUseId.
        id: String,
        /// The system tool's name.
        name: String,
        /// Its input.
        input: Value,
    },
    /// The result of a server-side tool call (`toolResult` block, type `<name>_result`).
    ServerToolResult {
        /// The call it answers.
        tool_use_id: String,
        /// `<tool name>_result`.
        kind: String,
        /// The run's result, sent as one `json` item.
        content: Value,
    },
    /// An image the model made (scripted: `image` in a scenario), its bytes base64 as the
    /// JSON carries them, or why it could not be made.
    Image {
        /// png, jpeg, gif or webp.
        format: String,
        /// The bytes, base64.
        data: String,
        /// The `ErrorBlock` message instead of the image.
        error: Option<String>,
    },
    /// A tool call.
    ToolUse {
        /// toolUseId.
        id: String,
        /// Tool name.
        name: String,
        /// Input value.
        input: Value,
        /// Fragment size for streaming the input JSON (`None` = one fragment).
        fragment_size: Option<usize>,
    },
}

/// Token usage reported in `metadata`/`usage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// inputTokens.
    pub input: u64,
    /// outputTokens.
    pub output: u64,
    /// Cache counters (read, write); only reported when set.
    pub cache: Option<(u64, u64)>,
    /// Cache writes by TTL (`5m`, `1h`), reported as `cacheDetails`.
    pub cache_details: Vec<(&'static str, u64)>,
}

impl Answer {
    /// Whether the service ran tools itself in this answer (its client tool blocks then carry
    /// `type: tool_use` too, and usage a `serverToolUsage` map, as Bedrock sends them).
    pub fn has_server_tools(&self) -> bool {
        self.blocks
            .iter()
            .any(|b| matches!(b, Block::ServerToolUse { .. }))
    }
}

impl Usage {
    /// totalTokens as the service computes it: cache tokens count too
    /// (see the recorded prompt-caching stream: 11 + 236 + 1028 = 1275).
    pub fn total(&self) -> u64 {
        let (r, w) = self.cache.unwrap_or((0, 0));
        self.input + self.output + r + w
    }
}

/// A complete model answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Content blocks in order.
    pub blocks: Vec<Block>,
    /// stopReason.
    pub stop_reason: String,
    /// Usage.
    pub usage: Usage,
    /// metrics.latencyMs (None = computed from delays by the caller).
    pub latency_ms: Option<u64>,
    /// Fields Bedrock adds to the Converse response and the stream's `metadata` event: the
    /// request's `performanceConfig` and `serviceTier` (echoed), a guardrail's `trace`.
    pub response_fields: Vec<(&'static str, Value)>,
    /// `additionalModelResponseFields` of the `messageStop` event (the Converse response's
    /// field of that name): what the request's `additionalModelResponseFieldPaths` point at in
    /// the model's own response, when it has it.
    pub model_response_fields: Option<Value>,
}

/// The model's own response fields a request asked for with
/// `additionalModelResponseFieldPaths`: Anthropic's models answer `/stop_sequence` (the stop
/// sequence that ended the answer, or null); other paths are not in their responses.
pub fn model_response_fields(request: &Value, stop_reason: &str, anthropic: bool) -> Option<Value> {
    let paths = request
        .get("additionalModelResponseFieldPaths")?
        .as_array()?;
    let mut fields = serde_json::Map::new();
    for path in paths.iter().filter_map(Value::as_str) {
        if anthropic && path == "/stop_sequence" {
            let matched = (stop_reason == "stop_sequence")
                .then(|| request.pointer("/inferenceConfig/stopSequences/0").cloned())
                .flatten()
                .unwrap_or(Value::Null);
            fields.insert("stop_sequence".into(), matched);
        }
    }
    Some(Value::Object(fields))
}

const FILLER: &str = "The quick brown fox jumps over the lazy dog. ";

/// Deterministic text of exactly `len` characters.
pub fn filler_text(len: usize) -> String {
    FILLER.chars().cycle().take(len).collect()
}

/// Text of user messages, skipping scenario carriers.
fn user_texts(request: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    for m in request
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if m.get("role").and_then(Value::as_str) != Some("user") {
            continue;
        }
        for b in m
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = b.get("text").and_then(Value::as_str) {
                if !crate::scenario::is_scenario_text(t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// How long the last user turn's own text is, in characters (what a prompt router weighs).
pub fn prompt_chars(request: &Value) -> usize {
    last_user_text(request).chars().count()
}

fn last_user_text(request: &Value) -> String {
    let mut parts = Vec::new();
    for b in crate::scenario::last_user_content(request)
        .into_iter()
        .flatten()
    {
        if let Some(t) = b.get("text").and_then(Value::as_str) {
            if !crate::scenario::is_scenario_text(t) {
                parts.push(t);
            }
        } else if b.get("toolResult").is_some() {
            parts.push("(a tool result)");
        }
    }
    parts.join(" ")
}

/// The polite echo used when no scenario is given.
pub fn echo_text(request: &Value) -> String {
    let said = last_user_text(request);
    let said = if said.is_empty() {
        "nothing".to_string()
    } else {
        said
    };
    // "Who are you?." reads badly: only end with a full stop when the user did not.
    let stop = if said.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    format!("You said: {said}{stop} (This is the local Bedrock emulator; no AWS account was used.)")
}

/// Roughly four characters per token, never zero: deterministic and plausible.
pub fn tokens_for(chars: usize) -> u64 {
    (chars as u64).div_ceil(4).max(1)
}

/// What the emulator's signatures of reasoning start with (base64-decoded).
const SIGNATURE_PREFIX: &str = "emulator-signature:";

/// The signature the emulator gives reasoning `text`: a digest of the text, so reasoning
/// sent back changed is caught, as Bedrock catches it.
pub fn reasoning_signature(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(text.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    base64::engine::general_purpose::STANDARD.encode(format!("{SIGNATURE_PREFIX}{hex}"))
}

/// Whether `signature` is one the emulator made, for other `text` than it signed.
/// Signatures from elsewhere (recorded streams, scenarios) are not the emulator's to judge.
pub fn signature_mismatch(text: &str, signature: &str) -> bool {
    use base64::Engine as _;
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return false;
    };
    decoded.starts_with(SIGNATURE_PREFIX.as_bytes()) && signature != reasoning_signature(text)
}

/// The prompt text that makes Anthropic's models answer with redacted thinking (as in the
/// recorded redacted-thinking streams), so clients can test that path.
pub const REDACTED_THINKING_TRIGGER: &str = "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB";

/// The reasoning blocks a request asks for, in the model's style, when no scenario scripts
/// reasoning: Anthropic's `thinking` (signed; redacted on the trigger prompt), Nova 2's
/// `reasoningConfig`, and the models that always reason (gpt-oss after an empty text block,
/// as Bedrock sends it; DeepSeek-R1, Kimi K2 Thinking, ...). The emulator has already
/// refused a configuration the model does not take.
fn requested_reasoning(request: &Value, style: Reasoning, delta_size: usize) -> Vec<Block> {
    use base64::Engine;
    let extra = request.get("additionalModelRequestFields");
    let field = |k: &str| extra.and_then(|e| e.get(k));
    let asked = match style {
        Reasoning::AnthropicBudget | Reasoning::AnthropicAdaptive => field("thinking")
            .and_then(|t| t.get("type"))
            .and_then(Value::as_str)
            .is_some_and(|t| t == "enabled" || t == "adaptive"),
        Reasoning::NovaEffort => {
            field("reasoningConfig")
                .and_then(|c| c.get("type"))
                .and_then(Value::as_str)
                == Some("enabled")
        }
        Reasoning::OpenAiNestedEffort => field("reasoning")
            .and_then(|r| r.get("effort"))
            .and_then(Value::as_str)
            .is_some_and(|e| e != "none"),
        Reasoning::OpenAiEffort | Reasoning::Always => true,
        Reasoning::None => false,
    };
    if !asked {
        return Vec::new();
    }
    let said = last_user_text(request);
    let text = format!(
        "The user wrote: \"{}\". A short, direct answer fits.",
        said.chars().take(80).collect::<String>()
    );
    match style {
        Reasoning::AnthropicBudget | Reasoning::AnthropicAdaptive => {
            let b64 = base64::engine::general_purpose::STANDARD;
            if user_texts(request)
                .iter()
                .any(|t| t.contains(REDACTED_THINKING_TRIGGER))
            {
                return vec![
                    Block::Redacted(b64.encode(format!("emulator-redacted-1:{said}"))),
                    Block::Redacted(b64.encode("emulator-redacted-2")),
                ];
            }
            let signature = reasoning_signature(&text);
            vec![Block::Reasoning {
                text,
                signature: Some(signature),
                delta_size,
            }]
        }
        // GPT-5.6 on Converse returns its reasoning encrypted, to be passed back as is.
        Reasoning::OpenAiNestedEffort => {
            let b64 = base64::engine::general_purpose::STANDARD;
            vec![Block::Redacted(
                b64.encode(format!("emulator-encrypted-reasoning:{said}")),
            )]
        }
        Reasoning::OpenAiEffort => vec![
            Block::Text {
                text: String::new(),
                delta_size,
            },
            Block::Reasoning {
                text,
                signature: None,
                delta_size,
            },
        ],
        _ => vec![Block::Reasoning {
            text,
            signature: None,
            delta_size,
        }],
    }
}

/// The first document of the last user message with citations enabled: its index among
/// that message's documents, its name, and the opening of its text (the quote to cite).
/// The first search result of the last user turn that asks for citations, as the citation
/// the model makes of it (its first passage, by search-result location).
fn cited_search_result(request: &Value) -> Option<Value> {
    let results = crate::scenario::last_user_content(request)?
        .iter()
        .filter_map(|b| b.get("searchResult"));
    for (index, result) in results.enumerate() {
        if result
            .pointer("/citations/enabled")
            .and_then(Value::as_bool)
            != Some(true)
        {
            continue;
        }
        let quote = result
            .pointer("/content/0/text")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Some(serde_json::json!({
            "title": result.get("title").cloned().unwrap_or(Value::Null),
            "source": result.get("source").cloned().unwrap_or(Value::Null),
            "sourceContent": [{ "text": quote }],
            "location": { "searchResultLocation": { "searchResultIndex": index, "start": 0, "end": 1 } },
        }));
    }
    None
}

/// The first document of the last user turn that asks for citations, as the citation the
/// model makes of it (its first 80 characters, by character location).
fn cited_document(request: &Value) -> Option<Value> {
    let (index, title, quote) = cited_document_text(request)?;
    let end = quote.chars().count();
    Some(serde_json::json!({
        "title": title,
        "sourceContent": [{ "text": quote }],
        "location": { "documentChar": { "documentIndex": index, "start": 0, "end": end } },
    }))
}

fn cited_document_text(request: &Value) -> Option<(usize, String, String)> {
    use base64::Engine;
    let documents = crate::scenario::last_user_content(request)?
        .iter()
        .filter_map(|b| b.get("document"));
    for (index, doc) in documents.enumerate() {
        if doc.pointer("/citations/enabled").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let name = doc
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("document");
        let text = doc
            .pointer("/source/text")
            .or_else(|| doc.pointer("/source/content/0/text"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                let bytes = doc.pointer("/source/bytes").and_then(Value::as_str)?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(bytes)
                    .ok()?;
                Some(String::from_utf8_lossy(&bytes).into_owned())
            })
            .unwrap_or_default();
        let quote: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(80)
            .collect();
        return Some((index, name.to_string(), quote));
    }
    None
}

/// Builds the answer for a request. `scenario` is `None` for the echo model; `style` is how
/// the model reasons ([`crate::model_rules`]).
pub fn build(request: &Value, scenario: Option<&Scenario>, style: Reasoning) -> Answer {
    let default = Scenario::default();
    let s = scenario.unwrap_or(&default);
    let delta_size = s.delta_size.unwrap_or(DEFAULT_DELTA_SIZE).max(1);
    let mut blocks = reasoning_blocks(request, s, style, delta_size);
    server_tool_blocks(s, &mut blocks);
    let tool_calls = s.tool_calls.as_deref().unwrap_or(&[]);
    text_block(request, s, scenario.is_some(), delta_size, &mut blocks);
    if let Some(image) = &s.image {
        blocks.push(Block::Image {
            format: image.format.clone(),
            data: image.data.clone(),
            error: image.error.clone(),
        });
    }
    tool_use_blocks(tool_calls, &mut blocks);
    let stop_reason = s.stop_reason.clone().unwrap_or_else(|| {
        if tool_calls.is_empty() {
            "end_turn"
        } else {
            "tool_use"
        }
        .to_string()
    });
    let spec = s.usage.clone().unwrap_or_default();
    let cache = match (spec.cache_read_input_tokens, spec.cache_write_input_tokens) {
        (None, None) => None,
        (r, w) => Some((r.unwrap_or(0), w.unwrap_or(0))),
    };
    let output = spec
        .output_tokens
        .unwrap_or_else(|| tokens_for(output_chars(&blocks)));
    Answer {
        blocks,
        stop_reason,
        usage: Usage {
            input: spec.input_tokens.unwrap_or_else(|| input_tokens(request)),
            output,
            cache,
            cache_details: Vec::new(),
        },
        latency_ms: s.latency_ms,
        model_response_fields: None,
        response_fields: served(request, s.served_tier.as_deref()),
    }
}

/// The `performanceConfig` and `serviceTier` that served `request`: those it asked for, or
/// the tier the scenario says served it.
fn served(request: &Value, served_tier: Option<&str>) -> Vec<(&'static str, Value)> {
    let mut fields: Vec<(&'static str, Value)> = ["performanceConfig", "serviceTier"]
        .into_iter()
        .filter_map(|k| {
            request
                .get(k)
                .filter(|v| !v.is_null())
                .map(|v| (k, v.clone()))
        })
        .collect();
    if let Some(tier) = served_tier {
        fields.retain(|(k, _)| *k != "serviceTier");
        fields.push(("serviceTier", json!({ "type": tier })));
    }
    fields
}

/// The scenario's reasoning (text, redacted), or else what the request's reasoning settings
/// ask of a model reasoning in `style`.
fn reasoning_blocks(
    request: &Value,
    s: &Scenario,
    style: Reasoning,
    delta_size: usize,
) -> Vec<Block> {
    let mut blocks = Vec::new();
    if s.reasoning.is_none() && s.redacted_reasoning.is_none() {
        blocks.extend(requested_reasoning(request, style, delta_size));
    }
    if let Some(r) = &s.reasoning {
        blocks.push(Block::Reasoning {
            text: r.text.clone(),
            signature: r.signature.clone(),
            delta_size: r.delta_size.unwrap_or(delta_size).max(1),
        });
    }
    for redacted in s.redacted_reasoning.iter().flatten() {
        blocks.push(Block::Redacted(redacted.clone()));
    }
    blocks
}

/// Each server tool the scenario runs: its call, then its result.
fn server_tool_blocks(s: &Scenario, blocks: &mut Vec<Block>) {
    for call in s.server_tool_calls.iter().flatten() {
        let id = call
            .id
            .clone()
            .unwrap_or_else(|| format!("tooluse_server{:02}", blocks.len()));
        blocks.push(Block::ServerToolUse {
            id: id.clone(),
            name: call.name.clone(),
            input: call.input.clone(),
        });
        blocks.push(Block::ServerToolResult {
            tool_use_id: id,
            kind: format!("{}_result", call.name),
            content: call.result.clone(),
        });
    }
}

/// The answer's text: scripted, or filler of a length, or (when nothing is scripted) a
/// document matching the requested schema, a quote of a cited source, or the prompt echoed.
/// `scripted`: a scenario was registered (`s` is then its, not the default).
fn text_block(
    request: &Value,
    s: &Scenario,
    scripted: bool,
    delta_size: usize,
    blocks: &mut Vec<Block>,
) {
    let text = match (&s.text, s.text_length) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(n)) => Some(filler_text(n)),
        // A pure tool call or pure reasoning answer has no text block, like the service.
        (None, None) if s.tool_calls.as_ref().is_some_and(|c| !c.is_empty()) => None,
        (None, None) if scripted && (s.reasoning.is_some() || s.redacted_reasoning.is_some()) => {
            None
        }
        (None, None) => Some(match output_schema(request) {
            // Structured output: the model answers with a document matching the schema.
            Some(schema) => schema_instance(&schema).to_string(),
            None => echo_text(request),
        }),
    };
    let cited = cited_document(request).or_else(|| cited_search_result(request));
    match (text, cited) {
        // A document or search result that asks for citations, and nothing scripted: quote
        // it, citing it.
        (Some(_), Some(citation)) if s.text.is_none() && s.text_length.is_none() => {
            let quote = citation["sourceContent"][0]["text"]
                .as_str()
                .unwrap_or("")
                .to_string();
            blocks.push(Block::CitedText {
                text: format!("The source says: \"{quote}\"."),
                citations: vec![citation],
                delta_size,
            });
        }
        (Some(text), _) => blocks.push(Block::Text { text, delta_size }),
        (None, _) => {}
    }
}

fn tool_use_blocks(tool_calls: &[ToolCallSpec], blocks: &mut Vec<Block>) {
    for call in tool_calls {
        let index = blocks.len();
        blocks.push(Block::ToolUse {
            id: call
                .id
                .clone()
                .unwrap_or_else(|| format!("tooluse_emulator{index:02}{}", call.name.len())),
            name: call.name.clone(),
            input: if call.input.is_null() {
                Value::Object(Default::default())
            } else {
                call.input.clone()
            },
            fragment_size: call.fragment_size.map(|f| f.max(1)),
        });
    }
}

/// The characters the answer's blocks hold, from which its output tokens are counted.
fn output_chars(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Reasoning { text, .. }
            | Block::Text { text, .. }
            | Block::CitedText { text, .. } => text.chars().count(),
            Block::Redacted(r) => r.len() / 2,
            Block::ToolUse { input, name, .. } | Block::ServerToolUse { input, name, .. } => {
                input.to_string().len() + name.len()
            }
            Block::ServerToolResult { .. } | Block::Image { .. } => 0,
        })
        .sum()
}

/// The schema of a request's structured output (`outputConfig.textFormat`), if it has one.
fn output_schema(request: &Value) -> Option<Value> {
    let text = request
        .pointer("/outputConfig/textFormat/structure/jsonSchema/schema")?
        .as_str()?;
    serde_json::from_str(text).ok()
}

/// A small document matching `schema`: `const` or the first `enum` value; for an object every
/// required property (all when none is required); the fewest array items allowed; numbers at
/// their minimum. Enough for the JSON Schema features structured output accepts.
pub fn schema_instance(schema: &Value) -> Value {
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return schema_instance(first);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    let number = |default: f64| {
        schema
            .get("minimum")
            .and_then(Value::as_f64)
            .unwrap_or(default)
    };
    match kind {
        "object" => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_else(|| {
                    properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default()
                });
            let mut out = serde_json::Map::new();
            for name in required {
                let property = properties
                    .and_then(|p| p.get(name))
                    .cloned()
                    .unwrap_or(Value::Bool(true));
                out.insert(name.to_string(), schema_instance(&property));
            }
            Value::Object(out)
        }
        "array" => {
            let n = schema.get("minItems").and_then(Value::as_u64).unwrap_or(1);
            let item = schema.get("items").cloned().unwrap_or(Value::Bool(true));
            Value::Array((0..n).map(|_| schema_instance(&item)).collect())
        }
        "integer" => serde_json::json!(number(1.0) as i64),
        "number" => serde_json::json!(number(1.5)),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => {
            let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            Value::String(format!("{:x<min$}", "example"))
        }
    }
}

/// The input tokens a request counts, the same way a built answer reports them: about four
/// characters a token, plus each image by its size ([`image_tokens`]). CountTokens answers
/// with this.
pub fn input_tokens(request: &Value) -> u64 {
    use base64::Engine;
    let mut images = 0;
    let mut image_base64_chars = 0;
    for block in request
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(Value::as_array))
        .flatten()
    {
        if let Some(b64) = block.pointer("/image/source/bytes").and_then(Value::as_str) {
            image_base64_chars += b64.len();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            images += image_tokens(&bytes);
        }
    }
    // The image bytes are counted as an image, not as characters of the JSON.
    let json_chars = request.to_string().len().saturating_sub(image_base64_chars);
    let input_chars: usize = user_texts(request)
        .iter()
        .map(|t| t.chars().count())
        .sum::<usize>()
        + json_chars / 16;
    tokens_for(input_chars) + images
}

/// An image's tokens as Anthropic counts them on Bedrock: width × height / 750, at most
/// 1,600 (larger images are scaled down first); an image whose size cannot be read, 1,600.
pub fn image_tokens(bytes: &[u8]) -> u64 {
    match imagesize::blob_size(bytes) {
        Ok(size) => ((size.width as u64 * size.height as u64).div_ceil(750)).clamp(1, 1600),
        Err(_) => 1600,
    }
}

/// Splits `text` into pieces of `size` characters (never inside a UTF-8 character).
/// An empty text yields one empty piece, as the service sends an empty delta.
pub fn split_chars(text: &str, size: usize) -> Vec<&str> {
    if text.is_empty() {
        return vec![""];
    }
    let size = size.max(1);
    let mut pieces = Vec::with_capacity(text.len() / size + 1);
    let mut start = 0;
    let mut count = 0;
    for (idx, _) in text.char_indices() {
        if count == size {
            pieces.push(&text[start..idx]);
            start = idx;
            count = 0;
        }
        count += 1;
    }
    pieces.push(&text[start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_char_boundaries() {
        assert_eq!(
            split_chars("héllo wörld", 3),
            vec!["hél", "lo ", "wör", "ld"]
        );
        assert_eq!(split_chars("", 3), vec![""]);
        assert_eq!(filler_text(7).chars().count(), 7);
    }

    #[test]
    fn echo_skips_scenario_text() {
        let req = serde_json::json!({"messages":[{"role":"user","content":[{"text":"hello"}]}]});
        let a = build(&req, None, Reasoning::None);
        assert_eq!(a.stop_reason, "end_turn");
        match &a.blocks[0] {
            Block::Text { text, .. } => assert!(text.starts_with("You said: hello.")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn echo_keeps_the_users_own_punctuation() {
        let req =
            serde_json::json!({"messages":[{"role":"user","content":[{"text":"Who are you?"}]}]});
        assert!(echo_text(&req).starts_with("You said: Who are you? (This"));
    }

    #[test]
    fn reasoning_follows_the_request_and_the_models_style() {
        let ask = |extra: Value| serde_json::json!({"messages": [{"role": "user", "content": [{"text": "Why is the sky blue?"}]}], "additionalModelRequestFields": extra});
        let thinking =
            ask(serde_json::json!({"thinking": {"type": "enabled", "budget_tokens": 2048}}));
        let a = build(&thinking, None, Reasoning::AnthropicBudget);
        assert!(matches!(
            &a.blocks[0],
            Block::Reasoning {
                signature: Some(_),
                ..
            }
        ));
        assert!(matches!(&a.blocks[1], Block::Text { .. }));
        // Not asked, no reasoning; a model without reasoning gets none either way.
        assert!(matches!(
            &build(
                &ask(serde_json::json!({})),
                None,
                Reasoning::AnthropicBudget
            )
            .blocks[0],
            Block::Text { .. }
        ));
        assert_eq!(build(&thinking, None, Reasoning::None).blocks.len(), 1);
        // The trigger prompt gets redacted thinking.
        let redacted = serde_json::json!({"messages": [{"role": "user", "content": [{"text": REDACTED_THINKING_TRIGGER}]}], "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2048}}});
        assert!(matches!(
            &build(&redacted, None, Reasoning::AnthropicAdaptive).blocks[0],
            Block::Redacted(_)
        ));
        // gpt-oss: an empty text block, then unsigned reasoning, then the answer.
        let gpt = build(&ask(serde_json::json!({})), None, Reasoning::OpenAiEffort);
        assert!(matches!(&gpt.blocks[0], Block::Text { text, .. } if text.is_empty()));
        assert!(matches!(
            &gpt.blocks[1],
            Block::Reasoning {
                signature: None,
                ..
            }
        ));
        // A scripted reasoning block wins over the request.
        let scripted = Scenario {
            reasoning: Some(crate::scenario::ReasoningSpec {
                text: "scripted".into(),
                signature: None,
                delta_size: None,
            }),
            ..Scenario::default()
        };
        assert!(
            matches!(&build(&thinking, Some(&scripted), Reasoning::AnthropicBudget).blocks[0], Block::Reasoning { text, .. } if text == "scripted")
        );
    }

    #[test]
    fn images_count_by_their_size() {
        use base64::Engine;
        // A 100 x 75 PNG header (IHDR) is enough to size it: 10 tokens.
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend_from_slice(&100u32.to_be_bytes());
        png.extend_from_slice(&75u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0]);
        assert_eq!(image_tokens(&png), 10);
        assert_eq!(image_tokens(b"not an image"), 1600);
        let text_only = serde_json::json!({"messages": [{"role": "user", "content": [{"text": "what is this?"}]}]});
        let mut with_image = text_only.clone();
        with_image["messages"][0]["content"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"image": {"format": "png", "source": {"bytes": base64::engine::general_purpose::STANDARD.encode(&png)}}}));
        assert!(input_tokens(&with_image) >= input_tokens(&text_only) + 10);
        assert!(input_tokens(&with_image) < input_tokens(&text_only) + 20);
    }
}
