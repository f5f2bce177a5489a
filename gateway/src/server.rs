//! The HTTP surface: `GET /healthz`, `GET /v1/models` (and one by name, in OpenAI's or
//! Anthropic's shape), the dialects' model calls (`POST /v1/chat/completions`,
//! `/v1/responses`, `/v1/messages`, `/v1/messages/count_tokens`: see `dialects`) and
//! `GET /metrics`, behind client API keys compared in constant time (see `front_door` for
//! what every request passes first). Every refusal, an unknown route included, is an error
//! document in the shape of the dialect its path belongs to (OpenAI's unless `/v1/messages`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::dialects::{chat, embeddings, messages, responses};
use crate::errors::ApiError;
use crate::front_door::authorize;
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::model_list;
use crate::state::{Gateway, MetricsAccess};

pub fn router(gateway: Arc<Gateway>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/models", get(model_list::list))
        .route("/v1/models/{*name}", get(model_list::one))
        .route("/v1/chat/completions", post(chat::handle))
        .route("/v1/responses", post(responses::handle))
        .route("/v1/messages", post(messages::handle))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/v1/embeddings", post(embeddings::handle));
    if !matches!(gateway.metrics_access, MetricsAccess::Elsewhere) {
        router = router.route("/metrics", get(metrics));
    }
    if gateway.admin_key.is_some() {
        router = router.route("/admin/keys", get(admin_keys));
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

/// A refusal at the door, in the shape of the dialect the path belongs to.
fn refusal(path: &str, error: ApiError) -> Response {
    if path.starts_with("/v1/messages") {
        messages::error_response(error)
    } else {
        error.into_response()
    }
}

/// `GET /admin/keys`, with the admin key only: every client key by its id (never the key),
/// its models, limits and budget, and what it used this minute and spent this period.
async fn admin_keys(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let allowed = gateway.admin_key.as_deref().is_some_and(|key| {
        crate::front_door::presented_key(&headers)
            .is_some_and(|presented| Keys::same(key, presented))
    });
    if !allowed {
        return ApiError::unauthorized("/admin/keys needs the admin key (--admin-key-file)")
            .into_response();
    }
    let mut keys = Vec::new();
    for policy in gateway.keys.policies() {
        let usage = if policy.counted() {
            gateway.ledger.usage(policy).await
        } else {
            None
        };
        let mut entry = serde_json::to_value(policy).unwrap_or_default();
        entry["usage"] = usage.unwrap_or(serde_json::Value::Null);
        keys.push(entry);
    }
    axum::Json(serde_json::json!({
        "store": if gateway.ledger.shared() { "redis" } else { "process" },
        "keys": keys,
    }))
    .into_response()
}

async fn no_route(method: Method, uri: Uri) -> Response {
    refusal(uri.path(), ApiError::no_route(method.as_str(), uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> Response {
    refusal(
        uri.path(),
        ApiError::wrong_method(method.as_str(), uri.path()),
    )
}

/// Counts every answer by status (refusals at the door included) and writes one structured
/// line per request (method, path, status, the key's id, time to the response's start),
/// unless the model call writes its own when its answer ends (`LoggedAtEnd`, with tokens,
/// cost and models); never a header, so never a key.
async fn count_and_log(
    State(gateway): State<Arc<Gateway>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let presented = crate::front_door::presented_key(request.headers()).map(str::to_string);
    let response = next.run(request).await;
    let status = response.status().as_u16();
    gateway.metrics.request(status);
    if response
        .extensions()
        .get::<crate::model_call::LoggedAtEnd>()
        .is_none()
    {
        // The key's id only for the lines written here: a model call's own line has it.
        let key = gateway
            .keys
            .policy_of(presented.as_deref())
            .map(|policy| policy.id.clone());
        tracing::info!(
            target: "gateway::access",
            %method,
            path,
            status,
            key = key.as_deref().unwrap_or("-"),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "request"
        );
    }
    response
}
