//! Event-stream frames: writing them (through `aws-smithy-eventstream`, never by hand) and
//! reading them back, for tests and for replaying recordings.

use aws_smithy_eventstream::frame::{read_message_from, write_message_to};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

/// A frame could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[error("event-stream frame error at byte {offset}: {message}")]
pub struct FrameError {
    /// Byte offset of the failing frame.
    pub offset: usize,
    /// What went wrong.
    pub message: String,
}

fn string_header(name: &'static str, value: impl Into<String>) -> Header {
    Header::new(name, HeaderValue::String(value.into().into()))
}

fn encode(message: &Message) -> Bytes {
    let mut out = Vec::with_capacity(message.payload().len() + 96);
    // Our headers are short ASCII strings and payloads are far below the 16 MiB frame limit,
    // so encoding cannot fail; an empty frame would surface as a client decode error anyway.
    if let Err(e) = write_message_to(message, &mut out) {
        tracing::error!(error = %e, "cannot encode event-stream frame");
        out.clear();
    }
    Bytes::from(out)
}

/// An `event` frame with the headers in the service's order:
/// `:event-type`, `:content-type`, `:message-type`.
pub fn event_frame(event_type: &str, payload: impl Into<Bytes>) -> Bytes {
    let message = Message::new_from_parts(
        vec![
            string_header(":event-type", event_type),
            string_header(":content-type", "application/json"),
            string_header(":message-type", "event"),
        ],
        payload,
    );
    encode(&message)
}

/// An `exception` frame with the headers in the service's order:
/// `:exception-type`, `:content-type`, `:message-type`.
pub fn exception_frame(exception_type: &str, body: &serde_json::Value) -> Bytes {
    let payload = body.to_string();
    let message = Message::new_from_parts(
        vec![
            string_header(":exception-type", exception_type),
            string_header(":content-type", "application/json"),
            string_header(":message-type", "exception"),
        ],
        payload,
    );
    encode(&message)
}

/// A generic `error` frame (`:message-type error` with `:error-code` and `:error-message`),
/// which the event-stream protocol allows beside modelled exceptions.
pub fn error_frame(code: &str, message: &str) -> Bytes {
    let message = Message::new_from_parts(
        vec![
            string_header(":error-code", code),
            string_header(":error-message", message),
            string_header(":message-type", "error"),
        ],
        Bytes::new(),
    );
    encode(&message)
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Headers in wire order; non-string values are rendered with `Debug`.
    pub headers: Vec<(String, String)>,
    /// Raw payload.
    pub payload: Bytes,
}

impl Frame {
    /// Value of a header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `:message-type`.
    pub fn message_type(&self) -> Option<&str> {
        self.header(":message-type")
    }

    /// `:event-type` for events, `EXCEPTION:<type>` for exceptions (the recordings' naming).
    pub fn label(&self) -> String {
        match (self.header(":event-type"), self.header(":exception-type")) {
            (Some(e), _) => e.to_string(),
            (None, Some(x)) => format!("EXCEPTION:{x}"),
            _ => format!("ERROR:{}", self.header(":error-code").unwrap_or("?")),
        }
    }

    /// Payload parsed as JSON (`Null` for an empty payload).
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.payload.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&self.payload)
    }
}

/// Decodes a whole event-stream body, checking both CRCs of every frame.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Frame>, FrameError> {
    let mut rest = bytes;
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let offset = bytes.len() - rest.len();
        let message = read_message_from(&mut rest).map_err(|e| FrameError {
            offset,
            message: e.to_string(),
        })?;
        let headers = message
            .headers()
            .iter()
            .map(|h| {
                let value = match h.value() {
                    HeaderValue::String(s) => s.as_str().to_string(),
                    other => format!("{other:?}"),
                };
                (h.name().as_str().to_string(), value)
            })
            .collect();
        frames.push(Frame {
            headers,
            payload: message.payload().clone(),
        });
    }
    Ok(frames)
}
