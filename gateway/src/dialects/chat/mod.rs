//! OpenAI Chat Completions: `POST /v1/chat/completions`, whole or streamed.

mod reply;
mod request;
mod wire;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::errors::ApiError;
use crate::image_urls::Fetched;
use crate::model_call::{self, Dialect, Streamed, Target};
use crate::state::Gateway;
use host_sdk::WholeAnswer;

use wire::ChatRequest;

/// The Chat Completions dialect.
pub struct Chat;

impl Dialect for Chat {
    type Request = ChatRequest;
    const REQUEST: &'static str = "a chat completion request";

    fn model(request: &ChatRequest) -> &str {
        &request.model
    }

    fn image_urls(request: &ChatRequest) -> Vec<(String, String)> {
        request::image_urls(request)
    }

    fn to_converse(
        request: &ChatRequest,
        target: Target,
        fetched: &Fetched,
        _headers: &axum::http::HeaderMap,
    ) -> Result<host_sdk::ConverseRequest, ApiError> {
        request::to_converse(request, target.id, fetched)
    }
}

/// `POST /v1/chat/completions`.
pub async fn handle(
    State(gateway): State<Arc<Gateway>>,
    request: axum::extract::Request,
) -> Response {
    let result = answer(&gateway, request).await;
    model_call::answered(&gateway, result, ApiError::into_response)
}

async fn answer(
    gateway: &Arc<Gateway>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let prepared = model_call::prepare::<Chat>(gateway, request, "/v1/chat/completions").await?;
    let id = format!("chatcmpl-{:016x}", fastrand::u64(..));
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if !prepared.request.stream {
        let call = prepared.call::<WholeAnswer>(gateway).await?;
        let (model, served) = (call.request.model.clone(), call.served.clone());
        let completion = call.whole().await?;
        let response = Json(reply::response(&id, created, &model, &completion)).into_response();
        return Ok(model_call::naming_served(response, &served));
    }
    let call = prepared.call::<Streamed>(gateway).await?;
    let chat = &call.request;
    let served = call.served.clone();
    let include_usage = chat
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    let chunks = reply::Chunks::new(id, created, chat.model.clone(), include_usage);
    Ok(model_call::naming_served(call.sse(chunks), &served))
}
