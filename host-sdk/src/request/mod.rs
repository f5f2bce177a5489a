//! The provider-neutral conversation schema: what a host sends ([`ConverseRequest`]) and what
//! a finished stream gives back ([`Completion`]). These documents cross the plugin boundary as
//! JSON (camelCase); every field a newer version adds is optional, so hosts and plugins one
//! minor version apart still understand each other.
//!
//! One file per concept: the request (`conversation`), its turns (`message`), what they
//! hold (`content`), tools (`tools`), how the model answers (`options`) and what a stream
//! gives back (`completion`), and since 1.7 embeddings (`embedding`); every item is re-exported here, and at the crate's root.

pub mod base64_bytes;
mod completion;
mod content;
mod conversation;
mod embedding;
mod message;
mod options;
mod provenance;
mod tools;

pub use completion::*;
pub use content::*;
pub use conversation::*;
pub use embedding::*;
pub use message::*;
pub use options::*;
pub use provenance::*;
pub use tools::*;

#[cfg(test)]
mod tests;
