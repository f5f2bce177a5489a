//! Emulator configuration and its documented defaults.

/// Default listen address: loopback only, so nothing outside the machine can reach it.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default port: 0 lets the OS pick a free port (the bound URL is printed/returned).
pub const DEFAULT_PORT: u16 = 0;
/// Default AWS region the emulator pretends to be in (SigV4 scopes must name it).
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default access key id accepted for SigV4.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAEMULATOR00000000";
/// Default secret access key used to verify SigV4 signatures.
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "emulatorSecretAccessKey0000000000000000";
/// Default Bedrock API key accepted as `Authorization: Bearer <key>`.
pub const DEFAULT_API_KEY: &str = "ABSKZW11bGF0b3ItYXBpLWtleQ==";
/// Default account id used in inference-profile ARNs.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// SigV4 signing name for both the control plane and the runtime.
pub const SIGNING_NAME: &str = "bedrock";
/// Largest request body accepted; larger bodies get a ValidationException.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
/// Allowed clock skew between `x-amz-date` and the emulator's clock.
pub const MAX_CLOCK_SKEW_SECS: u64 = 15 * 60;

/// Everything an emulator instance needs. `Default` gives the documented defaults. `Debug`
/// leaves the secrets out, as everything in this project does.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// IP address to bind.
    pub host: String,
    /// TCP port to bind (0 = any free port).
    pub port: u16,
    /// Region the emulator serves.
    pub region: String,
    /// Access key id accepted for SigV4.
    pub access_key_id: String,
    /// Secret used to verify SigV4 signatures.
    pub secret_access_key: String,
    /// When set, SigV4 requests must carry exactly this `x-amz-security-token`.
    pub session_token: Option<String>,
    /// Bearer token (Bedrock API key) accepted instead of SigV4.
    pub api_key: String,
    /// Account id used in ARNs.
    pub account_id: String,
    /// How streamed answers are delivered: paced and split at random byte boundaries
    /// (default, seeded), or all at once for benchmarks.
    pub delivery: crate::pacing::Delivery,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with a certificate signed by a CA made at
    /// start ([`crate::RunningEmulator::ca_pem`]) instead of plain HTTP.
    pub tls: bool,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = "<redacted>";
        f.debug_struct("EmulatorConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redacted)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| redacted),
            )
            .field("api_key", &redacted)
            .field("account_id", &self.account_id)
            .field("tls", &self.tls)
            .field("delivery", &self.delivery)
            .finish()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            host: DEFAULT_HOST.to_string(),
            port: DEFAULT_PORT,
            region: DEFAULT_REGION.to_string(),
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_string(),
            secret_access_key: DEFAULT_SECRET_ACCESS_KEY.to_string(),
            session_token: None,
            api_key: DEFAULT_API_KEY.to_string(),
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
            tls: false,
            delivery: crate::pacing::Delivery::default(),
        }
    }
}

impl EmulatorConfig {
    /// Accepts SigV4 only with these temporary credentials (access key id, secret and the
    /// required session token), as handed out by [`crate::credential_endpoints`].
    pub fn with_credentials(
        mut self,
        credentials: &crate::temporary_credentials::TemporaryCredentials,
    ) -> Self {
        self.access_key_id = credentials.access_key_id.clone();
        self.secret_access_key = credentials.secret_access_key.clone();
        self.session_token = Some(credentials.session_token.clone());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_the_secrets_out() {
        let config = EmulatorConfig {
            session_token: Some("session-token-value".into()),
            ..EmulatorConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains(DEFAULT_SECRET_ACCESS_KEY), "{debug}");
        assert!(!debug.contains(DEFAULT_API_KEY), "{debug}");
        assert!(!debug.contains("session-token-value"), "{debug}");
        assert!(debug.contains(DEFAULT_ACCESS_KEY_ID), "{debug}");
    }
}
