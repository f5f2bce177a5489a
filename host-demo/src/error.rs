//! The one error type the commands return: a message for the user, an optional hint on how to
//! fix it, and the exit code.

use std::fmt;

use host_sdk::{ErrorKind, LoadError, StreamError};

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    /// Extra lines telling the user what to do (printed after the message).
    pub hint: Option<String>,
    pub exit_code: i32,
    /// Set when stdout went away (`host-demo ... | head`): not worth a message.
    pub broken_pipe: bool,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit_code: 1,
            broken_pipe: false,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_exit_code(mut self, code: i32) -> Self {
        self.exit_code = code;
        self
    }

    /// A provider error, with advice for the kinds a user can fix from here.
    pub fn provider(context: &str, error: &host_sdk::Error, emulator: bool) -> Self {
        let err = Self::new(format!("{context}: {}", error.message.trim_end()));
        match error.kind {
            ErrorKind::NoCredentials if !emulator => err.with_hint(NO_CREDENTIALS_HINT),
            ErrorKind::Cancelled => err.with_exit_code(130),
            _ => err,
        }
    }

    pub fn stream(context: &str, error: &StreamError, emulator: bool) -> Self {
        Self::provider(context, &error.error, emulator)
    }

    pub fn load(error: &LoadError) -> Self {
        let err = Self::new(format!("cannot load the plugin: {error}"));
        match error {
            LoadError::NotFound(_) | LoadError::NoPluginInDirectory { .. } => err.with_hint(
                "pass --plugin PATH (a plugin file or a directory holding one); to build the \
                 Amazon Bedrock plugin next to host-demo: cargo build -p bedrock-plugin",
            ),
            _ => err,
        }
    }
}

const NO_CREDENTIALS_HINT: &str = "\
To provide AWS credentials, use one of:
  export AWS_ACCESS_KEY_ID=AKIA...  AWS_SECRET_ACCESS_KEY=...  AWS_REGION=us-east-1
      (plus AWS_SESSION_TOKEN=... for temporary credentials)
  export AWS_PROFILE=your-profile        (a profile from ~/.aws/config or ~/.aws/credentials)
  export AWS_BEARER_TOKEN_BEDROCK=...    (a Bedrock API key)
  or run on an instance/container with an IAM role,
  or try it without AWS: add --emulator to use the embedded local Bedrock emulator.";

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        let mut err = Self::new(format!("cannot write the output: {e}"));
        err.broken_pipe = e.kind() == std::io::ErrorKind::BrokenPipe;
        err
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() {
            return std::io::Error::from(e).into();
        }
        Self::new(format!("cannot encode JSON output: {e}"))
    }
}
