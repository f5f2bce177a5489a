//! Running a stream to its end while keeping every event the host saw, and reading what the
//! emulator received.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use emulator::RunningEmulator;
use host_sdk::{
    Completion, ContentBlock, ConverseRequest, Event, Extension, Provider, SinkFlow, StreamError,
    StreamEvent, StreamHandler,
};
use serde_json::Value;

/// What a host saw of one stream.
#[derive(Debug)]
pub struct Outcome {
    /// Every event, in order, as the host received it (retries included).
    pub events: Vec<Event>,
    pub result: Result<Completion, StreamError>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn completion(&self) -> &Completion {
        match &self.result {
            Ok(c) => c,
            Err(e) => panic!("the stream failed: {e} (partial {:?})", e.partial),
        }
    }

    pub fn error(&self) -> &StreamError {
        match &self.result {
            Ok(c) => panic!("the stream succeeded, an error was expected: {c:?}"),
            Err(e) => e,
        }
    }

    /// The `Retry` events the host was told about.
    pub fn retries(&self) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Retry { .. }))
            .collect()
    }

    /// All text deltas joined.
    pub fn text(&self) -> String {
        text_deltas(&self.events).concat()
    }
}

/// The text deltas among `events`, in order.
pub fn text_deltas(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TextDelta { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// The text blocks of a message's content, joined (a completion's, or a partial one's).
pub fn text_of(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Runs `req` to its end, keeping every event.
pub fn run(provider: &Provider, req: &ConverseRequest) -> Outcome {
    run_with(provider, req, |_| SinkFlow::Continue)
}

/// Runs `req` to its end; `flow` decides after each event whether to go on.
pub fn run_with(
    provider: &Provider,
    req: &ConverseRequest,
    mut flow: impl FnMut(&Event) -> SinkFlow + Send + 'static,
) -> Outcome {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let started = Instant::now();
    let result = provider.converse_with(
        req,
        Recorder {
            events: sink,
            flow: move |event: &Event| flow(event),
        },
    );
    let elapsed = started.elapsed();
    let events = std::mem::take(&mut *events.lock().unwrap());
    Outcome {
        events,
        result,
        elapsed,
    }
}

/// Keeps every event a host sees, extension events included.
struct Recorder<F> {
    events: Arc<Mutex<Vec<Event>>>,
    flow: F,
}

impl<F: FnMut(&Event) -> SinkFlow + Send + 'static> Recorder<F> {
    fn keep(&mut self, event: Event) -> SinkFlow {
        let flow = (self.flow)(&event);
        self.events.lock().unwrap().push(event);
        flow
    }
}

impl<F: FnMut(&Event) -> SinkFlow + Send + 'static> StreamHandler for Recorder<F> {
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        self.keep(Event::from(event))
    }

    fn on_extension(&mut self, kind: &str, data_json: &str) -> SinkFlow {
        let data = serde_json::from_str(data_json).expect("extension data is JSON");
        self.keep(Event::Extension(Extension {
            kind: kind.into(),
            data,
        }))
    }
}

/// The extension events among `events`, in order.
pub fn extensions(events: &[Event]) -> Vec<&Extension> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Extension(x) => Some(x),
            _ => None,
        })
        .collect()
}

/// The JSON bodies of the ConverseStream requests `emu` received, oldest first.
pub fn stream_bodies(emu: &RunningEmulator) -> Vec<Value> {
    crate::recorded(emu, "ConverseStream")
        .into_iter()
        .map(|r| r.body.expect("a ConverseStream request has a JSON body"))
        .collect()
}

/// The JSON body of the only ConverseStream request `emu` received.
pub fn only_body(emu: &RunningEmulator) -> Value {
    let mut bodies = stream_bodies(emu);
    assert_eq!(bodies.len(), 1, "exactly one ConverseStream request");
    bodies.remove(0)
}

/// Standard base64, for comparing binary content in request JSON.
pub fn b64(bytes: &[u8]) -> String {
    serde_json::to_value(host_sdk::ContentBlock::RedactedReasoning {
        data: bytes.to_vec(),
    })
    .unwrap()["data"]
        .as_str()
        .unwrap()
        .to_string()
}
