//! Issue #3, first half: a host loads a plugin built against an older compatible minor version
//! of the contract. The fixture (tests/fixtures/contract-1-0-plugin) carries a frozen copy of
//! host-sdk 1.0.0's contract, whose `Provider` vtable ends at `converse_stream`; the current
//! host-sdk must load it through `Plugin::load`, use everything 1.0 had, and answer the methods
//! added since (`auth_status` 1.1, `config_warnings` 1.2, `take_notices` 1.3) with their
//! default bodies instead of calling past the end of the plugin's vtable; the root-module field
//! added in 1.4 (`set_log_sink`) reads as missing, so `Plugin::set_log_sink` returns false.

use std::sync::{Arc, Mutex};

use e2e_tests::{artifact, init, CONTRACT_1_0_LIB, PLUGIN_LIB};
use futures::StreamExt;
use host_sdk::{
    ConverseRequest, Error, ErrorKind, Event, Plugin, Provider, SinkFlow, StopReason,
    CONTRACT_VERSION,
};

// What the fixture answers (tests/fixtures/contract-1-0-plugin/src/lib.rs; it is a cdylib, so
// its constants cannot be imported).
const PROVIDER_ID: &str = "contract-1-0-fixture";
const MODEL_ID: &str = "fixture.contract-1-0";
const ANSWER: &str = "Hello from a plugin built against contract 1.0.";

/// The default body of `Provider::auth_status` in host-sdk's contract.rs.
const UNSUPPORTED_AUTH: &str =
    "this plugin was built against contract 1.0 and cannot report its authentication";

fn plugin_1_0() -> Plugin {
    init();
    let path = artifact(CONTRACT_1_0_LIB);
    Plugin::load(&path).unwrap_or_else(|e| {
        panic!(
            "a plugin built against contract 1.0 must load in a {CONTRACT_VERSION} host ({}): {e}",
            path.display()
        )
    })
}

fn provider_1_0() -> Provider {
    plugin_1_0()
        .new_provider("")
        .expect("the 1.0 fixture accepts any configuration")
}

/// Every event of a stream, as the host saw them.
fn expected_events() -> Vec<Event> {
    vec![
        Event::MessageStart,
        Event::TextDelta {
            index: 0,
            text: ANSWER.into(),
        },
        Event::BlockStop { index: 0 },
        Event::MessageStop {
            reason: StopReason::EndTurn,
        },
    ]
}

fn assert_unsupported_auth(result: Result<host_sdk::AuthStatus, Error>) {
    let error = result.expect_err("a 1.0 plugin cannot report its authentication");
    assert_eq!(error.kind.code(), "unsupported", "{error:?}");
    assert_eq!(error.kind, ErrorKind::Other("unsupported".into()));
    assert_eq!(error.message, UNSUPPORTED_AUTH);
    assert!(error.message.contains("contract 1.0"), "{error:?}");
    assert!(!error.retryable, "{error:?}");
}

#[test]
fn the_host_is_a_later_minor_of_the_same_major() {
    let (major, minor) = {
        let mut parts = CONTRACT_VERSION.split('.');
        let major: u32 = parts.next().unwrap().parse().unwrap();
        let minor: u32 = parts.next().unwrap().parse().unwrap();
        (major, minor)
    };
    assert_eq!(
        major, 1,
        "the fixture is a 1.x plugin: same major as the host"
    );
    assert!(
        minor > 0,
        "the host must be newer than the 1.0 fixture for this test to mean anything"
    );
}

