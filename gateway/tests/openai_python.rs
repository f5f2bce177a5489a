//! Issues #14 and #19: the gateway against a client nobody here wrote, the official `openai`
//! Python package (pinned in gateway/conformance/requirements.txt, installed by
//! scripts/python-env). Chat Completions: completions, streaming with usage, a tool round
//! trip, structured output, errors. Responses: whole and streamed, function and custom tool
//! round trips, structured output, reasoning carried between turns, the stateless refusals.
//! Embeddings (#21): base64 and float vectors, order, dimensions, refusals.

mod common;

use std::path::Path;

use common::{conformance_config, run_pytest, Gateway};

fn gateway() -> Gateway {
    let config = conformance_config("openai-python");
    Gateway::start(
        [
            "--emulator".as_ref(),
            "--api-key".as_ref(),
            "conformance-key".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    )
}

fn pytest(tests: &str) -> String {
    let gateway = gateway();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    run_pytest(
        repo,
        tests,
        &[
            ("GATEWAY_URL", &gateway.url),
            ("GATEWAY_KEY", "conformance-key"),
        ],
    )
}

#[test]
fn the_official_openai_python_client_speaks_chat_completions_with_the_gateway() {
    let report = pytest("gateway/conformance/test_openai.py");
    assert!(report.contains("13 passed"), "{report}");
}

#[test]
fn the_official_openai_python_client_speaks_responses_with_the_gateway() {
    let report = pytest("gateway/conformance/test_openai_responses.py");
    assert!(report.contains("10 passed"), "{report}");
}

/// Issue #21.
#[test]
fn the_official_openai_python_client_embeds_through_the_gateway() {
    let report = pytest("gateway/conformance/test_openai_embeddings.py");
    assert!(report.contains("6 passed"), "{report}");
}
