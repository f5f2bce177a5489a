//! # host-sdk: the provider plugin contract
//!
//! One small crate that hosts and provider plugins both depend on, in the style of
//! `abi_stable`'s interface crates:
//!
//! - [`contract`]: the stable-ABI types a plugin exports (a versioned root module, the
//!   `Provider`, `EventSink` and `StreamControl` traits, borrowed [`StreamEvent`]s);
//! - [`request`]: the provider-neutral conversation documents (request, messages, completion);
//! - [`loader`] and [`host`]: what a host uses: load a plugin by path or directory, configure a
//!   provider, list models and stream conversations, blocking or async;
//! - [`plugin`]: helpers for plugin authors (panic guards).
//!
//! ```no_run
//! use host_sdk::{ConverseRequest, Plugin, SinkFlow, StreamEvent};
//!
//! let plugin = Plugin::load("target/debug/libbedrock_plugin.so")?;
//! let provider = plugin.new_provider("")?;
//! let request = ConverseRequest::user_text("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Hi");
//! let done = provider.converse(&request, |event| {
//!     if let StreamEvent::TextDelta { text, .. } = event {
//!         print!("{text}");
//!     }
//!     SinkFlow::Continue
//! })?;
//! println!("\nstop reason: {:?}", done.stop_reason);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod contract;
pub mod error;
mod file_check;
pub mod host;
pub mod loader;
pub mod plugin;
mod private_copy;
pub mod request;

pub use contract::{
    AuthStatus, LogLevel, ModelCost, ModelInfo, ModelSource, ProviderError, ProviderMetadata,
    SinkFlow, StreamEvent, Usage, CONTRACT_VERSION,
};
pub use error::{Error, ErrorKind, LoadError, StreamError};
pub use host::{
    Canceller, Event, EventStream, Provider, RunningStream, StreamHandler, WholeAnswer,
};
pub use loader::Plugin;
pub use request::*;
