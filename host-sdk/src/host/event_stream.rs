//! [`EventStream`]: a stream's events as an async `Stream` of owned [`Event`]s, fed by the
//! plugin through [`Forward`], with the [`Backlog`] that slows a plugin down (or stops an old
//! one) when the host reads slowly.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use abi_stable::std_types::ROption;
use futures::channel::mpsc as async_mpsc;
use serde::Serialize;

use super::{contract_broken, end_to_result, Canceller, StreamHandler};
use crate::contract::{SinkFlow, StreamEnd, StreamEvent, StreamWakerBox};
use crate::error::{Error, ErrorKind, StreamError};
use crate::request::{Completion, Extension, StopReason, TokenUsage};

/// An owned stream event, for async hosts and for logging. Non-exhaustive: a later minor
/// may add kinds (new kinds of provider event arrive as [`Event::Extension`] first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Event {
    /// The assistant message begins.
    MessageStart,
    /// A fragment of answer text.
    TextDelta {
        /// The content block index.
        index: u32,
        /// The text.
        text: String,
    },
    /// A fragment of visible reasoning.
    ReasoningDelta {
        /// The content block index.
        index: u32,
        /// The text.
        text: String,
    },
    /// A fragment of the signature that lets reasoning be replayed.
    ReasoningSignature {
        /// The content block index.
        index: u32,
        /// The fragment.
        signature: String,
    },
    /// Reasoning the service returned encrypted.
    RedactedReasoning {
        /// The content block index.
        index: u32,
        #[serde(with = "crate::request::base64_bytes")]
        /// The bytes.
        data: Vec<u8>,
    },
    /// The model starts calling a tool.
    ToolUseStart {
        /// The content block index.
        index: u32,
        /// The tool-use id.
        id: String,
        /// The name.
        name: String,
    },
    /// A fragment of a tool call's JSON input.
    ToolUseInputDelta {
        /// The content block index.
        index: u32,
        /// The fragment of JSON text.
        fragment: String,
    },
    /// A complete tool call. `input` is the parsed JSON, or the error and raw text.
    #[serde(rename_all = "camelCase")]
    ToolUse {
        /// The content block index.
        index: u32,
        /// The tool-use id.
        id: String,
        /// The name.
        name: String,
        /// The parsed input, or the raw text as a string when it is not JSON.
        input: serde_json::Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        /// Why the input is not valid JSON, when it is not.
        input_error: Option<String>,
    },
    /// A content block is complete.
    BlockStop {
        /// The content block index.
        index: u32,
    },
    /// The model stopped.
    MessageStop {
        /// Why.
        reason: StopReason,
    },
    #[serde(rename_all = "camelCase")]
    /// Token counts for the answer.
    Usage {
        /// The counts.
        usage: TokenUsage,
        /// The cost in US dollars, when the model's prices are known.
        cost_usd: Option<f64>,
    },
    #[serde(rename_all = "camelCase")]
    /// Service-side timing.
    Metrics {
        /// The service's own latency for the call, in milliseconds.
        latency_ms: u64,
    },
    #[serde(rename_all = "camelCase")]
    /// The plugin retries after a retryable failure (only before any other event).
    Retry {
        /// The attempt that failed (1 for the first).
        attempt: u32,
        /// How long the plugin waits before the next attempt, in milliseconds.
        delay_ms: u64,
        /// Why the attempt failed.
        error: Error,
    },
    /// Since 1.5: an event of a kind named in [`crate::contract::extension_kinds`] (or one
    /// this version does not know), with its JSON data.
    Extension(Extension),
    /// The stream finished; always the last event on success.
    Completed(Completion),
    /// The stream failed; always the last event on failure.
    Failed(StreamError),
}

impl Event {
    /// About how many bytes the event holds, for backpressure: its text, plus a fixed
    /// overhead. The end of a stream weighs nothing (it is not queued by the sink).
    fn weight(&self) -> usize {
        const OVERHEAD: usize = 64;
        OVERHEAD
            + match self {
                Event::TextDelta { text, .. } | Event::ReasoningDelta { text, .. } => text.len(),
                Event::ReasoningSignature { signature, .. } => signature.len(),
                Event::RedactedReasoning { data, .. } => data.len(),
                Event::ToolUseStart { id, name, .. } => id.len() + name.len(),
                Event::ToolUseInputDelta { fragment, .. } => fragment.len(),
                Event::ToolUse { input, .. } => input.to_string().len(),
                Event::Extension(extension) => extension.data.to_string().len(),
                Event::Completed(_) | Event::Failed(_) => return 0,
                _ => 0,
            }
    }

