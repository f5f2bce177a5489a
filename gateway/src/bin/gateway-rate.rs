//! `gateway-rate`: the latency the gateway adds to each request at a fixed request rate, the
//! way published gateway comparisons measure it (issue #25, item 1). A benchmark program, not
//! a test: it prints what it measured.
//!
//! The emulator (`--fast`, the mock provider) and the gateway run as child processes from the
//! same build. At each rate, short chat requests go out open-loop (each at its scheduled
//! time, whatever the answers before it did) to the gateway and, interleaved, the same request
//! straight to the emulator (Converse or ConverseStream, signed with the plugin's identity) as
//! the baseline, in each of the gateway's dialects (Chat Completions, Responses, Messages;
//! `--dialects embeddings`: a one-text embeddings request against InvokeModel straight to the
//! emulator). Latency counts
//! from the scheduled send time, so a stalled server cannot hide its delay behind a client
//! that waits for it. Reported per rate: p50/p90/p99 of each path and the difference (what the
//! gateway adds), errors, the gateway's CPU per request, how often its threads were put on a
//! CPU per request (each a wake-up: the hand-offs between threads) and its memory; and the highest rate
//! whose added p99 stayed under 1 ms without errors. With `--floor`, the direct request also
//! goes through a bare HTTP proxy (support/pass_through.rs): what one more hop adds on the
//! machine at hand, the floor under any gateway's added latency, in the same run. With
//! `--no-baseline`, only the gateway's path is sent: its capacity, without the machine also
//! serving the baseline.
//!
//! ```sh
//! cargo build --release -p bedrock-plugin -p gateway -p emulator
//! target/release/gateway-rate                  # --rates 250,500,1000,2000 --seconds 5
//! ```

// This program times the answers without reading them, so the readers go unused here.
#[allow(dead_code)]
#[path = "support/dialects.rs"]
mod dialects;
#[path = "support/open_loop.rs"]
mod open_loop;
#[path = "support/otlp_sink.rs"]
mod otlp_sink;
#[path = "support/pass_through.rs"]
mod pass_through;
#[path = "support/processes.rs"]
mod processes;

use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use dialects::Dialect;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use open_loop::{open_loop, Credential, HttpClient, Outcome, Target};
use processes::{cpu_ns, start_gateway, start_stack, status_field, thread_runs, Server, MODEL};
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(
    name = "gateway-rate",
    about = "The latency the gateway adds at fixed request rates."
)]
struct Args {
    /// Request rates to try, per second (each path gets this rate).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "250,500,1000,2000,3000,4000"
    )]
    rates: Vec<u32>,
    /// Seconds at each rate.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Which requests: whole answers, streamed answers, or both.
    #[arg(long, value_parser = ["whole", "stream", "both"], default_value = "both")]
    kind: String,
    /// The gateway's dialects to send the requests in.
    #[arg(long, value_delimiter = ',', default_value = "chat,responses,messages")]
    dialects: Vec<Dialect>,
    /// Also send every request through a second gateway with a team's operations on: a key
    /// with rate limits and a budget counted in Redis (a `redis-server` this program starts),
    /// and traces sent to an OTLP collector (a sink this program runs). Reports what they
    /// add over the plain gateway.
    #[arg(long)]
    operations: bool,
    /// Also send the direct request through a bare HTTP proxy (one thread, forwarding bytes
    /// it never reads): what one more HTTP hop adds on this machine, the floor under any
    /// gateway's added latency. Reports it and the gateway's latency over it.
    #[arg(long)]
    floor: bool,
    /// Send requests through the gateway only, without the baseline straight to the emulator:
    /// the gateway's capacity, on a machine that then serves only its requests. No added
    /// latency is reported (there is nothing to subtract).
    #[arg(long, conflicts_with = "floor")]
    no_baseline: bool,
    /// Run as that proxy, forwarding to this URL (what `--floor` starts).
    #[arg(long, hide = true, value_name = "URL")]
    serve_pass_through: Option<String>,
    /// Print the results as one JSON document.
    #[arg(long)]
    json: bool,
    /// An argument for the gateways this program starts, such as
    /// `--gateway-arg=--worker-threads=2`; repeatable.
    #[arg(long = "gateway-arg", value_name = "ARG", allow_hyphen_values = true)]
    gateway_args: Vec<String>,
}

