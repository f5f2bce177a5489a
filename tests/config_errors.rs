//! Issue #5, configuration errors and warnings through the contract: every error names the
//! key path, line and column, and comes from `new_provider`, before any network call; unknown
//! keys are not errors but `config_warnings` with the nearest known key.

use e2e_tests::{init, plugin, start_emulator};
use host_sdk::ErrorKind;

fn error_of(text: &str) -> String {
    init();
    match plugin().new_provider(text) {
        Ok(_) => panic!("must be rejected:\n{text}"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Config, "{e}");
            e.message
        }
    }
}

#[test]
fn each_error_names_key_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "{\n  models: {\n    bedrockDiscovery: {\n      refreshInterval: -60,\n    },\n  },\n}",
            "`models.bedrockDiscovery.refreshInterval` (line 4, column 24): must not be negative, got -60",
        ),
        (
            "{ models: { bedrockDiscovery: { defaultContextWindow: 0 } } }",
            "`models.bedrockDiscovery.defaultContextWindow` (line 1, column 33): must be greater than 0 (tokens)",
        ),
        (
            "{ models: { bedrockDiscovery: { defaultMaxTokens: 0 } } }",
            "`models.bedrockDiscovery.defaultMaxTokens` (line 1, column 33): must be greater than 0 (tokens)",
        ),
        (
            "{ models: { bedrockDiscovery: { enabled: 'yes' } } }",
            "`models.bedrockDiscovery.enabled` (line 1, column 42): expected true or false",
        ),
        (
            "{ models: { bedrockDiscovery: { providerFilter: 'anthropic' } } }",
            "`models.bedrockDiscovery.providerFilter` (line 1, column 49): expected a list ([...])",
        ),
        (
            "{ models: { bedrockDiscovery: { refreshInterval: 1.5 } } }",
            "`models.bedrockDiscovery.refreshInterval` (line 1, column 50): invalid type: floating point `1.5`, expected u64 (a whole number)",
        ),
        (
            "{ models: { bedrockDiscovery: { region: 'Frankfurt' } } }",
            "`models.bedrockDiscovery.region` (line 1, column 33): \"Frankfurt\" is not an AWS region name (like us-east-1)",
        ),
        (
            "{ models: { bedrockDiscovery: { providerFilter: ['anthropic', ' '] } } }",
            "`models.bedrockDiscovery.providerFilter[1]`",
        ),
        (
            "{ models: { providers: { 'amazon-bedrock': { api: 'openai-completions' } } } }",
            "`models.providers.\"amazon-bedrock\".api` (line 1, column 46): is \"openai-completions\", but this plugin speaks \"bedrock-converse-stream\"",
        ),
        (
            "{ models: { providers: { 'amazon-bedrock': { auth: 'api-key' } } } }",
            "`models.providers.\"amazon-bedrock\".auth` (line 1, column 46): is \"api-key\", but Amazon Bedrock authenticates through the AWS SDK",
        ),
        (
            "{ models: { providers: { 'amazon-bedrock': { baseUrl: 'bedrock.example' } } } }",
            "`models.providers.\"amazon-bedrock\".baseUrl` (line 1, column 46): must be an http(s) URL",
        ),
        (
            "{ models: { providers: { 'amazon-bedrock': { models: [ { name: 'no id' } ] } } } }",
            "`models.providers.\"amazon-bedrock\".models[0]` (line 1, column 56): missing field `id`",
        ),
        (
            "{ models: { providers: { 'amazon-bedrock': { models: [ { id: 'm', contextWindow: 0 } ] } } } }",
            "`models.providers.\"amazon-bedrock\".models[0].contextWindow` (line 1, column 67): must be greater than 0 (tokens)",
        ),
        (
            "{ models: { providers: { 'amazon-bedrock': { models: [ { id: 'm', cost: { input: -1 } } ] } } } }",
            "`models.providers.\"amazon-bedrock\".models[0].cost.input` (line 1, column 75): must be a non-negative number",
        ),
        (
            "{ models: { bedrockDiscovery: { enabled: true, } }",
            "the configuration is not valid JSON5 (line 1",
        ),
    ];
    for (text, expected) in cases {
        let message = error_of(text);
        assert!(
            message.starts_with(expected),
            "{text}\n  got: {message}\n want: {expected}"
        );
    }
}

#[test]
fn errors_come_before_any_network_call() {
    let emu = start_emulator();
    let text = format!(
        "{{ models: {{ bedrockDiscovery: {{ refreshInterval: -1 }}, providers: {{ 'amazon-bedrock': {{ baseUrl: '{}' }} }} }} }}",
        emu.url()
    );
    error_of(&text);
    assert!(emu.requests().is_empty());
}

#[test]
fn unknown_keys_are_warnings_with_the_nearest_known_key() {
    init();
    let text = r#"{
  models: {
    bedrockDiscovery: { refreshIntervall: 60, regoin: "us-east-1" },
    providers: {
      "amazon-bedrock": {
        baseURL: "https://bedrock-runtime.us-east-1.amazonaws.com",
        models: [{ id: "m", contextWindows: 1000, cost: { cacheReads: 0 } }],
        timeouts: { idleMS: 5 },
      },
      openai: { anything: "is the host's business" },
    },
  },
}"#;
    let provider = plugin()
        .new_provider(text)
        .expect("warnings are not errors");
    assert_eq!(
        provider.config_warnings(),
        [
            "`models.bedrockDiscovery.refreshIntervall` (line 3, column 25) is not a known key and is ignored; did you mean `refreshInterval`?",
            "`models.bedrockDiscovery.regoin` (line 3, column 47) is not a known key and is ignored; did you mean `region`?",
            "`models.providers.\"amazon-bedrock\".baseURL` (line 6, column 9) is not a known key and is ignored; did you mean `baseUrl`?",
            "`models.providers.\"amazon-bedrock\".models[0].contextWindows` (line 7, column 29) is not a known key and is ignored; did you mean `contextWindow`?",
            "`models.providers.\"amazon-bedrock\".models[0].cost.cacheReads` (line 7, column 59) is not a known key and is ignored; did you mean `cacheRead`?",
            "`models.providers.\"amazon-bedrock\".timeouts.idleMS` (line 8, column 21) is not a known key and is ignored; did you mean `idleMs`?",
        ]
    );
    // A clean document has none.
    let clean = plugin()
        .new_provider("{models:{bedrockDiscovery:{enabled:false}}}")
        .unwrap();
    assert!(clean.config_warnings().is_empty());
}
