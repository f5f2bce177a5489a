//! Issue #14: the gateway against the official OpenAI client for JavaScript (pinned in
//! gateway/conformance/js, installed by scripts/node-env), under node's test runner.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn the_official_openai_js_client_works_against_the_gateway() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/js");
    assert!(
        dir.join("node_modules/openai").is_dir(),
        "{} has no node_modules: run scripts/node-env (scripts/test does)",
        dir.display()
    );
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--emulator", "--port", "0", "--api-key", "js-key"])
        .env_remove("GATEWAY_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the gateway starts");
    let mut url = String::new();
    BufReader::new(gateway.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let out = Command::new("node")
        .args(["--test", "openai.test.mjs"])
        .current_dir(&dir)
        .env("GATEWAY_URL", url.trim())
        .env("GATEWAY_KEY", "js-key")
        .output()
        .expect("node runs");
    let _ = gateway.kill();
    let _ = gateway.wait();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("# pass 5"), "{report}");
}