/// The `p`-th percentile of sorted microseconds, in milliseconds.
fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at] as f64 / 1e3
}

/// `{"p50", "p90", "p99"}` of a figure taken at each percentile.
fn at_percentiles(figure: impl Fn(f64) -> f64) -> Value {
    json!({"p50": figure(0.5), "p90": figure(0.9), "p99": figure(0.99)})
}

/// Whether `dialect`'s answers can be streamed (embeddings never are).
fn streams(dialect: Dialect) -> bool {
    dialect != Dialect::Embeddings
}

fn latencies(outcomes: &[Outcome]) -> (Vec<u64>, usize) {
    let mut ok: Vec<u64> = outcomes.iter().flatten().copied().collect();
    ok.sort_unstable();
    let failed = outcomes.len() - ok.len();
    (ok, failed)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Some(upstream) = &args.serve_pass_through {
        return processes::finish(
            "gateway-rate",
            false,
            pass_through::serve(upstream).map(|()| Value::Null),
        );
    }
    processes::finish("gateway-rate", args.json, run(&args))
}

fn run(args: &Args) -> Result<Value, String> {
    if args.rates.is_empty() || args.rates.contains(&0) || args.seconds == 0 {
        return Err("--rates must be positive and --seconds at least 1".into());
    }
    let stack = start_stack(&args.gateway_args)?;
    let (emulator, gateway) = (&stack.emulator, &stack.gateway);
    // With --operations: Redis, a collector, and a gateway with a counted key using both.
    let operated = if args.operations {
        let redis = start_redis()?;
        let collector = otlp_sink::start(None)?;
        let section = format!(
            r#"keys: [{{ key: "sk-bench", name: "bench",
                limits: {{ requestsPerMinute: 1000000000, tokensPerMinute: 1000000000000 }},
                budget: {{ usd: 1000000000, period: "month" }} }}],
               store: "redis://127.0.0.1:{}", telemetry: {{ otlpEndpoint: "{collector}" }},"#,
            redis.1
        );
        Some((
            start_gateway(emulator, &stack.plugin_path, &section, &args.gateway_args)?,
            redis.0,
        ))
    } else {
        None
    };
    let floor = if args.floor {
        let mut proxy =
            std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
        proxy.arg("--serve-pass-through").arg(&emulator.url);
        Some(Server::start(proxy, "the pass-through proxy")?)
    } else {
        None
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(4096)
        .build_http();
    let kinds: &[bool] = match args.kind.as_str() {
        "whole" => &[false],
        "stream" => &[true],
        _ => &[false, true],
    };
    let mut rows = Vec::new();
    let mut held: Vec<(Dialect, bool, u32)> = Vec::new();
    let runs = args.dialects.iter().flat_map(|&dialect| {
        kinds
            .iter()
            .filter(move |&&stream| !stream || streams(dialect))
            .map(move |&stream| (dialect, stream))
    });
    for (dialect, stream) in runs {
        let through_gateway = Target {
            url: format!("{}/{}", gateway.url, dialect.path())
                .parse()
                .map_err(|e| format!("{e}"))?,
            credential: Credential::Bearer("none".into()),
            body: Bytes::from(
                dialect
                    .body(&format!("amazon-bedrock/{MODEL}"), "Hello", stream)
                    .to_string(),
            ),
        };
        // The same request straight to Bedrock: Converse(Stream), or InvokeModel for
        // embeddings.
        let direct = if dialect == Dialect::Embeddings {
            Target::signed(
                format!("{}/model/{}/invoke", emulator.url, Dialect::EMBEDDING_MODEL)
                    .parse()
                    .map_err(|e| format!("{e}"))?,
                Bytes::from(json!({"inputText": "Hello"}).to_string()),
            )?
        } else {
            Target::signed(
                format!(
                    "{}/model/{MODEL}/{}",
                    emulator.url,
                    if stream {
                        "converse-stream"
                    } else {
                        "converse"
                    }
                )
                .parse()
                .map_err(|e| format!("{e}"))?,
                Bytes::from(
                    json!({"messages": [{"role": "user", "content": [{"text": "Hello"}]}]})
                        .to_string(),
                ),
            )?
        };
        let mut targets = vec![through_gateway.clone()];
        let direct_at = (!args.no_baseline).then_some(targets.len());
        if direct_at.is_some() {
            targets.push(direct.clone());
        }
        let operated_at = operated.as_ref().map(|_| targets.len());
        if let Some((operated, _)) = &operated {
            targets.push(Target {
                url: format!("{}/{}", operated.url, dialect.path())
                    .parse()
                    .map_err(|e| format!("{e}"))?,
                credential: Credential::Bearer("sk-bench".into()),
                body: through_gateway.body.clone(),
            });
        }
        let floor_at = floor.as_ref().map(|_| targets.len());
        if let Some(proxy) = &floor {
            let path = direct.url.path_and_query().map_or("/", |p| p.as_str());
            targets.push(Target {
                url: format!("{}{path}", proxy.url)
                    .parse()
                    .map_err(|e| format!("{e}"))?,
                ..direct.clone()
            });
        }
        // Warm every path (connections, the plugin's clients).
        runtime.block_on(open_loop(&client, targets.clone(), 100, 1));
        for &rate in &args.rates {
            for target in &mut targets {
                target.sign_again()?;
            }
            let cpu_before = cpu_ns(gateway.pid());
            let floor_cpu_before = floor.as_ref().map_or(0, |proxy| cpu_ns(proxy.pid()));
            let runs_before = thread_runs(gateway.pid());
            let outcomes =
                runtime.block_on(open_loop(&client, targets.clone(), rate, args.seconds));
            let cpu = cpu_ns(gateway.pid()).saturating_sub(cpu_before);
            let floor_cpu = floor.as_ref().map_or(0, |proxy| {
                cpu_ns(proxy.pid()).saturating_sub(floor_cpu_before)
            });
            let thread_runs = thread_runs(gateway.pid()).saturating_sub(runs_before);
            let (g, g_failed) = latencies(&outcomes[0]);
            let (d, d_failed) = direct_at.map_or((Vec::new(), 0), |at| latencies(&outcomes[at]));
            let via_gateway = &outcomes[0];
            let added = |p: f64| percentile(&g, p) - percentile(&d, p);
            let operations = operated_at.map(|at| &outcomes[at]).map(|o| {
                let (ops, failed) = latencies(o);
                let extra = |p: f64| percentile(&ops, p) - percentile(&g, p);
                json!({"added_over_gateway_ms": at_percentiles(extra), "errors": failed})
            });
            let floor = floor_at.map(|at| &outcomes[at]).map(|o| {
                let (hop, failed) = latencies(o);
                let over_direct = |p: f64| percentile(&hop, p) - percentile(&d, p);
                let gateway_over = |p: f64| percentile(&g, p) - percentile(&hop, p);
                json!({
                    "added_ms": at_percentiles(over_direct),
                    "gateway_over_floor_ms": at_percentiles(gateway_over),
                    "errors": failed,
                    "cpu_us_per_request": floor_cpu as f64 / 1e3 / o.len().max(1) as f64,
                })
            });
            let row = json!({
                "dialect": dialect.name(),
                "kind": if stream { "stream" } else { "whole" },
                "rate": rate,
                "gateway_ms": at_percentiles(|p| percentile(&g, p)),
                "direct_ms": at_percentiles(|p| percentile(&d, p)),
                "added_ms": at_percentiles(added),
                "gateway_errors": g_failed,
                "direct_errors": d_failed,
                "gateway_cpu_us_per_request": cpu as f64 / 1e3 / via_gateway.len().max(1) as f64,
                "gateway_thread_runs_per_request": thread_runs as f64 / via_gateway.len().max(1) as f64,
                "gateway_rss_kib": status_field(gateway.pid(), "VmRSS:"),
                "operations": operations,
                "pass_through": floor,
            });
            if !args.json {
                // Without a baseline, the gateway's own latency in place of what it adds.
                let (label, shown) = if direct_at.is_some() {
                    ("added", [added(0.5), added(0.9), added(0.99)])
                } else {
                    ("gateway", [0.5, 0.9, 0.99].map(|p| percentile(&g, p)))
                };
                // Each path's own p99 and errors (gateway/direct), or the gateway's errors.
                let paths = if direct_at.is_some() {
                    format!(
                        "(gateway p99 {:>8.3}, direct {:>8.3})  errors {g_failed}/{d_failed}",
                        percentile(&g, 0.99),
                        percentile(&d, 0.99),
                    )
                } else {
                    format!("errors {g_failed}")
                };
                println!(
                    "{:>9} {:>6} {:>5}/s  {label} p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms  {paths}  cpu {:>6.0} us/req  thread runs {:>4.1}/req  rss {} KiB",
                    dialect.name(),
                    row["kind"].as_str().unwrap_or(""),
                    rate,
                    shown[0],
                    shown[1],
                    shown[2],
                    row["gateway_cpu_us_per_request"].as_f64().unwrap_or(0.0),
                    row["gateway_thread_runs_per_request"].as_f64().unwrap_or(0.0),
                    row["gateway_rss_kib"],
                );
            }
            if let Some(ops) = &row["operations"].as_object() {
                if !args.json {
                    println!(
                        "          operations on (limits, budget, Redis, traces): p50 {:+.3} ms, p99 {:+.3} ms over the plain gateway, errors {}",
                        ops["added_over_gateway_ms"]["p50"].as_f64().unwrap_or(f64::NAN),
                        ops["added_over_gateway_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
                        ops["errors"],
                    );
                }
            }
            if let (Some(hop), false) = (row["pass_through"].as_object(), args.json) {
                let ms = |section: &str, p: &str| hop[section][p].as_f64().unwrap_or(f64::NAN);
                println!(
                    "          a bare HTTP hop adds p50 {:.3} ms, p99 {:.3} ms (errors {}, cpu {:.0} us/req); the gateway adds over it p50 {:+.3} ms, p99 {:+.3} ms",
                    ms("added_ms", "p50"),
                    ms("added_ms", "p99"),
                    hop["errors"],
                    hop["cpu_us_per_request"].as_f64().unwrap_or(f64::NAN),
                    ms("gateway_over_floor_ms", "p50"),
                    ms("gateway_over_floor_ms", "p99"),
                );
            }
            if g_failed == 0 && d_failed == 0 && (args.no_baseline || added(0.99) < 1.0) {
                held.push((dialect, stream, rate));
            }
            rows.push(row);
        }
    }
    let highest = |dialect: Dialect, stream: bool| {
        held.iter()
            .filter(|(d, s, _)| *d == dialect && *s == stream)
            .map(|(_, _, r)| *r)
            .max()
    };
    // Without a baseline, a rate is held when no request failed.
    let (held_key, held_said) = if args.no_baseline {
        ("highest_rate_without_errors", "without errors")
    } else {
        (
            "highest_rate_with_p99_added_under_1ms",
            "with p99 added under 1 ms and no errors",
        )
    };
    let mut held_rates = serde_json::Map::new();
    for &dialect in &args.dialects {
        held_rates.insert(
            dialect.name().into(),
            json!({"whole": highest(dialect, false), "stream": highest(dialect, true)}),
        );
        if !args.json {
            let said: Vec<String> = kinds
                .iter()
                .filter(|&&stream| !stream || streams(dialect))
                .map(|&stream| {
                    format!(
                        "{} {}",
                        if stream { "streamed" } else { "whole" },
                        highest(dialect, stream).map_or("none".into(), |r| format!("{r}/s"))
                    )
                })
                .collect();
            println!(
                "{}: highest rate {held_said}: {}",
                dialect.name(),
                said.join(", ")
            );
        }
    }
    let mut report = json!({
        "rates": rows,
        "gateway_peak_rss_kib": status_field(gateway.pid(), "VmHWM:"),
        "gateway_threads": status_field(gateway.pid(), "Threads:"),
    });
    report[held_key] = Value::Object(held_rates);
    if !args.json {
        println!(
            "gateway peak RSS {} KiB, {} threads",
            report["gateway_peak_rss_kib"], report["gateway_threads"]
        );
    }
    Ok(report)
}

/// A `redis-server` on a free port (from the PATH: scripts/redis-env installs it), and the
/// port.
fn start_redis() -> Result<(Server, u16), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start redis-server (scripts/redis-env installs it): {e}"))?;
    let server = Server::adopt(child, format!("redis://127.0.0.1:{port}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            return Err("redis-server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((server, port))
}
