//! Request options beyond the conversation: the neutral ones (`serviceTier`, `outputFormat`,
//! `metadata`) and Bedrock's own under `providerOptions["amazon-bedrock"]`, in ConverseStream's
//! field names, each checked against the service's rules before any network call.

use std::collections::BTreeMap;

use aws_sdk_bedrockruntime::types::{
    GuardrailStreamConfiguration, GuardrailStreamProcessingMode, GuardrailTrace,
    JsonSchemaDefinition, OutputConfig, OutputFormat as BedrockOutputFormat, OutputFormatStructure,
    OutputFormatType, PerformanceConfigLatency, PerformanceConfiguration, PromptVariableValues,
    ServiceTier, ServiceTierType,
};
use host_sdk::{ConverseRequest, OutputFormat, ProviderError};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::PROVIDER_ID;
use crate::config_keys::nearest;
use crate::errors::invalid_request;

/// Where Bedrock's own options sit in a request document, for messages.
const AT: &str = "providerOptions[\"amazon-bedrock\"]";

/// `providerOptions["amazon-bedrock"]` as the host wrote it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BedrockOptions {
    guardrail_config: Option<GuardrailOptions>,
    performance_config: Option<PerformanceOptions>,
    service_tier: Option<TierOptions>,
    prompt_variables: Option<BTreeMap<String, PromptVariable>>,
    additional_model_response_field_paths: Option<Vec<String>>,
    request_metadata: Option<BTreeMap<String, String>>,
    additional_model_request_fields: Option<Map<String, Value>>,
}

/// The keys of [`BedrockOptions`], for "did you mean".
const KNOWN_KEYS: [&str; 7] = [
    "guardrailConfig",
    "performanceConfig",
    "serviceTier",
    "promptVariables",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
    "additionalModelRequestFields",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GuardrailOptions {
    guardrail_identifier: String,
    guardrail_version: String,
    trace: Option<String>,
    stream_processing_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerformanceOptions {
    latency: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierOptions {
    #[serde(rename = "type")]
    tier: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptVariable {
    text: String,
}

/// The options of one request, in the SDK's types.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub guardrail: Option<GuardrailStreamConfiguration>,
    pub performance: Option<PerformanceConfiguration>,
    pub service_tier: Option<ServiceTier>,
    pub prompt_variables: Option<std::collections::HashMap<String, PromptVariableValues>>,
    pub response_field_paths: Option<Vec<String>>,
    pub request_metadata: Vec<(String, String)>,
    pub output: Option<OutputConfig>,
    /// `additionalModelRequestFields` from the options, merged by the reasoning policy with
    /// the request's `extra`.
    pub model_request_fields: Map<String, Value>,
}

/// The guardrail trace settings that are valid, as Bedrock lists them.
const TRACES: [&str; 3] = ["enabled", "disabled", "enabled_full"];
const PROCESSING_MODES: [&str; 2] = ["sync", "async"];
const LATENCIES: [&str; 2] = ["standard", "optimized"];
/// Bedrock's service tiers.
pub const SERVICE_TIERS: [&str; 4] = ["priority", "default", "flex", "reserved"];
/// Bedrock's limits on `additionalModelResponseFieldPaths`.
const MAX_RESPONSE_FIELD_PATHS: usize = 10;
const MAX_RESPONSE_FIELD_PATH_LEN: usize = 256;

pub(super) fn options(req: &ConverseRequest) -> Result<Options, ProviderError> {
    let own = bedrock_options(req.provider_options.get(PROVIDER_ID))?;
    let mut metadata = req.metadata.clone();
    for (key, value) in own.request_metadata.unwrap_or_default() {
        if metadata.iter().any(|(k, _)| *k == key) {
            return Err(invalid_request(format!(
                "the metadata key {key:?} is set both in `metadata` and in {AT}.requestMetadata: keep one"
            )));
        }
        metadata.push((key, value));
    }
    Ok(Options {
        guardrail: own.guardrail_config.map(guardrail).transpose()?,
        performance: own
            .performance_config
            .map(|p| {
                one_of("performanceConfig.latency", &p.latency, &LATENCIES)?;
                Ok::<_, ProviderError>(
                    PerformanceConfiguration::builder()
                        .latency(PerformanceConfigLatency::from(p.latency.as_str()))
                        .build(),
                )
            })
            .transpose()?,
        service_tier: service_tier(req.service_tier.as_deref(), own.service_tier)?,
        prompt_variables: prompt_variables(&req.model, own.prompt_variables)?,
        response_field_paths: own
            .additional_model_response_field_paths
            .map(response_field_paths)
            .transpose()?,
        request_metadata: request_metadata(&metadata)?,
        output: req.output_format.as_ref().map(output_config).transpose()?,
        model_request_fields: own.additional_model_request_fields.unwrap_or_default(),
    })
}

fn bedrock_options(value: Option<&Value>) -> Result<BedrockOptions, ProviderError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(BedrockOptions::default());
    };
    let Some(object) = value.as_object() else {
        return Err(invalid_request(format!("{AT} must be a JSON object")));
    };
    for key in object.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            let hint = nearest(key, &KNOWN_KEYS)
                .map(|k| format!("did you mean `{k}`?"))
                .unwrap_or_else(|| format!("known keys: {}", KNOWN_KEYS.join(", ")));
            return Err(invalid_request(format!(
                "{AT} has an unknown key `{key}`: {hint}"
            )));
        }
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| invalid_request(format!("{AT}.{} is not valid: {}", e.path(), e.inner())))
}

