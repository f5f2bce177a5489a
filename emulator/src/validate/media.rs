//! The media in a Converse request (images, documents, video, audio, guarded images): what
//! the model takes, and the formats, sizes, names and S3 locations Bedrock accepts.

use crate::error::{check_enum, ApiError};
use serde_json::Value;

/// Bedrock's limit on one image's bytes.
pub const MAX_IMAGE_BYTES: usize = 3_750_000;
const IMAGE_FORMATS: &[&str] = &["png", "jpeg", "gif", "webp"];
const DOCUMENT_FORMATS: &[&str] = &[
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];

/// The video formats Bedrock takes.
const VIDEO_FORMATS: &[&str] = &[
    "mkv", "mov", "mp4", "webm", "three_gp", "flv", "mpeg", "mpg", "wmv",
];
const AUDIO_FORMATS: &[&str] = &[
    "mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a", "mpeg",
    "mpga", "pcm", "webm",
];

/// An `s3Location`: `s3://bucket/key`, and a 12-digit `bucketOwner` when given.
fn s3_location(s3: &Value, at: &str) -> Result<(), ApiError> {
    let uri = s3.get("uri").and_then(Value::as_str).unwrap_or("");
    let valid = uri
        .strip_prefix("s3://")
        .and_then(|p| p.split_once('/'))
        .is_some_and(|(bucket, key)| !bucket.is_empty() && !key.is_empty());
    if !valid {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{uri}' at '{at}.source.s3Location.uri' failed to satisfy constraint: Member must satisfy regular expression pattern: s3://[a-z0-9][\\.\\-a-z0-9]{{1,61}}[a-z0-9](/.*)?"
        )));
    }
    if let Some(owner) = s3.get("bucketOwner").and_then(Value::as_str) {
        if owner.len() != 12 || !owner.chars().all(|c| c.is_ascii_digit()) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{owner}' at '{at}.source.s3Location.bucketOwner' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]{{12}}"
            )));
        }
    }
    Ok(())
}

/// Images, documents, video and audio: what the model takes, the formats, sizes and names
/// Bedrock accepts, and that a message with a document also has text.
pub(super) fn media(
    body: &Value,
    model: &crate::catalogue::FoundationModel,
) -> Result<(), ApiError> {
    let messages = body.get("messages").and_then(Value::as_array);
    for (i, message) in messages.into_iter().flatten().enumerate() {
        let content = message.get("content").and_then(Value::as_array);
        let mut has_document = false;
        let mut has_text = false;
        for (j, block) in content.into_iter().flatten().enumerate() {
            let at = format!("messages.{}.member.content.{}.member", i + 1, j + 1);
            has_text |= block.get("text").is_some();
            if let Some(image) = block.get("image") {
                image_block(image, model, &at, i, j)?;
            }
            if let Some(video) = block.get("video") {
                media_block(video, "video", &["VIDEO"], VIDEO_FORMATS, model, &at)?;
            }
            if let Some(audio) = block.get("audio") {
                // Bedrock lists speech models' input as SPEECH.
                let takes = ["SPEECH", "AUDIO"];
                media_block(audio, "audio", &takes, AUDIO_FORMATS, model, &at)?;
            }
            if let Some(image) = block.pointer("/guardContent/image") {
                guarded_image(image, &at)?;
            }
            if let Some(document) = block.get("document") {
                has_document = true;
                document_block(document, &at)?;
            }
        }
        if has_document && !has_text {
            return Err(ApiError::validation(format!(
                "The message at messages.{i} has a document but no text block. Add a text block to the message and try again."
            )));
        }
    }
    Ok(())
}

