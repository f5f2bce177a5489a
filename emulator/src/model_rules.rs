//! What each model accepts in a Converse request, as Bedrock enforces it: the output-token
//! limit, tool use and forced tool choice, prompt caching, the reasoning configuration it
//! understands, whether `additionalModelRequestFields` go to Anthropic's API (which
//! refuses keys it does not know), and structured output (AWS's structured-output page:
//! Claude Haiku/Sonnet/Opus 4.5 and later, and Qwen, DeepSeek, Mistral, Gemma, Nemotron,
//! MiniMax and Kimi models). Data in one table, by model-id prefix (most specific
//! first); input modalities come from the catalogue. Checked 2026-11-29 against AWS's
//! "supported models and model features" page and the model cards.

/// How a model is asked to reason, if it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reasoning {
    /// No reasoning configuration is accepted.
    None,
    /// `additionalModelRequestFields.thinking = {type: "enabled", budget_tokens}`.
    AnthropicBudget,
    /// As above, plus `{type: "adaptive"}` with `output_config.effort`.
    AnthropicAdaptive,
    /// `additionalModelRequestFields.reasoningConfig = {type: "enabled", maxReasoningEffort}`
    /// (Nova 2).
    NovaEffort,
    /// `additionalModelRequestFields.reasoning_effort` (gpt-oss: low, medium, high).
    OpenAiEffort,
    /// Always reasons; no configuration (DeepSeek-R1, Kimi K2 Thinking, ...).
    Always,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRules {
    /// The largest `inferenceConfig.maxTokens`.
    pub max_output_tokens: u32,
    /// `toolConfig` is accepted.
    pub tools: bool,
    /// `toolChoice.any` and `toolChoice.tool` are accepted (`auto` goes with `tools`).
    pub forced_tool_choice: bool,
    /// `cachePoint` blocks are accepted.
    pub cache_points: bool,
    pub reasoning: Reasoning,
    /// `additionalModelRequestFields` go to Anthropic's Messages API.
    pub anthropic: bool,
    /// Tools the service runs itself (`systemTool`: [`SYSTEM_TOOLS`]) are accepted.
    pub system_tools: bool,
    /// Documents may enable citations (`document.citations.enabled`).
    pub citations: bool,
    /// Structured output: `outputConfig.textFormat` and `toolSpec.strict` are accepted.
    pub structured_output: bool,
}

/// The system tools Bedrock runs itself.
pub const SYSTEM_TOOLS: &[&str] = &["nova_code_interpreter", "nova_grounding"];

const fn rules(
    max_output_tokens: u32,
    tools: bool,
    forced_tool_choice: bool,
    cache_points: bool,
    reasoning: Reasoning,
    anthropic: bool,
) -> ModelRules {
    ModelRules {
        max_output_tokens,
        tools,
        forced_tool_choice,
        cache_points,
        reasoning,
        anthropic,
        system_tools: false,
        citations: false,
        structured_output: false,
    }
}

impl ModelRules {
    const fn with_system_tools(self) -> Self {
        Self {
            system_tools: true,
            ..self
        }
    }

    const fn with_citations(self) -> Self {
        Self {
            citations: true,
            ..self
        }
    }

    const fn with_structured_output(self) -> Self {
        Self {
            structured_output: true,
            ..self
        }
    }
}

use Reasoning::*;

