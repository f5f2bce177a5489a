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
    /// Anthropic `thinking: {type: "adaptive"}` with the effort level in
    /// `output_config: {effort}` (Claude Opus 4.6, Sonnet 4.6 and later). `summarize` is set for
    /// the models whose default reasoning display is `omitted` (Opus 4.7 and later): they only
    /// return visible reasoning when asked for `display: "summarized"`.
    AnthropicAdaptive { summarize: bool },
    /// The model always reasons and returns it (DeepSeek R1, gpt-oss): nothing to request.
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub context_window: u64,
    pub max_tokens: u64,
    pub reasoning: ReasoningStyle,
    /// Where the family honours Converse `cachePoint` blocks.
    pub caching: Caching,
}

/// Prompt-caching support of a family, as Bedrock documents it per model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// No cache points (the service rejects or ignores them).
    None,
    /// Cache points in `system` and `messages` only (Amazon Nova).
    SystemAndMessages,
    /// Cache points in `system`, `messages` and `toolConfig.tools` (Claude), five minutes.
    Full,
    /// As `Full`, and the one-hour `ttl` is accepted (Claude 4.5 and later).
    FullWithOneHour,
}

impl Caching {
    pub fn enabled(self) -> bool {
        self != Caching::None
    }
    pub fn tools(self) -> bool {
        matches!(self, Caching::Full | Caching::FullWithOneHour)
    }
    pub fn one_hour(self) -> bool {
        self == Caching::FullWithOneHour
    }
}

const fn family(
    context_window: u64,
    max_tokens: u64,
    reasoning: ReasoningStyle,
    caching: Caching,
) -> Family {
    Family {
        context_window,
        max_tokens,
        reasoning,
        caching,
    }
}

use ReasoningStyle::*;

const ADAPTIVE: ReasoningStyle = AnthropicAdaptive { summarize: false };
const ADAPTIVE_SUMMARIZED: ReasoningStyle = AnthropicAdaptive { summarize: true };
const NO_CACHE: Caching = Caching::None;
const NOVA_CACHE: Caching = Caching::SystemAndMessages;
const CLAUDE_CACHE: Caching = Caching::Full;
const CLAUDE_CACHE_1H: Caching = Caching::FullWithOneHour;

