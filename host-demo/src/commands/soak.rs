//! `soak`: many concurrent streams through one loaded plugin, a chosen share of them hit by
//! a random fault (an exception frame, a cut connection, a stall, a missing messageStop, a
//! throttled first attempt), against the embedded emulator. Every stream's outcome is checked
//! against what its fault must produce, at the contract itself (a raw `EventSink`, so a
//! second `on_end` would be seen):
//!
//! - lost deltas: text the plugin reported (completion or partial) that differs from the
//!   deltas the sink received, or a successful stream missing text;
//! - misreported outcomes: success where a failure was due, or the wrong error kind;
//! - hangs: streams without an end when the deadline passes;
//! - double ends: a second `on_end`, or an event after the end.
//!
//! It also reports peak resident memory and the most threads the process had.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::RResult;
use host_sdk::contract::{EventSink, EventSink_TO, StreamControlBox, StreamEnd};
use host_sdk::{Completion, ContentBlock, ConverseRequest, SinkFlow, StreamEvent};

use crate::cli::{GlobalOpts, SoakArgs};
use crate::error::{CliError, CliResult};
use crate::session::Session;

/// Short timeouts and fast retries, so that stalls and throttles resolve in seconds.
const SOAK_SETTINGS: &str = "timeouts: { connectMs: 10000, firstByteMs: 30000, idleMs: 1500 }, \
                             retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200 },";

/// What a stream's scenario must end in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Due {
    Success,
    Error(&'static str),
}

fn scenario(i: usize, text: &str, rng: &mut fastrand::Rng, fault_share: f64) -> (String, Due) {
    let deltas = text.len().div_ceil(8);
    let after = rng.usize(2..deltas.max(3));
    let (fault, due) = if rng.f64() >= fault_share {
        (None, Due::Success)
    } else {
        match rng.u8(0..5) {
            0 => (
                Some(
                    serde_json::json!({"fault": {"kind": "exception", "afterEvents": after, "exception": "throttlingException"}}),
                ),
                Due::Error("throttled"),
            ),
            1 => (
                Some(serde_json::json!({"fault": {"kind": "cut", "afterEvents": after}})),
                Due::Error("network"),
            ),
            // Stalled far longer than the idle limit: under full load the plugin's check may
            // run a second or two late, and a stall that ended by then is rightly no timeout.
            2 => (
                Some(
                    serde_json::json!({"fault": {"kind": "stall", "afterEvents": after, "ms": 120_000}}),
                ),
                Due::Error("timeout"),
            ),
            3 => (
                Some(serde_json::json!({"fault": {"kind": "noMessageStop"}})),
                Due::Error("incomplete_stream"),
            ),
            // Throttled once with HTTP 429, then answered: the retry must make it a success.
            _ => (Some(serde_json::json!({"throttleFirst": 1})), Due::Success),
        }
    };
    let mut script = serde_json::json!({"text": text, "deltaSize": 8, "latencyMs": i});
    if let Some(serde_json::Value::Object(extra)) = fault {
        script.as_object_mut().unwrap().extend(extra);
    }
    (format!("EMULATOR_SCENARIO {script}"), due)
}

/// One stream as the sink saw it.
#[derive(Default)]
struct Observed {
    text: Mutex<String>,
    ends: AtomicU32,
    after_end: AtomicU32,
    end: Mutex<Option<StreamEnd>>,
}

struct Sink {
    seen: Arc<Observed>,
    finished: Finished,
}

