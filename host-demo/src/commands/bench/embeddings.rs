//! `bench --embeddings`: the CPU a batch of embeddings costs through the plugin, against the
//! same InvokeModel calls made with `aws-sdk-bedrockruntime` directly in this process (16 at
//! once, each body read into the vectors), alternating the two so that drift hits both.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use host_sdk::EmbeddingRequest;

use super::measure::{cpu_time, direct_client, median, sorted};
use crate::cli::{BenchArgs, GlobalOpts};
use crate::error::{CliError, CliResult};
use crate::session::Session;

const MODEL: &str = "amazon.titan-embed-text-v2:0";
const AT_ONCE: usize = 16;

pub(super) fn run(global: &GlobalOpts, args: &BenchArgs) -> CliResult {
    if args.texts == 0 || args.runs == 0 {
        return Err(CliError::new("--texts and --runs must be at least 1"));
    }
    let session = Session::open(global, Some(crate::embedded::Pace::Fast))?;
    let emulator = session
        .emulator
        .as_ref()
        .expect("Session::open(.., Some(_)) starts the emulator");
    let model = args.model.clone().unwrap_or_else(|| MODEL.to_string());
    let texts: Vec<String> = (0..args.texts)
        .map(|i| format!("short text {i} about topic {}", i % 17))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start a tokio runtime: {e}")))?;
    let client = direct_client(emulator);
    let request = EmbeddingRequest::texts(&model, texts.clone());
    let mut plugin_cpu = Vec::new();
    let mut direct_cpu = Vec::new();
    for round in 0..=args.runs {
        for path in [round % 2, (round + 1) % 2] {
            let before = cpu_time();
            let vectors = if path == 0 {
                session
                    .provider
                    .embed(&request)
                    .map_err(|e| CliError::new(format!("the plugin path failed: {e}")))?
                    .len()
            } else {
                let (c, m, t) = (client.clone(), model.clone(), texts.clone());
                runtime
                    .block_on(runtime.spawn(async move { direct(&c, &m, &t).await }))
                    .map_err(|e| CliError::new(format!("the direct SDK task failed: {e}")))??
            };
            let cpu = cpu_time().saturating_sub(before);
            if vectors != texts.len() {
                return Err(CliError::new(format!(
                    "a path returned {vectors} vectors for {} texts",
                    texts.len()
                )));
            }
            // Round 0 is the warm-up: connections and allocator arenas.
            if round > 0 {
                [&mut plugin_cpu, &mut direct_cpu][path].push(cpu);
            }
        }
    }
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let plugin = median(&sorted(plugin_cpu.iter().map(ms).collect()));
    let direct = median(&sorted(direct_cpu.iter().map(ms).collect()));
    let ratio = plugin / direct;
    if args.json {
        println!(
            "{:#}",
            serde_json::json!({
                "model": model,
                "texts": args.texts,
                "runs": args.runs,
                "debugBuild": cfg!(debug_assertions),
                "cpuMsMedian": { "plugin": plugin, "directSdk": direct },
                "goal": { "figure": "plugin / direct SDK CPU, medians", "value": ratio, "atMost": 1.1, "met": ratio <= 1.1 },
            })
        );
        return Ok(());
    }
    println!(
        "bench --embeddings: {} texts a batch, model {model}, {} runs per path after 1 warm-up",
        args.texts, args.runs
    );
    println!("CPU per batch, median: plugin {plugin:.1} ms, direct SDK {direct:.1} ms (whole process, the emulator's too)");
    println!(
        "goal: plugin / direct SDK CPU is {ratio:.3}, at most 1.1: {}",
        if ratio <= 1.1 { "met" } else { "NOT met" }
    );
    Ok(())
}

/// Each text in its own InvokeModel call, `AT_ONCE` at a time, each body read into its
/// vector: what a host without the plugin writes for Titan Text Embeddings.
async fn direct(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    texts: &[String],
) -> CliResult<usize> {
    #[derive(serde::Deserialize)]
    struct Answer {
        embedding: Vec<f32>,
    }
    let calls: Vec<_> = texts
        .iter()
        .map(|text| async move {
            let body = serde_json::to_vec(&serde_json::json!({ "inputText": text }))
                .map_err(|e| CliError::new(e.to_string()))?;
            let out = client
                .invoke_model()
                .model_id(model)
                .content_type("application/json")
                .accept("application/json")
                .body(aws_sdk_bedrockruntime::primitives::Blob::new(body))
                .send()
                .await
                .map_err(|e| CliError::new(format!("InvokeModel failed: {e}")))?;
            let answer: Answer = serde_json::from_slice(out.body().as_ref())
                .map_err(|e| CliError::new(format!("the body is not Titan's: {e}")))?;
            Ok::<_, CliError>(answer.embedding)
        })
        .collect();
    let vectors: Vec<Vec<f32>> = futures::stream::iter(calls)
        .buffered(AT_ONCE)
        .try_collect()
        .await?;
    // The vectors end to end, as the plugin gives them.
    let all: Vec<f32> = vectors.concat();
    Ok(all.len() / vectors.first().map_or(1, Vec::len).max(1))
}
