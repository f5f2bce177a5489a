//! Issue #9, secrets: distinctive values are planted in every credential variable, in a
//! profile file and in the configuration (`baseUrl` included); then every `host-demo` command
//! runs at every verbosity, with the plugin's logs forwarded at TRACE (`RUST_LOG=trace`: the
//! host installs a TRACE log sink in the plugin), on the success paths (the emulator accepts
//! the planted credentials) and the failure paths (it refuses them). None of the values may
//! appear in any output, log line or file the program writes.

mod support;

use std::path::Path;

use emulator::{Emulator, EmulatorConfig, TemporaryCredentials};
use support::{aws_file, run_host_demo, scratch};

const GROUP: &str = "host-demo-secrets";

const ACCESS_KEY_ID: &str = "ASIAPLANTEDKEYID7777";
const SECRET_KEY: &str = "PlantedSecretKeyQx9vT2mLw8rZ";
const SESSION_TOKEN: &str = "PlantedSessionTokenHq4nB7kV";
const BEARER: &str = "PlantedBearerTokenZp3cJ6sN";
const PROFILE_SECRET: &str = "PlantedProfileSecretWk5yD1fG";
const URL_PASSWORD: &str = "PlantedUrlPasswordMe8uR0aX";

/// Every value that must never be shown. The access key id is not a secret, but it is only
/// ever shown masked.
const PLANTED: [&str; 6] = [
    ACCESS_KEY_ID,
    SECRET_KEY,
    SESSION_TOKEN,
    BEARER,
    PROFILE_SECRET,
    URL_PASSWORD,
];

fn assert_clean(what: &str, text: &str) {
    for secret in PLANTED {
        assert!(
            !text.contains(secret),
            "{what} shows {secret}:\n{}",
            &text[..text.len().min(4000)]
        );
    }
}

/// Every file under `dir` (config edits, the models cache, ...), checked as bytes.
fn assert_files_clean(dir: &Path, planted_files: &[&Path]) {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !planted_files.contains(&path.as_path()) {
                let bytes = std::fs::read(&path).unwrap();
                assert_clean(
                    &path.display().to_string(),
                    &String::from_utf8_lossy(&bytes),
                );
            }
        }
    }
}

fn commands(with_config_edits: bool) -> Vec<Vec<&'static str>> {
    let mut all = vec![
        vec!["plugin", "info"],
        vec!["models", "list"],
        vec!["models", "list", "--json", "--refresh"],
        vec!["chat", "Hello there"],
        vec!["chat", "--json", "Hello there"],
        vec!["auth", "status"],
        vec!["auth", "status", "--json"],
        vec!["config", "get", "models"],
    ];
    if with_config_edits {
        all.push(vec![
            "config",
            "set",
            "models.bedrockDiscovery.region",
            "us-east-1",
        ]);
        all.push(vec!["config", "unset", "models.bedrockDiscovery.region"]);
    }
    all
}

const VERBOSITIES: [&[&str]; 3] = [&[], &["-v"], &["-vv"]];

fn run_everything(case: &str, home: &Path, vars: &[(&str, &str)], planted_files: &[&Path]) {
    for verbosity in VERBOSITIES {
        for command in commands(true) {
            let args: Vec<&str> = verbosity.iter().chain(command.iter()).copied().collect();
            let mut env = vars.to_vec();
            env.push(("RUST_LOG", "trace"));
            let ran = run_host_demo(home, &env, &args);
            assert_ne!(ran.status, -1, "{case} {args:?}: killed by a signal");
            assert_clean(&format!("{case}: host-demo {args:?}"), &ran.all());
        }
    }
    assert_files_clean(home, planted_files);
}

fn write_config(home: &Path, url: &str) {
    std::fs::write(
        home.join("config.json5"),
        format!(
            "{{\n  // baseUrl below is the emulator\n  models: {{\n    bedrockDiscovery: {{ enabled: true }},\n    providers: {{ \"amazon-bedrock\": {{ baseUrl: \"{url}\" }} }},\n  }},\n}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn planted_keys_and_session_token_never_show() {
    let creds = TemporaryCredentials {
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_KEY.into(),
        session_token: SESSION_TOKEN.into(),
        expiration: "2099-01-01T00:00:00Z".into(),
    };
    let emu =
        Emulator::start_background(EmulatorConfig::default().with_credentials(&creds)).unwrap();
    let home = scratch(GROUP, "keys");
    write_config(&home, &emu.url());
    let vars = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("AWS_REGION", "us-east-1"),
    ];
    // Accepted: chat and discovery succeed with the planted credentials.
    let ran = run_host_demo(&home, &vars, &["chat", "Hello there"]);
    assert_eq!(ran.status, 0, "{}", ran.all());
    run_everything("accepted keys", &home, &vars, &[]);

    // Refused: the same values against an emulator that knows other keys.
    let other = Emulator::start_background(EmulatorConfig::default()).unwrap();
    write_config(&home, &other.url());
    let ran = run_host_demo(&home, &vars, &["chat", "Hello there"]);
    assert_ne!(ran.status, 0, "{}", ran.all());
    run_everything("refused keys", &home, &vars, &[]);
}

#[test]
fn a_planted_bearer_token_and_profile_secret_never_show() {
    let emu = Emulator::start_background(EmulatorConfig::default()).unwrap();
    let home = scratch(GROUP, "bearer-and-profile");
    write_config(&home, &emu.url());
    aws_file(
        &home,
        "credentials",
        &format!(
            "[planted]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {PROFILE_SECRET}\naws_session_token = {SESSION_TOKEN}\n"
        ),
    );
    let profile_file = home.join(".aws").join("credentials");
    // A bearer token (refused: not the emulator's key), shadowing the profile.
    let vars = [
        ("AWS_BEARER_TOKEN_BEDROCK", BEARER),
        ("AWS_PROFILE", "planted"),
        ("AWS_REGION", "us-east-1"),
    ];
    run_everything("bearer over profile", &home, &vars, &[&profile_file]);
    // The profile alone (refused keys).
    let vars = [("AWS_PROFILE", "planted"), ("AWS_REGION", "us-east-1")];
    run_everything("profile", &home, &vars, &[&profile_file]);
    // Accepted bearer token: the emulator's own key works; the planted one is still refused
    // above. Here the emulated key is the secret: it must not show either.
    let key = emu.api_key().to_string();
    let ran = run_host_demo(
        &home,
        &[
            ("AWS_BEARER_TOKEN_BEDROCK", key.as_str()),
            ("AWS_REGION", "us-east-1"),
        ],
        &["-vv", "chat", "Hello there"],
    );
    assert_eq!(ran.status, 0, "{}", ran.all());
    assert!(!ran.all().contains(key.as_str()), "{}", ran.all());
}

#[test]
fn credentials_written_into_base_url_never_show() {
    let emu = Emulator::start_background(EmulatorConfig::default()).unwrap();
    let home = scratch(GROUP, "base-url");
    let url = emu
        .url()
        .replace("http://", &format!("http://user:{URL_PASSWORD}@"));
    write_config(&home, &url);
    let vars = [("AWS_REGION", "us-east-1")];
    let ran = run_host_demo(&home, &vars, &["auth", "status"]);
    assert_ne!(ran.status, 0, "refused: {}", ran.all());
    assert!(
        ran.all().contains("must not contain credentials"),
        "{}",
        ran.all()
    );
    let config = home.join("config.json5");
    run_everything("baseUrl with a password", &home, &vars, &[&config]);
}
