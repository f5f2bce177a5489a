//! The shared core of every dialect's model call: what a request passes before the model is
//! called (the key, room among the calls in flight, the body, the model's name and the key's
//! right to it, its limits and budget, fetched images), the call itself with its fallbacks,
//! and the wait for its first output, which decides the HTTP status. A dialect supplies its
//! request type and its mapping to the contract ([`Dialect`]); what it sends back is its own
//! (a whole answer from [`Call::whole`], woken only when the output begins and ends, or
//! server-sent events through [`sse::Frames`]).
//! Each call ends with one access line and its charge to the key (see [`record`]).

mod record;
pub mod sse;

use std::sync::Arc;

use axum::http::HeaderMap;
use futures::StreamExt;
use host_sdk::{Completion, ConverseRequest, ErrorKind, Event, EventStream, Provider, WholeAnswer};

use crate::errors::ApiError;
use crate::front_door::{authorize, presented_key, read_json_body};
use crate::image_urls::Fetched;
use crate::state::Gateway;
pub use record::{LoggedAtEnd, Record};

/// One HTTP dialect's request, as far as the shared core needs to know it.
pub trait Dialect {
    /// The request body, as the dialect's clients send it.
    type Request: serde::de::DeserializeOwned;
    /// What the body should have been, for the error when it is not ("a chat completion
    /// request").
    const REQUEST: &'static str;

    /// The model name the client asked for (a `provider/model`, a bare id or an alias).
    fn model(request: &Self::Request) -> &str;

    /// The http(s) image URLs the request gives, each with where it first appears, for the
    /// gateway to fetch (when its operator allows it) before the call.
    fn image_urls(_request: &Self::Request) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The contract's request for `request` to `target` (the model, resolved), with its
    /// images' URLs `fetched`; `headers` are the request's (a dialect may take options from
    /// them).
    fn to_converse(
        request: &Self::Request,
        target: Target,
        fetched: &Fetched,
        headers: &HeaderMap,
    ) -> Result<ConverseRequest, ApiError>;
}

/// The service tier that actually served a completion (its `served` extension), for OpenAI's
/// `service_tier` in a response and the access line; `None` when the provider did not say.
pub fn served_tier(c: &Completion) -> Option<&str> {
    c.extensions
        .iter()
        .find(|e| e.kind == host_sdk::contract::extension_kinds::SERVED)
        .and_then(|e| e.data["serviceTier"].as_str())
}

/// The model a request goes to, as its provider lists it.
pub struct Target {
    /// The provider's id for it (what the contract's request names).
    pub id: String,
    /// Its vendor (`Anthropic`, `Amazon`, ...; empty when unknown), for options only one
    /// vendor's models take.
    pub vendor: String,
}

/// A model that may serve the request: an alias's models are tried in order.
struct Candidate {
    provider: Provider,
    id: String,
    vendor: String,
    /// Its `provider/model` name.
    name: String,
}

impl Candidate {
    fn target(&self) -> Target {
        Target {
            id: self.id.clone(),
            vendor: self.vendor.clone(),
        }
    }
}

/// The response to a model call: the answer (whose access line is written when it ends), or
/// its failure counted in the metrics and sent in the dialect's error shape
/// (`error_response`).
pub fn answered(
    gateway: &Gateway,
    result: Result<axum::response::Response, ApiError>,
    error_response: fn(ApiError) -> axum::response::Response,
) -> axum::response::Response {
    match result {
        Ok(mut response) => {
            response.extensions_mut().insert(LoggedAtEnd);
            response
        }
        Err(e) => {
            gateway.metrics.error(&e.code);
            error_response(e)
        }
    }
}

/// `response`, naming the model that served it (`x-gateway-model: provider/model`), which
/// differs from the one asked for when an alias fell back.
pub fn naming_served(
    mut response: axum::response::Response,
    served: &str,
) -> axum::response::Response {
    if let Ok(value) = axum::http::HeaderValue::try_from(served) {
        response.headers_mut().insert("x-gateway-model", value);
    }
    response
}

/// A request past every check, with the contract's request built for its first model and
/// room held for it.
pub struct Prepared<D: Dialect> {
    /// The dialect's request, as the client sent it.
    pub request: D::Request,
    converse: ConverseRequest,
    candidates: Vec<Candidate>,
    headers: HeaderMap,
    fetched: Fetched,
    /// When the whole request must be over (`--request-timeout`).
    deadline: tokio::time::Instant,
    record: Record,
}

