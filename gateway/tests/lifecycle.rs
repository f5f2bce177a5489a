//! Issue #14: the gateway's own behaviour around requests: the first line is the base URL,
//! it answers health checks, a stream in flight finishes when it is told to stop (SIGTERM),
//! a client that goes away cancels its stream in the plugin, and a request past
//! `--request-timeout` is cancelled and answered with a timeout.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::Gateway;

#[test]
fn health_then_a_stream_in_flight_finishes_after_sigterm() {
    let mut gateway = Gateway::start(["--emulator", "--shutdown-grace", "20"], &[]);
    let health = gateway.fetch("GET", "/healthz", "");
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
        "{health}"
    );

    // A slow stream (an event every 100 ms), then SIGTERM while it runs.
    let body = r#"{"model":"amazon-bedrock/amazon.nova-micro-v1:0","stream":true,"messages":[{"role":"user","content":"EMULATOR_SCENARIO {\"text\":\"slow but complete\",\"deltaSize\":2,\"eventDelayMs\":100}"}]}"#;
    let mut stream = gateway.send("POST", "/v1/chat/completions", body);
    let mut first = [0u8; 64];
    let n = stream.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    gateway.signal("TERM");
    let mut rest = String::new();
    stream.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains("[DONE]"),
        "the stream finished after SIGTERM: {rest}"
    );
    let status = gateway.wait();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

/// The threads serving HTTP: `--worker-threads`, else half the CPUs (the plugins' own
/// threads do most of the work in the same process); zero is refused.
#[test]
fn the_gateway_serves_on_the_worker_threads_it_is_given() {
    let workers = |gateway: &Gateway| {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", gateway.pid())).unwrap();
        tasks
            .filter_map(|task| std::fs::read_to_string(task.unwrap().path().join("comm")).ok())
            .filter(|name| name.trim() == "gateway-worker")
            .count()
    };
    let given = Gateway::start(["--emulator", "--worker-threads", "3"], &[]);
    let answer = given.fetch("POST", "/v1/chat/completions", &chat_body("hi"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(workers(&given), 3);
    let default = Gateway::start(["--emulator"], &[]);
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(workers(&default), (cpus / 2).max(1));
    let (status, stderr) = common::refused_start(&["--emulator", "--worker-threads", "0"], &[]);
    assert!(!status.success());
    assert!(stderr.contains("--worker-threads"), "{stderr}");
}

fn chat_body(text: &str) -> String {
    serde_json::json!({"model": "amazon-bedrock/amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": text}]}).to_string()
}

#[test]
fn metrics_count_requests_errors_tokens_and_streams() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let ok = r#"{"model":"amazon-bedrock/amazon.nova-micro-v1:0","messages":[{"role":"user","content":"hello"}]}"#;
    let answer = gateway.fetch("POST", "/v1/chat/completions", ok);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let bad = r#"{"model":"no-such-model","messages":[{"role":"user","content":"hello"}]}"#;
    let refused = gateway.fetch("POST", "/v1/chat/completions", bad);
    assert!(refused.starts_with("HTTP/1.1 404"), "{refused}");
    let metrics = gateway.fetch("GET", "/metrics", "");
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
}

