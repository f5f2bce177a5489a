//! The model catalogue: real Bedrock model ids with the shapes ListFoundationModels returns,
//! and the system-defined inference profiles derived from them.

use serde_json::{json, Value};

/// A geography of system-defined cross-region inference profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geo {
    /// `us.` profiles.
    Us,
    /// `eu.` profiles.
    Eu,
    /// `apac.` profiles.
    Apac,
    /// `global.` profiles (only the newest Claude models).
    Global,
}

impl Geo {
    /// Id prefix, without the dot.
    pub fn prefix(self) -> &'static str {
        match self {
            Geo::Us => "us",
            Geo::Eu => "eu",
            Geo::Apac => "apac",
            Geo::Global => "global",
        }
    }

    /// Human-readable prefix used in profile names, as the service names them.
    fn label(self) -> &'static str {
        match self {
            Geo::Us => "US",
            Geo::Eu => "EU",
            Geo::Apac => "APAC",
            Geo::Global => "Global",
        }
    }

    /// Regions the profile routes to. An empty region marks the region-less global ARN.
    pub fn regions(self) -> &'static [&'static str] {
        match self {
            Geo::Us => &["us-east-1", "us-east-2", "us-west-2"],
            Geo::Eu => &["eu-central-1", "eu-west-1", "eu-west-3"],
            Geo::Apac => &[
                "ap-northeast-1",
                "ap-southeast-1",
                "ap-southeast-2",
                "ap-south-1",
            ],
            Geo::Global => &["", "us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"],
        }
    }
}

/// One foundation model as ListFoundationModels describes it.
#[derive(Debug, Clone, Copy)]
pub struct FoundationModel {
    /// Model id, e.g. `anthropic.claude-3-haiku-20240307-v1:0`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Provider name as the service spells it.
    pub provider: &'static str,
    /// Input modalities (TEXT, IMAGE, ...).
    pub input: &'static [&'static str],
    /// Output modalities (TEXT, IMAGE, EMBEDDING).
    pub output: &'static [&'static str],
    /// Whether ConverseStream/InvokeModelWithResponseStream work.
    pub streaming: bool,
    /// Supported customizations.
    pub customizations: &'static [&'static str],
    /// ON_DEMAND, PROVISIONED, INFERENCE_PROFILE.
    pub inference_types: &'static [&'static str],
    /// ACTIVE or LEGACY.
    pub lifecycle: &'static str,
    /// Geographies with a system-defined inference profile for this model.
    pub profiles: &'static [Geo],
}

impl FoundationModel {
    /// Whether the base id can be invoked directly (otherwise only through a profile).
    pub fn on_demand(&self) -> bool {
        self.inference_types.contains(&"ON_DEMAND")
    }

    /// Whether Converse can talk to it at all (text output models only).
    pub fn conversational(&self) -> bool {
        self.output.contains(&"TEXT")
    }

    /// The ARN in `region`.
    pub fn arn(&self, region: &str) -> String {
        format!("arn:aws:bedrock:{region}::foundation-model/{}", self.id)
    }

    /// The FoundationModelSummary JSON.
    pub fn summary(&self, region: &str) -> Value {
        json!({
            "modelArn": self.arn(region),
            "modelId": self.id,
            "modelName": self.name,
            "providerName": self.provider,
            "inputModalities": self.input,
            "outputModalities": self.output,
            "responseStreamingSupported": self.streaming,
            "customizationsSupported": self.customizations,
            "inferenceTypesSupported": self.inference_types,
            "modelLifecycle": { "status": self.lifecycle },
        })
    }
}

const TEXT: &[&str] = &["TEXT"];
const TEXT_IMAGE: &[&str] = &["TEXT", "IMAGE"];
const TEXT_IMAGE_VIDEO: &[&str] = &["TEXT", "IMAGE", "VIDEO"];
const NONE: &[&str] = &[];
const OD: &[&str] = &["ON_DEMAND"];
const OD_PROV: &[&str] = &["ON_DEMAND", "PROVISIONED"];
const PROFILE_ONLY: &[&str] = &["INFERENCE_PROFILE"];
const FT: &[&str] = &["FINE_TUNING"];
const US_EU_APAC: &[Geo] = &[Geo::Us, Geo::Eu, Geo::Apac];
const ALL_GEOS: &[Geo] = &[Geo::Us, Geo::Eu, Geo::Apac, Geo::Global];