fn one_of(what: &str, value: &str, allowed: &[&str]) -> Result<(), ProviderError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(invalid_request(format!(
        "{AT}.{what} must be one of {}, got {value:?}",
        allowed.join(", ")
    )))
}

fn guardrail(g: GuardrailOptions) -> Result<GuardrailStreamConfiguration, ProviderError> {
    if !guardrail_identifier_ok(&g.guardrail_identifier) {
        return Err(invalid_request(format!(
            "{AT}.guardrailConfig.guardrailIdentifier {:?} is neither a guardrail id (lower-case letters and digits) nor a guardrail ARN (arn:aws:bedrock:<region>:<account>:guardrail/<id>)",
            g.guardrail_identifier
        )));
    }
    let version_ok = g.guardrail_version == "DRAFT"
        || (g.guardrail_version.len() <= 8
            && g.guardrail_version.chars().all(|c| c.is_ascii_digit())
            && !g.guardrail_version.starts_with('0')
            && !g.guardrail_version.is_empty());
    if !version_ok {
        return Err(invalid_request(format!(
            "{AT}.guardrailConfig.guardrailVersion must be a version number (1, 2, ...) or DRAFT, got {:?}",
            g.guardrail_version
        )));
    }
    let mut b = GuardrailStreamConfiguration::builder()
        .guardrail_identifier(&g.guardrail_identifier)
        .guardrail_version(&g.guardrail_version);
    if let Some(trace) = &g.trace {
        one_of("guardrailConfig.trace", trace, &TRACES)?;
        b = b.trace(GuardrailTrace::from(trace.as_str()));
    }
    if let Some(mode) = &g.stream_processing_mode {
        one_of(
            "guardrailConfig.streamProcessingMode",
            mode,
            &PROCESSING_MODES,
        )?;
        b = b.stream_processing_mode(GuardrailStreamProcessingMode::from(mode.as_str()));
    }
    Ok(b.build())
}

/// Bedrock's pattern for a guardrail identifier: an id, or a guardrail ARN.
fn guardrail_identifier_ok(id: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    if plain(id) {
        return true;
    }
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "bedrock", region, account, resource]
            if partition.starts_with("aws")
            && !region.is_empty()
            && account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("guardrail/").is_some_and(plain))
}

fn service_tier(
    neutral: Option<&str>,
    own: Option<TierOptions>,
) -> Result<Option<ServiceTier>, ProviderError> {
    let tier = match (neutral, own.as_ref().map(|t| t.tier.as_str())) {
        (Some(a), Some(b)) if a != b => {
            return Err(invalid_request(format!(
                "the request asks for service tier {a:?} in `serviceTier` and {b:?} in {AT}.serviceTier: keep one"
            )))
        }
        (Some(tier), _) | (None, Some(tier)) => tier,
        (None, None) => return Ok(None),
    };
    if !SERVICE_TIERS.contains(&tier) {
        return Err(invalid_request(format!(
            "serviceTier must be one of {}, got {tier:?}",
            SERVICE_TIERS.join(", ")
        )));
    }
    ServiceTier::builder()
        .r#type(ServiceTierType::from(tier))
        .build()
        .map(Some)
        .map_err(|e| invalid_request(format!("serviceTier: {e}")))
}

