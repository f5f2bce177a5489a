//! Issue #14: the gateway against the official OpenAI client for JavaScript (pinned in
//! gateway/conformance/js, installed by scripts/node-env), under node's test runner.

mod common;

use std::path::Path;
use std::process::Command;

use common::Gateway;

#[test]
fn the_official_openai_js_client_works_against_the_gateway() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/js");
    assert!(
        dir.join("node_modules/openai").is_dir(),
        "{} has no node_modules: run scripts/node-env (scripts/test does)",
        dir.display()
    );
    let gateway = Gateway::start(["--emulator", "--api-key", "js-key"], &[]);
    let out = Command::new("node")
        .args(["--test", "openai.test.mjs"])
        .current_dir(&dir)
        .env("GATEWAY_URL", &gateway.url)
        .env("GATEWAY_KEY", "js-key")
        .output()
        .expect("node runs");
    drop(gateway);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("# pass 5"), "{report}");
}
