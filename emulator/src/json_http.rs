//! The HTTP pieces the emulator's handlers share: a path segment decoded, a JSON answer.

use axum::body::Body;
use axum::http::{HeaderValue, Response};

/// Percent-decodes a path segment (model ids arrive as `...v1%3A0`).
pub fn decode_segment(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// A JSON 200 response.
pub fn json_response(body: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// InvokeModelWithResponseStream's answer: each of the model's own stream events as a `chunk`
/// event whose `bytes` are its JSON.
pub fn chunk_stream(events: &[serde_json::Value]) -> Response<Body> {
    use base64::Engine as _;
    let frames: Vec<Result<bytes::Bytes, std::convert::Infallible>> = events
        .iter()
        .map(|e| {
            let bytes = base64::engine::general_purpose::STANDARD.encode(e.to_string());
            Ok(crate::frames::event_frame(
                "chunk",
                serde_json::json!({ "bytes": bytes }).to_string(),
            ))
        })
        .collect();
    let mut response = Response::new(Body::from_stream(futures::stream::iter(frames)));
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    headers.insert(
        "x-amzn-bedrock-content-type",
        HeaderValue::from_static("application/json"),
    );
    response
}
