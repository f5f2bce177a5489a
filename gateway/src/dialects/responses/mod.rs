//! OpenAI Responses: `POST /v1/responses`, whole or streamed, what Codex CLI and the OpenAI
//! Agents SDK speak. Stateless: the client sends the whole conversation each time
//! (`store: false`), reasoning included as `encrypted_content` (see `carried_reasoning`).

mod carried_reasoning;
mod reply;
mod request;
mod wire;

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::errors::ApiError;
use crate::image_urls::Fetched;
use crate::model_call::{self, Dialect, Streamed, Target};
use crate::state::Gateway;
use host_sdk::WholeAnswer;
use wire::ResponsesRequest;

/// The Responses dialect.
struct Responses;

impl Dialect for Responses {
    type Request = ResponsesRequest;
    const REQUEST: &'static str = "a Responses API request";

    fn model(request: &ResponsesRequest) -> &str {
        &request.model
    }

    fn image_urls(request: &ResponsesRequest) -> Vec<(String, String)> {
        request::image_urls(request)
    }

    fn to_converse(
        request: &ResponsesRequest,
        target: Target,
        fetched: &Fetched,
        _headers: &axum::http::HeaderMap,
    ) -> Result<host_sdk::ConverseRequest, ApiError> {
        request::to_converse(request, target.id, fetched)
    }
}

/// `POST /v1/responses`.
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
    let prepared = model_call::prepare::<Responses>(gateway, request, "/v1/responses").await?;
    let settings = reply::Settings::of(&prepared.request, request::tool_kinds(&prepared.request));
    if !prepared.request.stream {
        let call = prepared.call::<WholeAnswer>(gateway).await?;
        let served = call.served.clone();
        let completion = call.whole().await?;
        let response = reply::whole(settings, &completion);
        return Ok(model_call::naming_served(response, &served));
    }
    let call = prepared.call::<Streamed>(gateway).await?;
    let served = call.served.clone();
    Ok(model_call::naming_served(
        call.sse(reply::Stream::new(settings)),
        &served,
    ))
}
