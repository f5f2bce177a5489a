//! End-to-end tests of the `host-demo` binary with the real Bedrock plugin and the embedded
//! emulator (`--emulator`): no AWS account, no network beyond loopback.

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::{plugin_path, run, run_with_stdin, scratch, Run};

const GROUP: &str = "host-demo-cli";

/// The binary with the plugin, isolated from the user's config, colours and log settings
/// (the rest of the environment is inherited, as a user's shell would pass it).
fn host_demo(test: &str) -> Command {
    let home = scratch(GROUP, test);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host-demo"));
    cmd.arg("--plugin")
        .arg(plugin_path())
        .env_remove("HOST_DEMO_CONFIG")
        .env_remove("RUST_LOG")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("HOME", &home)
        .env("NO_COLOR", "1");
    cmd
}

fn host_demo_run(test: &str, args: &[&str], stdin: &str) -> Run {
    let mut cmd = host_demo(test);
    cmd.args(args);
    let ran = run_with_stdin(cmd, stdin);
    assert!(
        !ran.stderr.contains("panicked") && !ran.stderr.contains("internal error"),
        "host-demo panicked:\n{}",
        ran.stderr
    );
    ran
}

fn ok(test: &str, args: &[&str]) -> Run {
    let ran = host_demo_run(test, args, "");
    assert_eq!(
        ran.status, 0,
        "host-demo {args:?} failed\nstdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    ran
}

fn fails(test: &str, args: &[&str]) -> Run {
    let ran = host_demo_run(test, args, "");
    assert_ne!(
        ran.status, 0,
        "host-demo {args:?} should fail:\n{}",
        ran.stdout
    );
    assert_ne!(ran.status, -1, "host-demo was killed by a signal");
    ran
}

/// The ids `models list --json` gives with the embedded emulator and `config`.
fn listed_ids(test: &str, config: &str) -> Vec<String> {
    ok(
        test,
        &["--emulator", "--config", config, "models", "list", "--json"],
    )
    .json()
    .as_array()
    .unwrap()
    .iter()
    .map(|m| m["id"].as_str().unwrap().to_string())
    .collect()
}

fn write_config(test: &str, text: &str) -> PathBuf {
    let path = scratch(GROUP, &format!("{test}-config")).join("config.json5");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn plugin_info_names_the_provider_and_its_api() {
    let ran = ok("info", &["plugin", "info"]);
    assert!(ran.stdout.contains("amazon-bedrock"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("bedrock-converse-stream"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("contract version"), "{}", ran.stdout);
}

#[test]
fn models_list_shows_discovered_models() {
    let ran = ok("models", &["--emulator", "models", "list"]);
    assert!(ran.stdout.starts_with("ID"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("amazon.nova-pro-v1:0"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr.contains("embedded Bedrock emulator"),
        "{}",
        ran.stderr
    );

    let ran = ok("models-json", &["--emulator", "models", "list", "--json"]);
    let models: Vec<Value> = serde_json::from_str(&ran.stdout).expect("models list --json");
    assert!(!models.is_empty());
    assert!(models.iter().all(|m| m["id"].is_string()));
    assert!(models.iter().all(|m| m["source"] == "discovered"));
}

#[test]
fn chat_streams_the_answer_then_the_stop_reason_and_usage() {
    let ran = ok("chat", &["--emulator", "chat", "hello"]);
    assert!(
        ran.stdout.contains("You said: hello."),
        "the emulator's echo: {}",
        ran.stdout
    );
    // Piped, stdout is the answer alone; the summary line goes to stderr.
    assert!(
        ran.stderr.contains("stop reason: end_turn"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("usage: "), "{}", ran.stderr);
    assert!(ran.stderr.contains("tokens"), "{}", ran.stderr);
    assert!(!ran.stdout.contains("stop reason"), "{}", ran.stdout);
}

#[test]
fn chat_json_prints_one_event_per_line_ending_with_completed() {
    let ran = ok("chat-json", &["--emulator", "chat", "--json", "hello"]);
    let events: Vec<Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events.first().unwrap()["type"], "messageStart");
    assert!(events.iter().any(|e| e["type"] == "textDelta"));
    let last = events.last().unwrap();
    assert_eq!(last["type"], "completed", "{last}");
    assert_eq!(last["stopReason"], "end_turn");
    assert!(last["message"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("You said: hello."));
}

#[test]
fn chat_shows_reasoning_tool_calls_and_retries() {
    let scenario = r#"EMULATOR_SCENARIO {"reasoning":{"text":"Thinking it over.","signature":"sig"},"text":"Here.","toolCalls":[{"name":"get_weather","input":{"city":"Paris"}}],"throttleFirst":1}"#;
    let ran = ok("chat-rich", &["--emulator", "chat", scenario]);
    assert!(ran.stdout.contains("Thinking it over."), "{}", ran.stdout);
    assert!(ran.stdout.contains("Here."), "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains(r#"[tool call] get_weather {"city":"Paris"}"#),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr.contains("stop reason: tool_use"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("retrying"), "{}", ran.stderr);
    // NO_COLOR and a pipe: no escape codes, and the reasoning is labelled as such.
    assert!(!ran.stdout.contains('\x1b'));
    assert!(
        ran.stdout
            .contains("[reasoning]\nThinking it over.\n[answer]\nHere."),
        "{}",
        ran.stdout
    );
}

#[test]
fn chat_with_vv_shows_the_plugins_own_log_lines_on_stderr() {
    let scenario = r#"EMULATOR_SCENARIO {"text":"Here.","throttleFirst":1}"#;
    let ran = ok("chat-vv", &["--emulator", "-vv", "chat", scenario]);
    assert!(ran.stdout.contains("Here."), "{}", ran.stdout);
    // Contract 1.4: the plugin's tracing events reach host-demo's subscriber with their level
    // and the plugin's own target.
    let line = |level: &str, target: &str, text: &str| {
        ran.stderr
            .lines()
            .any(|l| l.contains(level) && l.contains(target) && l.contains(text))
    };
    assert!(
        line(
            "INFO",
            "bedrock_plugin::stream",
            "ConverseStream attempt 1 failed"
        ),
        "the retry is logged by the plugin:\n{}",
        ran.stderr
    );
    assert!(
        line(
            "DEBUG",
            "bedrock_plugin::provider",
            "Bedrock provider configured"
        ),
        "{}",
        ran.stderr
    );

    // RUST_LOG selects by the plugin's targets; without -v nothing of the plugin shows.
    let mut cmd = host_demo("chat-rust-log");
    cmd.env("RUST_LOG", "bedrock_plugin::provider=debug")
        .args(["--emulator", "chat", scenario]);
    let ran = run(cmd);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("Bedrock provider configured"),
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("ConverseStream attempt"),
        "{}",
        ran.stderr
    );
    let ran = ok("chat-quiet", &["--emulator", "chat", scenario]);
    assert!(!ran.stderr.contains("bedrock_plugin"), "{}", ran.stderr);
}

#[test]
fn chat_uses_the_primary_model_from_the_config() {
    let config = write_config(
        "primary",
        "{\n  // JSON5, as the gateway writes it\n  agents: { defaults: { model: { primary: \
         'amazon-bedrock/amazon.nova-pro-v1:0', }, }, },\n}\n",
    );
    let config = config.to_str().unwrap();
    let ran = ok("primary", &["--emulator", "--config", config, "chat", "hi"]);
    assert!(
        ran.stderr.contains("model: amazon.nova-pro-v1:0"),
        "{}",
        ran.stderr
    );
    // --model wins over the config.
    let ran = ok(
        "primary-override",
        &[
            "--emulator",
            "--config",
            config,
            "chat",
            "--model",
            "amazon.nova-lite-v1:0",
            "hi",
        ],
    );
    assert!(
        ran.stderr.contains("model: amazon.nova-lite-v1:0"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_primary_model_of_another_provider_is_refused() {
    let config = write_config(
        "other-provider",
        "{ agents: { defaults: { model: { primary: 'openai/gpt-5' } } } }",
    );
    let ran = fails(
        "other-provider",
        &[
            "--emulator",
            "--config",
            config.to_str().unwrap(),
            "chat",
            "hi",
        ],
    );
    assert!(ran.stderr.contains("\"openai\""), "{}", ran.stderr);
    assert!(ran.stderr.contains("amazon-bedrock"), "{}", ran.stderr);
}

#[test]
fn config_errors_name_the_key_line_and_column() {
    let config = write_config(
        "bad-config",
        "{\n  models: {\n    bedrockDiscovery: { enabled: 'yes' },\n  },\n}\n",
    );
    for (test, args) in [
        ("bad-config-real", vec!["models", "list"]),
        ("bad-config-emulator", vec!["--emulator", "models", "list"]),
    ] {
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend(args);
        let ran = fails(test, &all);
        assert!(
            ran.stderr.contains("bedrockDiscovery.enabled"),
            "{}",
            ran.stderr
        );
        assert!(ran.stderr.contains("line 3"), "{}", ran.stderr);
    }
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let ran = fails(
        "missing-config",
        &[
            "--emulator",
            "--config",
            "/nonexistent/host-demo.json5",
            "models",
            "list",
        ],
    );
    assert!(ran.stderr.starts_with("error: "), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("/nonexistent/host-demo.json5"),
        "{}",
        ran.stderr
    );
}

#[test]
fn an_unknown_plugin_path_is_a_clear_error() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host-demo"));
    cmd.args(["--plugin", "/nonexistent/libnothing.so", "plugin", "info"]);
    let out = run(cmd);
    let stderr = out.stderr;
    assert_eq!(out.status, 1);
    assert!(
        stderr.starts_with("error: cannot load the plugin"),
        "{stderr}"
    );
    assert!(stderr.contains("/nonexistent/libnothing.so"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_credentials_are_explained() {
    let mut cmd = host_demo("no-credentials");
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["models", "list"]);
    let out = run(cmd);
    let stderr = out.stderr;
    assert_ne!(out.status, 0, "{stderr}");
    assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
    assert!(stderr.contains("AWS_PROFILE"), "{stderr}");
    assert!(stderr.contains("--emulator"), "{stderr}");
}

#[test]
fn interactive_chat_keeps_the_history() {
    let ran = host_demo_run(
        "interactive",
        &["--emulator", "chat", "--json", "--interactive"],
        "first question\n\nsecond question\n/exit\nnever sent\n",
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let completed: Vec<Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "completed")
        .collect();
    assert_eq!(
        completed.len(),
        2,
        "two answers, then /exit: {}",
        ran.stdout
    );
    let text = |i: usize| {
        completed[i]["message"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(text(0).starts_with("You said: first question."));
    assert!(text(1).starts_with("You said: second question."));
    // The second request carried the first turn too, so it is bigger.
    let input = |i: usize| completed[i]["usage"]["inputTokens"].as_u64().unwrap();
    assert!(input(1) > input(0), "{} vs {}", input(1), input(0));

    // Human mode prints each answer as it streams.
    let ran = host_demo_run(
        "interactive-text",
        &["--emulator", "chat", "-i"],
        "one\ntwo\n",
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("You said: one."), "{}", ran.stdout);
    assert!(ran.stdout.contains("You said: two."), "{}", ran.stdout);
}

#[test]
fn a_failed_turn_is_reported_without_a_panic() {
    let scenario = r#"EMULATOR_SCENARIO {"error":{"type":"ValidationException","message":"bad input from the scenario"}}"#;
    let ran = fails("failed-turn", &["--emulator", "chat", scenario]);
    assert!(ran.stderr.starts_with("note:"), "{}", ran.stderr);
    assert!(ran.stderr.contains("error: "), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("bad input from the scenario"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_configuration_nested_40000_deep_is_an_error_not_a_crash() {
    let deep = format!("{{ a: {}1{} }}", "[".repeat(40_000), "]".repeat(40_000));
    let path = write_config("deep-config", &deep);
    let path = path.to_str().unwrap();
    for args in [
        vec!["--config", path, "--emulator", "models", "list"],
        vec!["--config", path, "config", "get", "models"],
        vec![
            "--config",
            path,
            "config",
            "set",
            "models.bedrockDiscovery.enabled",
            "true",
        ],
    ] {
        let ran = fails("deep-config", &args);
        assert!(
            ran.stderr.contains("more than 64 levels deep"),
            "{args:?}: {}",
            ran.stderr
        );
    }
}

#[test]
fn soak_reports_no_lost_delta_misreport_hang_or_double_end() {
    let ran = ok(
        "soak",
        &[
            "--emulator",
            "soak",
            "--streams",
            "300",
            "--concurrency",
            "150",
            "--fault-share",
            "0.5",
        ],
    );
    assert!(
        ran.stdout
            .contains("lost deltas / misreported outcomes / hangs / double ends: 0/0/0/0"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("peak RSS"), "{}", ran.stdout);
    let report = ok(
        "soak-json",
        &[
            "--emulator",
            "soak",
            "--json",
            "--streams",
            "50",
            "--concurrency",
            "25",
        ],
    )
    .json();
    assert_eq!(
        report["succeeded"].as_u64().unwrap() + report["failed"].as_u64().unwrap(),
        50
    );
    for count in ["lostDeltas", "misreported", "hangs", "doubleEnds"] {
        assert_eq!(report[count], 0, "{report}");
    }
}

#[test]
fn the_seed_example_configuration_names_the_real_opus_4_6_id() {
    let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed-example.json5");
    let seed = seed.to_str().unwrap();
    let ids = listed_ids("seed", seed);
    assert!(
        ids.contains(&"us.anthropic.claude-opus-4-6-v1".to_string()),
        "{ids:?}"
    );
    let ran = fails("seed", &["--emulator", "--config", seed, "chat", "Hello"]);
    assert!(
        ran.stderr
            .contains("`us.anthropic.claude-opus-4-6-v1:0` is not a model id Bedrock knows"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("Did you mean `us.anthropic.claude-opus-4-6-v1`?"),
        "{}",
        ran.stderr
    );
    // The id it names works.
    let ran = ok(
        "seed",
        &[
            "--emulator",
            "--config",
            seed,
            "chat",
            "-m",
            "us.anthropic.claude-opus-4-6-v1",
            "Hello",
        ],
    );
    assert!(!ran.stdout.trim().is_empty());
}

#[test]
fn logs_on_a_pipe_carry_no_colour_codes_even_without_no_color() {
    let mut cmd = host_demo("plain-logs");
    cmd.env_remove("NO_COLOR")
        .args(["-vv", "--emulator", "chat", "Hello"]);
    let ran = run(cmd);
    assert_eq!(ran.status, 0, "{}", ran.all());
    assert!(
        ran.stderr.contains("INFO") || ran.stderr.contains("DEBUG"),
        "{}",
        ran.stderr
    );
    assert!(!ran.all().contains('\x1b'), "{}", ran.all());
}

#[test]
fn bench_warns_about_a_debug_build_and_names_the_figure_it_judges() {
    let ran = ok("bench-debug", &["bench", "--deltas", "200", "--runs", "1"]);
    assert!(ran.stderr.contains("debug build"), "{}", ran.stderr);
    assert!(
        ran.stdout
            .contains("goal: the median of the 1 same-round ratios is"),
        "{}",
        ran.stdout
    );
}

/// Issue #21: the embeddings benchmark embeds the same batch both ways and judges the CPU
/// ratio by its goal.
#[test]
fn bench_embeddings_compares_the_plugin_with_the_sdk_called_directly() {
    let ran = ok(
        "bench-embeddings",
        &[
            "bench",
            "--embeddings",
            "--texts",
            "40",
            "--runs",
            "1",
            "--json",
        ],
    );
    let report: Value = serde_json::from_str(&ran.stdout).expect("one JSON document");
    assert_eq!(report["texts"], 40);
    assert!(
        report["cpuMsMedian"]["plugin"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(
        report["cpuMsMedian"]["directSdk"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert_eq!(report["goal"]["atMost"], 1.1, "{report}");
}

#[test]
fn the_emulator_serves_the_configured_region_and_checks_the_file_as_written() {
    // A discovery region other than the emulator's default: the emulator serves it.
    let eu = write_config(
        "emulator-eu",
        "{ models: { bedrockDiscovery: { region: 'eu-west-1' } } }",
    );
    let eu = eu.to_str().unwrap();
    let ids = listed_ids("emulator-eu", eu);
    assert!(ids.iter().any(|id| id.starts_with("eu.")), "{ids:?}");
    assert!(!ids.iter().any(|id| id.starts_with("us.")), "{ids:?}");

    // Warnings point at the user's own lines, not at the re-serialised document's.
    let typo = write_config(
        "emulator-typo",
        "{\n  models: {\n    bedrockDiscovery: {\n      refreshIntervall: 5,\n    },\n  },\n}\n",
    );
    let ran = ok(
        "emulator-typo",
        &[
            "--emulator",
            "--config",
            typo.to_str().unwrap(),
            "models",
            "list",
        ],
    );
    assert!(ran.stderr.contains("(line 4, column 7)"), "{}", ran.stderr);

    // A wrong baseUrl is not hidden by the emulator's overlay.
    let bad = write_config(
        "emulator-baseurl",
        "{ models: { providers: { 'amazon-bedrock': { baseUrl: 42 } } } }",
    );
    let ran = fails(
        "emulator-baseurl",
        &[
            "--emulator",
            "--config",
            bad.to_str().unwrap(),
            "models",
            "list",
        ],
    );
    assert!(ran.stderr.contains("baseUrl"), "{}", ran.stderr);
}

#[test]
fn piped_text_is_one_prompt_or_the_context_of_the_prompt() {
    let document = "Line one of a document.\nLine two of it.\n";
    // Piped alone: one turn with the whole text.
    let ran = host_demo_run("piped-alone", &["--emulator", "chat", "--json"], document);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let completed: Vec<Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "completed")
        .collect();
    assert_eq!(completed.len(), 1, "{}", ran.stdout);
    let text = completed[0]["message"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("Line one of a document.") && text.contains("Line two of it."),
        "{text}"
    );
    // Piped with a prompt: the text is the prompt's context, in the same turn.
    let ran = host_demo_run(
        "piped-context",
        &["--emulator", "chat", "Explain this"],
        document,
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("Line two of it."), "{}", ran.stdout);
    assert!(ran.stdout.contains("Explain this"), "{}", ran.stdout);
    assert_eq!(ran.stdout.matches("You said:").count(), 1, "{}", ran.stdout);
    // Nothing at all is an error that says what to do.
    let ran = host_demo_run("piped-nothing", &["--emulator", "chat"], "");
    assert_ne!(ran.status, 0);
    assert!(ran.stderr.contains("nothing to send"), "{}", ran.stderr);
}

#[test]
fn models_list_piped_and_as_json_keeps_everything() {
    // Piped, every column stays (issue #23; the terminal's width is fitted: terminal.rs).
    let ran = ok("models-width", &["--emulator", "models", "list"]);
    assert!(ran.stdout.lines().next().unwrap().contains("INPUT"));
    assert!(
        ran.stdout.contains("us.anthropic.claude-opus-4-6-v1"),
        "{}",
        ran.stdout
    );
    let json = ok(
        "models-width-json",
        &["--emulator", "models", "list", "--json"],
    )
    .json();
    let first = &json.as_array().unwrap()[0];
    for key in [
        "id",
        "name",
        "source",
        "reasoning",
        "input",
        "contextWindow",
        "maxTokens",
        "cost",
    ] {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
}

/// Issue #13: a misspelt key of host-demo's own (`agnets`, `primray`) is warned about with the
/// key it looks like, instead of silently meaning "no primary model".
#[test]
fn near_misses_of_host_demo_keys_are_warned_about() {
    let config = write_config(
        "agnets",
        "{\n  agnets: { defaults: { model: { primary: 'amazon-bedrock/x' } } },\n  agents: { defaults: { model: { primray: 'amazon-bedrock/y' } } },\n}\n",
    );
    let ran = ok(
        "agnets",
        &[
            "--emulator",
            "--config",
            config.to_str().unwrap(),
            "models",
            "list",
            "--json",
        ],
    );
    assert!(
        ran.stderr.contains(
            "`agnets` is not a key host-demo reads and is ignored; did you mean `agents`?"
        ),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("did you mean `agents.defaults.model.primary`?"),
        "{}",
        ran.stderr
    );
}

/// Issue #13: `plugin info` and `bench` answer in JSON too, like every other command.
#[test]
fn plugin_info_and_bench_speak_json() {
    let info = ok("info-json", &["plugin", "info", "--json"]).json();
    assert_eq!(info["providerId"], "amazon-bedrock");
    assert_eq!(info["contractVersion"], info["hostContractVersion"]);
    assert!(info["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "count-tokens"));
    let bench = ok(
        "bench-json",
        &["bench", "--json", "--deltas", "200", "--runs", "1"],
    )
    .json();
    assert_eq!(bench["deltas"], 200);
    assert_eq!(bench["debugBuild"], cfg!(debug_assertions));
    assert!(
        bench["paths"]["plugin"]["deltasPerSecMedian"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(bench["goal"]["met"].is_boolean());
}

/// Issue #13: shell completions and a man page, generated from the command definitions.
#[test]
fn completions_and_man_page_come_from_the_commands() {
    let bash = ok("completions", &["completions", "bash"]);
    assert!(bash.stdout.contains("_host__demo()"), "{}", bash.stdout);
    for subcommand in ["chat", "tokens", "models", "bench"] {
        assert!(bash.stdout.contains(subcommand), "{subcommand}");
    }
    let zsh = ok("completions-zsh", &["completions", "zsh"]);
    assert!(
        zsh.stdout.starts_with("#compdef host-demo"),
        "{}",
        zsh.stdout
    );
    let man = ok("man", &["man"]);
    assert!(man.stdout.contains(".TH host-demo 1"), "{}", man.stdout);
    assert!(man.stdout.contains("completions"), "{}", man.stdout);
}

/// Issue #13: a generic host does not compile the AWS SDK: without the default `emulator`
/// feature host-demo's dependencies hold no AWS SDK, emulator or async runtime (`.ci/run`
/// builds that variant too).
#[test]
fn without_the_emulator_feature_no_aws_sdk_is_compiled_in() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "host-demo",
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("host-sdk"), "{tree}");
    for absent in [
        "aws-sdk-bedrockruntime",
        "aws-config",
        "emulator v",
        "tokio v",
        "hyper v",
    ] {
        assert!(!tree.contains(absent), "{absent} is compiled in:\n{tree}");
    }
}

/// Issue #13: on a terminal the answer is rendered as Markdown (no `**` or fences left, ANSI
/// styles instead); piped, it is the text as the model wrote it.
#[test]
fn answers_render_as_markdown_on_a_terminal_and_plain_when_piped() {
    let answer = "# Plan\\n**Bold** step and `code`.\\n```\\nlet x = 1;\\n```\\nDone.";
    let scenario = format!(r#"EMULATOR_SCENARIO {{"text":"{answer}"}}"#);
    // Piped: the text as written.
    let piped = ok("markdown-piped", &["--emulator", "chat", &scenario]);
    assert!(piped.stdout.contains("**Bold** step"), "{}", piped.stdout);
    // On a terminal (a pseudo-terminal from util-linux's `script`): rendered.
    let home = scratch(GROUP, "markdown-tty");
    let command = format!(
        "{} --plugin {} --emulator chat '{}'",
        env!("CARGO_BIN_EXE_host-demo"),
        plugin_path().display(),
        scenario
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("HOST_DEMO_CONFIG")
        .env("TERM", "xterm-256color")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .output()
        .expect("util-linux `script` runs the command on a pseudo-terminal");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("Bold") && shown.contains("let x = 1;"),
        "{shown}"
    );
    assert!(
        !shown.contains("**Bold**") && !shown.contains("```"),
        "{shown}"
    );
    assert!(shown.contains('\u{1b}'), "styled: {shown}");
}

/// Issue #23: what the provider's own tools ran and answered, and the citations backing an
/// answer, are shown as a person wants them, turned on with flags (no request file).
#[test]
fn server_tools_and_citations_are_shown_from_flags() {
    let scenario = r#"EMULATOR_SCENARIO {"serverToolCalls": [{"name": "nova_code_interpreter", "input": {"snippet": "1234 * 5678"}, "result": {"stdOut": "7006652", "exitCode": 0}}], "text": "It is 7006652."}"#;
    let ran = ok(
        "server-tool",
        &[
            "--emulator",
            "chat",
            "-m",
            "us.amazon.nova-2-lite-v1:0",
            "--server-tool",
            "nova_code_interpreter",
            scenario,
        ],
    );
    assert!(
        ran.stdout
            .contains("[nova_code_interpreter ran:]\n  1234 * 5678\n"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("  7006652\n"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("event]"), "{}", ran.stdout);

    let home = scratch(GROUP, "citations-doc");
    let document = home.join("policy.txt");
    std::fs::write(&document, "Refunds are paid within 14 days of a return.").unwrap();
    let ran = ok(
        "citations",
        &[
            "--emulator",
            "chat",
            "-m",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "-a",
            document.to_str().unwrap(),
            "--citations",
            "When are refunds paid?",
        ],
    );
    assert!(ran.stdout.contains("[1]"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("Refunds are paid within 14 days"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("citation event"), "{}", ran.stdout);
}

/// Issue #23: without a model named anywhere, chat talks to a current model (one that takes
/// every flag of `chat`), not the oldest listed; sampling settings a reasoning model cannot
/// take are said to be left out, not silently dropped.
#[test]
fn the_default_model_is_current_and_dropped_settings_are_said() {
    let ran = ok("default-model", &["--emulator", "chat", "hello"]);
    assert!(
        ran.stderr
            .contains("model: us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        "{}",
        ran.stderr
    );
    let ran = ok(
        "dropped-sampling",
        &[
            "--emulator",
            "chat",
            "--temperature",
            "0.2",
            "--top-p",
            "0.9",
            "--stop",
            "END",
            "--reasoning-budget",
            "2048",
            "Think first",
        ],
    );
    assert!(
        ran.stderr
            .contains("note: inference.temperature and inference.topP not sent"),
        "{}",
        ran.stderr
    );
}

/// Issue #23: in the interactive chat, `/system` alone says it removed the prompt and a
/// mistyped `/model` is refused at once with the nearest id; `config get/set/unset` speak
/// JSON with `--json`, like every other command.
#[test]
fn chat_commands_say_what_they_did_and_config_speaks_json() {
    let ran = host_demo_run(
        "repl-commands",
        &["--emulator", "chat", "-i"],
        "/system Be brief.\n/system\n/model amazon.nova-micro-v1:O\n/model amazon.nova-micro-v1:0\n/exit\n",
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("(system prompt set)"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("(system prompt removed)"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("does not list the model `amazon.nova-micro-v1:O`"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("did you mean `amazon.nova-micro-v1:0`"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("(now talking to amazon.nova-micro-v1:0)"),
        "{}",
        ran.stderr
    );

    let config = write_config("config-json", "{}\n");
    let config = config.to_str().unwrap();
    let key = "models.bedrockDiscovery.region";
    let set = ok(
        "config-json-set",
        &[
            "--config",
            config,
            "config",
            "set",
            key,
            "eu-west-1",
            "--json",
        ],
    );
    assert_eq!(set.json()["value"], "eu-west-1", "{}", set.stdout);
    assert_eq!(set.json()["key"], key);
    let got = ok(
        "config-json-get",
        &["--config", config, "config", "get", key, "--json"],
    );
    assert_eq!(got.json()["value"], "eu-west-1", "{}", got.stdout);
    let unset = ok(
        "config-json-unset",
        &["--config", config, "config", "unset", key, "--json"],
    );
    assert_eq!(unset.json()["removed"], true, "{}", unset.stdout);
}

/// Issue #23: bash completes a subcommand's options (clap_complete's labels for a hyphenated
/// program are repaired), and every manual page a page refers to is generated.
#[test]
fn completions_work_after_the_subcommand_and_every_man_page_exists() {
    let script = ok("completions-bash", &["completions", "bash"]).stdout;
    let file = scratch(GROUP, "completions-bash-file").join("host-demo.bash");
    std::fs::write(&file, script).unwrap();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(host-demo chat --m); COMP_CWORD=2; _host__demo host-demo --m chat; echo \"${{COMPREPLY[*]}}\"",
            file.display()
        ))
        .output()
        .unwrap();
    let completed = String::from_utf8_lossy(&out.stdout);
    assert!(
        completed.contains("--model") && completed.contains("--max-tokens"),
        "host-demo chat --m<TAB>: {completed:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = scratch(GROUP, "man-pages");
    ok("man-pages", &["man", "--out-dir", dir.to_str().unwrap()]);
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(pages.contains(&"host-demo.1".to_string()), "{pages:?}");
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        for (at, _) in text.match_indices("(1)") {
            let name: String = text[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '\\')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let name = name.replace('\\', "");
            if name.starts_with("host-demo") {
                assert!(
                    pages.contains(&format!("{name}.1")),
                    "{page} refers to {name}(1), which was not generated: {pages:?}"
                );
            }
        }
    }
    let chat = ok("man-chat", &["man", "chat"]).stdout;
    assert!(chat.contains(".TH host-demo-chat 1"), "{chat}");
}

/// Issue #23: a configuration that does not parse gets one message from every command, and
/// an object left open is reported where the file ends, naming where it opened.
#[test]
fn a_broken_configuration_gets_one_message_from_every_command() {
    let config = write_config(
        "unclosed",
        "{\n  models: {\n    bedrockDiscovery: { enabled: true },\n",
    );
    let config = config.to_str().unwrap();
    let expected = format!(
        "{config}:3:41: the file ends inside the object opened at line 2, column 11: close it with `}}`"
    );
    for args in [
        vec!["--emulator", "--config", config, "chat", "hi"],
        vec!["--config", config, "config", "get", "models"],
        vec!["--config", config, "config", "set", "models.x", "1"],
        vec!["--emulator", "--config", config, "models", "list"],
    ] {
        let ran = fails("unclosed-run", &args);
        assert!(ran.stderr.contains(&expected), "{args:?}: {}", ran.stderr);
    }
}

/// Runs host-demo with its data (saved conversations) in `data`.
fn with_data(test: &str, data: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = host_demo(test);
    cmd.env("HOST_DEMO_DATA_DIR", data).args(args);
    run(cmd)
}

/// Issue #23: saved conversations read as a history (`logs list/show/search`, like `llm
/// logs`), a web address given to `-a` is refused saying what to do, and a model alias from
/// the configuration (the gateway's `gateway.aliases`) is a model name.
#[test]
fn logs_url_attachments_and_aliases() {
    let data = scratch(GROUP, "logs-data");
    let data = data.as_path();
    let saved = with_data(
        "logs-save",
        data,
        &[
            "--emulator",
            "chat",
            "-c",
            "lisbon-trip",
            "Plan a day in Lisbon",
        ],
    );
    assert_eq!(saved.status, 0, "{}", saved.stderr);
    let listed = with_data("logs-list", data, &["logs", "list", "--json"]);
    let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], "lisbon-trip", "{listed}");
    assert_eq!(listed[0]["turns"], 2);
    assert_eq!(listed[0]["firstPrompt"], "Plan a day in Lisbon");
    let shown = with_data("logs-show", data, &["logs", "show", "lisbon-trip"]);
    assert!(
        shown.stdout.contains("user: Plan a day in Lisbon"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("assistant: You said: Plan a day"),
        "{}",
        shown.stdout
    );
    let found = with_data("logs-search", data, &["logs", "search", "LISBON"]);
    assert!(
        found.stdout.contains("lisbon-trip #0 user:"),
        "{}",
        found.stdout
    );
    let missing = with_data("logs-search-none", data, &["logs", "search", "Oslo"]);
    assert_ne!(missing.status, 0);
    assert!(missing.stderr.contains("no saved conversation mentions"));

    let url = fails(
        "url-attachment",
        &[
            "--emulator",
            "chat",
            "-a",
            "https://example.com/cat.png",
            "What is it?",
        ],
    );
    assert!(
        url.stderr.contains("attachments are local files") && url.stderr.contains("curl -LO"),
        "{}",
        url.stderr
    );

    let config = write_config(
        "aliases",
        "{ gateway: { aliases: { fast: ['amazon-bedrock/amazon.nova-micro-v1:0', 'amazon-bedrock/amazon.nova-lite-v1:0'] } } }",
    );
    let ran = ok(
        "alias",
        &[
            "--emulator",
            "--config",
            config.to_str().unwrap(),
            "chat",
            "-m",
            "fast",
            "hi",
        ],
    );
    assert!(
        ran.stderr.contains("model: amazon.nova-micro-v1:0"),
        "{}",
        ran.stderr
    );
}

/// Issue #23: a refusal that names a request field is put in the terms the user typed: the
/// flags given and the fields they set.
#[test]
fn refusals_name_the_flags_the_user_typed() {
    let ran = fails(
        "refusal-flags",
        &["--emulator", "chat", "--temperature", "3", "hi"],
    );
    assert!(
        ran.stderr.contains("--temperature (inference.temperature)"),
        "{}",
        ran.stderr
    );
}

/// Issue #21: `embed` shows that embeddings work in one command: each vector's dimensions
/// and first values, the vectors as JSON, and texts ranked against a query.
#[test]
fn embed_previews_vectors_ranks_texts_against_a_query_and_reads_stdin_lines() {
    let shown = ok(
        "embed",
        &[
            "--emulator",
            "embed",
            "--dimensions",
            "256",
            "the cat sat on the mat",
            "quarterly revenue grew",
        ],
    );
    let lines: Vec<&str> = shown.stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "2 vectors of 256 dimensions (amazon-bedrock/amazon.titan-embed-text-v2:0, "
        ) && lines[0].contains("input tokens, $"),
        "{}",
        shown.stdout
    );
    assert!(
        lines[1].contains("the cat sat on the mat") && lines[1].contains(", …]"),
        "{}",
        shown.stdout
    );

    let ranked = ok(
        "embed-query",
        &[
            "--emulator",
            "embed",
            "-q",
            "where did the cat sit",
            "quarterly revenue grew",
            "the cat sat on the mat",
        ],
    );
    let first = ranked.stdout.lines().next().unwrap_or_default();
    assert!(
        first.ends_with("the cat sat on the mat"),
        "{}",
        ranked.stdout
    );

    let piped = host_demo_run(
        "embed-stdin",
        &["--emulator", "embed", "-m", "cohere.embed-v4:0", "--json"],
        "first line\n\nsecond line\n",
    );
    assert_eq!(piped.status, 0, "{}", piped.stderr);
    let json: Value = serde_json::from_str(&piped.stdout).expect("one JSON document");
    assert_eq!(
        json["vectors"].as_array().map(Vec::len),
        Some(2),
        "blank lines are skipped"
    );
    assert_eq!(json["vectors"][0].as_array().map(Vec::len), Some(1536));

    let refused = fails(
        "embed-refused",
        &[
            "--emulator",
            "embed",
            "-m",
            "cohere.embed-v4:0",
            "--dimensions",
            "7",
            "x",
        ],
    );
    assert!(
        refused
            .stderr
            .contains("ask for one of [256, 512, 1024, 1536]"),
        "{}",
        refused.stderr
    );
    let listed = ok(
        "embed-models",
        &["--emulator", "models", "list", "--embedding"],
    );
    assert!(
        listed.stdout.contains("cohere.embed-v4:0"),
        "{}",
        listed.stdout
    );
}
