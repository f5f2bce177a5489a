//! Error values in the exact shape the Bedrock service sends them.
//!
//! The AWS SDKs pick the error type from the `x-amzn-ErrorType` header (the part before `:`)
//! and the message from the JSON body, so both must be present on every error response.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};

/// Namespace suffix the Bedrock service appends to its own error types.
pub const BEDROCK_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";
/// Namespace suffix of errors raised by the shared AWS front end (authentication).
pub const CORAL_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.coral.service/";

/// Errors returned by [`crate::Emulator::start`] and friends.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configured host/port could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address that was requested.
        addr: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The configured host is not an IP address.
    #[error("invalid host {0:?}: expected an IP address such as 127.0.0.1")]
    InvalidHost(String),
    /// The background runtime/thread could not be created.
    #[error("cannot start the emulator runtime: {0}")]
    Runtime(std::io::Error),
    /// The background thread stopped before reporting its address.
    #[error("the emulator thread stopped during start-up")]
    ThreadDied,
    /// The TLS certificate or configuration could not be made.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// An error response as the service would send it before any stream starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {error_type}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// The error type, e.g. `ValidationException`.
    pub error_type: String,
    /// Human-readable message, placed in the JSON body.
    pub message: String,
    /// Namespace appended to the type in `x-amzn-ErrorType`.
    pub namespace: &'static str,
}

impl ApiError {
    /// A Bedrock-namespaced error.
    pub fn new(status: u16, error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_type: error_type.into(),
            message: message.into(),
            namespace: BEDROCK_NAMESPACE,
        }
    }

    /// An error raised by the AWS front end rather than by Bedrock itself (auth failures).
    pub fn coral(status: u16, error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            namespace: CORAL_NAMESPACE,
            ..ApiError::new(status, error_type, message)
        }
    }

    /// 400 ValidationException.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(400, "ValidationException", message)
    }

    /// A required member left out, in the service's words (`at` is its path).
    pub fn missing(at: &str) -> Self {
        ApiError::validation(format!(
            "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member must not be null"
        ))
    }

    /// A member's value outside its constraint, in the service's words (`rule` is the
    /// constraint as the service states it: "Member must have length between 1 and 256").
    pub fn constraint(at: &str, value: &str, rule: &str) -> Self {
        ApiError::validation(format!(
            "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: {rule}"
        ))
    }

    /// A member (a list, a union) outside its constraint, named without its value.
    pub fn constraint_on(at: &str, rule: &str) -> Self {
        ApiError::validation(format!(
            "1 validation error detected: Value at '{at}' failed to satisfy constraint: {rule}"
        ))
    }

    /// 429 ThrottlingException with the service's wording.
    pub fn throttling() -> Self {
        ApiError::new(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        )
    }

    /// Builds the HTTP response: JSON `{"message"}` body plus the error headers.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = resp.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert("x-amzn-RequestId", v);
        }
        let error_type = format!("{}:{}", self.error_type, self.namespace);
        if let Ok(v) = HeaderValue::from_str(&error_type) {
            headers.insert("x-amzn-ErrorType", v);
        }
        resp
    }
}

/// A value outside its enum, refused in the service's words (`at` is the member's path); no
/// value is not this check's business.
pub fn check_enum(at: &str, value: Option<&str>, allowed: &[&str]) -> Result<(), ApiError> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{v}' at '{at}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// Default HTTP status for a Bedrock runtime error type (used by scenario faults).
pub fn status_for_error_type(error_type: &str) -> u16 {
    match error_type {
        "ValidationException" | "ServiceQuotaExceededException" => 400,
        "AccessDeniedException" => 403,
        "ResourceNotFoundException" => 404,
        "ModelTimeoutException" => 408,
        "ModelErrorException" => 424,
        "ThrottlingException" | "ModelNotReadyException" => 429,
        "InternalServerException" | "ModelStreamErrorException" => 500,
        "ServiceUnavailableException" => 503,
        _ => 400,
    }
}

/// Bedrock's refusal of a model's own body it cannot read (InvokeModel): what is wrong, in
/// its words.
pub fn malformed(detail: impl std::fmt::Display) -> ApiError {
    ApiError::validation(format!(
        "Malformed input request: {detail}, please reformat your input and try again."
    ))
}

/// A model's own body (InvokeModel) as the JSON object it must be.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(malformed("#: expected type: JSONObject, found: other")),
        Err(_) => Err(ApiError::validation(
            "Malformed input request, please reformat your input and try again.",
        )),
    }
}
