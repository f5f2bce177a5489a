//! The `emulator` binary as scripts use it: `--port 0` prints the bound URL as the first line
//! of stdout, and the identity flags decide what a client must sign with.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_bedrock::config::{BehaviorVersion, Credentials, Region};

/// The running binary; killed when dropped so a failing test leaves nothing behind.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> (Served, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_emulator"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("the first line is readable");
    (Served(child), first.trim_end().to_string())
}

fn control(url: &str, region: &str, key: &str, secret: &str) -> aws_sdk_bedrock::Client {
    let config = aws_sdk_bedrock::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .endpoint_url(url)
        .build();
    aws_sdk_bedrock::Client::from_conf(config)
}

#[tokio::test]
async fn port_zero_prints_the_url_first_and_the_flags_set_the_identity() {
    let (_served, url) = serve(&[
        "--port",
        "0",
        "--region",
        "eu-west-1",
        "--access-key-id",
        "AKIABINARYTEST000000",
        "--secret-access-key",
        "binaryTestSecret",
    ]);
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("the first line is the loopback URL, got {url:?}"));
    assert_ne!(port, 0, "a real port was bound");

    let ok = control(
        &url,
        "eu-west-1",
        "AKIABINARYTEST000000",
        "binaryTestSecret",
    )
    .list_foundation_models()
    .send()
    .await
    .expect("a client signing with the flags' identity is served");
    assert!(!ok.model_summaries().is_empty());

    // The defaults no longer apply, and the region is part of what is checked.
    let wrong_secret = control(
        &url,
        "eu-west-1",
        "AKIABINARYTEST000000",
        emulator::DEFAULT_SECRET_ACCESS_KEY,
    )
    .list_foundation_models()
    .send()
    .await;
    assert!(wrong_secret.is_err(), "the default secret is refused");
    let wrong_region = control(
        &url,
        "us-east-1",
        "AKIABINARYTEST000000",
        "binaryTestSecret",
    )
    .list_foundation_models()
    .send()
    .await;
    assert!(
        wrong_region.is_err(),
        "a scope naming another region is refused"
    );
}

#[test]
fn help_documents_every_identity_flag_with_its_default() {
    let out = Command::new(env!("CARGO_BIN_EXE_emulator"))
        .arg("--help")
        .output()
        .expect("the emulator binary runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--host",
        "--port",
        "--region",
        "--access-key-id",
        "--secret-access-key",
        "--session-token",
        "--api-key",
    ] {
        assert!(help.contains(flag), "{flag} is documented:\n{help}");
    }
    assert!(help.contains(emulator::DEFAULT_REGION), "{help}");
    assert!(help.contains(emulator::DEFAULT_HOST), "{help}");
}

/// `--tls --ca-cert-out PATH`: HTTPS with a certificate for 127.0.0.1 signed by a CA whose
/// PEM is written to PATH; the AWS SDK trusting that CA talks to it (HTTP/2 by ALPN), one
/// that does not is refused by its own TLS stack.
#[tokio::test]
async fn tls_serves_https_with_the_ca_written_out() {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let ca_path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("emulator-ca.pem");
    let _ = std::fs::remove_file(&ca_path);
    let (_served, url) = serve(&[
        "--port",
        "0",
        "--tls",
        "--ca-cert-out",
        ca_path.to_str().unwrap(),
    ]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let pem = std::fs::read(&ca_path).expect("the CA certificate was written");
    assert!(String::from_utf8_lossy(&pem).starts_with("-----BEGIN CERTIFICATE-----"));
    let client = |trust: TrustStore| {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(
                TlsContext::builder()
                    .with_trust_store(trust)
                    .build()
                    .unwrap(),
            )
            .build_https();
        let config = aws_sdk_bedrock::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(emulator::DEFAULT_REGION))
            .credentials_provider(Credentials::new(
                emulator::DEFAULT_ACCESS_KEY_ID,
                emulator::DEFAULT_SECRET_ACCESS_KEY,
                None,
                None,
                "test",
            ))
            .endpoint_url(&url)
            .http_client(http)
            .build();
        aws_sdk_bedrock::Client::from_conf(config)
    };
    let trusted = client(TrustStore::empty().with_pem_certificate(pem));
    let models = trusted
        .list_foundation_models()
        .send()
        .await
        .expect("HTTPS works");
    assert!(!models.model_summaries().is_empty());
    let untrusted = client(TrustStore::empty().with_native_roots(true));
    let err = untrusted.list_foundation_models().send().await.unwrap_err();
    let text = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&err)
    );
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}
