//! Inference settings and reasoning: how each model family is asked to think, and the
//! sampling and token limits that follow from it.

use aws_sdk_bedrockruntime::types::InferenceConfiguration;
use aws_smithy_types::Document;
use host_sdk::{ConverseRequest, ProviderError, ToolChoice};
use serde_json::Value;

use super::to_document;
use crate::errors::invalid_request;
use crate::model_facts::{Family, ReasoningStyle};

/// Answer room left above a thinking budget when the caller's maxTokens would not leave any.
pub const THINKING_ANSWER_ROOM: u32 = 4096;

/// The request's inference configuration and model fields, and what of the host's settings
/// could not be sent (for the host to be told).
pub(super) struct InferenceAndReasoning {
    pub inference: Option<InferenceConfiguration>,
    pub extra: Option<Document>,
    /// Converse's own `outputConfig.effort`, for the models that take it.
    pub effort: Option<String>,
    pub notices: Vec<String>,
}

pub(super) fn inference_and_reasoning(
    req: &ConverseRequest,
    family: Option<&Family>,
    option_fields: &serde_json::Map<String, Value>,
) -> Result<InferenceAndReasoning, ProviderError> {
    let inf = &req.inference;
    check_sampling(inf)?;
    let mut sampling = Sampling {
        max_tokens: inf.max_tokens,
        temperature: inf.temperature,
        top_p: inf.top_p,
    };
    let mut extra = model_fields(req, option_fields)?;
    let mut effort = None;
    if let Some(reasoning) = &req.reasoning {
        let style = family.map(|f| f.reasoning).unwrap_or(ReasoningStyle::None);
        let limit = family.map(|f| f.max_tokens as u32).unwrap_or(u32::MAX);
        check_reasoning(req, reasoning, style)?;
        match style {
            ReasoningStyle::AnthropicBudget { interleaved } => anthropic_budget(
                reasoning,
                interleaved,
                limit,
                &mut sampling,
                &mut extra,
            )?,
            ReasoningStyle::AnthropicAdaptive { summarize } => {
                effort = anthropic_adaptive(reasoning, summarize, limit, &mut sampling, &mut extra)
            }
            ReasoningStyle::NovaEffort => {
                with_host_fields(
                    &mut extra,
                    "reasoningConfig",
                    serde_json::json!({"type": "enabled", "maxReasoningEffort": three_level_effort(reasoning)}),
                );
            }
            ReasoningStyle::OpenAiEffort => {
                if !extra.contains_key("reasoning_effort") {
                    extra.insert(
                        "reasoning_effort".into(),
                        Value::String(three_level_effort(reasoning).into()),
                    );
                }
            }
            ReasoningStyle::OpenAiNestedEffort => {
                // Every level the host may ask for is one these models take.
                let effort = asked_effort(reasoning).unwrap_or_else(|| "medium".into());
                with_host_fields(&mut extra, "reasoning", serde_json::json!({"effort": effort}));
            }
            ReasoningStyle::XaiEffort { .. } => {
                return Err(invalid_request(format!(
                    "model `{}` reasons only on Bedrock's Responses API: leave its `api` to the model table (or set `openai-responses`)",
                    req.model
                )))
            }
            ReasoningStyle::Always => {}
            ReasoningStyle::None => {
                return Err(invalid_request(format!(
                    "model `{}` does not support configurable reasoning: remove `reasoning` from the request",
                    req.model
                )))
            }
        }
    }
    let notices = dropped_sampling(inf, &sampling, &req.model);
    let inference = InferenceConfiguration::builder()
        .set_max_tokens(sampling.max_tokens.map(|n| n.min(i32::MAX as u32) as i32))
        .set_temperature(sampling.temperature)
        .set_top_p(sampling.top_p)
        .set_stop_sequences((!inf.stop_sequences.is_empty()).then(|| inf.stop_sequences.clone()))
        .build();
    let inference = (inference != InferenceConfiguration::builder().build()).then_some(inference);
    let extra = (!extra.is_empty()).then(|| to_document(&Value::Object(extra)));
    Ok(InferenceAndReasoning {
        inference,
        extra,
        effort,
        notices,
    })
}

/// The sampling and length settings as they will be sent (a reasoning style may change
/// them).
struct Sampling {
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
}

/// The host's sampling settings, within the ranges every model takes.
fn check_sampling(inf: &host_sdk::InferenceConfig) -> Result<(), ProviderError> {
    if let Some(t) = inf.temperature.filter(|t| !(0.0..=1.0).contains(t)) {
        return Err(invalid_request(format!(
            "inference.temperature must be between 0 and 1, got {t}"
        )));
    }
    if let Some(p) = inf.top_p.filter(|p| !(0.0..=1.0).contains(p)) {
        return Err(invalid_request(format!(
            "inference.topP must be between 0 and 1, got {p}"
        )));
    }
    if inf.max_tokens == Some(0) {
        return Err(invalid_request(
            "inference.maxTokens must be greater than 0",
        ));
    }
    Ok(())
}

