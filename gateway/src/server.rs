//! The HTTP surface: `GET /healthz`, `GET /v1/models` (and one by name), `POST
//! /v1/chat/completions` (JSON or server-sent events) and `GET /metrics`, behind client API
//! keys compared in constant time (see `front_door` for what every request passes first).
//! Every refusal, an unknown route included, is an OpenAI error document.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use host_sdk::{Event, EventStream};
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::front_door::{authorize, read_json_body, AllowedHosts, BodyLimits};
use crate::image_urls::{Fetched, ImageFetcher};
use crate::keys::Keys;
use crate::metrics::{InFlight, Metrics};
use crate::openai::{self, ChatRequest};
use crate::registry::Registry;

/// Who may read `/metrics`.
#[derive(Clone, Debug)]
pub enum MetricsAccess {
    /// Whoever may use the gateway (any client key; everyone on a gateway without keys).
    ClientKeys,
    /// Only requests with this key (`--metrics-key-file`).
    Key(String),
    /// Not on this listener: `--metrics-listen` serves it on its own address.
    Elsewhere,
}

/// The limits one request is held to.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    pub body: BodyLimits,
    /// How long the model may take to send its first output; until then the HTTP status is
    /// not committed, so a failure before any output is a proper HTTP error.
    pub first_byte_timeout: std::time::Duration,
    /// How long one request may take in all.
    pub request_timeout: std::time::Duration,
    /// How long a request may wait for room when the most model calls are in flight; then
    /// it is shed with a 503.
    pub queue_timeout: std::time::Duration,
}

pub struct Gateway {
    /// The registry new requests use; a request keeps the one it started with.
    pub registry: std::sync::RwLock<Arc<Registry>>,
    /// What a reload loads again.
    pub plugin_paths: Vec<std::path::PathBuf>,
    pub config: String,
    /// Plugins' configuration warnings are logged rather than fatal (`--lenient-config`).
    pub lenient_config: bool,
    /// `gateway.aliases`: short names for models.
    pub aliases: std::collections::BTreeMap<String, Vec<String>>,
    /// Client API keys; none means no key is required (loopback demos).
    pub keys: Keys,
    pub metrics: Arc<Metrics>,
    pub limits: RequestLimits,
    pub metrics_access: MetricsAccess,
    /// Room for model calls in flight (`--max-in-flight`): past it, requests wait briefly,
    /// then are shed, so the ones accepted keep their latency.
    pub admission: Arc<tokio::sync::Semaphore>,
    pub max_in_flight: usize,
    /// The `Host` names requests may give.
    pub allowed_hosts: Arc<AllowedHosts>,
    /// Origins whose pages may call the gateway (`--cors-origin`); none: no CORS at all.
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// Fetches images given by URL (`--allow-image-urls`); none refuses them.
    pub images: Option<ImageFetcher>,
}

impl Gateway {
    /// The registry as it is now.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Loads the plugin files again (those that changed on disk from fresh copies); new
    /// requests use the result, streams in flight keep theirs. On failure nothing changes.
    pub fn reload(&self) -> Result<(), String> {
        let next = Registry::load(&self.plugin_paths, &self.config, self.lenient_config)?
            .with_aliases(self.aliases.clone())?;
        *self
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        Ok(())
    }
}

pub fn router(gateway: Arc<Gateway>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/models", get(models))
        .route("/v1/models/{*name}", get(model))
        .route("/v1/chat/completions", post(chat));
    if !matches!(gateway.metrics_access, MetricsAccess::Elsewhere) {
        router = router.route("/metrics", get(metrics));
    }
    let mut router = router
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            count_and_log,
        ))
        .layer(axum::middleware::from_fn_with_state(
            gateway.allowed_hosts.clone(),
            crate::front_door::check_host,
        ));
    if !gateway.cors_origins.is_empty() {
        router = router.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(gateway.cors_origins.clone())
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::CONTENT_TYPE,
                ]),
        );
    }
    router.with_state(gateway)
}

/// `/metrics` alone, for `--metrics-listen`.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || async move { metrics_text(&metrics) }),
    )
}

fn metrics_text(metrics: &Metrics) -> Response {
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render(),
    )
        .into_response()
}

