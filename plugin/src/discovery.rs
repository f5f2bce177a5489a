//! Model discovery: ListFoundationModels (streaming, text output, active, provider filter)
//! joined with ListInferenceProfiles, so that every listed id can actually be invoked in the
//! configured region, plus the account's application inference profiles (listed by ARN, with
//! the model behind each), and the models Mantle serves that answer only on the Responses API
//! (its `/v1/models`, kept to those the model table says need that API), merged with the
//! configured models, and cached.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RString, RVec};
use aws_sdk_bedrock::types::{
    FoundationModelLifecycleStatus, FoundationModelSummary, InferenceProfileSummary,
    InferenceProfileType, InferenceType, ModelModality,
};
use host_sdk::{ModelInfo, ModelSource, ProviderError};

use crate::clients::Clients;
use crate::config::{DiscoveryConfig, ModelEntry, PluginConfig};
use crate::errors::{from_sdk_error, CallContext};
use crate::model_facts::{self, ModelTable};
use crate::profiles;

/// The models a provider lists: configured ones first, then discovered ones whose ids are not
/// configured (a configured entry overrides the discovered one with the same id).
pub fn merge(configured: Vec<ModelInfo>, discovered: Vec<ModelInfo>) -> Vec<ModelInfo> {
    let ids: HashSet<RString> = configured.iter().map(|m| m.id.clone()).collect();
    configured
        .into_iter()
        .chain(discovered.into_iter().filter(|m| !ids.contains(&m.id)))
        .collect()
}

pub fn configured_models(config: &PluginConfig, facts: &ModelTable) -> Vec<ModelInfo> {
    config
        .provider
        .models
        .iter()
        .map(|m| configured_model(m, &config.discovery, facts))
        .collect()
}

fn configured_model(m: &ModelEntry, d: &DiscoveryConfig, facts: &ModelTable) -> ModelInfo {
    let base = m
        .base_model
        .as_deref()
        .map(model_facts::base_model_id)
        .unwrap_or_else(|| model_facts::base_model_id(&m.id));
    let family = facts.lookup(base);
    ModelInfo {
        id: m.id.as_str().into(),
        name: m.name.clone().unwrap_or_else(|| m.id.clone()).into(),
        vendor: vendor_of(base).into(),
        base_model_id: if base == m.id {
            RString::new()
        } else {
            base.into()
        },
        reasoning: m.reasoning,
        // The entry's modalities, else the model table's, else text.
        input: match (&m.input, family) {
            (Some(input), _) => input.iter().map(|s| RString::from(s.as_str())).collect(),
            (None, Some(f)) => f.input.iter().map(|s| RString::from(s.as_str())).collect(),
            (None, None) => RVec::from(vec![RString::from("text")]),
        },
        // The prices of the table when the entry names none.
        cost: crate::pricing::Pricing::for_model(&m.id, base, Some(m.cost.as_model_cost()), facts)
            .map(|p| p.rates)
            .unwrap_or_default(),
        context_window: m
            .context_window
            .or(family.map(|f| f.context_window))
            .unwrap_or(d.default_context_window),
        max_tokens: m
            .max_tokens
            .or(family.map(|f| f.max_tokens))
            .unwrap_or(d.default_max_tokens),
        source: ModelSource::Configured,
    }
}

fn vendor_of(base_id: &str) -> String {
    match base_id.split('.').next().unwrap_or("") {
        "anthropic" => "Anthropic",
        "amazon" => "Amazon",
        "meta" => "Meta",
        "mistral" => "Mistral AI",
        "cohere" => "Cohere",
        "ai21" => "AI21 Labs",
        "deepseek" => "DeepSeek",
        "openai" => "OpenAI",
        "writer" => "Writer",
        "qwen" => "Qwen",
        _ => "",
    }
    .to_string()
}

/// A discovery answer; `degraded` says what is missing from it and why.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub models: Vec<ModelInfo>,
    pub degraded: Option<String>,
}

