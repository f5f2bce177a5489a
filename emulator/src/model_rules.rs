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
    /// `additionalModelRequestFields.reasoning = {effort}` (GPT-5.6: none, low, medium, high,
    /// xhigh, max); `reasoning_effort` and `thinking` are unknown parameters to it.
    OpenAiNestedEffort,
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

/// A model that takes up to `max_output_tokens` and nothing else: the facts it has are
/// added by name (`limit(64_000).tools().cache_points()`), so each row reads as a list of
/// named facts rather than positional booleans.
const fn limit(max_output_tokens: u32) -> ModelRules {
    ModelRules {
        max_output_tokens,
        tools: false,
        forced_tool_choice: false,
        cache_points: false,
        reasoning: Reasoning::None,
        anthropic: false,
        system_tools: false,
        citations: false,
        structured_output: false,
    }
}

impl ModelRules {
    const fn tools(self) -> Self {
        Self {
            tools: true,
            ..self
        }
    }

    const fn forced_tool_choice(self) -> Self {
        Self {
            forced_tool_choice: true,
            ..self
        }
    }

    const fn cache_points(self) -> Self {
        Self {
            cache_points: true,
            ..self
        }
    }

    const fn reasons(self, reasoning: Reasoning) -> Self {
        Self { reasoning, ..self }
    }

    const fn anthropic_fields(self) -> Self {
        Self {
            anthropic: true,
            ..self
        }
    }

    const fn system_tools(self) -> Self {
        Self {
            system_tools: true,
            ..self
        }
    }

    const fn citations(self) -> Self {
        Self {
            citations: true,
            ..self
        }
    }

    const fn structured_output(self) -> Self {
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
    ("anthropic.claude-opus-4-7", limit(128_000).tools().forced_tool_choice().cache_points().reasons(AnthropicAdaptive).anthropic_fields().citations().structured_output()),
    ("anthropic.claude-opus-4-6", limit(128_000).tools().forced_tool_choice().cache_points().reasons(AnthropicAdaptive).anthropic_fields().citations().structured_output()),
    ("anthropic.claude-sonnet-4-6", limit(64_000).tools().forced_tool_choice().cache_points().reasons(AnthropicAdaptive).anthropic_fields().citations().structured_output()),
    ("anthropic.claude-opus-4-5", limit(64_000).tools().forced_tool_choice().cache_points().reasons(AnthropicBudget).anthropic_fields().citations().structured_output()),
    ("anthropic.claude-opus-4", limit(32_000).tools().forced_tool_choice().cache_points().reasons(AnthropicBudget).anthropic_fields().citations()),
    ("anthropic.claude-sonnet-4-5", limit(64_000).tools().forced_tool_choice().cache_points().reasons(AnthropicBudget).anthropic_fields().citations().structured_output()),
    ("anthropic.claude-sonnet-4", limit(64_000).tools().forced_tool_choice().cache_points().reasons(AnthropicBudget).anthropic_fields().citations()),
    ("anthropic.claude-haiku-4-5", limit(64_000).tools().forced_tool_choice().cache_points().reasons(AnthropicBudget).anthropic_fields().citations().structured_output()),
    ("anthropic.claude-3-7-sonnet", limit(64_000).tools().forced_tool_choice().cache_points().reasons(AnthropicBudget).anthropic_fields().citations()),
    ("anthropic.claude-3-5-haiku", limit(8_192).tools().forced_tool_choice().cache_points().anthropic_fields()),
    ("anthropic.claude-3-5-sonnet", limit(8_192).tools().forced_tool_choice().anthropic_fields().citations()),
    ("anthropic.claude-3", limit(4_096).tools().forced_tool_choice().anthropic_fields()),
    ("amazon.nova-2", limit(65_536).tools().forced_tool_choice().cache_points().reasons(NovaEffort).system_tools()),
    ("amazon.nova-premier", limit(32_000).tools().forced_tool_choice().cache_points()),
    ("amazon.nova", limit(10_000).tools().forced_tool_choice().cache_points()),
    ("amazon.titan", limit(8_192)),
    ("meta.llama4", limit(16_384).tools()),
    ("meta.llama3-1", limit(8_192).tools()),
    ("meta.llama3-2-11b", limit(8_192).tools()),
    ("meta.llama3-2-90b", limit(8_192).tools()),
    ("meta.llama3-3", limit(8_192).tools()),
    ("meta.llama", limit(2_048)),
    ("mistral.mistral-large-2402", limit(8_192).tools().forced_tool_choice()),
    ("mistral.mistral-7b", limit(8_192)),
    ("mistral.", limit(16_384).tools().structured_output()),
    ("deepseek.r1", limit(32_768).reasons(Always)),
    ("deepseek.", limit(81_920).tools().structured_output()),
    ("openai.gpt-5.6", limit(128_000).tools().reasons(OpenAiNestedEffort)),
    ("openai.", limit(128_000).tools().reasons(OpenAiEffort)),
    ("qwen.", limit(131_072).tools().structured_output()),
    ("google.gemma", limit(8_192).structured_output()),
    ("minimax.", limit(131_072).tools().reasons(Always).structured_output()),
    ("moonshot.kimi-k2-thinking", limit(256_000).tools().reasons(Always).structured_output()),
    ("moonshotai.", limit(256_000).tools().structured_output()),
    ("nvidia.", limit(32_768).tools().structured_output()),
    ("writer.", limit(8_192).tools()),
    ("zai.", limit(131_072).tools().reasons(Always)),
];

/// Rules for a model with no row: text only, no tools, no caching, 4,096 output tokens.
pub const DEFAULT: ModelRules = limit(4_096);

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