async fn metrics(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let allowed = match &gateway.metrics_access {
        MetricsAccess::Key(key) => crate::front_door::presented_key(&headers)
            .is_some_and(|presented| Keys::same(key, presented)),
        _ => authorize(&gateway.keys, &headers, None).is_ok(),
    };
    if allowed {
        metrics_text(&gateway.metrics)
    } else {
        ApiError::unauthorized("/metrics needs the metrics key (or a client key)").into_response()
    }
}

async fn no_route(method: Method, uri: Uri) -> Response {
    ApiError::no_route(method.as_str(), uri.path()).into_response()
}

async fn wrong_method(method: Method, uri: Uri) -> Response {
    ApiError::wrong_method(method.as_str(), uri.path()).into_response()
}

/// Counts every answer by status (refusals at the door included) and writes one structured
/// line per request (method, path, status, time to the response's start); never a header,
/// so never a key.
async fn count_and_log(
    State(gateway): State<Arc<Gateway>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    gateway.metrics.request(status);
    tracing::info!(
        target: "gateway::access",
        %method,
        path,
        status,
        ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    response
}

async fn models(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&gateway.keys, &headers, None) {
        return e.into_response();
    }
    let registry = gateway.registry();
    // A key limited to some models sees those.
    let data: Vec<Value> = registry
        .models()
        .filter(|(name, _)| authorize(&gateway.keys, &headers, Some(name)).is_ok())
        .map(|(name, info)| model_json(name, info))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

/// `GET /v1/models/{provider/model}` (or a bare, unambiguous model id).
async fn model(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let found = || {
        authorize(&gateway.keys, &headers, None)?;
        let registry = gateway.registry();
        let (_, _, full) = registry.resolve(&name).map_err(ApiError::unknown_model)?;
        let info = registry.model(&full).ok_or_else(|| {
            ApiError::unknown_model(format!(
                "no provider lists the model `{name}`: GET /v1/models lists them"
            ))
        })?;
        authorize(&gateway.keys, &headers, Some(&full))?;
        Ok::<_, ApiError>(model_json(&full, info))
    };
    match found() {
        Ok(model) => Json(model).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A model as OpenAI's API lists it, with its name and context window besides.
fn model_json(name: &str, info: &host_sdk::ModelInfo) -> Value {
    json!({
        "id": name,
        "object": "model",
        "created": 0,
        "owned_by": name.split('/').next().unwrap_or(""),
        "name": info.name.as_str(),
        "context_window": info.context_window,
    })
}

async fn chat(State(gateway): State<Arc<Gateway>>, request: axum::extract::Request) -> Response {
    match chat_inner(&gateway, request).await {
        Ok(response) => response,
        Err(e) => {
            gateway.metrics.error(&e.code);
            e.into_response()
        }
    }
}

async fn chat_inner(
    gateway: &Arc<Gateway>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
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
    let chat: ChatRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a chat completion request: {e}"
        ))
    })?;
    drop(body);
    let registry = gateway.registry();
    let (provider, model_id, name) = registry
        .resolve(&chat.model)
        .map_err(ApiError::unknown_model)?;
    authorize(&gateway.keys, headers, Some(&name))?;
    let fetched = match &gateway.images {
        Some(images) => images.fetch_all(openai::image_urls(&chat)).await?,
        None => Fetched::new(),
    };
    let request = openai::to_converse(&chat, model_id, &fetched)?;
    drop(fetched);
    let mut events = provider
        .converse_stream(&request)
        .map_err(|e| ApiError::from(&e))?;
    drop(request);
    let id = format!("chatcmpl-{:016x}", fastrand::u64(..));
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // The status waits for the model's first output (or its failure): a failure before any
    // output, retries included, is an HTTP error with its own status, not a 200 stream.
    let (before, first) = first_output(gateway, deadline, &mut events).await?;
    gateway.metrics.first_token(started.elapsed().as_secs_f64());
    if let Event::Failed(e) = &first {
        return Err(ApiError::from(&e.error));
    }
    if !chat.stream {
        let mut next = Some(first);
        loop {
            match next {
                Some(Event::Completed(c)) => {
                    if let Some(usage) = &c.usage {
                        gateway.metrics.tokens(usage);
                    }
                    return Ok(
                        Json(openai::response(&id, created, &chat.model, &c)).into_response()
                    );
                }
                Some(Event::Failed(e)) => return Err(ApiError::from(&e.error)),
                None => {
                    return Err(ApiError::from(&host_sdk::Error::new(
                        host_sdk::ErrorKind::Internal,
                        "the stream ended without a result",
                    )))
                }
                Some(_) => next = next_before(deadline, &mut events).await?,
            }
        }
    }
    let include_usage = chat.stream_options.is_some_and(|o| o.include_usage);
    let chunks = Chunks {
        head: chunk_head(&id, created, &chat.model),
        id,
        created,
        model: chat.model.clone(),
        include_usage,
        tool_calls: HashMap::new(),
        gateway: gateway.clone(),
        _in_flight: in_flight,
        _admitted: admitted,
    };
    let stream = sse(before.into_iter().chain([first]), events, chunks, deadline);
    Ok(Sse::new(stream).into_response())
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

