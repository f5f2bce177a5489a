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
    /// `au.` profiles (Australia; its regions also reach `apac.`).
    Au,
    /// `jp.` profiles (Japan; its regions also reach `apac.`).
    Jp,
    /// `global.` profiles (the newest models).
    Global,
}

impl Geo {
    /// Id prefix, without the dot.
    pub fn prefix(self) -> &'static str {
        match self {
            Geo::Us => "us",
            Geo::Eu => "eu",
            Geo::Apac => "apac",
            Geo::Au => "au",
            Geo::Jp => "jp",
            Geo::Global => "global",
        }
    }

    /// Human-readable prefix used in profile names, as the service names them.
    fn label(self) -> &'static str {
        match self {
            Geo::Us => "US",
            Geo::Eu => "EU",
            Geo::Apac => "APAC",
            Geo::Au => "AU",
            Geo::Jp => "JP",
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
            Geo::Au => &["ap-southeast-2", "ap-southeast-4"],
            Geo::Jp => &["ap-northeast-1", "ap-northeast-3"],
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
const TEXT_SPEECH: &[&str] = &["TEXT", "SPEECH"];
const NONE: &[&str] = &[];
const OD: &[&str] = &["ON_DEMAND"];
const OD_PROV: &[&str] = &["ON_DEMAND", "PROVISIONED"];
const PROFILE_ONLY: &[&str] = &["INFERENCE_PROFILE"];
const FT: &[&str] = &["FINE_TUNING"];
const US_EU_APAC: &[Geo] = &[Geo::Us, Geo::Eu, Geo::Apac];
const ALL_GEOS: &[Geo] = &[Geo::Us, Geo::Eu, Geo::Apac, Geo::Global];

const NOVA_REEL: FoundationModel = FoundationModel {
    id: "amazon.nova-reel-v1:0",
    name: "Nova Reel",
    provider: "Amazon",
    input: TEXT_IMAGE,
    output: &["VIDEO"],
    streaming: false,
    customizations: NONE,
    inference_types: OD,
    lifecycle: "ACTIVE",
    profiles: &[],
};

/// A text-output, streaming model without customizations (most of today's catalogue).
#[allow(clippy::too_many_arguments)]
const fn row(
    id: &'static str,
    name: &'static str,
    provider: &'static str,
    input: &'static [&'static str],
    inference_types: &'static [&'static str],
    lifecycle: &'static str,
    profiles: &'static [Geo],
) -> FoundationModel {
    FoundationModel {
        id,
        name,
        provider,
        input,
        output: TEXT,
        streaming: true,
        customizations: NONE,
        inference_types,
        lifecycle,
        profiles,
    }
}

