//! Issue #14: the gateway against a client nobody here wrote, the official `openai` Python
//! package (pinned in gateway/conformance/requirements.txt, installed by scripts/python-env):
//! completions, streaming with usage, a tool round trip, structured output, errors.

mod common;

use std::path::Path;
use std::process::Command;

use common::Gateway;

#[test]
fn the_official_openai_python_client_works_against_the_gateway() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = repo.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/python-env (scripts/test does)",
        python.display()
    );
    // A second key may use one model only.
    let config = std::env::temp_dir().join(format!("gateway-keys-{}.json5", std::process::id()));
    std::fs::write(
        &config,
        r#"{ gateway: { keys: [{ key: "limited-key", models: ["amazon-bedrock/amazon.nova-micro-v1:0"] }] } }"#,
    )
    .unwrap();
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--api-key".as_ref(),
            "conformance-key".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    );
    let out = Command::new(python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "gateway/conformance",
        ])
        .current_dir(repo)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("GATEWAY_URL", &gateway.url)
        .env("GATEWAY_KEY", "conformance-key")
        .output()
        .expect("pytest runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pytest failed:\n{report}");
    assert!(report.contains("12 passed"), "{report}");
}
