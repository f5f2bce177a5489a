//! What the emulator remembers about the requests it received, for test assertions.

use crate::auth::AuthKind;
use bytes::Bytes;
use http::HeaderMap;

/// One received request, recorded before authentication so rejected requests show up too.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path as received (still percent-encoded).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Operation name (`Converse`, `ConverseStream`, `ListFoundationModels`,
    /// `ListInferenceProfiles`, `GetInferenceProfile`, or `Unknown`).
    pub operation: String,
    /// Percent-decoded model id for runtime operations.
    pub model_id: Option<String>,
    /// Headers in received order; the Authorization signature / bearer token is redacted.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`None` when empty or not JSON).
    pub body: Option<serde_json::Value>,
    /// How the request authenticated (`None` when authentication failed).
    pub auth: Option<AuthKind>,
    /// HTTP status the emulator answered with (0 if still unknown when recorded).
    pub status: u16,
    /// The HTTP version the request came in (`HTTP/1.1`, `HTTP/2.0`).
    pub http_version: String,
}

impl RecordedRequest {
    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A canned response served verbatim (e.g. a recorded ConverseStream body).
#[derive(Debug, Clone, PartialEq)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers to send (e.g. `content-type: application/vnd.amazon.eventstream`).
    pub headers: Vec<(String, String)>,
    /// Exact body bytes.
    pub body: Bytes,
    /// Send the body slowly: `(bytes, every_ms)` per write (a slow network, or a large event
    /// arriving over time); `None` sends it at once.
    pub drip: Option<(usize, u64)>,
}

impl RawResponse {
    /// A 200 event-stream response with these exact bytes.
    pub fn event_stream(body: impl Into<Bytes>) -> Self {
        RawResponse {
            status: 200,
            headers: vec![(
                "content-type".to_string(),
                "application/vnd.amazon.eventstream".to_string(),
            )],
            body: body.into(),
            drip: None,
        }
    }

    /// The same response, its body written `bytes` at a time every `every_ms` milliseconds.
    pub fn dripped(self, bytes: usize, every_ms: u64) -> Self {
        Self {
            drip: Some((bytes.max(1), every_ms)),
            ..self
        }
    }
}

/// Headers for the record, with secrets cut out of Authorization.
pub fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let value = if name.as_str() == "authorization" {
                redact_authorization(&value)
            } else {
                value
            };
            (name.as_str().to_string(), value)
        })
        .collect()
}

fn redact_authorization(value: &str) -> String {
    if value.starts_with("Bearer ") {
        return "Bearer <redacted>".to_string();
    }
    match value.find("Signature=") {
        Some(i) => format!("{}Signature=<redacted>", &value[..i]),
        None => value.to_string(),
    }
}
