//! OpenAI Embeddings: `POST /v1/embeddings`, what OpenAI's SDKs, LangChain and most vector
//! stores call. The key, room, limits and budget are checked as for a chat call
//! ([`model_call::gate`]); the model is one the providers list as embedding.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use host_sdk::{EmbeddingPurpose, EmbeddingRequest, Embeddings};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::model_call::{self, Listed};
use crate::state::Gateway;

/// The most inputs one request may hold (OpenAI's own limit).
const MAX_INPUTS: usize = 2048;

/// `POST /v1/embeddings`, as clients send it (fields the gateway does not use are ignored,
/// as OpenAI's API ignores unknown ones).
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    pub model: String,
    /// A string, or a list of strings (token arrays are refused).
    pub input: Value,
    #[serde(default)]
    pub dimensions: Option<u32>,
    /// `float` (the default) or `base64` (what OpenAI's Python client asks for).
    #[serde(default)]
    pub encoding_format: Option<String>,
    /// Beyond OpenAI's shape, as LiteLLM takes it: what the vectors are for, on models that
    /// distinguish it (`search_document`, `search_query`, `classification`, `clustering`).
    #[serde(default)]
    pub input_type: Option<String>,
}

/// `POST /v1/embeddings`.
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
    let gated = model_call::gate::<EmbeddingsRequest>(
        gateway,
        request,
        "/v1/embeddings",
        "an embeddings request",
        |r| &r.model,
        Listed::Embedding,
    )
    .await?;
    let embedding = to_contract(&gated.request)?;
    let base64 = match gated.request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "encoding_format `{other}` is not one of float, base64"
            )))
        }
    };
    let (request, served, embeddings) = gated.embed(gateway, embedding).await?;
    let body = Json(response(&request.model, &embeddings, base64)).into_response();
    Ok(model_call::naming_served(body, &served))
}

/// The contract's request for `request` (its model is named by the call).
fn to_contract(request: &EmbeddingsRequest) -> Result<EmbeddingRequest, ApiError> {
    let token_arrays = || {
        ApiError::bad_request(
            "`input` holds token arrays; this gateway embeds text: send the strings themselves",
        )
    };
    let texts: Vec<String> = match &request.input {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) if items.is_empty() => {
            return Err(ApiError::bad_request(
                "`input` is empty: give at least one string",
            ))
        }
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                Value::Number(_) | Value::Array(_) => Err(token_arrays()),
                _ => Err(ApiError::bad_request(
                    "`input` must be a string or a list of strings",
                )),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::bad_request(
                "`input` must be a string or a list of strings",
            ))
        }
    };
    if texts.len() > MAX_INPUTS {
        return Err(ApiError::bad_request(format!(
            "`input` holds {} strings; send at most {MAX_INPUTS} a request",
            texts.len()
        )));
    }
    let purpose = match request.input_type.as_deref() {
        None => None,
        Some("search_document" | "document") => Some(EmbeddingPurpose::Document),
        Some("search_query" | "query") => Some(EmbeddingPurpose::Query),
        Some("classification") => Some(EmbeddingPurpose::Classification),
        Some("clustering") => Some(EmbeddingPurpose::Clustering),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "input_type `{other}` is not one of search_document, search_query, classification, clustering"
            )))
        }
    };
    Ok(EmbeddingRequest {
        purpose,
        dimensions: request.dimensions,
        ..EmbeddingRequest::texts(String::new(), texts)
    })
}

/// OpenAI's list of embeddings; with `base64`, each vector as its little-endian 32-bit
/// floats, base64-encoded (what OpenAI's clients decode).
fn response(model: &str, embeddings: &Embeddings, base64: bool) -> Value {
    let data: Vec<Value> = embeddings
        .vectors()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    let tokens = embeddings.details.input_tokens;
    json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": tokens, "total_tokens": tokens },
    })
}