/// Calls the control plane and builds the discovered list.
/// `facts` describes what ListFoundationModels does not say.
pub async fn discover(
    clients: &Clients,
    d: &DiscoveryConfig,
    facts: &ModelTable,
) -> Result<Discovered, ProviderError> {
    let region = clients.target.discovery_region.as_str();
    let source = clients.target.source.describe();
    let ctx = CallContext {
        operation: "ListFoundationModels",
        model_id: None,
        credential_source: &source,
        region,
    };
    let mantle_ctx = CallContext {
        operation: "ListModels (Mantle)",
        ..ctx.clone()
    };
    let (models, profiles, applications, mantle) = tokio::join!(
        clients.control.list_foundation_models().send(),
        list_profile_ids(clients),
        list_profiles(clients, InferenceProfileType::Application),
        clients.mantle.list_models(&mantle_ctx),
    );
    let models = models.map_err(|e| from_sdk_error(&e, &ctx))?;
    let mut degraded = Vec::new();
    let profiles = match profiles {
        Ok(ids) => ids,
        Err(e) => {
            degraded.push(format!(
                "ListInferenceProfiles failed with credentials from {source} ({e}): models that can only be invoked through an inference profile are left out of the list; grant bedrock:ListInferenceProfiles to see them"
            ));
            HashSet::new()
        }
    };
    let applications = applications.unwrap_or_else(|e| {
        degraded.push(format!(
            "listing application inference profiles failed with credentials from {source} ({e}): they are left out of the list"
        ));
        Vec::new()
    });
    let degraded = (!degraded.is_empty()).then(|| degraded.join("; "));
    let filter: Vec<String> = d.provider_filter.iter().map(|p| p.to_lowercase()).collect();
    let wanted = |vendor: &str| filter.is_empty() || filter.contains(&vendor.to_lowercase());
    let mut out = Vec::new();
    for summary in models.model_summaries() {
        if !is_streaming_text_model(summary) {
            continue;
        }
        if !wanted(summary.provider_name().unwrap_or_default()) {
            continue;
        }
        for id in invocable_ids(summary, region, &profiles) {
            out.push(discovered_model(summary, id, d, facts));
        }
    }
    let by_id: HashMap<&str, &FoundationModelSummary> = models
        .model_summaries()
        .iter()
        .map(|m| (m.model_id(), m))
        .collect();
    let applications = applications
        .iter()
        .filter_map(|p| application_profile(p, &by_id, d, facts));
    let mantle = mantle.map_err(|e| {
        format!(
            "Mantle's model list failed with credentials from {source} ({})",
            e.error.message
        )
    });
    out.extend(
        applications
            .chain(responses_only_models(mantle, facts))
            .filter(|m| wanted(&m.vendor)),
    );
    Ok(Discovered {
        models: out,
        degraded,
    })
}

fn is_streaming_text_model(m: &FoundationModelSummary) -> bool {
    m.response_streaming_supported() == Some(true)
        && m.output_modalities().contains(&ModelModality::Text)
        && m.model_lifecycle()
            .is_some_and(|l| l.status() == &FoundationModelLifecycleStatus::Active)
}

/// The ids that invoke this model from `region`: the base id when it supports on-demand
/// throughput, else the system-defined profiles of the region's geography (and `global.`).
fn invocable_ids(
    m: &FoundationModelSummary,
    region: &str,
    profiles: &HashSet<String>,
) -> Vec<String> {
    let types = m.inference_types_supported();
    if types.contains(&InferenceType::OnDemand) {
        return vec![m.model_id().to_string()];
    }
    profiles::invocable_profiles(m.model_id(), region, |id| profiles.contains(id))
}

