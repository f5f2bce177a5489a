//! Stream mapping: runs one ConverseStream call on the plugin's runtime (retries, timeouts,
//! cancellation), turns each service event into a borrowed [`StreamEvent`] for the host's
//! sink, and assembles the [`Completion`] the stream ends with, partial on failure.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use abi_stable::std_types::{RSlice, RStr};
use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockStart, ConverseStreamOutput, ReasoningContentBlockDelta,
};
use futures::FutureExt;
use host_sdk::contract::{EventSinkBox, StreamEnd};
use host_sdk::{
    Completion, ContentBlock, ErrorKind, Message, ModelCost, ProviderError, Role, SinkFlow,
    StopReason, StreamEvent, TokenUsage, Usage,
};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::body_watch::{Progress, WatchBody};
use crate::clients::Clients;
use crate::config::StreamSettings;
use crate::errors::{error, from_sdk_error, from_stream_error, CallContext};
use crate::translate::Prepared;

/// One stream's inputs.
pub struct StreamJob {
    pub clients: Arc<Clients>,
    pub prepared: Prepared,
    pub settings: StreamSettings,
    /// The model's prices, when configured.
    pub cost: Option<ModelCost>,
    pub sink: EventSinkBox,
    pub cancel: CancelSignal,
}

/// Runs the stream to its end and reports it to the sink exactly once, whatever happens,
/// panics included.
pub async fn run(mut job: StreamJob) {
    let mut assembler = Assembler::default();
    let outcome = std::panic::AssertUnwindSafe(drive(&mut job, &mut assembler))
        .catch_unwind()
        .await
        .unwrap_or_else(|payload| {
            Err(host_sdk::plugin::panic_error(
                "the stream task",
                payload.as_ref(),
            ))
        });
    let completion_json = assembler.completion_json(job.cost);
    let end = StreamEnd {
        error: outcome.err().into(),
        completion_json: completion_json.into(),
    };
    job.sink.on_end(end);
}

async fn drive(job: &mut StreamJob, asm: &mut Assembler) -> Result<(), ProviderError> {
    if let Some(e) = job.clients.known_credential_error() {
        return Err(e);
    }
    let source = job.clients.target.source.describe();
    let region = job.clients.target.region.clone();
    let model_id = job.prepared.model_id.clone();
    let ctx = CallContext {
        operation: "ConverseStream",
        model_id: Some(&model_id),
        credential_source: &source,
        region: &region,
    };
    let mut attempt: u32 = 1;
    loop {
        match attempt_once(job, asm, &ctx).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                // Retrying is safe only while the host has seen nothing of this response.
                let can_retry =
                    e.retryable && asm.delivered == 0 && attempt < job.settings.max_attempts;
                if !can_retry {
                    if e.code.as_str() == ErrorKind::NeedsInferenceProfile.code() {
                        return Err(name_profiles(&job.clients, &model_id, &region, e).await);
                    }
                    if e.code.as_str() == ErrorKind::ModelNotFound.code() {
                        return Err(suggest_model(&job.clients, &model_id, e).await);
                    }
                    return Err(e);
                }
                let delay = job.settings.backoff(attempt);
                tracing::info!(
                    "ConverseStream attempt {attempt} failed ({}); retrying in {delay:?}",
                    e.message
                );
                let flow = job.sink.on_event(&StreamEvent::Retry {
                    attempt,
                    delay_ms: delay.as_millis() as u64,
                    error: &e,
                });
                if flow == SinkFlow::Stop {
                    return Err(cancelled("the host's callback stopped the stream"));
                }
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = job.cancel.cancelled() => return Err(cancelled("the host cancelled the stream")),
                }
                *asm = Assembler::default();
                attempt += 1;
            }
        }
    }
}

