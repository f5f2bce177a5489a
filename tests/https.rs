//! Issue #10: the plugin over HTTPS, through its real TLS stack (rustls, ALPN h2), against
//! the emulator serving TLS with a certificate from a CA made at start. The CA is trusted
//! only when the configuration says so (`caBundle`); a wrong or missing file is a
//! configuration error naming the key.

use e2e_tests::{config_with, init, plugin, provider_from, run, scripted_request, MODEL};
use emulator::{Emulator, EmulatorConfig};
use host_sdk::ErrorKind;
use serde_json::json;

fn tls_emulator() -> (emulator::RunningEmulator, std::path::PathBuf) {
    init();
    let emu = Emulator::start_background(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .expect("the emulator serves HTTPS");
    assert!(emu.url().starts_with("https://"), "{}", emu.url());
    let dir = std::env::temp_dir().join(format!("https-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join(format!("ca-{}.pem", emu.addr().port()));
    std::fs::write(&ca, emu.ca_pem().expect("a CA")).unwrap();
    (emu, ca)
}

#[test]
fn discovery_and_streams_work_over_https_with_the_ca_trusted() {
    let (emu, ca) = tls_emulator();
    let provider = provider_from(&config_with(
        &emu.url(),
        &format!("caBundle: {:?},", ca.display().to_string()),
    ));
    let models = provider.list_models().expect("discovery over HTTPS");
    assert!(models.iter().any(|m| m.id.as_str() == MODEL), "{models:?}");
    let out = run(
        &provider,
        &scripted_request(
            MODEL,
            "Hi.",
            json!({"text": "Hello over TLS.", "deltaSize": 5}),
        ),
    );
    assert_eq!(out.text(), "Hello over TLS.");
    // The SDK's client and the emulator agree on HTTP/2 through ALPN, as with Bedrock.
    let versions: Vec<String> = emu.requests().into_iter().map(|r| r.http_version).collect();
    assert!(!versions.is_empty());
    assert!(versions.iter().all(|v| v == "HTTP/2.0"), "{versions:?}");
}

#[test]
fn an_untrusted_certificate_fails_saying_how_to_trust_it() {
    let (emu, _ca) = tls_emulator();
    let provider = provider_from(&config_with(&emu.url(), "retry: { maxAttempts: 1 },"));
    let out = run(
        &provider,
        &scripted_request(MODEL, "Hi.", json!({"text": "x"})),
    );
    let e = out.error();
    assert_eq!(e.kind(), &ErrorKind::Network, "{e}");
    assert!(e.error.message.contains("TLS certificate"), "{e}");
    assert!(e.error.message.contains("caBundle"), "{e}");
    assert!(e.error.message.contains("AWS_CA_BUNDLE"), "{e}");
}

#[test]
fn a_ca_bundle_that_is_missing_or_not_pem_is_a_configuration_error() {
    init();
    let dir = std::env::temp_dir().join(format!("https-bad-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "just some text\n").unwrap();
    for (path, needle) in [
        (dir.join("missing.pem"), "cannot be read"),
        (not_pem, "holds no certificate"),
    ] {
        let config = config_with(
            "https://127.0.0.1:9",
            &format!("caBundle: {:?},", path.display().to_string()),
        );
        let e = plugin().new_provider(&config).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config, "{e}");
        assert!(e.message.contains("caBundle"), "{e}");
        assert!(e.message.contains(needle), "{e}");
    }
}