/// Prompt variables fill a prompt from Prompt management, so they need one as the model.
fn prompt_variables(
    model: &str,
    variables: Option<BTreeMap<String, PromptVariable>>,
) -> Result<Option<std::collections::HashMap<String, PromptVariableValues>>, ProviderError> {
    let Some(variables) = variables else {
        return Ok(None);
    };
    let is_prompt = model.starts_with("arn:") && model.contains(":prompt/");
    if !is_prompt {
        return Err(invalid_request(format!(
            "{AT}.promptVariables fill a prompt from Bedrock Prompt management: `model` must then be the prompt's ARN (arn:aws:bedrock:<region>:<account>:prompt/<id>), not `{model}`"
        )));
    }
    Ok(Some(
        variables
            .into_iter()
            .map(|(k, v)| (k, PromptVariableValues::Text(v.text)))
            .collect(),
    ))
}

fn response_field_paths(paths: Vec<String>) -> Result<Vec<String>, ProviderError> {
    if paths.len() > MAX_RESPONSE_FIELD_PATHS {
        return Err(invalid_request(format!(
            "{AT}.additionalModelResponseFieldPaths has {} paths; Bedrock takes at most {MAX_RESPONSE_FIELD_PATHS}",
            paths.len()
        )));
    }
    for path in &paths {
        if !path.starts_with('/') || path.chars().count() > MAX_RESPONSE_FIELD_PATH_LEN {
            return Err(invalid_request(format!(
                "{AT}.additionalModelResponseFieldPaths: {path:?} is not a JSON Pointer of at most {MAX_RESPONSE_FIELD_PATH_LEN} characters (such as \"/stop_sequence\")"
            )));
        }
    }
    Ok(paths)
}

/// Structured output: the schema must be a JSON Schema object the service can compile.
fn output_config(format: &OutputFormat) -> Result<OutputConfig, ProviderError> {
    let OutputFormat::JsonSchema {
        schema,
        name,
        description,
    } = format
    else {
        return Err(invalid_request(
            "outputFormat has a type this plugin does not know; it supports jsonSchema",
        ));
    };
    if !schema.is_object() {
        return Err(invalid_request(
            "outputFormat.schema must be a JSON Schema object",
        ));
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        return Err(invalid_request(format!(
            "outputFormat.schema is not a valid JSON Schema: {e}"
        )));
    }
    let definition = JsonSchemaDefinition::builder()
        .schema(schema.to_string())
        .set_name(name.clone())
        .set_description(description.clone())
        .build()
        .map_err(|e| invalid_request(format!("outputFormat: {e}")))?;
    let text_format = BedrockOutputFormat::builder()
        .r#type(OutputFormatType::JsonSchema)
        .structure(OutputFormatStructure::JsonSchema(definition))
        .build()
        .map_err(|e| invalid_request(format!("outputFormat: {e}")))?;
    Ok(OutputConfig::builder().text_format(text_format).build())
}

/// Bedrock's limits on `requestMetadata`: at most 16 pairs, keys of 1 to 256 and values of up
/// to 256 characters, from letters, digits, white space and `:_@$#=/+,-.`.
pub const MAX_METADATA_PAIRS: usize = 16;
const MAX_METADATA_LEN: usize = 256;

fn request_metadata(pairs: &[(String, String)]) -> Result<Vec<(String, String)>, ProviderError> {
    if pairs.len() > MAX_METADATA_PAIRS {
        return Err(invalid_request(format!(
            "metadata has {} pairs; Bedrock's requestMetadata takes at most {MAX_METADATA_PAIRS}",
            pairs.len()
        )));
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c);
    for (key, value) in pairs {
        for (what, text, min) in [("key", key, 1), ("value", value, 0)] {
            let len = text.chars().count();
            if len < min || len > MAX_METADATA_LEN || !text.chars().all(allowed) {
                return Err(invalid_request(format!(
                    "metadata {what} {text:?} is not accepted by Bedrock's requestMetadata: {min} to {MAX_METADATA_LEN} characters from letters, digits, spaces and :_@$#=/+,-."
                )));
            }
        }
    }
    Ok(pairs.to_vec())
}
