//! Building the AWS SDK clients (runtime and control plane) for a provider: endpoint, region,
//! credentials and auth scheme, timeouts. Built once per provider, lazily, on the plugin's
//! runtime, because loading the SDK configuration may touch the file system or the network.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::config::Token;
use aws_smithy_runtime_api::client::auth::{http::HTTP_BEARER_AUTH_SCHEME_ID, AuthSchemeId};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use crate::config::PluginConfig;
use crate::credential_chain::{ChainHandle, DetectingChain};
use crate::credentials::{
    process_env, region_from_endpoint, region_from_env, ChainProvider, CredentialSource,
    DEFAULT_REGION,
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
    /// CA certificates (PEM) to trust besides the system's ([`crate::trust`]).
    pub extra_ca_pem: Option<Arc<Vec<u8>>>,
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
            extra_ca_pem: None,
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
    /// The Responses API on Mantle, for the models that answer only there.
    pub mantle: crate::mantle::MantleClient,
    /// ConverseStream, written, signed and decoded without the SDK's orchestrator.
    pub converse_wire: crate::converse_wire::ConverseWire,
    /// The target, with `source` refined to the default-chain member that answered.
    pub target: Target,
    /// Who the calls run as, for cache keys: a hash, never a secret.
    pub identity: String,
    /// Why the credential source gave no credentials, when that is known before any call:
    /// the default chain was consulted and failed, or `AWS_PROFILE` names a profile the
    /// shared files do not define.
    pub chain_error: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
}

/// What `auth status` says about the credentials themselves. Never a secret.
#[derive(Debug, Clone)]
pub struct CredentialFacts {
    /// First 4 and last 4 characters of the access key id.
    pub masked_access_key_id: String,
    pub session_token: bool,
    pub expiry: Option<SystemTime>,
}

impl Clients {
    pub async fn build(mut target: Target) -> Self {
        fill_regions(&mut target).await;
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            // Retries are the plugin's (they are reported to the host as events).
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(target.connect_timeout)
                    .build(),
            );
        let Credentialed {
            mut loader,
            identity,
            chain_error,
        } = with_credentials(loader, &mut target).await;
        let (tls, proxy) = tls_and_proxy(&target);
        if let Some(client) = custom_http_client(&target, &tls, &proxy) {
            loader = loader.http_client(client);
        }
        let sdk = loader.load().await;
        let (runtime, control) = sdk_clients(&sdk, &target);
        let connection = crate::signed_http::Connection {
            tls,
            proxy,
            connect_timeout: target.connect_timeout,
        };
        let http = Arc::new(signed_http(&target, connection, sdk.credentials_provider()));
        let mantle = mantle_client(&target, http.clone());
        let converse_wire = crate::converse_wire::ConverseWire::new(
            http,
            &sdk,
            target.runtime_endpoint.as_deref(),
            &target.region,
        );
        Self {
            runtime,
            control,
            mantle,
            converse_wire,
            credentials: sdk.credentials_provider(),
            identity,
            chain_error,
            target,
        }
    }

    /// The credential problem every call would meet, known without a call: `AWS_PROFILE`
    /// names a profile the shared files do not define.
    pub fn known_credential_error(&self) -> Option<host_sdk::ProviderError> {
        match (&self.target.source, &self.chain_error) {
            (CredentialSource::Profile(_), Some(why)) => Some(crate::errors::error(
                host_sdk::ErrorKind::NoCredentials,
                format!("{why}: define it, or set AWS_PROFILE to one of those"),
            )),
            _ => None,
        }
    }

    /// Whether credentials can be had, without waiting long: the environment decides at once,
    /// the default chain was probed (with short timeouts) when the clients were built, and a
    /// named profile is asked with a bounded wait.
    pub async fn credentials_present(&self) -> bool {
        match &self.target.source {
            CredentialSource::BearerToken | CredentialSource::EnvironmentKeys { .. } => true,
            CredentialSource::Chain(_) => self.chain_error.is_none(),
            CredentialSource::DefaultChain => false,
            CredentialSource::Profile(_) => self.credential_facts().await.is_ok(),
        }
    }

    /// The (non-secret) facts about the SigV4 credentials in use; `Err` says why there are none.
    pub async fn credential_facts(&self) -> Result<CredentialFacts, String> {
        if self.target.source == CredentialSource::BearerToken {
            return Err("a bearer token is used instead of SigV4 credentials".into());
        }
        let Some(provider) = &self.credentials else {
            return Err("no credentials provider is configured".into());
        };
        match tokio::time::timeout(CREDENTIALS_PROBE_TIMEOUT, provider.provide_credentials()).await
        {
            Ok(Ok(c)) => Ok(CredentialFacts {
                masked_access_key_id: mask(c.access_key_id()),
                session_token: c.session_token().is_some(),
                expiry: c.expiry(),
            }),
            Ok(Err(e)) => Err(crate::errors::source_chain(&e)),
            Err(_) => Err(format!(
                "no answer from {} within {CREDENTIALS_PROBE_TIMEOUT:?}",
                self.target.source.describe()
            )),
        }
    }
}

