//! Which credentials the plugin will use, decided in the gateway's documented order, and the
//! region rules. Detection reads only the environment; the SDK's default chain resolves the
//! rest when no variable decides.

/// Where the credentials come from, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `AWS_BEARER_TOKEN_BEDROCK`: a Bedrock API key, sent as `Authorization: Bearer`.
    BearerToken,
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
    EnvironmentKeys { session_token: bool },
    /// `AWS_PROFILE`: a named profile from the shared config files.
    Profile(String),
    /// The AWS SDK default chain: web identity, container credentials, SSO, instance role.
    DefaultChain,
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
                "the AWS SDK default chain (web identity, container, SSO, instance role)".into()
            }
        }
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
}
