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
    /// The conversation does not fit the model's context window.
    ContextWindowExceeded,
    /// The service rejected the request (its message is included).
    Validation,
    /// The service is throttling the caller; retry later.
    Throttled,
    /// The service is unavailable; retry later.
    ServiceUnavailable,
    /// The service failed internally or the model failed mid-stream.
    ServiceError,
    /// A call or the stream took too long.
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
    /// Every kind this version knows (all but `Other`).
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

    /// The stable snake_case code that crosses the boundary.
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

    /// The kind of a code; an unknown code is kept as `Other`.
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
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What went wrong and what to fix.
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}

impl Error {
    /// An error that should not be retried.
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
    /// Why the stream failed.
    pub error: Error,
    /// The partial assistant message (possibly empty), with usage if it had arrived.
    pub partial: Completion,
}

impl StreamError {
    /// The error's kind.
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
    /// No file at the path.
    NotFound(PathBuf),
    #[error("no provider plugin found in directory {dir} (looked at: {tried})")]
    /// No file in the directory loads as a plugin.
    NoPluginInDirectory {
        /// The directory.
        dir: PathBuf,
        /// Why each file there did not load.
        tried: String,
    },
    #[error("{path} is not a provider plugin: {reason}")]
    /// The file is not a provider plugin.
    NotAPlugin {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    #[error("{path} cannot be loaded: {reason}; reinstall or rebuild the plugin")]
    /// The file's own headers say it is incomplete (truncated or damaged): refused before the
    /// system loader maps it.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    #[error(
        "{path} was built for provider contract {plugin_version}, but this host speaks \
         {host_version}: rebuild the plugin against host-sdk {host_major}.x"
    )]
    /// The plugin was built against another major version of the contract.
    IncompatibleVersion {
        /// The plugin file.
        path: PathBuf,
        /// The contract version the plugin was built against.
        plugin_version: String,
        /// This host's contract version.
        host_version: String,
        /// This host's major version, for the hint.
        host_major: String,
    },
    #[error(
        "{path} has a provider contract layout this host cannot use: {detail}; rebuild the \
         plugin against host-sdk {host_major}.x"
    )]
    /// The plugin's contract types differ from this host's.
    IncompatibleLayout {
        /// The plugin file.
        path: PathBuf,
        /// What differs.
        detail: String,
        /// This host's major version, for the hint.
        host_major: String,
    },
    #[error("{path} failed to initialise: {reason}")]
    /// The plugin's root module failed to initialise.
    InitFailed {
        /// The plugin file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}
