//! The safe host API over a loaded provider: blocking calls with closures, and async calls
//! returning futures and a `Stream` of owned events. Works with any async runtime (or none):
//! the plugin runs the I/O on its own runtime and only calls back into the host.

// A failed stream returns its partial completion with the error (`StreamError`): that is the
// point of the type, so its size is accepted rather than boxed away.
#![allow(clippy::result_large_err)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RVec};
use futures::channel::{mpsc as async_mpsc, oneshot};

use crate::contract::{
    AuthStatus, AuthStatusReply, AuthStatusReply_TO, DocumentReply, DocumentReply_TO,
    EmbeddingVectors, EmbeddingsReply, EmbeddingsReply_TO, EventSink, EventSinkBox, EventSink_TO,
    ModelInfo, ModelsReply, ModelsReply_TO, ProviderBox, ProviderError, ProviderMetadata, SinkFlow,
    StreamControlBox, StreamEnd, StreamEvent, StreamWakerBox, TokenCountReply, TokenCountReply_TO,
};
use crate::error::{Error, ErrorKind, StreamError};
use crate::request::{
    Completion, ConverseRequest, EmbeddingDetails, EmbeddingModel, EmbeddingRequest, Embeddings,
    ModelProvenance,
};

mod event_stream;
mod whole_answer;

use event_stream::{Backlog, Forward};
pub use event_stream::{Event, EventStream};
use whole_answer::OutputStart;
pub use whole_answer::WholeAnswer;

/// What a blocking stream calls back with: every [`StreamEvent`], and (since 1.5) the
/// extension events a plugin sends for kinds `StreamEvent` cannot carry (see
/// [`crate::contract::extension_kinds`]). A closure over `&StreamEvent` is a handler that
/// skips extensions.
///
/// ```
/// use host_sdk::contract::extension_kinds;
/// use host_sdk::{SinkFlow, StreamEvent, StreamHandler};
///
/// /// Prints the answer and says when a guardrail stepped in.
/// #[derive(Default)]
/// struct Printer {
///     answer: String,
///     blocked: bool,
/// }
///
/// impl StreamHandler for Printer {
///     fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
///         if let StreamEvent::TextDelta { text, .. } = event {
///             self.answer.push_str(text);
///         }
///         SinkFlow::Continue
///     }
///     fn on_extension(&mut self, kind: &str, data_json: &str) -> SinkFlow {
///         if kind == extension_kinds::GUARDRAIL {
///             let data: serde_json::Value = serde_json::from_str(data_json).unwrap();
///             self.blocked = data["intervened"] == true;
///         }
///         SinkFlow::Continue
///     }
/// }
///
/// // What a plugin's stream would call (use `Provider::converse_with(&request, printer)`).
/// let mut printer = Printer::default();
/// printer.on_event(&StreamEvent::TextDelta { index: 0, text: "Sorry.".into() });
/// printer.on_extension(extension_kinds::GUARDRAIL, r#"{"intervened": true, "trace": {}}"#);
/// assert_eq!(printer.answer, "Sorry.");
/// assert!(printer.blocked);
/// ```
pub trait StreamHandler: Send + 'static {
    /// Takes one event, in order; the answer says whether to go on.
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow;
    /// `data_json` is the kind's JSON document. Unknown kinds should be skipped.
    fn on_extension(&mut self, kind: &str, data_json: &str) -> SinkFlow {
        let _ = (kind, data_json);
        SinkFlow::Continue
    }
}

impl<F> StreamHandler for F
where
    F: FnMut(&StreamEvent<'_>) -> SinkFlow + Send + 'static,
{
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        self(event)
    }
}

/// A configured provider. Cheap to clone and shareable across threads and tasks.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<ProviderBox>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("provider_id", &self.metadata().provider_id)
            .finish()
    }
}

impl Provider {
    pub(crate) fn from_raw(inner: ProviderBox) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// What the plugin is.
    pub fn metadata(&self) -> ProviderMetadata {
        self.inner.metadata()
    }

    /// The raw contract object, for tools that check a plugin's behaviour at the boundary
    /// itself (for example that every stream calls `on_end` exactly once). Hosts should use
    /// the methods above: they guard callbacks and turn documents into types.
    pub fn contract(&self) -> &ProviderBox {
        &self.inner
    }

    /// Lists the provider's models, blocking the calling thread.
    pub fn list_models(&self) -> Result<Vec<ModelInfo>, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.start_list_models(move |result| {
            let _ = tx.send(result);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(contract_broken("list_models never replied")))
    }

