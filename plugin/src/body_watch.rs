//! Watches a ConverseStream response body as its bytes arrive, below the SDK's event-stream
//! decoder:
//!
//! - it counts the bytes received, the measure of progress for the idle timeout (a large
//!   message arriving slowly is progress even though no event is complete yet);
//! - it refuses an event-stream message whose prelude claims more than
//!   [`MAX_MESSAGE_BYTES`], before the decoder would buffer all of it (a corrupt or hostile
//!   stream claiming 2 GiB would otherwise make the plugin hold everything that follows);
//! - a successful response that is not an event stream (a JSON error document sent with
//!   200, as some proxies do) is read (up to [`MAX_OTHER_BODY_BYTES`]) and ends in a
//!   [`NotAnEventStream`] error carrying the service's own code and message, which the SDK
//!   would otherwise lose while failing to decode it as frames.
//!
//! Only the 4-byte total-length field that starts each message is read; decoding the message
//! (headers, payload, both CRCs) stays with `aws-smithy-eventstream`. The cost is one atomic
//! add per network read and a few comparisons per message.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use http_body_1::{Body, Frame, SizeHint};

/// The largest event-stream message accepted. Bedrock's messages are small (a delta, or a
/// whole tool input of some kilobytes); this leaves room for any real one and still bounds
/// memory per stream.
pub const MAX_MESSAGE_BYTES: u32 = 16 * 1024 * 1024;

/// The largest body accepted when the response is not an event stream (an error document).
pub const MAX_OTHER_BODY_BYTES: u64 = 1024 * 1024;

/// A message longer than [`MAX_MESSAGE_BYTES`], or an oversized non-stream body.
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

/// Bytes received so far by the watched response, shared with the stream driver.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts `n` more bytes received (the Responses wire reads its body itself).
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

tokio::task_local! {
    /// The progress of the call the current task is sending, set by [`watching`].
    static WATCHED: Progress;
}

/// Runs `send` (a ConverseStream call) with its response body watched, counting into
/// `progress`. The interceptor is the client's own ([`WatchBody`], installed once); the call
/// names its counter through a task-local, so no per-call configuration override is built
/// (the SDK's `customize()` layers a copy of the client's configuration for each call).
pub async fn watching<F: std::future::Future>(progress: Progress, send: F) -> F::Output {
    WATCHED.scope(progress, send).await
}

/// The client interceptor that wraps the response body of a call sent through [`watching`];
/// other calls (Converse, CountTokens, InvokeModel) pass untouched.
#[derive(Debug)]
pub struct WatchBody;

impl Intercept for WatchBody {
    fn name(&self) -> &'static str {
        "WatchBody"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(progress) = WATCHED.try_with(Progress::clone) else {
            return Ok(());
        };
        let response = context.response_mut();
        // Error responses are read whole by the SDK, which models them: leave them be.
        if !response.status().is_success() {
            return Ok(());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .unwrap_or_default()
            .to_string();
        let limit = if is_event_stream(&content_type) {
            Limit::Messages(MessageLengths::default())
        } else {
            Limit::NotAStream {
                content_type,
                body: Vec::new(),
            }
        };
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = SdkBody::from_body_1_x(WatchedBody {
            inner: body,
            progress,
            limit,
            failed: None,
        });
        Ok(())
    }
}

enum Limit {
    Messages(MessageLengths),
    /// Kept to be reported when it ends.
    NotAStream {
        content_type: String,
        body: Vec<u8>,
    },
}

/// Follows message boundaries through the total-length field each message starts with.
#[derive(Default)]
struct MessageLengths {
    /// Bytes of the current message still to pass.
    rest: u64,
    /// The length field being read, possibly split across reads.
    field: [u8; 4],
    field_len: usize,
}

