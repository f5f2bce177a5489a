//! [`WholeAnswer`]: a stream whose answer an async host wants whole (a non-streamed HTTP
//! response). The host is woken twice, when the output begins and when the stream ends, not
//! once per event, and no owned event is built.

use abi_stable::std_types::ROption;
use futures::channel::oneshot;

use super::{contract_broken, end_to_result, Canceller, StreamHandler};
use crate::contract::{SinkFlow, StreamEnd, StreamEvent};
use crate::error::{Error, StreamError};
use crate::request::Completion;

/// A stream started with [`Provider::converse_whole`](super::Provider::converse_whole): its output's start, then its end.
pub struct WholeAnswer {
    pub(super) control: Canceller,
    /// Fired at the first output; dropped unfired when the stream ends without any.
    pub(super) started: Option<oneshot::Receiver<()>>,
    pub(super) end: oneshot::Receiver<StreamEnd>,
    /// The end, when it came before any output.
    pub(super) ended: Option<StreamEnd>,
    pub(super) finished: bool,
}

impl WholeAnswer {
    /// A handle that cancels this stream from any thread.
    pub fn canceller(&self) -> Canceller {
        self.control.clone()
    }

    /// Resolves once the model's output has begun (any event but the message's start, its
    /// timing and retries) or the stream has ended; `Err` when it ended with an error before
    /// any output (a host may then try another model: nothing was answered).
    pub async fn output_started(&mut self) -> Result<(), StreamError> {
        let Some(started) = self.started.take() else {
            return Ok(());
        };
        if started.await.is_ok() {
            return Ok(());
        }
        // The sink was dropped without output: the stream has ended.
        let end = match (&mut self.end).await {
            Ok(end) => end,
            Err(_) => return Err(self.fail(contract_broken("the stream ended without on_end"))),
        };
        if let ROption::RSome(error) = &end.error {
            let error = error.clone().into();
            let partial =
                serde_json::from_str(&end.completion_json).unwrap_or_else(|_| Completion::empty());
            self.finished = true;
            return Err(StreamError { error, partial });
        }
        self.ended = Some(end);
        Ok(())
    }

    /// The completed message, or the error with the partial one.
    pub async fn completion(mut self) -> Result<Completion, StreamError> {
        let end = match self.ended.take() {
            Some(end) => Ok(end),
            None => (&mut self.end).await,
        };
        self.finished = true;
        match end {
            Ok(end) => end_to_result(end),
            Err(_) => Err(StreamError {
                error: contract_broken("the stream ended without on_end"),
                partial: Completion::empty(),
            }),
        }
    }

    fn fail(&mut self, error: Error) -> StreamError {
        self.finished = true;
        StreamError {
            error,
            partial: Completion::empty(),
        }
    }
}

impl Drop for WholeAnswer {
    fn drop(&mut self) {
        if !self.finished {
            self.control.cancel();
        }
    }
}

/// Tells a [`WholeAnswer`] when its output begins, once; every event is otherwise let by.
pub(super) struct OutputStart(pub(super) Option<oneshot::Sender<()>>);

impl OutputStart {
    fn begun(&mut self) -> SinkFlow {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
        SinkFlow::Continue
    }
}

impl StreamHandler for OutputStart {
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        match event {
            StreamEvent::MessageStart | StreamEvent::Metrics { .. } | StreamEvent::Retry { .. } => {
                SinkFlow::Continue
            }
            _ => self.begun(),
        }
    }

    fn on_extension(&mut self, _kind: &str, _data_json: &str) -> SinkFlow {
        self.begun()
    }
}
