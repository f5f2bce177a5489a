//! The HTTP surface: `GET /healthz`, `GET /v1/models` (and one by name), `POST
//! /v1/chat/completions` (JSON or server-sent events), behind client API keys compared in
//! constant time.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use host_sdk::{Event, EventStream};
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::image_urls::{Fetched, ImageFetcher};
use crate::keys::{Denied, Keys};
use crate::metrics::{InFlight, Metrics};
use crate::openai::{self, ChatRequest};
use crate::registry::Registry;

/// The largest request body accepted (images travel inline as data URLs).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

pub struct Gateway {
    /// The registry new requests use; a request keeps the one it started with.
    pub registry: std::sync::RwLock<Arc<Registry>>,
    /// What a reload loads again.
    pub plugin_paths: Vec<std::path::PathBuf>,
    pub config: String,
    /// Client API keys; none means no key is required (loopback demos).
    pub keys: Keys,
    pub metrics: Metrics,
    /// How long one request may take in all, first byte to last; then its stream is
    /// cancelled in the plugin and the client gets a timeout (504, or an error event).
    pub request_timeout: std::time::Duration,
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
        let current = self.registry();
        let next = Registry::load(&self.plugin_paths, &self.config, Some(&current))?;
        *self
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        Ok(())
    }
}

pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/models", get(models))
        .route("/v1/models/{*name}", get(model))
        .route(
            "/metrics",
            get(|State(gateway): State<Arc<Gateway>>| async move {
                (
                    [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                    gateway.metrics.render(),
                )
            }),
        )
        .route("/v1/chat/completions", post(chat))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(access_log))
        .with_state(gateway)
}

/// One structured line per request (method, path, status, time to the response's start);
/// never a header, so never a key.
async fn access_log(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    tracing::info!(
        target: "gateway::access",
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// Checks the bearer key (and, for a model call, that the key may use `model`).
fn authorize(gateway: &Gateway, headers: &HeaderMap, model: Option<&str>) -> Result<(), ApiError> {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match gateway.keys.check(presented, model) {
        Ok(()) => Ok(()),
        Err(Denied::Unknown) if presented.is_none() => Err(ApiError::unauthorized(
            "missing API key: send `Authorization: Bearer <key>`",
        )),
        Err(Denied::Unknown) => Err(ApiError::unauthorized("the API key is not valid")),
        Err(Denied::Model) => Err(ApiError::forbidden(format!(
            "this API key may not use the model `{}`",
            model.unwrap_or("")
        ))),
    }
}

async fn models(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&gateway, &headers, None) {
        return e.into_response();
    }
    let registry = gateway.registry();
    // A key limited to some models sees those.
    let data: Vec<Value> = registry
        .models()
        .filter(|(name, _)| authorize(&gateway, &headers, Some(name)).is_ok())
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
        authorize(&gateway, &headers, None)?;
        let registry = gateway.registry();
        let (_, _, full) = registry.resolve(&name).map_err(ApiError::unknown_model)?;
        let info = registry.model(&full).ok_or_else(|| {
            ApiError::unknown_model(format!(
                "no provider lists the model `{name}`: GET /v1/models lists them"
            ))
        })?;
        authorize(&gateway, &headers, Some(&full))?;
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

async fn chat(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let response = match chat_inner(&gateway, &headers, &body).await {
        Ok(response) => response,
        Err(e) => {
            gateway.metrics.error(&e.code);
            e.into_response()
        }
    };
    gateway.metrics.request(response.status().as_u16());
    response
}

async fn chat_inner(
    gateway: &Arc<Gateway>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + gateway.request_timeout;
    let in_flight = gateway.metrics.in_flight();
    authorize(gateway, headers, None)?;
    let chat: ChatRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a chat completion request: {e}"
        ))
    })?;
    let registry = gateway.registry();
    let (provider, model_id, name) = registry
        .resolve(&chat.model)
        .map_err(ApiError::unknown_model)?;
    authorize(gateway, headers, Some(&name))?;
    let fetched = match &gateway.images {
        Some(images) => images.fetch_all(&chat).await?,
        None => Fetched::new(),
    };
    let request = openai::to_converse(&chat, model_id, &fetched)?;
    let mut events = provider
        .converse_stream(&request)
        .map_err(|e| ApiError::from(&e))?;
    let id = format!("chatcmpl-{:016x}", fastrand::u64(..));
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // The first event decides the status: a failure before anything was produced is an
    // HTTP error, not a stream that fails.
    let first = next_before(deadline, &mut events).await?;
    gateway.metrics.first_token(started.elapsed().as_secs_f64());
    if let Some(Event::Failed(e)) = &first {
        return Err(ApiError::from(&e.error));
    }
    if !chat.stream {
        let mut next = first;
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
    };
    let stream = sse(first, events, chunks, deadline);
    Ok(Sse::new(stream).into_response())
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
    first: Option<Event>,
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
