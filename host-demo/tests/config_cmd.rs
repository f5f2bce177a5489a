//! Issue #5, the demo host's side of configuration: `config get/set/unset` (comments and
//! formatting kept, values checked by the plugin before an atomic write, unknown keys
//! warned about), configuration errors and warnings on the way to the user, the primary
//! model, and the on-disk `models list` cache (counted in emulator requests).

mod support;

use std::path::Path;

use emulator::{Emulator, EmulatorConfig, RunningEmulator};
use support::{run_host_demo, scratch, write_config, Run};

const GROUP: &str = "host-demo-config";
const AKID: &str = emulator::DEFAULT_ACCESS_KEY_ID;
const SECRET: &str = emulator::DEFAULT_SECRET_ACCESS_KEY;
const KEYS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", AKID),
    ("AWS_SECRET_ACCESS_KEY", SECRET),
    ("AWS_REGION", "us-east-1"),
];

fn cli(home: &Path, args: &[&str]) -> Run {
    run_host_demo(home, &KEYS, args)
}

fn config_set(home: &Path, key: &str, value: &str) -> Run {
    cli(home, &["config", "set", key, value])
}

fn config_get(home: &Path, key: &str) -> Run {
    cli(home, &["config", "get", key])
}

fn config_unset(home: &Path, key: &str) -> Run {
    cli(home, &["config", "unset", key])
}

fn config_text(home: &Path) -> String {
    std::fs::read_to_string(home.join("config.json5")).unwrap()
}

const ORIGINAL: &str = r#"// host-demo settings: keep this comment
{
  models: {
    /* discovery */
    bedrockDiscovery: {
      enabled: false, // off while testing
      region: 'eu-west-1',
    },
  },
}
"#;

#[test]
fn set_get_unset_edit_only_the_key() {
    let home = scratch(GROUP, "set-get-unset");
    std::fs::write(home.join("config.json5"), ORIGINAL).unwrap();

    let r = config_set(&home, "models.bedrockDiscovery.enabled", "true");
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(
        config_text(&home),
        ORIGINAL.replace("enabled: false", "enabled: true")
    );
    let r = config_get(&home, "models.bedrockDiscovery.enabled");
    assert_eq!((r.status, r.stdout.as_str()), (0, "true\n"));

    // VALUE is JSON5 when it parses, else a string.
    let r = config_set(&home, "models.bedrockDiscovery.region", "us-east-1");
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(config_text(&home).contains("region: \"us-east-1\","));
    let r = config_set(
        &home,
        "models.bedrockDiscovery.providerFilter",
        "['anthropic', 'amazon']",
    );
    assert_eq!(r.status, 0, "{}", r.all());
    let r = config_get(&home, "models.bedrockDiscovery.providerFilter");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v, serde_json::json!(["anthropic", "amazon"]));
    let r = config_set(&home, "models.bedrockDiscovery.refreshInterval", "600");
    assert_eq!(r.status, 0, "{}", r.all());

    // Quoted segments, and parents created as needed.
    let r = config_set(
        &home,
        "models.providers.\"amazon-bedrock\".baseUrl",
        "http://127.0.0.1:9",
    );
    assert_eq!(r.status, 0, "{}", r.all());
    let r = config_get(&home, "models.providers.amazon-bedrock.baseUrl");
    assert_eq!(r.stdout, "http://127.0.0.1:9\n");

    let r = config_unset(&home, "models.bedrockDiscovery.region");
    assert_eq!(r.status, 0, "{}", r.all());
    let r = config_get(&home, "models.bedrockDiscovery.region");
    assert_eq!(r.status, 1);
    assert!(
        r.stderr
            .contains("`models.bedrockDiscovery.region` is not set"),
        "{}",
        r.all()
    );

    let text = config_text(&home);
    for kept in [
        "// host-demo settings: keep this comment\n",
        "    /* discovery */\n",
        "      enabled: true, // off while testing\n",
    ] {
        assert!(text.contains(kept), "{kept:?} lost:\n{text}");
    }
    assert!(!text.contains("region"), "{text}");
    // The result is what the plugin accepts, and nothing is left behind.
    let files: Vec<String> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(files.is_empty(), "{files:?}");
}

