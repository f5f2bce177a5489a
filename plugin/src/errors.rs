//! Every failure the plugin reports, mapped to the contract's error kinds with a message that
//! says what to fix: the config key, the model id, or the credential source that was used.

use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use host_sdk::{Error, ErrorKind, ProviderError};

/// The HTTP status behind a failed call, when there is one (in-stream exceptions have none).
pub trait HttpStatus {
    fn http_status(&self) -> Option<u16>;
    /// The `message` of a JSON error body, read directly (the SDK only parses it when the
    /// response names an error type).
    fn body_message(&self) -> Option<String> {
        None
    }
}

impl HttpStatus for HttpResponse {
    fn http_status(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
    fn body_message(&self) -> Option<String> {
        let body: serde_json::Value = serde_json::from_slice(self.body().bytes()?).ok()?;
        ["message", "Message"]
            .iter()
            .find_map(|k| body.get(*k)?.as_str().map(str::to_string))
    }
}

pub fn error(kind: ErrorKind, message: impl Into<String>) -> ProviderError {
    Error::new(kind, message).into_provider_error()
}

pub fn config_error(message: impl Into<String>) -> ProviderError {
    error(ErrorKind::Config, message)
}

pub fn invalid_request(message: impl Into<String>) -> ProviderError {
    error(ErrorKind::InvalidRequest, message)
}

/// What was being done when a call failed, so errors can name it.
#[derive(Debug, Clone)]
pub struct CallContext<'a> {
    /// `ConverseStream`, `ListFoundationModels`, ...
    pub operation: &'a str,
    pub model_id: Option<&'a str>,
    /// How the credentials were obtained (never the secret itself).
    pub credential_source: &'a str,
    pub region: &'a str,
}

impl CallContext<'_> {
    fn model(&self) -> String {
        self.model_id
            .map(|m| format!(" for model `{m}`"))
            .unwrap_or_default()
    }
}

/// Maps a failed SDK call (before any stream event arrived).
/// A failed call as the plugin handles it before it reaches the host: the contract's error,
/// and the service's own message when the service answered, kept as data for the messages
/// that quote it again (such as the one naming the inference profiles to use).
#[derive(Debug)]
pub struct CallFailure {
    pub error: ProviderError,
    pub service_message: Option<String>,
}

impl From<ProviderError> for CallFailure {
    fn from(error: ProviderError) -> Self {
        Self {
            error,
            service_message: None,
        }
    }
}

pub fn from_sdk_error<E, R>(err: &SdkError<E, R>, ctx: &CallContext<'_>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: HttpStatus + std::fmt::Debug,
{
    from_sdk_failure(err, ctx).error
}

/// [`from_sdk_error`], keeping the service's message.
pub fn from_sdk_failure<E, R>(err: &SdkError<E, R>, ctx: &CallContext<'_>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: HttpStatus + std::fmt::Debug,
{
    if let SdkError::ServiceError(service) = err {
        let (code, message) = service_code_and_message(service.err(), service.raw());
        return CallFailure {
            error: from_service_error(code, &message, ctx),
            service_message: Some(message),
        };
    }
    other_sdk_error(err, ctx).into()
}

/// The error type an HTTP status stands for, when the answer names none (some proxies and
/// recordings drop `x-amzn-ErrorType`): which family of error it is.
pub fn code_for_status(status: u16) -> &'static str {
    match status {
        401 | 403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 | 504 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        500..=599 => "InternalServerException",
        400..=499 => "ValidationException",
        _ => "Unknown",
    }
}

/// A service error's code and message; without an error type (some proxies and recordings
/// drop `x-amzn-ErrorType`), the HTTP status says which family of error it is.
fn service_code_and_message<'a, E, R>(e: &'a E, raw: &R) -> (&'a str, String)
where
    E: ProvideErrorMetadata,
    R: HttpStatus,
{
    let status = raw.http_status();
    let code = e
        .code()
        .unwrap_or_else(|| status.map_or("Unknown", code_for_status));
    let message = e
        .message()
        .map(str::to_string)
        .or_else(|| raw.body_message())
        .unwrap_or_else(|| match status {
            Some(s) => format!("HTTP {s} without a message"),
            None => "no message".into(),
        });
    (code, message)
}

/// Every SDK failure but a service error: timeouts, connection failures, bad responses.
fn other_sdk_error<E, R>(err: &SdkError<E, R>, ctx: &CallContext<'_>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: HttpStatus + std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let (code, message) = service_code_and_message(service.err(), service.raw());
            from_service_error(code, &message, ctx)
        }
        SdkError::TimeoutError(_) => error(
            ErrorKind::Timeout,
            format!(
                "{} timed out{} (region {})",
                ctx.operation,
                ctx.model(),
                ctx.region
            ),
        ),
        SdkError::DispatchFailure(d) => unanswered(d.is_timeout(), source_chain(err), ctx),
        SdkError::ConstructionFailure(_) => {
            let detail = source_chain(err);
            let kind = if detail.contains("credentials") || detail.contains("identity") {
                ErrorKind::NoCredentials
            } else {
                ErrorKind::InvalidRequest
            };
            error(
                kind,
                format!(
                    "{} could not be sent ({}): {detail}",
                    ctx.operation, ctx.credential_source
                ),
            )
        }
        SdkError::ResponseError(_) => error(
            ErrorKind::Network,
            format!(
                "{} got an unreadable response: {}",
                ctx.operation,
                source_chain(err)
            ),
        ),
        _ => error(
            ErrorKind::Internal,
            format!("{} failed: {}", ctx.operation, source_chain(err)),
        ),
    }
}

