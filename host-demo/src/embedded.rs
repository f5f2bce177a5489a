//! The in-process Bedrock emulator behind `--emulator` and `bench`.

use emulator::{Emulator, EmulatorConfig, RunningEmulator};

use crate::error::{CliError, CliResult};

/// Variables that would make the AWS credential chain or endpoint resolution pick something
/// other than the emulator's identity.
const COMPETING_VARS: &[&str] = &[
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
];

/// A running emulator; it stops when this is dropped.
pub struct Embedded {
    _running: RunningEmulator,
    pub url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Embedded {
    /// Points the process's AWS environment at the emulator's default identity, then starts
    /// it. Must run while the process is still single-threaded: the environment is set before
    /// any thread (the emulator's included) exists, so no concurrent `getenv` can race it.
    /// `region`: the region it serves (default: the emulator's, us-east-1).
    pub fn start(delivery: emulator::pacing::Delivery, region: Option<String>) -> CliResult<Self> {
        let default = EmulatorConfig::default();
        let config = EmulatorConfig {
            delivery,
            region: region.unwrap_or(default.region.clone()),
            ..default
        };
        set_environment(&config);
        let running = Emulator::start_background(config.clone())
            .map_err(|e| CliError::new(format!("cannot start the embedded emulator: {e}")))?;
        let url = running.url();
        tracing::info!(%url, "embedded emulator started");
        Ok(Self {
            _running: running,
            url,
            region: config.region,
            access_key_id: config.access_key_id,
            secret_access_key: config.secret_access_key,
        })
    }
}

fn set_environment(config: &EmulatorConfig) {
    let per_service_endpoints: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("AWS_ENDPOINT_URL_"))
        .collect();
    for var in COMPETING_VARS
        .iter()
        .copied()
        .chain(per_service_endpoints.iter().map(String::as_str))
    {
        std::env::remove_var(var);
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", &config.access_key_id);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", &config.secret_access_key);
    std::env::set_var("AWS_REGION", &config.region);
}
