//! HTTPS for the emulator (`--tls`): a certificate authority made at start, and a server
//! certificate it signs for `127.0.0.1` and `localhost`. Clients trust the CA's PEM (written
//! with `--ca-cert-out`, or [`crate::RunningEmulator::ca_pem`]), exactly as they would a
//! corporate proxy's CA. ALPN offers `h2` and `http/1.1`, as Bedrock does.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::StartError;

/// The CA's certificate (PEM) and the server's TLS configuration.
pub(crate) struct TlsIdentity {
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> StartError {
    StartError::Tls(format!("{what}: {e}"))
}

impl TlsIdentity {
    pub(crate) fn generate() -> Result<Self, StartError> {
        let ca_key = KeyPair::generate().map_err(|e| failed("CA key", e))?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("CA parameters", e))?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Bedrock emulator test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(|e| failed("CA certificate", e))?;
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().map_err(|e| failed("server key", e))?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(|e| failed("server parameters", e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "bedrock-emulator");
        let server_cert = params
            .signed_by(&server_key, &issuer)
            .map_err(|e| failed("server certificate", e))?;

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| failed("TLS versions", e))?
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(server_cert.der().to_vec()),
                    CertificateDer::from(ca_cert.der().to_vec()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )
            .map_err(|e| failed("server TLS configuration", e))?;
        server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem,
            server_config: Arc::new(server_config),
        })
    }
}
