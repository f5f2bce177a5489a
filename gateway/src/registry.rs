//! The providers the gateway serves and the models they list, addressed as
//! `provider/model`, or by the bare model id when only one provider lists it.
//!
//! A plugin file replaced on disk is picked up on reload (SIGHUP) without dropping streams in
//! flight: requests hold the registry they started with, new ones get the new one. host-sdk's
//! loader maps a private copy of each file, so writing over a loaded file harms nothing, and
//! it hands back the library already mapped when the bytes are the same. A replaced plugin's
//! providers go with the last request that holds them (the library's code stays mapped:
//! plugins are never unloaded, `abi_stable`'s rule).

use std::collections::BTreeMap;
use std::path::PathBuf;

use host_sdk::{EmbeddingModel, ErrorKind, ModelInfo, Plugin, Provider};

/// Loaded providers and their models.
pub struct Registry {
    /// Short names for models (`gateway.aliases`), each to its models in order.
    aliases: BTreeMap<String, Vec<String>>,
    providers: BTreeMap<String, Provider>,
    /// Every model, by its `provider/model` name.
    models: BTreeMap<String, (String, ModelInfo)>,
    /// Every embedding model, by its `provider/model` name.
    embedders: BTreeMap<String, (String, EmbeddingModel)>,
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

impl Registry {
    /// Loads each plugin (a file or a directory of them), configures it with `config` and
    /// lists its models. A file whose bytes did not change since an earlier load gets the
    /// library already mapped; a changed one is mapped anew. Errors name the plugin and what
    /// to fix; a configuration the plugin warns about (an unknown key, a near miss) is an
    /// error too, since a gateway must not run on a configuration it misread, unless
    /// `lenient` (then the warnings are logged).
    pub fn load(paths: &[PathBuf], config: &str, lenient: bool) -> Result<Self, String> {
        let mut providers = BTreeMap::new();
        let mut models = BTreeMap::new();
        let mut embedders = BTreeMap::new();
        for path in plugin_files(paths)? {
            let plugin =
                Plugin::load(&path).map_err(|e| format!("cannot load {}: {e}", path.display()))?;
            let id = plugin.metadata().provider_id.to_string();
            let provider = plugin
                .new_provider(config)
                .map_err(|e| format!("cannot configure {id}: {e}"))?;
            let warnings = provider.config_warnings();
            for warning in warnings.iter().filter(|_| lenient) {
                tracing::warn!("{id}: {warning}");
            }
            if !warnings.is_empty() && !lenient {
                return Err(format!(
                    "the configuration for {id} is not what it reads: {} (fix it, or start with --lenient-config to run anyway)",
                    warnings.join("; ")
                ));
            }
            let listed = provider
                .list_models()
                .map_err(|e| format!("{id} cannot list its models: {e}"))?;
            for model in listed {
                models.insert(format!("{id}/{}", model.id), (id.clone(), model));
            }
            // A plugin built before contract 1.7 has no embeddings: it serves chat only.
            match provider.list_embedding_models() {
                Ok(listed) => {
                    for model in listed {
                        embedders.insert(format!("{id}/{}", model.id), (id.clone(), model));
                    }
                }
                Err(e) if e.kind == ErrorKind::Other("unsupported".into()) => {}
                Err(e) => return Err(format!("{id} cannot list its embedding models: {e}")),
            }
            if providers.insert(id.clone(), provider).is_some() {
                return Err(format!(
                    "two plugins are the provider {id}: give each provider one plugin"
                ));
            }
        }
        Ok(Self {
            aliases: BTreeMap::new(),
            providers,
            models,
            embedders,
        })
    }

    /// The registry with `aliases`; an alias naming a model no provider serves is an error
    /// (a typo there would only show when a client uses it, or when its fallback is needed).
    pub fn with_aliases(mut self, aliases: BTreeMap<String, Vec<String>>) -> Result<Self, String> {
        for (alias, models) in &aliases {
            for model in models {
                let (_, _, full) = self
                    .resolve_model(model)
                    .map_err(|why| format!("gateway.aliases.{alias}: {why}"))?;
                if !self.models.contains_key(&full) {
                    return Err(format!(
                        "gateway.aliases.{alias}: no provider lists the model `{model}` (GET /v1/models lists them)"
                    ));
                }
            }
        }
        self.aliases = aliases;
        Ok(self)
    }

