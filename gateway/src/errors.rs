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
    /// Headers the answer carries besides (`Retry-After` when it is not 1 s,
    /// `x-ratelimit-*`).
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: "invalid_request".into(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn unknown_model(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: "model_not_found".into(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "authentication_error",
            code: "invalid_api_key".into(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "permission_error",
            code: "model_not_allowed".into(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// A refusal at the door, before any model is involved: `status`, OpenAI's error `kind`
    /// and `code`.
    fn refused(status: StatusCode, kind: &'static str, code: &str, message: String) -> Self {
        Self {
            status,
            kind,
            code: code.into(),
            message,
            headers: Vec::new(),
        }
    }

    /// A key past its rate limit (`kind`: requests or tokens, as OpenAI names the error's
    /// type), for `reset` seconds.
    pub fn rate_limited(
        kind: &'static str,
        message: String,
        reset: u64,
        mut headers: Vec<(String, String)>,
    ) -> Self {
        headers.push(("retry-after".into(), reset.max(1).to_string()));
        Self {
            headers,
            ..Self::refused(
                StatusCode::TOO_MANY_REQUESTS,
                kind,
                "rate_limit_exceeded",
                message,
            )
        }
    }

    /// A key that spent its budget, until its period renews in `renews` seconds.
    pub fn budget_spent(message: String, renews: u64) -> Self {
        Self {
            headers: vec![("retry-after".into(), renews.max(1).to_string())],
            ..Self::refused(
                StatusCode::TOO_MANY_REQUESTS,
                "insufficient_quota",
                "insufficient_quota",
                message,
            )
        }
    }

    /// The shared store did not answer, so a counted key's limits cannot be checked.
    pub fn store_unavailable() -> Self {
        Self::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "store_unavailable",
            "the gateway cannot reach its shared store, so this key's limits and budget cannot be checked; retry shortly".into(),
        )
    }

    /// Puts the error's own headers on `response`; `Retry-After: 1` where the client may come
    /// back and the error says no other time.
    pub fn add_headers(headers: Vec<(String, String)>, response: &mut Response) {
        let retry = matches!(response.status().as_u16(), 429 | 503 | 529);
        let map = response.headers_mut();
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::try_from(name),
                HeaderValue::try_from(value),
            ) {
                map.insert(name, value);
            }
        }
        if retry && !map.contains_key("retry-after") {
            map.insert("retry-after", HeaderValue::from_static("1"));
        }
    }

    /// No route at this path.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::refused(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "unknown_url",
            format!("unknown request URL: {method} {path} (this gateway serves GET /v1/models, POST /v1/chat/completions, POST /v1/responses, POST /v1/messages, POST /v1/messages/count_tokens, GET /healthz)"),
        )
    }

    /// A route that exists, with another method.
    pub fn wrong_method(method: &str, path: &str) -> Self {
        Self::refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            "method_not_allowed",
            format!("{path} does not take {method}"),
        )
    }

    /// A body larger than the gateway takes.
    pub fn too_large(limit: usize) -> Self {
        Self::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!("the request body is larger than this gateway takes ({limit} bytes; --max-body-bytes)"),
        )
    }

    /// A body that is not declared as JSON.
    pub fn not_json(found: Option<&str>) -> Self {
        Self::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            match found {
                Some(found) => {
                    format!("the body must be JSON (content-type: application/json), not {found:?}")
                }
                None => "the body must be JSON: send content-type: application/json".into(),
            },
        )
    }

    /// A body that did not arrive in time.
    pub fn body_too_slow(timeout: std::time::Duration) -> Self {
        Self::refused(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            "request_timeout",
            format!(
                "the request body did not arrive within {} s (--body-timeout)",
                timeout.as_secs()
            ),
        )
    }

    /// A `Host` this gateway does not answer to (DNS rebinding).
    pub fn wrong_host(host: &str) -> Self {
        Self::refused(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            "host_not_allowed",
            format!("this gateway does not answer to the host {host:?} (its operator can allow it with --allowed-host)"),
        )
    }

    /// The gateway is at capacity.
    pub fn overloaded(message: String) -> Self {
        Self::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "overloaded",
            message,
        )
    }

    /// No model output arrived within `--first-byte-timeout`.
    pub fn no_first_byte(timeout: std::time::Duration) -> Self {
        Self {
            status: StatusCode::GATEWAY_TIMEOUT,
            kind: "api_error",
            code: host_sdk::ErrorKind::Timeout.code().to_string(),
            message: format!(
                "the model sent nothing within {} s (--first-byte-timeout); the request was cancelled",
                timeout.as_secs()
            ),
            headers: Vec::new(),
        }
    }

    /// The request ran past the gateway's `--request-timeout`.
    pub fn timed_out() -> Self {
        Self {
            status: StatusCode::GATEWAY_TIMEOUT,
            kind: "api_error",
            code: host_sdk::ErrorKind::Timeout.code().to_string(),
            message: "the request took longer than the gateway allows (--request-timeout); it was cancelled".into(),
            headers: Vec::new(),
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
            headers: Vec::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        // Throttled or unavailable: the client may come back, and is told when.
        Self::add_headers(self.headers, &mut response);
        response
    }
}