    /// Lists the provider's models without blocking any thread.
    pub async fn list_models_async(&self) -> Result<Vec<ModelInfo>, Error> {
        let (tx, rx) = oneshot::channel();
        self.start_list_models(move |result| {
            let _ = tx.send(result);
        });
        rx.await
            .unwrap_or_else(|_| Err(contract_broken("list_models never replied")))
    }

    /// How the provider authenticates and whether an authenticated call succeeds, blocking.
    pub fn auth_status(&self) -> Result<AuthStatus, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.start_auth_status(move |result| {
            let _ = tx.send(result);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(contract_broken("auth_status never replied")))
    }

    /// How the provider authenticates, without blocking any thread.
    pub async fn auth_status_async(&self) -> Result<AuthStatus, Error> {
        let (tx, rx) = oneshot::channel();
        self.start_auth_status(move |result| {
            let _ = tx.send(result);
        });
        rx.await
            .unwrap_or_else(|_| Err(contract_broken("auth_status never replied")))
    }

    fn start_auth_status(&self, done: impl FnOnce(Result<AuthStatus, Error>) + Send + 'static) {
        let reply = AuthStatusReply_TO::from_value(OnceReply::new(done), TD_Opaque);
        self.inner.auth_status(reply);
    }

    /// Non-fatal configuration problems the provider reported (empty for 1.0/1.1 plugins).
    pub fn config_warnings(&self) -> Vec<String> {
        self.inner
            .config_warnings()
            .into_iter()
            .map(|w| w.into_string())
            .collect()
    }

    /// Non-fatal problems met by calls since the last time this was asked (see the contract's
    /// `Provider::take_notices`).
    pub fn take_notices(&self) -> Vec<String> {
        self.inner
            .take_notices()
            .into_iter()
            .map(|n| n.into_string())
            .collect()
    }

