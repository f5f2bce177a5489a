//! `bench`: the cost of the plugin boundary on a stream. The same scripted N-delta response from the
//! embedded emulator is streamed (a) through the loaded plugin and (b) through
//! `aws-sdk-bedrockruntime` called directly in this process, alternating a→b so that drift
//! (CPU frequency, the emulator's caches) hits both paths alike. Every path is timed on the
//! calling thread's clock, from the call to the answer in hand, so the hand-offs to a
//! runtime and back count for the SDK in a task as they do for the plugin.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ConversationRole, ConverseStreamOutput, Message,
};
use host_sdk::{ConverseRequest, SinkFlow, StreamEvent};

use super::measure::{cpu_time, direct_client, median, millis, peak_memory, sorted};
use crate::cli::{BenchArgs, GlobalOpts};
use crate::error::{CliError, CliResult};
use crate::render::Style;
use crate::session::Session;

/// What one streamed response looked like from the receiving side.
#[derive(Debug, Clone, Copy)]
struct Run {
    deltas: u64,
    bytes: u64,
    first_event: Duration,
    total: Duration,
    /// CPU time of the whole process (all threads, the emulator's too) during the run: less
    /// noisy than wall time on a busy machine, and what the boundary really costs.
    cpu: Duration,
}

impl Run {
    fn with_cpu(self, cpu: Duration) -> Self {
        Self { cpu, ..self }
    }

    fn ended_at(self, total: Duration) -> Self {
        Self { total, ..self }
    }

    fn cpu_per_1k_deltas(&self) -> f64 {
        self.cpu.as_secs_f64() * 1000.0 / self.deltas.max(1) as f64
    }

    fn deltas_per_sec(&self) -> f64 {
        self.deltas as f64 / self.total.as_secs_f64()
    }

    /// The rate once events flow: leaves out the time the emulator takes to produce the
    /// response, which both paths wait for alike, so the receiving side's cost shows.
    fn streaming_deltas_per_sec(&self) -> f64 {
        let streaming = self.total.saturating_sub(self.first_event);
        self.deltas as f64 / streaming.as_secs_f64().max(1e-9)
    }
}

/// The three paths, in the order of their `runs` slots.
const PATHS: [&str; 3] = ["plugin", "direct (task)", "direct (block_on)"];

/// What every run streams: the model, the prompt that scripts the answer, and its size.
struct Workload {
    model: String,
    prompt: String,
    expected: Expected,
}

pub(super) fn run(global: &GlobalOpts, args: &BenchArgs) -> CliResult {
    if args.deltas == 0 || args.delta_size == 0 || args.runs == 0 {
        return Err(CliError::new(
            "--deltas, --delta-size and --runs must all be at least 1",
        ));
    }
    // Fast delivery: the emulator must not be what is measured.
    let session = Session::open(global, Some(crate::embedded::Pace::Fast))?;
    let workload = workload(&session, args)?;
    if !args.json {
        let style = Style::stdout();
        println!(
            "{}",
            style.bold(&format!(
                "bench: {} deltas × {} chars ({} chars) per response, model {}, {} runs per \
                 path after 1 warm-up",
                args.deltas, args.delta_size, workload.expected.bytes, workload.model, args.runs
            ))
        );
        println!(
            "plugin load: {} · provider init: {}",
            millis(session.load_time),
            millis(session.init_time)
        );
    }
    let [plugin_runs, direct_runs, caller_runs] = rounds(&session, &workload, args.runs)?;
    let plugin = Summary::of(&plugin_runs);
    let direct = Summary::of(&direct_runs);
    let caller = Summary::of(&caller_runs);
    let pairs = sorted(
        plugin_runs
            .iter()
            .zip(&direct_runs)
            .map(|(p, d)| p.deltas_per_sec() / d.deltas_per_sec())
            .collect(),
    );
    let summaries = [&plugin, &direct, &caller];
    if args.json {
        print_json(&session, &workload, args, summaries, &pairs);
        Ok(())
    } else {
        print_table(summaries, &pairs)
    }
}

fn workload(session: &Session, args: &BenchArgs) -> CliResult<Workload> {
    let model = match &args.model {
        Some(m) => crate::config_file::model_id_for(m, &session.provider_id(), "--model")?,
        None => session
            .list_models()?
            .first()
            .map(|m| m.id.to_string())
            .ok_or_else(|| CliError::new("the provider lists no models: pass --model ID"))?,
    };
    let text_length = args.deltas * args.delta_size;
    let prompt = format!(
        "EMULATOR_SCENARIO {}",
        serde_json::json!({ "textLength": text_length, "deltaSize": args.delta_size })
    );
    Ok(Workload {
        model,
        prompt,
        expected: Expected {
            deltas: args.deltas as u64,
            bytes: text_length as u64,
        },
    })
}