/// Which of a provider's lists a request's model is looked up in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// The chat models (and the aliases of them).
    Chat,
    /// The embedding models.
    Embedding,
}

/// A request past the checks every model call passes (see [`gate`]).
pub struct Gated<R> {
    /// The request, as the client sent it.
    pub request: R,
    candidates: Vec<Candidate>,
    headers: HeaderMap,
    /// When the whole request must be over (`--request-timeout`).
    deadline: tokio::time::Instant,
    record: Record,
}

/// The checks every model call passes, in the order that costs an unwelcome client least:
/// the key before the body, room before the body, the body within its limits, then the
/// request (`what` it should be), the models it names (`model`, looked up in `listed`) and
/// the key's right to them, and its limits and budget.
pub async fn gate<R: serde::de::DeserializeOwned>(
    gateway: &Arc<Gateway>,
    request: axum::extract::Request,
    path: &'static str,
    what: &str,
    model: fn(&R) -> &str,
    listed: Listed,
) -> Result<Gated<R>, ApiError> {
    let started = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + gateway.limits.request_timeout;
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    // The key before the body: a client without one costs no memory.
    authorize(&gateway.keys, &headers, None)?;
    // Room first, then the body: a shed request costs no memory either.
    let admitted = admit(gateway).await?;
    let body = read_json_body(&headers, body, gateway.limits.body).await?;
    let request: R = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not {what}: {e}")))?;
    drop(body);
    let registry = gateway.registry();
    let asked = model(&request);
    let resolved = match listed {
        Listed::Chat => registry.candidates(asked),
        Listed::Embedding => registry.embedding_candidates(asked),
    }
    .map_err(ApiError::unknown_model)?;
    // The models this key may use, in order; none: the first one's refusal.
    let mut refusal = None;
    let mut candidates = Vec::new();
    for (provider, id, name) in resolved {
        match authorize(&gateway.keys, &headers, Some(&name)) {
            Ok(()) => candidates.push(Candidate {
                provider: provider.clone(),
                vendor: registry
                    .model(&name)
                    .map(|info| info.vendor.to_string())
                    .unwrap_or_default(),
                id,
                name,
            }),
            Err(e) => {
                refusal.get_or_insert(e);
            }
        }
    }
    if candidates.is_empty() {
        return Err(refusal.unwrap_or_else(|| ApiError::unknown_model(asked.to_string())));
    }
    let policy = gateway.keys.policy_of(presented_key(&headers));
    let key_id = policy.as_ref().map(|p| p.id.clone());
    let account = gateway.ledger.admit(policy).await?;
    let record = Record::new(
        gateway,
        path,
        key_id,
        asked.to_string(),
        started,
        admitted,
        account,
    );
    Ok(Gated {
        request,
        candidates,
        headers,
        deadline,
        record,
    })
}

/// [`gate`] for a dialect's chat request, then the images it names, fetched, and the
/// contract's request for its first model.
pub async fn prepare<D: Dialect>(
    gateway: &Arc<Gateway>,
    request: axum::extract::Request,
    path: &'static str,
) -> Result<Prepared<D>, ApiError> {
    let Gated {
        request,
        candidates,
        headers,
        deadline,
        record,
    } = gate(gateway, request, path, D::REQUEST, D::model, Listed::Chat).await?;
    let fetched = match &gateway.images {
        Some(images) => images.fetch_all(D::image_urls(&request)).await?,
        None => Fetched::new(),
    };
    let converse = D::to_converse(&request, candidates[0].target(), &fetched, &headers)?;
    Ok(Prepared {
        request,
        converse,
        candidates,
        headers,
        fetched,
        deadline,
        record,
    })
}

/// Room for one more model call, waiting at most the queue timeout; else the request is
/// shed with a 503 and `Retry-After`.
async fn admit(gateway: &Gateway) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    if let Ok(permit) = gateway.admission.clone().try_acquire_owned() {
        return Ok(permit);
    }
    match tokio::time::timeout(
        gateway.limits.queue_timeout,
        gateway.admission.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(permit)) => Ok(permit),
        _ => {
            gateway.metrics.shed();
            Err(ApiError::overloaded(format!(
                "the gateway has its most model calls in flight ({}, --max-in-flight); retry shortly",
                gateway.max_in_flight
            )))
        }
    }
}

/// A model call that has produced its first output (or ended): the HTTP status is decided.
/// `A` is how its answer is taken: as events ([`Streamed`], for server-sent events) or whole
/// ([`WholeAnswer`], for a response sent at the end).
pub struct Call<R, A> {
    /// The dialect's request, as the client sent it.
    pub request: R,
    /// The `provider/model` that is answering (an alias's fallback, maybe).
    pub served: String,
    answer: A,
    deadline: tokio::time::Instant,
    gateway: Arc<Gateway>,
    record: Record,
}

