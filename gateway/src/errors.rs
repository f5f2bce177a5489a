//! Errors in the shape OpenAI clients expect (`{"error": {message, type, code}}`), with the
//! status each kind of failure gets: 400 for a bad request, 401/403, 404 for an unknown
//! model, 429 with `Retry-After` when throttled, 503, 504 on timeouts; never a 500 for bad
//! input.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use host_sdk::{Error, ErrorKind};
use serde_json::json;

/// A failure of one request, ready to be sent.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: "invalid_request".into(),
            message: message.into(),
        }
    }

    pub fn unknown_model(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: "model_not_found".into(),
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "authentication_error",
            code: "invalid_api_key".into(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "permission_error",
            code: "model_not_allowed".into(),
            message: message.into(),
        }
    }

    /// The request ran past the gateway's `--request-timeout`.
    pub fn timed_out() -> Self {
        Self {
            status: StatusCode::GATEWAY_TIMEOUT,
            kind: "api_error",
            code: host_sdk::ErrorKind::Timeout.code().to_string(),
            message: "the request took longer than the gateway allows (--request-timeout); it was cancelled".into(),
        }
    }

    /// The OpenAI error document.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"message": self.message, "type": self.kind, "code": self.code, "param": null}})
    }
}

impl From<&Error> for ApiError {
    fn from(e: &Error) -> Self {
        let (status, kind) = match &e.kind {
            ErrorKind::InvalidRequest
            | ErrorKind::Validation
            | ErrorKind::ContextWindowExceeded => {
                (StatusCode::BAD_REQUEST, "invalid_request_error")
            }
            ErrorKind::ModelNotFound | ErrorKind::NeedsInferenceProfile => {
                (StatusCode::NOT_FOUND, "invalid_request_error")
            }
            ErrorKind::AccessDenied => (StatusCode::FORBIDDEN, "permission_error"),
            ErrorKind::NoCredentials => (StatusCode::UNAUTHORIZED, "authentication_error"),
            ErrorKind::Throttled => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error"),
            ErrorKind::ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "api_error"),
            ErrorKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "api_error"),
            ErrorKind::Cancelled => (
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
                "api_error",
            ),
            _ => (StatusCode::BAD_GATEWAY, "api_error"),
        };
        Self {
            status,
            kind,
            code: e.kind.code().to_string(),
            message: e.message.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let throttled = self.status == StatusCode::TOO_MANY_REQUESTS;
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if throttled {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
        }
        response
    }
}
