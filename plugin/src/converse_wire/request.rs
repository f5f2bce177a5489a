//! The ConverseStream request body, written from the prepared request (the SDK's input
//! types, which `translate` builds and checks). Field names are Bedrock's wire names (the
//! Converse API reference; the SDK's serializers agree). Every block and option `translate`
//! makes is written; a variant newer than this file (the SDK's `Unknown`, which `translate`
//! never makes) is refused by name rather than dropped.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    self as bt, AudioSource, CachePointBlock, CitationGeneratedContent, CitationsConfig,
    ContentBlock, DocumentContentBlock, DocumentSource, GuardrailConverseContentBlock,
    GuardrailConverseImageSource, ImageBlock, ImageSource, InferenceConfiguration, OutputConfig,
    OutputFormatStructure, PromptVariableValues, ReasoningContentBlock, S3Location,
    SystemContentBlock, Tool, ToolChoice, ToolConfiguration, ToolInputSchema, ToolReference,
    ToolResultContentBlock, VideoSource,
};
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::document::from_document;
use crate::translate::Prepared;

/// What could not be written: the kind of thing this file does not know.
type Written = Result<Value, &'static str>;

/// The body of `prepared` as JSON.
pub fn body(prepared: &Prepared) -> Result<Vec<u8>, &'static str> {
    let o = &prepared.options;
    let mut body = Map::new();
    let messages = prepared
        .messages
        .iter()
        .map(message)
        .collect::<Result<Vec<_>, _>>()?;
    body.insert("messages".into(), Value::Array(messages));
    if !prepared.system.is_empty() {
        let system = prepared
            .system
            .iter()
            .map(system_block)
            .collect::<Result<Vec<_>, _>>()?;
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
    if let Some(g) = &o.guardrail {
        body.insert(
            "guardrailConfig".into(),
            json!({
                "guardrailIdentifier": g.guardrail_identifier(),
                "guardrailVersion": g.guardrail_version(),
                "trace": g.trace().as_str(),
                "streamProcessingMode": g.stream_processing_mode().as_str(),
            }),
        );
    }
    if let Some(variables) = &o.prompt_variables {
        let mut written = Map::new();
        for (name, value) in variables {
            let PromptVariableValues::Text(text) = value else {
                return Err("a prompt variable");
            };
            written.insert(name.clone(), json!({ "text": text }));
        }
        body.insert("promptVariables".into(), Value::Object(written));
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
    serde_json::to_vec(&Value::Object(body)).map_err(|_| "the body")
}

fn message(m: &bt::Message) -> Written {
    let content = m
        .content()
        .iter()
        .map(content_block)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "role": m.role().as_str(), "content": content }))
}

fn content_block(block: &ContentBlock) -> Written {
    Ok(match block {
        ContentBlock::Text(text) => json!({ "text": text }),
        ContentBlock::Image(image) => json!({ "image": image_block(image)? }),
        ContentBlock::Document(document) => json!({ "document": document_block(document)? }),
        ContentBlock::Video(video) => json!({ "video": video_block(video)? }),
        ContentBlock::Audio(audio) => {
            let source = match audio.source() {
                Some(AudioSource::Bytes(bytes)) => json!({ "bytes": base64(bytes) }),
                Some(AudioSource::S3Location(s3)) => json!({ "s3Location": s3_location(s3) }),
                _ => return Err("an audio source"),
            };
            json!({ "audio": { "format": audio.format().as_str(), "source": source } })
        }
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
                .collect::<Result<Vec<_>, _>>()?;
            let mut fields = json!({ "toolUseId": result.tool_use_id(), "content": content });
            if let Some(status) = result.status() {
                fields["status"] = status.as_str().into();
            }
            if let Some(kind) = result.r#type() {
                fields["type"] = kind.into();
            }
            json!({ "toolResult": fields })
        }
        ContentBlock::ReasoningContent(reasoning) => {
            json!({ "reasoningContent": reasoning_block(reasoning)? })
        }
        ContentBlock::GuardContent(guarded) => json!({ "guardContent": guard_content(guarded)? }),
        ContentBlock::CitationsContent(cited) => {
            let content = cited
                .content()
                .iter()
                .map(|c| match c {
                    CitationGeneratedContent::Text(text) => Ok(json!({ "text": text })),
                    _ => Err("a citation's generated content"),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let citations = cited
                .citations()
                .iter()
                .map(|c| crate::citations::to_json(c).ok_or("a citation"))
                .collect::<Result<Vec<_>, _>>()?;
            json!({ "citationsContent": { "content": content, "citations": citations } })
        }
        ContentBlock::SearchResult(result) => json!({ "searchResult": search_result(result) }),
        ContentBlock::ToolAddition(addition) => {
            json!({ "toolAddition": { "tool": addition.tool().map(tool_reference) } })
        }
        ContentBlock::ToolRemoval(removal) => {
            json!({ "toolRemoval": { "tool": removal.tool().map(tool_reference) } })
        }
        _ => return Err("a content block"),
    })
}

