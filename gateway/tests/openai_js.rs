//! Issues #14 and #19: the gateway against the official OpenAI client for JavaScript
//! (pinned in gateway/conformance/js, installed by scripts/node-env), under node's test
//! runner: Chat Completions, Responses and (#21) Embeddings.

mod common;

use common::{run_node_tests, Gateway};

#[test]
fn the_official_openai_js_client_works_against_the_gateway() {
    let gateway = Gateway::start(["--emulator", "--api-key", "js-key"], &[]);
    let report = run_node_tests(
        "openai.test.mjs",
        &[("GATEWAY_URL", &gateway.url), ("GATEWAY_KEY", "js-key")],
    );
    assert!(report.contains("# pass 10"), "{report}");
}