/// By model-id prefix, most specific first; the first match wins.
#[rustfmt::skip]
const TABLE: &[(&str, ModelRules)] = &[
    ("anthropic.claude-opus-4-7", rules(128_000, true, true, true, AnthropicAdaptive, true).with_citations().with_structured_output()),
    ("anthropic.claude-opus-4-6", rules(128_000, true, true, true, AnthropicAdaptive, true).with_citations().with_structured_output()),
    ("anthropic.claude-sonnet-4-6", rules(64_000, true, true, true, AnthropicAdaptive, true).with_citations().with_structured_output()),
    ("anthropic.claude-opus-4-5", rules(64_000, true, true, true, AnthropicBudget, true).with_citations().with_structured_output()),
    ("anthropic.claude-opus-4", rules(32_000, true, true, true, AnthropicBudget, true).with_citations()),
    ("anthropic.claude-sonnet-4-5", rules(64_000, true, true, true, AnthropicBudget, true).with_citations().with_structured_output()),
    ("anthropic.claude-sonnet-4", rules(64_000, true, true, true, AnthropicBudget, true).with_citations()),
    ("anthropic.claude-haiku-4-5", rules(64_000, true, true, true, AnthropicBudget, true).with_citations().with_structured_output()),
    ("anthropic.claude-3-7-sonnet", rules(64_000, true, true, true, AnthropicBudget, true).with_citations()),
    ("anthropic.claude-3-5-haiku", rules(8_192, true, true, true, None, true)),
    ("anthropic.claude-3-5-sonnet", rules(8_192, true, true, false, None, true).with_citations()),
    ("anthropic.claude-3", rules(4_096, true, true, false, None, true)),
    ("amazon.nova-2", rules(65_536, true, true, true, NovaEffort, false).with_system_tools()),
    ("amazon.nova-premier", rules(32_000, true, true, true, None, false)),
    ("amazon.nova", rules(10_000, true, true, true, None, false)),
    ("amazon.titan", rules(8_192, false, false, false, None, false)),
    ("meta.llama4", rules(16_384, true, false, false, None, false)),
    ("meta.llama3-1", rules(8_192, true, false, false, None, false)),
    ("meta.llama3-2-11b", rules(8_192, true, false, false, None, false)),
    ("meta.llama3-2-90b", rules(8_192, true, false, false, None, false)),
    ("meta.llama3-3", rules(8_192, true, false, false, None, false)),
    ("meta.llama", rules(2_048, false, false, false, None, false)),
    ("mistral.mistral-large-2402", rules(8_192, true, true, false, None, false)),
    ("mistral.mistral-7b", rules(8_192, false, false, false, None, false)),
    ("mistral.", rules(16_384, true, false, false, None, false).with_structured_output()),
    ("deepseek.r1", rules(32_768, false, false, false, Always, false)),
    ("deepseek.", rules(81_920, true, false, false, None, false).with_structured_output()),
    ("openai.", rules(128_000, true, false, false, OpenAiEffort, false)),
    ("qwen.", rules(131_072, true, false, false, None, false).with_structured_output()),
    ("google.gemma", rules(8_192, false, false, false, None, false).with_structured_output()),
    ("minimax.", rules(131_072, true, false, false, Always, false).with_structured_output()),
    ("moonshot.kimi-k2-thinking", rules(256_000, true, false, false, Always, false).with_structured_output()),
    ("moonshotai.", rules(256_000, true, false, false, None, false).with_structured_output()),
    ("nvidia.", rules(32_768, true, false, false, None, false).with_structured_output()),
    ("writer.", rules(8_192, true, false, false, None, false)),
    ("zai.", rules(131_072, true, false, false, Always, false)),
];

/// Rules for a model with no row: text only, no tools, no caching, 4,096 output tokens.
pub const DEFAULT: ModelRules = rules(4_096, false, false, false, None, false);

/// The rules of a base model id.
pub fn for_model(model_id: &str) -> ModelRules {
    TABLE
        .iter()
        .find(|(prefix, _)| model_id.starts_with(prefix))
        .map(|(_, r)| *r)
        .unwrap_or(DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_conversational_catalogue_model_has_a_row() {
        for m in crate::catalogue::MODELS {
            if m.conversational() && m.streaming && m.lifecycle == "ACTIVE" {
                assert!(
                    TABLE.iter().any(|(p, _)| m.id.starts_with(p)),
                    "{} has no rules",
                    m.id
                );
            }
        }
    }
}