/// Regions left unset come from the profile's, else the default.
async fn fill_regions(target: &mut Target) {
    if !target.region.is_empty() && !target.discovery_region.is_empty() {
        return;
    }
    let profile_region = profile_region(&target.source).await;
    let fallback = profile_region.unwrap_or_else(|| DEFAULT_REGION.to_string());
    if target.region.is_empty() {
        target.region = fallback.clone();
    }
    if target.discovery_region.is_empty() {
        target.discovery_region = fallback;
    }
}

/// The SDK's loader given the credentials the source names, with the identity they hash to
/// and what went wrong finding them.
struct Credentialed {
    loader: aws_config::ConfigLoader,
    identity: String,
    chain_error: Option<String>,
}

async fn with_credentials(loader: aws_config::ConfigLoader, target: &mut Target) -> Credentialed {
    let provider_config =
        ProviderConfig::default().with_region(Some(Region::new(target.region.clone())));
    match target.source.clone() {
        CredentialSource::BearerToken => Credentialed {
            // Never consult the chain (no IMDS probe) when a bearer token decides.
            loader: loader.no_credentials(),
            identity: format!(
                "bearer:{}",
                hash(&process_env("AWS_BEARER_TOKEN_BEDROCK").unwrap_or_default())
            ),
            chain_error: None,
        },
        CredentialSource::EnvironmentKeys { .. } => {
            let akid = process_env("AWS_ACCESS_KEY_ID").unwrap_or_default();
            Credentialed {
                identity: format!("keys:{}", hash(akid.trim())),
                loader: loader.credentials_provider(Credentials::new(
                    akid.trim(),
                    process_env("AWS_SECRET_ACCESS_KEY")
                        .unwrap_or_default()
                        .trim(),
                    process_env("AWS_SESSION_TOKEN").map(|t| t.trim().to_string()),
                    None,
                    "environment",
                )),
                chain_error: None,
            }
        }
        CredentialSource::Profile(name) => {
            // Only this profile: falling back to other chain members would misreport the
            // source (and hide a broken profile behind an instance role).
            let provider = ProfileFileCredentialsProvider::builder()
                .configure(&provider_config)
                .profile_name(&name)
                .build();
            Credentialed {
                identity: format!("profile:{}", hash(&name)),
                chain_error: missing_profile(&name).await,
                loader: loader.profile_name(&name).credentials_provider(provider),
            }
        }
        CredentialSource::DefaultChain | CredentialSource::Chain(_) => {
            let chain = Arc::new(DetectingChain::new(&provider_config));
            let (identity, chain_error) = probe_chain(&chain, target).await;
            Credentialed {
                loader: loader
                    .credentials_provider(SharedCredentialsProvider::new(ChainHandle(chain))),
                identity,
                chain_error,
            }
        }
    }
}