#[test]
fn set_creates_the_file_and_keeps_its_permissions() {
    let home = scratch(GROUP, "create");
    let r = config_set(&home, "models.bedrockDiscovery.enabled", "true");
    assert_eq!(r.status, 0, "{}", r.all());
    assert_eq!(
        config_text(&home),
        "{\n  models: {\n    bedrockDiscovery: {\n      enabled: true,\n    },\n  },\n}\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = home.join("config.json5");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let r = config_set(&home, "models.bedrockDiscovery.region", "us-west-2");
        assert_eq!(r.status, 0, "{}", r.all());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn set_refuses_values_the_plugin_rejects() {
    let home = scratch(GROUP, "refuse");
    std::fs::write(home.join("config.json5"), ORIGINAL).unwrap();
    for (key, value, expected) in [
        (
            "models.bedrockDiscovery.refreshInterval",
            "-5",
            "`models.bedrockDiscovery.refreshInterval` (line 8, column 24): must not be negative, got -5",
        ),
        (
            "models.bedrockDiscovery.defaultContextWindow",
            "0",
            "`models.bedrockDiscovery.defaultContextWindow` (line 8, column 7): must be greater than 0 (tokens)",
        ),
        (
            "models.bedrockDiscovery.enabled",
            "yes",
            "`models.bedrockDiscovery.enabled` (line 6, column 16): expected true or false",
        ),
    ] {
        let r = config_set(&home, key, value);
        assert_eq!(r.status, 1, "{key}: {}", r.all());
        assert!(r.stderr.contains("not written"), "{}", r.all());
        assert!(r.stderr.contains(expected), "{key}: {}", r.all());
        assert_eq!(config_text(&home), ORIGINAL, "the file is unchanged");
    }
}

#[test]
fn unknown_keys_are_written_with_a_warning() {
    let home = scratch(GROUP, "unknown");
    std::fs::write(home.join("config.json5"), ORIGINAL).unwrap();
    let r = config_set(&home, "models.bedrockDiscovery.refreshIntervall", "60");
    assert_eq!(r.status, 0, "{}", r.all());
    assert!(
        r.stderr.contains(
            "warning: `models.bedrockDiscovery.refreshIntervall` (line 8, column 7) is not a known key and is ignored; did you mean `refreshInterval`?"
        ),
        "{}",
        r.all()
    );
    // Every command that configures the provider shows it.
    let r = cli(&home, &["models", "list"]);
    assert!(
        r.stderr.contains("did you mean `refreshInterval`?"),
        "{}",
        r.all()
    );
}

#[test]
fn configuration_errors_reach_the_user_before_any_call() {
    let home = scratch(GROUP, "errors");
    let emu = Emulator::start_background(EmulatorConfig::default()).unwrap();
    std::fs::write(
        home.join("config.json5"),
        format!(
            "{{\n  models: {{\n    bedrockDiscovery: {{ refreshInterval: -1 }},\n    providers: {{ 'amazon-bedrock': {{ baseUrl: '{}' }} }},\n  }},\n}}\n",
            emu.url()
        ),
    )
    .unwrap();
    let r = cli(&home, &["models", "list"]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("`models.bedrockDiscovery.refreshInterval` (line 3, column 42): must not be negative, got -1"),
        "{}",
        r.all()
    );
    assert!(emu.requests().is_empty());
}

fn list_foundation_models(emu: &RunningEmulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.operation == "ListFoundationModels")
        .count()
}

#[test]
fn a_second_models_list_within_the_interval_makes_no_call() {
    let home = scratch(GROUP, "disk-cache");
    let emu = Emulator::start_background(EmulatorConfig::default()).unwrap();
    write_config(&home, &emu.url(), "");
    let first = cli(&home, &["models", "list", "--json"]);
    assert_eq!(first.status, 0, "{}", first.all());
    assert_eq!(list_foundation_models(&emu), 1);
    let second = cli(&home, &["models", "list", "--json"]);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(
        list_foundation_models(&emu),
        1,
        "served from the disk cache"
    );
    // --refresh asks again.
    cli(&home, &["models", "list", "--json", "--refresh"]);
    assert_eq!(list_foundation_models(&emu), 2);
    // Other credentials: another entry.
    let r = run_host_demo(
        &home,
        &[
            ("AWS_ACCESS_KEY_ID", AKID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
            ("AWS_SESSION_TOKEN", " "),
        ],
        &["models", "list", "--json"],
    );
    assert_eq!(r.status, 0);
    assert_eq!(list_foundation_models(&emu), 3);
    // The cache holds no secret.
    for entry in std::fs::read_dir(home.join("cache")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(SECRET) && !text.contains(AKID));
    }
    // A changed configuration is another entry; refreshInterval 0 turns the cache off.
    write_config(&home, &emu.url(), "refreshInterval: 0");
    cli(&home, &["models", "list", "--json"]);
    cli(&home, &["models", "list", "--json"]);
    assert_eq!(list_foundation_models(&emu), 5);
}

#[test]
fn the_primary_model_is_used_when_none_is_given() {
    let home = scratch(GROUP, "primary");
    let emu = Emulator::start_background(EmulatorConfig::default()).unwrap();
    std::fs::write(
        home.join("config.json5"),
        format!(
            "{{\n  models: {{ providers: {{ 'amazon-bedrock': {{ baseUrl: '{}' }} }} }},\n  agents: {{ defaults: {{ model: {{ primary: 'amazon-bedrock/amazon.nova-lite-v1:0' }} }} }},\n}}\n",
            emu.url()
        ),
    )
    .unwrap();
    let r = cli(&home, &["chat", "hello"]);
    assert_eq!(r.status, 0, "{}", r.all());
    let stream = emu
        .requests()
        .into_iter()
        .find(|r| r.operation == "ConverseStream")
        .unwrap();
    assert_eq!(stream.model_id.as_deref(), Some("amazon.nova-lite-v1:0"));
}
