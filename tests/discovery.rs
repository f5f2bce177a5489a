//! Model discovery through the plugin: what a host lists is exactly what it can invoke.
//!
//! The expected list is derived from the emulator's catalogue (the same data its
//! ListFoundationModels and ListInferenceProfiles answer with), so the test checks the
//! plugin's filtering and profile mapping rather than a copy of today's model list.

use e2e_tests::{
    expected_ids, ids, init, provider_for, provider_from, provider_with, recorded, start_emulator,
};
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

/// A user's model table (`modelTable`) is merged over the plugin's: its rows describe the
/// models they name, the rest keep the built-in facts, and the provider says which table each
/// model's facts come from and when that table was checked.
#[test]
fn a_users_model_table_describes_the_models_it_names_and_says_so() {
    init();
    let emu = start_emulator();
    let dir = std::env::temp_dir().join(format!("users-model-table-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("my-models.tsv").display().to_string();
    std::fs::write(
        &path,
        "# Our own facts.\n# Checked 2026-12-02 against the model card.\n\
         id\tname\tcontext\tmax_output\tinput\treasoning\tcaching\tin\tout\tcache_read\tcache_write\tcache_write_1h\tgeo\n\
         amazon.nova-micro\tNova Micro (ours)\t12345\t678\ttext\tnone\tnone\t9\t18\t-\t-\t-\t1\n",
    )
    .unwrap();
    let provider = provider_with(&emu, &format!("modelTable: {path:?},"));

    let models = provider.list_models().expect("list_models succeeds");
    let nova = models
        .iter()
        .find(|m| m.id.as_str() == "amazon.nova-micro-v1:0")
        .unwrap();
    assert_eq!((nova.context_window, nova.max_tokens), (12345, 678));
    assert_eq!((nova.cost.input, nova.cost.output), (9.0, 18.0));

    let origins = provider
        .model_provenance()
        .expect("model_provenance succeeds");
    // One each, in the model list's order.
    assert_eq!(
        models.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(),
        origins.iter().map(|o| o.id.clone()).collect::<Vec<_>>()
    );
    let of = |id: &str| origins.iter().find(|o| o.id == id).unwrap().clone();
    let ours = of("amazon.nova-micro-v1:0");
    assert_eq!(
        (
            ours.table.as_deref(),
            ours.checked.as_deref(),
            ours.row.as_deref()
        ),
        (
            Some(path.as_str()),
            Some("2026-12-02"),
            Some("amazon.nova-micro")
        )
    );
    assert!(!ours.configured);
    let claude = of("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(claude.table.as_deref(), Some("built-in"));
    let checked = claude.checked.unwrap();
    assert!(
        checked.len() == 10 && checked.starts_with("20"),
        "{checked}"
    );

    // A table that does not say when it was checked is refused when the provider is made.
    std::fs::write(&path, "id\tname\n").unwrap();
    let e = e2e_tests::plugin()
        .new_provider(&e2e_tests::config_with(
            &emu.url(),
            &format!("modelTable: {path:?},"),
        ))
        .unwrap_err();
    assert_eq!(e.kind, host_sdk::ErrorKind::Config);
    assert!(
        e.message.contains("modelTable") && e.message.contains("# Checked YYYY-MM-DD"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
