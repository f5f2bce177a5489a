//! Which models Bedrock's OpenAI-compatible routes serve, and on which route: data, one row
//! per model. A model answers only where its row says; elsewhere the route refuses it with
//! Bedrock's words (`The model '…' does not support the '/v1/responses' API`).
//!
//! Facts (public, 2026): OpenAI's frontier models (GPT-5.4, GPT-5.5, GPT-5.6 Sol/Terra/Luna)
//! and xAI's Grok 4.3 and 4.6 answer only on Mantle's `/openai/v1/responses`; `/v1/responses` and `/v1/chat/completions`
//! refuse them. gpt-oss answers on Mantle's `/v1` routes, and on Chat Completions on both hosts
//! (bedrock-runtime by its Converse id, `openai.gpt-oss-120b-1:0`).

/// One of the OpenAI-compatible routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/openai/v1/responses` (Mantle; the runtime's synchronous one too).
    OpenAiResponses,
    /// `/v1/responses` (Mantle).
    Responses,
    /// `/openai/v1/chat/completions` (bedrock-runtime and Mantle).
    OpenAiChatCompletions,
    /// `/v1/chat/completions` (Mantle).
    ChatCompletions,
}

impl Api {
    /// The route as Bedrock names it in its refusals.
    pub fn path(self) -> &'static str {
        match self {
            Api::OpenAiResponses => "/openai/v1/responses",
            Api::Responses => "/v1/responses",
            Api::OpenAiChatCompletions | Api::ChatCompletions => "/v1/chat/completions",
        }
    }
}

/// A model on the OpenAI-compatible routes.
#[derive(Debug)]
pub struct OpenAiModel {
    /// Its id.
    pub id: &'static str,
    /// Where it answers.
    pub apis: &'static [Api],
    /// Whether it reasons (and so takes `reasoning` and reports reasoning tokens).
    pub reasons: bool,
    /// Its output limit, tokens.
    pub max_output_tokens: u64,
    /// Whether Converse serves it too (under its catalogue id); GPT-5.4 and GPT-5.5 "support
    /// neither the Converse nor the Invoke API".
    pub converse: bool,
    /// The `reasoning.effort` levels it takes.
    pub efforts: &'static [&'static str],
    /// Whether it takes `temperature` and `top_p` while it reasons (OpenAI's reasoning models
    /// only with the effort `none`; Grok always).
    pub samples_while_reasoning: bool,
}

/// OpenAI's levels.
const OPENAI_EFFORTS: &[&str] = &["none", "low", "medium", "high", "xhigh"];
/// Grok 4.3's (AWS's model card: none, low, medium, high; `minimal` refused).
const XAI_EFFORTS: &[&str] = &["none", "low", "medium", "high"];
/// Grok 4.6's: it always reasons, at low to xhigh.
const XAI_46_EFFORTS: &[&str] = &["low", "medium", "high", "xhigh"];

const FRONTIER: &[Api] = &[Api::OpenAiResponses];
const OPEN_WEIGHT: &[Api] = &[
    Api::Responses,
    Api::ChatCompletions,
    Api::OpenAiChatCompletions,
];
/// The ids bedrock-runtime's Chat Completions takes for gpt-oss (its Converse ids).
const RUNTIME_CHAT: &[Api] = &[Api::OpenAiChatCompletions];

/// An OpenAI model: it reasons at OpenAI's levels, sampling settings only with reasoning
/// off, up to 128,000 output tokens.
const fn openai(id: &'static str, apis: &'static [Api], converse: bool) -> OpenAiModel {
    OpenAiModel {
        id,
        apis,
        reasons: true,
        max_output_tokens: 128_000,
        converse,
        efforts: OPENAI_EFFORTS,
        samples_while_reasoning: false,
    }
}

/// An xAI Grok model: Mantle's `/openai/v1/responses` only (AWS's model cards), its own
/// reasoning levels, sampling settings taken while it reasons.
const fn grok(
    id: &'static str,
    max_output_tokens: u64,
    efforts: &'static [&'static str],
) -> OpenAiModel {
    OpenAiModel {
        id,
        apis: FRONTIER,
        reasons: true,
        max_output_tokens,
        converse: false,
        efforts,
        samples_while_reasoning: true,
    }
}

/// Today's models on these routes.
pub const MODELS: &[OpenAiModel] = &[
    grok("xai.grok-4.6", 500_000, XAI_46_EFFORTS),
    grok("xai.grok-4.3", 131_072, XAI_EFFORTS),
    openai("openai.gpt-5.5", FRONTIER, false),
    openai("openai.gpt-5.4", FRONTIER, false),
    openai("openai.gpt-5.6-sol", FRONTIER, true),
    openai("openai.gpt-5.6-terra", FRONTIER, true),
    openai("openai.gpt-5.6-luna", FRONTIER, true),
    openai("openai.gpt-oss-120b", OPEN_WEIGHT, true),
    openai("openai.gpt-oss-20b", OPEN_WEIGHT, true),
    openai("openai.gpt-oss-120b-1:0", RUNTIME_CHAT, true),
    openai("openai.gpt-oss-20b-1:0", RUNTIME_CHAT, true),
];

/// The models that answer only on these routes (Converse does not know them).
pub fn responses_only() -> impl Iterator<Item = &'static OpenAiModel> {
    MODELS.iter().filter(|m| !m.converse)
}

/// The row of `id`, if these routes know the model at all.
pub fn model(id: &str) -> Option<&'static OpenAiModel> {
    MODELS.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_models_answer_only_on_the_openai_responses_route() {
        let m = model("openai.gpt-5.5").unwrap();
        assert_eq!(m.apis, &[Api::OpenAiResponses]);
        assert!(!model("openai.gpt-oss-120b")
            .unwrap()
            .apis
            .contains(&Api::OpenAiResponses));
        assert!(model("anthropic.claude-sonnet-4-5-20250929-v1:0").is_none());
    }
}
