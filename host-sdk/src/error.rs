//! Errors a host sees: loading failures, provider errors with a kind to act on, and stream
//! failures that keep the partial message.

use std::path::PathBuf;

use serde::{Serialize, Serializer};

use crate::contract::ProviderError;
use crate::request::Completion;

/// What kind of failure a provider reported. The wire form is the snake_case code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider configuration is invalid; the message names the key.
    Config,
    /// The request is invalid and was rejected before any network call.
    InvalidRequest,
    /// No usable credentials were found.
    NoCredentials,
    /// The credentials were refused; the message names the credential source used.
    AccessDenied,
    /// The model id is unknown, or access to it is not enabled.
    ModelNotFound,
    /// The model can only be invoked through an inference profile; the message names them.
    NeedsInferenceProfile,
    ContextWindowExceeded,
    /// The service rejected the request (its message is included).
    Validation,
    Throttled,
    ServiceUnavailable,
    /// The service failed internally or the model failed mid-stream.
    ServiceError,
    Timeout,
    /// Stopped by the host (callback or cancel).
    Cancelled,
    /// The connection failed or broke.
    Network,
    /// The stream ended without the service's end-of-message.
    IncompleteStream,
    /// A bug: a panic inside the plugin or a host callback, or a broken contract.
    Internal,
    /// A code this host version does not know.
    Other(String),
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 16] = [
        Self::Config,
        Self::InvalidRequest,
        Self::NoCredentials,
        Self::AccessDenied,
        Self::ModelNotFound,
        Self::NeedsInferenceProfile,
        Self::ContextWindowExceeded,
        Self::Validation,
        Self::Throttled,
        Self::ServiceUnavailable,
        Self::ServiceError,
        Self::Timeout,
        Self::Cancelled,
        Self::Network,
        Self::IncompleteStream,
        Self::Internal,
    ];

    pub fn code(&self) -> &str {
        match self {
            Self::Config => "config",
            Self::InvalidRequest => "invalid_request",
            Self::NoCredentials => "no_credentials",
            Self::AccessDenied => "access_denied",
            Self::ModelNotFound => "model_not_found",
            Self::NeedsInferenceProfile => "needs_inference_profile",
            Self::ContextWindowExceeded => "context_window_exceeded",
            Self::Validation => "validation",
            Self::Throttled => "throttled",
            Self::ServiceUnavailable => "service_unavailable",
            Self::ServiceError => "service_error",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::Network => "network",
            Self::IncompleteStream => "incomplete_stream",
            Self::Internal => "internal",
            Self::Other(code) => code,
        }
    }

    pub fn from_code(code: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .unwrap_or_else(|| Self::Other(code.to_owned()))
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

fn serialize_kind<S: Serializer>(kind: &ErrorKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.code())
}

/// A provider failure, as the host sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("{kind}: {message}")]
pub struct Error {
    #[serde(serialize_with = "serialize_kind")]
    pub kind: ErrorKind,
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(
            kind,
            ErrorKind::Throttled
                | ErrorKind::ServiceUnavailable
                | ErrorKind::ServiceError
                | ErrorKind::Timeout
                | ErrorKind::Network
        );
        Self {
            kind,
            message: message.into(),
            retryable,
        }
    }

    /// The ABI form, for plugins.
    pub fn into_provider_error(self) -> ProviderError {
        ProviderError::new(self.kind.code(), self.message, self.retryable)
    }
}

impl From<ProviderError> for Error {
    fn from(e: ProviderError) -> Self {
        Self {
            kind: ErrorKind::from_code(&e.code),
            message: e.message.into_string(),
            retryable: e.retryable,
        }
    }
}

impl From<&ProviderError> for Error {
    fn from(e: &ProviderError) -> Self {
        e.clone().into()
    }
}

/// A stream that did not complete, with everything that had arrived before it failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("{error}")]
pub struct StreamError {
    pub error: Error,
    /// The partial assistant message (possibly empty), with usage if it had arrived.
    pub partial: Completion,
}

impl StreamError {
    pub fn kind(&self) -> &ErrorKind {
        &self.error.kind
    }
}

/// Why a plugin could not be loaded. Non-exhaustive: a later version may tell more cases
/// apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("no plugin file at {0}")]
    NotFound(PathBuf),
    #[error("no provider plugin found in directory {dir} (looked at: {tried})")]
    NoPluginInDirectory { dir: PathBuf, tried: String },
    #[error("{path} is not a provider plugin: {reason}")]
    NotAPlugin { path: PathBuf, reason: String },
    /// The file's own headers say it is incomplete: refused before the system loader maps it.
    #[error("{path} cannot be loaded: {reason}; reinstall or rebuild the plugin")]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "{path} was built for provider contract {plugin_version}, but this host speaks \
         {host_version}: rebuild the plugin against host-sdk {host_major}.x"
    )]
    IncompatibleVersion {
        path: PathBuf,
        plugin_version: String,
        host_version: String,
        host_major: String,
    },
    #[error(
        "{path} has a provider contract layout this host cannot use: {detail}; rebuild the \
         plugin against host-sdk {host_major}.x"
    )]
    IncompatibleLayout {
        path: PathBuf,
        detail: String,
        host_major: String,
    },
    #[error("{path} failed to initialise: {reason}")]
    InitFailed { path: PathBuf, reason: String },
}
