//! Issue #5, discovery: every `models.bedrockDiscovery` key and default, the merge with
//! configured models, the provider filter, profile mapping per region geography, pagination,
//! the process-wide cache (counted in requests), concurrent callers, failures never cached,
//! and a denied ListInferenceProfiles degrading to foundation models only.

mod control_plane;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use control_plane::{ControlPlane, Script, UNKNOWN_MODEL};
use e2e_tests::{expected_ids, ids, provider_from, recorded, start_emulator, start_emulator_with};
use emulator::catalogue::{self, Geo};
use emulator::{EmulatorConfig, RunningEmulator};
use host_sdk::{ModelInfo, ModelSource};

/// A document pointing at `url` with extra `bedrockDiscovery` members (JSON5 text).
fn config(url: &str, discovery: &str) -> String {
    format!(
        r#"{{
  // the gateway's shape
  models: {{
    bedrockDiscovery: {{ {discovery} }},
    providers: {{ "amazon-bedrock": {{ baseUrl: "{url}" }} }},
  }},
}}"#
    )
}

fn find<'a>(models: &'a [ModelInfo], id: &str) -> &'a ModelInfo {
    models
        .iter()
        .find(|m| m.id.as_str() == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {:?}", ids(models)))
}

fn list_foundation_models(emu: &RunningEmulator) -> usize {
    recorded(emu, "ListFoundationModels").len()
}

#[test]
fn profile_mapping_follows_the_region_geography() {
    for (region, geos) in [
        ("us-west-2", &[Geo::Us][..]),
        ("eu-west-1", &[Geo::Eu]),
        ("ap-northeast-1", &[Geo::Jp, Geo::Apac]), // Japan: jp. first, then apac.
        ("ap-southeast-2", &[Geo::Au, Geo::Apac]), // Australia: au. first, then apac.
        ("ap-south-1", &[Geo::Apac]),
    ] {
        let emu = start_emulator_with(EmulatorConfig {
            region: region.into(),
            ..EmulatorConfig::default()
        });
        let models = provider_from(&config(&emu.url(), &format!("region: '{region}'")))
            .list_models()
            .unwrap_or_else(|e| panic!("{region}: {e}"));
        assert_eq!(ids(&models), expected_ids(geos), "{region}");
        // No listed id belongs to another geography.
        for m in &models {
            let prefix = m.id.split('.').next().unwrap();
            if ["us", "eu", "apac", "au", "jp", "global"].contains(&prefix) {
                assert!(
                    geos.iter().any(|g| g.prefix() == prefix) || prefix == "global",
                    "{region}: {}",
                    m.id
                );
            }
        }
        // The control plane was called in the configured region (SigV4 scope).
        let r = &recorded(&emu, "ListFoundationModels")[0];
        assert!(format!("{r:?}").contains(region), "{region}: {r:?}");
    }
}

#[test]
fn profiles_inherit_the_base_models_name_modalities_and_limits() {
    let emu = start_emulator();
    let models = provider_from(&config(&emu.url(), ""))
        .list_models()
        .unwrap();
    let base = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    for id in [format!("us.{base}"), format!("global.{base}")] {
        let m = find(&models, &id);
        assert_eq!(m.base_model_id.as_str(), base);
        assert!(m.name.starts_with("Claude Sonnet 4.5"), "{}", m.name);
        assert_eq!(m.vendor.as_str(), "Anthropic");
        let input: Vec<&str> = m.input.iter().map(|s| s.as_str()).collect();
        assert_eq!(input, ["text", "image"]);
        assert_eq!(m.context_window, 200_000, "{id}");
        assert!(m.max_tokens >= 64_000, "{id}: {}", m.max_tokens);
        assert!(m.reasoning, "Claude Sonnet 4.5 reasons");
        assert_eq!(m.source, ModelSource::Discovered);
    }
    // Reasoning is per family, not per name: Nova Micro does not, DeepSeek-style would.
    assert!(!find(&models, "amazon.nova-micro-v1:0").reasoning);
    assert!(!find(&models, "anthropic.claude-3-haiku-20240307-v1:0").reasoning);
    assert!(find(&models, "us.anthropic.claude-sonnet-4-6").reasoning);
    // Legacy generations stay invocable but are not listed.
    assert!(!ids(&models).contains("us.anthropic.claude-3-7-sonnet-20250219-v1:0"));
}

