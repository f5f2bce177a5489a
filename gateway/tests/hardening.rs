//! Issue #18: the gateway tried as an attacker and as an overloaded operator would, one test
//! per finding of the audit (each failed on the gateway before it): silent and slow clients,
//! the connection cap, memory before authentication, content types and `Host` names, CORS,
//! error shapes, fail-closed configuration, statuses of streams that fail before any output,
//! the first-byte wait, `/metrics` access, key files, parameters the API cannot honour, and
//! internals in messages. The plugin file written over in place, reloads and slow readers are
//! in `plugin_files.rs` and `soak.rs`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{body_json, exchange, refused_start, Gateway};
use serde_json::json;

const NOVA: &str = "amazon-bedrock/amazon.nova-micro-v1:0";

fn chat(content: &str) -> String {
    json!({"model": NOVA, "messages": [{"role": "user", "content": content}]}).to_string()
}

fn post_head(address: &str, extra: &str, length: usize) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {address}\r\n{extra}content-length: {length}\r\nconnection: close\r\n\r\n"
    )
}

/// Whether the server closed `stream` (a read returns end of file or an error), waiting at
/// most `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn silent_trickling_and_idle_connections_are_closed() {
    let gateway = Gateway::start(
        ["--emulator", "--header-timeout", "1", "--idle-timeout", "2"],
        &[],
    );
    // Silent: never sends a byte.
    let mut silent = TcpStream::connect(&gateway.address).unwrap();
    // Slowloris: a header byte every 200 ms, forever.
    let mut trickle = TcpStream::connect(&gateway.address).unwrap();
    let started = Instant::now();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nhost: {}\r\nx-slow: ",
        gateway.address
    );
    let mut cut = false;
    for byte in head.bytes().chain(std::iter::repeat(b'a')).take(100) {
        if trickle.write_all(&[byte]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(cut || closed_within(&mut trickle, Duration::from_secs(1)));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the trickle was cut after the header timeout, not {:?}",
        started.elapsed()
    );
    assert!(closed_within(&mut silent, Duration::from_secs(3)));
    // Idle keep-alive: a request answered, then nothing.
    let mut idle = TcpStream::connect(&gateway.address).unwrap();
    write!(
        idle,
        "GET /healthz HTTP/1.1\r\nhost: {}\r\n\r\n",
        gateway.address
    )
    .unwrap();
    let mut answer = [0u8; 256];
    let n = idle.read(&mut answer).unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut idle, Duration::from_secs(4)));
}