#[test]
fn a_plugin_built_against_contract_1_0_loads_and_says_so() {
    let plugin = plugin_1_0();
    let metadata = plugin.metadata();
    assert_eq!(metadata.provider_id.as_str(), PROVIDER_ID);
    assert_eq!(metadata.contract_version.as_str(), "1.0.0");

    let provider = plugin
        .new_provider(r#"{ "anything": ["goes", 1] }"#)
        .expect("any configuration is accepted");
    assert_eq!(provider.metadata(), *metadata);
}

#[test]
fn list_models_works_blocking_and_async() {
    let provider = provider_1_0();
    let models = provider.list_models().expect("list_models replies");
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(models[0].id.as_str(), MODEL_ID);

    let async_models =
        futures::executor::block_on(provider.list_models_async()).expect("async list_models");
    assert_eq!(async_models, models);
}

#[test]
fn a_blocking_converse_streams_the_answer_and_completes() {
    let provider = provider_1_0();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let events = seen.clone();
    let completion = provider
        .converse(&ConverseRequest::user_text(MODEL_ID, "Hi"), move |event| {
            events.lock().unwrap().push(Event::from(event));
            SinkFlow::Continue
        })
        .expect("the stream completes");
    assert_eq!(*seen.lock().unwrap(), expected_events());
    assert_eq!(completion.message.text(), ANSWER);
    assert_eq!(completion.stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn an_async_converse_streams_the_answer_and_completes() {
    let provider = provider_1_0();
    let stream = provider
        .converse_stream(&ConverseRequest::user_text(MODEL_ID, "Hi"))
        .expect("the stream starts");
    let mut events: Vec<Event> = futures::executor::block_on(stream.collect());
    let Some(Event::Completed(completion)) = events.pop() else {
        panic!("the stream must end with Completed: {events:?}");
    };
    assert_eq!(events, expected_events());
    assert_eq!(completion.message.text(), ANSWER);
    assert_eq!(completion.stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn methods_added_after_1_0_answer_with_their_defaults() {
    let provider = provider_1_0();
    // 1.2 and 1.3: nothing to report, before and after a call.
    assert_eq!(provider.config_warnings(), Vec::<String>::new());
    assert_eq!(provider.take_notices(), Vec::<String>::new());
    provider.list_models().expect("list_models replies");
    assert_eq!(provider.take_notices(), Vec::<String>::new());

    // 1.1: an `unsupported` error naming the contract the plugin was built against.
    assert_unsupported_auth(provider.auth_status());
    assert_unsupported_auth(futures::executor::block_on(provider.auth_status_async()));
}

#[test]
fn a_1_0_plugin_takes_no_log_sink_and_nothing_breaks() {
    let plugin = plugin_1_0();
    assert!(!plugin.supports_log_sink());
    let called = Arc::new(Mutex::new(0_u32));
    let count = called.clone();
    assert!(
        !plugin.set_log_sink(move |_, _, _| *count.lock().unwrap() += 1),
        "a 1.0 plugin has no set_log_sink: the host is told, nothing is called"
    );
    assert!(!plugin.set_log_sink_filtered(
        Some(host_sdk::LogLevel::Warn),
        |_, _| true,
        |_, _, _| {}
    ));

    let provider = plugin
        .new_provider("")
        .expect("any configuration is accepted");
    let completion = provider
        .converse(&ConverseRequest::user_text(MODEL_ID, "Hi"), |_| {
            SinkFlow::Continue
        })
        .expect("the stream completes");
    assert_eq!(completion.message.text(), ANSWER);
    assert_eq!(*called.lock().unwrap(), 0);

    // The current plugin, loaded in the same process, does take one.
    let current = Plugin::load(artifact(PLUGIN_LIB)).expect("the current plugin loads");
    assert!(current.supports_log_sink());
}

#[test]
fn a_1_0_plugin_and_a_current_plugin_work_side_by_side() {
    // abi_stable keeps one process-wide view of every prefix type (the vtables); loading a
    // plugin with the current full `Provider` vtable and one with the 1.0 prefix in the same
    // process, in either order, must leave both usable.
    let current = Plugin::load(artifact(PLUGIN_LIB)).expect("the current plugin loads");
    let old = provider_1_0();
    let again = Plugin::load(artifact(PLUGIN_LIB)).expect("the current plugin loads again");
    assert_eq!(current.metadata(), again.metadata());
    assert_eq!(
        current.metadata().contract_version.as_str(),
        CONTRACT_VERSION
    );

    assert_eq!(old.list_models().expect("list_models replies").len(), 1);
    assert_unsupported_auth(old.auth_status());
    let completion = old
        .converse(&ConverseRequest::user_text(MODEL_ID, "Hi"), |_| {
            SinkFlow::Continue
        })
        .expect("the stream completes");
    assert_eq!(completion.message.text(), ANSWER);
}

#[test]
fn the_1_0_contract_snapshot_is_unedited() {
    // The fixture's contract must stay host-sdk 1.0.0's (`git show
    // c234444:host-sdk/src/contract.rs`) byte for byte, below its header: an edit would make
    // these tests prove something else. FNV-1a 64 of those bytes.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/contract-1-0-plugin/src/contract_1_0.rs"
    );
    assert_eq!(
        e2e_tests::snapshot_digest(std::path::Path::new(path)),
        (10335, 0x12d7_680a_576f_7bc3),
        "{path} was edited: restore it from git history"
    );
}
