//! What is known about well-known model families, keyed by the foundation model id: context
//! window, output limit, reasoning support and how reasoning is requested. ListFoundationModels
//! says none of this; unknown models get the configured defaults.

/// How a family takes reasoning settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningStyle {
    /// Reasoning is not configurable (or not supported).
    None,
    /// Anthropic `thinking: {type: "enabled", budget_tokens}`.
    AnthropicBudget,
    /// Anthropic `thinking: {type: "adaptive"}` with an effort level; visible reasoning needs
    /// `display: "summarized"`.
    AnthropicAdaptive,
    /// The model always reasons and returns it (DeepSeek R1, gpt-oss): nothing to request.
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub context_window: u64,
    pub max_tokens: u64,
    pub reasoning: ReasoningStyle,
    /// Whether the family honours Converse `cachePoint` blocks.
    pub prompt_caching: bool,
}

const fn family(
    context_window: u64,
    max_tokens: u64,
    reasoning: ReasoningStyle,
    prompt_caching: bool,
) -> Family {
    Family {
        context_window,
        max_tokens,
        reasoning,
        prompt_caching,
    }
}

use ReasoningStyle::*;

// Most specific prefixes first: the first match wins.
const FAMILIES: &[(&str, Family)] = &[
    (
        "anthropic.claude-opus-4-6",
        family(200_000, 128_000, AnthropicAdaptive, true),
    ),
    (
        "anthropic.claude-sonnet-4-6",
        family(200_000, 64_000, AnthropicAdaptive, true),
    ),
    (
        "anthropic.claude-opus-4-5",
        family(200_000, 64_000, AnthropicBudget, true),
    ),
    (
        "anthropic.claude-opus-4-1",
        family(200_000, 32_000, AnthropicBudget, true),
    ),
    (
        "anthropic.claude-opus-4",
        family(200_000, 32_000, AnthropicBudget, true),
    ),
    (
        "anthropic.claude-sonnet-4-5",
        family(200_000, 64_000, AnthropicBudget, true),
    ),
    (
        "anthropic.claude-sonnet-4",
        family(200_000, 64_000, AnthropicBudget, true),
    ),
    (
        "anthropic.claude-haiku-4-5",
        family(200_000, 64_000, AnthropicBudget, true),
    ),
    (
        "anthropic.claude-3-7-sonnet",
        family(200_000, 64_000, AnthropicBudget, true),
    ),
    (
        "anthropic.claude-3-5-haiku",
        family(200_000, 8_192, None, true),
    ),
    (
        "anthropic.claude-3-5-sonnet",
        family(200_000, 8_192, None, false),
    ),
    ("anthropic.claude-3", family(200_000, 4_096, None, false)),
    ("amazon.nova-premier", family(1_000_000, 32_000, None, true)),
    ("amazon.nova-pro", family(300_000, 10_000, None, true)),
    ("amazon.nova-lite", family(300_000, 10_000, None, true)),
    ("amazon.nova-micro", family(128_000, 10_000, None, true)),
    ("amazon.nova-2-lite", family(1_000_000, 64_000, None, true)),
    (
        "amazon.titan-text-premier",
        family(32_000, 3_072, None, false),
    ),
    (
        "amazon.titan-text-express",
        family(8_192, 8_192, None, false),
    ),
    ("amazon.titan-text-lite", family(4_096, 4_096, None, false)),
    ("meta.llama4", family(1_000_000, 8_192, None, false)),
    ("meta.llama3-3", family(128_000, 8_192, None, false)),
    ("meta.llama3-2", family(128_000, 8_192, None, false)),
    ("meta.llama3-1", family(128_000, 8_192, None, false)),
    ("meta.llama3", family(8_192, 2_048, None, false)),
    (
        "mistral.mistral-large-2407",
        family(128_000, 8_192, None, false),
    ),
    ("mistral.mistral-large", family(32_000, 8_192, None, false)),
    ("mistral.pixtral-large", family(128_000, 8_192, None, false)),
    ("mistral.mixtral", family(32_000, 4_096, None, false)),
    ("mistral.mistral", family(32_000, 8_192, None, false)),
    ("deepseek.r1", family(128_000, 32_768, Always, false)),
    ("openai.gpt-oss", family(128_000, 32_768, Always, false)),
    ("cohere.command-r", family(128_000, 4_096, None, false)),
];

/// Strips an inference-profile geography prefix (`us.`, `global.`, ...) and an ARN, leaving
/// the foundation model id.
pub fn base_model_id(id: &str) -> &str {
    let id = id.rsplit('/').next().unwrap_or(id);
    match id.split_once('.') {
        Some((prefix, rest)) if crate::profiles::is_geography_prefix(prefix) => rest,
        _ => id,
    }
}

/// The family of a model or profile id, if known.
pub fn lookup(id: &str) -> Option<Family> {
    let base = base_model_id(id);
    FAMILIES
        .iter()
        .find(|(prefix, _)| base.starts_with(prefix))
        .map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_arns_resolve_to_their_family() {
        let f = lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap();
        assert_eq!(f.reasoning, AnthropicBudget);
        assert_eq!(f.context_window, 200_000);
        assert!(
            lookup("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0").is_some()
        );
        assert_eq!(
            lookup("anthropic.claude-3-haiku-20240307-v1:0")
                .unwrap()
                .reasoning,
            None
        );
        assert!(lookup("vendor.unknown-model-v1:0").is_none());
    }

    #[test]
    fn reasoning_is_by_family_not_by_name() {
        // "sonnet" alone says nothing: 3.5 Sonnet cannot think, 3.7 Sonnet can.
        assert_eq!(
            lookup("anthropic.claude-3-5-sonnet-20240620-v1:0")
                .unwrap()
                .reasoning,
            None
        );
        assert_eq!(
            lookup("anthropic.claude-3-7-sonnet-20250219-v1:0")
                .unwrap()
                .reasoning,
            AnthropicBudget
        );
    }
}
