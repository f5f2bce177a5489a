//! ConverseStream's response: event-stream frames (decoded, CRCs checked, by
//! `aws-smithy-eventstream`) whose JSON payloads become the SDK's `ConverseStreamOutput`, so
//! the stream driver and its assembler handle one event type whichever path answered. Bytes
//! are counted as they arrive (the idle timeout's measure of progress), and a message whose
//! prelude claims more than [`MAX_MESSAGE_BYTES`] is refused before it is buffered.
//!
//! What each event's payload becomes is [`super::payloads`]' job.

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::event_stream::Message;
use bytes::{Buf, BytesMut};
use host_sdk::ErrorKind;
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::errors::{error, from_service_error, stream_exception, CallContext, CallFailure};
use crate::response_body::{OversizedResponse, Progress, MAX_MESSAGE_BYTES};

use super::payloads::parse_event;

/// The events of one ConverseStream response.
pub struct WireEvents {
    body: SdkBody,
    buffer: BytesMut,
    decoder: MessageFrameDecoder,
    /// The length of the message at the front of `buffer` was checked.
    length_checked: bool,
    progress: Progress,
}

impl WireEvents {
    pub fn new(body: SdkBody, progress: Progress) -> Self {
        Self {
            body,
            buffer: BytesMut::new(),
            decoder: MessageFrameDecoder::new(),
            length_checked: false,
            progress,
        }
    }

    /// The next event, `None` at the end of the stream; an exception the service sent in the
    /// stream is its typed error.
    pub async fn recv(
        &mut self,
        ctx: &CallContext<'_>,
    ) -> Result<Option<ConverseStreamOutput>, CallFailure> {
        loop {
            if !self.length_checked && self.buffer.len() >= 4 {
                let claimed = (&self.buffer[..4]).get_u32();
                if claimed > MAX_MESSAGE_BYTES {
                    let oversized = OversizedResponse {
                        what: "an event-stream message claims to be larger than any Bedrock sends",
                        claimed: u64::from(claimed),
                        limit: u64::from(MAX_MESSAGE_BYTES),
                    };
                    return Err(error(
                        ErrorKind::Network,
                        format!("{} failed: {oversized}", ctx.operation),
                    )
                    .into());
                }
                self.length_checked = true;
            }
            match self.decoder.decode_frame(&mut self.buffer) {
                Ok(DecodedFrame::Complete(message)) => {
                    self.length_checked = false;
                    match event(&message, ctx)? {
                        Some(event) => return Ok(Some(event)),
                        None => continue,
                    }
                }
                Ok(DecodedFrame::Incomplete) => {}
                Err(e) => return Err(broken(ctx, e.to_string())),
            }
            match self.body.frame().await {
                None if self.buffer.is_empty() && !self.length_checked => return Ok(None),
                None => {
                    return Err(broken(
                        ctx,
                        "the connection closed in the middle of a message".into(),
                    ))
                }
                Some(Err(e)) => {
                    return Err(error(
                        ErrorKind::Network,
                        format!(
                            "{} failed reading the response stream: {}",
                            ctx.operation,
                            crate::errors::source_chain(e.as_ref())
                        ),
                    )
                    .into())
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.progress.add(data.len() as u64);
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

fn broken(ctx: &CallContext<'_>, why: String) -> CallFailure {
    error(
        ErrorKind::Network,
        format!(
            "{}: Bedrock's response is not a valid event stream: {why}",
            ctx.operation
        ),
    )
    .into()
}

/// One decoded message: an event, or the service's exception or error.
fn event(
    message: &Message,
    ctx: &CallContext<'_>,
) -> Result<Option<ConverseStreamOutput>, CallFailure> {
    let header = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|v| v.as_str())
    };
    let payload = message.payload();
    match header(":message-type") {
        Some("event") => {
            let kind = header(":event-type").unwrap_or_default();
            parse_event(kind, payload).map_err(|e| {
                broken(
                    ctx,
                    format!(
                        "its `{kind}` event does not parse ({e}): {}",
                        preview(payload)
                    ),
                )
            })
        }
        Some("exception") => {
            let code = header(":exception-type").unwrap_or("Unknown");
            let fields: ExceptionFields = serde_json::from_slice(payload).unwrap_or_default();
            Err(CallFailure {
                error: stream_exception(
                    code,
                    fields.message.as_deref(),
                    fields.original_status_code,
                    fields.original_message.as_deref(),
                    ctx,
                ),
                service_message: fields.message,
            })
        }
        Some("error") => {
            let code = header(":error-code").unwrap_or("Unknown");
            let text = header(":error-message").unwrap_or("no message");
            Err(CallFailure {
                error: from_service_error(code, text, ctx),
                service_message: Some(text.to_string()),
            })
        }
        other => Err(broken(
            ctx,
            format!("a message of type `{}`", other.unwrap_or("(none)")),
        )),
    }
}

fn preview(payload: &[u8]) -> String {
    String::from_utf8_lossy(&payload[..payload.len().min(200)]).into_owned()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ExceptionFields {
    message: Option<String>,
    original_status_code: Option<i32>,
    original_message: Option<String>,
}