    /// The models a request for `name` may be served by, in the order they are tried: an
    /// alias's models (the ones after the first are its fallbacks), or the one model `name`
    /// is (see [`Registry::resolve`]).
    pub fn candidates(&self, name: &str) -> Result<Vec<(&Provider, String, String)>, String> {
        match self.aliases.get(name) {
            Some(models) => models.iter().map(|m| self.resolve_model(m)).collect(),
            None => Ok(vec![self.resolve_model(name)?]),
        }
    }

    /// Each alias with the `provider/model` name of the model it calls.
    pub fn aliases(&self) -> impl Iterator<Item = (&String, String)> {
        self.aliases.keys().filter_map(|alias| {
            let (_, _, target) = self.resolve(alias).ok()?;
            Some((alias, target))
        })
    }

    /// Whether `name` is an alias.
    pub fn is_alias(&self, name: &str) -> bool {
        self.aliases.contains_key(name)
    }

    /// Every model, by its `provider/model` name.
    pub fn models(&self) -> impl Iterator<Item = (&String, &ModelInfo)> {
        self.models.iter().map(|(name, (_, info))| (name, info))
    }

    /// Every embedding model, by its `provider/model` name.
    pub fn embedders(&self) -> impl Iterator<Item = (&String, &EmbeddingModel)> {
        self.embedders.iter().map(|(name, (_, info))| (name, info))
    }

    /// The embedding model a request for `name` goes to (`provider/model`, or a bare id
    /// one provider lists), or why there is none.
    pub fn embedding_candidates(
        &self,
        name: &str,
    ) -> Result<Vec<(&Provider, String, String)>, String> {
        if let Some((provider, info)) = self.embedders.get(name) {
            return Ok(vec![(
                &self.providers[provider],
                info.id.clone(),
                name.to_string(),
            )]);
        }
        let bare: Vec<&(String, EmbeddingModel)> = self
            .embedders
            .values()
            .filter(|(_, info)| info.id == name)
            .collect();
        match bare.as_slice() {
            [(provider, info)] => Ok(vec![(
                &self.providers[provider],
                info.id.clone(),
                format!("{provider}/{}", info.id),
            )]),
            [] => Err(format!(
                "`{name}` is not an embedding model any provider lists: GET /v1/models lists them (as provider/model)"
            )),
            several => Err(format!(
                "the embedding model `{name}` is listed by {} providers: name it as provider/model",
                several.len()
            )),
        }
    }

    /// The model listed as `name` (`provider/model`).
    pub fn model(&self, name: &str) -> Option<&ModelInfo> {
        self.models.get(name).map(|(_, info)| info)
    }

    /// The provider, the model id and the `provider/model` name for `name` (`provider/model`
    /// or a bare, unambiguous model id), or why there is none.
    pub fn resolve(&self, name: &str) -> Result<(&Provider, String, String), String> {
        // An alias is its first model (the ones after it are for fallbacks).
        if let Some(first) = self.aliases.get(name).and_then(|models| models.first()) {
            return self.resolve_model(first);
        }
        self.resolve_model(name)
    }

    /// [`Registry::resolve`] for a name that is not an alias.
    fn resolve_model(&self, name: &str) -> Result<(&Provider, String, String), String> {
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
                // A base model id that answers only through inference profiles (`us.`,
                // `global.`, ...): name the profiles that are listed.
                let profiles: Vec<&String> = self
                    .models
                    .keys()
                    .filter(|listed| {
                        listed
                            .split_once('/')
                            .and_then(|(_, id)| id.split_once('.'))
                            .is_some_and(|(_, base)| base == name)
                    })
                    .collect();
                if !profiles.is_empty() {
                    return Err(format!(
                        "the model `{name}` is called through an inference profile: use {}",
                        profiles
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ));
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
