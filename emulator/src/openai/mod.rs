//! Bedrock's OpenAI-compatible API: the Responses API as Mantle serves it
//! (`bedrock-mantle.{region}.api.aws`, SigV4 signing name `bedrock-mantle`, or a Bedrock API
//! key) on `/openai/v1/responses` and `/v1/responses`, and as bedrock-runtime serves it on
//! `/openai/v1/responses` (signing name `bedrock`: synchronous only); Chat Completions on
//! `/openai/v1/chat/completions` (both hosts) and `/v1/chat/completions` (Mantle); and
//! Mantle's model list (`GET /v1/models`). One loopback server
//! stands for both hosts: the signing name, or a bearer key (Mantle), says which was meant.
//!
//! Errors are OpenAI's shape (`{"error": {message, type, param, code}}`); requests are checked
//! as OpenAI's API checks them (unknown parameters, enums, minimums, items that refer to
//! others), so a client that passes here sends what Bedrock accepts.

mod chat;
pub mod models;
mod response_object;
mod responses;
mod responses_input;
mod responses_stream;

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use bytes::Bytes;
use std::sync::Arc;

use crate::state::State;
use models::Api;

/// Which host a request on these routes was meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// bedrock-mantle: streaming, every route.
    Mantle,
    /// bedrock-runtime: `/openai/v1` only, synchronous only.
    Runtime,
}

/// The signing names each route answers to (the first is the one a refusal names).
pub fn signing_names(api: Api) -> &'static [&'static str] {
    match api {
        Api::OpenAiResponses | Api::OpenAiChatCompletions => &["bedrock-mantle", "bedrock"],
        Api::Responses | Api::ChatCompletions => &["bedrock-mantle"],
    }
}

/// The route of `path`, when it is one of these.
pub fn route(path: &str) -> Option<Api> {
    match path {
        "/openai/v1/responses" => Some(Api::OpenAiResponses),
        "/v1/responses" => Some(Api::Responses),
        "/openai/v1/chat/completions" => Some(Api::OpenAiChatCompletions),
        "/v1/chat/completions" => Some(Api::ChatCompletions),
        _ => None,
    }
}

/// Answers a request already authenticated for `surface`.
pub async fn handle(
    state: &Arc<State>,
    api: Api,
    surface: Surface,
    body: &Bytes,
) -> Response<Body> {
    let answered = match api {
        Api::OpenAiResponses | Api::Responses => responses::create(state, api, surface, body).await,
        Api::OpenAiChatCompletions | Api::ChatCompletions => chat::create(state, api, body),
    };
    answered.unwrap_or_else(OpenAiError::into_response)
}

/// `GET /v1/models` on Mantle: every model it serves, whichever route (OpenAI's list shape,
/// with Mantle's `status`).
pub fn list_models() -> Response<Body> {
    let data: Vec<serde_json::Value> = models::MODELS
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "object": "model",
                "created": 1_767_225_600u64,
                "owned_by": m.id.split('.').next().unwrap_or("openai"),
                "status": "available",
            })
        })
        .collect();
    crate::json_http::json_response(serde_json::json!({"object": "list", "data": data}).to_string())
}

/// A request body as OpenAI's APIs read it: JSON, an object, only the `parameters` the route
/// knows.
pub(crate) fn request_body(
    body: &[u8],
    parameters: &[&str],
) -> Result<serde_json::Value, OpenAiError> {
    let request: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        OpenAiError::invalid(
            format!("We could not parse the JSON body of your request. ({e})"),
            None,
            None,
        )
    })?;
    let serde_json::Value::Object(fields) = &request else {
        return Err(OpenAiError::invalid_type("body", "an object", &request));
    };
    if let Some(unknown) = fields.keys().find(|k| !parameters.contains(&k.as_str())) {
        return Err(OpenAiError::unknown_parameter(unknown));
    }
    Ok(request)
}

/// An error in OpenAI's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiError {
    status: u16,
    kind: &'static str,
    message: String,
    param: Option<String>,
    code: Option<&'static str>,
}

impl OpenAiError {
    /// 400 `invalid_request_error`.
    pub fn invalid(
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&'static str>,
    ) -> Self {
        OpenAiError {
            status: 400,
            kind: "invalid_request_error",
            message: message.into(),
            param: param.map(str::to_string),
            code,
        }
    }

    /// 404 `invalid_request_error` (an item or model that is not there).
    pub fn not_found(message: impl Into<String>) -> Self {
        OpenAiError {
            status: 404,
            ..OpenAiError::invalid(message, None, None)
        }
    }

    /// An error of any status (a scripted one).
    pub fn with_status(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        OpenAiError {
            status,
            ..OpenAiError::invalid(message, None, None)
        }
        .of_kind(kind)
    }

    fn of_kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    /// `Unknown parameter: 'x'.`
    pub fn unknown_parameter(param: &str) -> Self {
        OpenAiError::invalid(
            format!("Unknown parameter: '{param}'."),
            Some(param),
            Some("unknown_parameter"),
        )
    }

    /// `Missing required parameter: 'x'.`
    pub fn missing(param: &str) -> Self {
        OpenAiError::invalid(
            format!("Missing required parameter: '{param}'."),
            Some(param),
            Some("missing_required_parameter"),
        )
    }

    /// `Invalid type for 'x': expected y, but got z instead.`
    pub fn invalid_type(param: &str, expected: &str, value: &serde_json::Value) -> Self {
        let got = match value {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        OpenAiError::invalid(
            format!("Invalid type for '{param}': expected {expected}, but got {got} instead."),
            Some(param),
            Some("invalid_type"),
        )
    }

    /// A value outside its enum, in OpenAI's words.
    pub fn check_enum(param: &str, value: &str, allowed: &[&str]) -> Result<(), Self> {
        if allowed.contains(&value) {
            return Ok(());
        }
        let quoted: Vec<String> = allowed.iter().map(|v| format!("'{v}'")).collect();
        let list = match quoted.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{}, and {last}", rest.join(", ")),
            _ => quoted.join(""),
        };
        Err(OpenAiError::invalid(
            format!("Invalid value: '{value}'. Supported values are: {list}."),
            Some(param),
            Some("invalid_value"),
        ))
    }

    /// The response.
    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }});
        let mut resp = Response::new(Body::from(body.to_string()));
        *resp.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        resp
    }
}