    /// Since 1.5: how many input tokens `request` would cost its model, counted by the
    /// provider without running the model, blocking. A plugin built before 1.5 answers with
    /// kind `unsupported`.
    pub fn count_tokens(&self, request: &ConverseRequest) -> Result<u64, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.start_count_tokens(request, move |result| {
            let _ = tx.send(result);
        })?;
        rx.recv()
            .unwrap_or_else(|_| Err(contract_broken("count_tokens never replied")))
    }

    /// Counts the input tokens of `request` without blocking any thread (see
    /// [`Provider::count_tokens`]).
    pub async fn count_tokens_async(&self, request: &ConverseRequest) -> Result<u64, Error> {
        let (tx, rx) = oneshot::channel();
        self.start_count_tokens(request, move |result| {
            let _ = tx.send(result);
        })?;
        rx.await
            .unwrap_or_else(|_| Err(contract_broken("count_tokens never replied")))
    }

    fn start_count_tokens(
        &self,
        request: &ConverseRequest,
        done: impl FnOnce(Result<u64, Error>) + Send + 'static,
    ) -> Result<(), Error> {
        let json = request_json(request)?;
        let reply = TokenCountReply_TO::from_value(OnceReply::new(done), TD_Opaque);
        self.inner.count_tokens(json.as_str().into(), reply);
        Ok(())
    }

    /// Since 1.7: embeds `request`'s inputs, one vector per input in order, blocking. A
    /// plugin built before 1.7 answers with kind `unsupported`.
    pub fn embed(&self, request: &EmbeddingRequest) -> Result<Embeddings, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.start_embed(request, move |result| {
            let _ = tx.send(result);
        })?;
        rx.recv()
            .unwrap_or_else(|_| Err(contract_broken("embed never replied")))
    }

    /// Embeds `request`'s inputs without blocking any thread (see [`Provider::embed`]).
    pub async fn embed_async(&self, request: &EmbeddingRequest) -> Result<Embeddings, Error> {
        let (tx, rx) = oneshot::channel();
        self.start_embed(request, move |result| {
            let _ = tx.send(result);
        })?;
        rx.await
            .unwrap_or_else(|_| Err(contract_broken("embed never replied")))
    }

    fn start_embed(
        &self,
        request: &EmbeddingRequest,
        done: impl FnOnce(Result<Embeddings, Error>) + Send + 'static,
    ) -> Result<(), Error> {
        let json = serde_json::to_string(request).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("request is not serialisable: {e}"),
            )
        })?;
        let reply = EmbeddingsReply_TO::from_value(OnceReply::new(done), TD_Opaque);
        self.inner.embed(json.as_str().into(), reply);
        Ok(())
    }

    /// Since 1.7: the models that embed, blocking. A plugin built before 1.7 answers with
    /// kind `unsupported`.
    pub fn list_embedding_models(&self) -> Result<Vec<EmbeddingModel>, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.start_list_embedding_models(move |result| {
            let _ = tx.send(result);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(contract_broken("list_embedding_models never replied")))
    }

    /// The models that embed, without blocking any thread.
    pub async fn list_embedding_models_async(&self) -> Result<Vec<EmbeddingModel>, Error> {
        let (tx, rx) = oneshot::channel();
        self.start_list_embedding_models(move |result| {
            let _ = tx.send(result);
        });
        rx.await
            .unwrap_or_else(|_| Err(contract_broken("list_embedding_models never replied")))
    }

    fn start_list_embedding_models(
        &self,
        done: impl FnOnce(Result<Vec<EmbeddingModel>, Error>) + Send + 'static,
    ) {
        let reply = DocumentReply_TO::from_value(OnceReply::new(done), TD_Opaque);
        self.inner.list_embedding_models(reply);
    }

    /// Since 1.8: where the facts of each listed model come from (which table, checked when,
    /// or the configuration), blocking. A plugin built before 1.8 answers with kind
    /// `unsupported`.
    pub fn model_provenance(&self) -> Result<Vec<ModelProvenance>, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        let reply = DocumentReply_TO::from_value(
            OnceReply::new(move |result| {
                let _ = tx.send(result);
            }),
            TD_Opaque,
        );
        self.inner.model_provenance(reply);
        rx.recv()
            .unwrap_or_else(|_| Err(contract_broken("model_provenance never replied")))
    }

    fn start_list_models(&self, done: impl FnOnce(Result<Vec<ModelInfo>, Error>) + Send + 'static) {
        let reply = ModelsReply_TO::from_value(OnceReply::new(done), TD_Opaque);
        self.inner.list_models(reply);
    }

    /// Starts a stream; `on_event` runs on the plugin's runtime thread for each event, in
    /// order, and may return [`SinkFlow::Stop`] to end it. Returns at once; use
    /// [`RunningStream::wait`] for the result and [`RunningStream::canceller`] to stop it from
    /// another thread. A panic in `on_event` stops the stream with an `internal` error.
    pub fn start<F>(&self, request: &ConverseRequest, on_event: F) -> Result<RunningStream, Error>
    where
        F: FnMut(&StreamEvent<'_>) -> SinkFlow + Send + 'static,
    {
        self.start_with(request, on_event)
    }

    /// [`Provider::start`] with a [`StreamHandler`], which also sees extension events.
    pub fn start_with<H: StreamHandler>(
        &self,
        request: &ConverseRequest,
        handler: H,
    ) -> Result<RunningStream, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        let sink = GuardedSink {
            handler,
            on_end: move |end| {
                let _ = tx.send(end);
            },
            panic: None,
            backlog: None,
        };
        let control = self.start_raw(request, sink)?;
        Ok(RunningStream {
            control: Canceller(Arc::new(control)),
            done: rx,
        })
    }

    /// Runs a stream to its end on the calling thread's behalf: `on_event` sees every event,
    /// the result is the completed message or an error holding the partial one.
    pub fn converse<F>(
        &self,
        request: &ConverseRequest,
        on_event: F,
    ) -> Result<Completion, StreamError>
    where
        F: FnMut(&StreamEvent<'_>) -> SinkFlow + Send + 'static,
    {
        self.converse_with(request, on_event)
    }

    /// [`Provider::converse`] with a [`StreamHandler`], which also sees extension events.
    pub fn converse_with<H: StreamHandler>(
        &self,
        request: &ConverseRequest,
        handler: H,
    ) -> Result<Completion, StreamError> {
        self.start_with(request, handler)
            .map_err(|error| StreamError {
                error,
                partial: Completion::empty(),
            })?
            .wait()
    }

    /// Starts a stream whose events arrive as an async [`futures::Stream`] of owned
    /// [`Event`]s, ending with [`Event::Completed`] or [`Event::Failed`]. Dropping the stream
    /// cancels the request.
    pub fn converse_stream(&self, request: &ConverseRequest) -> Result<EventStream, Error> {
        let (tx, rx) = async_mpsc::unbounded();
        let end_tx = tx.clone();
        let backlog = Arc::new(Backlog::default());
        let sink = GuardedSink {
            handler: Forward {
                events: tx,
                backlog: backlog.clone(),
            },
            on_end: move |end| {
                let _ = end_tx.unbounded_send(Event::from_end(end));
            },
            panic: None,
            backlog: Some(backlog.clone()),
        };
        let control = self.start_raw(request, sink)?;
        Ok(EventStream {
            control: Canceller(Arc::new(control)),
            events: rx,
            finished: false,
            backlog,
        })
    }

    /// Starts a stream whose answer is wanted whole, for async hosts that answer at the end
    /// (a non-streamed HTTP response): the host is woken when the output begins and when the
    /// stream ends, not for each event, and no owned event is built. Dropping the
    /// [`WholeAnswer`] cancels the request.
    pub fn converse_whole(&self, request: &ConverseRequest) -> Result<WholeAnswer, Error> {
        let (started_tx, started) = oneshot::channel();
        let (end_tx, end) = oneshot::channel();
        let mut end_tx = Some(end_tx);
        let sink = GuardedSink {
            handler: OutputStart(Some(started_tx)),
            on_end: move |end| {
                if let Some(tx) = end_tx.take() {
                    let _ = tx.send(end);
                }
            },
            panic: None,
            backlog: None,
        };
        let control = self.start_raw(request, sink)?;
        Ok(WholeAnswer {
            control: Canceller(Arc::new(control)),
            started: Some(started),
            end,
            ended: None,
            finished: false,
        })
    }

    fn start_raw<S: EventSink + 'static>(
        &self,
        request: &ConverseRequest,
        sink: S,
    ) -> Result<StreamControlBox, Error> {
        let json = request_json(request)?;
        let sink: EventSinkBox = EventSink_TO::from_value(sink, TD_Opaque);
        match self.inner.converse_stream(json.as_str().into(), sink) {
            RResult::ROk(control) => Ok(control),
            RResult::RErr(e) => Err(e.into()),
        }
    }
}

