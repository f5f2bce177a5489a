//! One module per subcommand.

pub mod auth;
#[cfg(feature = "emulator")]
pub mod bench;
pub mod chat;
pub mod config;
pub mod embed;
pub mod info;
pub mod logs;
pub mod models;
pub mod repl;
#[cfg(feature = "emulator")]
pub mod soak;
pub mod tokens;
