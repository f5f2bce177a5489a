//! How each event stream the emulator sends ends: read to its last byte, or dropped
//! before that (the client went away, or a cut fault). A test uses it to prove that a client
//! which stops reading really closes its connection instead of draining the stream unseen.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use futures::StreamExt;

/// Counts of stream bodies by how they ended.
#[derive(Debug, Default)]
pub struct StreamEnds {
    finished: AtomicU64,
    abandoned: AtomicU64,
}

impl StreamEnds {
    /// Bodies sent to their end.
    pub fn finished(&self) -> u64 {
        self.finished.load(Ordering::SeqCst)
    }

    /// Bodies dropped before their end was sent.
    pub fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::SeqCst)
    }
}

/// Counts the body's end when it is dropped.
struct Watch {
    ends: Arc<StreamEnds>,
    done: bool,
}

impl Watch {
    fn finish(&mut self) {
        self.done = true;
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let counter = if self.done {
            &self.ends.finished
        } else {
            &self.ends.abandoned
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// `body`, counted in `ends` when it is over.
pub fn watched(body: Body, ends: Arc<StreamEnds>) -> Body {
    let watch = Watch { ends, done: false };
    Body::from_stream(futures::stream::unfold(
        (body.into_data_stream(), watch),
        |(mut data, mut watch)| async move {
            match data.next().await {
                Some(chunk) => Some((chunk, (data, watch))),
                None => {
                    watch.finish();
                    None
                }
            }
        },
    ))
}