/// Asks the default chain once, so the source reported is the member that answered (or
/// failed): its identity, and what went wrong.
async fn probe_chain(chain: &DetectingChain, target: &mut Target) -> (String, Option<String>) {
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(CHAIN_PROBE_TIMEOUT, chain.provide_credentials()).await;
    tracing::debug!(elapsed = ?started.elapsed(), member = ?chain.last(), "default credential chain probed");
    match (outcome, chain.last()) {
        (Ok(Ok(creds)), Some(member)) => {
            target.source = CredentialSource::Chain(member);
            (format!("{member:?}:{}", hash(creds.access_key_id())), None)
        }
        (Ok(Err(e)), Some(member)) => {
            // A profile, web identity or container endpoint that fails was set up by
            // someone: it stays the source, reported as failing. A metadata service that
            // refuses means there is no instance role at all.
            target.source = if member == ChainProvider::InstanceRole {
                CredentialSource::DefaultChain
            } else {
                CredentialSource::Chain(member)
            };
            let error = format!(
                "{} failed: {}",
                member.label(),
                crate::errors::source_chain(&e)
            );
            (format!("{member:?}"), Some(error))
        }
        (Ok(Err(e)), None) => {
            target.source = CredentialSource::DefaultChain;
            // "Not loaded" from every member is the normal "nothing here".
            let error = (!matches!(e, CredentialsError::CredentialsNotLoaded(_)))
                .then(|| crate::errors::source_chain(&e));
            (String::new(), error)
        }
        (Ok(Ok(_)), None) => unreachable!("the chain records who answered"),
        (Err(_), member) => {
            if let Some(member) = member {
                target.source = CredentialSource::Chain(member);
            }
            let error = format!(
                "resolving the default credential chain took longer than {CHAIN_PROBE_TIMEOUT:?}"
            );
            (String::new(), Some(error))
        }
    }
}

/// The runtime and control-plane clients on the loaded configuration, each with its
/// endpoint and its auth scheme chosen explicitly: the SDK would otherwise switch to bearer
/// auth on a blank AWS_BEARER_TOKEN_BEDROCK, which we treat as unset.
fn sdk_clients(
    sdk: &aws_config::SdkConfig,
    target: &Target,
) -> (aws_sdk_bedrockruntime::Client, aws_sdk_bedrock::Client) {
    let mut runtime = aws_sdk_bedrockruntime::config::Builder::from(sdk);
    let mut control = aws_sdk_bedrock::config::Builder::from(sdk)
        .region(Region::new(target.discovery_region.clone()));
    if let Some(url) = &target.runtime_endpoint {
        runtime = runtime.endpoint_url(url.trim_end_matches('/'));
    }
    if let Some(url) = &target.control_endpoint {
        control = control.endpoint_url(url.trim_end_matches('/'));
    }
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
    (
        aws_sdk_bedrockruntime::Client::from_conf(runtime.build()),
        aws_sdk_bedrock::Client::from_conf(control.build()),
    )
}

/// Why `name` cannot be the profile: the shared files do not define it (naming the files read
/// and the profiles they do define), or they cannot be read. `None` when it is defined.
// `ProfileFiles` is what `aws_config::profile::load` takes; its new name lives in a crate the
// plugin does not depend on.
#[allow(deprecated)]
async fn missing_profile(name: &str) -> Option<String> {
    use aws_config::profile::profile_file::ProfileFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let files = || {
        let home = process_env("HOME").unwrap_or_else(|| "~".into());
        let config = process_env("AWS_CONFIG_FILE").unwrap_or(format!("{home}/.aws/config"));
        let credentials = process_env("AWS_SHARED_CREDENTIALS_FILE")
            .unwrap_or(format!("{home}/.aws/credentials"));
        format!("{config} and {credentials}")
    };
    match aws_config::profile::load(&Fs::real(), &Env::real(), &ProfileFiles::default(), None).await
    {
        Ok(set) if set.get_profile(name).is_some() => None,
        Ok(set) => {
            let mut defined: Vec<&str> = set.profiles().collect();
            defined.sort_unstable();
            let defined = if defined.is_empty() {
                "none".to_string()
            } else {
                defined.join(", ")
            };
            Some(format!(
                "profile `{name}` (AWS_PROFILE) is not defined in {} (profiles defined there: {defined})",
                files()
            ))
        }
        Err(e) => Some(format!(
            "the shared AWS config files ({}) cannot be read: {}",
            files(),
            crate::errors::source_chain(&e)
        )),
    }
}

/// Proxy variables the plugin honours (as curl and the AWS CLI do), with `NO_PROXY` /
/// `no_proxy` for exceptions.
const PROXY_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Whether a proxy variable is set (to something).
fn proxied() -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|v| process_env(v).is_some_and(|p| !p.trim().is_empty()))
}