/// A plugin file replaced on disk is picked up on SIGHUP: new requests see the new plugin.
/// (Two fixture plugins built against older contracts stand in for two versions.)
#[test]
fn a_replaced_plugin_is_picked_up_on_sighup() {
    let library = common::built_library;
    let dir = std::env::temp_dir().join(format!("gateway-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let installed = dir.join(format!(
        "{}provider{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    std::fs::copy(library("contract_1_4_plugin"), &installed).unwrap();

    // The fixtures warn about any configuration, on purpose.
    let gateway = Gateway::start(
        [
            "--lenient-config".as_ref(),
            "--plugin".as_ref(),
            installed.as_os_str(),
        ],
        &[],
    );
    let models = || gateway.fetch("GET", "/v1/models", "");
    assert!(models().contains("contract-1-4-fixture/fixture.contract-1-4"));

    // Replace the file (a new inode, as an upgrade would), then ask for a reload.
    let incoming = dir.join("incoming");
    std::fs::copy(library("contract_1_0_plugin"), &incoming).unwrap();
    std::fs::rename(&incoming, &installed).unwrap();
    gateway.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = models();
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
    let answer = gateway.fetch("POST", "/v1/chat/completions", chat);
    assert!(
        answer.contains("Hello from a plugin built against contract 1.0."),
        "{answer}"
    );
    drop(gateway);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A slow stream: `deltas` two-character deltas, one every `every_ms`.
fn slow_stream_body(deltas: usize, every_ms: u64) -> String {
    let scenario = serde_json::json!({
        "text": "ab".repeat(deltas), "deltaSize": 2, "eventDelayMs": every_ms,
    });
    serde_json::json!({
        "model": "amazon-bedrock/amazon.nova-micro-v1:0",
        "stream": true,
        "messages": [{"role": "user", "content": format!("EMULATOR_SCENARIO {scenario}")}],
    })
    .to_string()
}

/// Waits until the emulator has seen `abandoned` streams dropped before their end.
fn wait_for_abandoned(emulator: &emulator::RunningEmulator, abandoned: u64, within: Duration) {
    let deadline = Instant::now() + within;
    while emulator.stream_ends().abandoned() < abandoned {
        assert!(
            Instant::now() < deadline,
            "the plugin's stream to Bedrock was not cancelled (finished: {}, abandoned: {})",
            emulator.stream_ends().finished(),
            emulator.stream_ends().abandoned()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_client_that_goes_away_cancels_the_stream_in_the_plugin() {
    let emulator = emulator::Emulator::start_background(Default::default()).unwrap();
    let gateway = Gateway::in_front_of(&emulator, &[]);
    // 100 deltas, one every 100 ms: ten seconds if nobody stopped it.
    let mut stream = gateway.send("POST", "/v1/chat/completions", &slow_stream_body(100, 100));
    let mut first = [0u8; 512];
    let n = stream.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let gone_at = Instant::now();
    drop(stream);
    // The gateway drops the plugin's stream, which closes its connection to Bedrock.
    wait_for_abandoned(&emulator, 1, Duration::from_secs(3));
    assert!(gone_at.elapsed() < Duration::from_secs(3));
    assert_eq!(emulator.stream_ends().finished(), 0);
    let metrics = gateway.fetch("GET", "/metrics", "");
    assert!(metrics.contains("gateway_streams_in_flight 0"), "{metrics}");
}

#[test]
fn a_request_past_the_timeout_is_cancelled_and_answered_with_a_timeout() {
    let emulator = emulator::Emulator::start_background(Default::default()).unwrap();
    let gateway = Gateway::in_front_of(&emulator, &["--request-timeout", "1"]);

    // Nothing arrives in time: a 504 in OpenAI's error shape.
    let silent = serde_json::json!({
        "model": "amazon-bedrock/amazon.nova-micro-v1:0",
        "messages": [{"role": "user", "content": "EMULATOR_SCENARIO {\"text\":\"late\",\"firstByteDelayMs\":4000}"}],
    });
    let started = Instant::now();
    let answer = gateway.fetch("POST", "/v1/chat/completions", &silent.to_string());
    assert!(answer.starts_with("HTTP/1.1 504"), "{answer}");
    assert!(answer.contains(r#""code":"timeout""#), "{answer}");
    assert!(answer.contains("--request-timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // A stream that started but runs too long ends with an error event, and is cancelled.
    let answer = gateway.fetch("POST", "/v1/chat/completions", &slow_stream_body(100, 100));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""content":"ab""#), "{answer}");
    let last = answer
        .lines()
        .rfind(|line| line.starts_with("data: "))
        .unwrap_or_default();
    assert!(
        last.starts_with("data: {\"error\"") && last.contains(r#""code":"timeout""#),
        "the stream ends with the timeout: {last}"
    );
    assert!(!answer.contains("[DONE]"), "{answer}");
    wait_for_abandoned(&emulator, 1, Duration::from_secs(3));
}

/// Client keys never show: not in the log (even at debug level), not in an error, whether
/// the key was right or wrong, not in `--help` when the environment sets one.
#[test]
fn client_keys_never_appear_in_logs_or_errors() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("--help")
        .env("GATEWAY_API_KEY", "sk-from-the-environment")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("GATEWAY_API_KEY"), "{help}");
    assert!(!help.contains("sk-from-the-environment"), "{help}");

    let log = std::env::temp_dir().join(format!("gateway-secrets-{}.log", std::process::id()));
    let gateway = Gateway::start_logging_to(
        ["--emulator", "--api-key", "sk-right-key-0123456789"],
        &[("RUST_LOG", "debug")],
        std::fs::File::create(&log).unwrap().into(),
    );
    let chat = r#"{"model":"amazon-bedrock/amazon.nova-micro-v1:0","messages":[{"role":"user","content":"hi"}]}"#;
    let with_key = |key: &str| {
        let mut stream = std::net::TcpStream::connect(&gateway.address).unwrap();
        std::io::Write::write_all(
            &mut stream,
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{chat}",
                chat.len()
            )
            .as_bytes(),
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let refused = with_key("sk-wrong-key-9876543210");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(!refused.contains("sk-wrong-key"), "{refused}");
    let answered = with_key("sk-right-key-0123456789");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    drop(gateway);
    let logged = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        logged.contains("request"),
        "the access log was written: {logged}"
    );
    for secret in ["sk-right-key", "sk-wrong-key"] {
        assert!(!logged.contains(secret), "{secret} in the log:\n{logged}");
    }
}

/// An alias from the configuration (`gateway.aliases`) is a model name clients may send; an
/// alias whose model no provider serves stops the start.
#[test]
fn aliases_from_the_configuration_name_models() {
    let dir = std::env::temp_dir().join(format!("gateway-aliases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json5");
    std::fs::write(
        &config,
        r#"{ gateway: { aliases: { fast: ["amazon-bedrock/amazon.nova-micro-v1:0", "amazon-bedrock/amazon.nova-lite-v1:0"] } } }"#,
    )
    .unwrap();
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    );
    let answer = gateway.fetch(
        "POST",
        "/v1/chat/completions",
        r#"{"model":"fast","messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""model":"fast""#), "{answer}");

    std::fs::write(
        &config,
        r#"{ gateway: { aliases: { fast: "amazon-bedrock/no-such-model" } } }"#,
    )
    .unwrap();
    let (status, said) =
        common::refused_start(&["--emulator", "--config", config.to_str().unwrap()], &[]);
    assert!(!status.success());
    assert!(said.contains("gateway.aliases.fast"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
