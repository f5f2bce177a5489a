//! The HTTP dialects the gateway speaks, one folder each: its wire types, its mapping to and
//! from the contract, its stream frames and its error shape. They share the core in
//! `model_call` (the checks, the call, the stream pump); adding a dialect touches its own
//! folder and the router.
//!
//! - `chat`: OpenAI Chat Completions (`POST /v1/chat/completions`);
//! - `responses`: OpenAI Responses (`POST /v1/responses`), what Codex CLI speaks;
//! - `messages`: Anthropic Messages (`POST /v1/messages`, `/v1/messages/count_tokens`), what
//!   Claude Code speaks;
//! - `embeddings`: OpenAI Embeddings (`POST /v1/embeddings`).
//!
//! This file holds what more than one dialect needs to turn a request into the contract's.

pub mod chat;
pub mod embeddings;
pub mod messages;
pub mod responses;

use base64::Engine as _;
use host_sdk::{ContentBlock, Message, Role};
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::image_urls::{self, Fetched};

/// The most messages (or input items) one request may hold.
pub const MAX_MESSAGES: usize = 1000;

/// Appends blocks to the history, merging consecutive turns of one role (the contract, like
/// Bedrock, wants the roles to alternate).
pub fn push(messages: &mut Vec<Message>, role: Role, blocks: Vec<ContentBlock>) {
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(Message {
            role,
            content: blocks,
        }),
    }
}

/// A tool call's input from the JSON text of its arguments (empty text: no arguments).
pub fn tool_input(arguments: &str, at: &str, name: &str) -> Result<Value, ApiError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(arguments).map_err(|e| {
        ApiError::bad_request(format!("{at}: the arguments of {name} are not JSON: {e}"))
    })
}

/// The media type and the bytes of a `data:` URL (`data:image/png;base64,...`).
pub fn data_url(url: &str, at: &str) -> Result<(String, Vec<u8>), ApiError> {
    let Some((meta, data)) = url.strip_prefix("data:").and_then(|u| u.split_once(',')) else {
        return Err(ApiError::bad_request(format!(
            "{at}: expected a data URL (data:<media type>;base64,...)"
        )));
    };
    let data = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{at}: the data URL does not hold valid base64 after the comma"
            ))
        })?;
    let media_type = meta.split(';').next().unwrap_or("").to_string();
    Ok((media_type, data))
}

/// An image's bytes, with the format its media type gives.
pub struct ImageBytes {
    pub format: Option<String>,
    pub data: Vec<u8>,
}

impl From<ImageBytes> for ContentBlock {
    fn from(image: ImageBytes) -> Self {
        ContentBlock::Image {
            format: image.format,
            data: image.data,
            s3: None,
        }
    }
}

/// An image given as a URL: a data URL, or an http(s) URL the gateway already `fetched`.
pub fn image_from_url(url: &str, fetched: &Fetched, at: &str) -> Result<ImageBytes, ApiError> {
    if image_urls::is_fetched(url) {
        return match fetched.get(url) {
            Some(image) => Ok(ImageBytes {
                format: image.format.clone(),
                data: image.data.clone(),
            }),
            None => Err(ApiError::bad_request(format!(
                "{at}: this gateway does not fetch image URLs (its operator can allow them with --allow-image-urls): send the image as a data URL (data:image/png;base64,...)"
            ))),
        };
    }
    if !url.starts_with("data:") {
        return Err(ApiError::bad_request(format!(
            "{at}: an image is a data URL (data:image/png;base64,...) or an http(s) URL"
        )));
    }
    let (media_type, data) = data_url(url, at)?;
    Ok(ImageBytes {
        format: image_format(&media_type),
        data,
    })
}

/// The contract's image format hint for a media type (`image/png` is `png`).
pub fn image_format(media_type: &str) -> Option<String> {
    media_type.strip_prefix("image/").map(str::to_string)
}

/// Bedrock's service tier for OpenAI's `service_tier`: `auto` (or none) leaves the
/// provider's default; `default`, `flex` and `priority` are Bedrock's tiers of those names.
pub fn openai_service_tier(tier: Option<&str>) -> Result<Option<String>, ApiError> {
    match tier {
        None | Some("auto") => Ok(None),
        Some(tier @ ("default" | "flex" | "priority")) => Ok(Some(tier.to_string())),
        Some(other) => Err(ApiError::bad_request(format!(
            "service_tier: {other:?} is not a tier here: use auto, default, flex or priority"
        ))),
    }
}

/// Each distinct http(s) image URL `urls` yields (with where it appears), in order.
pub fn distinct_image_urls<'a>(
    urls: impl Iterator<Item = (String, &'a str)>,
) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    urls.filter(|(_, url)| image_urls::is_fetched(url) && seen.insert(*url))
        .map(|(at, url)| (at, url.to_string()))
        .collect()
}
