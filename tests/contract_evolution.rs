//! Issue #11: contract 1.5 grows by its written rules, and both directions of a 1.4 / 1.5
//! pairing work with binaries nobody rebuilt (the 1.0 plugin in this host is
//! tests/older_plugins.rs):
//!
//! - a plugin built against 1.4 (tests/fixtures/contract-1-4-plugin, on the frozen
//!   tests/fixtures/host-sdk-1-4) loads in this host; everything 1.4 had works, and the
//!   method 1.5 added (`count_tokens`) answers with its default;
//! - this plugin runs in a host built against 1.4 (tests/fixtures/contract-1-4-host): a stream
//!   whose answer carries extension events (a guardrail trace, a prompt router's choice) and
//!   completion fields 1.4 does not know still succeeds there, with the same text;
//! - in this host the same events arrive as extension events and in the completion.

use std::process::Command;
use std::sync::{Arc, Mutex};

use e2e_tests::{
    artifact, config_for, extensions, init, profile_dir, provider_for, run, start_emulator,
    CONTRACT_1_4_HOST, CONTRACT_1_4_LIB, PLUGIN_LIB,
};
use emulator::RawResponse;
use futures::StreamExt;
use host_sdk::contract::extension_kinds;
use host_sdk::{
    ConverseRequest, ErrorKind, Event, Plugin, SinkFlow, StopReason, StreamEvent, StreamHandler,
};
use serde_json::{json, Value};

const FIXTURE_ANSWER: &str = "Hello from a plugin built against contract 1.4.";

fn plugin_1_4() -> Plugin {
    init();
    let path = artifact(CONTRACT_1_4_LIB);
    Plugin::load(&path).unwrap_or_else(|e| {
        panic!(
            "a 1.4 plugin must load in a 1.5 host ({}): {e}",
            path.display()
        )
    })
}

/// Counts extension events, to prove none arrive from a plugin that cannot send them.
struct Counting {
    text: Arc<Mutex<String>>,
    extensions: Arc<Mutex<usize>>,
}

impl StreamHandler for Counting {
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        if let StreamEvent::TextDelta { text, .. } = event {
            self.text.lock().unwrap().push_str(text);
        }
        SinkFlow::Continue
    }
    fn on_extension(&mut self, _kind: &str, _data_json: &str) -> SinkFlow {
        *self.extensions.lock().unwrap() += 1;
        SinkFlow::Continue
    }
}

#[test]
fn a_plugin_built_against_1_4_works_in_this_host() {
    let plugin = plugin_1_4();
    assert_eq!(plugin.metadata().contract_version.as_str(), "1.4.0");
    let logs = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = logs.clone();
    assert!(plugin.set_log_sink(move |_, _, m| kept.lock().unwrap().push(m.to_owned())));
    let provider = plugin.new_provider("").unwrap();
    assert_eq!(provider.config_warnings(), vec!["fixture warning"]);
    assert_eq!(
        provider.list_models().unwrap()[0].id.as_str(),
        "fixture.contract-1-4"
    );
    assert_eq!(provider.auth_status().unwrap().source.as_str(), "fixture");

    let (text, count) = (Arc::new(Mutex::new(String::new())), Arc::new(Mutex::new(0)));
    let handler = Counting {
        text: text.clone(),
        extensions: count.clone(),
    };
    let request = ConverseRequest::user_text("fixture.contract-1-4", "hi");
    let completion = provider.converse_with(&request, handler).unwrap();
    assert_eq!(*text.lock().unwrap(), FIXTURE_ANSWER);
    assert_eq!(*count.lock().unwrap(), 0);
    assert_eq!(completion.message.text(), FIXTURE_ANSWER);
    assert_eq!(completion.stop_reason, Some(StopReason::EndTurn));
    assert!(completion.extensions.is_empty() && completion.output_check.is_none());
    assert_eq!(*logs.lock().unwrap(), vec!["stream started"]);

    // The async API over the same plugin.
    let events: Vec<Event> =
        futures::executor::block_on(provider.converse_stream(&request).unwrap().collect());
    assert!(
        matches!(events.last(), Some(Event::Completed(c)) if c.message.text() == FIXTURE_ANSWER)
    );

    assert_eq!(provider.take_notices(), vec!["fixture notice"]);
    assert!(provider.take_notices().is_empty());

    // Added in 1.5: the contract's default body answers for the 1.4 plugin.
    let e = provider.count_tokens(&request).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other("unsupported".into()));
    assert!(e.message.contains("before contract 1.5"), "{e}");
    assert!(!e.retryable);

    // Added in 1.7 (issue #21): embeddings answer `unsupported`, and nothing crashes.
    let embed = host_sdk::EmbeddingRequest::texts("amazon.titan-embed-text-v2:0", ["x"]);
    let e = provider.embed(&embed).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other("unsupported".into()));
    assert!(e.message.contains("before contract 1.7"), "{e}");
    let e = provider.list_embedding_models().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other("unsupported".into()));
    // Added in 1.8 (issue #20): where model facts come from answers `unsupported` too.
    let e = provider.model_provenance().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other("unsupported".into()));
    assert!(e.message.contains("before contract 1.8"), "{e}");
    // Chat still works after them.
    let again = provider
        .converse_with(
            &ConverseRequest::user_text("fixture.contract-1-4", "hi"),
            |_: &StreamEvent<'_>| SinkFlow::Continue,
        )
        .unwrap();
    assert_eq!(again.message.text(), FIXTURE_ANSWER);
}

