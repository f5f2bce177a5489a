//! The in-process Bedrock emulator behind `--emulator`, `bench` and `soak` (cargo feature
//! `emulator`, on by default; without it `--emulator` says how to get it).

use crate::error::{CliError, CliResult};

/// How the embedded emulator delivers answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Like a model generating tokens, split across writes as Bedrock's are.
    Paced,
    /// All at once (benchmarks measure the client, not the emulator).
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    Fast,
}

#[cfg(feature = "emulator")]
pub use with_emulator::Embedded;
#[cfg(not(feature = "emulator"))]
pub use without_emulator::Embedded;

#[cfg(not(feature = "emulator"))]
mod without_emulator {
    use super::*;

    /// What a build without the emulator has in its place: `start` says how to get it.
    pub struct Embedded {
        pub url: String,
    }

    impl Embedded {
        pub fn start(_pace: Pace, _region: Option<String>) -> CliResult<Self> {
            Err(CliError::new(
                "this host-demo was built without the embedded emulator (cargo feature `emulator`): build it with the default features, `cargo build -p host-demo`",
            ))
        }
    }
}

#[cfg(feature = "emulator")]
mod with_emulator {
    use super::*;
    use emulator::{Emulator, EmulatorConfig, RunningEmulator};

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
        pub fn start(pace: Pace, region: Option<String>) -> CliResult<Self> {
            /// The demo guardrail: identifier and version.
            const DEMO_GUARDRAIL: (&str, &str) = ("abc123xyz", "1");
            let default = EmulatorConfig::default();
            let config = EmulatorConfig {
                delivery: match pace {
                    Pace::Paced => emulator::pacing::Delivery::default(),
                    Pace::Fast => emulator::pacing::Delivery::Fast,
                },
                region: region.unwrap_or(default.region.clone()),
                ..default
            };
            emulator::process_env::use_emulator_identity(&config);
            let running = Emulator::start_background(config.clone())
                .map_err(|e| CliError::new(format!("cannot start the embedded emulator: {e}")))?;
            // The guardrail the README's example names (`--guardrail abc123xyz:1`), so that
            // it shows what a guardrail does without an AWS account.
            running.define_guardrail(
                DEMO_GUARDRAIL.0,
                DEMO_GUARDRAIL.1,
                &["dragons"],
                "Sorry, I cannot talk about that.",
            );
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
}
