//! The shared core of every dialect's model call: what a request passes before the model is
//! called (the key, room among the calls in flight, the body, the model's name and the key's
//! right to it, fetched images), the call itself, and the wait for its first output, which
//! decides the HTTP status. A dialect supplies its request type and its mapping to the
//! contract ([`Dialect`]); what it sends back is its own (a whole answer from
//! [`Call::whole`], or server-sent events through [`sse::Frames`]).

pub mod sse;

use std::sync::Arc;

use axum::http::HeaderMap;
use futures::StreamExt;
use host_sdk::{Completion, ConverseRequest, Event, EventStream, Provider};

use crate::errors::ApiError;
use crate::front_door::{authorize, read_json_body};
use crate::image_urls::Fetched;
use crate::metrics::InFlight;
use crate::server::Gateway;

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

/// The model a request goes to, as its provider lists it.
pub struct Target {
    /// The provider's id for it (what the contract's request names).
    pub id: String,
    /// Its vendor (`Anthropic`, `Amazon`, ...; empty when unknown), for options only one
    /// vendor's models take.
    pub vendor: String,
}

/// The response to a model call: the answer, or its failure counted in the metrics and sent
/// in the dialect's error shape (`error_response`).
pub fn answered(
    gateway: &Gateway,
    result: Result<axum::response::Response, ApiError>,
    error_response: fn(ApiError) -> axum::response::Response,
) -> axum::response::Response {
    match result {
        Ok(response) => response,
        Err(e) => {
            gateway.metrics.error(&e.code);
            error_response(e)
        }
    }
}

/// A request past every check, with the contract's request built and room held for it.
pub struct Prepared<R> {
    /// The dialect's request, as the client sent it.
    pub request: R,
    pub converse: ConverseRequest,
    pub provider: Provider,
    /// When the request started, for the time to the first output.
    started: std::time::Instant,
    /// When the whole request must be over (`--request-timeout`).
    deadline: tokio::time::Instant,
    guards: Guards,
}

/// What a request holds until the client has its answer (or goes away).
struct Guards {
    /// Counts the request in flight.
    _in_flight: InFlight,
    /// Its room among the model calls in flight.
    _admitted: tokio::sync::OwnedSemaphorePermit,
}

/// Every check a model call passes, in the order that costs an unwelcome client least: the
/// key before the body, room before the body, the body within its limits, then the
/// dialect's request, the model and the key's right to it, and the images it names.
pub async fn prepare<D: Dialect>(
    gateway: &Arc<Gateway>,
    request: axum::extract::Request,
) -> Result<Prepared<D::Request>, ApiError> {
    let started = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + gateway.limits.request_timeout;
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    // The key before the body: a client without one costs no memory.
    authorize(&gateway.keys, headers, None)?;
    // Room first, then the body: a shed request costs no memory either.
    let admitted = admit(gateway).await?;
    let body = read_json_body(headers, body, gateway.limits.body).await?;
    let in_flight = gateway.metrics.in_flight();
    let request: D::Request = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("the request body is not {}: {e}", D::REQUEST))
    })?;
    drop(body);
    let registry = gateway.registry();
    let (provider, model_id, name) = registry
        .resolve(D::model(&request))
        .map_err(ApiError::unknown_model)?;
    authorize(&gateway.keys, headers, Some(&name))?;
    let provider = provider.clone();
    let target = Target {
        vendor: registry
            .model(&name)
            .map(|info| info.vendor.to_string())
            .unwrap_or_default(),
        id: model_id,
    };
    let fetched = match &gateway.images {
        Some(images) => images.fetch_all(D::image_urls(&request)).await?,
        None => Fetched::new(),
    };
    let converse = D::to_converse(&request, target, &fetched, headers)?;
    Ok(Prepared {
        request,
        converse,
        provider,
        started,
        deadline,
        guards: Guards {
            _in_flight: in_flight,
            _admitted: admitted,
        },
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
pub struct Call<R> {
    /// The dialect's request, as the client sent it.
    pub request: R,
    /// The events up to and including the first output, not yet sent.
    first: Vec<Event>,
    events: EventStream,
    deadline: tokio::time::Instant,
    gateway: Arc<Gateway>,
    guards: Guards,
}

impl<R> Prepared<R> {
    /// Calls the model and waits for its first output: a failure before it, retries
    /// included, is an HTTP error with its own status, not a 200 stream.
    pub async fn call(self, gateway: &Arc<Gateway>) -> Result<Call<R>, ApiError> {
        let Prepared {
            request,
            converse,
            provider,
            started,
            deadline,
            guards,
        } = self;
        let mut events = provider
            .converse_stream(&converse)
            .map_err(|e| ApiError::from(&e))?;
        drop(converse);
        let first = first_output(gateway, deadline, &mut events).await?;
        gateway.metrics.first_token(started.elapsed().as_secs_f64());
        if let Some(Event::Failed(e)) = first.last() {
            return Err(ApiError::from(&e.error));
        }
        Ok(Call {
            request,
            first,
            events,
            deadline,
            gateway: gateway.clone(),
            guards,
        })
    }

    /// How many input tokens the request would cost, counted by the provider without
    /// running the model.
    pub async fn count_tokens(self) -> Result<u64, ApiError> {
        let counted = tokio::time::timeout_at(
            self.deadline,
            self.provider.count_tokens_async(&self.converse),
        )
        .await
        .map_err(|_| ApiError::timed_out())?;
        counted.map_err(|e| ApiError::from(&e))
    }
}

impl<R> Call<R> {
    /// The whole answer: the stream read to its end (within the request's deadline).
    pub async fn whole(mut self) -> Result<Completion, ApiError> {
        let mut pending = std::mem::take(&mut self.first).into_iter();
        loop {
            let next = match pending.next() {
                Some(event) => Some(event),
                None => tokio::time::timeout_at(self.deadline, self.events.next())
                    .await
                    .map_err(|_| ApiError::timed_out())?,
            };
            match next {
                Some(Event::Completed(c)) => {
                    if let Some(usage) = &c.usage {
                        self.gateway.metrics.tokens(usage);
                    }
                    return Ok(c);
                }
                Some(Event::Failed(e)) => return Err(ApiError::from(&e.error)),
                None => return Err(ended_without_result()),
                Some(_) => {}
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
) -> Result<Vec<Event>, ApiError> {
    let first_byte = tokio::time::Instant::now() + gateway.limits.first_byte_timeout;
    let mut before = Vec::new();
    loop {
        let event = match tokio::time::timeout_at(first_byte.min(deadline), events.next()).await {
            Ok(event) => event,
            Err(_) if first_byte < deadline => {
                return Err(ApiError::no_first_byte(gateway.limits.first_byte_timeout))
            }
            Err(_) => return Err(ApiError::timed_out()),
        };
        match event {
            // Nothing a client would see yet: the start, a retry, timing.
            Some(e @ (Event::MessageStart | Event::Metrics { .. })) => before.push(e),
            Some(Event::Retry { .. }) => {}
            Some(e) => {
                before.push(e);
                return Ok(before);
            }
            None => return Err(ended_without_result()),
        }
    }
}