/// A ConverseStream answer whose metadata carries a guardrail trace and a prompt router's
/// choice, as Bedrock sends them.
fn traced_answer(text: &str) -> RawResponse {
    let events = vec![
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": text}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ("messageStop", json!({"stopReason": "end_turn"})),
        (
            "metadata",
            json!({
                "usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
                "metrics": {"latencyMs": 20},
                "trace": {
                    "guardrail": {
                        "inputAssessment": {"abc123xyz789": {
                            "wordPolicy": {"customWords": [{"match": "x", "action": "NONE", "detected": false}]},
                            "invocationMetrics": {"guardrailProcessingLatency": 7}
                        }},
                        "actionReason": "No action."
                    },
                    "promptRouter": {"invokedModelId": "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0"}
                }
            }),
        ),
    ];
    e2e_tests::raw_stream(&events)
}

const TRACED_MODEL: &str = "amazon.nova-micro-v1:0";
const TRACED_TEXT: &str = "Routed and assessed.";

/// This plugin calls what later minors appended to the host's sink (1.5's `on_extension`,
/// 1.6's `set_waker` and `ready` for backpressure); in a host built against 1.4 those calls
/// run the contract's default bodies, and the stream goes on as it always did.
#[test]
fn this_plugin_works_in_a_host_built_against_1_4() {
    init();
    let emu = start_emulator();
    emu.set_raw_response(TRACED_MODEL, traced_answer(TRACED_TEXT));
    let host = profile_dir().join(CONTRACT_1_4_HOST);
    assert!(
        host.is_file(),
        "{} is missing: {}",
        host.display(),
        e2e_tests::BUILD_HINT
    );
    let request = json!({"model": TRACED_MODEL, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]});
    let out = Command::new(&host)
        .arg(artifact(PLUGIN_LIB))
        .arg(config_for(&emu.url()))
        .arg(request.to_string())
        .output()
        .expect("the 1.4 host runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the host prints JSON");
    assert_eq!(seen["hostContract"], "1.4.0", "{seen}");
    assert_eq!(seen["pluginContract"], host_sdk::CONTRACT_VERSION);
    assert_eq!(seen["logSink"], true, "1.4 had the log bridge");
    assert!(seen["models"].as_u64().unwrap() > 10, "{}", seen["models"]);
    let completion = &seen["result"]["ok"];
    assert_eq!(
        completion["message"]["content"][0]["text"], TRACED_TEXT,
        "the stream must succeed in a 1.4 host: {seen}"
    );
    assert_eq!(completion["stopReason"], "end_turn");
    let kinds: Vec<&str> = seen["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "messageStart",
            "textDelta",
            "blockStop",
            "messageStop",
            "usage",
            "metrics"
        ],
        "a 1.4 host sees the events it knows, in order, and nothing else"
    );
}

#[test]
fn in_this_host_the_same_answer_brings_its_extension_events() {
    let emu = start_emulator();
    emu.set_raw_response(TRACED_MODEL, traced_answer(TRACED_TEXT));
    let outcome = run(
        &provider_for(&emu),
        &ConverseRequest::user_text(TRACED_MODEL, "hi"),
    );
    let seen = extensions(&outcome.events);
    let kinds: Vec<&str> = seen.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [extension_kinds::MODEL_ROUTED, extension_kinds::GUARDRAIL]
    );
    assert_eq!(
        seen[0].data["model"],
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0"
    );
    assert_eq!(seen[1].data["intervened"], false);
    assert_eq!(
        seen[1].data["trace"]["inputAssessment"]["abc123xyz789"]["invocationMetrics"]
            ["guardrailProcessingLatency"],
        7
    );
    let completion = outcome.completion();
    assert_eq!(completion.message.text(), TRACED_TEXT);
    assert_eq!(completion.extensions.iter().collect::<Vec<_>>(), seen);
}

#[test]
fn a_prompt_router_answers_through_the_model_it_chose_and_says_which() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let router = format!(
        "arn:aws:bedrock:{}:{}:default-prompt-router/amazon.nova:1",
        emu.region(),
        emu.account_id()
    );
    let short = run(&p, &ConverseRequest::user_text(&router, "Hi there"));
    let routed = extensions(&short.events);
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].kind, extension_kinds::MODEL_ROUTED);
    let model = routed[0].data["model"].as_str().unwrap();
    assert!(
        model.ends_with("inference-profile/us.amazon.nova-lite-v1:0"),
        "{model}"
    );
    let long = run(
        &p,
        &ConverseRequest::user_text(&router, "Explain in depth. ".repeat(30)),
    );
    let model = extensions(&long.events)[0].data["model"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        model.ends_with("inference-profile/us.amazon.nova-pro-v1:0"),
        "{model}"
    );
    assert_eq!(long.completion().extensions[0].data["model"], model);
}

