//! Anthropic Messages: `POST /v1/messages` (whole or streamed) and
//! `POST /v1/messages/count_tokens`, what Claude Code and Anthropic's SDKs speak. The key
//! may come as `x-api-key` or `Authorization: Bearer`; `anthropic-version` is accepted as
//! sent; `anthropic-beta` is read by `betas`.

mod betas;
mod errors;
mod reply;
mod request;
mod wire;

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub use errors::error_response;

use crate::errors::ApiError;
use crate::image_urls::Fetched;
use crate::model_call::{self, Dialect, Streamed, Target};
use crate::state::Gateway;
use host_sdk::WholeAnswer;
use request::Purpose;
use wire::MessagesRequest;

/// The Messages dialect: a model call (`COUNT_TOKENS` false), or a token count (true:
/// `max_tokens` is not needed).
struct Messages<const COUNT_TOKENS: bool>;

impl<const COUNT_TOKENS: bool> Dialect for Messages<COUNT_TOKENS> {
    type Request = MessagesRequest;
    const REQUEST: &'static str = "a Messages API request";

    fn model(request: &MessagesRequest) -> &str {
        &request.model
    }

    fn image_urls(request: &MessagesRequest) -> Vec<(String, String)> {
        request::image_urls(request)
    }

    fn to_converse(
        request: &MessagesRequest,
        target: Target,
        fetched: &Fetched,
        headers: &HeaderMap,
    ) -> Result<host_sdk::ConverseRequest, ApiError> {
        let betas = betas::Betas::of(headers);
        let purpose = if COUNT_TOKENS {
            Purpose::CountTokens
        } else {
            Purpose::Answer
        };
        request::to_converse(request, target, fetched, &betas, purpose)
    }
}

/// `POST /v1/messages`.
pub async fn handle(
    State(gateway): State<Arc<Gateway>>,
    request: axum::extract::Request,
) -> Response {
    let result = answer(&gateway, request).await;
    model_call::answered(&gateway, result, error_response)
}

/// `POST /v1/messages/count_tokens`.
pub async fn count_tokens(
    State(gateway): State<Arc<Gateway>>,
    request: axum::extract::Request,
) -> Response {
    let counted = async {
        let tokens =
            model_call::prepare::<Messages<true>>(&gateway, request, "/v1/messages/count_tokens")
                .await?
                .count_tokens()
                .await?;
        Ok(Json(serde_json::json!({"input_tokens": tokens})).into_response())
    };
    model_call::answered(&gateway, counted.await, error_response)
}

async fn answer(
    gateway: &Arc<Gateway>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let prepared = model_call::prepare::<Messages<false>>(gateway, request, "/v1/messages").await?;
    let id = format!("msg_gw{:016x}{:08x}", fastrand::u64(..), fastrand::u32(..));
    let model = prepared.request.model.clone();
    if !prepared.request.stream {
        let call = prepared.call::<WholeAnswer>(gateway).await?;
        let served = call.served.clone();
        let completion = call.whole().await?;
        let response = Json(reply::Message::of(&id, &model, &completion)).into_response();
        return Ok(model_call::naming_served(response, &served));
    }
    let call = prepared.call::<Streamed>(gateway).await?;
    let served = call.served.clone();
    Ok(model_call::naming_served(
        call.sse(reply::Stream::new(id, model)),
        &served,
    ))
}