/// The events up to and including the first that carries output or ends the stream, waiting
/// at most `--first-byte-timeout` (and never past `deadline`).
async fn first_output(
    gateway: &Gateway,
    deadline: tokio::time::Instant,
    events: &mut EventStream,
) -> Result<(Vec<Event>, Event), ApiError> {
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
            Some(e) => return Ok((before, e)),
            None => {
                return Err(ApiError::from(&host_sdk::Error::new(
                    host_sdk::ErrorKind::Internal,
                    "the stream ended without a result",
                )))
            }
        }
    }
}

/// The stream's next event, unless `deadline` comes first: then the stream is dropped, which
/// cancels it in the plugin.
async fn next_before(
    deadline: tokio::time::Instant,
    events: &mut EventStream,
) -> Result<Option<Event>, ApiError> {
    tokio::time::timeout_at(deadline, events.next())
        .await
        .map_err(|_| ApiError::timed_out())
}

/// Turns the contract's events into OpenAI stream chunks.
struct Chunks {
    /// The start every chunk of this answer shares, serialised once: a stream may have
    /// tens of thousands of chunks.
    head: String,
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    /// Tool calls by block index: their position among the answer's tool calls.
    tool_calls: HashMap<u32, usize>,
    gateway: Arc<Gateway>,
    /// Counts the stream in flight until the client has it all (or goes away).
    _in_flight: InFlight,
    /// Its room among the model calls in flight, given back when the stream ends.
    _admitted: tokio::sync::OwnedSemaphorePermit,
}

/// `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[{"index":0,"delta":`
fn chunk_head(id: &str, created: u64, model: &str) -> String {
    let mut head =
        json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model})
            .to_string();
    head.pop(); // the closing brace
    head.push_str(r#","choices":[{"index":0,"delta":"#);
    head
}

/// The delta of a text chunk.
#[derive(serde::Serialize)]
struct ContentDelta<'a> {
    content: &'a str,
}

/// The delta of a reasoning chunk, named as DeepSeek-style clients expect.
#[derive(serde::Serialize)]
struct ReasoningContentDelta<'a> {
    reasoning_content: &'a str,
}