/// The request never got an answer: a connect timeout, missing credentials, an untrusted
/// certificate, or an unreachable endpoint. `detail` is the failure's chain of causes.
pub fn unanswered(timed_out: bool, detail: String, ctx: &CallContext<'_>) -> ProviderError {
    if timed_out {
        error(
            ErrorKind::Timeout,
            format!("{} timed out connecting: {detail}", ctx.operation),
        )
    } else if detail.contains("credential") || detail.contains("identity") {
        error(
            ErrorKind::NoCredentials,
            format!(
                "{} could not get AWS credentials from {}: {detail}",
                ctx.operation, ctx.credential_source
            ),
        )
    } else if detail.contains("certificate") {
        error(
            ErrorKind::Network,
            format!(
                "{} could not verify the endpoint's TLS certificate: {detail}. If a proxy or private endpoint uses its own certificate authority, trust it with `models.providers.\"amazon-bedrock\".caBundle` or AWS_CA_BUNDLE (a PEM file)",
                ctx.operation
            ),
        )
    } else {
        error(
            ErrorKind::Network,
            format!("{} could not reach Bedrock: {detail}", ctx.operation),
        )
    }
}

/// A successful response that is not an event stream: the error document's own code and
/// message when it has them.
pub fn not_an_event_stream(
    body: &crate::response_body::NotAnEventStream,
    ctx: &CallContext<'_>,
) -> ProviderError {
    match &body.message {
        Some(message) => {
            from_service_error(body.code.as_deref().unwrap_or("UnknownError"), message, ctx)
        }
        None => error(
            ErrorKind::Network,
            format!("{} failed: {body}", ctx.operation),
        ),
    }
}

/// An exception the service sent in the stream (its `:exception-type` and payload). When the
/// model itself failed mid-stream, what it answered (`originalStatusCode`, `originalMessage`)
/// is kept in the message, and a model that was throttled is a throttling error, to be
/// retried as one.
pub fn stream_exception(
    code: &str,
    message: Option<&str>,
    original_status: Option<i32>,
    original_message: Option<&str>,
    ctx: &CallContext<'_>,
) -> ProviderError {
    let mut message = message.unwrap_or("no message").to_string();
    if code == "modelStreamErrorException" {
        match (original_status, original_message) {
            (Some(status), Some(original)) => {
                message.push_str(&format!(" (the model answered {status}: {original})"))
            }
            (Some(status), None) => message.push_str(&format!(" (the model answered {status})")),
            (None, Some(original)) => message.push_str(&format!(" (the model said: {original})")),
            (None, None) => {}
        }
    }
    let code = match (code, original_status) {
        ("modelStreamErrorException", Some(429)) => "throttlingException",
        (code, _) => code,
    };
    from_service_error(code, &message, ctx)
}