/// Every model the emulator knows, in the order ListFoundationModels returns them.
#[rustfmt::skip]
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
        lifecycle: "LEGACY",
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
        lifecycle: "LEGACY",
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
        lifecycle: "LEGACY",
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
        lifecycle: "LEGACY",
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
        profiles: &[Geo::Us, Geo::Eu, Geo::Apac, Geo::Au, Geo::Jp, Geo::Global],
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
        profiles: &[Geo::Us, Geo::Eu, Geo::Apac, Geo::Au, Geo::Jp, Geo::Global],
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
        id: "amazon.titan-embed-image-v1",
        name: "Titan Multimodal Embeddings G1",
        provider: "Amazon",
        input: TEXT_IMAGE,
        output: &["EMBEDDING"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    // Video generation: answered only through StartAsyncInvoke (`async_invoke.rs`).
    NOVA_REEL,
    FoundationModel {
        id: "amazon.nova-reel-v1:1",
        ..NOVA_REEL
    },
    FoundationModel {
        id: "amazon.nova-2-multimodal-embeddings-v1:0",
        name: "Amazon Nova Multimodal Embeddings",
        provider: "Amazon",
        input: &["TEXT", "IMAGE", "AUDIO", "VIDEO"],
        output: &["EMBEDDING"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "cohere.embed-english-v3",
        name: "Embed English",
        provider: "Cohere",
        input: TEXT_IMAGE,
        output: &["EMBEDDING"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "cohere.embed-multilingual-v3",
        name: "Embed Multilingual",
        provider: "Cohere",
        input: TEXT_IMAGE,
        output: &["EMBEDDING"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[],
    },
    FoundationModel {
        id: "cohere.embed-v4:0",
        name: "Embed v4",
        provider: "Cohere",
        input: TEXT_IMAGE,
        output: &["EMBEDDING"],
        streaming: false,
        customizations: NONE,
        inference_types: OD,
        lifecycle: "ACTIVE",
        profiles: &[Geo::Us, Geo::Eu],
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
// Today's models (checked 2026-11-29 against pi-ai's generated Bedrock list and LiteLLM's;
// ids and profile geographies as Bedrock lists them). Compact rows: text-output, streaming
// models without customizations.
    row("anthropic.claude-opus-4-20250514-v1:0", "Claude Opus 4", "Anthropic", TEXT_IMAGE, PROFILE_ONLY, "LEGACY", &[Geo::Us]),
    row("anthropic.claude-opus-4-5-20251101-v1:0", "Claude Opus 4.5", "Anthropic", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Eu, Geo::Global]),
    row("anthropic.claude-opus-4-6-v1", "Claude Opus 4.6", "Anthropic", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Eu, Geo::Au, Geo::Global]),
    row("anthropic.claude-opus-4-7", "Claude Opus 4.7", "Anthropic", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Eu, Geo::Global]),
    row("anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", "Anthropic", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Eu, Geo::Au, Geo::Global]),
    row("amazon.nova-2-lite-v1:0", "Nova 2 Lite", "Amazon", TEXT_IMAGE_VIDEO, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Eu, Geo::Apac, Geo::Jp, Geo::Global]),
    row("meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B Instruct", "Meta", TEXT, OD, "ACTIVE", &[Geo::Us]),
    row("meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B Instruct", "Meta", TEXT, OD, "ACTIVE", &[Geo::Us]),
    row("meta.llama3-1-405b-instruct-v1:0", "Llama 3.1 405B Instruct", "Meta", TEXT, OD, "ACTIVE", &[]),
    row("meta.llama3-2-3b-instruct-v1:0", "Llama 3.2 3B Instruct", "Meta", TEXT, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Eu]),
    row("meta.llama3-2-11b-instruct-v1:0", "Llama 3.2 11B Instruct", "Meta", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us]),
    row("meta.llama3-2-90b-instruct-v1:0", "Llama 3.2 90B Instruct", "Meta", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us]),
    row("meta.llama4-scout-17b-instruct-v1:0", "Llama 4 Scout 17B Instruct", "Meta", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us]),
    row("meta.llama4-maverick-17b-instruct-v1:0", "Llama 4 Maverick 17B Instruct", "Meta", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us]),
    row("mistral.mistral-large-3-675b-instruct", "Mistral Large 3", "Mistral AI", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("mistral.pixtral-large-2502-v1:0", "Pixtral Large (25.02)", "Mistral AI", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Eu]),
    row("mistral.magistral-small-2509", "Magistral Small 1.2", "Mistral AI", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("mistral.ministral-3-3b-instruct", "Ministral 3 3B", "Mistral AI", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("mistral.ministral-3-8b-instruct", "Ministral 3 8B", "Mistral AI", TEXT, OD, "ACTIVE", &[]),
    row("mistral.ministral-3-14b-instruct", "Ministral 3 14B", "Mistral AI", TEXT, OD, "ACTIVE", &[]),
    row("mistral.devstral-2-123b", "Devstral 2 123B", "Mistral AI", TEXT, OD, "ACTIVE", &[]),
    row("mistral.voxtral-mini-3b-2507", "Voxtral Mini 3B 2507", "Mistral AI", TEXT_SPEECH, OD, "ACTIVE", &[]),
    row("mistral.voxtral-small-24b-2507", "Voxtral Small 24B 2507", "Mistral AI", TEXT_SPEECH, OD, "ACTIVE", &[]),
    row("deepseek.r1-v1:0", "DeepSeek-R1", "DeepSeek", TEXT, PROFILE_ONLY, "ACTIVE", &[Geo::Us]),
    row("deepseek.v3-v1:0", "DeepSeek-V3.1", "DeepSeek", TEXT, OD, "ACTIVE", &[]),
    row("deepseek.v3.2", "DeepSeek-V3.2", "DeepSeek", TEXT, OD, "ACTIVE", &[]),
    row("openai.gpt-5.6-sol", "GPT-5.6 Sol", "OpenAI", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Global]),
    row("openai.gpt-5.6-terra", "GPT-5.6 Terra", "OpenAI", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Global]),
    row("openai.gpt-5.6-luna", "GPT-5.6 Luna", "OpenAI", TEXT_IMAGE, PROFILE_ONLY, "ACTIVE", &[Geo::Us, Geo::Global]),
    row("openai.gpt-oss-120b-1:0", "gpt-oss-120b", "OpenAI", TEXT, OD, "ACTIVE", &[]),
    row("openai.gpt-oss-20b-1:0", "gpt-oss-20b", "OpenAI", TEXT, OD, "ACTIVE", &[]),
    row("openai.gpt-oss-safeguard-120b", "gpt-oss-safeguard-120b", "OpenAI", TEXT, OD, "ACTIVE", &[]),
    row("openai.gpt-oss-safeguard-20b", "gpt-oss-safeguard-20b", "OpenAI", TEXT, OD, "ACTIVE", &[]),
    row("qwen.qwen3-32b-v1:0", "Qwen3 32B (dense)", "Qwen", TEXT, OD, "ACTIVE", &[]),
    row("qwen.qwen3-235b-a22b-2507-v1:0", "Qwen3 235B A22B 2507", "Qwen", TEXT, OD, "ACTIVE", &[]),
    row("qwen.qwen3-coder-30b-a3b-v1:0", "Qwen3 Coder 30B A3B Instruct", "Qwen", TEXT, OD, "ACTIVE", &[]),
    row("qwen.qwen3-coder-480b-a35b-v1:0", "Qwen3 Coder 480B A35B Instruct", "Qwen", TEXT, OD, "ACTIVE", &[]),
    row("qwen.qwen3-coder-next", "Qwen3 Coder Next", "Qwen", TEXT, OD, "ACTIVE", &[]),
    row("qwen.qwen3-next-80b-a3b", "Qwen3 Next 80B A3B", "Qwen", TEXT, OD, "ACTIVE", &[]),
    row("qwen.qwen3-vl-235b-a22b", "Qwen3 VL 235B A22B", "Qwen", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("google.gemma-3-4b-it", "Gemma 3 4B IT", "Google", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("google.gemma-3-12b-it", "Gemma 3 12B IT", "Google", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("google.gemma-3-27b-it", "Gemma 3 27B IT", "Google", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("minimax.minimax-m2", "MiniMax M2", "MiniMax", TEXT, OD, "ACTIVE", &[]),
    row("minimax.minimax-m2.1", "MiniMax M2.1", "MiniMax", TEXT, OD, "ACTIVE", &[]),
    row("minimax.minimax-m2.5", "MiniMax M2.5", "MiniMax", TEXT, OD, "ACTIVE", &[]),
    row("moonshot.kimi-k2-thinking", "Kimi K2 Thinking", "Moonshot AI", TEXT, OD, "ACTIVE", &[]),
    row("moonshotai.kimi-k2.5", "Kimi K2.5", "Moonshot AI", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("nvidia.nemotron-nano-9b-v2", "NVIDIA Nemotron Nano 9B v2", "NVIDIA", TEXT, OD, "ACTIVE", &[]),
    row("nvidia.nemotron-nano-12b-v2", "NVIDIA Nemotron Nano 12B v2 VL", "NVIDIA", TEXT_IMAGE, OD, "ACTIVE", &[]),
    row("nvidia.nemotron-nano-3-30b", "NVIDIA Nemotron Nano 3 30B", "NVIDIA", TEXT, OD, "ACTIVE", &[]),
    row("nvidia.nemotron-super-3-120b", "NVIDIA Nemotron 3 Super 120B A12B", "NVIDIA", TEXT, OD, "ACTIVE", &[]),
    row("writer.palmyra-x4-v1:0", "Palmyra X4", "Writer", TEXT, PROFILE_ONLY, "ACTIVE", &[Geo::Us]),
    row("writer.palmyra-x5-v1:0", "Palmyra X5", "Writer", TEXT, PROFILE_ONLY, "ACTIVE", &[Geo::Us]),
    row("zai.glm-4.7", "GLM 4.7", "Z.AI", TEXT, OD, "ACTIVE", &[]),
    row("zai.glm-4.7-flash", "GLM 4.7 Flash", "Z.AI", TEXT, OD, "ACTIVE", &[]),
    row("zai.glm-5", "GLM 5", "Z.AI", TEXT, OD, "ACTIVE", &[]),
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
        Geo::Global => [Geo::Us, Geo::Eu, Geo::Apac, Geo::Au, Geo::Jp]
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

/// A default prompt router: `arn:aws:bedrock:{region}:{account}:default-prompt-router/{id}`
/// sends each request to one of two models of a family, the smaller one for short prompts,
/// and says which in the metadata event's `trace.promptRouter.invokedModelId` (the ARN of
/// the system-defined profile it used).
#[derive(Debug, Clone, Copy)]
pub struct PromptRouter {
    /// The id in the ARN, `{family}:{version}`.
    pub id: &'static str,
    /// The profile ids (without geography) of the small and the large model.
    pub small: &'static str,
    pub large: &'static str,
    /// Prompts of at most this many characters go to the small model.
    pub small_up_to_chars: usize,
}

/// Bedrock's default prompt routers (AWS's "Understanding intelligent prompt routing").
pub const PROMPT_ROUTERS: &[PromptRouter] = &[
    PromptRouter {
        id: "anthropic.claude:1",
        small: "anthropic.claude-3-5-haiku-20241022-v1:0",
        large: "anthropic.claude-3-5-sonnet-20241022-v2:0",
        small_up_to_chars: 200,
    },
    PromptRouter {
        id: "meta.llama:1",
        small: "meta.llama3-1-8b-instruct-v1:0",
        large: "meta.llama3-1-70b-instruct-v1:0",
        small_up_to_chars: 200,
    },
    PromptRouter {
        id: "amazon.nova:1",
        small: "amazon.nova-lite-v1:0",
        large: "amazon.nova-pro-v1:0",
        small_up_to_chars: 200,
    },
];

/// The default prompt router with this id.
pub fn prompt_router(id: &str) -> Option<&'static PromptRouter> {
    PROMPT_ROUTERS.iter().find(|r| r.id == id)
}

/// An application inference profile: an account's own profile in front of a foundation
/// model (or of a system-defined profile), used to tag and track usage. Tests create them
/// ([`crate::RunningEmulator::create_application_profile`]).
#[derive(Debug, Clone)]
pub struct ApplicationProfile {
    /// The 12-character id in its ARN.
    pub id: String,
    pub name: String,
    /// The foundation model behind it.
    pub model: &'static FoundationModel,
    /// The regions it routes to (one for a foundation model, a geography's for a profile).
    pub regions: Vec<String>,
}

impl ApplicationProfile {
    pub fn arn(&self, region: &str, account: &str) -> String {
        format!(
            "arn:aws:bedrock:{region}:{account}:application-inference-profile/{}",
            self.id
        )
    }

    /// The InferenceProfileSummary JSON (as GetInferenceProfile returns it too).
    pub fn summary(&self, region: &str, account: &str) -> Value {
        let models: Vec<Value> = self
            .regions
            .iter()
            .map(|r| json!({ "modelArn": self.model.arn(r) }))
            .collect();
        json!({
            "inferenceProfileName": self.name,
            "description": format!("Application inference profile for {} {}.", self.model.provider, self.model.name),
            "createdAt": PROFILE_CREATED_AT,
            "updatedAt": PROFILE_UPDATED_AT,
            "inferenceProfileArn": self.arn(region, account),
            "models": models,
            "inferenceProfileId": self.id,
            "status": "ACTIVE",
            "type": "APPLICATION",
        })
    }
}
