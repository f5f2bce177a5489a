//! Conformance: botocore, the AWS SDK for Python (a client nobody here wrote), against the
//! emulator. Starts three emulators in-process (the default identity, one that also
//! requires a SigV4 session token, and one serving HTTPS for the bearer-token tests), then
//! runs `emulator/conformance` with pytest from the
//! repository's `.venv` and fails unless every test passes.
//!
//! Needs the venv: `scripts/python-env` (pinned boto3/botocore/pytest). Without it this test
//! fails; it never skips.

mod common;

use common::external::{hermetic, repo_root, run_suite};
use emulator::{Emulator, EmulatorConfig, RunningEmulator};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The session token the second emulator requires.
const SESSION_TOKEN: &str =
    "IQoJb3JpZ2luX2VjEmulatorConformanceSessionToken//////////wEaCXVzLWVhc3QtMSJH";

/// pytest normally takes well under a minute; this only guards against a hang.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(300);

fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start_background(config).expect("start the emulator")
}

#[test]
fn botocore_conformance() {
    let root = repo_root();
    let python = root.join(".venv").join("bin").join("python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/python-env first (it installs the pinned boto3/botocore/pytest)",
        python.display()
    );

    let emu = start(EmulatorConfig::default());
    let with_token = start(EmulatorConfig {
        session_token: Some(SESSION_TOKEN.to_string()),
        ..EmulatorConfig::default()
    });
    assert_eq!(with_token.session_token(), Some(SESSION_TOKEN));
    let https = start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    });
    let ca_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("botocore-emulator-ca.pem");
    std::fs::write(
        &ca_file,
        https.ca_pem().expect("the HTTPS emulator has a CA"),
    )
    .unwrap();

    let app_profile = emu
        .create_application_profile(
            "conformance",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        )
        .expect("a known source");
    let (guardrail_id, guardrail_version) =
        emu.create_guardrail(&["pineapple"], "Sorry, I can't talk about that.");

    let mut command = hermetic(Command::new(&python));
    command
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "emulator/conformance",
        ])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("EMULATOR_URL", emu.url())
        .env("EMULATOR_REGION", emu.region())
        .env("EMULATOR_ACCESS_KEY_ID", emu.access_key_id())
        .env("EMULATOR_SECRET_ACCESS_KEY", emu.secret_access_key())
        .env("EMULATOR_API_KEY", emu.api_key())
        .env("EMULATOR_SESSION_URL", with_token.url())
        .env("EMULATOR_SESSION_TOKEN", SESSION_TOKEN)
        .env("EMULATOR_TLS_URL", https.url())
        .env("EMULATOR_CA_FILE", &ca_file)
        .env("EMULATOR_ACCOUNT_ID", emu.account_id())
        .env("EMULATOR_APP_PROFILE_ARN", &app_profile)
        .env("EMULATOR_GUARDRAIL_ID", &guardrail_id)
        .env("EMULATOR_GUARDRAIL_VERSION", &guardrail_version);
    run_suite(
        "pytest emulator/conformance (botocore)",
        command,
        PYTEST_TIMEOUT,
        "cargo test -p emulator --test botocore -- --nocapture",
    );
}