/// A host (a gateway, say) loads plugins of several minors side by side, in any order: an
/// older plugin's load must not change how the next one is checked.
#[test]
fn plugins_of_three_minors_load_side_by_side_in_one_process() {
    init();
    let older_first = [e2e_tests::CONTRACT_1_0_LIB, CONTRACT_1_4_LIB, PLUGIN_LIB];
    for lib in older_first.iter().chain(older_first.iter().rev()) {
        let path = artifact(lib);
        let plugin = Plugin::load(&path)
            .unwrap_or_else(|e| panic!("{} must load after the others: {e}", path.display()));
        assert!(plugin.new_provider("").is_ok(), "{lib}");
    }
}

#[test]
fn the_1_4_snapshot_is_unedited() {
    // tests/fixtures/host-sdk-1-4/src must stay host-sdk 1.4.0's (`git show
    // 113d063:host-sdk/src/<file>`) byte for byte, below each header: an edit would make these
    // tests prove something else. Length and FNV-1a 64 of those bytes, per file.
    const FILES: [(&str, usize, u64); 8] = [
        ("contract.rs", 16128, 0x19fb_59c2_3902_2457),
        ("error.rs", 6597, 0x0a71_3d8b_dec6_b818),
        ("file_check.rs", 2635, 0x0300_61f4_d1e3_8144),
        ("host.rs", 18568, 0xcb94_5751_dd1a_857f),
        ("lib.rs", 1737, 0x6953_d201_d0eb_5ea3),
        ("loader.rs", 19956, 0x0c4a_d65d_1b8d_9e3b),
        ("plugin.rs", 12042, 0x0ebf_60a4_859e_b40f),
        ("request.rs", 14164, 0x5590_ce7e_5aae_a5bb),
    ];
    for (file, len, hash) in FILES {
        let path = format!(
            "{}/fixtures/host-sdk-1-4/src/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        assert_eq!(
            e2e_tests::snapshot_digest(std::path::Path::new(&path)),
            (len, hash),
            "{path} was edited: restore it from git history"
        );
    }
}

/// What the host built against 1.4 saw of `request`, sent through this plugin to `emu`: its
/// events and its result, as it prints them.
fn ask_1_4_host(emu: &emulator::RunningEmulator, request: &Value) -> Value {
    let out = Command::new(profile_dir().join(CONTRACT_1_4_HOST))
        .arg(artifact(PLUGIN_LIB))
        .arg(config_for(&emu.url()))
        .arg(request.to_string())
        .output()
        .expect("the 1.4 host runs");
    serde_json::from_slice(&out.stdout).expect("the host prints JSON")
}

/// A block type added in 1.5 (a server tool's call and result) never reaches a host built
/// against 1.4: its events are extension events it skips, and the completion this plugin
/// writes for it leaves those blocks out, so the 1.4 host still reads a success.
#[test]
fn a_host_built_against_1_4_gets_a_completion_it_can_read() {
    init();
    let emu = start_emulator();
    let recording = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recordings/extracted/test_bedrock_model_code_execution_tool_stream.yaml.0.bin");
    emu.set_raw_response(
        TRACED_MODEL,
        RawResponse::event_stream(std::fs::read(recording).unwrap()),
    );
    let request = json!({"model": TRACED_MODEL, "messages": [{"role": "user", "content": [{"type": "text", "text": "compute"}]}]});
    let seen = ask_1_4_host(&emu, &request);
    let content = &seen["result"]["ok"]["message"]["content"];
    assert_eq!(
        content,
        &json!([{"type": "toolUse", "id": "tooluse_ptgCcZ0uQu-UUMz0abqoWw", "name": "final_result", "input": {"result": 7006652.0}}]),
        "{seen}"
    );
    let tool_events = seen["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "toolUse")
        .count();
    assert_eq!(tool_events, 1, "{seen}");

    // What 1.9 added reaches a 1.4 host as fields and events it skips (issue #20): the usage's
    // reasoning tokens (a Responses-only model), and an image the model made.
    let scenario = |script: Value| format!("{}{script}", emulator::scenario::SCENARIO_PREFIX);
    for request in [
        json!({"model": "openai.gpt-5.5", "reasoning": {"effort": "low"},
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
        json!({"model": "amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": [
            {"type": "text", "text": scenario(json!({"text": "Drawn.", "image": {"format": "png", "data": "iVBORw0KGgo="}}))}
        ]}]}),
    ] {
        let seen = ask_1_4_host(&emu, &request);
        let completion = &seen["result"]["ok"];
        assert!(completion["message"]["content"].is_array(), "{seen}");
        assert!(
            completion["usage"]["outputTokens"]
                .as_u64()
                .is_some_and(|n| n > 0),
            "{seen}"
        );
    }
}