/// Maps a service error code (HTTP or in-stream exception) and message.
pub fn from_service_error(code: &str, message: &str, ctx: &CallContext<'_>) -> ProviderError {
    let lower = message.to_ascii_lowercase();
    let model = ctx.model();
    // HTTP errors name the type `ValidationException`, in-stream exceptions
    // `validationException`; a type may carry a `:namespace` suffix.
    let code = code.split(':').next().unwrap_or(code);
    let normalised = {
        let mut c = code.chars();
        match c.next() {
            Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
            None => String::new(),
        }
    };
    let (kind, text) = match normalised.as_str() {
        "ValidationException" => validation(&lower, message, ctx),
        "AccessDeniedException" => access_denied(&lower, message, ctx),
        "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException"
        | "IncompleteSignatureException" | "MissingAuthenticationTokenException"
        | "InvalidClientTokenId" | "SignatureDoesNotMatch" | "UnauthorizedException" => (
            ErrorKind::AccessDenied,
            format!(
                "Bedrock refused the credentials from {} ({code}): check or refresh them (a stale variable in the environment wins over a working profile). Service said: {message}",
                ctx.credential_source
            ),
        ),
        "ResourceNotFoundException" => (
            ErrorKind::ModelNotFound,
            format!("not found{model} in {}: {message}", ctx.region),
        ),
        "ThrottlingException" | "ServiceQuotaExceededException" | "ModelNotReadyException"
        | "TooManyRequestsException" => (
            ErrorKind::Throttled,
            format!("Bedrock is throttling {}{model} ({code}): {message}", ctx.operation),
        ),
        "ServiceUnavailableException" => (
            ErrorKind::ServiceUnavailable,
            format!("Bedrock is unavailable in {}: {message}", ctx.region),
        ),
        "ModelTimeoutException" => (ErrorKind::Timeout, format!("the model timed out{model}: {message}")),
        "InternalServerException" | "ModelErrorException" | "ModelStreamErrorException" => (
            ErrorKind::ServiceError,
            format!("Bedrock failed while answering{model} ({code}): {message}"),
        ),
        other => {
            // A code this plugin does not know may be anything, a permanent refusal included:
            // retrying it blindly would repeat the same failure with backoff.
            let mut e = error(
                ErrorKind::ServiceError,
                format!("{} failed{model} ({other}): {message}", ctx.operation),
            );
            e.retryable = false;
            return e;
        }
    };
    error(kind, text)
}

/// A ValidationException: a model that needs a profile, an unknown model id, a conversation
/// too long, or a request Bedrock refused as it is.
fn validation(lower: &str, message: &str, ctx: &CallContext<'_>) -> (ErrorKind, String) {
    let model = ctx.model();
    if lower.contains("on-demand throughput") || lower.contains("inference profile") {
        let model_id = ctx.model_id.unwrap_or("?");
        let guess: Vec<String> = crate::profiles::prefixes_for_region(ctx.region)
            .iter()
            .map(|p| format!("{p}.{}", crate::model_facts::base_model_id(model_id)))
            .collect();
        (
            ErrorKind::NeedsInferenceProfile,
            needs_profile_message(model_id, ctx.region, &guess, false, message),
        )
    } else if lower.contains("model identifier is invalid")
        || lower.contains("model id") && lower.contains("not")
    {
        (
            ErrorKind::ModelNotFound,
            format!(
                "{} is not a model id Bedrock knows in {}: the provider's model list shows the ids invocable there. Service said: {message}",
                ctx.model_id.map(|m| format!("`{m}`")).unwrap_or_else(|| "the model".into()),
                ctx.region
            ),
        )
    } else if lower.contains("too long")
        || lower.contains("context window")
        || lower.contains("too many tokens")
        || lower.contains("input length")
    {
        (
            ErrorKind::ContextWindowExceeded,
            format!("the conversation is longer than the context window{model}. Service said: {message}"),
        )
    } else {
        (
            ErrorKind::Validation,
            format!("Bedrock rejected the request{model}: {message}"),
        )
    }
}

