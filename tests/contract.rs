//! The contract as a host sees it: the plugin's metadata, and the typed errors a host acts on
//! (configuration, unknown model, profile-only model, refused credentials, invalid request).

use std::time::Duration;

use e2e_tests::{
    init, plugin, provider_for, recorded, run, start_emulator, start_emulator_with, MODEL,
};
use emulator::EmulatorConfig;
use host_sdk::{ConverseRequest, ErrorKind, SinkFlow, CONTRACT_VERSION};

#[test]
fn metadata_describes_the_bedrock_provider() {
    init();
    let meta = plugin().metadata();
    assert_eq!(meta.provider_id.as_str(), "amazon-bedrock");
    assert_eq!(meta.api.as_str(), "bedrock-converse-stream");
    assert_eq!(meta.auth.as_str(), "aws-sdk");
    assert_eq!(meta.contract_version.as_str(), CONTRACT_VERSION);
    assert!(!meta.capabilities.is_empty(), "capabilities: {meta:?}");
    assert!(
        meta.capabilities.iter().any(|c| c.as_str() == "streaming"),
        "a streaming provider says so: {meta:?}"
    );

    // A configured provider reports the same facts as the loaded plugin.
    let emu = start_emulator();
    assert_eq!(&provider_for(&emu).metadata(), meta);
}

#[test]
fn bad_configuration_names_the_key_and_the_line() {
    init();
    // The bad value is on line 4, so a message naming "line 4" points the user at it.
    let config =
        "{\n  models: {\n    bedrockDiscovery: {\n      refreshInterval: -1,\n    },\n  },\n}";
    let err = plugin()
        .new_provider(config)
        .expect_err("a negative refresh interval is refused");
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(
        err.message
            .contains("models.bedrockDiscovery.refreshInterval"),
        "the message names the key path: {err}"
    );
    assert!(
        err.message.contains("line 4"),
        "the message names the line: {err}"
    );
}

#[test]
fn unknown_model_is_model_not_found_naming_the_id() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let model = "acme.no-such-model-v1:0";
    let out = run(&provider, &ConverseRequest::user_text(model, "Hello"));
    let err = out.error();
    assert_eq!(err.kind(), &ErrorKind::ModelNotFound, "{err}");
    assert!(err.error.message.contains(model), "names the id: {err}");
    assert!(!err.error.retryable, "retrying cannot help: {err}");
}

#[test]
fn profile_only_base_id_needs_an_inference_profile() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let base = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    let out = run(&provider, &ConverseRequest::user_text(base, "Hello"));
    let err = out.error();
    assert_eq!(err.kind(), &ErrorKind::NeedsInferenceProfile, "{err}");
    assert!(err.error.message.contains(base), "names the model: {err}");
    assert!(
        err.error.message.contains(&format!("us.{base}")),
        "names the profile id to use instead: {err}"
    );
}

#[test]
fn refused_credentials_are_access_denied_naming_the_source_not_the_secret() {
    init();
    // The emulator verifies signatures with another secret than the one in the environment,
    // so the plugin's correct-looking environment credentials are refused.
    let other_secret = "aDifferentSecretTheEmulatorExpects000000";
    let emu = start_emulator_with(EmulatorConfig {
        secret_access_key: other_secret.into(),
        ..EmulatorConfig::default()
    });
    let provider = provider_for(&emu);

    let out = run(&provider, &ConverseRequest::user_text(MODEL, "Hello"));
    let streamed = out.error();
    let listed = provider
        .list_models()
        .expect_err("discovery with refused credentials fails");
    for (what, kind, message) in [
        ("converse", streamed.kind(), &streamed.error.message),
        ("list_models", &listed.kind, &listed.message),
    ] {
        assert_eq!(kind, &ErrorKind::AccessDenied, "{what}: {message}");
        assert!(
            message.contains("AWS_ACCESS_KEY_ID"),
            "{what}: names the credential source: {message}"
        );
        assert!(
            !message.contains(emulator::DEFAULT_SECRET_ACCESS_KEY)
                && !message.contains(other_secret),
            "{what}: never shows a secret: {message}"
        );
    }
}

#[test]
fn a_request_without_messages_is_rejected_before_any_network_call() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let request = ConverseRequest {
        model: MODEL.into(),
        messages: Vec::new(),
        ..ConverseRequest::default()
    };
    let err = provider
        .start(&request, |_| SinkFlow::Continue)
        .err()
        .expect("`start` itself refuses the request");
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err}");
    assert!(
        err.message.contains("message"),
        "says what is missing: {err}"
    );

    // Had the plugin sent it anyway, the request would reach the emulator asynchronously.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        recorded(&emu, "ConverseStream").is_empty() && recorded(&emu, "Converse").is_empty(),
        "no converse request may reach the service: {:?}",
        emu.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_status_names_the_source_and_checks_a_call_without_secrets() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let blocking = {
        let provider = provider.clone();
        tokio::task::spawn_blocking(move || provider.auth_status())
            .await
            .unwrap()
            .expect("auth status")
    };
    let status = provider.auth_status_async().await.expect("auth status");
    assert_eq!(status, blocking, "both APIs report the same");
    assert!(
        status.source.as_str().contains("AWS_ACCESS_KEY_ID"),
        "{status:?}"
    );
    assert_eq!(status.region.as_str(), emu.region());
    assert_eq!(status.endpoint.as_str(), emu.url());
    let check = status
        .check
        .clone()
        .into_result()
        .expect("the check call succeeds");
    assert!(check.contains("ListFoundationModels"), "{check}");
    assert!(!recorded(&emu, "ListFoundationModels").is_empty());
    let shown = format!("{status:?}");
    assert!(!shown.contains(emu.secret_access_key()), "{shown}");
}
