//! The README's own host code runs: `host-sdk/examples/minimal_host.rs`, built by the test
//! suite, loads the real plugin in a fresh process and talks to the emulator, blocking and
//! async, exactly as a third-party host would.

use std::process::Command;

use e2e_tests::{artifact, config_for, profile_dir, start_emulator, BUILD_HINT, PLUGIN_LIB};

#[test]
fn the_minimal_host_example_lists_models_and_streams_both_ways() {
    let emu = start_emulator();
    let example = profile_dir().join("examples").join("minimal_host");
    assert!(
        example.is_file(),
        "{} is missing: {BUILD_HINT}",
        example.display()
    );
    let config = std::env::temp_dir().join(format!("minimal-host-{}.json5", std::process::id()));
    std::fs::write(&config, config_for(&emu.url())).unwrap();

    let out = Command::new(&example)
        .arg(artifact(PLUGIN_LIB))
        .arg(&config)
        .arg("ping from the example")
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", emu.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", emu.secret_access_key())
        .env("AWS_REGION", emu.region())
        .output()
        .expect("the example runs");
    let _ = std::fs::remove_file(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("amazon-bedrock speaks bedrock-converse-stream"),
        "{stdout}"
    );
    assert!(stdout.contains("model: "), "{stdout}");
    // Once through the blocking API, once through the async one.
    assert_eq!(
        stdout.matches("You said: ping from the example.").count(),
        2,
        "{stdout}"
    );
    assert_eq!(stdout.matches("EndTurn").count(), 2, "{stdout}");
}