/// The TLS settings (the system's CAs and the extra ones) and the proxy every connection of
/// this provider uses, Converse's and Mantle's alike.
fn tls_and_proxy(
    target: &Target,
) -> (
    aws_smithy_http_client::tls::TlsContext,
    aws_smithy_http_client::proxy::ProxyConfig,
) {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{TlsContext, TrustStore};
    let mut trust = TrustStore::default();
    if let Some(pem) = &target.extra_ca_pem {
        trust = trust.with_pem_certificate(pem.to_vec());
    }
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default();
    let proxy = if proxied() {
        ProxyConfig::from_env()
    } else {
        ProxyConfig::disabled()
    };
    (context, proxy)
}

/// The SDK's HTTPS client (rustls with aws-lc, HTTP/2 by ALPN) when the defaults do not do:
/// extra trusted CAs ([`crate::trust`]; checked when the provider was created) or a proxy
/// from the environment. `None` keeps the SDK's default client.
fn custom_http_client(
    target: &Target,
    context: &aws_smithy_http_client::tls::TlsContext,
    proxy: &aws_smithy_http_client::proxy::ProxyConfig,
) -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    if target.extra_ca_pem.is_none() && !proxied() {
        return None;
    }
    let (context, proxy) = (context.clone(), proxy.clone());
    // The connector is made per SDK client with its settings (timeouts) and sleep, as the
    // SDK's own builder does.
    Some(
        aws_smithy_http_client::Builder::new().build_with_connector_fn(
            move |settings, components| {
                let mut builder = aws_smithy_http_client::Connector::builder();
                builder.set_connector_settings(settings.cloned());
                if let Some(components) = components {
                    builder.set_sleep_impl(components.sleep_impl());
                }
                builder
                    .proxy_config(proxy.clone())
                    .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                    .tls_context(context.clone())
                    .build()
            },
        ),
    )
}

/// The provider's signed HTTP client (ConverseStream's and Mantle's calls): its
/// TLS, proxy and connect timeout, and its credentials (or its API key).
fn signed_http(
    target: &Target,
    connection: crate::signed_http::Connection,
    credentials: Option<SharedCredentialsProvider>,
) -> crate::signed_http::SignedHttp {
    use crate::signed_http::Auth;
    let auth = match (&target.source, credentials) {
        (CredentialSource::BearerToken, _) => Auth::Bearer(
            process_env("AWS_BEARER_TOKEN_BEDROCK")
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
        (_, Some(provider)) => Auth::sigv4(provider),
        (_, None) => Auth::None,
    };
    crate::signed_http::SignedHttp::new(connection, auth)
}

/// The Mantle client: beside the runtime endpoint for model calls, beside the control plane
/// for the model list.
fn mantle_client(
    target: &Target,
    http: Arc<crate::signed_http::SignedHttp>,
) -> crate::mantle::MantleClient {
    use crate::mantle::{mantle_url, SIGNING_NAME};
    use crate::signed_http::Endpoint;
    crate::mantle::MantleClient {
        http,
        runtime: Endpoint {
            base_url: mantle_url(target.runtime_endpoint.as_deref(), &target.region),
            region: target.region.clone(),
            signing_name: SIGNING_NAME,
        },
        listing: Endpoint {
            base_url: mantle_url(target.control_endpoint.as_deref(), &target.discovery_region),
            region: target.discovery_region.clone(),
            signing_name: SIGNING_NAME,
        },
    }
}

/// How long a named profile (which may need SSO or STS) may take to yield credentials.
pub const CREDENTIALS_PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// The whole default-chain probe (web identity calls STS; the rest is local or link-local).
pub const CHAIN_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// `AKIA…WXYZ`: enough to recognise a key, not enough to use it.
pub fn mask(access_key_id: &str) -> String {
    let chars: Vec<char> = access_key_id.chars().collect();
    if chars.len() < 12 {
        return "****".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// A stable, non-reversible tag for cache keys (in-process only; never stored).
fn hash(s: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    format!("{:016x}", h.finish())
}

async fn profile_region(source: &CredentialSource) -> Option<String> {
    let provider =
        aws_config::profile::ProfileFileRegionProvider::builder().profile_name(match source {
            CredentialSource::Profile(name) => name.as_str(),
            // AWS_PROFILE is unset or blank here (blank counts as unset).
            _ => "default",
        });
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
