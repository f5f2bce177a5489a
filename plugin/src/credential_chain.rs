//! The AWS SDK's default credential chain after the environment (profile, web identity,
//! container, instance role), tried in the SDK's order with short timeouts for the local
//! endpoints, remembering which member answered so that errors and `auth status` can name it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};

use crate::credentials::ChainProvider;

/// The instance metadata service is link-local: it answers within milliseconds or is not
/// there. The SDK's defaults (1 s connect, 1 s read, 4 attempts with backoff) make a machine
/// without one wait several seconds; these make it wait at most about half a second.
const IMDS_CONNECT_TIMEOUT: Duration = Duration::from_millis(250);
const IMDS_READ_TIMEOUT: Duration = Duration::from_millis(500);
const IMDS_ATTEMPTS: u32 = 1;
/// Container credential endpoints are local too.
const CONTAINER_TIMEOUT: Duration = Duration::from_millis(500);

/// The AWS SDK default chain after the environment (profile, web identity, container, IMDS),
/// tried in the SDK's order, remembering which member answered, with short IMDS and container
/// timeouts.
pub struct DetectingChain {
    members: Vec<(ChainProvider, SharedCredentialsProvider)>,
    last: Mutex<Option<ChainProvider>>,
}

impl DetectingChain {
    pub fn new(conf: &ProviderConfig) -> Self {
        let imds = aws_config::imds::Client::builder()
            .configure(conf)
            .connect_timeout(IMDS_CONNECT_TIMEOUT)
            .read_timeout(IMDS_READ_TIMEOUT)
            .operation_timeout(IMDS_CONNECT_TIMEOUT * 2 + IMDS_READ_TIMEOUT * 2)
            .max_attempts(IMDS_ATTEMPTS)
            .build();
        let members = ChainProvider::ALL
            .into_iter()
            .map(|m| {
                let provider = match m {
                    // Named explicitly: this member only runs when AWS_PROFILE is unset or
                    // blank, and a blank AWS_PROFILE must not select a profile called " ".
                    ChainProvider::DefaultProfile => SharedCredentialsProvider::new(
                        ProfileFileCredentialsProvider::builder()
                            .configure(conf)
                            .profile_name("default")
                            .build(),
                    ),
                    ChainProvider::WebIdentity => SharedCredentialsProvider::new(
                        WebIdentityTokenCredentialsProvider::builder()
                            .configure(conf)
                            .build(),
                    ),
                    ChainProvider::Container => SharedCredentialsProvider::new(
                        EcsCredentialsProvider::builder()
                            .configure(conf)
                            .connect_timeout(CONTAINER_TIMEOUT)
                            .read_timeout(CONTAINER_TIMEOUT)
                            .build(),
                    ),
                    ChainProvider::InstanceRole => SharedCredentialsProvider::new(
                        ImdsCredentialsProvider::builder()
                            .configure(conf)
                            .imds_client(imds.clone())
                            .build(),
                    ),
                };
                (m, provider)
            })
            .collect();
        Self {
            members,
            last: Mutex::new(None),
        }
    }

    /// The member that answered last (with credentials or with a real error).
    pub fn last(&self) -> Option<ChainProvider> {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn resolve(&self) -> aws_credential_types::provider::Result {
        let mut tried = Vec::new();
        for (member, provider) in &self.members {
            match provider.provide_credentials().await {
                Ok(c) => {
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(*member);
                    return Ok(c);
                }
                Err(CredentialsError::CredentialsNotLoaded(_)) => {
                    tried.push(member.label());
                }
                Err(e) => {
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(*member);
                    return Err(e);
                }
            }
        }
        Err(CredentialsError::not_loaded(format!(
            "no credentials from the AWS SDK default chain (tried: {})",
            tried.join(", ")
        )))
    }
}

impl std::fmt::Debug for DetectingChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectingChain")
            .field("last", &self.last())
            .finish()
    }
}

/// The chain as the SDK's clients hold it, shared with the provider that asks it which
/// member answered.
#[derive(Debug)]
pub struct ChainHandle(pub Arc<DetectingChain>);

impl ProvideCredentials for ChainHandle {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.0.resolve())
    }
}

impl ProvideCredentials for DetectingChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.resolve())
    }
}