/// `additionalModelRequestFields`: the host's `extra` and its provider options' fields, which
/// may not both set one field.
fn model_fields(
    req: &ConverseRequest,
    option_fields: &serde_json::Map<String, Value>,
) -> Result<serde_json::Map<String, Value>, ProviderError> {
    let mut extra = match &req.extra {
        None => serde_json::Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(invalid_request(
                "`extra` must be a JSON object (it becomes additionalModelRequestFields)",
            ))
        }
    };
    for (key, value) in option_fields {
        if extra.contains_key(key) {
            return Err(invalid_request(format!(
                "additionalModelRequestFields.{key} is set both in `extra` and in providerOptions[\"amazon-bedrock\"]: keep one"
            )));
        }
        extra.insert(key.clone(), value.clone());
    }
    Ok(extra)
}

/// What every reasoning request must be: a known effort, and (Anthropic's models) no tool
/// forced while the model reasons.
fn check_reasoning(
    req: &ConverseRequest,
    reasoning: &host_sdk::ReasoningConfig,
    style: ReasoningStyle,
) -> Result<(), ProviderError> {
    if let Some(effort) = reasoning
        .effort
        .as_ref()
        .filter(|e| !EFFORTS.contains(&e.as_str()))
    {
        return Err(invalid_request(format!(
            "reasoning.effort must be one of {}, got \"{effort}\"",
            EFFORTS.join(", ")
        )));
    }
    let anthropic = matches!(
        style,
        ReasoningStyle::AnthropicBudget { .. } | ReasoningStyle::AnthropicAdaptive { .. }
    );
    let forced = matches!(
        req.tool_choice,
        Some(ToolChoice::Any | ToolChoice::Tool { .. })
    );
    if anthropic && forced && !req.tools.is_empty() {
        return Err(invalid_request(format!(
            "model `{}` cannot be forced to call a tool while it reasons: use toolChoice auto (or none), or remove `reasoning`",
            req.model
        )));
    }
    Ok(())
}

/// Anthropic's budget thinking: `thinking: {type: enabled, budget_tokens}`, maxTokens raised
/// to leave the answer room, interleaved thinking where the model can, default sampling.
fn anthropic_budget(
    reasoning: &host_sdk::ReasoningConfig,
    interleaved: bool,
    limit: u32,
    sampling: &mut Sampling,
    extra: &mut serde_json::Map<String, Value>,
) -> Result<(), ProviderError> {
    let budget = reasoning.budget_tokens.unwrap_or_else(|| {
        // An effort level stands for a budget that still leaves answer room.
        budget_for_effort(reasoning.effort.as_deref())
            .min(limit.saturating_sub(THINKING_ANSWER_ROOM))
            .max(1024)
    });
    if budget < 1024 {
        return Err(invalid_request(format!(
            "reasoning.budgetTokens must be at least 1024, got {budget}"
        )));
    }
    if budget >= limit {
        return Err(invalid_request(format!(
            "reasoning.budgetTokens ({budget}) must be below the model's output limit of {limit} tokens"
        )));
    }
    // The budget counts against maxTokens: raise maxTokens to leave room for the answer (the
    // caller's maxTokens, or a default answer room, above the budget).
    let answer = sampling.max_tokens.unwrap_or(THINKING_ANSWER_ROOM);
    let needed = if answer <= budget {
        budget.saturating_add(answer.max(THINKING_ANSWER_ROOM))
    } else {
        answer
    };
    sampling.max_tokens = Some(needed.min(limit).max(budget + 1));
    with_host_fields(
        extra,
        "thinking",
        serde_json::json!({"type": "enabled", "budget_tokens": budget}),
    );
    // Thinking between tool calls, as pi-ai does by default: an agent loop gets a model that
    // reasons about each tool result. The host may turn it off.
    if interleaved && reasoning.interleaved != Some(false) {
        add_beta(extra, INTERLEAVED_THINKING_BETA)?;
    }
    // Thinking requires the default sampling settings.
    sampling.temperature = None;
    sampling.top_p = None;
    Ok(())
}