/// One warm-up round, then `runs` rounds of every path. The order rotates every round so
/// that none always inherits the others' leftovers (allocator state, CPU frequency, the other
/// core's scheduling): the plugin; the SDK in a task on a multi-thread runtime, which is how
/// an async host (and the plugin) runs it, so the comparison isolates the boundary; and the
/// SDK polled on the calling thread with `block_on`, which saves a cross-thread wake-up per
/// network read and is shown for reference.
fn rounds(session: &Session, workload: &Workload, runs: usize) -> CliResult<[Vec<Run>; 3]> {
    let emulator = session
        .emulator
        .as_ref()
        .expect("Session::open(.., Some(_)) starts the emulator");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start a tokio runtime: {e}")))?;
    let client = direct_client(emulator);
    let request = ConverseRequest::user_text(&workload.model, &workload.prompt);
    let (model, prompt) = (&workload.model, &workload.prompt);
    let mut measured: [Vec<Run>; 3] = Default::default();
    for round in 0..=runs {
        for k in 0..PATHS.len() {
            let path = (round + k) % PATHS.len();
            let cpu = cpu_time();
            let run = match path {
                0 => through_plugin(session, &request)?,
                1 => {
                    let (c, m, p) = (client.clone(), model.clone(), prompt.clone());
                    let started = Instant::now();
                    let run = runtime
                        .block_on(runtime.spawn(async move { direct(&c, &m, &p, started).await }))
                        .map_err(|e| CliError::new(format!("the direct SDK task failed: {e}")))??;
                    // The task's answer reaches this thread as the plugin's does: both
                    // clocks stop here, where the caller has it.
                    run.ended_at(started.elapsed())
                }
                _ => runtime.block_on(direct(&client, model, prompt, Instant::now()))?,
            };
            let run = workload
                .expected
                .check(PATHS[path], run)?
                .with_cpu(cpu_time().saturating_sub(cpu));
            tracing::info!(round, path = PATHS[path], ?run, peak = ?peak_memory(), "bench run");
            // Round 0 is the warm-up: connections, HTTP/1 pools and allocator arenas.
            if round > 0 {
                measured[path].push(run);
            }
        }
    }
    Ok(measured)
}

fn print_json(
    session: &Session,
    workload: &Workload,
    args: &BenchArgs,
    [plugin, direct, caller]: [&Summary; 3],
    pairs: &[f64],
) {
    let document = serde_json::json!({
        "model": workload.model,
        "deltas": args.deltas,
        "deltaSize": args.delta_size,
        "runs": args.runs,
        "debugBuild": cfg!(debug_assertions),
        "pluginLoadMs": session.load_time.as_secs_f64() * 1e3,
        "providerInitMs": session.init_time.as_secs_f64() * 1e3,
        "paths": {
            "plugin": plugin.json(),
            "directTask": direct.json(),
            "directBlockOn": caller.json(),
        },
        "goal": {
            "figure": "median of the same-round plugin / direct SDK task deltas/s ratios",
            "value": median(pairs),
            "atLeast": GOAL,
            "met": median(pairs) >= GOAL,
        },
        "cpuPerDeltaDirectTaskOverPlugin": direct.cpu_per_1k_median / plugin.cpu_per_1k_median,
        "peakMemory": peak_memory(),
    });
    println!("{document:#}");
}

/// The plugin's throughput is to be at least this share of the direct SDK task's.
const GOAL: f64 = 0.95;

fn print_table([plugin, direct, caller]: [&Summary; 3], pairs: &[f64]) -> CliResult {
    let rows = vec![
        vec![
            "path".to_string(),
            "deltas/s best / median".into(),
            "streaming deltas/s best / median".into(),
            "first event best / median".into(),
            "CPU ms per 1k deltas".into(),
        ],
        plugin.row("plugin (host-sdk)"),
        direct.row("direct SDK, task"),
        caller.row("direct SDK, block_on"),
    ];
    crate::render::table(&mut std::io::stdout().lock(), Style::stdout(), &rows)?;
    println!(
        "ratio plugin / direct SDK task, deltas/s: median {:.3}, best {:.3}",
        plugin.median / direct.median,
        plugin.best / direct.best,
    );
    // The goal is judged on one figure, named with it, so the line cannot read as a
    // contradiction next to the other medians.
    let verdict = if median(pairs) >= GOAL {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "goal: the median of the {} same-round ratios is {:.3}, at least {GOAL}: {verdict}",
        pairs.len(),
        median(pairs),
    );
    println!(
        "CPU per delta, direct SDK task / plugin: {:.3}; direct SDK block_on / plugin: {:.3}",
        direct.cpu_per_1k_median / plugin.cpu_per_1k_median,
        caller.cpu_per_1k_median / plugin.cpu_per_1k_median
    );
    println!(
        "ratio plugin / direct SDK task, streaming deltas/s (after the first event): median {:.3}",
        plugin.streaming_median / direct.streaming_median
    );
    match peak_memory() {
        Some(peak) => println!("peak memory (VmHWM, whole process incl. emulator): {peak}"),
        None => println!("peak memory: not available on this platform"),
    }
    Ok(())
}

struct Expected {
    deltas: u64,
    bytes: u64,
}

