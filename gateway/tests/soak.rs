//! Issue #18: a soak of the gateway. Two thousand streams, a hundred at a time, with a fifth
//! failing in the middle (an exception from Bedrock, a connection cut), slow readers and
//! clients that go away mixed in. Every stream that completes carries exactly its answer,
//! every failed one a prefix of it and then an error event (nothing lost, duplicated or
//! crossed between streams); the gateway's memory stays bounded, nothing is left in flight,
//! and it still answers.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Gateway;
use serde_json::{json, Value};

const STREAMS: usize = 2000;
const CLIENTS: usize = 100;
const DELTAS: usize = 40;
const DELTA_SIZE: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Whole,
    Exception,
    Cut,
    SlowReader,
    GoesAway,
}

fn kind_of(n: usize) -> Kind {
    match n % 10 {
        0 | 5 => Kind::Exception,
        1 | 6 => Kind::Cut,
        2 => Kind::SlowReader,
        3 => Kind::GoesAway,
        _ => Kind::Whole,
    }
}

/// Each stream's own text, so a delta of another stream would show.
fn text_of(n: usize) -> String {
    let unit = format!("<{n:05}>");
    unit.repeat(DELTAS * DELTA_SIZE / unit.len() + 1)[..DELTAS * DELTA_SIZE].to_string()
}

fn body_of(n: usize, kind: Kind) -> String {
    let mut scenario = json!({"text": text_of(n), "deltaSize": DELTA_SIZE});
    match kind {
        Kind::Exception => {
            scenario["fault"] = json!({"kind": "exception", "afterEvents": 12, "exception": "modelStreamErrorException"})
        }
        Kind::Cut => scenario["fault"] = json!({"kind": "cut", "afterEvents": 12}),
        _ => {}
    }
    json!({
        "model": "amazon-bedrock/amazon.nova-micro-v1:0", "stream": true,
        "messages": [{"role": "user", "content": format!("EMULATOR_SCENARIO {scenario}")}],
    })
    .to_string()
}

/// What one stream delivered: its text, and whether it ended with `[DONE]` or an error.
struct Delivered {
    text: String,
    done: bool,
    error: bool,
}

fn delivered(raw: &str) -> Delivered {
    let mut out = Delivered {
        text: String::new(),
        done: false,
        error: false,
    };
    for line in raw.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        if data == "[DONE]" {
            out.done = true;
            continue;
        }
        let chunk: Value = serde_json::from_str(data).expect("every data line is JSON");
        if chunk.get("error").is_some() {
            out.error = true;
        }
        if let Some(text) = chunk
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
        {
            out.text.push_str(text);
        }
    }
    out
}

fn run_one(address: &str, n: usize) -> Result<(), String> {
    let kind = kind_of(n);
    let body = body_of(n, kind);
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        let read = stream.read(&mut buffer).map_err(|e| format!("{n}: {e}"))?;
        if read == 0 {
            break;
        }
        raw.extend_from_slice(&buffer[..read]);
        match kind {
            Kind::SlowReader => std::thread::sleep(Duration::from_millis(5)),
            Kind::GoesAway if raw.len() > 1000 => return Ok(()),
            _ => {}
        }
    }
    let raw = String::from_utf8(raw).map_err(|e| e.to_string())?;
    if !raw.starts_with("HTTP/1.1 200") {
        return Err(format!("{n} ({kind:?}): {raw}"));
    }
    let got = delivered(&raw);
    let expected = text_of(n);
    match kind {
        Kind::Whole | Kind::SlowReader => {
            if got.text != expected || !got.done || got.error {
                return Err(format!(
                    "{n} ({kind:?}): {} of {} characters, done {}, error {}",
                    got.text.len(),
                    expected.len(),
                    got.done,
                    got.error
                ));
            }
        }
        Kind::Exception | Kind::Cut => {
            if !expected.starts_with(&got.text) || got.text.is_empty() || !got.error || got.done {
                return Err(format!(
                    "{n} ({kind:?}): {:?} is not a prefix ended by an error (done {}, error {})",
                    got.text, got.done, got.error
                ));
            }
        }
        Kind::GoesAway => {}
    }
    Ok(())
}

