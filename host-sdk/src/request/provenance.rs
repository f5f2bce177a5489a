//! Since 1.8: where a provider's knowledge of a model comes from, as
//! [`crate::contract::Provider::model_provenance`] lists it.

use serde::{Deserialize, Serialize};

/// The origin of what a provider says about one model it lists (limits, input kinds,
/// reasoning, prices).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelProvenance {
    /// The model's id, as the model list gives it.
    pub id: String,
    /// The knowledge table its facts are read from (a provider's own name for its built-in
    /// table, or the path of a user's table); `None` when no table describes the model and
    /// the configured defaults apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The date that table says its facts were checked (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<String>,
    /// The table row that describes the model (a model id or id prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// Whether the model is declared in the configuration, whose facts (where it gives them)
    /// win over the table's.
    #[serde(default)]
    pub configured: bool,
    /// Since 1.9: which of the provider's APIs the model is called through (Bedrock:
    /// `converse`, or `responses` for the models that answer only on the Responses API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}