#[test]
fn past_the_connection_cap_new_clients_get_a_503_at_once() {
    let gateway = Gateway::start(["--emulator", "--max-connections", "8"], &[]);
    let held: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&gateway.address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let answer = exchange(
        &gateway.address,
        &format!("GET /healthz HTTP/1.1\r\nhost: {}\r\n\r\n", gateway.address),
        b"",
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert_eq!(body_json(&answer)["error"]["code"], "overloaded");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(held);
    // Room again once they are gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = exchange(
            &gateway.address,
            &format!(
                "GET /healthz HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
                gateway.address
            ),
            b"",
        );
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "{answer}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = gateway.fetch("GET", "/metrics", "");
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gateway_connections_refused_total{reason=\"capacity\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(refused >= 1, "{metrics}");
}

/// The key is checked before a byte of the body is read: a keyless client announcing 20 MB
/// gets its 401 at once, without sending any of it.
#[test]
fn the_key_is_checked_before_the_body_is_read() {
    let gateway = Gateway::start(["--emulator", "--api-key", "sk-the-key"], &[]);
    let mut stream = TcpStream::connect(&gateway.address).unwrap();
    stream
        .write_all(
            post_head(
                &gateway.address,
                "content-type: application/json\r\n",
                20_000_000,
            )
            .as_bytes(),
        )
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = [0u8; 512];
    let n = stream.read(&mut answer).expect("answered without the body");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

#[test]
fn only_json_bodies_are_taken() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let body = chat("hi");
    for content_type in ["content-type: text/plain\r\n", ""] {
        let answer = exchange(
            &gateway.address,
            &post_head(&gateway.address, content_type, body.len()),
            body.as_bytes(),
        );
        assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
        assert_eq!(
            body_json(&answer)["error"]["code"],
            "unsupported_media_type"
        );
    }
    let answer = exchange(
        &gateway.address,
        &post_head(
            &gateway.address,
            "content-type: application/json; charset=utf-8\r\n",
            body.len(),
        ),
        body.as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// DNS rebinding: a page served from a name that resolves to 127.0.0.1 sends that name as its
/// `Host`; a gateway on loopback answers to loopback names only (and to those it is given).
/// Without `--cors-origin`, no CORS header invites a page of another origin in.
#[test]
fn a_loopback_gateway_answers_loopback_names_and_no_other_origin() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let port = gateway.address.rsplit(':').next().unwrap().to_string();
    let ask = |host: &str| {
        exchange(
            &gateway.address,
            &format!("GET /v1/models HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"),
            b"",
        )
    };
    let refused = ask(&format!("rebind.attacker.example:{port}"));
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert_eq!(body_json(&refused)["error"]["code"], "host_not_allowed");
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        assert!(ask(&host).starts_with("HTTP/1.1 200"), "{host}");
    }
    let preflight = exchange(
        &gateway.address,
        "OPTIONS /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\norigin: https://evil.example\r\naccess-control-request-method: POST\r\nconnection: close\r\n\r\n",
        b"",
    );
    assert!(
        !preflight
            .to_ascii_lowercase()
            .contains("access-control-allow-origin"),
        "{preflight}"
    );

    let open = Gateway::start(
        [
            "--emulator",
            "--allowed-host",
            "gateway.internal",
            "--cors-origin",
            "https://app.example",
        ],
        &[],
    );
    let answer = exchange(
        &open.address,
        "GET /v1/models HTTP/1.1\r\nhost: gateway.internal:80\r\norigin: https://app.example\r\nconnection: close\r\n\r\n",
        b"",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("access-control-allow-origin: https://app.example"),
        "{answer}"
    );
}

/// Unknown routes, wrong methods and oversized bodies answer in OpenAI's error shape, and
/// `/metrics` counts them.
#[test]
fn refusals_at_the_door_are_openai_errors() {
    let gateway = Gateway::start(["--emulator", "--max-body-bytes", "1000"], &[]);
    let cases = [
        (
            "GET",
            "/v1/nothing-here",
            String::new(),
            "404",
            "unknown_url",
        ),
        (
            "GET",
            "/v1/chat/completions",
            String::new(),
            "405",
            "method_not_allowed",
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat(&"x".repeat(2000)),
            "413",
            "request_too_large",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let answer = gateway.fetch(method, path, &body);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
        assert_eq!(body_json(&answer)["error"]["code"], code, "{answer}");
    }
    let metrics = gateway.fetch("GET", "/metrics", "");
    for status in ["404", "405", "413"] {
        assert!(
            metrics.contains(&format!("gateway_requests_total{{status=\"{status}\"}} 1")),
            "{status} in {metrics}"
        );
    }
}

/// A configuration the gateway would misread stops it before it listens: a mistyped section
/// (which would otherwise mean "no keys"), an unknown key inside the plugin's section, a key
/// file without keys; and a network address is never served without keys unless asked to.
#[test]
fn mistakes_in_the_configuration_fail_closed() {
    let dir = std::env::temp_dir().join(format!("gateway-fail-closed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let typo = write(
        "typo.json5",
        r#"{ gatway: { keys: [{ key: "sk-team" }] } }"#,
    );
    let (status, said) = refused_start(&["--emulator", "--config", &typo], &[]);
    assert!(!status.success());
    assert!(
        said.contains("`gatway`") && said.contains("did you mean `gateway`"),
        "{said}"
    );

    let inner = write(
        "inner.json5",
        r#"{ models: { providers: { "amazon-bedrock": { regon: "us-east-1" } } } }"#,
    );
    let (status, said) = refused_start(&["--config", &inner], &[]);
    assert!(!status.success());
    assert!(
        said.contains("regon") && said.contains("not a known key"),
        "{said}"
    );

    let empty = write("keys", "# none yet\n");
    let (status, said) = refused_start(&["--emulator", "--api-key-file", &empty], &[]);
    assert!(!status.success());
    assert!(said.contains("holds no key"), "{said}");

    let (status, said) = refused_start(&["--emulator", "--host", "0.0.0.0"], &[]);
    assert!(!status.success());
    assert!(said.contains("--no-auth"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keys_from_a_file_and_metrics_behind_a_key() {
    let dir = std::env::temp_dir().join(format!("gateway-key-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("keys");
    std::fs::write(&keys, "# the team\nsk-from-the-file\n").unwrap();
    let metrics_key = dir.join("metrics-key");
    std::fs::write(&metrics_key, "sk-metrics\n").unwrap();
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--api-key-file".as_ref(),
            keys.as_os_str(),
            "--metrics-key-file".as_ref(),
            metrics_key.as_os_str(),
        ],
        &[],
    );
    let get = |path: &str, key: &str| {
        exchange(
            &gateway.address,
            &format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {key}\r\nconnection: close\r\n\r\n"),
            b"",
        )
    };
    assert!(get("/v1/models", "sk-from-the-file").starts_with("HTTP/1.1 200"));
    assert!(get("/v1/models", "sk-other").starts_with("HTTP/1.1 401"));
    assert!(get("/metrics", "sk-from-the-file").starts_with("HTTP/1.1 401"));
    assert!(get("/metrics", "").starts_with("HTTP/1.1 401"));
    let metrics = get("/metrics", "sk-metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(!metrics.contains("sk-"), "no key in the metrics");

    // On its own address, /metrics leaves the main one.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let split = Gateway::start(
        [
            "--emulator",
            "--metrics-listen",
            &format!("127.0.0.1:{port}"),
        ],
        &[],
    );
    assert!(split
        .fetch("GET", "/metrics", "")
        .starts_with("HTTP/1.1 404"));
    let scraped = exchange(
        &format!("127.0.0.1:{port}"),
        "GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
        b"",
    );
    assert!(scraped.contains("gateway_requests_total"), "{scraped}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A gateway in front of `emulator` whose provider retries quickly.
fn quick_retry_gateway(emulator: &emulator::RunningEmulator, args: &[&str]) -> Gateway {
    Gateway::in_front_of_with(
        emulator,
        "retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },",
        args,
    )
}

/// A stream that fails before any output (after the plugin's retries) gets the status the
/// same request without `stream` gets, with `Retry-After` where it applies, not a 200 and
/// an error event; and when the model sends nothing at all, the client waits only the
/// first-byte timeout.
#[test]
fn streams_that_fail_before_any_output_get_their_status() {
    let emulator = emulator::Emulator::start_background(Default::default()).unwrap();
    let gateway = quick_retry_gateway(&emulator, &["--first-byte-timeout", "2"]);
    let cases = [
        (json!({"throttleFirst": 5, "text": "never"}), "429", true),
        (
            json!({"error": {"type": "ServiceUnavailableException"}}),
            "503",
            true,
        ),
        (
            json!({"error": {"type": "ModelNotReadyException"}}),
            "429",
            true,
        ),
    ];
    for (script, status, retry_after) in cases {
        for stream in [true, false] {
            let body = json!({
                "model": NOVA, "stream": stream,
                "messages": [{"role": "user", "content": format!("EMULATOR_SCENARIO {script}")}],
            })
            .to_string();
            let answer = gateway.fetch("POST", "/v1/chat/completions", &body);
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {status}")),
                "stream={stream} {script}: {answer}"
            );
            assert_eq!(
                answer.contains("retry-after:"),
                retry_after,
                "stream={stream}: {answer}"
            );
            assert!(body_json(&answer)["error"]["message"].is_string());
        }
    }
    let started = Instant::now();
    let silent = json!({
        "model": NOVA, "stream": true,
        "messages": [{"role": "user", "content": format!("EMULATOR_SCENARIO {}", json!({"firstByteDelayMs": 20000, "text": "late"}))}],
    })
    .to_string();
    let answer = gateway.fetch("POST", "/v1/chat/completions", &silent);
    assert!(answer.starts_with("HTTP/1.1 504"), "{answer}");
    assert!(answer.contains("--first-byte-timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(6));
}

/// Parameters the provider cannot honour are refused naming them; `service_tier` reaches
/// Bedrock as its service tier, and the tier that served comes back.
#[test]
fn parameters_are_mapped_or_refused_never_ignored() {
    let emulator = emulator::Emulator::start_background(Default::default()).unwrap();
    let gateway = Gateway::in_front_of(&emulator, &[]);
    let tool =
        json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    for (extra, named) in [
        (json!({"seed": 7}), "seed"),
        (json!({"frequency_penalty": 0.5}), "frequency_penalty"),
        (json!({"presence_penalty": 1}), "presence_penalty"),
        (
            json!({"parallel_tool_calls": false, "tools": tool}),
            "parallel_tool_calls",
        ),
        (json!({"modalities": ["text", "audio"]}), "modalities"),
        (json!({"service_tier": "scale"}), "service_tier"),
    ] {
        let mut body = json!({"model": NOVA, "messages": [{"role": "user", "content": "hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let answer = gateway.fetch("POST", "/v1/chat/completions", &body.to_string());
        assert!(answer.starts_with("HTTP/1.1 400"), "{extra}: {answer}");
        let message = body_json(&answer)["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.starts_with(named), "{message}");
    }
    let before = emulator.requests().len();
    let body = json!({"model": NOVA, "service_tier": "flex", "frequency_penalty": 0,
        "messages": [{"role": "user", "content": "hi"}]});
    let answer = gateway.fetch("POST", "/v1/chat/completions", &body.to_string());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The answer says which tier served it, as OpenAI's does.
    assert_eq!(body_json(&answer)["service_tier"], "flex", "{answer}");
    let sent = emulator.requests()[before..]
        .iter()
        .find_map(|r| r.body.clone())
        .unwrap();
    assert_eq!(sent["serviceTier"]["type"], "flex", "{sent}");
    // A request Bedrock served at another tier than asked says the tier that served it, in
    // each OpenAI dialect, whole and streamed.
    let served_otherwise = r#"EMULATOR_SCENARIO {"servedTier": "default"}"#;
    let chat = json!({"model": NOVA, "service_tier": "flex",
        "messages": [{"role": "user", "content": served_otherwise}]});
    let answer = gateway.fetch("POST", "/v1/chat/completions", &chat.to_string());
    assert_eq!(body_json(&answer)["service_tier"], "default", "{answer}");
    let responses = json!({"model": NOVA, "service_tier": "flex", "input": served_otherwise});
    let answer = gateway.fetch("POST", "/v1/responses", &responses.to_string());
    assert_eq!(body_json(&answer)["service_tier"], "default", "{answer}");
    let mut streamed = responses.clone();
    streamed["stream"] = json!(true);
    let answer = gateway.fetch("POST", "/v1/responses", &streamed.to_string());
    let completed = answer
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .find(|e| e["type"] == "response.completed")
        .unwrap_or_else(|| panic!("no response.completed: {answer}"));
    assert_eq!(completed["response"]["service_tier"], "default", "{answer}");
}

/// Messages speak to the HTTP client in its terms: no CLI commands, no Rust debug output, no
/// decoder internals; a base model id that answers only through a profile names them.
#[test]
fn messages_name_what_to_fix_without_internals() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let ask = |body: serde_json::Value| {
        let answer = gateway.fetch("POST", "/v1/chat/completions", &body.to_string());
        let message = body_json(&answer)["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (answer, message)
    };
    let (answer, message) = ask(json!({"model": "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "messages": [{"role": "user", "content": "hi"}]}));
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        message.contains("amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0")
            && message.contains("global."),
        "{message}"
    );
    let (_, message) = ask(
        json!({"model": NOVA, "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_id": "f"}}]}]}),
    );
    assert!(
        message.contains("\"file\"") && !message.contains("Some("),
        "{message}"
    );
    let (_, message) = ask(
        json!({"model": NOVA, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!!"}}]}]}),
    );
    assert!(
        message.contains("valid base64") && !message.contains("Invalid symbol"),
        "{message}"
    );
    let (_, message) = ask(
        json!({"model": "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0",
        "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(!message.contains("models list"), "{message}");
}

/// Request smuggling: a body framed two ways (`Content-Length` and chunked) is refused and
/// the connection closed, so a request hidden in the body is never answered; so are two
/// different lengths.
#[test]
fn a_request_framed_two_ways_is_refused_and_nothing_hidden_is_answered() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let hidden = "GET /v1/models HTTP/1.1\r\nhost: localhost\r\n\r\n";
    for framing in [
        format!("content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n{hidden}"),
        format!("content-length: 2\r\ncontent-length: 40\r\n\r\n{{}}{hidden}"),
    ] {
        let answer = exchange(
            &gateway.address,
            &format!("POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n{framing}"),
            b"",
        );
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert_eq!(
            answer.matches("HTTP/1.1 ").count(),
            1,
            "one answer, the hidden request never: {answer}"
        );
    }
}

/// HTTP/2 "rapid reset" (CVE-2023-44487): a client that sends whole chat requests and cancels
/// each at once, as fast as it can, costs the gateway no work that piles up: a cancelled
/// request is dropped (its model call with it), at most 256 run at once per connection, and
/// other clients are answered throughout; afterwards nothing is left in flight.
#[test]
fn an_http2_rapid_reset_flood_leaves_no_work_behind() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let address = gateway.address.clone();
    let body = bytes::Bytes::from(chat(
        "EMULATOR_SCENARIO {\"text\": \"slow\", \"firstByteDelayMs\": 10000}",
    ));
    let flooding = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
            let (client, connection) = h2::client::handshake(tcp).await.unwrap();
            tokio::spawn(connection);
            let mut sent = 0;
            for _ in 0..5_000 {
                let request = http::Request::post(format!("http://{address}/v1/chat/completions"))
                    .header("content-type", "application/json")
                    .body(())
                    .unwrap();
                let Ok(Ok(mut ready)) =
                    tokio::time::timeout(Duration::from_secs(5), client.clone().ready()).await
                else {
                    break;
                };
                let Ok((response, mut stream)) = ready.send_request(request, false) else {
                    break;
                };
                let _ = stream.send_data(body.clone(), true);
                stream.send_reset(h2::Reason::CANCEL);
                drop(response);
                sent += 1;
            }
            sent
        })
    });
    // Others are served while it floods.
    let mut slowest = Duration::ZERO;
    while !flooding.is_finished() {
        let started = Instant::now();
        let health = gateway.fetch("GET", "/healthz", "");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        slowest = slowest.max(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = flooding.join().unwrap();
    assert!(sent > 0);
    assert!(
        slowest < Duration::from_secs(1),
        "a health check took {slowest:?} during the flood"
    );
    // Each request asked for an answer 10 s away: only cancelled work ends sooner.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let metrics = gateway.fetch("GET", "/metrics", "");
        if metrics.contains("gateway_streams_in_flight 0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cancelled requests still in flight after {sent} resets: {metrics}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// At the file-descriptor limit: the connection cap is lowered to what the limit holds (and
/// said), so silent clients past it get a 503 at once instead of an accept that fails for
/// everybody; once the header timeout closes the silent ones, a real client is served.
#[test]
fn at_the_descriptor_limit_silent_clients_cannot_lock_out_real_ones() {
    use std::io::BufRead;
    let mut child = std::process::Command::new("bash")
        .args([
            "-c",
            "ulimit -n 256 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_gateway"),
            "--emulator",
            // Long enough that the silent clients are still there when the next one knocks,
            // on a busy machine too.
            "--header-timeout",
            "5",
            "--port",
            "0",
        ])
        .env_remove("GATEWAY_API_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first
        .trim()
        .strip_prefix("http://")
        .and_then(|a| a.strip_suffix("/v1"))
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let silent: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(&address).ok())
        .collect();
    assert!(silent.len() > 100, "{} connections", silent.len());
    std::thread::sleep(Duration::from_millis(300));
    let refused = exchange(
        &address,
        "GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
        b"",
    );
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    let deadline = Instant::now() + Duration::from_secs(12);
    loop {
        let answer = exchange(
            &address,
            "GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
            b"",
        );
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "still locked out: {answer}");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(silent);
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("file-descriptor limit (256"), "{log}");
}

/// Past its capacity the gateway sheds load instead of collapsing: with room for four model
/// calls, sixteen at once get four answers, on time, and twelve quick 503s with
/// `Retry-After`; then there is room again.
#[test]
fn past_its_capacity_the_gateway_sheds_load_quickly() {
    let gateway = Gateway::start(
        [
            "--emulator",
            "--max-in-flight",
            "4",
            "--queue-timeout",
            "50",
        ],
        &[],
    );
    // Each answer takes about a second.
    let slow = chat(&format!(
        "EMULATOR_SCENARIO {}",
        json!({"text": "ab".repeat(10), "deltaSize": 2, "eventDelayMs": 100})
    ));
    let address = gateway.address.clone();
    let answers: Vec<(String, Duration)> = std::thread::scope(|scope| {
        let asking: Vec<_> = (0..16)
            .map(|_| {
                let (address, slow) = (address.clone(), slow.clone());
                scope.spawn(move || {
                    let started = Instant::now();
                    let answer = exchange(
                        &address,
                        &post_head(&address, "content-type: application/json\r\n", slow.len()),
                        slow.as_bytes(),
                    );
                    (answer, started.elapsed())
                })
            })
            .collect();
        asking.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let answered: Vec<&(String, Duration)> = answers
        .iter()
        .filter(|(a, _)| a.starts_with("HTTP/1.1 200"))
        .collect();
    let shed: Vec<&(String, Duration)> = answers
        .iter()
        .filter(|(a, _)| a.starts_with("HTTP/1.1 503"))
        .collect();
    assert_eq!(answered.len(), 4, "{answers:?}");
    assert_eq!(shed.len(), 12, "{answers:?}");
    for (answer, took) in &shed {
        assert!(answer.contains("retry-after: 1"), "{answer}");
        assert!(answer.contains("--max-in-flight"), "{answer}");
        assert!(*took < Duration::from_millis(800), "shed after {took:?}");
    }
    for (_, took) in &answered {
        assert!(
            *took < Duration::from_secs(4),
            "an accepted answer took {took:?}"
        );
    }
    let again = gateway.fetch("POST", "/v1/chat/completions", &chat("hi"));
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    let metrics = gateway.fetch("GET", "/metrics", "");
    assert!(
        metrics.contains("gateway_requests_shed_total 12"),
        "{metrics}"
    );
}
