//! Which credentials the plugin will use, decided in the gateway's documented order, and the
//! region rules. The environment decides first (bearer token, access keys, `AWS_PROFILE`);
//! when it does not, [`crate::clients`] resolves the AWS SDK default chain (default profile,
//! web identity, container, instance role) with short timeouts and records which member
//! answered, as [`CredentialSource::Chain`].

/// Where the credentials come from, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `AWS_BEARER_TOKEN_BEDROCK`: a Bedrock API key, sent as `Authorization: Bearer`.
    BearerToken,
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
    EnvironmentKeys { session_token: bool },
    /// `AWS_PROFILE`: a named profile from the shared config files.
    Profile(String),
    /// No variable decides: the AWS SDK default chain, not resolved yet, or it found nothing.
    DefaultChain,
    /// The member of the default chain that supplied credentials.
    Chain(ChainProvider),
}

/// The members of the AWS SDK default chain after the environment, in the SDK's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainProvider {
    /// The `default` profile of `~/.aws/config` / `~/.aws/credentials` (static keys, SSO,
    /// credential_process, assume-role).
    DefaultProfile,
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (EKS IRSA and the like), through STS.
    WebIdentity,
    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI` (ECS task role, EKS Pod Identity).
    Container,
    /// The EC2 instance metadata service (IMDSv2): the instance role.
    InstanceRole,
}

impl ChainProvider {
    pub const ALL: [ChainProvider; 4] = [
        ChainProvider::DefaultProfile,
        ChainProvider::WebIdentity,
        ChainProvider::Container,
        ChainProvider::InstanceRole,
    ];

    /// Short name, as `auth status` prints it.
    pub fn label(self) -> &'static str {
        match self {
            Self::DefaultProfile => "default profile",
            Self::WebIdentity => "web identity",
            Self::Container => "container role",
            Self::InstanceRole => "instance role (IMDS)",
        }
    }
}

impl CredentialSource {
    /// Detects the source from environment variables; blank values count as unset.
    pub fn detect(env: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if var("AWS_BEARER_TOKEN_BEDROCK").is_some() {
            return Self::BearerToken;
        }
        if var("AWS_ACCESS_KEY_ID").is_some() && var("AWS_SECRET_ACCESS_KEY").is_some() {
            return Self::EnvironmentKeys {
                session_token: var("AWS_SESSION_TOKEN").is_some(),
            };
        }
        if let Some(profile) = var("AWS_PROFILE") {
            return Self::Profile(profile.trim().to_string());
        }
        Self::DefaultChain
    }

    /// Short name of the source, as `auth status` prints it.
    pub fn label(&self) -> String {
        match self {
            Self::BearerToken => "AWS_BEARER_TOKEN_BEDROCK".into(),
            Self::EnvironmentKeys { .. } => "environment keys (AWS_ACCESS_KEY_ID)".into(),
            Self::Profile(name) => format!("AWS_PROFILE \"{name}\""),
            Self::DefaultChain => "none".into(),
            Self::Chain(p) => p.label().into(),
        }
    }

    /// A short, secret-free description for messages (`credentials from ...`).
    pub fn describe(&self) -> String {
        match self {
            Self::BearerToken => "the Bedrock API key in AWS_BEARER_TOKEN_BEDROCK".into(),
            Self::EnvironmentKeys {
                session_token: false,
            } => "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment".into(),
            Self::EnvironmentKeys {
                session_token: true,
            } => "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN in the environment"
                .into(),
            Self::Profile(name) => format!("the AWS profile `{name}` (AWS_PROFILE)"),
            Self::DefaultChain => {
                "no credential variables are set and the AWS SDK default chain found none (tried the default profile, web identity, container credentials and the instance role)".into()
            }
            Self::Chain(ChainProvider::DefaultProfile) => {
                "the `default` profile of the shared AWS config files (AWS SDK default chain)".into()
            }
            Self::Chain(ChainProvider::WebIdentity) => {
                "web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, AWS SDK default chain)"
                    .into()
            }
            Self::Chain(ChainProvider::Container) => {
                "the container role (AWS_CONTAINER_CREDENTIALS_*, AWS SDK default chain)".into()
            }
            Self::Chain(ChainProvider::InstanceRole) => {
                "the EC2 instance role (instance metadata service, AWS SDK default chain)".into()
            }
        }
    }

    /// Lower-precedence sources that are also configured and therefore ignored: a stale
    /// `AWS_BEARER_TOKEN_BEDROCK` silently winning over a working profile is a classic.
    pub fn shadowed(&self, env: impl Fn(&str) -> Option<String>) -> Vec<String> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut out = Vec::new();
        let rank = match self {
            Self::BearerToken => 0,
            Self::EnvironmentKeys { .. } => 1,
            Self::Profile(_) => 2,
            _ => return out,
        };
        if rank < 1 && var("AWS_ACCESS_KEY_ID").is_some() && var("AWS_SECRET_ACCESS_KEY").is_some()
        {
            out.push("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".to_string());
        }
        if rank < 2 {
            if let Some(p) = var("AWS_PROFILE") {
                out.push(format!("AWS_PROFILE \"{}\"", p.trim()));
            }
        }
        out
    }
}

/// The process environment, with blank values treated as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub const DEFAULT_REGION: &str = "us-east-1";

/// The region named in a Bedrock endpoint host (`bedrock-runtime.eu-west-1.amazonaws.com`).
pub fn region_from_endpoint(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    let mut labels = host.split('.');
    let service = labels.next()?;
    if !matches!(
        service,
        "bedrock" | "bedrock-runtime" | "bedrock-fips" | "bedrock-runtime-fips"
    ) {
        return None;
    }
    let region = labels.next()?;
    crate::config::is_region_name(region).then(|| region.to_string())
}

/// The region from the environment: `AWS_REGION`, then `AWS_DEFAULT_REGION`.
pub fn region_from_env(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn order_is_bearer_then_keys_then_profile_then_chain() {
        let all = [
            ("AWS_BEARER_TOKEN_BEDROCK", "tok"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_PROFILE", "dev"),
        ];
        assert_eq!(
            CredentialSource::detect(env_of(&all)),
            CredentialSource::BearerToken
        );
        assert_eq!(
            CredentialSource::detect(env_of(&all[1..])),
            CredentialSource::EnvironmentKeys {
                session_token: false
            }
        );
        assert_eq!(
            CredentialSource::detect(env_of(&all[3..])),
            CredentialSource::Profile("dev".into())
        );
        assert_eq!(
            CredentialSource::detect(env_of(&[])),
            CredentialSource::DefaultChain
        );
    }

    #[test]
    fn blank_variables_are_unset() {
        let env = [
            ("AWS_BEARER_TOKEN_BEDROCK", "  "),
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("AWS_PROFILE", "\t"),
        ];
        assert_eq!(
            CredentialSource::detect(env_of(&env)),
            CredentialSource::DefaultChain
        );
    }

    #[test]
    fn a_key_without_its_secret_is_not_credentials() {
        let env = [("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_PROFILE", "dev")];
        assert_eq!(
            CredentialSource::detect(env_of(&env)),
            CredentialSource::Profile("dev".into())
        );
    }

    #[test]
    fn descriptions_never_hold_secrets() {
        let d = CredentialSource::EnvironmentKeys {
            session_token: true,
        }
        .describe();
        assert!(d.contains("AWS_SESSION_TOKEN") && !d.contains("secret"));
    }

    #[test]
    fn endpoint_regions() {
        assert_eq!(
            region_from_endpoint("https://bedrock-runtime.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_from_endpoint("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com/")
                .as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(region_from_endpoint("http://127.0.0.1:4000"), None);
        assert_eq!(
            region_from_env(env_of(&[("AWS_DEFAULT_REGION", "ap-northeast-2")])).as_deref(),
            Some("ap-northeast-2")
        );
    }

    #[test]
    fn shadowed_sources_are_named() {
        let env = [
            ("AWS_BEARER_TOKEN_BEDROCK", "stale"),
            ("AWS_PROFILE", "work"),
        ];
        let source = CredentialSource::detect(env_of(&env));
        assert_eq!(source, CredentialSource::BearerToken);
        assert_eq!(source.shadowed(env_of(&env)), ["AWS_PROFILE \"work\""]);
        assert!(CredentialSource::Profile("work".into())
            .shadowed(env_of(&env))
            .is_empty());
    }
}