/// An answer taken as events: those up to and including the first output (not yet sent),
/// and the rest of the stream.
pub struct Streamed {
    first: Vec<Event>,
    events: EventStream,
}

/// How a model call is started and waited on up to its first output; on failure, the error
/// and its kind (none for the gateway's own first-byte timeout, which counts as a timeout).
pub trait Answer: Sized + Send {
    fn first_output(
        gateway: &Gateway,
        provider: &Provider,
        converse: &ConverseRequest,
        deadline: tokio::time::Instant,
    ) -> impl std::future::Future<Output = Result<Self, (Option<ErrorKind>, ApiError)>> + Send;
}

impl Answer for Streamed {
    async fn first_output(
        gateway: &Gateway,
        provider: &Provider,
        converse: &ConverseRequest,
        deadline: tokio::time::Instant,
    ) -> Result<Self, (Option<ErrorKind>, ApiError)> {
        let mut events = provider
            .converse_stream(converse)
            .map_err(|e| refused(&e))?;
        let first = first_output(gateway, deadline, &mut events).await?;
        if let Some(Event::Failed(e)) = first.last() {
            return Err(refused(&e.error));
        }
        Ok(Streamed { first, events })
    }
}

/// A whole answer wakes the gateway when its output begins and when it ends, not per event.
impl Answer for WholeAnswer {
    async fn first_output(
        gateway: &Gateway,
        provider: &Provider,
        converse: &ConverseRequest,
        deadline: tokio::time::Instant,
    ) -> Result<Self, (Option<ErrorKind>, ApiError)> {
        let mut answer = provider.converse_whole(converse).map_err(|e| refused(&e))?;
        let first_byte = tokio::time::Instant::now() + gateway.limits.first_byte_timeout;
        match tokio::time::timeout_at(first_byte.min(deadline), answer.output_started()).await {
            Ok(Ok(())) => Ok(answer),
            Ok(Err(e)) => Err(refused(&e.error)),
            Err(_) => Err(first_output_timeout(gateway, first_byte, deadline)),
        }
    }
}

/// A model's failure before any output, with its kind (which decides a fallback).
fn refused(error: &host_sdk::Error) -> (Option<ErrorKind>, ApiError) {
    (Some(error.kind.clone()), ApiError::from(error))
}

/// Whether a failure before any output lets an alias's next model try: the model was busy,
/// unavailable or too slow, never the request's own fault.
fn falls_back(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Throttled | ErrorKind::ServiceUnavailable | ErrorKind::Timeout
    )
}

impl<D: Dialect> Prepared<D> {
    /// Calls the first model and waits for its first output; when it fails before any
    /// output in a way another model may not (throttled, unavailable, too slow), the next of
    /// an alias's models is tried. A failure before output is an HTTP error with its own
    /// status, not a 200 stream.
    pub async fn call<A: Answer>(
        self,
        gateway: &Arc<Gateway>,
    ) -> Result<Call<D::Request, A>, ApiError> {
        let Prepared {
            request,
            converse,
            candidates,
            headers,
            fetched,
            deadline,
            mut record,
        } = self;
        let mut converse = Some(converse);
        let mut last_error = None;
        let count = candidates.len();
        for (i, candidate) in candidates.into_iter().enumerate() {
            if i > 0 {
                gateway.metrics.fallback();
                record.fallback();
            }
            let this = match converse.take() {
                Some(first) => first,
                None => match D::to_converse(&request, candidate.target(), &fetched, &headers) {
                    Ok(converse) => converse,
                    Err(e) => {
                        last_error = Some(e);
                        continue;
                    }
                },
            };
            let more = i + 1 < count;
            let attempt = A::first_output(gateway, &candidate.provider, &this, deadline).await;
            match attempt {
                Ok(answer) => {
                    record.first_output(&candidate.name);
                    return Ok(Call {
                        request,
                        served: candidate.name,
                        answer,
                        deadline,
                        gateway: gateway.clone(),
                        record,
                    });
                }
                Err((kind, error)) if more && kind.as_ref().is_some_and(falls_back) => {
                    tracing::info!(model = %candidate.name, error = %error.message, "falling back to the alias's next model");
                    last_error = Some(error);
                }
                Err((_, error)) => {
                    record.failed(&error);
                    return Err(error);
                }
            }
        }
        let error = last_error.unwrap_or_else(ended_without_result);
        record.failed(&error);
        Err(error)
    }

