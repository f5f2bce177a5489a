//! Errors in Anthropic's shape (`{"type": "error", "error": {"type", "message"}}`) with the
//! statuses its API uses, so Anthropic's SDKs raise their own exception classes: 400
//! `invalid_request_error`, 401 `authentication_error`, 403 `permission_error`, 404
//! `not_found_error`, 413 `request_too_large`, 429 `rate_limit_error`, 504 `timeout_error`,
//! and 529 `overloaded_error` where the gateway or the provider is at capacity (a 503
//! elsewhere).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::errors::ApiError;

/// Anthropic's status for a capacity refusal.
const OVERLOADED: u16 = 529;

/// Whether `error` says that the gateway or the provider is at capacity (Anthropic's 529),
/// rather than some other unavailability (the shared store's, a plain 503).
fn overloaded(error: &ApiError) -> bool {
    error.status == StatusCode::SERVICE_UNAVAILABLE
        && ["overloaded", host_sdk::ErrorKind::ServiceUnavailable.code()]
            .contains(&error.code.as_str())
}

/// The status and Anthropic's error type for `error`.
fn status_and_type(error: &ApiError) -> (StatusCode, &'static str) {
    let kind = match error.status.as_u16() {
        400 | 415 | 405 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        408 | 504 => "timeout_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 if overloaded(error) => "overloaded_error",
        _ => "api_error",
    };
    let status = if overloaded(error) {
        StatusCode::from_u16(OVERLOADED).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
    } else {
        error.status
    };
    (status, kind)
}

/// The error document (also the data of a stream's `error` event).
pub fn error_body(error: &ApiError) -> Value {
    let (_, kind) = status_and_type(error);
    json!({"type": "error", "error": {"type": kind, "message": error.message}})
}

/// The response for `error`, with `Retry-After` when the client may come back.
pub fn error_response(error: ApiError) -> Response {
    let (status, _) = status_and_type(&error);
    let mut response = (status, axum::Json(error_body(&error))).into_response();
    ApiError::add_headers(error.headers, &mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_gets_anthropics_status_and_type() {
        let cases = [
            (ApiError::bad_request("x"), 400, "invalid_request_error"),
            (ApiError::unauthorized("x"), 401, "authentication_error"),
            (ApiError::forbidden("x"), 403, "permission_error"),
            (ApiError::unknown_model("x"), 404, "not_found_error"),
            (ApiError::too_large(1), 413, "request_too_large"),
            (ApiError::overloaded("x".into()), 529, "overloaded_error"),
            (ApiError::timed_out(), 504, "timeout_error"),
        ];
        for (error, status, kind) in cases {
            assert_eq!(error_body(&error)["error"]["type"], kind);
            let response = error_response(error);
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response.headers().contains_key("retry-after"),
                status == 529
            );
        }
    }
}
