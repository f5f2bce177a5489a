//! Issue #11: application inference profiles, the most reported Bedrock gap across
//! integrations. Their ARN says nothing of the model behind them; the plugin finds it
//! (discovery, a configured `baseModel`, or GetInferenceProfile once), so limits, prompt
//! caching and reasoning follow that model.

use e2e_tests::{
    config_with, only_body, provider_for, provider_from, recorded, run, start_emulator,
};
use host_sdk::{ConverseRequest, ReasoningConfig};
use serde_json::json;

const SONNET_45_PROFILE: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const SONNET_45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

fn reasoning_request(model: &str) -> ConverseRequest {
    ConverseRequest {
        reasoning: Some(ReasoningConfig {
            budget_tokens: Some(2048),
            effort: None,
            ..ReasoningConfig::default()
        }),
        system: vec!["Be brief.".into()],
        ..ConverseRequest::user_text(model, "Think, then answer.")
    }
}

#[test]
fn discovery_lists_application_profiles_with_the_model_behind_them() {
    let emu = start_emulator();
    let arn = emu
        .create_application_profile("team-search", SONNET_45_PROFILE)
        .unwrap();
    let models = provider_for(&emu).list_models().unwrap();
    let listed = models
        .iter()
        .find(|m| m.id.as_str() == arn)
        .unwrap_or_else(|| panic!("{arn} is not listed"));
    assert_eq!(listed.name.as_str(), "team-search");
    assert_eq!(listed.base_model_id.as_str(), SONNET_45);
    assert_eq!(listed.vendor.as_str(), "Anthropic");
    assert!(listed.reasoning);
    let base = models
        .iter()
        .find(|m| m.id.as_str() == SONNET_45_PROFILE)
        .unwrap();
    assert_eq!(listed.context_window, base.context_window);
    assert_eq!(listed.max_tokens, base.max_tokens);
    assert_eq!(listed.input, base.input);
}

#[test]
fn a_stream_through_an_unseen_profile_looks_the_model_up_once_then_reasons_and_caches() {
    let emu = start_emulator();
    let arn = emu
        .create_application_profile("team-b", SONNET_45_PROFILE)
        .unwrap();
    let p = provider_for(&emu);
    let out = run(&p, &reasoning_request(&arn));
    out.completion();
    let body = only_body(&emu);
    assert_eq!(
        body["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert!(
        body["system"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b.get("cachePoint").is_some()),
        "caching follows the model behind the profile: {}",
        body["system"]
    );
    assert_eq!(recorded(&emu, "GetInferenceProfile").len(), 1);
    // The answer is remembered: a second stream asks nothing more.
    run(&p, &reasoning_request(&arn)).completion();
    assert_eq!(recorded(&emu, "GetInferenceProfile").len(), 1);
    // CountTokens counts for the model behind the profile.
    assert!(p.count_tokens(&reasoning_request(&arn)).unwrap() > 0);
    let counted = recorded(&emu, "CountTokens");
    assert!(
        counted[0].path.contains(&SONNET_45.replace(':', "%3A")),
        "{}",
        counted[0].path
    );
}

#[test]
fn a_configured_entry_may_name_its_base_model_and_then_nothing_is_looked_up() {
    let emu = start_emulator();
    let arn = emu
        .create_application_profile("team-c", SONNET_45_PROFILE)
        .unwrap();
    let config = config_with(
        &emu.url(),
        &format!(r#"models: [{{ id: "{arn}", name: "Team C", baseModel: "{SONNET_45}" }}],"#),
    );
    let config = config.replacen(
        "models: {",
        "models: {\n    bedrockDiscovery: { enabled: false },",
        1,
    );
    let p = provider_from(&config);
    let listed = p.list_models().unwrap();
    assert_eq!(listed[0].base_model_id.as_str(), SONNET_45);
    assert!(listed[0].context_window >= 200_000);
    run(&p, &reasoning_request(&arn)).completion();
    assert_eq!(
        only_body(&emu)["additionalModelRequestFields"]["thinking"]["type"],
        "enabled"
    );
    assert!(recorded(&emu, "GetInferenceProfile").is_empty());
    assert!(recorded(&emu, "ListFoundationModels").is_empty());
}

#[test]
fn an_unknown_profile_fails_with_the_lookup_error_and_no_stream_call() {
    let emu = start_emulator();
    let arn = format!(
        "arn:aws:bedrock:{}:{}:application-inference-profile/nosuchprofile",
        emu.region(),
        emu.account_id()
    );
    let out = run(&provider_for(&emu), &reasoning_request(&arn));
    let e = out.error();
    assert_eq!(e.kind(), &host_sdk::ErrorKind::ModelNotFound, "{e}");
    assert!(e.error.message.contains("nosuchprofile"), "{e}");
    assert_eq!(recorded(&emu, "GetInferenceProfile").len(), 1);
    assert!(recorded(&emu, "ConverseStream").is_empty());
}