#[test]
fn defaults_apply_to_models_no_family_table_knows() {
    let cp = ControlPlane::start("us-east-1", Script::default());
    let defaults = provider_from(&format!(
        "{{models:{{bedrockDiscovery:{{baseUrl:'{}'}}, providers:{{'amazon-bedrock':{{baseUrl:'{}'}}}}}}}}",
        cp.url, cp.url
    ))
    .list_models()
    .unwrap();
    let m = find(&defaults, UNKNOWN_MODEL);
    assert_eq!((m.context_window, m.max_tokens), (32_000, 4_096));
    assert!(!m.reasoning);
    let custom = provider_from(&config(
        &cp.url,
        &format!(
            "baseUrl: '{}', defaultContextWindow: 50000, defaultMaxTokens: 1234",
            cp.url
        ),
    ))
    .list_models()
    .unwrap();
    let m = find(&custom, UNKNOWN_MODEL);
    assert_eq!((m.context_window, m.max_tokens), (50_000, 1_234));
    // Known families keep their own limits whatever the defaults say.
    assert_eq!(
        find(&custom, "amazon.nova-pro-v1:0").context_window,
        300_000
    );
}

#[test]
fn provider_filter_matches_provider_names_case_insensitively() {
    let emu = start_emulator();
    let models = provider_from(&config(&emu.url(), "providerFilter: ['ANTHROPIC', 'meta']"))
        .list_models()
        .unwrap();
    assert!(!models.is_empty());
    let vendors: BTreeSet<&str> = models.iter().map(|m| m.vendor.as_str()).collect();
    assert_eq!(vendors, BTreeSet::from(["Anthropic", "Meta"]));
}

#[test]
fn configured_models_override_discovered_ones_and_both_are_listed() {
    let emu = start_emulator();
    let text = format!(
        r#"{{
  models: {{
    providers: {{
      "amazon-bedrock": {{
        baseUrl: "{}",
        models: [
          {{ id: "amazon.nova-micro-v1:0", name: "My Nova", contextWindow: 1000, maxTokens: 100,
             cost: {{ input: 0.035, output: 0.14, cacheRead: 0, cacheWrite: 0 }} }},
          {{ id: "my-private-model", name: "Private" }},
        ],
      }},
    }},
  }},
}}"#,
        emu.url()
    );
    let models = provider_from(&text).list_models().unwrap();
    let nova: Vec<&ModelInfo> = models
        .iter()
        .filter(|m| m.id.as_str() == "amazon.nova-micro-v1:0")
        .collect();
    assert_eq!(
        nova.len(),
        1,
        "the configured entry replaces the discovered one"
    );
    assert_eq!(nova[0].source, ModelSource::Configured);
    assert_eq!(nova[0].name.as_str(), "My Nova");
    assert_eq!((nova[0].context_window, nova[0].max_tokens), (1000, 100));
    assert_eq!(nova[0].cost.output, 0.14);
    let private = find(&models, "my-private-model");
    assert_eq!(private.source, ModelSource::Configured);
    // Unknown family: the discovery defaults apply to configured models too.
    assert_eq!(
        (private.context_window, private.max_tokens),
        (32_000, 4_096)
    );
    assert_eq!(
        find(&models, "amazon.nova-lite-v1:0").source,
        ModelSource::Discovered
    );
}

#[test]
fn enabled_false_lists_configured_models_without_any_call() {
    let emu = start_emulator();
    let text = format!(
        "{{models:{{bedrockDiscovery:{{enabled:false}}, providers:{{'amazon-bedrock':{{baseUrl:'{}', models:[{{id:'m1'}}]}}}}}}}}",
        emu.url()
    );
    let models = provider_from(&text).list_models().unwrap();
    assert_eq!(ids(&models), BTreeSet::from(["m1".to_string()]));
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[test]
fn the_cache_honours_refresh_interval_and_its_key() {
    let emu = start_emulator();
    let text = config(&emu.url(), "refreshInterval: 3600");
    let first = provider_from(&text).list_models().unwrap();
    // A second provider with the same configuration (a reload) reuses the result.
    let second = provider_from(&text).list_models().unwrap();
    assert_eq!(ids(&first), ids(&second));
    assert_eq!(list_foundation_models(&emu), 1);
    // One list of system-defined profiles, one of the account's application profiles.
    assert_eq!(recorded(&emu, "ListInferenceProfiles").len(), 2);

    // Everything that changes the answer is in the key.
    provider_from(&config(
        &emu.url(),
        "refreshInterval: 3600, providerFilter: ['amazon']",
    ))
    .list_models()
    .unwrap();
    assert_eq!(list_foundation_models(&emu), 2);
    provider_from(&config(
        &emu.url(),
        "refreshInterval: 3600, defaultMaxTokens: 1000",
    ))
    .list_models()
    .unwrap();
    assert_eq!(list_foundation_models(&emu), 3);

    // refreshInterval 0: no caching at all.
    let uncached = provider_from(&config(&emu.url(), "refreshInterval: 0"));
    uncached.list_models().unwrap();
    uncached.list_models().unwrap();
    assert_eq!(list_foundation_models(&emu), 5);
}

#[test]
fn concurrent_callers_share_one_request() {
    let emu = start_emulator();
    let p = provider_from(&config(&emu.url(), ""));
    let results: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| p.list_models().unwrap().len()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        results.iter().all(|n| *n == results[0] && *n > 0),
        "{results:?}"
    );
    assert_eq!(
        list_foundation_models(&emu),
        1,
        "one request in flight, everyone waits"
    );
}