    /// How many input tokens the request would cost its first model, counted by the
    /// provider without running the model.
    pub async fn count_tokens(mut self) -> Result<u64, ApiError> {
        let first = &self.candidates[0];
        let counted = tokio::time::timeout_at(
            self.deadline,
            first.provider.count_tokens_async(&self.converse),
        )
        .await
        .map_err(|_| ApiError::timed_out())?
        .map_err(|e| ApiError::from(&e))?;
        self.record.first_output(&first.name);
        self.record.answered();
        Ok(counted)
    }
}

impl<R> Call<R, WholeAnswer> {
    /// The whole answer (within the request's deadline).
    pub async fn whole(self) -> Result<Completion, ApiError> {
        let Call {
            answer,
            deadline,
            gateway,
            mut record,
            ..
        } = self;
        match tokio::time::timeout_at(deadline, answer.completion()).await {
            Err(_) => Err(ApiError::timed_out()),
            Ok(Ok(c)) => {
                if let Some(usage) = &c.usage {
                    gateway.metrics.tokens(usage);
                    record.usage(usage, c.cost_usd);
                }
                record.completed(&c);
                Ok(c)
            }
            Ok(Err(e)) => {
                let error = ApiError::from(&e.error);
                record.failed(&error);
                Err(error)
            }
        }
    }
}

fn ended_without_result() -> ApiError {
    ApiError::from(&host_sdk::Error::new(
        host_sdk::ErrorKind::Internal,
        "the stream ended without a result",
    ))
}

/// The events up to and including the first that carries output or ends the stream, waiting
/// at most `--first-byte-timeout` (and never past `deadline`).
async fn first_output(
    gateway: &Gateway,
    deadline: tokio::time::Instant,
    events: &mut EventStream,
) -> Result<Vec<Event>, (Option<ErrorKind>, ApiError)> {
    let first_byte = tokio::time::Instant::now() + gateway.limits.first_byte_timeout;
    let mut before = Vec::new();
    loop {
        let event = match tokio::time::timeout_at(first_byte.min(deadline), events.next()).await {
            Ok(event) => event,
            Err(_) => return Err(first_output_timeout(gateway, first_byte, deadline)),
        };
        match event {
            // Nothing a client would see yet: the start, a retry, timing.
            Some(e @ (Event::MessageStart | Event::Metrics { .. })) => before.push(e),
            Some(Event::Retry { .. }) => {}
            Some(e) => {
                before.push(e);
                return Ok(before);
            }
            None => return Err((None, ended_without_result())),
        }
    }
}

/// No first output in time: the gateway's first-byte timeout (a timeout, so an alias's next
/// model may try), or the request's own deadline.
fn first_output_timeout(
    gateway: &Gateway,
    first_byte: tokio::time::Instant,
    deadline: tokio::time::Instant,
) -> (Option<ErrorKind>, ApiError) {
    if first_byte < deadline {
        (
            Some(ErrorKind::Timeout),
            ApiError::no_first_byte(gateway.limits.first_byte_timeout),
        )
    } else {
        (None, ApiError::timed_out())
    }
}

impl<R> Gated<R> {
    /// Embeds `embedding`'s inputs with the request's model (the contract's request names
    /// it here), within the request's deadline; the tokens and cost are charged to the key.
    pub async fn embed(
        self,
        gateway: &Gateway,
        mut embedding: host_sdk::EmbeddingRequest,
    ) -> Result<(R, String, host_sdk::Embeddings), ApiError> {
        let Gated {
            request,
            candidates,
            deadline,
            mut record,
            ..
        } = self;
        let model = &candidates[0];
        embedding.model = model.id.clone();
        let embedded = tokio::time::timeout_at(deadline, model.provider.embed_async(&embedding))
            .await
            .map_err(|_| ApiError::timed_out())
            .and_then(|result| result.map_err(|e| ApiError::from(&e)));
        match embedded {
            Ok(embeddings) => {
                record.first_output(&model.name);
                let tokens = embeddings.details.input_tokens;
                let usage = host_sdk::TokenUsage {
                    input_tokens: tokens,
                    total_tokens: tokens,
                    ..Default::default()
                };
                gateway.metrics.tokens(&usage);
                record.usage(&usage, embeddings.details.cost_usd);
                record.answered();
                Ok((request, model.name.clone(), embeddings))
            }
            Err(error) => {
                record.failed(&error);
                Err(error)
            }
        }
    }
}
