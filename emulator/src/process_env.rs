//! Pointing a client process at the emulator: its AWS environment is made to name the
//! emulator's identity and nothing else, so the AWS SDK's credential chain and endpoint
//! resolution find the emulator's credentials and region, not a developer's own. Used by
//! `host-demo --emulator` and by the end-to-end tests.

use crate::EmulatorConfig;

/// Variables that would make the AWS credential chain or endpoint resolution pick something
/// other than the emulator's identity (besides every `AWS_ENDPOINT_URL_*`).
pub const COMPETING_VARIABLES: &[&str] = &[
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
];

/// Removes the competing variables and sets the emulator's access key, secret and region.
///
/// Call it while the process is still single-threaded (before the emulator or any other
/// thread starts): changing the environment while another thread reads it is undefined
/// behaviour on most platforms.
pub fn use_emulator_identity(config: &EmulatorConfig) {
    let per_service_endpoints: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("AWS_ENDPOINT_URL_"))
        .collect();
    for var in COMPETING_VARIABLES
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