    pub(super) fn from_end(end: StreamEnd) -> Self {
        match end_to_result(end) {
            Ok(c) => Event::Completed(c),
            Err(e) => Event::Failed(e),
        }
    }
}

impl From<&StreamEvent<'_>> for Event {
    fn from(event: &StreamEvent<'_>) -> Self {
        match *event {
            StreamEvent::MessageStart => Event::MessageStart,
            StreamEvent::TextDelta { index, text } => Event::TextDelta {
                index,
                text: text.into(),
            },
            StreamEvent::ReasoningDelta { index, text } => Event::ReasoningDelta {
                index,
                text: text.into(),
            },
            StreamEvent::ReasoningSignature { index, signature } => Event::ReasoningSignature {
                index,
                signature: signature.into(),
            },
            StreamEvent::RedactedReasoning { index, data } => Event::RedactedReasoning {
                index,
                data: data.to_vec(),
            },
            StreamEvent::ToolUseStart { index, id, name } => Event::ToolUseStart {
                index,
                id: id.into(),
                name: name.into(),
            },
            StreamEvent::ToolUseInputDelta { index, fragment } => Event::ToolUseInputDelta {
                index,
                fragment: fragment.into(),
            },
            StreamEvent::ToolUse {
                index,
                id,
                name,
                input_json,
                error,
            } => {
                let (input, input_error) = match error {
                    ROption::RSome(err) => (
                        serde_json::Value::String(input_json.into()),
                        Some(err.into()),
                    ),
                    ROption::RNone => match serde_json::from_str(input_json.as_str()) {
                        Ok(v) => (v, None),
                        Err(e) => (
                            serde_json::Value::String(input_json.into()),
                            Some(e.to_string()),
                        ),
                    },
                };
                Event::ToolUse {
                    index,
                    id: id.into(),
                    name: name.into(),
                    input,
                    input_error,
                }
            }
            StreamEvent::BlockStop { index } => Event::BlockStop { index },
            StreamEvent::MessageStop { reason } => Event::MessageStop {
                reason: StopReason::parse(reason.as_str()),
            },
            StreamEvent::Usage { usage, cost_usd } => Event::Usage {
                usage: usage.into(),
                cost_usd: cost_usd.into_option(),
            },
            StreamEvent::Metrics { latency_ms } => Event::Metrics { latency_ms },
            StreamEvent::Retry {
                attempt,
                delay_ms,
                error,
            } => Event::Retry {
                attempt,
                delay_ms,
                error: error.into(),
            },
        }
    }
}

/// Async stream of [`Event`]s from [`Provider::converse_stream`](super::Provider::converse_stream).
pub struct EventStream {
    pub(super) control: Canceller,
    pub(super) events: async_mpsc::UnboundedReceiver<Event>,
    pub(super) finished: bool,
    pub(super) backlog: Arc<Backlog>,
}

impl EventStream {
    /// A handle that cancels this stream from any thread.
    pub fn canceller(&self) -> Canceller {
        self.control.clone()
    }

    /// The bytes of events that arrived and wait to be read. A plugin built against
    /// contract 1.6 or later pauses while this is over 256 KiB, so a host that reads slowly
    /// slows the plugin's reading from the service instead of piling events up; an older
    /// plugin is stopped past 16 MiB.
    pub fn backlog_bytes(&self) -> usize {
        self.backlog.bytes.load(Ordering::Acquire)
    }
}

impl futures::Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.events).poll_next(cx) {
            Poll::Ready(Some(mut event)) => {
                self.backlog.taken(event.weight());
                if let Event::Failed(failed) = &mut event {
                    if self.backlog.overflowed.load(Ordering::Acquire) {
                        failed.error = Error::new(
                            ErrorKind::Cancelled,
                            format!(
                                "the host read this stream too slowly: more than {} MiB of events waited, and the plugin (built before contract 1.6) cannot be slowed down",
                                Backlog::LIMIT / (1024 * 1024)
                            ),
                        );
                    }
                }
                if matches!(event, Event::Completed(_) | Event::Failed(_)) {
                    self.finished = true;
                }
                Poll::Ready(Some(event))
            }
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(Some(Event::Failed(StreamError {
                    error: contract_broken("the stream ended without on_end"),
                    partial: Completion::empty(),
                })))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if !self.finished {
            self.control.cancel();
        }
    }
}

/// Sends owned events to an async [`EventStream`].
pub(super) struct Forward {
    pub(super) events: async_mpsc::UnboundedSender<Event>,
    pub(super) backlog: Arc<Backlog>,
}

impl Forward {
    fn send(&self, event: Event) -> SinkFlow {
        if !self.backlog.queue(event.weight()) {
            // The host stopped reading and the plugin cannot pause: end the stream here.
            return SinkFlow::Stop;
        }
        match self.events.unbounded_send(event) {
            Ok(()) => SinkFlow::Continue,
            // The host dropped the stream: nobody is listening any more.
            Err(_) => SinkFlow::Stop,
        }
    }
}

