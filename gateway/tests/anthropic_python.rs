//! Issue #19: the Messages dialect against a client nobody here wrote, the official
//! `anthropic` Python package (pinned in gateway/conformance/requirements.txt, installed by
//! scripts/python-env): messages whole and streamed, tools, signed and redacted thinking sent
//! back, token counts, structured output, errors as the SDK's own classes, aliases.

mod common;

use std::path::Path;

use common::{conformance_config, run_pytest, Gateway};

#[test]
fn the_official_anthropic_python_client_works_against_the_gateway() {
    let config = conformance_config("anthropic-python");
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--api-key".as_ref(),
            "anthropic-key".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let report = run_pytest(
        repo,
        "gateway/conformance/test_anthropic.py",
        &[
            ("GATEWAY_ROOT", gateway.url.trim_end_matches("/v1")),
            ("GATEWAY_KEY", "anthropic-key"),
        ],
    );
    assert!(report.contains("11 passed"), "{report}");
}
