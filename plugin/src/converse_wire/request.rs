//! The ConverseStream request body, written from the same prepared request the SDK path
//! sends, for the shapes this path supports: text, images given as bytes, tool use and
//! results (text, JSON, images), reasoning, cache points, tools and the tool choice, and every
//! request option but guardrails and prompt variables. Anything else (documents, video,
//! audio, citations, search results, server tools, guardrails) answers `None`, and the call
//! goes through the SDK: the rarer shapes keep the SDK's serializers rather than a second
//! copy here. Field names are Bedrock's wire names (the Converse API reference; the SDK's
//! serializers agree).

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    self as bt, CachePointBlock, ContentBlock, ImageBlock, ImageSource, InferenceConfiguration,
    OutputConfig, OutputFormatStructure, ReasoningContentBlock, SystemContentBlock, Tool,
    ToolChoice, ToolConfiguration, ToolInputSchema, ToolResultContentBlock,
};
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::document::from_document;
use crate::translate::Prepared;

/// The body of `prepared` as JSON, or `None` when it holds a shape this path leaves to the
/// SDK.
pub fn body(prepared: &Prepared) -> Option<Vec<u8>> {
    let o = &prepared.options;
    if o.guardrail.is_some() || o.prompt_variables.is_some() {
        return None;
    }
    let mut body = Map::new();
    let messages = prepared
        .messages
        .iter()
        .map(message)
        .collect::<Option<Vec<_>>>()?;
    body.insert("messages".into(), Value::Array(messages));
    if !prepared.system.is_empty() {
        let system = prepared
            .system
            .iter()
            .map(system_block)
            .collect::<Option<Vec<_>>>()?;
        body.insert("system".into(), Value::Array(system));
    }
    if let Some(inference) = &prepared.inference {
        body.insert("inferenceConfig".into(), inference_config(inference));
    }
    if let Some(tools) = &prepared.tool_config {
        body.insert("toolConfig".into(), tool_config(tools)?);
    }
    if let Some(fields) = &prepared.additional_fields {
        body.insert("additionalModelRequestFields".into(), from_document(fields));
    }
    if let Some(paths) = &o.response_field_paths {
        body.insert("additionalModelResponseFieldPaths".into(), json!(paths));
    }
    if let Some(performance) = &o.performance {
        body.insert(
            "performanceConfig".into(),
            json!({ "latency": performance.latency().as_str() }),
        );
    }
    if let Some(tier) = &o.service_tier {
        body.insert(
            "serviceTier".into(),
            json!({ "type": tier.r#type().as_str() }),
        );
    }
    if let Some(output) = &o.output {
        body.insert("outputConfig".into(), output_config(output)?);
    }
    if !o.request_metadata.is_empty() {
        let metadata: Map<String, Value> = o
            .request_metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        body.insert("requestMetadata".into(), Value::Object(metadata));
    }
    serde_json::to_vec(&Value::Object(body)).ok()
}

fn message(m: &bt::Message) -> Option<Value> {
    let content = m
        .content()
        .iter()
        .map(content_block)
        .collect::<Option<Vec<_>>>()?;
    Some(json!({ "role": m.role().as_str(), "content": content }))
}

fn content_block(block: &ContentBlock) -> Option<Value> {
    Some(match block {
        ContentBlock::Text(text) => json!({ "text": text }),
        ContentBlock::Image(image) => json!({ "image": image_block(image)? }),
        ContentBlock::CachePoint(point) => json!({ "cachePoint": cache_point(point) }),
        ContentBlock::ToolUse(tool_use) => {
            let mut fields = json!({
                "toolUseId": tool_use.tool_use_id(),
                "name": tool_use.name(),
                "input": from_document(tool_use.input()),
            });
            if let Some(kind) = tool_use.r#type() {
                fields["type"] = kind.as_str().into();
            }
            json!({ "toolUse": fields })
        }
        ContentBlock::ToolResult(result) => {
            let content = result
                .content()
                .iter()
                .map(tool_result_block)
                .collect::<Option<Vec<_>>>()?;
            let mut fields = json!({ "toolUseId": result.tool_use_id(), "content": content });
            if let Some(status) = result.status() {
                fields["status"] = status.as_str().into();
            }
            json!({ "toolResult": fields })
        }
        ContentBlock::ReasoningContent(reasoning) => {
            json!({ "reasoningContent": reasoning_block(reasoning)? })
        }
        _ => return None,
    })
}

fn tool_result_block(block: &ToolResultContentBlock) -> Option<Value> {
    Some(match block {
        ToolResultContentBlock::Text(text) => json!({ "text": text }),
        ToolResultContentBlock::Json(document) => json!({ "json": from_document(document) }),
        ToolResultContentBlock::Image(image) => json!({ "image": image_block(image)? }),
        _ => return None,
    })
}

fn reasoning_block(block: &ReasoningContentBlock) -> Option<Value> {
    Some(match block {
        ReasoningContentBlock::ReasoningText(r) => {
            let mut text = json!({ "text": r.text() });
            if let Some(signature) = r.signature() {
                text["signature"] = signature.into();
            }
            json!({ "reasoningText": text })
        }
        ReasoningContentBlock::RedactedContent(blob) => json!({ "redactedContent": base64(blob) }),
        _ => return None,
    })
}

fn image_block(image: &ImageBlock) -> Option<Value> {
    match image.source()? {
        ImageSource::Bytes(bytes) => Some(json!({
            "format": image.format().as_str(),
            "source": { "bytes": base64(bytes) },
        })),
        _ => None,
    }
}

fn system_block(block: &SystemContentBlock) -> Option<Value> {
    Some(match block {
        SystemContentBlock::Text(text) => json!({ "text": text }),
        SystemContentBlock::CachePoint(point) => json!({ "cachePoint": cache_point(point) }),
        _ => return None,
    })
}

fn cache_point(point: &CachePointBlock) -> Value {
    let mut fields = json!({ "type": point.r#type().as_str() });
    if let Some(ttl) = point.ttl() {
        fields["ttl"] = ttl.as_str().into();
    }
    fields
}

fn inference_config(c: &InferenceConfiguration) -> Value {
    let mut fields = Map::new();
    if let Some(n) = c.max_tokens() {
        fields.insert("maxTokens".into(), n.into());
    }
    if let Some(t) = c.temperature() {
        fields.insert("temperature".into(), f64::from(t).into());
    }
    if let Some(p) = c.top_p() {
        fields.insert("topP".into(), f64::from(p).into());
    }
    if let Some(stops) = c.stop_sequences.as_ref() {
        fields.insert("stopSequences".into(), json!(stops));
    }
    Value::Object(fields)
}

fn tool_config(c: &ToolConfiguration) -> Option<Value> {
    let tools = c
        .tools()
        .iter()
        .map(|tool| {
            Some(match tool {
                Tool::ToolSpec(spec) => {
                    let mut fields = json!({ "name": spec.name() });
                    if let Some(description) = spec.description() {
                        fields["description"] = description.into();
                    }
                    match spec.input_schema() {
                        Some(ToolInputSchema::Json(schema)) => {
                            fields["inputSchema"] = json!({ "json": from_document(schema) });
                        }
                        Some(_) => return None,
                        None => {}
                    }
                    if let Some(strict) = spec.strict() {
                        fields["strict"] = strict.into();
                    }
                    json!({ "toolSpec": fields })
                }
                Tool::CachePoint(point) => json!({ "cachePoint": cache_point(point) }),
                _ => return None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let mut fields = json!({ "tools": tools });
    if let Some(choice) = c.tool_choice() {
        fields["toolChoice"] = match choice {
            ToolChoice::Auto(_) => json!({ "auto": {} }),
            ToolChoice::Any(_) => json!({ "any": {} }),
            ToolChoice::Tool(tool) => json!({ "tool": { "name": tool.name() } }),
            _ => return None,
        };
    }
    Some(fields)
}

fn output_config(c: &OutputConfig) -> Option<Value> {
    let mut fields = Map::new();
    if let Some(format) = c.text_format() {
        let mut text_format = json!({ "type": format.r#type().as_str() });
        match format.structure() {
            Some(OutputFormatStructure::JsonSchema(schema)) => {
                let mut definition = json!({ "schema": schema.schema() });
                if let Some(name) = schema.name() {
                    definition["name"] = name.into();
                }
                if let Some(description) = schema.description() {
                    definition["description"] = description.into();
                }
                text_format["structure"] = json!({ "jsonSchema": definition });
            }
            Some(_) => return None,
            None => {}
        }
        fields.insert("textFormat".into(), text_format);
    }
    if let Some(effort) = c.effort() {
        fields.insert("effort".into(), effort.into());
    }
    Some(Value::Object(fields))
}

fn base64(blob: &Blob) -> String {
    base64::engine::general_purpose::STANDARD.encode(blob.as_ref())
}
