//! Extra certificate authorities to trust for HTTPS, besides the system's: the configuration's
//! `caBundle` and the `AWS_CA_BUNDLE` variable (the AWS CLI's and botocore's), each a PEM file
//! of one or more certificates. Users behind a TLS-inspecting proxy, or with a private
//! endpoint, need this. The files are read and checked when the provider is created, so a
//! wrong path or a file without certificates fails there, naming the key or the variable.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::config::{PluginConfig, PROVIDER_ID};
use crate::credentials::process_env;
use crate::errors::config_error;
use host_sdk::ProviderError;

/// The PEM text of every extra CA (the files concatenated), or `None` when there is none.
pub fn extra_ca_pem(config: &PluginConfig) -> Result<Option<Vec<u8>>, ProviderError> {
    let mut sources = Vec::new();
    if let Some(path) = &config.provider.ca_bundle {
        sources.push((
            format!("`models.providers.\"{PROVIDER_ID}\".caBundle`"),
            path.clone(),
        ));
    }
    if let Some(path) = process_env("AWS_CA_BUNDLE").filter(|p| !p.trim().is_empty()) {
        sources.push(("AWS_CA_BUNDLE".to_string(), path));
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let mut all = Vec::new();
    for (source, path) in sources {
        let pem = std::fs::read(&path).map_err(|e| {
            config_error(format!("{source} names {path}, which cannot be read: {e}"))
        })?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                config_error(format!(
                    "{source} names {path}, which is not a PEM file of certificates: {e}"
                ))
            })?;
        if certificates.is_empty() {
            return Err(config_error(format!(
                "{source} names {path}, which holds no certificate (expected PEM blocks starting with -----BEGIN CERTIFICATE-----)"
            )));
        }
        all.extend_from_slice(&pem);
        all.push(b'\n');
    }
    Ok(Some(all))
}
