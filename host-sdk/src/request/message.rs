//! The conversation's turns: who speaks, and what.

use serde::{Deserialize, Serialize};

use super::content::known_or_raw;
use super::ContentBlock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// Who wrote a message.
pub enum Role {
    /// The user (and tool results).
    User,
    /// The model.
    Assistant,
    /// Since 1.9: a message between turns that changes the tools on offer (its blocks are
    /// `toolAddition` and `toolRemoval`, naming tools of the request's `tools`), without
    /// sending the tool list again.
    System,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// One turn of the conversation.
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// A block of a type this version does not know is kept as [`ContentBlock::Unknown`].
    #[serde(deserialize_with = "known_or_raw")]
    pub content: Vec<ContentBlock>,
}

impl Message {
    /// A user message of one text block.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    /// An assistant message of one text block.
    pub fn assistant_text(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    /// All text blocks joined, for display.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}