/// The gateway's resident and peak memory, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[test]
fn thousands_of_streams_with_faults_and_slow_readers_lose_nothing() {
    let emulator = emulator::Emulator::start_background(emulator::EmulatorConfig {
        delivery: emulator::pacing::Delivery::Fast,
        ..Default::default()
    })
    .unwrap();
    let gateway = Gateway::in_front_of(&emulator, &[]);
    let address = gateway.address.clone();
    let (_, peak_at_start) = memory_kib(gateway.pid());
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let address = address.clone();
                scope.spawn(move || {
                    (client..STREAMS)
                        .step_by(CLIENTS)
                        .filter_map(|n| run_one(&address, n).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {STREAMS} streams went wrong; the first: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    let health = gateway.fetch("GET", "/healthz", "");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let (_, peak) = memory_kib(gateway.pid());
    eprintln!("soak: {STREAMS} streams; the gateway's peak RSS {peak_at_start} KiB at the start, {peak} KiB at the end");
    assert!(
        peak < peak_at_start + 400 * 1024,
        "peak RSS grew from {peak_at_start} KiB to {peak} KiB"
    );
    // Every stream ended, those whose clients went away included.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = gateway.fetch("GET", "/metrics", "");
        if metrics.contains("gateway_streams_in_flight 0") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Slow readers slow the plugin, not the gateway's memory: forty clients ask for 8 MB answers
/// and read nothing for a while; the gateway holds what the kernel's small buffers took plus
/// a few hundred KiB per stream (the plugin pauses, contract 1.6), not the answers. Then each
/// reads its answer.
#[test]
fn clients_that_read_nothing_cost_little_memory() {
    const CLIENTS: usize = 40;
    const SIZE: usize = 8_000_000;
    let emulator = emulator::Emulator::start_background(emulator::EmulatorConfig {
        delivery: emulator::pacing::Delivery::Fast,
        ..Default::default()
    })
    .unwrap();
    let gateway = Gateway::in_front_of(&emulator, &[]);
    let (rss_at_start, _) = memory_kib(gateway.pid());
    let mut connections: Vec<(TcpStream, String)> = (0..CLIENTS)
        .map(|n| {
            // The emulator makes the text (so the request itself stays small).
            let text = emulator::answer::filler_text(SIZE + n);
            let scenario = json!({"textLength": SIZE + n, "deltaSize": 4000});
            let body = json!({
                "model": "amazon-bedrock/amazon.nova-micro-v1:0", "stream": true,
                "messages": [{"role": "user", "content": format!("EMULATOR_SCENARIO {scenario}")}],
            })
            .to_string();
            // A small receive window, as a client far away or reading slowly has: the
            // kernels hold little of the answer, so the gateway would have to.
            let socket = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::STREAM,
                None,
            )
            .unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            let address: std::net::SocketAddr = gateway.address.parse().unwrap();
            socket.connect(&address.into()).unwrap();
            let mut stream: TcpStream = socket.into();
            write!(
                stream,
                "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            (stream, text)
        })
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    let (rss_while_stalled, _) = memory_kib(gateway.pid());
    let grown_mib = rss_while_stalled.saturating_sub(rss_at_start) / 1024;
    eprintln!("{CLIENTS} stalled readers of 8 MB answers: the gateway's RSS grew {grown_mib} MiB");
    assert!(
        grown_mib < 100,
        "the gateway grew {grown_mib} MiB holding {CLIENTS} answers of {} MB for readers that read nothing",
        SIZE / 1_000_000
    );
    // Five read their answers to the end (each whole, in order); the others go away, which
    // cancels their streams.
    connections.truncate(5);
    for (stream, text) in connections.iter_mut() {
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let got = delivered(&raw);
        assert!(got.done && !got.error, "{}", &raw[..raw.len().min(300)]);
        assert!(got.text == *text, "every delta, in order");
    }
}
