//! Server-sent events from a model call: the pump every streaming dialect shares. A dialect
//! renders the contract's events as its own frames ([`Frames`]); the pump feeds it, counts
//! tokens and failures, holds the request's deadline with one timer, and lets hyper write
//! early enough that the first token is not held back. A client that goes away drops the
//! body, and with it (cancelled) the plugin's stream.

use std::convert::Infallible;

use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use host_sdk::Event;

use super::{Call, Streamed};
use crate::errors::ApiError;

/// A dialect's stream: the frames each contract event becomes.
pub trait Frames: Send + 'static {
    /// Appends the frames `event` becomes to `out`. The stream's end
    /// ([`Event::Completed`]) comes here too, for the dialect's closing frames; a failure
    /// goes to [`Frames::failed`] instead.
    fn push(&mut self, event: Event, out: &mut Vec<SseEvent>);

    /// Appends the frames that end a stream that failed after its first output (or ran
    /// past the request's deadline).
    fn failed(&mut self, error: &ApiError, out: &mut Vec<SseEvent>);
}

/// A frame of `data` alone (OpenAI Chat Completions' chunks).
pub fn data(data: impl AsRef<str>) -> SseEvent {
    SseEvent::default().data(data)
}

/// A named frame (`event: name`, `data: {...}`), as the Responses and Messages APIs send.
pub fn named(name: &str, data: &(impl serde::Serialize + ?Sized)) -> SseEvent {
    // The frames are JSON values and structs with string keys, which always serialize.
    let data = serde_json::to_string(data).unwrap_or_default();
    SseEvent::default().event(name).data(data)
}

/// Appends `text` to `out` as a JSON string literal (quoted and escaped): deltas, the most
/// frequent frames, are written around their text without building a JSON value.
pub fn push_json_str(out: &mut String, text: &str) {
    match serde_json::to_string(text) {
        Ok(literal) => out.push_str(&literal),
        Err(_) => out.push_str("\"\""),
    }
}

/// hyper writes what it holds whenever the body has nothing ready, and otherwise gathers the
/// ready frames into one write of up to about 400 KB, so a burst of deltas would wait for that
/// much to pile up. Giving way every [`FLUSH_FRAMES`] frames lets it write sooner: the first
/// token waits at most for that many frames already in memory, never for the network. (Giving
/// way after the start and after the first delta as well cost a short answer a third write,
/// and its client a third wake-up.)
struct Written {
    unflushed: usize,
}

/// Frames between two chances for hyper to write (about 16 KiB of text deltas).
const FLUSH_FRAMES: usize = 128;

impl Written {
    async fn let_hyper_write(&mut self) {
        if self.unflushed >= FLUSH_FRAMES {
            tokio::task::yield_now().await;
            self.unflushed = 0;
        }
    }

    fn add(&mut self, frames: usize) {
        self.unflushed += frames;
    }
}

impl<R> Call<R, Streamed> {
    /// The answer as server-sent events, each contract event rendered by `frames`.
    pub fn sse(self, frames: impl Frames) -> Response {
        let Call {
            answer: Streamed { first, events },
            deadline,
            gateway,
            record,
            request,
            served: _,
        } = self;
        drop(request);
        Sse::new(pump(first, events, deadline, gateway, record, frames)).into_response()
    }
}

fn pump(
    first: Vec<Event>,
    events: host_sdk::EventStream,
    deadline: tokio::time::Instant,
    gateway: std::sync::Arc<crate::state::Gateway>,
    record: super::Record,
    frames: impl Frames,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let rest = futures::stream::iter(first).chain(events);
    // One timer for the whole stream, not one per event.
    let timer = Box::pin(tokio::time::sleep_until(deadline));
    let written = Written { unflushed: 0 };
    let state = (rest, frames, timer, written, false, record);
    futures::stream::unfold(
        state,
        move |(mut rest, mut frames, mut timer, mut written, over, mut record)| {
            let gateway = gateway.clone();
            async move {
                if over {
                    return None;
                }
                written.let_hyper_write().await;
                let mut out = Vec::new();
                let over = tokio::select! {
                    biased;
                    event = rest.next() => match event? {
                        Event::Failed(e) => {
                            let error = ApiError::from(&e.error);
                            gateway.metrics.error(&error.code);
                            record.failed(&error);
                            frames.failed(&error, &mut out);
                            true
                        }
                        event => {
                            let over = matches!(event, Event::Completed(_));
                            if let Event::Usage { usage, cost_usd } = &event {
                                gateway.metrics.tokens(usage);
                                record.usage(usage, *cost_usd);
                            }
                            if let Event::Completed(completion) = &event {
                                record.completed(completion);
                            }
                            frames.push(event, &mut out);
                            over
                        }
                    },
                    () = &mut timer => {
                        let error = ApiError::timed_out();
                        gateway.metrics.error(&error.code);
                        record.failed(&error);
                        frames.failed(&error, &mut out);
                        true
                    }
                };
                written.add(out.len());
                let items = futures::stream::iter(out.into_iter().map(Ok));
                Some((items, (rest, frames, timer, written, over, record)))
            }
        },
    )
    .flatten()
}