impl EventSink for Sink {
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        if self.seen.ends.load(Ordering::Acquire) > 0 {
            self.seen.after_end.fetch_add(1, Ordering::Relaxed);
        }
        if let StreamEvent::TextDelta { text, .. } = event {
            self.seen.text.lock().unwrap().push_str(text.as_str());
        }
        SinkFlow::Continue
    }

    fn on_end(&mut self, end: StreamEnd) {
        if self.seen.ends.fetch_add(1, Ordering::AcqRel) == 0 {
            *self.seen.end.lock().unwrap() = Some(end);
            let (count, wake) = &*self.finished;
            *count.lock().unwrap() += 1;
            wake.notify_all();
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    lost: usize,
    misreported: usize,
    hangs: usize,
    double_ends: usize,
    succeeded: usize,
    failed: usize,
}

/// One stream started: what its sink saw, the text it was due, and the outcome its fault
/// must produce. The control (none when the plugin refused the stream) is held so the
/// stream is not cancelled.
struct Launched {
    seen: Arc<Observed>,
    text: String,
    due: Due,
    control: Option<StreamControlBox>,
}

/// How many streams have ended, and the condition that wakes whoever waits for one.
type Finished = Arc<(Mutex<usize>, Condvar)>;

pub fn run(global: &GlobalOpts, args: &SoakArgs) -> CliResult {
    if args.streams == 0 || args.concurrency == 0 || !(0.0..=1.0).contains(&args.fault_share) {
        return Err(CliError::new(
            "--streams and --concurrency must be at least 1, --fault-share between 0 and 1",
        ));
    }
    raise_open_file_limit();
    let session = Session::open(global, Some(crate::embedded::Pace::Paced))?;
    let emulator = session.emulator.as_ref().expect("the emulator was started");
    let config = format!(
        "{{ models: {{ providers: {{ \"{}\": {{ baseUrl: \"{}\", {SOAK_SETTINGS} }} }} }} }}",
        session.provider_id(),
        emulator.url
    );
    let provider = session
        .plugin
        .new_provider(&config)
        .map_err(|e| CliError::new(format!("cannot configure the soak provider: {e}")))?;
    let model = session.choose_model(args.model.as_deref())?;
    if !args.json {
        println!(
            "soak: {} streams, {} at a time, {:.0}% with a fault, model {model}, seed {}",
            args.streams,
            args.concurrency,
            args.fault_share * 100.0,
            args.seed
        );
    }

    let mut rng = fastrand::Rng::with_seed(args.seed);
    let finished: Finished = Arc::new((Mutex::new(0usize), Condvar::new()));
    let mut streams: Vec<Launched> = Vec::with_capacity(args.streams);
    let mut peak_threads = threads();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.deadline_secs);
    let mut refused = 0usize;
    for i in 0..args.streams {
        // Keep at most `concurrency` streams running.
        loop {
            let guard = finished.0.lock().unwrap();
            let running = i - refused - *guard;
            if running < args.concurrency || Instant::now() > deadline {
                break;
            }
            let _ = finished.1.wait_timeout(guard, Duration::from_millis(50));
            peak_threads = peak_threads.max(threads());
        }
        let launched = launch(&provider, &model, i, &mut rng, args.fault_share, &finished);
        if launched.control.is_none() {
            refused += 1;
        }
        streams.push(launched);
    }
    // Wait for every stream to end, or the deadline.
    loop {
        let done = *finished.0.lock().unwrap() + refused;
        peak_threads = peak_threads.max(threads());
        if done >= args.streams || Instant::now() > deadline {
            break;
        }
        let guard = finished.0.lock().unwrap();
        let _ = finished.1.wait_timeout(guard, Duration::from_millis(50));
    }
    let elapsed = started.elapsed();
    // A late second end or event would come now.
    std::thread::sleep(Duration::from_millis(300));

    let mut tally = Tally::default();
    for launched in &streams {
        tally.check(launched, !args.json);
    }
    report(args, &model, &tally, elapsed, peak_threads);
    drop(streams);
    if tally.lost + tally.misreported + tally.hangs + tally.double_ends > 0 {
        return Err(CliError::new(
            "the soak found problems (see the counts above)",
        ));
    }
    Ok(())
}

