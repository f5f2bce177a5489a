//! Renders an [`Answer`] as the service's ConverseStream events and Converse JSON.

use crate::answer::{split_chars, Answer, Block, Usage};
use crate::frames;
use serde_json::{json, Value};

const PAD_ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The service pads every event with `"p":"abcd..."` of varying length against
/// length side channels; we vary the length deterministically by event position.
pub fn padding(seq: usize) -> &'static str {
    let len = 1 + (seq * 37 + 11) % 60;
    &PAD_ALPHABET[..len]
}

/// JSON with object keys sorted, as the service writes event payloads, whatever map type
/// serde_json was compiled with (a dependency may enable `preserve_order`).
pub fn to_sorted_json(v: &Value) -> String {
    let mut out = String::new();
    write_sorted(v, &mut out);
    out
}

fn write_sorted(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_sorted(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The usage object; the cache counters come with their `...TokenCount` twins like the service.
pub fn usage_json(usage: &Usage) -> Value {
    let mut u = json!({
        "inputTokens": usage.input,
        "outputTokens": usage.output,
        "totalTokens": usage.total(),
    });
    if let (Some((read, write)), Some(obj)) = (usage.cache, u.as_object_mut()) {
        obj.insert("cacheReadInputTokens".into(), json!(read));
        obj.insert("cacheReadInputTokenCount".into(), json!(read));
        obj.insert("cacheWriteInputTokens".into(), json!(write));
        obj.insert("cacheWriteInputTokenCount".into(), json!(write));
    }
    if !usage.cache_details.is_empty() {
        u["cacheDetails"] = usage
            .cache_details
            .iter()
            .map(|(ttl, tokens)| json!({ "ttl": ttl, "inputTokens": tokens }))
            .collect();
    }
    u
}

/// The stream as (event type, payload without padding), in order.
pub fn stream_events(answer: &Answer, latency_ms: u64) -> Vec<(&'static str, Value)> {
    let mut events = vec![("messageStart", json!({ "role": "assistant" }))];
    for (index, block) in answer.blocks.iter().enumerate() {
        block_events(answer, index, block, &mut events);
        events.push(("contentBlockStop", json!({ "contentBlockIndex": index })));
    }
    let mut stop = json!({ "stopReason": answer.stop_reason });
    if let Some(fields) = &answer.model_response_fields {
        stop["additionalModelResponseFields"] = fields.clone();
    }
    events.push(("messageStop", stop));
    let mut usage = usage_json(&answer.usage);
    if answer.has_server_tools() {
        usage["serverToolUsage"] = json!({});
    }
    let mut metadata = json!({ "metrics": { "latencyMs": latency_ms }, "usage": usage });
    for (key, value) in &answer.response_fields {
        metadata[*key] = value.clone();
    }
    events.push(("metadata", metadata));
    events
}

/// The events of block `index` up to its stop: its start where it has one, then its deltas.
fn block_events(
    answer: &Answer,
    index: usize,
    block: &Block,
    events: &mut Vec<(&'static str, Value)>,
) {
    let delta = |d: Value| {
        (
            "contentBlockDelta",
            json!({ "contentBlockIndex": index, "delta": d }),
        )
    };
    let start = |s: Value| {
        (
            "contentBlockStart",
            json!({ "contentBlockIndex": index, "start": s }),
        )
    };
    match block {
        Block::Reasoning {
            text,
            signature,
            delta_size,
        } => {
            for reasoning in reasoning_deltas(text, signature.as_deref(), *delta_size) {
                events.push(delta(json!({ "reasoningContent": reasoning })));
            }
        }
        Block::Redacted(data) => {
            events.push(delta(
                json!({ "reasoningContent": { "redactedContent": data } }),
            ));
        }
        Block::Text { text, delta_size } => {
            let pieces = split_chars(text, *delta_size);
            events.extend(pieces.into_iter().map(|p| delta(json!({ "text": p }))));
        }
        Block::CitedText {
            text,
            citations,
            delta_size,
        } => {
            let pieces = split_chars(text, *delta_size);
            events.extend(pieces.into_iter().map(|p| delta(json!({ "text": p }))));
            events.extend(citations.iter().map(|c| delta(json!({ "citation": c }))));
        }
        Block::Image {
            format,
            data,
            error,
        } => {
            events.push(start(json!({ "image": { "format": format } })));
            events.extend(image_deltas(data, error.as_deref()).into_iter().map(delta));
        }
        Block::ServerToolUse { .. } | Block::ServerToolResult { .. } => {
            if let Some((opening, only_delta)) = server_tool(block) {
                events.push(start(opening));
                events.push(delta(only_delta));
            }
        }
        Block::ToolUse {
            id,
            name,
            input,
            fragment_size,
        } => {
            let mut tool_use = json!({ "name": name, "toolUseId": id });
            if answer.has_server_tools() {
                tool_use["type"] = json!("tool_use");
            }
            events.push(start(json!({ "toolUse": tool_use })));
            for fragment in input_fragments(input, *fragment_size) {
                events.push(delta(json!({ "toolUse": { "input": fragment } })));
            }
        }
    }
}

/// An image's deltas: its bytes (base64) in the pieces a stream carries them, each base64
/// again, or the one that says why it could not be made.
fn image_deltas(data: &str, error: Option<&str>) -> Vec<Value> {
    use base64::Engine as _;
    const PIECE: usize = 16 * 1024;
    if let Some(message) = error {
        return vec![json!({ "image": { "error": { "message": message } } })];
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(data).unwrap_or_default();
    bytes
        .chunks(PIECE)
        .map(|c| json!({ "image": { "source": { "bytes": engine.encode(c) } } }))
        .collect()
}

/// A server tool's call or result: its start, and the one delta that carries it whole.
fn server_tool(block: &Block) -> Option<(Value, Value)> {
    match block {
        Block::ServerToolUse { id, name, input } => Some((
            json!({ "toolUse": { "name": name, "toolUseId": id, "type": "server_tool_use" } }),
            json!({ "toolUse": { "input": to_sorted_json(input) } }),
        )),
        Block::ServerToolResult {
            tool_use_id,
            kind,
            content,
        } => Some((
            json!({ "toolResult": { "status": "success", "toolUseId": tool_use_id, "type": kind } }),
            json!({ "toolResult": [{ "json": content }] }),
        )),
        _ => None,
    }
}

/// Reasoning as its deltas carry it: the text in pieces (none when only a signature is
/// scripted), then the signature.
fn reasoning_deltas(text: &str, signature: Option<&str>, delta_size: usize) -> Vec<Value> {
    let mut deltas = Vec::new();
    if !text.is_empty() || signature.is_none() {
        for piece in split_chars(text, delta_size) {
            deltas.push(json!({ "text": piece }));
        }
    }
    if let Some(sig) = signature {
        deltas.push(json!({ "signature": sig }));
    }
    deltas
}

/// A tool call's input as the deltas carry it: whole, or as Claude sends it, an empty
/// fragment first and then pieces split mid-token.
fn input_fragments(input: &Value, fragment_size: Option<usize>) -> Vec<String> {
    let input_json = to_sorted_json(input);
    match fragment_size {
        Some(size) => std::iter::once(String::new())
            .chain(
                split_chars(&input_json, size)
                    .into_iter()
                    .map(str::to_string),
            )
            .collect(),
        None => vec![input_json],
    }
}

/// Encodes events into frames, adding the padding field.
pub fn encode_events(events: &[(&'static str, Value)]) -> Vec<bytes::Bytes> {
    events
        .iter()
        .enumerate()
        .map(|(seq, (event_type, payload))| {
            let mut payload = payload.clone();
            if let Some(obj) = payload.as_object_mut() {
                obj.insert("p".into(), Value::String(padding(seq).to_string()));
            }
            frames::event_frame(event_type, to_sorted_json(&payload))
        })
        .collect()
}

/// The Converse (non-streaming) response body.
pub fn converse_json(answer: &Answer, latency_ms: u64) -> String {
    let mut response = json!({
        "metrics": { "latencyMs": latency_ms },
        "output": { "message": message(answer) },
        "stopReason": answer.stop_reason,
        "usage": usage_json(&answer.usage),
    });
    if let Some(fields) = &answer.model_response_fields {
        response["additionalModelResponseFields"] = fields.clone();
    }
    for (key, value) in &answer.response_fields {
        response[*key] = value.clone();
    }
    to_sorted_json(&response)
}

/// The answer as the assistant message of Converse's response (`output.message`), which Nova's
/// own InvokeModel answer carries too.
pub fn message(answer: &Answer) -> Value {
    let content: Vec<Value> = answer
        .blocks
        .iter()
        .map(|b| match b {
            Block::Reasoning {
                text, signature, ..
            } => {
                let mut rt = json!({ "text": text });
                if let (Some(sig), Some(obj)) = (signature, rt.as_object_mut()) {
                    obj.insert("signature".into(), json!(sig));
                }
                json!({ "reasoningContent": { "reasoningText": rt } })
            }
            Block::Redacted(data) => json!({ "reasoningContent": { "redactedContent": data } }),
            Block::Text { text, .. } => json!({ "text": text }),
            Block::ToolUse {
                id, name, input, ..
            } => {
                json!({ "toolUse": { "input": input, "name": name, "toolUseId": id } })
            }
            Block::ServerToolUse { id, name, input } => {
                json!({ "toolUse": { "input": input, "name": name, "toolUseId": id, "type": "server_tool_use" } })
            }
            Block::CitedText {
                text, citations, ..
            } => json!({ "citationsContent": { "content": [{ "text": text }], "citations": citations } }),
            Block::ServerToolResult {
                tool_use_id,
                kind,
                content,
            } => json!({ "toolResult": { "content": [{ "json": content }], "status": "success", "toolUseId": tool_use_id, "type": kind } }),
            Block::Image { format, data, error } => match error {
                Some(message) => json!({ "image": { "format": format, "error": { "message": message } } }),
                None => json!({ "image": { "format": format, "source": { "bytes": data } } }),
            },
        })
        .collect();
    json!({ "content": content, "role": "assistant" })
}

/// The service's default wording for in-stream exceptions.
pub fn default_exception_message(exception_type: &str) -> &'static str {
    match exception_type {
        "throttlingException" => "Too many requests, please wait before trying again.",
        "serviceUnavailableException" => "Bedrock is unable to process your request.",
        "internalServerException" => {
            "The system encountered an unexpected error during processing. Try your request again."
        }
        "modelStreamErrorException" => {
            "The model encountered an error while streaming the response."
        }
        "validationException" => "The request failed validation.",
        _ => "The stream ended with an error.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_json_and_padding() {
        let v = json!({"role":"assistant","p":"ab"});
        assert_eq!(to_sorted_json(&v), r#"{"p":"ab","role":"assistant"}"#);
        assert!(padding(0).starts_with('a'));
        assert!((0..200).all(|i| !padding(i).is_empty() && padding(i).len() <= 60));
    }
}
