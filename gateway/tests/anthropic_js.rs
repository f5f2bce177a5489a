//! Issue #19: the Messages dialect against the official Anthropic client for JavaScript
//! (`@anthropic-ai/sdk`, pinned in gateway/conformance/js, installed by scripts/node-env):
//! `messages.create`, `messages.stream`, tools, thinking sent back, `countTokens`, errors.

mod common;

use common::{conformance_config, run_node_tests, Gateway};

#[test]
fn the_official_anthropic_js_client_works_against_the_gateway() {
    let config = conformance_config("anthropic-js");
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--api-key".as_ref(),
            "anthropic-js-key".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    );
    let report = run_node_tests(
        "anthropic.test.mjs",
        &[
            ("GATEWAY_ROOT", gateway.url.trim_end_matches("/v1")),
            ("GATEWAY_KEY", "anthropic-js-key"),
        ],
    );
    assert!(report.contains("# pass 5"), "{report}");
}