/// Starts stream `i` at the contract, its sink counting into `finished`; a stream the
/// plugin refuses at once ends there, with no control.
fn launch(
    provider: &host_sdk::Provider,
    model: &str,
    i: usize,
    rng: &mut fastrand::Rng,
    fault_share: f64,
    finished: &Finished,
) -> Launched {
    let text = format!(
        "Stream {i} says hello and counts: {}.",
        "ab ".repeat(8 + i % 16)
    );
    let (prompt, due) = scenario(i, &text, rng, fault_share);
    let request = ConverseRequest::user_text(model, &prompt);
    let json = serde_json::to_string(&request).expect("a request serialises");
    let seen = Arc::new(Observed::default());
    let sink = Sink {
        seen: seen.clone(),
        finished: finished.clone(),
    };
    let control = match provider.contract().converse_stream(
        json.as_str().into(),
        EventSink_TO::from_value(sink, TD_Opaque),
    ) {
        RResult::ROk(control) => Some(control),
        RResult::RErr(e) => {
            *seen.end.lock().unwrap() = Some(StreamEnd {
                error: abi_stable::std_types::ROption::RSome(e),
                completion_json: Default::default(),
            });
            None
        }
    };
    Launched {
        seen,
        text,
        due,
        control,
    }
}

impl Tally {
    /// Counts one stream's outcome against what was due; `say` prints the first few
    /// misreported ones.
    fn check(&mut self, launched: &Launched, say: bool) {
        let Launched {
            seen, text, due, ..
        } = launched;
        if seen.ends.load(Ordering::Acquire) > 1 || seen.after_end.load(Ordering::Acquire) > 0 {
            self.double_ends += 1;
        }
        let end = seen.end.lock().unwrap().take();
        let Some(end) = end else {
            self.hangs += 1;
            return;
        };
        let completion: Completion = serde_json::from_str(end.completion_json.as_str())
            .unwrap_or_else(|_| Completion::empty());
        let reported: String = completion
            .message
            .content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let received = seen.text.lock().unwrap().clone();
        let error = end.error.into_option();
        let outcome = match &error {
            None => {
                self.succeeded += 1;
                Due::Success
            }
            Some(e) => {
                self.failed += 1;
                Due::Error(known_code(e.code.as_str()))
            }
        };
        if reported != received || (outcome == Due::Success && &received != text) {
            self.lost += 1;
        }
        if outcome != *due {
            self.misreported += 1;
            if self.misreported <= 5 && say {
                let why = error.map(|e| format!("{}: {}", e.code, e.message));
                println!("misreported: due {due:?}, got {outcome:?} ({why:?})");
            }
        }
    }
}

fn report(args: &SoakArgs, model: &str, tally: &Tally, elapsed: Duration, peak_threads: u64) {
    if args.json {
        let report = serde_json::json!({
            "model": model,
            "streams": args.streams,
            "concurrency": args.concurrency,
            "faultShare": args.fault_share,
            "seed": args.seed,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "seconds": elapsed.as_secs_f64(),
            "lostDeltas": tally.lost,
            "misreported": tally.misreported,
            "hangs": tally.hangs,
            "doubleEnds": tally.double_ends,
            "peakRssKib": peak_rss_kib(),
            "peakThreads": peak_threads,
        });
        println!("{report:#}");
        return;
    }
    println!(
        "ended: {} succeeded, {} failed, in {:.1} s ({:.0} streams/s)",
        tally.succeeded,
        tally.failed,
        elapsed.as_secs_f64(),
        args.streams as f64 / elapsed.as_secs_f64()
    );
    println!(
        "lost deltas / misreported outcomes / hangs / double ends: {}/{}/{}/{}",
        tally.lost, tally.misreported, tally.hangs, tally.double_ends
    );
    println!(
        "peak RSS {} MiB, peak threads {peak_threads}",
        peak_rss_kib() / 1024
    );
}

/// Error codes as `'static` strings, for comparing with what was due.
fn known_code(code: &str) -> &'static str {
    host_sdk::ErrorKind::ALL
        .iter()
        .map(|k| k.code())
        .find(|k| *k == code)
        .map(|k| match k {
            "throttled" => "throttled",
            "network" => "network",
            "timeout" => "timeout",
            "incomplete_stream" => "incomplete_stream",
            _ => "other",
        })
        .unwrap_or("other")
}

/// Many concurrent streams need a file descriptor each, on both ends of the loopback.
fn raise_open_file_limit() {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn threads() -> u64 {
    status_field("Threads:")
}

fn peak_rss_kib() -> u64 {
    status_field("VmHWM:")
}