/// An image the model takes, in a format its bytes really have, within the size limit
/// (`at` names it as the service's messages do; `i`, `j` its message and block).
fn image_block(
    image: &Value,
    model: &crate::catalogue::FoundationModel,
    at: &str,
    i: usize,
    j: usize,
) -> Result<(), ApiError> {
    use base64::Engine;
    if !model.input.contains(&"IMAGE") {
        return Err(ApiError::validation(
            "This model doesn't support the image content block that you provided. Try again with a model that supports image content.",
        ));
    }
    let format = image.get("format").and_then(Value::as_str).unwrap_or("");
    check_enum(&format!("{at}.image.format"), Some(format), IMAGE_FORMATS)?;
    if let Some(s3) = image.pointer("/source/s3Location") {
        return s3_location(s3, at);
    }
    let bytes = image
        .pointer("/source/bytes")
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_default();
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::validation(format!(
            "The image at messages.{i}.content.{j} is {} bytes; images can be at most 3.75 MB.",
            bytes.len()
        )));
    }
    if image_format_of(&bytes) != Some(format) {
        return Err(ApiError::validation(
            "The model returned the following errors: Could not process image",
        ));
    }
    Ok(())
}

/// An image for the guardrail: png or jpeg, as its bytes really are.
fn guarded_image(image: &Value, at: &str) -> Result<(), ApiError> {
    use base64::Engine;
    let format = image.get("format").and_then(Value::as_str).unwrap_or("");
    check_enum(
        &format!("{at}.guardContent.image.format"),
        Some(format),
        &["png", "jpeg"],
    )?;
    let bytes = image
        .pointer("/source/bytes")
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_default();
    if image_format_of(&bytes) != Some(format) {
        return Err(ApiError::validation(
            "The guardrail could not process the image: its bytes are not the format given.",
        ));
    }
    Ok(())
}

/// Video or audio (`kind`) on a model that takes it (one of `modalities` among its inputs),
/// in a format Bedrock knows for it, from bytes or a valid S3 location.
fn media_block(
    block: &Value,
    kind: &str,
    modalities: &[&str],
    formats: &[&str],
    model: &crate::catalogue::FoundationModel,
    at: &str,
) -> Result<(), ApiError> {
    if !model.input.iter().any(|m| modalities.contains(m)) {
        return Err(ApiError::validation(format!(
            "This model doesn't support the {kind} content block that you provided. Try again with a model that supports {kind} content."
        )));
    }
    let format = block.get("format").and_then(Value::as_str).unwrap_or("");
    check_enum(&format!("{at}.{kind}.format"), Some(format), formats)?;
    if let Some(s3) = block.pointer("/source/s3Location") {
        s3_location(s3, at)?;
    }
    Ok(())
}

fn document_block(document: &Value, at: &str) -> Result<(), ApiError> {
    // DocumentSource is a union: bytes, s3Location, text, or content (chunks of text).
    let members: Vec<&str> = document
        .get("source")
        .and_then(Value::as_object)
        .map(|s| s.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if members.len() != 1 || !["bytes", "s3Location", "text", "content"].contains(&members[0]) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{at}.document.source' failed to satisfy constraint: Member must have exactly one of [bytes, s3Location, text, content]"
        )));
    }
    if let Some(chunks) = document.pointer("/source/content") {
        let ok = chunks.as_array().is_some_and(|c| {
            !c.is_empty()
                && c.iter()
                    .all(|b| b.get("text").is_some_and(Value::is_string))
        });
        if !ok {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at '{at}.document.source.content' failed to satisfy constraint: Member must be a non-empty list of text blocks"
            )));
        }
    }
    if document.get("context").is_some_and(|c| !c.is_string()) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{at}.document.context' failed to satisfy constraint: Member must be a string"
        )));
    }
    if let Some(s3) = document.pointer("/source/s3Location") {
        s3_location(s3, at)?;
    }
    let format = document.get("format").and_then(Value::as_str).unwrap_or("");
    check_enum(
        &format!("{at}.document.format"),
        Some(format),
        DOCUMENT_FORMATS,
    )?;
    let name = document.get("name").and_then(Value::as_str).unwrap_or("");
    if !valid_document_name(name) {
        return Err(ApiError::validation(
            "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character.",
        ));
    }
    Ok(())
}

/// The image format the bytes' magic number says, if any of those Bedrock accepts.
fn image_format_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

fn valid_document_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "-()[]".contains(c))
        && !name
            .chars()
            .zip(name.chars().skip(1))
            .any(|(a, b)| a.is_whitespace() && b.is_whitespace())
}