impl Expected {
    fn check(&self, path: &str, run: Run) -> CliResult<Run> {
        if run.deltas != self.deltas || run.bytes != self.bytes {
            return Err(CliError::new(format!(
                "the {path} path received {} deltas and {} bytes of text, expected {} and {}",
                run.deltas, run.bytes, self.deltas, self.bytes
            )));
        }
        Ok(run)
    }
}

#[derive(Default)]
struct Counters {
    deltas: AtomicU64,
    bytes: AtomicU64,
    first_event: OnceLock<Instant>,
}

fn through_plugin(session: &Session, request: &ConverseRequest) -> CliResult<Run> {
    let counters = Arc::new(Counters::default());
    let sink = counters.clone();
    let started = Instant::now();
    let completion = session
        .provider
        .converse(request, move |event| {
            sink.first_event.get_or_init(Instant::now);
            if let StreamEvent::TextDelta { text, .. } = event {
                sink.deltas.fetch_add(1, Relaxed);
                sink.bytes.fetch_add(text.len() as u64, Relaxed);
            }
            SinkFlow::Continue
        })
        .map_err(|e| CliError::stream("the plugin path failed", &e, true))?;
    let total = started.elapsed();
    let bytes = counters.bytes.load(Relaxed);
    let assembled = completion.message.text().len() as u64;
    if assembled != bytes {
        return Err(CliError::new(format!(
            "the plugin's completed message holds {assembled} bytes of text, but its deltas \
             carried {bytes}"
        )));
    }
    Ok(Run {
        deltas: counters.deltas.load(Relaxed),
        bytes,
        first_event: counters
            .first_event
            .get()
            .map_or(total, |t| t.duration_since(started)),
        total,
        cpu: Duration::ZERO,
    })
}

/// One stream through the SDK, timed from `started`: when the caller asked for it, before
/// any hand-off to the runtime, as the plugin path is timed.
async fn direct(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    prompt: &str,
    started: Instant,
) -> CliResult<Run> {
    let fail =
        |e: &dyn std::fmt::Display| CliError::new(format!("the direct SDK path failed: {e}"));
    let message = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(prompt.to_string()))
        .build()
        .map_err(|e| fail(&e))?;
    let mut output = client
        .converse_stream()
        .model_id(model)
        .messages(message)
        .send()
        .await
        .map_err(|e| fail(&aws_sdk_bedrockruntime::error::DisplayErrorContext(e)))?;
    let mut first_event = None;
    let (mut deltas, mut bytes) = (0u64, 0u64);
    while let Some(event) = output
        .stream
        .recv()
        .await
        .map_err(|e| fail(&aws_sdk_bedrockruntime::error::DisplayErrorContext(e)))?
    {
        first_event.get_or_insert_with(Instant::now);
        if let ConverseStreamOutput::ContentBlockDelta(d) = event {
            if let Some(ContentBlockDelta::Text(text)) = d.delta {
                deltas += 1;
                bytes += text.len() as u64;
            }
        }
    }
    let total = started.elapsed();
    Ok(Run {
        deltas,
        bytes,
        first_event: first_event.map_or(total, |t| t.duration_since(started)),
        total,
        cpu: Duration::ZERO,
    })
}

struct Summary {
    best: f64,
    median: f64,
    streaming_best: f64,
    streaming_median: f64,
    first_best: Duration,
    first_median: Duration,
    cpu_per_1k_median: f64,
}

impl Summary {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "deltasPerSecBest": self.best,
            "deltasPerSecMedian": self.median,
            "streamingDeltasPerSecMedian": self.streaming_median,
            "firstEventMsMedian": self.first_median.as_secs_f64() * 1e3,
            "cpuMsPer1kDeltasMedian": self.cpu_per_1k_median,
        })
    }

    fn of(runs: &[Run]) -> Self {
        let rates = sorted(runs.iter().map(Run::deltas_per_sec).collect());
        let streaming = sorted(runs.iter().map(Run::streaming_deltas_per_sec).collect());
        let mut firsts: Vec<Duration> = runs.iter().map(|r| r.first_event).collect();
        firsts.sort();
        Self {
            best: *rates.last().unwrap_or(&0.0),
            median: median(&rates),
            streaming_best: *streaming.last().unwrap_or(&0.0),
            streaming_median: median(&streaming),
            first_best: firsts.first().copied().unwrap_or_default(),
            first_median: firsts.get(firsts.len() / 2).copied().unwrap_or_default(),
            cpu_per_1k_median: median(&sorted(runs.iter().map(Run::cpu_per_1k_deltas).collect())),
        }
    }

    fn row(&self, name: &str) -> Vec<String> {
        vec![
            name.to_string(),
            format!("{:.0} / {:.0}", self.best, self.median),
            format!("{:.0} / {:.0}", self.streaming_best, self.streaming_median),
            format!(
                "{} / {}",
                millis(self.first_best),
                millis(self.first_median)
            ),
            format!("{:.3}", self.cpu_per_1k_median * 1000.0),
        ]
    }
}