/// Every model the emulator knows, in the order ListFoundationModels returns them.
pub const MODELS: &[FoundationModel] = &[
    FoundationModel {
        id: "anthropic.claude-3-haiku-20240307-v1:0",
        name: "Claude 3 Haiku",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD_PROV,
        lifecycle: "ACTIVE",
        profiles: US_EU_APAC,
    },
    FoundationModel {
        id: "anthropic.claude-3-sonnet-20240229-v1:0",
        name: "Claude 3 Sonnet",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "LEGACY",
        profiles: US_EU_APAC,
    },
    FoundationModel {
        id: "anthropic.claude-3-5-sonnet-20240620-v1:0",
        name: "Claude 3.5 Sonnet",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: US_EU_APAC,
    },
    FoundationModel {
        id: "anthropic.claude-3-5-sonnet-20241022-v2:0",
        name: "Claude 3.5 Sonnet v2",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: &[Geo::Us, Geo::Apac],
    },
    FoundationModel {
        id: "anthropic.claude-3-5-haiku-20241022-v1:0",
        name: "Claude 3.5 Haiku",
        provider: "Anthropic",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: &[Geo::Us],
    },
    FoundationModel {
        id: "anthropic.claude-3-7-sonnet-20250219-v1:0",
        name: "Claude 3.7 Sonnet",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: US_EU_APAC,
    },
    FoundationModel {
        id: "anthropic.claude-sonnet-4-20250514-v1:0",
        name: "Claude Sonnet 4",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: ALL_GEOS,
    },
    FoundationModel {
        id: "anthropic.claude-opus-4-1-20250805-v1:0",
        name: "Claude Opus 4.1",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: &[Geo::Us],
    },
    FoundationModel {
        id: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "Claude Sonnet 4.5",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: ALL_GEOS,
    },
    FoundationModel {
        id: "anthropic.claude-haiku-4-5-20251001-v1:0",
        name: "Claude Haiku 4.5",
        provider: "Anthropic",
        input: TEXT_IMAGE,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: ALL_GEOS,
    },
    FoundationModel {
        id: "amazon.nova-micro-v1:0",
        name: "Nova Micro",
        provider: "Amazon",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: &["FINE_TUNING", "DISTILLATION"],
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: US_EU_APAC,
    },
    FoundationModel {
        id: "amazon.nova-lite-v1:0",
        name: "Nova Lite",
        provider: "Amazon",
        input: TEXT_IMAGE_VIDEO,
        output: TEXT,
        streaming: true,
        customizations: &["FINE_TUNING", "DISTILLATION"],
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: US_EU_APAC,
    },
    FoundationModel {
        id: "amazon.nova-pro-v1:0",
        name: "Nova Pro",
        provider: "Amazon",
        input: TEXT_IMAGE_VIDEO,
        output: TEXT,
        streaming: true,
        customizations: &["FINE_TUNING", "DISTILLATION"],
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: US_EU_APAC,
    },
    FoundationModel {
        id: "amazon.nova-premier-v1:0",
        name: "Nova Premier",
        provider: "Amazon",
        input: TEXT_IMAGE_VIDEO,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: &[Geo::Us],
    },
    FoundationModel {
        id: "amazon.titan-text-express-v1",
        name: "Titan Text G1 - Express",
        provider: "Amazon",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: &["FINE_TUNING", "CONTINUED_PRE_TRAINING"],
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "amazon.titan-text-lite-v1",
        name: "Titan Text G1 - Lite",
        provider: "Amazon",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: &["FINE_TUNING", "CONTINUED_PRE_TRAINING"],
        inference_types: OD,
        lifecycle: "LEGACY",
        profiles: &[],
    },
    FoundationModel {
        id: "amazon.titan-tg1-large",
        name: "Titan Text Large",
        provider: "Amazon",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "LEGACY",
        profiles: &[],
    },
    FoundationModel {
        id: "amazon.titan-embed-text-v1",
        name: "Titan Embeddings G1 - Text",
        provider: "Amazon",
        input: TEXT,
        output: &["EMBEDDING"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "amazon.titan-embed-text-v2:0",
        name: "Titan Text Embeddings V2",
        provider: "Amazon",
        input: TEXT,
        output: &["EMBEDDING"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "amazon.titan-image-generator-v2:0",
        name: "Titan Image Generator G1 v2",
        provider: "Amazon",
        input: TEXT_IMAGE,
        output: &["IMAGE"],
        streaming: false,
        customizations: FT,
        inference_types: OD_PROV,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "stability.stable-image-core-v1:1",
        name: "Stable Image Core 1.0",
        provider: "Stability AI",
        input: TEXT,
        output: &["IMAGE"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "stability.sd3-5-large-v1:0",
        name: "Stable Diffusion 3.5 Large",
        provider: "Stability AI",
        input: TEXT_IMAGE,
        output: &["IMAGE"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "meta.llama3-8b-instruct-v1:0",
        name: "Llama 3 8B Instruct",
        provider: "Meta",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "meta.llama3-70b-instruct-v1:0",
        name: "Llama 3 70B Instruct",
        provider: "Meta",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "meta.llama3-2-1b-instruct-v1:0",
        name: "Llama 3.2 1B Instruct",
        provider: "Meta",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: FT,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: &[Geo::Us, Geo::Eu],
    },
    FoundationModel {
        id: "meta.llama3-3-70b-instruct-v1:0",
        name: "Llama 3.3 70B Instruct",
        provider: "Meta",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: PROFILE_ONLY,
        lifecycle: "ACTIVE",
        profiles: &[Geo::Us],
    },
    FoundationModel {
        id: "mistral.mistral-7b-instruct-v0:2",
        name: "Mistral 7B Instruct",
        provider: "Mistral AI",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "mistral.mistral-large-2402-v1:0",
        name: "Mistral Large (24.02)",
        provider: "Mistral AI",
        input: TEXT,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "ai21.j2-ultra-v1",
        name: "Jurassic-2 Ultra",
        provider: "AI21 Labs",
        input: TEXT,
        output: TEXT,
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "LEGACY",
        profiles: &[],
    },
];

/// Looks a base model id up.
pub fn model(id: &str) -> Option<&'static FoundationModel> {
    MODELS.iter().find(|m| m.id == id)
}

/// Filters of ListFoundationModels. `None` means "no filter".
#[derive(Debug, Default, Clone)]
pub struct ModelFilter {
    /// Case-insensitive provider name.
    pub by_provider: Option<String>,
    /// Output modality, exact.
    pub by_output_modality: Option<String>,
    /// Inference type, exact.
    pub by_inference_type: Option<String>,
    /// Customization type, exact.
    pub by_customization_type: Option<String>,
}

/// Models matching every given filter.
pub fn list_models(filter: &ModelFilter) -> Vec<&'static FoundationModel> {
    MODELS
        .iter()
        .filter(|m| {
            filter
                .by_provider
                .as_ref()
                .is_none_or(|p| m.provider.eq_ignore_ascii_case(p))
                && filter
                    .by_output_modality
                    .as_ref()
                    .is_none_or(|o| m.output.contains(&o.as_str()))
                && filter
                    .by_inference_type
                    .as_ref()
                    .is_none_or(|t| m.inference_types.contains(&t.as_str()))
                && filter
                    .by_customization_type
                    .as_ref()
                    .is_none_or(|c| m.customizations.contains(&c.as_str()))
        })
        .collect()
}

/// A system-defined inference profile.
#[derive(Debug, Clone, Copy)]
pub struct InferenceProfile {
    /// The geography.
    pub geo: Geo,
    /// The model it routes to.
    pub model: &'static FoundationModel,
}

/// Fixed timestamps: deterministic output matters more than realism here.
const PROFILE_CREATED_AT: &str = "2024-08-27T00:00:00Z";
const PROFILE_UPDATED_AT: &str = "2025-01-15T00:00:00Z";

impl InferenceProfile {
    /// `us.anthropic...` style id.
    pub fn id(&self) -> String {
        format!("{}.{}", self.geo.prefix(), self.model.id)
    }

    /// ARN in `region` for `account`.
    pub fn arn(&self, region: &str, account: &str) -> String {
        format!(
            "arn:aws:bedrock:{region}:{account}:inference-profile/{}",
            self.id()
        )
    }

    /// The InferenceProfileSummary JSON (GetInferenceProfile returns the same fields).
    pub fn summary(&self, region: &str, account: &str) -> Value {
        let regions = self.geo.regions();
        let models: Vec<Value> = regions
            .iter()
            .map(|r| json!({ "modelArn": self.model.arn(r) }))
            .collect();
        let named: Vec<&str> = regions.iter().copied().filter(|r| !r.is_empty()).collect();
        json!({
            "inferenceProfileName": format!("{} {} {}", self.geo.label(), self.model.provider, self.model.name),
            "description": format!("Routes requests to {} {} in {}.", self.model.provider, self.model.name, named.join(", ")),
            "createdAt": PROFILE_CREATED_AT,
            "updatedAt": PROFILE_UPDATED_AT,
            "inferenceProfileArn": self.arn(region, account),
            "models": models,
            "inferenceProfileId": self.id(),
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        })
    }
}

/// Every system-defined profile, grouped by model in catalogue order.
pub fn profiles() -> Vec<InferenceProfile> {
    MODELS
        .iter()
        .flat_map(|m| {
            m.profiles
                .iter()
                .map(move |&geo| InferenceProfile { geo, model: m })
        })
        .collect()
}

/// Whether a client in `region` can see and invoke profiles of this geography: a geography's
/// own regions, and `global.` from any region of the other geographies.
pub fn geo_serves_region(geo: Geo, region: &str) -> bool {
    match geo {
        Geo::Global => [Geo::Us, Geo::Eu, Geo::Apac]
            .iter()
            .any(|g| g.regions().contains(&region)),
        other => other.regions().contains(&region),
    }
}

/// The profiles ListInferenceProfiles returns in `region` (the service lists only those
/// callable from the client's region, e.g. `us.` and `global.` in us-east-1).
pub fn profiles_for_region(region: &str) -> Vec<InferenceProfile> {
    profiles()
        .into_iter()
        .filter(|p| geo_serves_region(p.geo, region))
        .collect()
}

/// Looks a profile up by id among those callable from `region`.
pub fn profile(id: &str, region: &str) -> Option<InferenceProfile> {
    profiles_for_region(region)
        .into_iter()
        .find(|p| p.id() == id)
}
