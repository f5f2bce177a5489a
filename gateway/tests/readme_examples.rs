//! The README's gateway examples run as written: the gateway started with the README's own
//! command line (from a directory where `target/debug/gateway` is this build; on its port,
//! 8080), then the README's `curl` command and its Python snippet (with the official
//! `openai` package from scripts/python-env) against it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;

/// The fenced blocks of `language` in the README's gateway section.
fn blocks(language: &str) -> Vec<String> {
    common::readme_blocks(
        "## The gateway: any plugin behind the APIs clients already speak",
        language,
    )
}

#[test]
fn the_readme_gateway_examples_run_as_written() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let shell = &blocks("sh")[0];
    // The block's lines: the build (done by scripts/test), the gateway, then curl (a
    // command continued over lines).
    let gateway_line = shell
        .lines()
        .find(|l| l.starts_with("target/debug/gateway "))
        .expect("the README starts the gateway");
    let curl = shell[shell.find("curl ").expect("a curl example")..].to_string();
    let dir = std::env::temp_dir().join(format!("gateway-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("target/debug")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_gateway"),
        dir.join("target/debug/gateway"),
    )
    .unwrap();
    let mut gateway = Command::new("bash")
        .args(["-c", &format!("exec {gateway_line}")])
        .current_dir(&dir)
        .env_remove("GATEWAY_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(gateway.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let started = first.trim() == "http://127.0.0.1:8080/v1";
    if !started {
        let _ = gateway.kill();
        let mut said = String::new();
        std::io::Read::read_to_string(&mut gateway.stderr.take().unwrap(), &mut said).unwrap();
        panic!("the README's gateway did not start on 8080 (is the port taken?): {first}{said}");
    }
    let answered = Command::new("bash").args(["-c", &curl]).output().unwrap();
    let text = String::from_utf8_lossy(&answered.stdout);
    assert!(answered.status.success(), "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).expect("a JSON answer");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("Hello")),
        "{body}"
    );

    let python = repo.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/python-env",
        python.display()
    );
    let snippet = &blocks("python")[0];
    let ran = Command::new(python).args(["-c", snippet]).output().unwrap();
    let printed = String::from_utf8_lossy(&ran.stdout);
    let _ = gateway.kill();
    let _ = gateway.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        ran.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(printed.contains("Hello"), "{printed}");
}