impl MessageLengths {
    /// Follows `data`; on a message too large, the offset in `data` where that message
    /// starts (the bytes before it are whole messages, still worth decoding).
    fn feed(&mut self, data: &[u8]) -> Result<(), (usize, OversizedResponse)> {
        let mut at = 0;
        while at < data.len() {
            if self.rest > 0 {
                let n = self.rest.min((data.len() - at) as u64);
                self.rest -= n;
                at += n as usize;
                continue;
            }
            let field_start = at.saturating_sub(self.field_len);
            let n = (4 - self.field_len).min(data.len() - at);
            self.field[self.field_len..self.field_len + n].copy_from_slice(&data[at..at + n]);
            self.field_len += n;
            at += n;
            if self.field_len == 4 {
                self.field_len = 0;
                let total = u32::from_be_bytes(self.field);
                if total > MAX_MESSAGE_BYTES {
                    return Err((
                        field_start,
                        OversizedResponse {
                            what:
                                "an event-stream message claims to be larger than any Bedrock sends",
                            claimed: total.into(),
                            limit: MAX_MESSAGE_BYTES.into(),
                        },
                    ));
                }
                // A length under the prelude's own size is malformed; the decoder reports it.
                self.rest = u64::from(total).saturating_sub(4);
            }
        }
        Ok(())
    }
}

struct WatchedBody {
    inner: SdkBody,
    progress: Progress,
    limit: Limit,
    /// Reported on the next poll, once the whole messages before it were handed on.
    failed: Option<OversizedResponse>,
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Some(e) = this.failed.take() {
            return Poll::Ready(Some(Err(e.into())));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let (Poll::Ready(None), Limit::NotAStream { content_type, body }) =
            (&polled, &mut this.limit)
        {
            let e = NotAnEventStream::from_body(std::mem::take(content_type), body);
            return Poll::Ready(Some(Err(e.into())));
        }
        let Poll::Ready(Some(Ok(frame))) = polled else {
            return polled;
        };
        let Some(data) = frame.data_ref() else {
            return Poll::Ready(Some(Ok(frame)));
        };
        let len = data.len() as u64;
        let total = this.progress.0.fetch_add(len, Ordering::Relaxed) + len;
        let checked = match &mut this.limit {
            Limit::Messages(lengths) => lengths.feed(data),
            Limit::NotAStream { .. } if total > MAX_OTHER_BODY_BYTES => Err((
                0,
                OversizedResponse {
                    what: "a response that is not an event stream is too large",
                    claimed: total,
                    limit: MAX_OTHER_BODY_BYTES,
                },
            )),
            Limit::NotAStream { body, .. } => {
                body.extend_from_slice(data);
                // Nothing of it is for the SDK's frame decoder.
                return Poll::Ready(Some(Ok(Frame::data(Bytes::new()))));
            }
        };
        match checked {
            Ok(()) => Poll::Ready(Some(Ok(frame))),
            Err((0, e)) => Poll::Ready(Some(Err(e.into()))),
            Err((whole, e)) => {
                this.failed = Some(e);
                Poll::Ready(Some(Ok(Frame::data(data.slice(..whole)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_lengths_are_followed_across_reads() {
        let mut m = MessageLengths::default();
        // Two 16-byte messages, the second length field split over two reads.
        let mut stream = Vec::new();
        for _ in 0..2 {
            stream.extend_from_slice(&16u32.to_be_bytes());
            stream.extend_from_slice(&[0; 12]);
        }
        m.feed(&stream[..18]).unwrap();
        m.feed(&stream[18..]).unwrap();
        assert_eq!((m.rest, m.field_len), (0, 0));
        // A third message claiming 2 GiB is refused as soon as its length is read.
        let mut tail = vec![0; 16];
        tail[..4].copy_from_slice(&16u32.to_be_bytes());
        tail.extend_from_slice(&0x8000_0000u32.to_be_bytes());
        let (at, e) = m.feed(&tail).unwrap_err();
        assert_eq!((at, e.claimed), (16, 0x8000_0000));
    }
}
