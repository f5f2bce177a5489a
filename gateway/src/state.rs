//! The gateway's state, shared by every request: the providers (reloadable), the keys and
//! their ledger, the limits each request is held to, and the operator's choices. Nothing
//! here knows the routes or the dialects that read it.

use std::sync::Arc;

use crate::front_door::{AllowedHosts, BodyLimits};
use crate::image_urls::ImageFetcher;
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::registry::Registry;

/// Who may read `/metrics`.
#[derive(Clone, Debug)]
pub enum MetricsAccess {
    /// Whoever may use the gateway (any client key; everyone on a gateway without keys).
    ClientKeys,
    /// Only requests with this key (`--metrics-key-file`).
    Key(String),
    /// Not on this listener: `--metrics-listen` serves it on its own address.
    Elsewhere,
}

/// The limits one request is held to.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    pub body: BodyLimits,
    /// How long the model may take to send its first output; until then the HTTP status is
    /// not committed, so a failure before any output is a proper HTTP error.
    pub first_byte_timeout: std::time::Duration,
    /// How long one request may take in all.
    pub request_timeout: std::time::Duration,
    /// How long a request may wait for room when the most model calls are in flight; then
    /// it is shed with a 503.
    pub queue_timeout: std::time::Duration,
}

pub struct Gateway {
    /// The registry new requests use; a request keeps the one it started with.
    pub registry: std::sync::RwLock<Arc<Registry>>,
    /// What a reload loads again.
    pub plugin_paths: Vec<std::path::PathBuf>,
    pub config: String,
    /// Plugins' configuration warnings are logged rather than fatal (`--lenient-config`).
    pub lenient_config: bool,
    /// `gateway.aliases`: short names for models.
    pub aliases: std::collections::BTreeMap<String, Vec<String>>,
    /// Client API keys; none means no key is required (loopback demos).
    pub keys: Keys,
    pub metrics: Arc<Metrics>,
    pub limits: RequestLimits,
    pub metrics_access: MetricsAccess,
    /// Room for model calls in flight (`--max-in-flight`): past it, requests wait briefly,
    /// then are shed, so the ones accepted keep their latency.
    pub admission: Arc<tokio::sync::Semaphore>,
    pub max_in_flight: usize,
    /// The `Host` names requests may give.
    pub allowed_hosts: Arc<AllowedHosts>,
    /// Origins whose pages may call the gateway (`--cors-origin`); none: no CORS at all.
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// Fetches images given by URL (`--allow-image-urls`); none refuses them.
    pub images: Option<ImageFetcher>,
    /// Keys' rate limits, budgets and spend, in this process's store or the shared one.
    pub ledger: Arc<crate::ledger::Ledger>,
    /// The key `GET /admin/keys` asks for (`--admin-key-file`); none: no admin endpoint.
    pub admin_key: Option<String>,
    /// Traces of model calls (`gateway.telemetry`).
    pub telemetry: Option<crate::telemetry::Telemetry>,
}

impl Gateway {
    /// The registry as it is now.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Loads the plugin files again (those that changed on disk from fresh copies); new
    /// requests use the result, streams in flight keep theirs. On failure nothing changes.
    pub fn reload(&self) -> Result<(), String> {
        let next = Registry::load(&self.plugin_paths, &self.config, self.lenient_config)?
            .with_aliases(self.aliases.clone())?;
        *self
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        Ok(())
    }
}