async fn attempt_once(
    job: &mut StreamJob,
    asm: &mut Assembler,
    ctx: &CallContext<'_>,
) -> Result<(), ProviderError> {
    let progress = Progress::default();
    let send = job
        .prepared
        .apply(job.clients.runtime.converse_stream())
        .customize()
        .interceptor(WatchBody {
            progress: progress.clone(),
        })
        .send();
    let first_byte = job.settings.first_byte_timeout;
    let output = tokio::select! {
        r = tokio::time::timeout(first_byte, send) => match r {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(from_sdk_error(&e, ctx)),
            Err(_) => return Err(timeout(format!("no response from Bedrock within {first_byte:?} (first-byte timeout)"))),
        },
        _ = job.cancel.cancelled() => return Err(cancelled("the host cancelled the stream")),
    };
    let mut events = output.stream;
    // The per-event path must stay as cheap as calling the SDK directly: one timer and one
    // cancellation future for the whole stream, polled only while no event is ready; an
    // atomic flag catches a cancel during a stream that never waits. Progress is measured in
    // bytes received (counted below the decoder), so a large event arriving slowly is not
    // mistaken for a stall.
    let mut waker = job.cancel.clone();
    let cancelled_wait = waker.cancelled();
    tokio::pin!(cancelled_wait);
    let idle = job.settings.idle_timeout;
    let deadline = tokio::time::sleep(first_byte);
    tokio::pin!(deadline);
    let mut idle_armed = false;
    let mut bytes_at_arm = progress.bytes();
    loop {
        tokio::select! {
            biased;
            next = events.recv() => match next {
                Ok(Some(event)) => {
                    if asm.handle(&event, &mut job.sink, job.cost) == SinkFlow::Stop {
                        return Err(cancelled("the host's callback stopped the stream"));
                    }
                    if job.cancel.is_cancelled() {
                        return Err(cancelled("the host cancelled the stream"));
                    }
                    // Once events flow, the (usually shorter) idle limit applies.
                    if !idle_armed && asm.delivered > 0 {
                        idle_armed = true;
                        bytes_at_arm = progress.bytes();
                        deadline.as_mut().reset(Instant::now() + idle);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(from_stream_error(&e, ctx)),
            },
            _ = &mut cancelled_wait => return Err(cancelled("the host cancelled the stream")),
            _ = &mut deadline => {
                // Re-armed lazily: a stall is detected between one and two idle periods after
                // the last byte, without reading the clock for every event.
                let bytes = progress.bytes();
                if bytes == bytes_at_arm {
                    return Err(timeout(if asm.delivered == 0 {
                        format!("Bedrock sent no event within {first_byte:?} (first-byte timeout)")
                    } else {
                        format!("Bedrock sent nothing for {idle:?} in the middle of the stream (idle timeout)")
                    }));
                }
                idle_armed = true;
                bytes_at_arm = bytes;
                deadline.as_mut().reset(Instant::now() + idle);
            }
        }
    }
    if asm.stop_reason.is_none() {
        return Err(error(
            ErrorKind::IncompleteStream,
            "the stream ended before Bedrock's messageStop: the answer is incomplete",
        ));
    }
    Ok(())
}

/// How long a failing call may spend finding the inference profiles to suggest.
const PROFILE_LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Rewrites a `needs_inference_profile` error to name the system-defined profiles that exist
/// for the model (ListInferenceProfiles), keeping the geography guess if that call fails.
async fn name_profiles(
    clients: &Clients,
    model_id: &str,
    region: &str,
    e: ProviderError,
) -> ProviderError {
    let base = crate::families::base_model_id(model_id).to_string();
    let lookup = crate::discovery::list_profile_ids(clients);
    let service_message = e
        .message
        .as_str()
        .split_once("Service said: ")
        .map(|(_, m)| m.to_string())
        .unwrap_or_default();
    match tokio::time::timeout(PROFILE_LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(ids)) => {
            let found = crate::profiles::invocable_profiles(&base, region, |id| ids.contains(id));
            error(
                ErrorKind::NeedsInferenceProfile,
                crate::errors::needs_profile_message(
                    model_id,
                    region,
                    &found,
                    true,
                    &service_message,
                ),
            )
        }
        Ok(Err(why)) => {
            tracing::debug!("ListInferenceProfiles failed while naming profiles: {why}");
            e
        }
        Err(_) => e,
    }
}

/// Names the invocable id nearest to an unknown one in a `model_not_found` error: a typo, a
/// missing or extra `:0` (the seed's own example writes `us.anthropic.claude-opus-4-6-v1:0`
/// for `us.anthropic.claude-opus-4-6-v1`), a base id for a profile. An id that is listed is
/// left alone: that error is about access, not the id.
async fn suggest_model(clients: &Clients, model_id: &str, mut e: ProviderError) -> ProviderError {
    // Through the process-wide discovery cache: a host retrying a mistyped id asks once.
    let unfiltered = crate::config::DiscoveryConfig::default();
    let lookup = crate::discovery::DiscoveryCache::global().get_or_fetch(
        crate::discovery::cache_key(clients, &unfiltered),
        std::time::Duration::from_secs(unfiltered.refresh_interval),
        || crate::discovery::discover(clients, &unfiltered),
    );
    let Ok(Ok(found)) = tokio::time::timeout(PROFILE_LOOKUP_TIMEOUT, lookup).await else {
        return e;
    };
    let ids: Vec<&str> = found.models.iter().map(|m| m.id.as_str()).collect();
    if ids.contains(&model_id) {
        return e;
    }
    if let Some(nearest) = crate::config_keys::nearest(model_id, &ids) {
        e.message = format!(
            "{} Did you mean `{nearest}`? (`models list` shows the ids invocable here.)",
            e.message
        )
        .into();
    }
    e
}

fn cancelled(message: &str) -> ProviderError {
    error(ErrorKind::Cancelled, message)
}

fn timeout(message: String) -> ProviderError {
    error(ErrorKind::Timeout, message)
}

/// A content block under construction, by service block index.
#[derive(Debug)]
enum Block {
    Text(String),
    Reasoning {
        text: String,
        signature: Option<String>,
    },
    Redacted(Vec<u8>),
    ToolUse {
        id: String,
        name: String,
        input: String,
        done: Option<serde_json::Value>,
    },
}

/// Forwards events to the sink and builds the completion from them.
#[derive(Default)]
struct Assembler {
    blocks: BTreeMap<i32, Block>,
    stop_reason: Option<String>,
    usage: Option<Usage>,
    latency_ms: Option<u64>,
    /// Response events the host has seen (retries are allowed only while this is 0).
    delivered: usize,
}

impl Assembler {
    fn emit(&mut self, sink: &mut EventSinkBox, event: StreamEvent<'_>) -> SinkFlow {
        self.delivered += 1;
        sink.on_event(&event)
    }

    fn handle(
        &mut self,
        event: &ConverseStreamOutput,
        sink: &mut EventSinkBox,
        cost: Option<ModelCost>,
    ) -> SinkFlow {
        match event {
            ConverseStreamOutput::MessageStart(_) => self.emit(sink, StreamEvent::MessageStart),
            ConverseStreamOutput::ContentBlockStart(start) => match start.start() {
                Some(ContentBlockStart::ToolUse(t)) => {
                    let index = start.content_block_index();
                    self.blocks.insert(
                        index,
                        Block::ToolUse {
                            id: t.tool_use_id().into(),
                            name: t.name().into(),
                            input: String::new(),
                            done: None,
                        },
                    );
                    self.emit(
                        sink,
                        StreamEvent::ToolUseStart {
                            index: index as u32,
                            id: t.tool_use_id().into(),
                            name: t.name().into(),
                        },
                    )
                }
                _ => SinkFlow::Continue,
            },
            ConverseStreamOutput::ContentBlockDelta(d) => {
                let index = d.content_block_index();
                match d.delta() {
                    Some(delta) => self.delta(index, delta, sink),
                    None => SinkFlow::Continue,
                }
            }
            ConverseStreamOutput::ContentBlockStop(stop) => {
                let index = stop.content_block_index();
                if let Some(Block::ToolUse {
                    id,
                    name,
                    input,
                    done,
                }) = self.blocks.get_mut(&index)
                {
                    // An empty input means "no arguments".
                    let raw = if input.trim().is_empty() {
                        "{}"
                    } else {
                        input.as_str()
                    };
                    let parsed = serde_json::from_str::<serde_json::Value>(raw);
                    let err = parsed
                        .as_ref()
                        .err()
                        .map(|e| format!("the tool input is not valid JSON: {e}"));
                    *done = parsed.ok();
                    let (id, name, raw) = (id.clone(), name.clone(), raw.to_string());
                    let flow = self.emit(
                        sink,
                        StreamEvent::ToolUse {
                            index: index as u32,
                            id: id.as_str().into(),
                            name: name.as_str().into(),
                            input_json: raw.as_str().into(),
                            error: err.as_deref().map(RStr::from).into(),
                        },
                    );
                    if flow == SinkFlow::Stop {
                        return flow;
                    }
                }
                self.emit(
                    sink,
                    StreamEvent::BlockStop {
                        index: index as u32,
                    },
                )
            }
            ConverseStreamOutput::MessageStop(stop) => {
                let reason = stop.stop_reason().as_str().to_string();
                let flow = self.emit(
                    sink,
                    StreamEvent::MessageStop {
                        reason: reason.as_str().into(),
                    },
                );
                self.stop_reason = Some(reason);
                flow
            }
            ConverseStreamOutput::Metadata(meta) => {
                let mut flow = SinkFlow::Continue;
                if let Some(u) = meta.usage() {
                    let usage = Usage {
                        input_tokens: u.input_tokens().max(0) as u64,
                        output_tokens: u.output_tokens().max(0) as u64,
                        total_tokens: u.total_tokens().max(0) as u64,
                        cache_read_tokens: u.cache_read_input_tokens().unwrap_or(0).max(0) as u64,
                        cache_write_tokens: u.cache_write_input_tokens().unwrap_or(0).max(0) as u64,
                    };
                    self.usage = Some(usage);
                    flow = self.emit(
                        sink,
                        StreamEvent::Usage {
                            usage,
                            cost_usd: cost_usd(&usage, cost).into(),
                        },
                    );
                }
                if let Some(m) = meta.metrics() {
                    let latency_ms = m.latency_ms().max(0) as u64;
                    self.latency_ms = Some(latency_ms);
                    if flow == SinkFlow::Continue {
                        flow = self.emit(sink, StreamEvent::Metrics { latency_ms });
                    }
                }
                flow
            }
            other => {
                tracing::debug!(
                    "ignoring a stream event this plugin version does not map: {other:?}"
                );
                SinkFlow::Continue
            }
        }
    }

    fn delta(
        &mut self,
        index: i32,
        delta: &ContentBlockDelta,
        sink: &mut EventSinkBox,
    ) -> SinkFlow {
        let i = index as u32;
        match delta {
            ContentBlockDelta::Text(text) => {
                let flow = self.emit(
                    sink,
                    StreamEvent::TextDelta {
                        index: i,
                        text: text.as_str().into(),
                    },
                );
                match self
                    .blocks
                    .entry(index)
                    .or_insert_with(|| Block::Text(String::new()))
                {
                    Block::Text(buf) => buf.push_str(text),
                    other => tracing::debug!("text delta for non-text block {index}: {other:?}"),
                }
                flow
            }
            ContentBlockDelta::ToolUse(t) => {
                let flow = self.emit(
                    sink,
                    StreamEvent::ToolUseInputDelta {
                        index: i,
                        fragment: t.input().into(),
                    },
                );
                if let Some(Block::ToolUse { input, .. }) = self.blocks.get_mut(&index) {
                    input.push_str(t.input());
                }
                flow
            }
            ContentBlockDelta::ReasoningContent(r) => match r {
                ReasoningContentBlockDelta::Text(text) => {
                    let flow = self.emit(
                        sink,
                        StreamEvent::ReasoningDelta {
                            index: i,
                            text: text.as_str().into(),
                        },
                    );
                    if let Block::Reasoning { text: buf, .. } = self.reasoning_block(index) {
                        buf.push_str(text);
                    }
                    flow
                }
                ReasoningContentBlockDelta::Signature(sig) => {
                    let flow = self.emit(
                        sink,
                        StreamEvent::ReasoningSignature {
                            index: i,
                            signature: sig.as_str().into(),
                        },
                    );
                    if let Block::Reasoning { signature, .. } = self.reasoning_block(index) {
                        signature.get_or_insert_with(String::new).push_str(sig);
                    }
                    flow
                }
                ReasoningContentBlockDelta::RedactedContent(blob) => {
                    let bytes = blob.as_ref();
                    let flow = self.emit(
                        sink,
                        StreamEvent::RedactedReasoning {
                            index: i,
                            data: RSlice::from_slice(bytes),
                        },
                    );
                    match self
                        .blocks
                        .entry(index)
                        .or_insert_with(|| Block::Redacted(Vec::new()))
                    {
                        Block::Redacted(buf) => buf.extend_from_slice(bytes),
                        other => tracing::debug!("redacted delta for block {index}: {other:?}"),
                    }
                    flow
                }
                other => {
                    tracing::debug!("ignoring an unknown reasoning delta: {other:?}");
                    SinkFlow::Continue
                }
            },
            other => {
                tracing::debug!(
                    "ignoring a delta kind this plugin version does not map: {other:?}"
                );
                SinkFlow::Continue
            }
        }
    }

    fn reasoning_block(&mut self, index: i32) -> &mut Block {
        self.blocks
            .entry(index)
            .or_insert_with(|| Block::Reasoning {
                text: String::new(),
                signature: None,
            })
    }

    fn completion_json(&self, cost: Option<ModelCost>) -> String {
        let content = self
            .blocks
            .values()
            .filter_map(|b| match b {
                Block::Text(t) if t.is_empty() => None,
                Block::Text(t) => Some(ContentBlock::Text { text: t.clone() }),
                Block::Reasoning { text, signature } => Some(ContentBlock::Reasoning {
                    text: text.clone(),
                    signature: signature.clone(),
                }),
                Block::Redacted(data) => {
                    Some(ContentBlock::RedactedReasoning { data: data.clone() })
                }
                // A tool call whose input never completed cannot be replayed: leave it out.
                Block::ToolUse {
                    id,
                    name,
                    done: Some(input),
                    ..
                } => Some(ContentBlock::ToolUse {
                    id: id.clone(),
                    name: name.clone(),
                    input: input.clone(),
                }),
                Block::ToolUse { .. } => None,
            })
            .collect();
        let completion = Completion {
            message: Message {
                role: Role::Assistant,
                content,
            },
            stop_reason: self.stop_reason.as_deref().map(StopReason::parse),
            usage: self.usage.map(TokenUsage::from),
            cost_usd: self.usage.as_ref().and_then(|u| cost_usd(u, cost)),
            latency_ms: self.latency_ms,
        };
        serde_json::to_string(&completion).unwrap_or_else(|_| "{}".into())
    }
}

/// Cost in US dollars from per-million-token prices; `None` when no price is configured.
pub fn cost_usd(usage: &Usage, cost: Option<ModelCost>) -> Option<f64> {
    let c = cost?;
    if c == ModelCost::default() {
        return None;
    }
    Some(
        (usage.input_tokens as f64 * c.input
            + usage.output_tokens as f64 * c.output
            + usage.cache_read_tokens as f64 * c.cache_read
            + usage.cache_write_tokens as f64 * c.cache_write)
            / 1_000_000.0,
    )
}

/// The host's stop request as the stream task sees it: a flag that is cheap to check per
/// event, and a channel that wakes the task while it waits.
#[derive(Clone)]
pub struct CancelSignal {
    flag: Arc<AtomicBool>,
    wake: watch::Receiver<bool>,
}

impl CancelSignal {
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Resolves once the host cancels.
    pub async fn cancelled(&mut self) {
        let _ = self.wake.wait_for(|c| *c).await;
    }
}

/// A stream's control handle given to the host.
pub struct Control {
    flag: Arc<AtomicBool>,
    wake: watch::Sender<bool>,
}

/// A connected control handle and signal.
pub fn cancellation() -> (Control, CancelSignal) {
    let flag = Arc::new(AtomicBool::new(false));
    let (wake, rx) = watch::channel(false);
    (
        Control {
            flag: flag.clone(),
            wake,
        },
        CancelSignal { flag, wake: rx },
    )
}

impl host_sdk::contract::StreamControl for Control {
    fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
        self.wake.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_uses_all_four_prices_per_million() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
            total_tokens: 1_500_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens: 0,
        };
        let cost = ModelCost {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write: 3.75,
        };
        let c = cost_usd(&usage, Some(cost)).unwrap();
        assert!((c - (3.0 + 7.5 + 0.6)).abs() < 1e-9, "{c}");
        assert_eq!(cost_usd(&usage, Some(ModelCost::default())), None);
    }
}