impl StreamHandler for Forward {
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        self.send(Event::from(event))
    }

    fn on_extension(&mut self, kind: &str, data_json: &str) -> SinkFlow {
        self.send(Event::Extension(extension(kind, data_json)))
    }
}

/// An extension event as owned data; data that is not JSON is kept as a string.
fn extension(kind: &str, data_json: &str) -> Extension {
    Extension {
        kind: kind.to_owned(),
        data: serde_json::from_str(data_json)
            .unwrap_or_else(|_| serde_json::Value::String(data_json.to_owned())),
    }
}

/// Backpressure for an async [`EventStream`]: the events queued for the host, by size. A
/// plugin from contract 1.6 on pauses while more than [`Backlog::HIGH`] bytes wait, and
/// resumes when the host has read the queue down to [`Backlog::LOW`]. A plugin built before
/// cannot pause: its stream is stopped once more than [`Backlog::LIMIT`] bytes wait, so a host
/// that stops reading never holds more than that.
#[derive(Default)]
pub(super) struct Backlog {
    bytes: AtomicUsize,
    paused: AtomicBool,
    overflowed: AtomicBool,
    pub(super) waker: std::sync::Mutex<Option<StreamWakerBox>>,
}

impl Backlog {
    /// The plugin pauses above this many bytes waiting.
    const HIGH: usize = 256 * 1024;
    /// and resumes at this many.
    const LOW: usize = 64 * 1024;
    /// A plugin that cannot pause is stopped above this many.
    const LIMIT: usize = 16 * 1024 * 1024;

    /// Counts an event queued; `false` when it would pass [`Backlog::LIMIT`] (an event alone
    /// never does: a large delta still goes through to a host that keeps up).
    pub(super) fn queue(&self, weight: usize) -> bool {
        let before = self.bytes.fetch_add(weight, Ordering::AcqRel);
        if before > 0 && before + weight > Self::LIMIT {
            self.bytes.fetch_sub(weight, Ordering::AcqRel);
            self.overflowed.store(true, Ordering::Release);
            return false;
        }
        true
    }

    /// Counts an event taken by the host, waking a paused plugin once the queue is short.
    pub(super) fn taken(&self, weight: usize) {
        let left = self.bytes.fetch_sub(weight, Ordering::AcqRel) - weight;
        if left <= Self::LOW && self.paused.swap(false, Ordering::AcqRel) {
            if let Some(waker) = &*self.waker.lock().unwrap_or_else(|p| p.into_inner()) {
                waker.wake();
            }
        }
    }

    /// Whether the plugin may go on; marks it paused when not.
    pub(super) fn ready(&self) -> bool {
        if self.bytes.load(Ordering::Acquire) <= Self::HIGH {
            return true;
        }
        self.paused.store(true, Ordering::Release);
        // The host may have read the queue down between the load and the store: look again,
        // so that no wake-up is lost.
        if self.bytes.load(Ordering::Acquire) <= Self::LOW {
            self.paused.store(false, Ordering::Release);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{StreamWaker, StreamWaker_TO};
    use abi_stable::sabi_trait::TD_Opaque;

    struct CountWakes(Arc<AtomicUsize>);

    impl StreamWaker for CountWakes {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_backlog_pauses_above_high_wakes_at_low_and_stops_past_the_limit() {
        let backlog = Backlog::default();
        let wakes = Arc::new(AtomicUsize::new(0));
        *backlog.waker.lock().unwrap() = Some(StreamWaker_TO::from_value(
            CountWakes(wakes.clone()),
            TD_Opaque,
        ));
        assert!(backlog.queue(Backlog::HIGH));
        assert!(backlog.ready(), "at the mark, still ready");
        assert!(backlog.queue(1));
        assert!(!backlog.ready(), "past it, paused");
        backlog.taken(Backlog::HIGH - Backlog::LOW);
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            0,
            "not yet down to the low mark"
        );
        backlog.taken(2);
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            1,
            "woken once at the low mark"
        );
        backlog.taken(Backlog::LOW - 1);
        assert_eq!(wakes.load(Ordering::SeqCst), 1, "and only once");
        // A plugin that never pauses is stopped past the limit; one event alone always goes.
        assert!(
            backlog.queue(Backlog::LIMIT + 1),
            "a single large event goes through"
        );
        assert!(
            !backlog.queue(1),
            "anything more past the limit stops the stream"
        );
        assert!(backlog.overflowed.load(Ordering::SeqCst));
    }
}
