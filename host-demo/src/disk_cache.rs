//! A small on-disk cache of `models list` results. The provider caches discovery in memory,
//! but a CLI process lives for one command: without this, every `models list` would call
//! ListFoundationModels again. Entries expire after the configuration's
//! `models.bedrockDiscovery.refreshInterval` (default 3600 s; 0 disables caching), and
//! `models list --refresh` bypasses them.
//!
//! The entry is keyed by a SHA-256 of everything that changes the answer: the plugin (path,
//! version, contract version), the document handed to it, every `AWS_*` variable and the
//! modification times of the shared AWS config files. Only the hash is stored, never a
//! variable's value: the file holds the model list and its time. Location:
//! `$HOST_DEMO_CACHE_DIR`, else `<platform cache dir>/host-demo`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use host_sdk::ModelInfo;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::commands::config::write_atomically;
use crate::error::CliResult;
use crate::session::Session;

const DEFAULT_REFRESH_INTERVAL: u64 = 3600;

#[derive(Serialize, Deserialize)]
struct Entry {
    created_unix_secs: u64,
    models: Vec<ModelInfo>,
}

pub struct ModelsCache {
    path: PathBuf,
    ttl: Duration,
}

pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("HOST_DEMO_CACHE_DIR") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => dirs::cache_dir().map(|d| d.join("host-demo")),
    }
}

impl ModelsCache {
    /// The cache entry for this session, or `None` when caching is off (refreshInterval 0,
    /// no cache directory, or the embedded emulator, whose address changes every run).
    pub fn for_session(session: &Session, document: &str) -> Option<Self> {
        if session.emulator.is_some() {
            return None;
        }
        let ttl = refresh_interval(session)?;
        let meta = session.plugin.metadata();
        let plugin_path = std::fs::canonicalize(session.plugin.path())
            .unwrap_or_else(|_| session.plugin.path().to_owned());
        let mut h = Sha256::new();
        for part in [
            "host-demo models cache v1",
            &plugin_path.display().to_string(),
            meta.plugin_version.as_str(),
            meta.contract_version.as_str(),
            document,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let mut vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
            .filter(|(k, _)| k.starts_with("AWS_"))
            .collect();
        vars.sort();
        for (k, v) in vars {
            h.update(k.as_bytes());
            h.update([b'=']);
            h.update(v.as_bytes());
            h.update([0]);
        }
        for file in aws_shared_files() {
            let stamp = std::fs::metadata(&file)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            h.update(file.display().to_string().as_bytes());
            h.update(stamp.to_le_bytes());
        }
        let digest = h.finalize();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Some(Self {
            path: cache_dir()?.join(format!("models-{hex}.json")),
            ttl: Duration::from_secs(ttl),
        })
    }

    /// A fresh entry, if there is one.
    pub fn load(&self) -> Option<Vec<ModelInfo>> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        let age = now.checked_sub(entry.created_unix_secs)?;
        (age < self.ttl.as_secs()).then_some(entry.models)
    }

    pub fn store(&self, models: &[ModelInfo]) -> CliResult {
        let entry = Entry {
            created_unix_secs: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            models: models.to_vec(),
        };
        write_atomically(&self.path, &serde_json::to_string(&entry)?)
    }
}

/// `models.bedrockDiscovery.refreshInterval` in seconds; `None` when it is 0 (no caching).
fn refresh_interval(session: &Session) -> Option<u64> {
    let doc = session.config.parse().ok()?;
    let secs = match doc.pointer("/models/bedrockDiscovery/refreshInterval") {
        None => DEFAULT_REFRESH_INTERVAL,
        Some(v) => v.as_u64()?,
    };
    (secs > 0).then_some(secs)
}

fn aws_shared_files() -> Vec<PathBuf> {
    let home = dirs::home_dir().unwrap_or_default();
    let env_or = |var: &str, default: PathBuf| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or(default)
    };
    vec![
        env_or("AWS_CONFIG_FILE", home.join(".aws").join("config")),
        env_or(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join(".aws").join("credentials"),
        ),
    ]
}

/// `models list`'s models: from a fresh cache entry unless `refresh`, else from the provider
/// (and then stored). Failures and incomplete lists are never cached.
pub fn list_models(session: &Session, refresh: bool) -> CliResult<Vec<ModelInfo>> {
    let document = session.config.provider_document(None).unwrap_or_default();
    let cache = ModelsCache::for_session(session, &document);
    if let (Some(cache), false) = (&cache, refresh) {
        if let Some(models) = cache.load() {
            tracing::debug!(path = %cache.path.display(), "models list from the disk cache");
            return Ok(models);
        }
    }
    let (models, complete) = session.list_models_checked()?;
    // An incomplete list (the provider warned) is shown but not kept: the next run asks again.
    if let (Some(cache), true) = (&cache, complete) {
        if let Err(e) = cache.store(&models) {
            tracing::warn!("cannot write the models cache: {}", e.message);
        }
    }
    Ok(models)
}
