//! Watches a ConverseStream response body as its bytes arrive, below the SDK's event-stream
//! decoder:
//!
//! - it counts the bytes received, the measure of progress for the idle timeout (a large
//!   message arriving slowly is progress even though no event is complete yet);
//! - it refuses an event-stream message whose prelude claims more than
//!   [`MAX_MESSAGE_BYTES`], before the decoder would buffer all of it (a corrupt or hostile
//!   stream claiming 2 GiB would otherwise make the plugin hold everything that follows);
//! - it bounds a body that is not an event stream (a JSON error document sent with 200) to
//!   [`MAX_OTHER_BODY_BYTES`].
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

/// Bytes received so far by the watched response, shared with the stream driver.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The interceptor that wraps the response body of one call.
#[derive(Debug)]
pub struct WatchBody {
    pub progress: Progress,
}

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
        let response = context.response_mut();
        let event_stream = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.starts_with("application/vnd.amazon.eventstream"));
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = SdkBody::from_body_1_x(WatchedBody {
            inner: body,
            progress: self.progress.clone(),
            limit: if event_stream {
                Limit::Messages(MessageLengths::default())
            } else {
                Limit::Total
            },
        });
        Ok(())
    }
}

enum Limit {
    Messages(MessageLengths),
    Total,
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
    fn feed(&mut self, mut data: &[u8]) -> Result<(), OversizedResponse> {
        while !data.is_empty() {
            if self.rest > 0 {
                let n = self.rest.min(data.len() as u64);
                self.rest -= n;
                data = &data[n as usize..];
                continue;
            }
            let n = (4 - self.field_len).min(data.len());
            self.field[self.field_len..self.field_len + n].copy_from_slice(&data[..n]);
            self.field_len += n;
            data = &data[n..];
            if self.field_len == 4 {
                self.field_len = 0;
                let total = u32::from_be_bytes(self.field);
                if total > MAX_MESSAGE_BYTES {
                    return Err(OversizedResponse {
                        what: "an event-stream message claims to be larger than any Bedrock sends",
                        claimed: total.into(),
                        limit: MAX_MESSAGE_BYTES.into(),
                    });
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
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let total = this
                    .progress
                    .0
                    .fetch_add(data.len() as u64, Ordering::Relaxed)
                    + data.len() as u64;
                let checked = match &mut this.limit {
                    Limit::Messages(lengths) => lengths.feed(data),
                    Limit::Total if total > MAX_OTHER_BODY_BYTES => Err(OversizedResponse {
                        what: "a response that is not an event stream is too large",
                        claimed: total,
                        limit: MAX_OTHER_BODY_BYTES,
                    }),
                    Limit::Total => Ok(()),
                };
                if let Err(e) = checked {
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
        polled
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
        let e = m.feed(&0x8000_0000u32.to_be_bytes()).unwrap_err();
        assert_eq!(e.claimed, 0x8000_0000);
    }
}
