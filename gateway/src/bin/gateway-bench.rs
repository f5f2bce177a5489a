//! `gateway-bench`: what the gateway costs over calling a provider plugin directly, and
//! whether it holds thousands of concurrent streams (issue #14, item 8). A benchmark
//! program, not a test: it prints what it measured.
//!
//! It runs the emulator (`--fast`) and the gateway as separate processes from the same
//! build, so each side's CPU time is its own:
//! - overhead: the same N-delta answer streamed by a host calling the plugin in this process
//!   (`host-sdk`'s async `EventStream`) and through the gateway as server-sent events in each
//!   dialect (Chat Completions, Responses, Messages), in alternating order; compared are the
//!   CPU per delta of the direct host (this process) and of the gateway process, and the
//!   time to the first delta;
//! - load: thousands of concurrent SSE streams through the gateway, every delta counted,
//!   with the gateway's peak resident memory and thread count;
//! - with `--litellm`, the same overhead runs through LiteLLM's proxy in front of the same
//!   emulator (`scripts/litellm-env` installs it from PyPI).
//!
//! ```sh
//! cargo build --release -p bedrock-plugin -p gateway -p emulator
//! target/release/gateway-bench                 # --deltas, --runs, --streams, --litellm
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

#[path = "support/dialects.rs"]
mod dialects;
#[path = "support/processes.rs"]
mod processes;
use dialects::Dialect;
use processes::{
    cpu_ns, median, start_stack, status_field, Server, ACCESS_KEY_ID, MODEL, REGION,
    SECRET_ACCESS_KEY,
};
/// The client key sent to the OpenAI-compatible servers (LiteLLM refuses to start without one).
const CLIENT_KEY: &str = "sk-gateway-bench-0123456789abcdef";

#[derive(Debug, Parser)]
#[command(
    name = "gateway-bench",
    about = "Measure the gateway against a direct host."
)]
struct Args {
    /// Deltas per answer in the overhead runs.
    #[arg(long, default_value_t = 50_000)]
    deltas: usize,
    /// Characters per delta.
    #[arg(long, default_value_t = 8)]
    delta_size: usize,
    /// Runs per path after one warm-up.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Concurrent streams in the load run (0 skips it).
    #[arg(long, default_value_t = 5000)]
    streams: usize,
    /// Deltas per stream in the load run, one every --event-delay-ms.
    #[arg(long, default_value_t = 60)]
    stream_deltas: usize,
    /// Milliseconds between the load run's events.
    #[arg(long, default_value_t = 100)]
    event_delay_ms: u64,
    /// The `litellm` executable of a LiteLLM proxy installation, to compare with.
    #[arg(long, value_name = "PATH")]
    litellm: Option<PathBuf>,
    /// Print the results as one JSON document.
    #[arg(long)]
    json: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // The direct host's credential chain finds the emulator's identity (set while this
    // process is still single-threaded).
    std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
    std::env::set_var("AWS_REGION", REGION);
    for variable in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
    ] {
        std::env::remove_var(variable);
    }
    processes::finish("gateway-bench", args.json, run(&args))
}

/// One streamed answer, as the receiving side saw it.
#[derive(Debug, Clone, Copy)]
struct Run {
    deltas: u64,
    bytes: u64,
    first_delta: Duration,
    total: Duration,
    /// CPU time of the side measured (this process for the direct host, the gateway's or
    /// LiteLLM's process otherwise) during the run.
    cpu: Duration,
}

impl Run {
    fn cpu_per_1k_deltas_ms(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.deltas.max(1) as f64
    }
}

/// The medians of a path's runs.
fn summary(runs: &[Run]) -> Value {
    json!({
        "runs": runs.len(),
        "cpu_per_1k_deltas_ms": median(runs.iter().map(Run::cpu_per_1k_deltas_ms).collect()),
        "first_delta_ms": median(runs.iter().map(|r| r.first_delta.as_secs_f64() * 1e3).collect()),
        "deltas_per_sec": median(runs.iter().map(|r| r.deltas as f64 / r.total.as_secs_f64()).collect()),
    })
}

