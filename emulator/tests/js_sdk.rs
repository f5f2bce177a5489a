//! Conformance: the AWS SDK for JavaScript v3 (`@aws-sdk/client-bedrock-runtime` and
//! `@aws-sdk/client-bedrock`, pinned in `emulator/conformance/js`) against the emulator, with
//! the SDK's default transport: HTTP/2 for the runtime, by prior knowledge on http:// and by
//! ALPN on https://; and the official `openai` client against the emulator's Responses API
//! (`openai_responses.test.mjs`: an API key, or SigV4 for `bedrock-mantle` from the SDK's own
//! signer). Starts a plain and an HTTPS emulator, runs the suites with node's test runner,
//! then checks that the runtime calls really arrived over HTTP/2.
//!
//! Needs `emulator/conformance/js/node_modules`: `scripts/node-env` (run by `scripts/test`)
//! installs it from the npm registry. Without it this test fails; it never skips.

mod common;

use common::external::{hermetic, repo_root, run_suite};
use emulator::{Emulator, EmulatorConfig, RunningEmulator};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const NODE_TIMEOUT: Duration = Duration::from_secs(180);

fn start(tls: bool) -> RunningEmulator {
    Emulator::start_background(EmulatorConfig {
        tls,
        ..EmulatorConfig::default()
    })
    .expect("start the emulator")
}

/// The HTTP versions of the runtime calls (Converse, ConverseStream) an emulator received.
fn runtime_versions(emu: &RunningEmulator) -> Vec<String> {
    emu.requests()
        .into_iter()
        .filter(|r| r.operation.starts_with("Converse"))
        .map(|r| r.http_version)
        .collect()
}

#[test]
fn aws_js_sdk_conformance() {
    let suite = repo_root().join("emulator/conformance/js");
    assert!(
        suite
            .join("node_modules/@aws-sdk/client-bedrock-runtime")
            .is_dir(),
        "{} has no node_modules: run scripts/node-env first (it installs the pinned AWS JS SDK)",
        suite.display()
    );
    let plain = start(false);
    let https = start(true);
    let ca_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("js-sdk-emulator-ca.pem");
    std::fs::write(&ca_file, https.ca_pem().expect("a CA")).unwrap();

    let mut command = hermetic(Command::new("node"));
    command
        .args([
            "--test",
            "--test-reporter=spec",
            "emulator/conformance/js/conformance.test.mjs",
            "emulator/conformance/js/openai_responses.test.mjs",
        ])
        .env("EMULATOR_URL", plain.url())
        .env("EMULATOR_TLS_URL", https.url())
        .env("EMULATOR_REGION", plain.region())
        .env("EMULATOR_ACCESS_KEY_ID", plain.access_key_id())
        .env("EMULATOR_SECRET_ACCESS_KEY", plain.secret_access_key())
        .env("EMULATOR_API_KEY", plain.api_key())
        .env("NODE_EXTRA_CA_CERTS", &ca_file);
    run_suite(
        "node --test emulator/conformance/js (AWS JS SDK v3)",
        command,
        NODE_TIMEOUT,
        "cargo test -p emulator --test js_sdk -- --nocapture",
    );

    for (name, emu) in [("http://", &plain), ("https://", &https)] {
        let versions = runtime_versions(emu);
        assert!(!versions.is_empty(), "{name}: no runtime call arrived");
        assert!(
            versions.iter().all(|v| v == "HTTP/2.0"),
            "{name}: the JS SDK's runtime calls arrive over HTTP/2: {versions:?}"
        );
    }
}
