//! The Bedrock provider behind the contract's `Provider` trait: owns the configuration, builds
//! the SDK clients on first use, and runs every call as a task on the plugin's runtime.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr};
use futures::FutureExt;
use host_sdk::contract::{
    EventSinkBox, ModelsReplyBox, Provider, ProviderMetadata, StreamControlBox, StreamControl_TO,
};
use host_sdk::plugin::{guard, panic_error};
use host_sdk::{ConverseRequest, ErrorKind, ModelInfo, ProviderError};
use tokio::sync::{watch, OnceCell};

use crate::clients::{Clients, Target};
use crate::config::{PluginConfig, StreamSettings};
use crate::discovery::{self, DiscoveryCache};
use crate::errors::{error, invalid_request};
use crate::runtime::spawn;
use crate::stream::{self, Control, StreamJob};
use crate::translate;

pub struct BedrockProvider {
    inner: Arc<Inner>,
}

struct Inner {
    config: PluginConfig,
    settings: StreamSettings,
    target: Target,
    configured: Vec<ModelInfo>,
    clients: OnceCell<Arc<Clients>>,
}

impl BedrockProvider {
    /// Parses and checks the configuration; no I/O happens here.
    pub fn new(config_text: &str) -> Result<Self, ProviderError> {
        let config = PluginConfig::parse(config_text)?;
        let target = Target::resolve(&config);
        tracing::debug!(
            source = %target.source.describe(),
            endpoint = ?target.runtime_endpoint,
            "Bedrock provider configured"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                settings: StreamSettings::from_entry(&config.provider),
                configured: discovery::configured_models(&config),
                target,
                config,
                clients: OnceCell::new(),
            }),
        })
    }
}

impl Inner {
    async fn clients(&self) -> Arc<Clients> {
        self.clients
            .get_or_init(|| async { Arc::new(Clients::build(self.target.clone()).await) })
            .await
            .clone()
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let clients = self.clients().await;
        let d = &self.config.discovery;
        let enabled = match d.enabled {
            Some(enabled) => enabled,
            None => clients.credentials_present().await,
        };
        if !enabled {
            if d.enabled.is_none() && self.configured.is_empty() {
                return Err(error(
                    ErrorKind::NoCredentials,
                    format!(
                        "no AWS credentials were found (tried {}), so models cannot be discovered and none are configured: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or AWS_BEARER_TOKEN_BEDROCK), or list models under models.providers.\"amazon-bedrock\".models",
                        clients.target.source.describe()
                    ),
                ));
            }
            return Ok(self.configured.clone());
        }
        let ttl = Duration::from_secs(d.refresh_interval);
        let key = discovery::cache_key(&clients, d);
        let discovered = DiscoveryCache::global()
            .get_or_fetch(key, ttl, || discovery::discover(&clients, d))
            .await?;
        Ok(discovery::merge(self.configured.clone(), discovered))
    }

    fn cost_of(&self, model_id: &str) -> Option<host_sdk::ModelCost> {
        self.configured
            .iter()
            .find(|m| m.id.as_str() == model_id)
            .map(|m| m.cost)
    }
}

impl Provider for BedrockProvider {
    fn metadata(&self) -> ProviderMetadata {
        crate::metadata()
    }

    fn list_models(&self, reply: ModelsReplyBox) {
        let inner = self.inner.clone();
        spawn(async move {
            let result = AssertUnwindSafe(inner.models())
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(panic_error("list_models", p.as_ref())));
            reply.reply(result.map(Into::into).into());
        });
    }

    fn converse_stream(
        &self,
        request_json: RStr<'_>,
        sink: EventSinkBox,
    ) -> RResult<StreamControlBox, ProviderError> {
        guard("converse_stream", || {
            let request: ConverseRequest = serde_json::from_str(request_json.as_str())
                .map_err(|e| invalid_request(format!("the request document is not valid: {e}")))?;
            let prepared = translate::prepare(&request)?;
            let (cancel_tx, cancel_rx) = watch::channel(false);
            let inner = self.inner.clone();
            spawn(async move {
                let job = StreamJob {
                    clients: inner.clients().await,
                    cost: inner.cost_of(&prepared.model_id),
                    prepared,
                    settings: inner.settings,
                    sink,
                    cancel: cancel_rx,
                };
                stream::run(job).await;
            });
            Ok(StreamControl_TO::from_value(Control(cancel_tx), TD_Opaque))
        })
    }
}