#[test]
fn failures_are_not_cached() {
    let cp = ControlPlane::start("us-east-1", Script::default());
    cp.script.fail_models.store(1, Ordering::SeqCst);
    let text = config(&cp.url, &format!("baseUrl: '{}'", cp.url));
    let p = provider_from(&text);
    let err = p
        .list_models()
        .expect_err("the first ListFoundationModels fails");
    assert!(err.message.contains("scripted failure"), "{err}");
    let models = p
        .list_models()
        .expect("the next call asks again and succeeds");
    assert!(!models.is_empty());
    assert_eq!(cp.count("/foundation-models"), 2);
    // ... and that success is cached.
    p.list_models().unwrap();
    assert_eq!(cp.count("/foundation-models"), 2);
}

#[test]
fn inference_profiles_are_read_from_every_page() {
    let cp = ControlPlane::start(
        "us-east-1",
        Script {
            page_size: 3,
            ..Script::default()
        },
    );
    let models = provider_from(&config(
        &cp.url,
        &format!("baseUrl: '{}', refreshInterval: 0", cp.url),
    ))
    .list_models()
    .unwrap();
    let all = catalogue::profiles_for_region("us-east-1").len();
    let pages = all.div_ceil(3);
    assert!(pages > 2);
    // Every page of system-defined profiles, and the (empty) list of application profiles.
    assert_eq!(
        cp.count("/inference-profiles"),
        pages + 1,
        "{:?}",
        cp.paths()
    );
    assert!(cp.paths().iter().any(|p| p.contains("nextToken=")));
    assert_eq!(ids(&models), {
        let mut e = expected_ids(&[Geo::Us]);
        e.insert(UNKNOWN_MODEL.to_string());
        // This control plane has no Mantle beside it: only the models that answer on the
        // Responses API alone are missing.
        for m in emulator::openai::models::responses_only() {
            e.remove(m.id);
        }
        e
    });
}

#[test]
fn denied_inference_profiles_degrade_to_foundation_models() {
    let cp = ControlPlane::start("us-east-1", Script::default());
    cp.script.deny_profiles.store(true, Ordering::SeqCst);
    let p = provider_from(&config(&cp.url, &format!("baseUrl: '{}'", cp.url)));
    let models = p
        .list_models()
        .expect("a denied ListInferenceProfiles is not fatal");
    assert!(!models.is_empty());
    // The host is told what is missing and why, once per call that met the problem...
    let notices = p.take_notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("ListInferenceProfiles"),
        "{}",
        notices[0]
    );
    assert!(notices[0].contains("AWS_ACCESS_KEY_ID"), "{}", notices[0]);
    assert!(p.take_notices().is_empty(), "a notice is returned once");
    // ...and the degraded answer is not cached: the next call asks for profiles again.
    let asked = cp.count("/inference-profiles");
    p.list_models().unwrap();
    assert!(cp.count("/inference-profiles") > asked);
    assert_eq!(p.take_notices().len(), 1);
    // Only what can be invoked on demand: no profile ids, no profile-only base ids.
    for m in &models {
        assert!(m.base_model_id.is_empty(), "{}", m.id);
        let on_demand = catalogue::MODELS
            .iter()
            .find(|c| c.id == m.id.as_str())
            .is_none_or(|c| c.on_demand());
        assert!(on_demand, "{} needs a profile", m.id);
    }
    assert!(ids(&models).contains("amazon.nova-micro-v1:0"));
}