/// The request as the JSON document the contract carries, checked first for values too deep
/// to serialise safely.
fn request_json(request: &ConverseRequest) -> Result<String, Error> {
    {
        if request
            .json_values()
            .any(|v| crate::request::json_deeper_than(v, crate::request::MAX_JSON_DEPTH))
        {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "a JSON value in the request (tool input or schema, tool result, extra) nests more than {} levels deep",
                    crate::request::MAX_JSON_DEPTH
                ),
            ));
        }
        let mut json = serde_json::to_string(request).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("request is not serialisable: {e}"),
            )
        })?;
        // The host's contract version travels with every request (the field is never
        // serialised from the struct): the document is an object, so it ends with `}`.
        json.pop();
        json.push_str(",\"hostContract\":\"");
        json.push_str(crate::contract::CONTRACT_VERSION);
        json.push_str("\"}");
        Ok(json)
    }
}

fn contract_broken(what: &str) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("plugin broke the contract: {what}"),
    )
}

/// Stops a running stream from any thread.
#[derive(Clone)]
pub struct Canceller(Arc<StreamControlBox>);

impl Canceller {
    /// Ends the stream; it finishes with a `cancelled` error and its partial message.
    pub fn cancel(&self) {
        self.0.cancel();
    }
}

/// A stream started with [`Provider::start`].
pub struct RunningStream {
    control: Canceller,
    done: mpsc::Receiver<StreamEnd>,
}

impl RunningStream {
    /// A handle that cancels this stream from any thread.
    pub fn canceller(&self) -> Canceller {
        self.control.clone()
    }

    /// Blocks until the stream ends.
    pub fn wait(self) -> Result<Completion, StreamError> {
        match self.done.recv() {
            Ok(end) => end_to_result(end),
            Err(_) => Err(StreamError {
                error: contract_broken("the stream ended without on_end"),
                partial: Completion::empty(),
            }),
        }
    }
}

fn end_to_result(end: StreamEnd) -> Result<Completion, StreamError> {
    let completion = serde_json::from_str::<Completion>(&end.completion_json);
    match (end.error, completion) {
        (ROption::RNone, Ok(completion)) => Ok(completion),
        (ROption::RSome(error), completion) => Err(StreamError {
            error: error.into(),
            partial: completion.unwrap_or_else(|_| Completion::empty()),
        }),
        (ROption::RNone, Err(e)) => Err(StreamError {
            error: contract_broken(&format!("unreadable completion document: {e}")),
            partial: Completion::empty(),
        }),
    }
}

/// Adapts host closures to the ABI sink, guarding against panics: a panic must never unwind
/// into the plugin (it would abort the process at the `extern "C"` boundary).
struct GuardedSink<H, E> {
    handler: H,
    on_end: E,
    panic: Option<String>,
    /// The queue an async stream's events wait in (blocking handlers have none: they run
    /// the plugin's thread themselves).
    backlog: Option<Arc<Backlog>>,
}

impl<H, E> GuardedSink<H, E> {
    fn guard(&mut self, call: impl FnOnce(&mut H) -> SinkFlow) -> SinkFlow {
        if self.panic.is_some() {
            return SinkFlow::Stop;
        }
        match catch_unwind(AssertUnwindSafe(|| call(&mut self.handler))) {
            Ok(flow) => flow,
            Err(payload) => {
                self.panic = Some(panic_message(payload.as_ref()));
                SinkFlow::Stop
            }
        }
    }
}