fn discovered_model(
    m: &FoundationModelSummary,
    id: String,
    d: &DiscoveryConfig,
    facts: &ModelTable,
) -> ModelInfo {
    let family = facts.lookup(m.model_id());
    let base = m.model_id();
    let name = m.model_name().unwrap_or(base);
    let name = match id.split_once('.') {
        Some((prefix, _)) if id != base => format!("{name} ({prefix})"),
        _ => name.to_string(),
    };
    let cost = family.map(|f| f.prices.for_id(&id)).unwrap_or_default();
    ModelInfo {
        base_model_id: if id == base {
            RString::new()
        } else {
            base.into()
        },
        id: id.into(),
        name: name.into(),
        vendor: m.provider_name().unwrap_or_default().into(),
        reasoning: family.is_some_and(|f| f.reasoning != model_facts::ReasoningStyle::None),
        // Bedrock calls audio input SPEECH; the contract calls it audio, as its blocks.
        input: m
            .input_modalities()
            .iter()
            .map(|x| match x.as_str() {
                "SPEECH" => RString::from("audio"),
                other => RString::from(other.to_lowercase()),
            })
            .collect::<RVec<_>>(),
        cost,
        context_window: family
            .map(|f| f.context_window)
            .unwrap_or(d.default_context_window),
        max_tokens: family.map(|f| f.max_tokens).unwrap_or(d.default_max_tokens),
        source: ModelSource::Discovered,
    }
}

/// The models of Mantle's list that answer only on the Responses API. Not every endpoint has
/// a Mantle beside it (a private endpoint, a proxy): its absence leaves out those few models,
/// and does not keep the rest of the answer from being cached.
fn responses_only_models(
    listed: Result<Vec<String>, String>,
    facts: &ModelTable,
) -> Vec<ModelInfo> {
    match listed {
        Ok(ids) => ids
            .iter()
            .filter_map(|id| responses_only_model(id, facts))
            .collect(),
        Err(why) => {
            tracing::info!(
                "{why}: the models that answer only on the Responses API are left out of the list"
            );
            Vec::new()
        }
    }
}

/// A model Mantle lists that the model table says answers only on the Responses API (the
/// rest of Mantle's list answers on Converse too, and is listed from ListFoundationModels).
fn responses_only_model(id: &str, facts: &ModelTable) -> Option<ModelInfo> {
    let family = facts
        .lookup(id)
        .filter(|f| f.api == model_facts::Api::Responses)?;
    Some(ModelInfo {
        id: id.into(),
        name: family.name.as_str().into(),
        vendor: vendor_of(id).into(),
        base_model_id: RString::new(),
        reasoning: family.reasoning != model_facts::ReasoningStyle::None,
        input: family
            .input
            .iter()
            .map(|s| RString::from(s.as_str()))
            .collect(),
        cost: family.prices.for_id(id),
        context_window: family.context_window,
        max_tokens: family.max_tokens,
        source: ModelSource::Discovered,
    })
}

/// The foundation model id in a model ARN (`arn:aws:bedrock:<region>::foundation-model/<id>`).
pub fn model_id_of_arn(arn: &str) -> &str {
    arn.rsplit_once("foundation-model/")
        .map_or(arn, |(_, id)| id)
}

/// An application inference profile as a model entry: invoked by its ARN, described by the
/// foundation model behind it.
fn application_profile(
    p: &InferenceProfileSummary,
    foundation: &HashMap<&str, &FoundationModelSummary>,
    d: &DiscoveryConfig,
    facts: &ModelTable,
) -> Option<ModelInfo> {
    let base = model_id_of_arn(p.models().first()?.model_arn()?);
    let family = facts.lookup(base);
    let input = foundation
        .get(base)
        .map(|m| {
            m.input_modalities()
                .iter()
                .map(|x| RString::from(x.as_str().to_lowercase()))
                .collect::<RVec<_>>()
        })
        .unwrap_or_else(|| RVec::from(vec![RString::from("text")]));
    Some(ModelInfo {
        id: p.inference_profile_arn().into(),
        name: p.inference_profile_name().into(),
        vendor: foundation
            .get(base)
            .and_then(|m| m.provider_name())
            .map(str::to_string)
            .unwrap_or_else(|| vendor_of(base))
            .into(),
        base_model_id: base.into(),
        reasoning: family.is_some_and(|f| f.reasoning != model_facts::ReasoningStyle::None),
        input,
        // An application profile is priced as the model behind it, in its region.
        cost: family.map(|f| f.prices.for_id(base)).unwrap_or_default(),
        context_window: family
            .map(|f| f.context_window)
            .unwrap_or(d.default_context_window),
        max_tokens: family.map(|f| f.max_tokens).unwrap_or(d.default_max_tokens),
        source: ModelSource::Discovered,
    })
}

