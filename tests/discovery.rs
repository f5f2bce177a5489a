//! Model discovery through the plugin: what a host lists is exactly what it can invoke.
//!
//! The expected list is derived from the emulator's catalogue (the same data its
//! ListFoundationModels and ListInferenceProfiles answer with), so the test checks the
//! plugin's filtering and profile mapping rather than a copy of today's model list.

use e2e_tests::{expected_ids, ids, init, provider_for, provider_from, recorded, start_emulator};
use emulator::catalogue::Geo;
use host_sdk::{ModelInfo, ModelSource};

#[test]
fn discovery_lists_exactly_the_invocable_streaming_text_models() {
    init();
    let emu = start_emulator();
    let provider = provider_for(&emu);

    let blocking = provider.list_models().expect("list_models succeeds");
    let listed = ids(&blocking);
    assert_eq!(listed.len(), blocking.len(), "no id is listed twice");
    assert_eq!(listed, expected_ids(&[Geo::Us]));

    // Spot checks a reader can verify against the emulator's catalogue by eye.
    let present = [
        "anthropic.claude-3-haiku-20240307-v1:0", // on-demand: base id
        "amazon.nova-micro-v1:0",                 // on-demand: base id
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0", // profile only: us. profile
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0", // ... and the global one
        "us.meta.llama3-3-70b-instruct-v1:0",     // profile only, no global profile
    ];
    let absent = [
        "anthropic.claude-sonnet-4-5-20250929-v1:0", // profile-only base id: not invocable
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", // another geography's profile
        "anthropic.claude-3-sonnet-20240229-v1:0",   // LEGACY
        "amazon.titan-text-lite-v1",                 // LEGACY
        "amazon.titan-embed-text-v2:0",              // embeddings
        "amazon.titan-image-generator-v2:0",         // image output
        "stability.sd3-5-large-v1:0",                // image output
        "ai21.j2-ultra-v1",                          // no streaming
    ];
    for id in present {
        assert!(listed.contains(id), "{id} is listed: {listed:?}");
    }
    for id in absent {
        assert!(!listed.contains(id), "{id} is not listed: {listed:?}");
    }

    for m in &blocking {
        assert_eq!(m.source, ModelSource::Discovered, "{m:?}");
        assert!(
            m.context_window > 0 && m.max_tokens > 0,
            "{} has a context window and max tokens: {m:?}",
            m.id
        );
        assert!(m.max_tokens <= m.context_window, "{m:?}");
        assert!(!m.name.is_empty(), "{m:?}");
        // A profile names the model behind it; a base id does not.
        let is_profile = m.id.starts_with("us.") || m.id.starts_with("global.");
        if is_profile {
            assert_eq!(
                m.base_model_id.as_str(),
                m.id.split_once('.').unwrap().1,
                "{m:?}"
            );
        } else {
            assert!(m.base_model_id.is_empty(), "{m:?}");
        }
    }

    // The async API gives the same answer without blocking a thread of the host.
    let async_models = futures::executor::block_on(provider.list_models_async())
        .expect("list_models_async succeeds");
    assert_eq!(ids(&async_models), listed);

    assert!(
        !recorded(&emu, "ListFoundationModels").is_empty(),
        "ListFoundationModels was called: {:?}",
        emu.requests()
    );
    assert!(
        !recorded(&emu, "ListInferenceProfiles").is_empty(),
        "ListInferenceProfiles was called: {:?}",
        emu.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn async_discovery_on_a_fresh_provider() {
    init();
    // A separate emulator: a fresh endpoint cannot be answered from an earlier discovery.
    let emu = start_emulator();
    let provider = provider_for(&emu);
    let models = provider
        .list_models_async()
        .await
        .expect("list_models_async succeeds");
    assert_eq!(ids(&models), expected_ids(&[Geo::Us]));
    assert_eq!(recorded(&emu, "ListFoundationModels").len(), 1);
}

#[test]
fn provider_filter_and_configured_models_shape_the_list() {
    init();
    let emu = start_emulator();
    // A configured model comes first and keeps its configured facts; discovery adds only the
    // vendors the filter names.
    let config = format!(
        r#"{{
  models: {{
    bedrockDiscovery: {{ providerFilter: ["Anthropic"] }},
    providers: {{
      "amazon-bedrock": {{
        baseUrl: "{}",
        models: [{{ id: "amazon.nova-micro-v1:0", name: "My Nova", contextWindow: 1000, maxTokens: 100 }}],
      }},
    }},
  }},
}}"#,
        emu.url()
    );
    let provider = provider_from(&config);
    let models = provider.list_models().expect("list_models succeeds");

    let first = &models[0];
    assert_eq!(first.id.as_str(), "amazon.nova-micro-v1:0");
    assert_eq!(first.name.as_str(), "My Nova");
    assert_eq!((first.context_window, first.max_tokens), (1000, 100));
    assert_eq!(first.source, ModelSource::Configured);

    let discovered: Vec<&ModelInfo> = models[1..].iter().collect();
    assert!(!discovered.is_empty(), "{models:?}");
    for m in discovered {
        assert_eq!(m.source, ModelSource::Discovered, "{m:?}");
        assert_eq!(
            m.vendor.as_str(),
            "Anthropic",
            "only the filtered vendor: {m:?}"
        );
    }
}
