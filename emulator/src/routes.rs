//! The single entry point for every HTTP request: reads the body, routes by method and
//! path, authenticates, records, and dispatches. Everything is handled here rather than by
//! axum's router so that even unknown paths and oversized bodies get the service's error shape.

use crate::auth;
use crate::config::MAX_BODY_BYTES;
use crate::error::ApiError;
use crate::json_http::decode_segment;
use crate::recorder::{redacted_headers, RecordedRequest};
use crate::state::State;
use crate::{control, runtime};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response};
use std::sync::Arc;
use std::time::SystemTime;

/// A recognised operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// GET /foundation-models
    ListFoundationModels,
    /// GET /inference-profiles
    ListInferenceProfiles,
    /// GET /inference-profiles/{id} (raw, still encoded)
    GetInferenceProfile(String),
    /// GET /foundation-models/{id} (raw, still encoded)
    GetFoundationModel(String),
    /// POST /model/{id}/count-tokens (raw id)
    CountTokens(String),
    /// POST /model/{id}/converse (raw id)
    Converse(String),
    /// POST /model/{id}/converse-stream (raw id)
    ConverseStream(String),
    /// POST /model/{id}/invoke (raw id): embedding models' and Anthropic's native bodies
    InvokeModel(String),
    /// POST /model/{id}/invoke-with-response-stream (raw id): Anthropic's native bodies
    InvokeModelWithResponseStream(String),
    /// POST /openai/v1/responses, /v1/responses, /openai/v1/chat/completions or
    /// /v1/chat/completions: the OpenAI-compatible APIs
    OpenAi(crate::openai::models::Api),
    /// GET /v1/models: Mantle's model list
    MantleModels,
    /// POST /guardrail/{id}/version/{version}/apply (raw id, version)
    ApplyGuardrail(String, String),
    /// POST /guardrail-checks/invoke
    InvokeGuardrailChecks,
    /// POST /async-invoke
    StartAsyncInvoke,
    /// GET /async-invoke/{invocationArn} (raw ARN)
    GetAsyncInvoke(String),
    /// GET /async-invoke
    ListAsyncInvokes,
}

impl Operation {
    /// The operation name used in recordings.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::ListFoundationModels => "ListFoundationModels",
            Operation::ListInferenceProfiles => "ListInferenceProfiles",
            Operation::GetInferenceProfile(_) => "GetInferenceProfile",
            Operation::GetFoundationModel(_) => "GetFoundationModel",
            Operation::CountTokens(_) => "CountTokens",
            Operation::Converse(_) => "Converse",
            Operation::ConverseStream(_) => "ConverseStream",
            Operation::InvokeModel(_) => "InvokeModel",
            Operation::InvokeModelWithResponseStream(_) => "InvokeModelWithResponseStream",
            Operation::OpenAi(
                crate::openai::models::Api::OpenAiChatCompletions
                | crate::openai::models::Api::ChatCompletions,
            ) => "ChatCompletions",
            Operation::OpenAi(_) => "CreateResponse",
            Operation::MantleModels => "ListModels",
            Operation::ApplyGuardrail(..) => "ApplyGuardrail",
            Operation::InvokeGuardrailChecks => "InvokeGuardrailChecks",
            Operation::StartAsyncInvoke => "StartAsyncInvoke",
            Operation::GetAsyncInvoke(_) => "GetAsyncInvoke",
            Operation::ListAsyncInvokes => "ListAsyncInvokes",
        }
    }

    /// The SigV4 signing names the operation answers to.
    pub fn signing_names(&self) -> &'static [&'static str] {
        match self {
            Operation::OpenAi(api) => crate::openai::signing_names(*api),
            Operation::MantleModels => &["bedrock-mantle"],
            _ => &[crate::config::SIGNING_NAME],
        }
    }
}

