//! Every failure the plugin reports, mapped to the contract's error kinds with a message that
//! says what to fix: the config key, the model id, or the credential source that was used.

use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use host_sdk::{Error, ErrorKind, ProviderError};

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
pub fn from_sdk_error<E, R>(err: &SdkError<E, R>, ctx: &CallContext<'_>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            from_service_error(
                e.code().unwrap_or("Unknown"),
                e.message().unwrap_or(""),
                ctx,
            )
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
        SdkError::DispatchFailure(d) => {
            let detail = source_chain(err);
            if d.is_timeout() {
                error(
                    ErrorKind::Timeout,
                    format!("{} timed out connecting: {detail}", ctx.operation),
                )
            } else if detail.contains("credentials") || detail.contains("identity") {
                error(
                    ErrorKind::NoCredentials,
                    format!(
                        "{} could not get AWS credentials from {}: {detail}",
                        ctx.operation, ctx.credential_source
                    ),
                )
            } else {
                error(
                    ErrorKind::Network,
                    format!("{} could not reach Bedrock: {detail}", ctx.operation),
                )
            }
        }
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

/// Maps a service error code (HTTP or in-stream exception) and message.
pub fn from_service_error(code: &str, message: &str, ctx: &CallContext<'_>) -> ProviderError {
    let lower = message.to_ascii_lowercase();
    let model = ctx.model();
    let (kind, text) = match code {
        "ValidationException" | "validationException" => {
            if lower.contains("on-demand throughput") || lower.contains("inference profile") {
                (
                    ErrorKind::NeedsInferenceProfile,
                    format!(
                        "model `{}` can only be invoked through an inference profile in {}: use the profile id that `models list` shows (for example `us.{}`). Service said: {message}",
                        ctx.model_id.unwrap_or("?"),
                        ctx.region,
                        ctx.model_id.unwrap_or("?")
                    ),
                )
            } else if lower.contains("model identifier is invalid") || lower.contains("model id") && lower.contains("not") {
                (
                    ErrorKind::ModelNotFound,
                    format!("unknown model{model} in {}: check the id with `models list`. Service said: {message}", ctx.region),
                )
            } else if lower.contains("too long") || lower.contains("context window") || lower.contains("too many tokens") || lower.contains("input length") {
                (
                    ErrorKind::ContextWindowExceeded,
                    format!("the conversation is longer than the context window{model}. Service said: {message}"),
                )
            } else {
                (ErrorKind::Validation, format!("Bedrock rejected the request{model}: {message}"))
            }
        }
        "AccessDeniedException" => {
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
        "ThrottlingException" | "throttlingException" | "ServiceQuotaExceededException"
        | "ModelNotReadyException" | "TooManyRequestsException" => (
            ErrorKind::Throttled,
            format!("Bedrock is throttling {}{model} ({code}): {message}", ctx.operation),
        ),
        "ServiceUnavailableException" | "serviceUnavailableException" => (
            ErrorKind::ServiceUnavailable,
            format!("Bedrock is unavailable in {}: {message}", ctx.region),
        ),
        "ModelTimeoutException" => (ErrorKind::Timeout, format!("the model timed out{model}: {message}")),
        "InternalServerException" | "internalServerException" | "ModelErrorException"
        | "modelStreamErrorException" | "ModelStreamErrorException" => (
            ErrorKind::ServiceError,
            format!("Bedrock failed while answering{model} ({code}): {message}"),
        ),
        other => (ErrorKind::ServiceError, format!("{} failed{model} ({other}): {message}", ctx.operation)),
    };
    error(kind, text)
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
