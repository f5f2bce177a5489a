//! Issue #14: the gateway against a client nobody here wrote, the official `openai` Python
//! package (pinned in gateway/conformance/requirements.txt, installed by scripts/python-env):
//! completions, streaming with usage, a tool round trip, structured output, errors.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running gateway with the embedded emulator; stopped when dropped.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(key: &str, config: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--emulator", "--port", "0", "--api-key", key, "--config"])
        .arg(config)
        .env_remove("GATEWAY_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the gateway starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .expect("the gateway prints its URL");
    let url = first.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"),
        "{url}"
    );
    Running { child, url }
}

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
    let gateway = start("conformance-key", &config);
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
    assert!(report.contains("8 passed"), "{report}");
}
