//! Extra certificate authorities to trust for HTTPS, besides the system's: the configuration's
//! `caBundle` and the `AWS_CA_BUNDLE` variable (the AWS CLI's and botocore's), each a PEM file
//! of one or more certificates. Users behind a TLS-inspecting proxy, or with a private
//! endpoint, need this. The files are read and checked when the provider is created, so a
//! wrong path or a file without certificates fails there, naming the key or the variable.
//! A file is parsed once per process while it stays the same (its path, length and
//! modification time): a host making many providers does not parse a system-sized bundle
//! each time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::config::{PluginConfig, PROVIDER_ID};
use crate::credentials::process_env;
use crate::errors::config_error;
use host_sdk::ProviderError;

/// The PEM text of every extra CA (the files concatenated), or `None` when there is none.
pub fn extra_ca_pem(config: &PluginConfig) -> Result<Option<Arc<Vec<u8>>>, ProviderError> {
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
    let mut checked = sources
        .iter()
        .map(|(source, path)| checked_pem(source, path))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match checked.len() {
        0 => None,
        1 => checked.pop(),
        _ => Some(Arc::new(checked.iter().fold(Vec::new(), |mut all, pem| {
            all.extend_from_slice(pem);
            all.push(b'\n');
            all
        }))),
    })
}

/// A file's identity while it is unchanged: its path, length and modification time.
type FileKey = (String, u64, Option<SystemTime>);

/// The PEM text of `path`, checked to hold certificates; parsed once while the file stays
/// the same.
fn checked_pem(source: &str, path: &str) -> Result<Arc<Vec<u8>>, ProviderError> {
    static CHECKED: OnceLock<Mutex<HashMap<FileKey, Arc<Vec<u8>>>>> = OnceLock::new();
    let unreadable = |e: std::io::Error| {
        config_error(format!("{source} names {path}, which cannot be read: {e}"))
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    let key = (path.to_string(), meta.len(), meta.modified().ok());
    let cache = CHECKED.get_or_init(Mutex::default);
    if let Some(pem) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(pem.clone());
    }
    let pem = std::fs::read(path).map_err(unreadable)?;
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
    let pem = Arc::new(pem);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    // Bounded: a host cycling through bundles must not make the plugin grow.
    if cache.len() >= 16 {
        cache.clear();
    }
    cache.insert(key, pem.clone());
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_is_parsed_once_while_the_file_stays_the_same() {
        let dir = std::env::temp_dir().join(format!("trust-once-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ca.pem");
        let block = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        std::fs::write(&path, block).unwrap();
        let path = path.to_str().unwrap();
        let first = checked_pem("caBundle", path).unwrap();
        let again = checked_pem("caBundle", path).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second provider reuses the parse"
        );
        std::fs::write(path, format!("{block}{block}")).unwrap();
        let changed = checked_pem("caBundle", path).unwrap();
        assert_eq!(
            changed.len(),
            2 * block.len(),
            "a changed file is read again"
        );
        std::fs::write(path, "not a certificate").unwrap();
        let e = checked_pem("caBundle", path).unwrap_err();
        assert!(e.message.contains("holds no certificate"), "{}", e.message);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