// Most specific prefixes first: the first match wins.
const FAMILIES: &[(&str, Family)] = &[
    // Opus 4.7 thinks only adaptively, and hides its reasoning unless asked to summarise it.
    (
        "anthropic.claude-opus-4-7",
        family(200_000, 128_000, ADAPTIVE_SUMMARIZED, CLAUDE_CACHE_1H),
    ),
    (
        "anthropic.claude-opus-4-6",
        family(200_000, 128_000, ADAPTIVE, CLAUDE_CACHE_1H),
    ),
    (
        "anthropic.claude-sonnet-4-6",
        family(200_000, 64_000, ADAPTIVE, CLAUDE_CACHE_1H),
    ),
    (
        "anthropic.claude-opus-4-5",
        family(200_000, 64_000, AnthropicBudget, CLAUDE_CACHE_1H),
    ),
    (
        "anthropic.claude-opus-4-1",
        family(200_000, 32_000, AnthropicBudget, CLAUDE_CACHE),
    ),
    (
        "anthropic.claude-opus-4",
        family(200_000, 32_000, AnthropicBudget, CLAUDE_CACHE),
    ),
    (
        "anthropic.claude-sonnet-4-5",
        family(200_000, 64_000, AnthropicBudget, CLAUDE_CACHE_1H),
    ),
    (
        "anthropic.claude-sonnet-4",
        family(200_000, 64_000, AnthropicBudget, CLAUDE_CACHE),
    ),
    (
        "anthropic.claude-haiku-4-5",
        family(200_000, 64_000, AnthropicBudget, CLAUDE_CACHE_1H),
    ),
    (
        "anthropic.claude-3-7-sonnet",
        family(200_000, 64_000, AnthropicBudget, CLAUDE_CACHE),
    ),
    (
        "anthropic.claude-3-5-haiku",
        family(200_000, 8_192, None, CLAUDE_CACHE),
    ),
    (
        "anthropic.claude-3-5-sonnet",
        family(200_000, 8_192, None, NO_CACHE),
    ),
    ("anthropic.claude-3", family(200_000, 4_096, None, NO_CACHE)),
    (
        "amazon.nova-premier",
        family(1_000_000, 32_000, None, NOVA_CACHE),
    ),
    ("amazon.nova-pro", family(300_000, 10_000, None, NOVA_CACHE)),
    (
        "amazon.nova-lite",
        family(300_000, 10_000, None, NOVA_CACHE),
    ),
    (
        "amazon.nova-micro",
        family(128_000, 10_000, None, NOVA_CACHE),
    ),
    (
        "amazon.nova-2-lite",
        family(1_000_000, 64_000, None, NOVA_CACHE),
    ),
    (
        "amazon.titan-text-premier",
        family(32_000, 3_072, None, NO_CACHE),
    ),
    (
        "amazon.titan-text-express",
        family(8_192, 8_192, None, NO_CACHE),
    ),
    (
        "amazon.titan-text-lite",
        family(4_096, 4_096, None, NO_CACHE),
    ),
    ("meta.llama4", family(1_000_000, 8_192, None, NO_CACHE)),
    ("meta.llama3-3", family(128_000, 8_192, None, NO_CACHE)),
    ("meta.llama3-2", family(128_000, 8_192, None, NO_CACHE)),
    ("meta.llama3-1", family(128_000, 8_192, None, NO_CACHE)),
    ("meta.llama3", family(8_192, 2_048, None, NO_CACHE)),
    (
        "mistral.mistral-large-2407",
        family(128_000, 8_192, None, NO_CACHE),
    ),
    (
        "mistral.mistral-large",
        family(32_000, 8_192, None, NO_CACHE),
    ),
    (
        "mistral.pixtral-large",
        family(128_000, 8_192, None, NO_CACHE),
    ),
    ("mistral.mixtral", family(32_000, 4_096, None, NO_CACHE)),
    ("mistral.mistral", family(32_000, 8_192, None, NO_CACHE)),
    ("deepseek.r1", family(128_000, 32_768, Always, NO_CACHE)),
    ("openai.gpt-oss", family(128_000, 32_768, Always, NO_CACHE)),
    ("cohere.command-r", family(128_000, 4_096, None, NO_CACHE)),
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

    #[test]
    fn adaptive_families_and_their_display() {
        assert_eq!(
            lookup("us.anthropic.claude-opus-4-6-v1").unwrap().reasoning,
            AnthropicAdaptive { summarize: false }
        );
        assert_eq!(
            lookup("global.anthropic.claude-sonnet-4-6")
                .unwrap()
                .reasoning,
            AnthropicAdaptive { summarize: false }
        );
        assert_eq!(
            lookup("us.anthropic.claude-opus-4-7").unwrap().reasoning,
            AnthropicAdaptive { summarize: true }
        );
        // Opus 4.5 still thinks with a budget.
        assert_eq!(
            lookup("anthropic.claude-opus-4-5-20251101-v1:0")
                .unwrap()
                .reasoning,
            AnthropicBudget
        );
    }

    #[test]
    fn caching_support_is_per_family() {
        let nova = lookup("us.amazon.nova-micro-v1:0").unwrap().caching;
        assert!(nova.enabled() && !nova.tools() && !nova.one_hour());
        let sonnet37 = lookup("anthropic.claude-3-7-sonnet-20250219-v1:0")
            .unwrap()
            .caching;
        assert!(sonnet37.tools() && !sonnet37.one_hour());
        assert!(lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap()
            .caching
            .one_hour());
        assert!(!lookup("meta.llama3-8b-instruct-v1:0")
            .unwrap()
            .caching
            .enabled());
    }
}
