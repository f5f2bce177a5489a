//! Turning the global options into a loaded plugin and a configured provider.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use host_sdk::{ErrorKind, LogLevel, Plugin, Provider};

use crate::cli::GlobalOpts;
use crate::config_file::{model_id_for, ConfigFile};
use crate::embedded::{Embedded, Pace};
use crate::error::{CliError, CliResult};

/// The plugin library next to the running executable (`target/<profile>/` in a checkout).
pub fn default_plugin_path() -> CliResult<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::new(format!("cannot locate the running executable: {e}")))?;
    let dir = exe.parent().unwrap_or(&exe);
    Ok(dir.join(format!(
        "{}bedrock_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )))
}

pub fn load_plugin(global: &GlobalOpts) -> CliResult<Plugin> {
    let path = match &global.plugin {
        Some(p) => p.clone(),
        None => default_plugin_path()?,
    };
    tracing::debug!(path = %path.display(), "loading plugin");
    let plugin = Plugin::load(&path).map_err(|e| CliError::load(&e))?;
    if !forward_plugin_logs(&plugin) {
        tracing::debug!(
            contract = %plugin.metadata().contract_version,
            "the plugin predates contract 1.4: its own logs are not available"
        );
    }
    Ok(plugin)
}

/// Routes the plugin's logs into this process's `tracing` (contract 1.4), so `-v`, `-vv` and
/// `RUST_LOG` (with the plugin's own targets, e.g. `RUST_LOG=bedrock_plugin::stream=debug`)
/// show them like the host's. The plugin asks the filter once per log statement, so the
/// filter installed by `init_logging` (which does not change afterwards) answers, and records
/// it drops are never formatted in the plugin. False when the plugin predates 1.4.
pub fn forward_plugin_logs(plugin: &Plugin) -> bool {
    use tracing::level_filters::LevelFilter;
    use tracing_log::AsTrace;

    let max_level = match LevelFilter::current().into_level() {
        None => None,
        Some(tracing::Level::ERROR) => Some(LogLevel::Error),
        Some(tracing::Level::WARN) => Some(LogLevel::Warn),
        Some(tracing::Level::INFO) => Some(LogLevel::Info),
        Some(tracing::Level::DEBUG) => Some(LogLevel::Debug),
        Some(_) => Some(LogLevel::Trace),
    };
    plugin.set_log_sink_filtered(
        max_level,
        |level, target| {
            let metadata = log::Metadata::builder()
                .level(log_level(level))
                .target(target)
                .build();
            tracing::dispatcher::get_default(|d| d.enabled(&metadata.as_trace()))
        },
        |level, target, message| {
            // Checks the filter again and keeps the plugin's target for display and filtering.
            let _ = tracing_log::format_trace(
                &log::Record::builder()
                    .level(log_level(level))
                    .target(target)
                    .args(format_args!("{message}"))
                    .build(),
            );
        },
    )
}

fn log_level(level: LogLevel) -> log::Level {
    match level {
        LogLevel::Error => log::Level::Error,
        LogLevel::Warn => log::Level::Warn,
        LogLevel::Info => log::Level::Info,
        LogLevel::Debug => log::Level::Debug,
        LogLevel::Trace => log::Level::Trace,
    }
}

/// A configured provider and what it took to get there.
pub struct Session {
    pub plugin: Plugin,
    pub provider: Provider,
    pub config: ConfigFile,
    /// Kept alive for as long as the provider may call it.
    pub emulator: Option<Embedded>,
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub load_time: Duration,
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub init_time: Duration,
}

impl Session {
    /// Reads the config, starts the emulator if asked (before any other thread exists), loads
    /// the plugin and creates the provider.
    /// `emulator`: start the embedded emulator with this delivery (`None`: use the real
    /// endpoint the configuration names).
    pub fn open(global: &GlobalOpts, emulator: Option<Pace>) -> CliResult<Self> {
        let with_emulator = emulator.is_some();
        let config = ConfigFile::load(global.config.as_deref())?;
        let emulator = if let Some(delivery) = emulator {
            let emulator = Embedded::start(delivery, config.discovery_region())?;
            eprintln!(
                "note: using the embedded Bedrock emulator at {} (no AWS account is used)",
                emulator.url
            );
            Some(emulator)
        } else {
            None
        };
        let started = Instant::now();
        let plugin = load_plugin(global)?;
        let load_time = started.elapsed();
        let provider_id = plugin.metadata().provider_id.to_string();
        let document = config.provider_document(
            emulator
                .as_ref()
                .map(|e| (provider_id.as_str(), e.url.as_str())),
        )?;
        let describe = |e: &host_sdk::Error| {
            let context = match (&e.kind, &config.path) {
                (ErrorKind::Config, Some(path)) => {
                    format!("invalid provider configuration in {}", path.display())
                }
                _ => format!("cannot create the {provider_id} provider"),
            };
            CliError::provider(&context, e, with_emulator)
        };
        // With the emulator the provider gets a re-serialised document (its baseUrl replaced),
        // whose lines and columns are not the user's: the file as written is checked first,
        // so its errors and warnings point at the user's lines (and a bad baseUrl is not
        // hidden by the overlay).
        let as_written = if emulator.is_some() {
            Some(
                plugin
                    .new_provider(&config.text)
                    .map_err(|e| describe(&e))?,
            )
        } else {
            None
        };
        let started = Instant::now();
        let provider = plugin.new_provider(&document).map_err(|e| describe(&e))?;
        let init_time = started.elapsed();
        // Non-fatal configuration problems (unknown keys, ...), as the plugin reports them.
        for warning in as_written.as_ref().unwrap_or(&provider).config_warnings() {
            eprintln!("warning: {warning}");
        }
        for warning in config.host_key_warnings() {
            eprintln!("warning: {warning}");
        }
        Ok(Self {
            plugin,
            provider,
            config,
            emulator,
            load_time,
            init_time,
        })
    }

    pub fn provider_id(&self) -> String {
        self.plugin.metadata().provider_id.to_string()
    }

    /// `--model`, else the config's primary model, else the first model the provider lists.
    pub fn choose_model(&self, requested: Option<&str>) -> CliResult<String> {
        let provider_id = self.provider_id();
        if let Some(model) = requested {
            if let Some(aliased) = self.config.alias(model)? {
                return model_id_for(&aliased, &provider_id, &format!("the alias {model:?}"));
            }
            return model_id_for(model, &provider_id, "--model");
        }
        if let Some(primary) = self.config.primary_model()? {
            let source = format!(
                "agents.defaults.model.primary in {}",
                self.config
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            return model_id_for(&primary, &provider_id, &source);
        }
        let models = self.list_models()?;
        default_model(&provider_id, &models).ok_or_else(|| {
            CliError::new(format!("the {provider_id} provider lists no models")).with_hint(
                "pass --model ID, declare models under models.providers in the config, or \
                     enable discovery (models.bedrockDiscovery.enabled)",
            )
        })
    }

    /// The provider's models, and whether the list is complete (the provider reported no
    /// problem while making it; its notices are printed as warnings).
    pub fn list_models_checked(&self) -> CliResult<(Vec<host_sdk::ModelInfo>, bool)> {
        // Discovery can take a moment: say so on a terminal.
        let spinner = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_message("discovering models…");
            spinner.enable_steady_tick(Duration::from_millis(100));
            spinner
        });
        let models = self.provider.list_models();
        if let Some(spinner) = spinner {
            spinner.finish_and_clear();
        }
        let models = models
            .map_err(|e| CliError::provider("cannot list models", &e, self.emulator.is_some()))?;
        let notices = self.provider.take_notices();
        for notice in &notices {
            eprintln!("warning: {notice}");
        }
        Ok((models, notices.is_empty()))
    }

    /// Refuses a model the provider does not list, naming the nearest listed id, when the
    /// list is complete (a provider that could not discover its models may still know it).
    pub fn check_listed(&self, model: &str) -> CliResult {
        let (models, complete) = self.list_models_checked()?;
        if !complete || models.iter().any(|m| m.id.as_str() == model) {
            return Ok(());
        }
        let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        let nearest = ids
            .iter()
            .min_by_key(|id| strsim::levenshtein(id, model))
            .copied();
        let guess = nearest
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        Err(CliError::new(format!(
            "the {} provider does not list the model `{model}`{guess} (`models list` shows them all)",
            self.provider_id()
        )))
    }

    pub fn list_models(&self) -> CliResult<Vec<host_sdk::ModelInfo>> {
        self.list_models_checked().map(|(models, _)| models)
    }
}

/// The model host-demo talks to when neither `--model` nor the configuration names one, per
/// provider, by the foundation model (the listed id may be any profile of it): a current
/// model that reasons, reads images and documents and answers in a schema, so that every
/// flag of `chat` works with it.
const DEFAULT_MODELS: &[(&str, &str)] = &[(
    "amazon-bedrock",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
)];

/// The listed model to use by default: this provider's default (its US profile first, then
/// any other listed id of it), else the first listed.
fn default_model(provider_id: &str, models: &[host_sdk::ModelInfo]) -> Option<String> {
    let preferred = DEFAULT_MODELS
        .iter()
        .find(|(provider, _)| *provider == provider_id)
        .map(|(_, base)| *base);
    let of_preferred = |m: &&host_sdk::ModelInfo| {
        preferred.is_some_and(|base| m.id.as_str() == base || m.base_model_id.as_str() == base)
    };
    let candidates: Vec<&host_sdk::ModelInfo> = models.iter().filter(of_preferred).collect();
    candidates
        .iter()
        .find(|m| m.id.starts_with("us."))
        .or(candidates.first())
        .or(models.first().as_ref())
        .map(|m| m.id.to_string())
}
