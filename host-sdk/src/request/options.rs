//! How the model answers: sampling and length, reasoning, caching, structured output.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Since 1.5: the shape an answer must have (structured output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum OutputFormat {
    /// The answer is one JSON document matching `schema` (a JSON Schema object).
    #[serde(rename_all = "camelCase")]
    JsonSchema {
        /// The JSON Schema (an object).
        schema: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A name for the schema.
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// What the schema describes.
        description: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Sampling and length settings; unset fields take the model's defaults.
pub struct InferenceConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The most tokens the answer may have.
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Sampling temperature, 0 to 1.
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Nucleus sampling mass, 0 to 1.
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Texts that end the answer when generated.
    pub stop_sequences: Vec<String>,
}

impl InferenceConfig {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// How much the model may think before answering. Build it with struct update syntax
/// (`..ReasoningConfig::default()`): a later minor may add optional fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningConfig {
    /// A token budget for models with budget-based thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u32>,
    /// An effort level (`low`, `medium`, `high`, `xhigh`, `max`); models with fewer levels
    /// take the nearest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// Since 1.5: whether the model may also think between tool calls (interleaved thinking)
    /// where it can [default: yes].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interleaved: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// How long cached prompt prefixes are kept.
pub enum CacheRetention {
    /// The service's default (about five minutes).
    #[default]
    Short,
    /// One hour, where the model supports it.
    Long,
    /// No cache points.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// Prompt caching settings.
pub struct CacheConfig {
    #[serde(default)]
    /// How long cached prefixes are kept.
    pub retention: CacheRetention,
}
