//! Helpers for plugin authors: every `extern "C"` entry point and every callback a plugin
//! makes must be guarded, because a panic reaching an `extern "C"` boundary aborts the host.

use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::std_types::RResult;

use crate::contract::ProviderError;
use crate::error::ErrorKind;
use crate::host::panic_message;

/// Runs `f`, turning a panic into an `internal` [`ProviderError`].
pub fn guard<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, ProviderError>,
) -> RResult<T, ProviderError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(panic_error(what, payload.as_ref())),
    }
}

/// The error reported for a panic caught inside a plugin.
pub fn panic_error(what: &str, payload: &(dyn std::any::Any + Send)) -> ProviderError {
    ProviderError::new(
        ErrorKind::Internal.code(),
        format!(
            "the plugin panicked in {what}: {} (this is a plugin bug; please report it)",
            panic_message(payload)
        ),
        false,
    )
}
