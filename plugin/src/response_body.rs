//! What the plugin accepts of a streamed response body, and how it measures its progress:
//!
//! - the bytes received are counted ([`Progress`]), the measure of progress for the idle
//!   timeout (a large message arriving slowly is progress even though no event is complete);
//! - an event-stream message whose prelude claims more than [`MAX_MESSAGE_BYTES`] is refused
//!   before it is buffered (a corrupt or hostile stream claiming 2 GiB would otherwise make
//!   the plugin hold everything that follows) ([`OversizedResponse`]);
//! - a successful response that is not an event stream (a JSON error document sent with 200,
//!   as some proxies do) is read up to [`MAX_OTHER_BODY_BYTES`] and reported with the
//!   service's own code and message ([`NotAnEventStream`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The largest event-stream message accepted. Bedrock's messages are small (a delta, or a
/// whole tool input of some kilobytes); this leaves room for any real one and still bounds
/// memory per stream.
pub const MAX_MESSAGE_BYTES: u32 = 16 * 1024 * 1024;

/// The largest body accepted when the response is not an event stream (an error document).
pub const MAX_OTHER_BODY_BYTES: u64 = 1024 * 1024;

/// A message longer than [`MAX_MESSAGE_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("Bedrock's response is not a valid event stream: {what} ({claimed} bytes, limit {limit}); the connection or a proxy corrupted it")]
pub struct OversizedResponse {
    pub what: &'static str,
    pub claimed: u64,
    pub limit: u64,
}

/// A successful response whose body is not an event stream.
#[derive(Debug, thiserror::Error)]
#[error("Bedrock answered with `{content_type}` instead of an event stream{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
pub struct NotAnEventStream {
    pub content_type: String,
    /// The error code of a JSON error document (`__type` or `code`), when it names one.
    pub code: Option<String>,
    /// The `message` of a JSON error document.
    pub message: Option<String>,
}

impl NotAnEventStream {
    pub fn from_body(content_type: String, body: &[u8]) -> Self {
        let document: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = |names: &[&str]| {
            let document = document.as_ref()?;
            names
                .iter()
                .find_map(|k| document.get(*k)?.as_str())
                .map(str::to_string)
        };
        Self {
            content_type,
            // `__type` may be namespaced: `com.amazon...#ThrottlingException`.
            code: field(&["__type", "code", "Code"])
                .map(|c| c.rsplit('#').next().unwrap_or(&c).to_string()),
            message: field(&["message", "Message"]),
        }
    }
}

/// Whether a response's content type is an event stream.
pub fn is_event_stream(content_type: &str) -> bool {
    content_type.starts_with("application/vnd.amazon.eventstream")
}

/// Bytes received so far by a streamed response, shared with the stream driver.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts `n` more bytes received.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}