/// Anthropic's adaptive thinking: `thinking: {type: adaptive}`, room for thinking and answer,
/// default sampling; the effort it returns goes in Converse's own `outputConfig.effort`
/// (botocore's model, 2026-07: low to max, capped at high without extended thinking), unless
/// the host wrote Anthropic's `output_config` into the model fields itself, which then
/// carries it.
fn anthropic_adaptive(
    reasoning: &host_sdk::ReasoningConfig,
    summarize: bool,
    limit: u32,
    sampling: &mut Sampling,
    extra: &mut serde_json::Map<String, Value>,
) -> Option<String> {
    // Adaptive thinking takes no budget; a budget-only request asks for the effort that
    // budget stands for.
    let effort = asked_effort(reasoning);
    let mut thinking = serde_json::json!({"type": "adaptive"});
    if summarize {
        thinking["display"] = "summarized".into();
    }
    // The host's own settings (`display: "omitted"`, say) win over ours.
    with_host_fields(extra, "thinking", thinking);
    // maxTokens caps thinking and answer together: leave room for both.
    if sampling.max_tokens.is_none() {
        sampling.max_tokens = Some(ADAPTIVE_DEFAULT_MAX_TOKENS.min(limit));
    }
    sampling.temperature = None;
    sampling.top_p = None;
    match extra.get_mut("output_config") {
        Some(Value::Object(host)) => {
            if let Some(effort) = effort {
                host.entry("effort").or_insert(Value::String(effort));
            }
            None
        }
        _ => effort,
    }
}

/// Sampling settings the reasoning style leaves out: said, never silently dropped.
fn dropped_sampling(inf: &host_sdk::InferenceConfig, sent: &Sampling, model: &str) -> Vec<String> {
    let dropped: Vec<&str> = [
        (
            inf.temperature.is_some() && sent.temperature.is_none(),
            "inference.temperature",
        ),
        (
            inf.top_p.is_some() && sent.top_p.is_none(),
            "inference.topP",
        ),
    ]
    .into_iter()
    .filter_map(|(dropped, name)| dropped.then_some(name))
    .collect();
    if dropped.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "{} not sent: {model} reasons with its default sampling, which takes no other value",
        dropped.join(" and ")
    )]
}

/// The beta that lets Claude 4 models think between tool calls.
pub const INTERLEAVED_THINKING_BETA: &str = "interleaved-thinking-2025-05-14";

/// Sets `extra[key]` to `ours`, keeping every field the host set there itself.
fn with_host_fields(extra: &mut serde_json::Map<String, Value>, key: &str, ours: Value) {
    let merged = match (ours, extra.remove(key)) {
        (Value::Object(mut ours), Some(Value::Object(host))) => {
            ours.extend(host);
            Value::Object(ours)
        }
        (ours, _) => ours,
    };
    extra.insert(key.into(), merged);
}

/// Adds an Anthropic beta flag to `anthropic_beta`, keeping the host's.
fn add_beta(extra: &mut serde_json::Map<String, Value>, beta: &str) -> Result<(), ProviderError> {
    let betas = extra
        .entry("anthropic_beta")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(betas) = betas.as_array_mut() else {
        return Err(invalid_request(
            "additionalModelRequestFields.anthropic_beta must be an array of beta names",
        ));
    };
    if !betas.iter().any(|b| b == beta) {
        betas.push(Value::String(beta.into()));
    }
    Ok(())
}

/// The low/medium/high effort of models with three levels (Nova 2, gpt-oss): the request's
/// effort (`xhigh` and `max` are `high`), else the one its budget stands for, else medium.
fn three_level_effort(reasoning: &host_sdk::ReasoningConfig) -> &'static str {
    match reasoning.effort.as_deref() {
        Some("low") => "low",
        Some("medium") => "medium",
        Some(_) => "high",
        None => match reasoning.budget_tokens.map(effort_for_budget).as_deref() {
            Some("low") => "low",
            Some("high") => "high",
            _ => "medium",
        },
    }
}

/// The effort levels Anthropic's `output_config.effort` accepts.
pub const EFFORTS: [&str; 5] = ["low", "medium", "high", "xhigh", "max"];

/// maxTokens for adaptive thinking when the caller set none (thinking and answer share it).
pub const ADAPTIVE_DEFAULT_MAX_TOKENS: u32 = 32_000;

/// The effort level the host asked for, or the one its budget stands for (for models that
/// take a level, not a budget).
pub(super) fn asked_effort(reasoning: &host_sdk::ReasoningConfig) -> Option<String> {
    reasoning
        .effort
        .clone()
        .or_else(|| reasoning.budget_tokens.map(effort_for_budget))
}

pub(super) fn effort_for_budget(budget: u32) -> String {
    match budget {
        0..=2_048 => "low",
        2_049..=8_192 => "medium",
        _ => "high",
    }
    .into()
}

pub(super) fn budget_for_effort(effort: Option<&str>) -> u32 {
    match effort {
        Some("low") => 1024,
        Some("high") => 16_384,
        Some("xhigh") => 24_576,
        Some("max") => 32_000,
        _ => 4096,
    }
}
