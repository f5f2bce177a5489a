//! Building the AWS SDK clients (runtime and control plane) for a provider: endpoint, region,
//! credentials and auth scheme, timeouts. Built once per provider, lazily, on the plugin's
//! runtime, because loading the SDK configuration may touch the file system or the network.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::config::Token;
use aws_smithy_runtime_api::client::auth::{http::HTTP_BEARER_AUTH_SCHEME_ID, AuthSchemeId};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use crate::config::PluginConfig;
use crate::credentials::{
    process_env, region_from_endpoint, region_from_env, CredentialSource, DEFAULT_REGION,
};

const SIGV4: AuthSchemeId = AuthSchemeId::new("sigv4");

/// Where calls go and as whom.
#[derive(Debug, Clone)]
pub struct Target {
    pub source: CredentialSource,
    /// The runtime region (signing region for ConverseStream).
    pub region: String,
    /// The control-plane region (ListFoundationModels, ListInferenceProfiles).
    pub discovery_region: String,
    pub runtime_endpoint: Option<String>,
    pub control_endpoint: Option<String>,
    /// Connect timeout for every call (`timeouts.connectMs`); streams also have their own
    /// first-byte and idle timeouts.
    pub connect_timeout: Duration,
}

impl Target {
    /// Resolves everything that does not need I/O. The profile's region, which does, is looked
    /// up in [`Clients::build`] when no other rule decides.
    pub fn resolve(config: &PluginConfig) -> Self {
        let source = CredentialSource::detect(process_env);
        let runtime_endpoint = config.provider.base_url.clone();
        let region = runtime_endpoint
            .as_deref()
            .and_then(region_from_endpoint)
            .or_else(|| region_from_env(process_env))
            .unwrap_or_default();
        let discovery_region = config
            .discovery
            .region
            .clone()
            .or_else(|| region_from_env(process_env))
            .unwrap_or_default();
        let control_endpoint = config
            .discovery
            .base_url
            .clone()
            .or_else(|| runtime_endpoint.as_deref().map(control_plane_url));
        Self {
            source,
            region,
            discovery_region,
            runtime_endpoint,
            control_endpoint,
            connect_timeout: Duration::from_millis(config.provider.timeouts.connect_ms),
        }
    }
}

/// `https://bedrock-runtime.R.amazonaws.com` → `https://bedrock.R.amazonaws.com`; any other
/// endpoint (an emulator, a proxy) serves both planes at the same URL.
pub fn control_plane_url(runtime_url: &str) -> String {
    for (runtime, control) in [
        ("://bedrock-runtime-fips.", "://bedrock-fips."),
        ("://bedrock-runtime.", "://bedrock."),
    ] {
        if runtime_url.contains(runtime) {
            return runtime_url.replacen(runtime, control, 1);
        }
    }
    runtime_url.to_string()
}

pub struct Clients {
    pub runtime: aws_sdk_bedrockruntime::Client,
    pub control: aws_sdk_bedrock::Client,
    pub target: Target,
    credentials: Option<SharedCredentialsProvider>,
}

impl Clients {
    pub async fn build(mut target: Target) -> Self {
        if target.region.is_empty() || target.discovery_region.is_empty() {
            let profile_region = profile_region(&target.source).await;
            let fallback = profile_region.unwrap_or_else(|| DEFAULT_REGION.to_string());
            if target.region.is_empty() {
                target.region = fallback.clone();
            }
            if target.discovery_region.is_empty() {
                target.discovery_region = fallback;
            }
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            // Retries are the plugin's (they are reported to the host as events).
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(target.connect_timeout)
                    .build(),
            );
        match &target.source {
            CredentialSource::EnvironmentKeys { .. } => {
                loader = loader.credentials_provider(Credentials::new(
                    process_env("AWS_ACCESS_KEY_ID").unwrap_or_default(),
                    process_env("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
                    process_env("AWS_SESSION_TOKEN"),
                    None,
                    "environment",
                ));
            }
            CredentialSource::Profile(name) => loader = loader.profile_name(name),
            CredentialSource::BearerToken | CredentialSource::DefaultChain => {}
        }
        let sdk = loader.load().await;

        let mut runtime = aws_sdk_bedrockruntime::config::Builder::from(&sdk);
        let mut control = aws_sdk_bedrock::config::Builder::from(&sdk)
            .region(Region::new(target.discovery_region.clone()));
        if let Some(url) = &target.runtime_endpoint {
            runtime = runtime.endpoint_url(url.trim_end_matches('/'));
        }
        if let Some(url) = &target.control_endpoint {
            control = control.endpoint_url(url.trim_end_matches('/'));
        }
        // The scheme is always chosen explicitly: the SDK would otherwise switch to bearer auth
        // on a blank AWS_BEARER_TOKEN_BEDROCK, which we treat as unset.
        if target.source == CredentialSource::BearerToken {
            let token = process_env("AWS_BEARER_TOKEN_BEDROCK").unwrap_or_default();
            let token = token.trim().to_string();
            runtime = runtime
                .bearer_token(Token::new(token.clone(), None))
                .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID]);
            control = control
                .bearer_token(aws_sdk_bedrock::config::Token::new(token, None))
                .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID]);
        } else {
            runtime = runtime.auth_scheme_preference([SIGV4]);
            control = control.auth_scheme_preference([SIGV4]);
        }
        Self {
            runtime: aws_sdk_bedrockruntime::Client::from_conf(runtime.build()),
            control: aws_sdk_bedrock::Client::from_conf(control.build()),
            credentials: sdk.credentials_provider(),
            target,
        }
    }

    /// Whether credentials can be had, without waiting long: the default chain may probe the
    /// instance metadata service, which does not exist on most machines.
    pub async fn credentials_present(&self) -> bool {
        if self.target.source == CredentialSource::BearerToken {
            return true;
        }
        let Some(provider) = &self.credentials else {
            return false;
        };
        matches!(
            tokio::time::timeout(CREDENTIALS_PROBE_TIMEOUT, provider.provide_credentials()).await,
            Ok(Ok(_))
        )
    }
}

/// How long discovery waits to learn whether the default chain has credentials.
pub const CREDENTIALS_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

async fn profile_region(source: &CredentialSource) -> Option<String> {
    let mut provider = aws_config::profile::ProfileFileRegionProvider::builder();
    if let CredentialSource::Profile(name) = source {
        provider = provider.profile_name(name);
    }
    use aws_config::meta::region::ProvideRegion;
    provider.build().region().await.map(|r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_plane_is_derived_from_the_runtime_endpoint() {
        assert_eq!(
            control_plane_url("https://bedrock-runtime.us-west-2.amazonaws.com"),
            "https://bedrock.us-west-2.amazonaws.com"
        );
        assert_eq!(
            control_plane_url("https://bedrock-runtime-fips.us-east-1.amazonaws.com"),
            "https://bedrock-fips.us-east-1.amazonaws.com"
        );
        assert_eq!(
            control_plane_url("http://127.0.0.1:9000"),
            "http://127.0.0.1:9000"
        );
    }
}
