//! Issue #14: the gateway's own behaviour around requests: the first line is the base URL,
//! it answers health checks, a stream in flight finishes when it is told to stop (SIGTERM),
//! and a client that goes away cancels its stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn start() -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--emulator", "--port", "0", "--shutdown-grace", "20"])
        .env_remove("GATEWAY_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the gateway starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first
        .trim()
        .strip_prefix("http://")
        .and_then(|a| a.strip_suffix("/v1"))
        .unwrap_or_else(|| panic!("the first line is the base URL: {first:?}"))
        .to_string();
    (child, address)
}

/// Sends one HTTP/1.1 request and returns the connection, to read the answer as it comes.
fn send(address: &str, method: &str, path: &str, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream
}

#[test]
fn health_then_a_stream_in_flight_finishes_after_sigterm() {
    let (mut child, address) = start();
    let mut health = String::new();
    send(&address, "GET", "/healthz", "")
        .read_to_string(&mut health)
        .unwrap();
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
        "{health}"
    );

    // A slow stream (an event every 100 ms), then SIGTERM while it runs.
    let body = r#"{"model":"amazon-bedrock/amazon.nova-micro-v1:0","stream":true,"messages":[{"role":"user","content":"EMULATOR_SCENARIO {\"text\":\"slow but complete\",\"deltaSize\":2,\"eventDelayMs\":100}"}]}"#;
    let mut stream = send(&address, "POST", "/v1/chat/completions", body);
    let mut first = [0u8; 64];
    let n = stream.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    stream.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains("[DONE]"),
        "the stream finished after SIGTERM: {rest}"
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn metrics_count_requests_errors_tokens_and_streams() {
    let (mut child, address) = start();
    let ok = r#"{"model":"amazon-bedrock/amazon.nova-micro-v1:0","messages":[{"role":"user","content":"hello"}]}"#;
    let mut answer = String::new();
    send(&address, "POST", "/v1/chat/completions", ok)
        .read_to_string(&mut answer)
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let bad = r#"{"model":"no-such-model","messages":[{"role":"user","content":"hello"}]}"#;
    let mut refused = String::new();
    send(&address, "POST", "/v1/chat/completions", bad)
        .read_to_string(&mut refused)
        .unwrap();
    assert!(refused.starts_with("HTTP/1.1 404"), "{refused}");
    let mut metrics = String::new();
    send(&address, "GET", "/metrics", "")
        .read_to_string(&mut metrics)
        .unwrap();
    for line in [
        "gateway_requests_total{status=\"200\"} 1",
        "gateway_requests_total{status=\"404\"} 1",
        "gateway_errors_total{kind=\"model_not_found\"} 1",
        "gateway_streams_in_flight 0",
        "gateway_time_to_first_token_seconds_count 1",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    assert!(
        metrics.contains("gateway_tokens_total{direction=\"output\"}"),
        "{metrics}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// A plugin file replaced on disk is picked up on SIGHUP: new requests see the new plugin.
/// (Two fixture plugins built against older contracts stand in for two versions.)
#[test]
fn a_replaced_plugin_is_picked_up_on_sighup() {
    let target = std::path::Path::new(env!("CARGO_BIN_EXE_gateway"))
        .parent()
        .unwrap()
        .to_path_buf();
    let library = |name: &str| {
        let path = target.join(format!(
            "{}{name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
        assert!(
            path.is_file(),
            "{} is missing: run scripts/test",
            path.display()
        );
        path
    };
    let dir = std::env::temp_dir().join(format!("gateway-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let installed = dir.join(format!(
        "{}provider{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    std::fs::copy(library("contract_1_4_plugin"), &installed).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--port", "0", "--plugin"])
        .arg(&installed)
        .env_remove("GATEWAY_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    let models = |address: &str| {
        let mut answer = String::new();
        send(address, "GET", "/v1/models", "")
            .read_to_string(&mut answer)
            .unwrap();
        answer
    };
    assert!(models(&address).contains("contract-1-4-fixture/fixture.contract-1-4"));

    // Replace the file (a new inode, as an upgrade would), then ask for a reload.
    let incoming = dir.join("incoming");
    std::fs::copy(library("contract_1_0_plugin"), &incoming).unwrap();
    std::fs::rename(&incoming, &installed).unwrap();
    assert!(Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = models(&address);
        if listed.contains("contract-1-0-fixture/fixture.contract-1-0") {
            assert!(!listed.contains("contract-1-4-fixture"), "{listed}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new plugin was not picked up: {listed}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let chat = r#"{"model":"fixture.contract-1-0","messages":[{"role":"user","content":"hi"}]}"#;
    let mut answer = String::new();
    send(&address, "POST", "/v1/chat/completions", chat)
        .read_to_string(&mut answer)
        .unwrap();
    assert!(
        answer.contains("Hello from a plugin built against contract 1.0."),
        "{answer}"
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