fn run(args: &Args) -> Result<Value, String> {
    if args.deltas == 0 || args.delta_size == 0 || args.runs == 0 {
        return Err("--deltas, --delta-size and --runs must all be at least 1".into());
    }
    // Room for every concurrent stream the load phase opens, and the bench's own.
    let room = (args.streams + 64).to_string();
    let stack = start_stack(&[
        "--max-connections".into(),
        room.clone(),
        "--max-in-flight".into(),
        room,
    ])?;
    let (emulator, gateway, plugin_path) = (&stack.emulator, &stack.gateway, &stack.plugin_path);
    let litellm = match &args.litellm {
        Some(path) => Some(start_litellm(path, &emulator.url)?),
        None => None,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let plugin = host_sdk::Plugin::load(plugin_path).map_err(|e| e.to_string())?;
    // The direct host talks to the same emulator.
    let config = format!(
        r#"{{ models: {{ providers: {{ "amazon-bedrock": {{ baseUrl: "{}" }} }} }} }}"#,
        emulator.url
    );
    let provider = plugin.new_provider(&config).map_err(|e| e.to_string())?;
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(http);

    let say = |line: String| {
        if !args.json {
            println!("{line}");
        }
    };
    let prompt = format!(
        "EMULATOR_SCENARIO {}",
        json!({"textLength": args.deltas * args.delta_size, "deltaSize": args.delta_size})
    );
    say(format!(
        "overhead: {} deltas × {} chars per answer, {} runs per path after a warm-up",
        args.deltas, args.delta_size, args.runs
    ));
    let request = host_sdk::ConverseRequest::user_text(MODEL, &prompt);
    let gateway_model = format!("amazon-bedrock/{MODEL}");
    let body =
        |dialect: Dialect, model: &str| Bytes::from(dialect.body(model, &prompt, true).to_string());
    let through_gateway = Dialect::ALL.map(|dialect| body(dialect, &gateway_model));
    let through_litellm = body(Dialect::Chat, "bedrock-nova-micro");
    let mut paths: Vec<(&str, Vec<Run>)> = vec![
        ("direct host", vec![]),
        ("gateway", vec![]),
        ("gateway (responses)", vec![]),
        ("gateway (messages)", vec![]),
    ];
    if litellm.is_some() {
        paths.push(("litellm proxy", vec![]));
    }
    let count = paths.len();
    for round in 0..=args.runs {
        for k in 0..count {
            let path = (round + k) % count;
            let run = runtime.block_on(async {
                match path {
                    0 => direct_run(&provider, &request).await,
                    1..=3 => {
                        let dialect = Dialect::ALL[path - 1];
                        let body = &through_gateway[path - 1];
                        sse_run(&client, &gateway.url, dialect, body, gateway.pid()).await
                    }
                    _ => {
                        let l = litellm.as_ref().expect("a fifth path means LiteLLM runs");
                        sse_run(&client, &l.url, Dialect::Chat, &through_litellm, l.pid()).await
                    }
                }
            })?;
            if run.deltas != args.deltas as u64
                || run.bytes != (args.deltas * args.delta_size) as u64
            {
                return Err(format!(
                    "{} delivered {} deltas ({} bytes), not {}",
                    paths[path].0, run.deltas, run.bytes, args.deltas
                ));
            }
            if round > 0 {
                paths[path].1.push(run);
            }
        }
    }
    let mut overhead = serde_json::Map::new();
    for (name, runs) in &paths {
        let s = summary(runs);
        say(format!(
            "  {name:<14} CPU per 1k deltas {:>7.3} ms · first delta {:>7.3} ms · {:>9.0} deltas/s",
            s["cpu_per_1k_deltas_ms"].as_f64().unwrap_or(f64::NAN),
            s["first_delta_ms"].as_f64().unwrap_or(f64::NAN),
            s["deltas_per_sec"].as_f64().unwrap_or(f64::NAN),
        ));
        overhead.insert(name.to_string(), s);
    }
    let ratio = |name: &str| {
        let cpu = |n: &str| {
            overhead[n]["cpu_per_1k_deltas_ms"]
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        let first = |n: &str| overhead[n]["first_delta_ms"].as_f64().unwrap_or(f64::NAN);
        (
            cpu(name) / cpu("direct host"),
            first(name) - first("direct host"),
        )
    };
    let (cpu_ratio, first_extra) = ratio("gateway");
    say(format!(
        "  gateway / direct: CPU per delta {cpu_ratio:.2}x (goal ≤ 1.3x), first delta {first_extra:+.3} ms (goal ≤ 1 ms)"
    ));
    let mut report = json!({
        "overhead": overhead,
        "gateway_cpu_ratio": cpu_ratio,
        "gateway_first_delta_extra_ms": first_extra,
    });
    for dialect in [Dialect::Responses, Dialect::Messages] {
        let name = format!("gateway ({})", dialect.name());
        let (cpu_ratio, first_extra) = ratio(&name);
        say(format!(
            "  {name} / direct: CPU per delta {cpu_ratio:.2}x, first delta {first_extra:+.3} ms"
        ));
        report[format!("{}_cpu_ratio", dialect.name())] = json!(cpu_ratio);
        report[format!("{}_first_delta_extra_ms", dialect.name())] = json!(first_extra);
    }
    if litellm.is_some() {
        let (cpu_ratio, first_extra) = ratio("litellm proxy");
        say(format!(
            "  litellm / direct: CPU per delta {cpu_ratio:.2}x, first delta {first_extra:+.3} ms"
        ));
        report["litellm_cpu_ratio"] = json!(cpu_ratio);
        report["litellm_first_delta_extra_ms"] = json!(first_extra);
    }

    if args.streams > 0 {
        say(format!(
            "load: {} concurrent streams of {} deltas, one every {} ms",
            args.streams, args.stream_deltas, args.event_delay_ms
        ));
        let load = runtime.block_on(load_run(&client, &gateway.url, args, gateway.pid()));
        say(format!(
            "  {} of {} streams complete, {} of {} deltas delivered, {} failed · peak {} streams open at once · {:.1} s",
            load["complete"], args.streams, load["deltas"], load["expected_deltas"],
            load["failed"], load["peak_open"], load["seconds"].as_f64().unwrap_or(0.0)
        ));
        say(format!(
            "  gateway: peak RSS {:.1} MiB, at most {} threads, CPU {:.2} s",
            load["gateway_peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
            load["gateway_max_threads"],
            load["gateway_cpu_seconds"].as_f64().unwrap_or(0.0)
        ));
        if let Some(error) = load["first_error"].as_str() {
            say(format!("  first failure: {error}"));
        }
        report["load"] = load;
    }
    Ok(report)
}

/// The direct host: the plugin in this process, its events read as an async stream (as the
/// gateway reads them).
async fn direct_run(
    provider: &host_sdk::Provider,
    request: &host_sdk::ConverseRequest,
) -> Result<Run, String> {
    let pid = std::process::id();
    let cpu = cpu_ns(pid);
    let started = Instant::now();
    let mut events = provider
        .converse_stream(request)
        .map_err(|e| e.to_string())?;
    let (mut deltas, mut bytes, mut first) = (0, 0, None);
    while let Some(event) = events.next().await {
        match event {
            host_sdk::Event::TextDelta { text, .. } => {
                first.get_or_insert_with(|| started.elapsed());
                deltas += 1;
                bytes += text.len() as u64;
            }
            host_sdk::Event::Completed(_) => break,
            host_sdk::Event::Failed(e) => return Err(format!("direct: {}", e.error)),
            _ => {}
        }
    }
    Ok(Run {
        deltas,
        bytes,
        first_delta: first.unwrap_or_default(),
        total: started.elapsed(),
        cpu: Duration::from_nanos(cpu_ns(pid).saturating_sub(cpu)),
    })
}

/// What one SSE answer held.
#[derive(Default)]
struct SseCount {
    deltas: u64,
    bytes: u64,
    first: Option<Duration>,
    done: bool,
    error: Option<String>,
}

/// Reads an SSE answer in `dialect` to its end, counting the text deltas.
async fn read_sse(
    client: &Client<HttpConnector, Full<Bytes>>,
    base: &str,
    dialect: Dialect,
    body: Bytes,
    started: Instant,
    on_first: impl FnOnce(),
) -> Result<SseCount, String> {
    let request = hyper::Request::post(format!("{base}/{}", dialect.path()))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {CLIENT_KEY}"))
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("{e:?}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&text)));
    }
    let mut body = response.into_body();
    let mut count = SseCount::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut on_first = Some(on_first);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|b| *b == b'\n') {
            let line = &pending[start..start + end];
            start += end + 1;
            let Some(payload) = line.strip_prefix(b"data: ") else {
                continue;
            };
            if payload == b"[DONE]" {
                count.done = true;
                continue;
            }
            let chunk: Value = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
            if let Some(error) = dialect.error(&chunk) {
                count.error = Some(error);
            }
            count.done |= dialect.ends(&chunk);
            if let Some(text) = dialect.text_delta(&chunk) {
                if !text.is_empty() {
                    if count.first.is_none() {
                        count.first = Some(started.elapsed());
                        if let Some(f) = on_first.take() {
                            f();
                        }
                    }
                    count.deltas += 1;
                    count.bytes += text.len() as u64;
                }
            }
        }
        pending.drain(..start);
    }
    Ok(count)
}

/// One answer through a server (the gateway in `dialect`, or LiteLLM), the CPU time being
/// that of the server's process `pid`.
async fn sse_run(
    client: &Client<HttpConnector, Full<Bytes>>,
    base: &str,
    dialect: Dialect,
    body: &Bytes,
    pid: u32,
) -> Result<Run, String> {
    let cpu = cpu_ns(pid);
    let started = Instant::now();
    let count = read_sse(client, base, dialect, body.clone(), started, || ()).await?;
    if let Some(error) = count.error {
        return Err(format!("{base}: {error}"));
    }
    Ok(Run {
        deltas: count.deltas,
        bytes: count.bytes,
        first_delta: count.first.unwrap_or_default(),
        total: started.elapsed(),
        cpu: Duration::from_nanos(cpu_ns(pid).saturating_sub(cpu)),
    })
}

/// `--streams` concurrent streams through the gateway, with the gateway's memory and threads
/// sampled while they run.
async fn load_run(
    client: &Client<HttpConnector, Full<Bytes>>,
    base: &str,
    args: &Args,
    pid: u32,
) -> Value {
    let scenario = json!({
        "text": "ab".repeat(args.stream_deltas), "deltaSize": 2, "eventDelayMs": args.event_delay_ms,
    });
    let body = Bytes::from(
        Dialect::Chat
            .body(
                &format!("amazon-bedrock/{MODEL}"),
                &format!("EMULATOR_SCENARIO {scenario}"),
                true,
            )
            .to_string(),
    );
    let open = Arc::new(AtomicUsize::new(0));
    let peak_open = Arc::new(AtomicUsize::new(0));
    let max_threads = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (max_threads, sampling) = (max_threads.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Some(threads) = status_field(pid, "Threads:") {
                    max_threads.fetch_max(threads, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let cpu = cpu_ns(pid);
    let started = Instant::now();
    let streams: Vec<_> = (0..args.streams)
        .map(|_| {
            let (client, base, body) = (client.clone(), base.to_string(), body.clone());
            let (open, peak_open) = (open.clone(), peak_open.clone());
            tokio::spawn(async move {
                let counted = read_sse(&client, &base, Dialect::Chat, body, Instant::now(), || {
                    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                    peak_open.fetch_max(now, Ordering::SeqCst);
                })
                .await;
                if matches!(&counted, Ok(c) if c.first.is_some()) {
                    open.fetch_sub(1, Ordering::SeqCst);
                }
                counted
            })
        })
        .collect();
    let results = futures::future::join_all(streams).await;
    let seconds = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let (mut complete, mut deltas, mut failed, mut first_error) = (0u64, 0u64, 0u64, None);
    for result in results {
        match result.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(count) if count.done && count.error.is_none() => {
                complete += 1;
                deltas += count.deltas;
            }
            Ok(count) => {
                failed += 1;
                deltas += count.deltas;
                first_error.get_or_insert(count.error.unwrap_or_else(|| "no [DONE]".into()));
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    json!({
        "streams": args.streams,
        "complete": complete,
        "failed": failed,
        "deltas": deltas,
        "expected_deltas": (args.streams * args.stream_deltas) as u64,
        "peak_open": peak_open.load(Ordering::SeqCst),
        "seconds": seconds,
        "gateway_peak_rss_kib": status_field(pid, "VmHWM:"),
        "gateway_max_threads": max_threads.load(Ordering::Relaxed),
        "gateway_cpu_seconds": cpu_ns(pid).saturating_sub(cpu) as f64 / 1e9,
        "first_error": first_error,
    })
}

/// LiteLLM's proxy in front of the same emulator, as its documentation configures Bedrock
/// (`aws_bedrock_runtime_endpoint` names the endpoint).
fn start_litellm(executable: &Path, emulator: &str) -> Result<Server, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let config =
        std::env::temp_dir().join(format!("gateway-bench-litellm-{}.yaml", std::process::id()));
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: bedrock-nova-micro\n    litellm_params:\n      model: bedrock/converse/{MODEL}\n      aws_bedrock_runtime_endpoint: {emulator}\n      aws_region_name: {REGION}\n      aws_access_key_id: {ACCESS_KEY_ID}\n      aws_secret_access_key: {SECRET_ACCESS_KEY}\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut child = Command::new(executable)
        .args(["--config"])
        .arg(&config)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--num_workers",
            "1",
        ])
        .env("LITELLM_LOG", "ERROR")
        .env("LITELLM_MASTER_KEY", CLIENT_KEY)
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("DISABLE_SCHEMA_UPDATE", "True")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", executable.display()))?;
    // LiteLLM prints no URL: wait until it answers.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("LiteLLM exited at start ({status})"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("LiteLLM did not listen within 120 s".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(Server::adopt(child, format!("http://127.0.0.1:{port}/v1")))
}
