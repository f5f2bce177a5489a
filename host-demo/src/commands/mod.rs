//! One module per subcommand.

pub mod auth;
pub mod bench;
pub mod chat;
pub mod config;
pub mod info;
pub mod models;
pub mod repl;
pub mod soak;
pub mod tokens;
