//! The reasoning a Converse request asks for in `additionalModelRequestFields`, against the
//! model's style: Anthropic's `thinking` (a budget, or adaptive), Nova's `reasoningConfig`,
//! gpt-oss's and GPT's effort, each in the model's own fields.

use crate::error::ApiError;
use crate::model_rules::Reasoning;
use serde_json::Value;

/// Keys Anthropic's Messages API accepts through `additionalModelRequestFields` on Bedrock.
const ANTHROPIC_FIELDS: &[&str] = &["thinking", "top_k", "anthropic_beta", "output_config"];
const MIN_THINKING_BUDGET: u64 = 1024;

/// The reasoning configuration against the model's style.
pub(super) fn reasoning(
    body: &Value,
    rules: &crate::model_rules::ModelRules,
    max_tokens: Option<u64>,
) -> Result<(), ApiError> {
    let Some(extra) = body
        .get("additionalModelRequestFields")
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    if rules.anthropic {
        if let Some(key) = extra
            .keys()
            .find(|k| !ANTHROPIC_FIELDS.contains(&k.as_str()))
        {
            return Err(model_error(format!(
                "{key}: Extra inputs are not permitted"
            )));
        }
        return match extra.get("thinking") {
            Some(thinking) => anthropic_thinking(body, thinking, rules.reasoning, max_tokens),
            None => Ok(()),
        };
    }
    if rules.reasoning == Reasoning::OpenAiNestedEffort {
        return openai_nested_effort(extra);
    }
    if let Some(config) = extra.get("reasoningConfig") {
        nova_reasoning(config, rules.reasoning)?;
    }
    if let Some(effort) = extra.get("reasoning_effort") {
        if rules.reasoning != Reasoning::OpenAiEffort {
            return Err(ApiError::validation(
                "The model returned the following errors: reasoning_effort is not supported by this model",
            ));
        }
        if !["low", "medium", "high"].contains(&effort.as_str().unwrap_or("")) {
            return Err(model_error(format!(
                "reasoning_effort must be one of low, medium, high, got {effort}"
            )));
        }
    }
    Ok(())
}

/// GPT-5.6's reasoning: `reasoning.effort` at a level it knows; the other families' fields
/// are unknown parameters to it.
fn openai_nested_effort(extra: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    if let Some(key) = ["reasoning_effort", "thinking", "reasoningConfig"]
        .into_iter()
        .find(|k| extra.contains_key(*k))
    {
        return Err(ApiError::validation(format!("Unknown parameter: '{key}'.")));
    }
    let Some(reasoning) = extra.get("reasoning") else {
        return Ok(());
    };
    const LEVELS: [&str; 6] = ["none", "low", "medium", "high", "xhigh", "max"];
    match reasoning.get("effort") {
        None => Ok(()),
        Some(effort) if LEVELS.contains(&effort.as_str().unwrap_or("")) => Ok(()),
        Some(effort) => Err(ApiError::validation(format!(
            "Invalid value for 'reasoning.effort': {effort}. Supported values are: {}.",
            LEVELS.map(|l| format!("'{l}'")).join(", ")
        ))),
    }
}

/// A refusal the model itself returns (Bedrock wraps its message).
fn model_error(m: String) -> ApiError {
    ApiError::validation(format!("The model returned the following errors: {m}"))
}

/// Claude's `thinking`: a type the model takes, a budget under `max_tokens`, and no
/// temperature but 1 while it thinks.
fn anthropic_thinking(
    body: &Value,
    thinking: &Value,
    style: Reasoning,
    max_tokens: Option<u64>,
) -> Result<(), ApiError> {
    let kind = thinking.get("type").and_then(Value::as_str).unwrap_or("");
    let accepted = match style {
        Reasoning::AnthropicAdaptive => ["enabled", "disabled", "adaptive"].contains(&kind),
        Reasoning::AnthropicBudget => ["enabled", "disabled"].contains(&kind),
        _ => false,
    };
    if !accepted {
        return Err(model_error(if style == Reasoning::None {
            "thinking: Extra inputs are not permitted".into()
        } else {
            format!("thinking.type: Input should be 'enabled' or 'disabled', got '{kind}'")
        }));
    }
    if kind == "enabled" {
        let budget = thinking.get("budget_tokens").and_then(Value::as_u64);
        match budget {
            Some(b) if b >= MIN_THINKING_BUDGET => {
                if max_tokens.is_none_or(|m| m <= b) {
                    return Err(model_error(
                        "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size".into(),
                    ));
                }
            }
            _ => {
                return Err(model_error(format!(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to {MIN_THINKING_BUDGET}"
                )))
            }
        }
    }
    if kind != "disabled" {
        let temperature = body
            .pointer("/inferenceConfig/temperature")
            .and_then(Value::as_f64);
        if temperature.is_some_and(|t| t != 1.0) {
            return Err(model_error(
                "`temperature` may only be set to 1 when thinking is enabled or in adaptive mode. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility".into(),
            ));
        }
    }
    Ok(())
}

/// Nova's `reasoningConfig`: a type, and an effort of low, medium or high.
fn nova_reasoning(config: &Value, style: Reasoning) -> Result<(), ApiError> {
    if style != Reasoning::NovaEffort {
        return Err(ApiError::validation(
            "The model returned the following errors: reasoningConfig is not supported by this model",
        ));
    }
    let kind = config.get("type").and_then(Value::as_str).unwrap_or("");
    if !["enabled", "disabled"].contains(&kind) {
        return Err(ApiError::validation(format!(
            "Malformed input request: reasoningConfig.type must be enabled or disabled, got '{kind}'"
        )));
    }
    if let Some(effort) = config.get("maxReasoningEffort") {
        if !["low", "medium", "high"].contains(&effort.as_str().unwrap_or("")) {
            return Err(ApiError::validation(format!(
                "Malformed input request: reasoningConfig.maxReasoningEffort must be low, medium or high, got {effort}"
            )));
        }
    }
    Ok(())
}