fn tool_result_block(block: &ToolResultContentBlock) -> Written {
    Ok(match block {
        ToolResultContentBlock::Text(text) => json!({ "text": text }),
        ToolResultContentBlock::Json(document) => json!({ "json": from_document(document) }),
        ToolResultContentBlock::Image(image) => json!({ "image": image_block(image)? }),
        ToolResultContentBlock::Document(document) => {
            json!({ "document": document_block(document)? })
        }
        ToolResultContentBlock::Video(video) => json!({ "video": video_block(video)? }),
        ToolResultContentBlock::SearchResult(result) => {
            json!({ "searchResult": search_result(result) })
        }
        _ => return Err("a tool result block"),
    })
}

fn reasoning_block(block: &ReasoningContentBlock) -> Written {
    Ok(match block {
        ReasoningContentBlock::ReasoningText(r) => {
            let mut text = json!({ "text": r.text() });
            if let Some(signature) = r.signature() {
                text["signature"] = signature.into();
            }
            json!({ "reasoningText": text })
        }
        ReasoningContentBlock::RedactedContent(blob) => json!({ "redactedContent": base64(blob) }),
        _ => return Err("a reasoning block"),
    })
}

fn image_block(image: &ImageBlock) -> Written {
    let source = match image.source() {
        Some(ImageSource::Bytes(bytes)) => json!({ "bytes": base64(bytes) }),
        Some(ImageSource::S3Location(s3)) => json!({ "s3Location": s3_location(s3) }),
        _ => return Err("an image source"),
    };
    Ok(json!({ "format": image.format().as_str(), "source": source }))
}

fn document_block(document: &bt::DocumentBlock) -> Written {
    let source = match document.source() {
        Some(DocumentSource::Bytes(bytes)) => json!({ "bytes": base64(bytes) }),
        Some(DocumentSource::S3Location(s3)) => json!({ "s3Location": s3_location(s3) }),
        Some(DocumentSource::Text(text)) => json!({ "text": text }),
        Some(DocumentSource::Content(parts)) => {
            let parts = parts
                .iter()
                .map(|p| match p {
                    DocumentContentBlock::Text(text) => Ok(json!({ "text": text })),
                    _ => Err("a document content block"),
                })
                .collect::<Result<Vec<_>, _>>()?;
            json!({ "content": parts })
        }
        _ => return Err("a document source"),
    };
    let mut fields = json!({
        "format": document.format().as_str(),
        "name": document.name(),
        "source": source,
    });
    if let Some(context) = document.context() {
        fields["context"] = context.into();
    }
    if let Some(citations) = document.citations() {
        fields["citations"] = citations_config(citations);
    }
    Ok(fields)
}

fn video_block(video: &bt::VideoBlock) -> Written {
    let source = match video.source() {
        Some(VideoSource::Bytes(bytes)) => json!({ "bytes": base64(bytes) }),
        Some(VideoSource::S3Location(s3)) => json!({ "s3Location": s3_location(s3) }),
        _ => return Err("a video source"),
    };
    Ok(json!({ "format": video.format().as_str(), "source": source }))
}

fn s3_location(s3: &S3Location) -> Value {
    let mut fields = json!({ "uri": s3.uri() });
    if let Some(owner) = s3.bucket_owner() {
        fields["bucketOwner"] = owner.into();
    }
    fields
}

