//! # bedrock-plugin: Amazon Bedrock for any host-sdk host
//!
//! A `cdylib` exporting the host-sdk root module for the provider `amazon-bedrock`, speaking
//! `bedrock-converse-stream` and authenticating through the AWS SDK credential chain. Hosts
//! load it at run time (`host_sdk::Plugin::load`); nothing here is linked into them.
//!
//! Module map: [`config`] reads the host's document, [`credentials`] decides the credential
//! source and region, [`clients`] builds the SDK clients, [`discovery`] (with [`profiles`] and
//! [`model_facts`]) lists invocable models, [`translate`] turns requests into ConverseStream
//! calls, [`stream`] maps the event stream back, [`errors`] names every failure, and
//! [`runtime`] owns the one tokio runtime; [`logging`] forwards the plugin's `tracing` events to
//! the host's log sink (contract 1.4).

use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RVec};
use host_sdk::contract::{
    LogSinkBox, ProviderBox, ProviderMetadata, ProviderModule, ProviderModuleRef, Provider_TO,
};
use host_sdk::plugin::{guard, GuardedProvider};
use host_sdk::{ProviderError, CONTRACT_VERSION};

pub(crate) mod citations;
pub(crate) mod clients;
pub(crate) mod config;
pub(crate) mod config_keys;
pub(crate) mod converse_wire;
pub(crate) mod credential_chain;
pub(crate) mod credentials;
pub(crate) mod discovery;
pub(crate) mod document;
pub(crate) mod embeddings;
pub(crate) mod errors;
pub(crate) mod logging;
pub(crate) mod mantle;
pub(crate) mod model_facts;
pub(crate) mod model_table_file;
pub(crate) mod pricing;
pub(crate) mod profiles;
pub(crate) mod provider;
pub(crate) mod response_body;
pub(crate) mod runtime;
pub(crate) mod signed_http;
pub(crate) mod stream;
pub(crate) mod translate;
pub(crate) mod trust;

/// The plugin's root module, checked by the host's loader for version and layout.
#[export_root_module]
pub fn root_module() -> ProviderModuleRef {
    logging::route_panics_to_log();
    ProviderModule {
        metadata: plugin_metadata,
        new_provider,
        set_log_sink,
    }
    .leak_into_prefix()
}

pub fn metadata() -> ProviderMetadata {
    ProviderMetadata {
        provider_id: config::PROVIDER_ID.into(),
        api: config::API.into(),
        auth: config::AUTH.into(),
        display_name: "Amazon Bedrock".into(),
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        contract_version: CONTRACT_VERSION.into(),
        capabilities: [
            "streaming",
            "discovery",
            "inference-profiles",
            "tools",
            "reasoning",
            "images",
            "documents",
            "prompt-caching",
            "cancellation",
            "guardrails",
            "structured-output",
            "strict-tools",
            "service-tiers",
            "count-tokens",
            "embeddings",
        ]
        .into_iter()
        .map(Into::into)
        .collect::<RVec<_>>(),
    }
}

extern "C" fn plugin_metadata() -> ProviderMetadata {
    metadata()
}

extern "C" fn new_provider(config: RStr<'_>) -> RResult<ProviderBox, ProviderError> {
    guard("new_provider", || {
        let provider = GuardedProvider::new(provider::BedrockProvider::new(config.as_str())?)?;
        Ok(Provider_TO::from_value(provider, TD_Opaque))
    })
}

extern "C" fn set_log_sink(sink: LogSinkBox) {
    // `install` catches its own panics; the guard is the boundary's rule, kept for symmetry.
    let _ = guard("set_log_sink", || {
        logging::install(sink);
        Ok(())
    });
}
