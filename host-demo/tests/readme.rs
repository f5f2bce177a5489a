//! Issue #23: every `host-demo` command the README shows runs as written, against the
//! embedded emulator (`HOST_DEMO_EMULATOR=1`), from a directory holding the files the
//! examples name, and succeeds; an interactive one (no prompt) runs on a pseudo-terminal and
//! is left with `/exit`; the one that scripts a failure fails, keeping the text before it.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::scratch;

/// The README's shell lines that run host-demo, with the `export`s before them in their block.
fn examples() -> Vec<(Vec<(String, String)>, String)> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("the README");
    let mut found = Vec::new();
    let mut in_shell = false;
    let mut exports: Vec<(String, String)> = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            exports.clear();
            continue;
        }
        if !in_shell {
            continue;
        }
        if let Some(assignments) = line.strip_prefix("export ") {
            for assignment in assignments.split_whitespace() {
                if let Some((name, value)) = assignment.split_once('=') {
                    exports.push((name.into(), value.into()));
                }
            }
            continue;
        }
        let command = line.trim_start();
        if command.starts_with("host-demo ")
            || command.starts_with("target/debug/host-demo ")
            || command.contains("| target/debug/host-demo ")
            || command.contains("| host-demo ")
        {
            found.push((exports.clone(), line.to_string()));
        }
    }
    found
}

#[test]
fn every_host_demo_example_in_the_readme_runs_as_written() {
    let dir = scratch("readme", "examples");
    // What the examples name: a program at target/debug/host-demo and on the PATH, and files.
    let bin = dir.join("target/debug");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_host-demo"), bin.join("host-demo")).unwrap();
    // A 1x1 PNG and a one-page PDF, recognised by their bytes.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";
    std::fs::write(dir.join("photo.png"), png).unwrap();
    std::fs::write(
        dir.join("report.pdf"),
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("notes.md"),
        "# Notes\nThe demo host streams answers.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("person.schema.json"),
        r#"{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": false}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("request.json"),
        r#"{"model": "amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello from a request document"}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("tools.json5"),
        r#"[{ name: "get_weather", description: "The weather in a city", inputSchema: { type: "object", properties: { city: { type: "string" } } }, command: ["echo", "{\"sky\": \"clear\"}"] }]"#,
    )
    .unwrap();
    let examples = examples();
    assert!(examples.len() >= 15, "found {} examples", examples.len());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failed = Vec::new();
    for (exports, line) in &examples {
        let command = line.split(" #").next().unwrap_or(line).trim_end();
        let interactive = command.ends_with(" chat");
        let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/terminal/pty_session.py");
        let mut shell = if interactive {
            let mut on_a_terminal = Command::new("python3");
            on_a_terminal
                .arg(&driver)
                .arg(r#"[{"wait_for": "chatting with", "timeout": 20}, {"send": "/exit\r"}]"#)
                .args(["--", "bash", "-c", line]);
            on_a_terminal
        } else {
            let mut bash = Command::new("bash");
            bash.args(["-c", line]);
            bash
        };
        let out = shell
            .current_dir(&dir)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", &dir)
            .env("HOST_DEMO_EMULATOR", "1")
            .env("HOST_DEMO_DATA_DIR", dir.join("data"))
            .env("HOST_DEMO_CACHE_DIR", dir.join("cache"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .envs(exports.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .output()
            .expect("bash runs");
        let scripted_failure = line.contains(r#""fault""#);
        if interactive {
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if report["exit"] != 0 || !report["failed"].is_null() {
                failed.push(format!(
                    "{line}\n  {} {}",
                    report["output"],
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        } else if scripted_failure {
            // The failure the example shows: the text before it, then the error.
            let shown = String::from_utf8_lossy(&out.stdout);
            if out.status.success() || !shown.contains("abc") {
                failed.push(format!(
                    "{line}\n  expected a failure after \"abc\": {shown}"
                ));
            }
        } else if !out.status.success() {
            failed.push(format!(
                "{line}\n  {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "README examples that fail:\n{}",
        failed.join("\n")
    );
}