/// Maps method + raw path to an operation, or the service's error for unknown routes.
pub fn route(method: &str, path: &str) -> Result<Operation, ApiError> {
    let unknown = || ApiError::coral(404, "UnknownOperationException", "Unknown operation");
    let op = if let Some(api) = crate::openai::route(path) {
        Operation::OpenAi(api)
    } else if path == "/v1/models" {
        Operation::MantleModels
    } else if let Some(rest) = path
        .strip_prefix("/guardrail/")
        .and_then(|r| r.strip_suffix("/apply"))
    {
        let (id, version) = rest.rsplit_once("/version/").ok_or_else(unknown)?;
        Operation::ApplyGuardrail(id.to_string(), version.to_string())
    } else if path == "/guardrail-checks/invoke" {
        Operation::InvokeGuardrailChecks
    } else if path == "/async-invoke" {
        // One path, two operations: the method says which.
        if method == "POST" {
            Operation::StartAsyncInvoke
        } else {
            Operation::ListAsyncInvokes
        }
    } else if let Some(arn) = path.strip_prefix("/async-invoke/") {
        Operation::GetAsyncInvoke(arn.to_string())
    } else if path == "/foundation-models" || path == "/foundation-models/" {
        Operation::ListFoundationModels
    } else if path == "/inference-profiles" || path == "/inference-profiles/" {
        Operation::ListInferenceProfiles
    } else if let Some(id) = path.strip_prefix("/inference-profiles/") {
        Operation::GetInferenceProfile(id.to_string())
    } else if let Some(id) = path.strip_prefix("/foundation-models/") {
        Operation::GetFoundationModel(id.to_string())
    } else if let Some(rest) = path.strip_prefix("/model/") {
        // The id may contain a raw '/' if a client did not encode an ARN; take everything
        // between the prefix and the operation suffix.
        if let Some(id) = rest.strip_suffix("/converse-stream") {
            Operation::ConverseStream(id.to_string())
        } else if let Some(id) = rest.strip_suffix("/count-tokens") {
            Operation::CountTokens(id.to_string())
        } else if let Some(id) = rest.strip_suffix("/converse") {
            Operation::Converse(id.to_string())
        } else if let Some(id) = rest.strip_suffix("/invoke") {
            Operation::InvokeModel(id.to_string())
        } else if let Some(id) = rest.strip_suffix("/invoke-with-response-stream") {
            Operation::InvokeModelWithResponseStream(id.to_string())
        } else {
            return Err(unknown());
        }
    } else {
        return Err(unknown());
    };
    let expected = match op {
        Operation::Converse(_)
        | Operation::ConverseStream(_)
        | Operation::CountTokens(_)
        | Operation::InvokeModel(_)
        | Operation::InvokeModelWithResponseStream(_)
        | Operation::ApplyGuardrail(..)
        | Operation::InvokeGuardrailChecks
        | Operation::StartAsyncInvoke
        | Operation::OpenAi(_) => "POST",
        _ => "GET",
    };
    if method != expected {
        return Err(unknown());
    }
    Ok(op)
}

/// Handles any request.
pub async fn handle(state: Arc<State>, request: Request) -> Response<Body> {
    let request_id = state.next_request_id();
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let operation = route(&method, &path);
    let mut record = recorded(&parts, &operation);

    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let err = ApiError::validation(format!(
                "The request body is too large or could not be read (limit {MAX_BODY_BYTES} bytes)."
            ));
            record.status = err.status;
            state.record(record);
            return err.into_response(&request_id);
        }
    };
    record.body = serde_json::from_slice(&body).ok();

    let services = operation
        .as_ref()
        .map(Operation::signing_names)
        .unwrap_or(&[crate::config::SIGNING_NAME]);
    let auth_result = auth::authenticate(
        &state.config,
        services,
        &method,
        &path_and_query,
        parts.uri.authority().map(|a| a.as_str()),
        &parts.headers,
        &body,
        SystemTime::now(),
    );
    let response = match (auth_result, operation) {
        (Err(e), _) => {
            tracing::info!(%method, %path, error = %e, "authentication failed");
            e.into_response(&request_id)
        }
        (Ok(kind), Err(e)) => {
            record.auth = Some(kind);
            e.into_response(&request_id)
        }
        (Ok(kind), Ok(op)) => {
            record.auth = Some(kind);
            tracing::debug!(operation = op.name(), %path, "request");
            // A bearer key reaches Mantle; a SigV4 scope names the host it was meant for.
            let surface = match auth::signed_service(&parts.headers) {
                Some(crate::config::SIGNING_NAME) => crate::openai::Surface::Runtime,
                _ => crate::openai::Surface::Mantle,
            };
            let request = Dispatched {
                query: query.as_deref(),
                body: &body,
                request_id: &request_id,
                surface,
            };
            dispatch(&state, op, request).await
        }
    };
    record.status = response.status().as_u16();
    state.record(record);
    let mut response = response;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .entry("x-amzn-RequestId")
            .or_insert(v);
    }
    response
}