/// Every inference profile of one type visible to the caller (all pages).
async fn list_profiles(
    clients: &Clients,
    kind: InferenceProfileType,
) -> Result<Vec<InferenceProfileSummary>, String> {
    let mut out = Vec::new();
    let mut pages = clients
        .control
        .list_inference_profiles()
        .type_equals(kind)
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| crate::errors::source_chain(&e))?;
        out.extend(page.inference_profile_summaries().iter().cloned());
    }
    Ok(out)
}

/// Every inference profile id visible to the caller (all pages).
pub async fn list_profile_ids(clients: &Clients) -> Result<HashSet<String>, String> {
    let mut ids = HashSet::new();
    let mut pages = clients
        .control
        .list_inference_profiles()
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| crate::errors::source_chain(&e))?;
        ids.extend(
            page.inference_profile_summaries()
                .iter()
                .map(|p| p.inference_profile_id().to_string()),
        );
    }
    Ok(ids)
}

/// One key's entry: the models and when they were fetched; the async lock is what makes
/// concurrent callers wait for the one fetch in flight.
type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Vec<ModelInfo>)>>>;

/// Discovery results shared by every provider in the process with the same key, so that
/// concurrent callers make one request and a refresh interval is honoured across instances.
#[derive(Default)]
pub struct DiscoveryCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl DiscoveryCache {
    pub fn global() -> &'static DiscoveryCache {
        static CACHE: OnceLock<DiscoveryCache> = OnceLock::new();
        CACHE.get_or_init(DiscoveryCache::default)
    }

    /// Returns the cached list for `key` if younger than `ttl`, else runs `fetch` (one caller
    /// at a time per key; the others wait and reuse its result). Failures and degraded answers
    /// are not cached: the next call tries again.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        key: String,
        ttl: Duration,
        fetch: F,
    ) -> Result<Discovered, ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Discovered, ProviderError>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(key).or_default().clone()
        };
        let mut entry = slot.lock().await;
        if let Some((at, models)) = entry.as_ref() {
            if !ttl.is_zero() && at.elapsed() < ttl {
                return Ok(Discovered {
                    models: models.clone(),
                    degraded: None,
                });
            }
        }
        let found = fetch().await?;
        if !ttl.is_zero() && found.degraded.is_none() {
            *entry = Some((Instant::now(), found.models.clone()));
        }
        Ok(found)
    }
}

/// Everything that changes a discovery answer: region, endpoints, filter, defaults and who
/// asks, and the model table that describes the models. The identity is the hash [`Clients::identity`] computed (a bearer token, an access key
/// id, a profile name or the default-chain member), never a secret itself.
pub fn cache_key(clients: &Clients, d: &DiscoveryConfig, facts: &ModelTable) -> String {
    let t = &clients.target;
    format!(
        "{}|{:?}|{:?}|{:?}|{}|{}|{}|{}",
        t.discovery_region,
        t.control_endpoint,
        t.runtime_endpoint,
        d.provider_filter
            .iter()
            .map(|f| f.to_lowercase())
            .collect::<Vec<_>>(),
        d.default_context_window,
        d.default_max_tokens,
        clients.identity,
        facts.identity
    )
}