impl<H, E> EventSink for GuardedSink<H, E>
where
    H: StreamHandler,
    E: FnMut(StreamEnd) + Send,
{
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        self.guard(|handler| handler.on_event(event))
    }

    fn on_extension(
        &mut self,
        kind: abi_stable::std_types::RStr<'_>,
        data_json: abi_stable::std_types::RStr<'_>,
    ) -> SinkFlow {
        self.guard(|handler| handler.on_extension(kind.as_str(), data_json.as_str()))
    }

    fn set_waker(&mut self, waker: StreamWakerBox) {
        if let Some(backlog) = &self.backlog {
            *backlog.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(waker);
        }
    }

    fn ready(&mut self) -> bool {
        self.backlog.as_ref().is_none_or(|backlog| backlog.ready())
    }

    fn on_end(&mut self, mut end: StreamEnd) {
        if let Some(message) = self.panic.take() {
            end.error = ROption::RSome(ProviderError::new(
                ErrorKind::Internal.code(),
                format!("the host's event callback panicked: {message}"),
                false,
            ));
        }
        let _ = catch_unwind(AssertUnwindSafe(|| (self.on_end)(end)));
    }
}

/// Delivers a plugin's reply (a model list, a token count, an auth status) to a host closure
/// exactly once; a panic in the closure stays on the host's side. One adapter for every
/// reply trait of the contract.
struct OnceReply<T>(Option<Done<T>>);

/// The host's closure a reply goes to.
type Done<T> = Box<dyn FnOnce(Result<T, Error>) + Send>;

impl<T> OnceReply<T> {
    fn new(done: impl FnOnce(Result<T, Error>) + Send + 'static) -> Self {
        Self(Some(Box::new(done)))
    }

    fn deliver(mut self, result: Result<T, ProviderError>) {
        if let Some(done) = self.0.take() {
            let result = result.map_err(Error::from);
            let _ = catch_unwind(AssertUnwindSafe(|| done(result)));
        }
    }
}

impl ModelsReply for OnceReply<Vec<ModelInfo>> {
    fn reply(self, result: RResult<RVec<ModelInfo>, ProviderError>) {
        self.deliver(result.into_result().map(RVec::into_vec));
    }
}

impl TokenCountReply for OnceReply<u64> {
    fn reply(self, result: RResult<u64, ProviderError>) {
        self.deliver(result.into_result());
    }
}

impl EmbeddingsReply for OnceReply<Embeddings> {
    fn reply(self, result: RResult<EmbeddingVectors, ProviderError>) {
        self.deliver(result.into_result().and_then(|vectors| {
            let details: EmbeddingDetails = serde_json::from_str(&vectors.details_json)
                .map_err(|e| broken_reply(format!("embed's details are not valid: {e}")))?;
            let embeddings = Embeddings {
                values: vectors.values.into_vec(),
                dimensions: vectors.dimensions,
                details,
            };
            if !embeddings
                .values
                .len()
                .is_multiple_of(embeddings.width().max(1))
            {
                return Err(broken_reply(format!(
                    "embed answered {} values, not a whole number of {}-value vectors",
                    embeddings.values.len(),
                    embeddings.width()
                )));
            }
            Ok(embeddings)
        }));
    }
}

impl DocumentReply for OnceReply<Vec<EmbeddingModel>> {
    fn reply(self, result: RResult<abi_stable::std_types::RString, ProviderError>) {
        self.deliver(result.into_result().and_then(|json| {
            serde_json::from_str(&json)
                .map_err(|e| broken_reply(format!("the embedding model list is not valid: {e}")))
        }));
    }
}

impl DocumentReply for OnceReply<Vec<ModelProvenance>> {
    fn reply(self, result: RResult<abi_stable::std_types::RString, ProviderError>) {
        self.deliver(result.into_result().and_then(|json| {
            serde_json::from_str(&json)
                .map_err(|e| broken_reply(format!("the model provenance list is not valid: {e}")))
        }));
    }
}

/// A reply the plugin sent that breaks the contract, as the plugin's own error.
fn broken_reply(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::Internal.code(), message, false)
}

impl AuthStatusReply for OnceReply<AuthStatus> {
    fn reply(self, result: RResult<AuthStatus, ProviderError>) {
        self.deliver(result.into_result());
    }
}

/// The text of a panic payload (it lives with the plugin guards it serves first).
pub use crate::plugin::panic_message;
