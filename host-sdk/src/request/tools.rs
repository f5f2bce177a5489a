//! The tools a model may call, and which it must.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tool the model may call. Build it with [`Tool::new`] or `..Default::default()`: a later
/// minor may add optional fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The tool's name, unique in the request.
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the tool's input.
    pub input_schema: Value,
    /// Since 1.5: the model's call must match `input_schema` exactly (strict tool use), on
    /// models that support it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
}

impl Tool {
    /// A tool that is not strict.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
            strict: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
/// Whether and which tool the model must call.
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must not call tools.
    None,
    /// The model must call this tool.
    Tool {
        /// The tool's name.
        name: String,
    },
}
