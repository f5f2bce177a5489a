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
