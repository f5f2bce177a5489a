//! Issue #23: what a person sees at a terminal, tested on a pseudo-terminal (a small Python
//! driver, `terminal/pty_session.py`, plays the person): answers stream as they arrive, with
//! Markdown styling, and Ctrl-C stops an answer in the interactive chat and gives the prompt
//! back.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use support::{plugin_path, scratch};

const GROUP: &str = "terminal";

/// Runs host-demo `args` on a pseudo-terminal through `steps`; the driver's report.
fn on_a_terminal(name: &str, args: &[&str], steps: Value) -> Value {
    on_a_terminal_of(100, name, args, steps)
}

/// [`on_a_terminal`] on a terminal `columns` wide.
fn on_a_terminal_of(columns: usize, name: &str, args: &[&str], steps: Value) -> Value {
    let home = scratch(GROUP, name);
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/terminal/pty_session.py");
    let out = Command::new("python3")
        .arg(driver)
        .arg(steps.to_string())
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_host-demo"))
        .arg("--plugin")
        .arg(plugin_path())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("HOST_DEMO_CACHE_DIR", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("TERM", "xterm-256color")
        .env("COLUMNS", columns.to_string())
        .env("LINES", "30")
        .output()
        .expect("python3 runs the terminal driver");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the driver's report ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(report["failed"].is_null(), "{}", report["output"]);
    report
}

fn scenario(script: Value) -> String {
    format!("EMULATOR_SCENARIO {script}")
}

/// The first words show while the rest of the line is still on its way, styled (the bold
/// marks are gone, escape codes instead), not a whole line later.
#[test]
fn a_one_shot_answer_streams_as_it_arrives_on_a_terminal() {
    let answer = "Streaming words arrive **one by one** and the reader sees each as it comes.";
    let prompt = scenario(json!({"text": answer, "deltaSize": 4, "eventDelayMs": 150}));
    let report = on_a_terminal(
        "one-shot",
        &["--emulator", "chat", &prompt],
        json!([
            {"wait_for": "Streaming words", "timeout": 10},
            {"mark": "early"},
        ]),
    );
    let early = report["marks"]["early"].as_str().unwrap();
    assert!(
        !early.contains("as it comes."),
        "the start showed before the line ended: {early:?}"
    );
    let output = report["output"].as_str().unwrap();
    assert!(output.contains("one by one and the reader"), "{output}");
    assert!(!output.contains("**"), "{output}");
    assert!(
        report["raw"].as_str().unwrap().contains("\u{1b}[1m"),
        "bold"
    );
    assert_eq!(report["exit"], 0, "{output}");
}

/// Ctrl-C during an answer stops it, keeps what arrived on the screen, and gives the prompt
/// back; the next prompt is answered; `/exit` ends the session.
#[test]
fn ctrl_c_stops_an_answer_in_the_interactive_chat() {
    // 2,000 characters, 5 every 100 ms: 40 seconds unless it is stopped.
    let slow = scenario(json!({"textLength": 2000, "deltaSize": 5, "eventDelayMs": 100}));
    let quick = scenario(json!({"text": "Second answer, whole."}));
    let report = on_a_terminal(
        "ctrl-c",
        &["--emulator", "chat"],
        json!([
            {"wait_for": "Ctrl-C to stop an answer", "timeout": 20},
            {"send": format!("{slow}\r")},
            {"wait_for": "quick brown fox", "timeout": 10},
            {"send": "\u{3}"},
            {"wait_for": "answer cancelled", "timeout": 5},
            {"mark": "stopped"},
            {"send": format!("{quick}\r")},
            {"wait_for": "Second answer, whole.\n", "timeout": 10},
            {"send": "/exit\r"},
        ]),
    );
    let stopped = report["marks"]["stopped"].as_str().unwrap();
    assert!(stopped.contains("The quick brown fox"), "kept: {stopped}");
    assert!(
        stopped.matches("lazy dog").count() < 30,
        "stopped long before its end: {stopped}"
    );
    assert_eq!(report["exit"], 0, "{}", report["output"]);
}

/// `models list` fits an 80-column terminal (no line wraps); piped, it keeps every column, so
/// `grep image` finds the models that take images.
#[test]
fn models_list_fits_80_columns_and_keeps_its_columns_when_piped() {
    let report = on_a_terminal_of(
        80,
        "models-80",
        &["--emulator", "models", "list"],
        json!([]),
    );
    let output = report["output"].as_str().unwrap();
    // The table, from its header on (the spinner before it redraws itself in place).
    let output = &output[output.find("ID   ").expect("the table's header")..];
    let widest = output.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 80, "{widest} columns:\n{output}");
    assert!(
        output.contains("us.anthropic.claude-opus-4-6-v1"),
        "{output}"
    );

    let home = scratch(GROUP, "models-piped");
    let piped = Command::new(env!("CARGO_BIN_EXE_host-demo"))
        .args([
            "--plugin",
            plugin_path().to_str().unwrap(),
            "--emulator",
            "models",
            "list",
        ])
        .env_clear()
        .env("HOME", &home)
        .env("HOST_DEMO_CACHE_DIR", home.join("cache"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&piped.stdout);
    let header = table.lines().next().unwrap_or("");
    for column in ["ID", "NAME", "SOURCE", "INPUT", "CTX", "OUT"] {
        assert!(header.contains(column), "{column} in {header}");
    }
    assert!(
        table
            .lines()
            .any(|l| l.contains("image") && l.contains("nova-pro")),
        "{table}"
    );
}
