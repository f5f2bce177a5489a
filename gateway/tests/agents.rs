//! Issue #19: the coding agents people run most, run as their users run them against the
//! gateway, configured exactly as the README says (its `json5`, `toml` and `bash` blocks of
//! "Coding agents"; only the port is the test gateway's): OpenAI's Codex CLI over the
//! Responses API, Anthropic's Claude Code over the Messages API. Both are pinned in
//! gateway/agents and installed by scripts/node-env.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Gateway;

/// The fenced blocks of `language` in the README's "Coding agents" section.
fn readme_blocks(language: &str) -> Vec<String> {
    common::readme_blocks("### Coding agents: Codex CLI and Claude Code", language)
}

/// A fresh, empty directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gateway-agents-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn agent(name: &str) -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("agents/node_modules/.bin")
        .join(name);
    assert!(
        bin.exists(),
        "{} is missing: run scripts/node-env (scripts/test does)",
        bin.display()
    );
    bin
}

/// The gateway with the README's configuration and key, and its address (`127.0.0.1:PORT`).
/// Each agent's test has its own configuration folder: the tests run in parallel.
fn gateway_as_the_readme_configures_it(agent: &str) -> (Gateway, String) {
    let config = scratch(&format!("{agent}-config")).join("gateway.json5");
    std::fs::write(&config, &readme_blocks("json5")[0]).unwrap();
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--api-key".as_ref(),
            "demo-key".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    );
    let address = gateway
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    (gateway, address)
}

/// What the emulator answers: the user's words, and that it is the emulator.
fn assert_answered(said: &str, agent: &str) {
    assert!(
        said.contains("Hello there") && said.contains("local Bedrock emulator"),
        "{agent} did not print the model's answer:\n{said}"
    );
}

#[test]
fn codex_cli_works_through_the_responses_api() {
    let (gateway, address) = gateway_as_the_readme_configures_it("codex");
    let home = scratch("codex-home");
    let config = readme_blocks("toml")[0].replace("127.0.0.1:8080", &address);
    std::fs::write(home.join("config.toml"), config).unwrap();
    let out = Command::new(agent("codex"))
        .args(["exec", "--skip-git-repo-check", "Hello there"])
        .current_dir(scratch("codex-work"))
        .env("CODEX_HOME", &home)
        .env("GATEWAY_KEY", "demo-key")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("codex runs");
    drop(gateway);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "codex failed:\n{said}");
    assert_answered(&String::from_utf8_lossy(&out.stdout), "codex");
}

#[test]
fn claude_code_works_through_the_messages_api() {
    let (gateway, address) = gateway_as_the_readme_configures_it("claude");
    let mut command = Command::new(agent("claude"));
    command
        .args(["-p", "Hello there"])
        .current_dir(scratch("claude-work"))
        .env("HOME", scratch("claude-home"))
        // No machine here reaches Anthropic's telemetry or update servers.
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .stdin(std::process::Stdio::null());
    // The README's `export NAME=VALUE` lines, as written (with the test gateway's port).
    for line in readme_blocks("bash")[0].lines() {
        if let Some((name, value)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            command.env(name, value.replace("127.0.0.1:8080", &address));
        }
    }
    let out = command.output().expect("claude runs");
    drop(gateway);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "claude failed:\n{said}");
    assert_answered(&String::from_utf8_lossy(&out.stdout), "claude");
}