/// An AccessDeniedException: the model not enabled for the account, or a missing permission.
fn access_denied(lower: &str, message: &str, ctx: &CallContext<'_>) -> (ErrorKind, String) {
    let model = ctx.model();
    if lower.contains("access to the model") {
        (
            ErrorKind::ModelNotFound,
            format!(
                "model{model} is not enabled for this account in {}: enable it under Bedrock > Model access. Credentials came from {}. Service said: {message}",
                ctx.region, ctx.credential_source
            ),
        )
    } else {
        (
            ErrorKind::AccessDenied,
            format!(
                "access denied for {}{model} with credentials from {}: grant bedrock:InvokeModel, bedrock:InvokeModelWithResponseStream and bedrock:ListFoundationModels. Service said: {message}",
                ctx.operation, ctx.credential_source
            ),
        )
    }
}

/// The message of a `needs_inference_profile` error. `profiles` are the ids to use instead:
/// `confirmed` when they were checked against ListInferenceProfiles, else derived from the
/// region's geography.
pub fn needs_profile_message(
    model_id: &str,
    region: &str,
    profiles: &[String],
    confirmed: bool,
    service_message: &str,
) -> String {
    let ids = profiles
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let how = if profiles.is_empty() {
        "no system-defined inference profile for it was found in this region; create an application inference profile or use another region".to_string()
    } else if confirmed {
        format!("use {ids} instead")
    } else {
        format!("use its inference profile id instead (in {region} that would be {ids}; the provider's model list shows the ids that exist)")
    };
    format!(
        "model `{model_id}` cannot be invoked on demand in {region}, only through an inference profile: {how}. Service said: {service_message}"
    )
}

/// The error and its sources, joined, for messages.
pub fn source_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> CallContext<'static> {
        CallContext {
            operation: "ConverseStream",
            model_id: Some("anthropic.claude-sonnet-4-5-20250929-v1:0"),
            credential_source: "environment variables (AWS_ACCESS_KEY_ID)",
            region: "us-east-1",
        }
    }

    #[test]
    fn http_and_in_stream_codes_map_alike() {
        for (code, kind, retryable) in [
            ("ThrottlingException", "throttled", true),
            ("throttlingException", "throttled", true),
            ("serviceUnavailableException", "service_unavailable", true),
            ("internalServerException", "service_error", true),
            ("modelStreamErrorException", "service_error", true),
            ("AccessDeniedException", "access_denied", false),
            ("ExpiredTokenException", "access_denied", false),
            (
                "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                "validation",
                false,
            ),
        ] {
            let e = from_service_error(code, "boom", &ctx());
            assert_eq!((e.code.as_str(), e.retryable), (kind, retryable), "{code}");
        }
        let e = from_service_error("ExpiredTokenException", "expired", &ctx());
        assert!(e.message.contains("AWS_ACCESS_KEY_ID"), "{}", e.message);
        // An unknown code is kept, and not retried.
        let e = from_service_error("BrandNewException", "something new", &ctx());
        assert_eq!((e.code.as_str(), e.retryable), ("service_error", false));
        assert!(e.message.contains("BrandNewException") && e.message.contains("something new"));
    }

    #[test]
    fn validation_messages_are_told_apart() {
        let e = from_service_error(
            "ValidationException",
            "The provided model identifier is invalid.",
            &ctx(),
        );
        assert_eq!(e.code.as_str(), "model_not_found");
        let e = from_service_error(
            "ValidationException",
            "Input is too long for requested model.",
            &ctx(),
        );
        assert_eq!(e.code.as_str(), "context_window_exceeded");
        let e = from_service_error(
            "ValidationException",
            "Invocation of model ID anthropic.claude-sonnet-4-5-20250929-v1:0 with on-demand throughput isn't supported.",
            &ctx(),
        );
        assert_eq!(e.code.as_str(), "needs_inference_profile");
        assert!(!e.retryable);
        assert!(
            e.message
                .contains("`us.anthropic.claude-sonnet-4-5-20250929-v1:0`"),
            "{}",
            e.message
        );
    }
}