fn search_result(result: &bt::SearchResultBlock) -> Value {
    let content: Vec<Value> = result
        .content()
        .iter()
        .map(|c| json!({ "text": c.text() }))
        .collect();
    let mut fields = json!({
        "source": result.source(),
        "title": result.title(),
        "content": content,
    });
    if let Some(citations) = result.citations() {
        fields["citations"] = citations_config(citations);
    }
    fields
}

fn citations_config(c: &CitationsConfig) -> Value {
    json!({ "enabled": c.enabled() })
}

fn guard_content(block: &GuardrailConverseContentBlock) -> Written {
    Ok(match block {
        GuardrailConverseContentBlock::Text(t) => {
            let mut text = json!({ "text": t.text() });
            if !t.qualifiers().is_empty() {
                let qualifiers: Vec<&str> = t.qualifiers().iter().map(|q| q.as_str()).collect();
                text["qualifiers"] = json!(qualifiers);
            }
            json!({ "text": text })
        }
        GuardrailConverseContentBlock::Image(image) => {
            let source = match image.source() {
                Some(GuardrailConverseImageSource::Bytes(bytes)) => {
                    json!({ "bytes": base64(bytes) })
                }
                _ => return Err("a guarded image source"),
            };
            json!({ "image": { "format": image.format().as_str(), "source": source } })
        }
        _ => return Err("a guarded content block"),
    })
}

fn tool_reference(tool: &ToolReference) -> Value {
    let mut fields = Map::new();
    for (key, value) in [
        ("type", tool.r#type()),
        ("name", tool.name()),
        ("serverName", tool.server_name()),
    ] {
        if let Some(value) = value {
            fields.insert(key.into(), value.into());
        }
    }
    Value::Object(fields)
}

fn system_block(block: &SystemContentBlock) -> Written {
    Ok(match block {
        SystemContentBlock::Text(text) => json!({ "text": text }),
        SystemContentBlock::CachePoint(point) => json!({ "cachePoint": cache_point(point) }),
        SystemContentBlock::GuardContent(guarded) => {
            json!({ "guardContent": guard_content(guarded)? })
        }
        _ => return Err("a system block"),
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

fn tool_config(c: &ToolConfiguration) -> Written {
    let tools = c
        .tools()
        .iter()
        .map(|tool| {
            Ok(match tool {
                Tool::ToolSpec(spec) => {
                    let mut fields = json!({ "name": spec.name() });
                    if let Some(description) = spec.description() {
                        fields["description"] = description.into();
                    }
                    match spec.input_schema() {
                        Some(ToolInputSchema::Json(schema)) => {
                            fields["inputSchema"] = json!({ "json": from_document(schema) });
                        }
                        Some(_) => return Err("a tool's input schema"),
                        None => {}
                    }
                    if let Some(strict) = spec.strict() {
                        fields["strict"] = strict.into();
                    }
                    json!({ "toolSpec": fields })
                }
                Tool::SystemTool(system) => json!({ "systemTool": { "name": system.name() } }),
                Tool::CachePoint(point) => json!({ "cachePoint": cache_point(point) }),
                _ => return Err("a tool"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut fields = json!({ "tools": tools });
    if let Some(choice) = c.tool_choice() {
        fields["toolChoice"] = match choice {
            ToolChoice::Auto(_) => json!({ "auto": {} }),
            ToolChoice::Any(_) => json!({ "any": {} }),
            ToolChoice::Tool(tool) => json!({ "tool": { "name": tool.name() } }),
            _ => return Err("a tool choice"),
        };
    }
    Ok(fields)
}

fn output_config(c: &OutputConfig) -> Written {
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
            Some(_) => return Err("an output format"),
            None => {}
        }
        fields.insert("textFormat".into(), text_format);
    }
    if let Some(effort) = c.effort() {
        fields.insert("effort".into(), effort.into());
    }
    Ok(Value::Object(fields))
}

fn base64(blob: &Blob) -> String {
    base64::engine::general_purpose::STANDARD.encode(blob.as_ref())
}
