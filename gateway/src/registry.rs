//! The providers the gateway serves and the models they list, addressed as
//! `provider/model`, or by the bare model id when only one provider lists it.

use std::collections::BTreeMap;
use std::path::Path;

use host_sdk::{ModelInfo, Plugin, Provider};

/// Loaded providers and their models.
pub struct Registry {
    providers: BTreeMap<String, Provider>,
    /// Every model, by its `provider/model` name.
    models: BTreeMap<String, (String, ModelInfo)>,
}

impl Registry {
    /// Loads each plugin (a file or a directory of them), configures it with `config` and
    /// lists its models. Errors name the plugin and what to fix.
    pub fn load(paths: &[impl AsRef<Path>], config: &str) -> Result<Self, String> {
        let mut providers = BTreeMap::new();
        let mut models = BTreeMap::new();
        for path in paths {
            let path = path.as_ref();
            let plugin =
                Plugin::load(path).map_err(|e| format!("cannot load {}: {e}", path.display()))?;
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
        }
        Ok(Self { providers, models })
    }

    /// Every model, by its `provider/model` name.
    pub fn models(&self) -> impl Iterator<Item = (&String, &ModelInfo)> {
        self.models.iter().map(|(name, (_, info))| (name, info))
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
