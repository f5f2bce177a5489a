//! The temporary credentials the emulator's credential endpoints hand out and its Bedrock
//! accepts (see `credential_endpoints`): data alone, so the configuration can name them
//! without depending on the endpoints' server.

/// A placeholder for secrets in `Debug` output.
const REDACTED: &str = "<redacted>";

/// Default expiration of the temporary credentials.
pub const DEFAULT_EXPIRATION: &str = "2099-01-01T00:00:00Z";

/// Temporary credentials as IMDS, the container endpoint and STS hand them out. `Debug`
/// leaves the secrets out.
#[derive(Clone, PartialEq, Eq)]
pub struct TemporaryCredentials {
    /// `ASIA…` access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token (sent by clients as `x-amz-security-token`).
    pub session_token: String,
    /// ISO-8601 expiration, e.g. `2099-01-01T00:00:00Z`.
    pub expiration: String,
}

impl TemporaryCredentials {
    /// Deterministic credentials named after `tag`: access key id `ASIA<tag>000…` (20
    /// characters), secret and session token containing the tag, expiring in 2099.
    pub fn new(tag: &str) -> Self {
        TemporaryCredentials {
            access_key_id: format!("ASIA{tag:0<16}").chars().take(20).collect(),
            secret_access_key: format!("roleSecret{tag}0000000000000000000000000"),
            session_token: format!("roleSessionToken{tag}xyz"),
            expiration: DEFAULT_EXPIRATION.to_string(),
        }
    }
}

impl std::fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &REDACTED)
            .field("session_token", &REDACTED)
            .field("expiration", &self.expiration)
            .finish()
    }
}
