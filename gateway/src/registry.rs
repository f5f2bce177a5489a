//! The providers the gateway serves and the models they list, addressed as
//! `provider/model`, or by the bare model id when only one provider lists it.
//!
//! A plugin file replaced on disk is picked up on reload (SIGHUP) without dropping streams in
//! flight: requests hold the registry they started with, new ones get the new one. The
//! system loader hands back the library already mapped for a path it has seen, so a changed
//! file is loaded from a fresh copy of it (plugins are never unloaded, `abi_stable`'s rule).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use host_sdk::{ModelInfo, Plugin, Provider};

/// One plugin file as loaded: where it is, what it looked like, and the plugin.
struct Loaded {
    path: PathBuf,
    stamp: (u64, Option<SystemTime>),
    plugin: Plugin,
}

/// Loaded providers and their models.
pub struct Registry {
    loaded: Vec<Loaded>,
    providers: BTreeMap<String, Provider>,
    /// Every model, by its `provider/model` name.
    models: BTreeMap<String, (String, ModelInfo)>,
}

/// The size and modification time of a file, to tell whether it changed.
fn stamp(path: &Path) -> Result<(u64, Option<SystemTime>), String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((meta.len(), meta.modified().ok()))
}

/// The plugin files `paths` name: files as given, directories by their shared libraries.
fn plugin_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.ends_with(std::env::consts::DLL_SUFFIX))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("{} holds no plugin", path.display()));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Where this process keeps the copies of changed plugins it loaded.
pub fn staging_dir() -> PathBuf {
    std::env::temp_dir().join(format!("gateway-plugins-{}", std::process::id()))
}

/// A private copy of `path` to load a changed plugin from.
fn stage(path: &Path) -> Result<PathBuf, String> {
    let dir = staging_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into());
    let copy = dir.join(format!("{}-{name}", fastrand::u64(..)));
    std::fs::copy(path, &copy)
        .map_err(|e| format!("cannot copy {} to {}: {e}", path.display(), copy.display()))?;
    Ok(copy)
}

impl Registry {
    /// Loads each plugin (a file or a directory of them), configures it with `config` and
    /// lists its models. With `previous`, a file unchanged since then keeps its plugin and a
    /// changed one is loaded anew. Errors name the plugin and what to fix.
    pub fn load(
        paths: &[PathBuf],
        config: &str,
        previous: Option<&Registry>,
    ) -> Result<Self, String> {
        let mut loaded = Vec::new();
        let mut providers = BTreeMap::new();
        let mut models = BTreeMap::new();
        for path in plugin_files(paths)? {
            let now = stamp(&path)?;
            let kept = previous
                .and_then(|r| r.loaded.iter().find(|l| l.path == path))
                .filter(|l| l.stamp == now)
                .map(|l| l.plugin.clone());
            let plugin = match kept {
                Some(plugin) => plugin,
                None => {
                    let from = if previous.is_some() {
                        stage(&path)?
                    } else {
                        path.clone()
                    };
                    Plugin::load(&from)
                        .map_err(|e| format!("cannot load {}: {e}", path.display()))?
                }
            };
            let id = plugin.metadata().provider_id.to_string();
            let provider = plugin
                .new_provider(config)
                .map_err(|e| format!("cannot configure {id}: {e}"))?;
            for warning in provider.config_warnings() {
                tracing::warn!("{id}: {warning}");
            }
            let listed = provider
                .list_models()
                .map_err(|e| format!("{id} cannot list its models: {e}"))?;
            for model in listed {
                models.insert(format!("{id}/{}", model.id), (id.clone(), model));
            }
            providers.insert(id, provider);
            loaded.push(Loaded {
                path,
                stamp: now,
                plugin,
            });
        }
        Ok(Self {
            loaded,
            providers,
            models,
        })
    }

    /// Every model, by its `provider/model` name.
    pub fn models(&self) -> impl Iterator<Item = (&String, &ModelInfo)> {
        self.models.iter().map(|(name, (_, info))| (name, info))
    }

    /// The model listed as `name` (`provider/model`).
    pub fn model(&self, name: &str) -> Option<&ModelInfo> {
        self.models.get(name).map(|(_, info)| info)
    }

    /// The provider, the model id and the `provider/model` name for `name` (`provider/model`
    /// or a bare, unambiguous model id), or why there is none.
    pub fn resolve(&self, name: &str) -> Result<(&Provider, String, String), String> {
        if let Some((provider, info)) = self.models.get(name) {
            return Ok((
                &self.providers[provider],
                info.id.to_string(),
                name.to_string(),
            ));
        }
        let bare: Vec<&(String, ModelInfo)> = self
            .models
            .values()
            .filter(|(_, info)| info.id.as_str() == name)
            .collect();
        match bare.as_slice() {
            [(provider, info)] => Ok((
                &self.providers[provider],
                info.id.to_string(),
                format!("{provider}/{}", info.id),
            )),
            [] => {
                // A provider prefix with a model it does not list still goes to it: the
                // provider says whether the id is valid (an application profile ARN, say).
                if let Some((provider, model)) = name.split_once('/') {
                    if let Some(p) = self.providers.get(provider) {
                        return Ok((p, model.to_string(), name.to_string()));
                    }
                }
                Err(format!(
                    "the model `{name}` does not exist: GET /v1/models lists the models (as provider/model)"
                ))
            }
            several => Err(format!(
                "the model `{name}` is listed by {} providers: name it as provider/model ({})",
                several.len(),
                several
                    .iter()
                    .map(|(p, _)| format!("{p}/{name}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}