/// What the emulator records of a request before reading its body: method, path, query,
/// operation and model, and its headers without secrets.
fn recorded(
    parts: &axum::http::request::Parts,
    operation: &Result<Operation, ApiError>,
) -> RecordedRequest {
    let model_id = match operation {
        Ok(Operation::Converse(id))
        | Ok(Operation::ConverseStream(id))
        | Ok(Operation::InvokeModel(id))
        | Ok(Operation::InvokeModelWithResponseStream(id)) => decode_segment(id),
        _ => None,
    };
    RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        operation: operation
            .as_ref()
            .map(|o| o.name().to_string())
            .unwrap_or_else(|_| "Unknown".to_string()),
        model_id,
        headers: redacted_headers(&parts.headers),
        body: None,
        auth: None,
        status: 0,
        http_version: format!("{:?}", parts.version),
    }
}

/// What an operation is answered from, besides its state.
struct Dispatched<'a> {
    query: Option<&'a str>,
    body: &'a bytes::Bytes,
    request_id: &'a str,
    /// The host the request was meant for (OpenAI-compatible routes only).
    surface: crate::openai::Surface,
}

async fn dispatch(state: &Arc<State>, op: Operation, request: Dispatched<'_>) -> Response<Body> {
    let Dispatched {
        query,
        body,
        request_id,
        surface,
    } = request;
    let result = match op {
        Operation::ListFoundationModels => control::list_foundation_models(state, query),
        Operation::ListInferenceProfiles => control::list_inference_profiles(state, query),
        Operation::GetInferenceProfile(id) => control::get_inference_profile(state, &id),
        Operation::GetFoundationModel(id) => control::get_foundation_model(state, &id),
        Operation::CountTokens(id) => runtime::count_tokens(state, &id, body),
        Operation::Converse(id) => runtime::invoke(state, &id, body, false).await,
        Operation::InvokeModel(id) => invoke_native(state, &id, body, false),
        Operation::InvokeModelWithResponseStream(id) => {
            invoke_native(state, &id, body, true).map(|response| {
                response.map(|body| crate::stream_ends::watched(body, state.stream_ends.clone()))
            })
        }
        Operation::OpenAi(api) => return crate::openai::handle(state, api, surface, body).await,
        Operation::MantleModels => Ok(crate::openai::list_models()),
        Operation::ApplyGuardrail(id, version) => crate::guardrails::apply_alone(
            &state.guardrails(),
            (&state.config.region, &state.config.account_id),
            &id,
            &version,
            body,
        ),
        Operation::InvokeGuardrailChecks => crate::guardrail_checks::invoke(body),
        Operation::StartAsyncInvoke => crate::async_invoke::start(state, body),
        Operation::GetAsyncInvoke(arn) => crate::async_invoke::get(state, &arn),
        Operation::ListAsyncInvokes => crate::async_invoke::list(state, query),
        Operation::ConverseStream(id) => {
            runtime::invoke(state, &id, body, true)
                .await
                .map(|response| {
                    response
                        .map(|body| crate::stream_ends::watched(body, state.stream_ends.clone()))
                })
        }
    };
    result.unwrap_or_else(|e| e.into_response(request_id))
}

/// InvokeModel(WithResponseStream): the model's own body, for the families the emulator
/// speaks natively (Anthropic's Messages; Nova's; Titan Text, Llama and Mistral prompts; the
/// embedding models, whole only).
fn invoke_native(
    state: &Arc<State>,
    raw_id: &str,
    body: &bytes::Bytes,
    stream: bool,
) -> Result<Response<Body>, ApiError> {
    let path_id =
        decode_segment(raw_id).ok_or_else(|| ApiError::validation(runtime::INVALID_MODEL))?;
    let model = runtime::resolve_any_model(state, &path_id)?;
    if model.provider == "Anthropic" {
        return crate::anthropic_native::invoke(state, model, body, stream);
    }
    if crate::nova_native::is_nova(model) {
        return crate::nova_native::invoke(state, model, body, stream);
    }
    if let Some(family) = crate::prompt_native::Family::of(model) {
        return crate::prompt_native::invoke(family, body, stream);
    }
    if stream {
        return Err(ApiError::validation(format!(
            "The emulator streams InvokeModel for Anthropic's, Nova's, Titan Text's, Llama's and Mistral's models only; {} is not one (use ConverseStream)",
            model.id
        )));
    }
    crate::embeddings::invoke(state, raw_id, body)
}