impl Chunks {
    /// One `chat.completion.chunk` carrying `delta`.
    fn chunk(&self, delta: &impl serde::Serialize, finish: Option<&str>) -> String {
        let delta = serde_json::to_string(delta).unwrap_or_else(|_| "{}".into());
        let finish = serde_json::to_string(&finish).unwrap_or_else(|_| "null".into());
        let mut chunk = String::with_capacity(self.head.len() + delta.len() + 40);
        chunk.push_str(&self.head);
        chunk.push_str(&delta);
        chunk.push_str(r#","finish_reason":"#);
        chunk.push_str(&finish);
        chunk.push_str("}]}");
        chunk
    }

    /// The chunks one event becomes (`None`: the stream is over).
    fn of(&mut self, event: Event) -> Option<Vec<String>> {
        Some(match event {
            Event::MessageStart => {
                vec![self.chunk(&json!({"role": "assistant", "content": ""}), None)]
            }
            Event::TextDelta { text, .. } => {
                vec![self.chunk(&ContentDelta { content: &text }, None)]
            }
            Event::ReasoningDelta { text, .. } => vec![self.chunk(
                &ReasoningContentDelta {
                    reasoning_content: &text,
                },
                None,
            )],
            Event::ToolUseStart { index, id, name } => {
                let position = self.tool_calls.len();
                self.tool_calls.insert(index, position);
                vec![self.chunk(
                    &json!({"tool_calls": [{"index": position, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                    None,
                )]
            }
            Event::ToolUseInputDelta { index, fragment } => {
                let position = self.tool_calls.get(&index).copied().unwrap_or(0);
                vec![self.chunk(
                    &json!({"tool_calls": [{"index": position, "function": {"arguments": fragment}}]}),
                    None,
                )]
            }
            Event::MessageStop { reason } => {
                vec![self.chunk(&json!({}), Some(openai::finish_reason(Some(&reason))))]
            }
            Event::Usage { usage, .. } if self.include_usage => {
                self.gateway.metrics.tokens(&usage);
                vec![json!({
                    "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                    "model": self.model, "choices": [], "usage": openai::usage(&usage),
                })
                .to_string()]
            }
            Event::Usage { usage, .. } => {
                self.gateway.metrics.tokens(&usage);
                Vec::new()
            }
            Event::Completed(_) => return None,
            Event::Failed(e) => {
                let error = ApiError::from(&e.error);
                self.gateway.metrics.error(&error.code);
                vec![error.body().to_string()]
            }
            _ => Vec::new(),
        })
    }
}

/// hyper gathers the chunks that are ready into one write of up to about 400 KB, so a burst
/// of deltas would wait for that much to pile up. Giving way lets it write what it has: after
/// each of the first two chunks (the role, then the first delta: the time to first token),
/// then every [`FLUSH_BYTES`].
struct Written {
    chunks: usize,
    unflushed: usize,
}

const FLUSH_BYTES: usize = 16 * 1024;

impl Written {
    async fn let_hyper_write(&mut self) {
        if self.unflushed > 0 && (self.chunks <= 2 || self.unflushed >= FLUSH_BYTES) {
            tokio::task::yield_now().await;
            self.unflushed = 0;
        }
    }

    fn add(&mut self, chunks: &[String]) {
        self.chunks += chunks.len();
        self.unflushed += chunks.iter().map(String::len).sum::<usize>();
    }
}

/// The SSE body: every chunk, then `[DONE]`; or an error event, when the stream fails or
/// runs past `deadline`. A client that goes away drops it, and with it (cancelled) the
/// plugin's stream.
fn sse(
    first: impl Iterator<Item = Event> + Send + 'static,
    events: EventStream,
    chunks: Chunks,
    deadline: tokio::time::Instant,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let rest = futures::stream::iter(first).chain(events);
    // One timer for the whole stream, not one per event.
    let timer = Box::pin(tokio::time::sleep_until(deadline));
    let state = Written {
        chunks: 0,
        unflushed: 0,
    };
    futures::stream::unfold(
        (rest, chunks, timer, state, false),
        |(mut rest, mut chunks, mut timer, mut written, over)| async move {
            if over {
                return None;
            }
            written.let_hyper_write().await;
            let event = tokio::select! {
                biased;
                event = rest.next() => event?,
                () = &mut timer => {
                    let error = ApiError::timed_out();
                    chunks.gateway.metrics.error(&error.code);
                    let item = Ok(SseEvent::default().data(error.body().to_string()));
                    return Some((
                        futures::stream::iter(vec![item]),
                        (rest, chunks, timer, written, true),
                    ));
                }
            };
            let failed = matches!(event, Event::Failed(_));
            // A failure after the first chunk ends the stream with an error event; the end
            // of a successful one is `[DONE]`.
            let (data, over) = match chunks.of(event) {
                Some(batch) => (batch, failed),
                None => (vec!["[DONE]".to_string()], true),
            };
            written.add(&data);
            let items: Vec<Result<SseEvent, Infallible>> = data
                .into_iter()
                .map(|d| Ok(SseEvent::default().data(d)))
                .collect();
            Some((
                futures::stream::iter(items),
                (rest, chunks, timer, written, over),
            ))
        },
    )
    .flatten()
}
