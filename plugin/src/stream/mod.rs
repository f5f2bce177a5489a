//! The stream driver: runs one ConverseStream call (or, for the models that answer only
//! there, one Responses call on Mantle, whose events [`responses_events`] turns into
//! ConverseStream's) on the plugin's runtime (retries, timeouts, cancellation) and reports its
//! end to the host's sink exactly once. What each service event becomes for the host, and the
//! completion, is [`assemble`]'s job.

mod assemble;
pub(crate) mod guardrail_trace;
mod responses_events;

use assemble::Assembler;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::FutureExt;
use host_sdk::contract::{EventSinkBox, StreamEnd, StreamWaker, StreamWaker_TO};
use host_sdk::{ErrorKind, ProviderError, SinkFlow, StreamEvent};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::clients::Clients;
use crate::config::StreamSettings;
use crate::errors::{error, CallContext, CallFailure};
use crate::model_facts::ModelTable;
use crate::response_body::Progress;
use crate::translate::Call;

/// One stream's inputs.
pub struct StreamJob {
    pub clients: Arc<Clients>,
    pub call: Call,
    pub settings: StreamSettings,
    /// The model's prices, when known.
    pub cost: Option<crate::pricing::Pricing>,
    pub sink: EventSinkBox,
    pub cancel: CancelSignal,
    /// Woken by the host when it takes events again after a pause (contract 1.6).
    pub resume: Arc<tokio::sync::Notify>,
}

/// The waker the host calls to resume a paused stream.
struct Resume(Arc<tokio::sync::Notify>);

impl StreamWaker for Resume {
    fn wake(&self) {
        // A permit is kept when the stream is not waiting yet, so no wake-up is lost.
        self.0.notify_one();
    }
}

/// Runs the stream to its end and reports it to the sink exactly once, whatever happens,
/// panics included.
pub async fn run(mut job: StreamJob) {
    job.sink.set_waker(StreamWaker_TO::from_value(
        Resume(job.resume.clone()),
        abi_stable::sabi_trait::TD_Opaque,
    ));
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
    let completion_json =
        assembler.completion_json(job.cost, job.call.output_schema(), job.call.host_minor());
    let end = StreamEnd {
        error: outcome.err().into(),
        completion_json: completion_json.into(),
    };
    job.sink.on_end(end);
}

/// Ends a stream that could not start (its request was refused after a lookup), reporting
/// the error to the sink, exactly once, with an empty completion.
pub fn refuse(mut sink: EventSinkBox, error: ProviderError) {
    let completion = host_sdk::Completion::empty();
    sink.on_end(StreamEnd {
        error: abi_stable::std_types::ROption::RSome(error),
        completion_json: serde_json::to_string(&completion)
            .unwrap_or_default()
            .into(),
    });
}

async fn drive(job: &mut StreamJob, asm: &mut Assembler) -> Result<(), ProviderError> {
    if let Some(e) = job.clients.known_credential_error() {
        return Err(e);
    }
    let source = job.clients.target.source.describe();
    let region = job.clients.target.region.clone();
    let model_id = job.call.model_id().to_string();
    let operation = match job.call {
        Call::Converse(_) => "ConverseStream",
        Call::Responses(_) => "CreateResponse",
    };
    let ctx = CallContext {
        operation,
        model_id: Some(&model_id),
        credential_source: &source,
        region: &region,
    };
    let mut attempt: u32 = 1;
    loop {
        match attempt_once(job, asm, &ctx).await {
            Ok(()) => return Ok(()),
            Err(CallFailure {
                error: e,
                service_message,
            }) => {
                // Retrying is safe only while the host has seen nothing of this response.
                let can_retry =
                    e.retryable && asm.delivered == 0 && attempt < job.settings.max_attempts;
                if !can_retry {
                    if e.code.as_str() == ErrorKind::NeedsInferenceProfile.code() {
                        let said = service_message.unwrap_or_default();
                        return Err(name_profiles(&job.clients, &model_id, &region, e, &said).await);
                    }
                    if e.code.as_str() == ErrorKind::ModelNotFound.code() {
                        return Err(suggest_model(&job.clients, &model_id, e).await);
                    }
                    return Err(e);
                }
                let delay = job.settings.backoff(attempt);
                tracing::info!(
                    "{operation} attempt {attempt} failed ({}); retrying in {delay:?}",
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
) -> Result<(), CallFailure> {
    let progress = Progress::default();
    let first_byte = job.settings.first_byte_timeout;
    // The per-event path must stay as cheap as calling the SDK directly: one timer for the
    // whole attempt (the response head's wait and the stream's share it) and one
    // cancellation future, polled only while no event is ready; an atomic flag catches a
    // cancel during a stream that never waits. Progress is measured in bytes received
    // (counted below the decoder), so a large event arriving slowly is not mistaken for a
    // stall. The timer is moved to an earlier time only when it must be: tokio wakes its
    // timer thread for every timer set earlier than the one it sleeps towards.
    let deadline = tokio::time::sleep(first_byte);
    tokio::pin!(deadline);
    let mut events = open_stream(job, &progress, ctx, deadline.as_mut()).await?;
    let mut waker = job.cancel.clone();
    let cancelled_wait = waker.cancelled();
    tokio::pin!(cancelled_wait);
    let idle = job.settings.idle_timeout;
    let mut idle_armed = false;
    let mut bytes_at_arm = progress.bytes();
    loop {
        tokio::select! {
            biased;
            // Each event is handled where it lands: an event is ~300 bytes, and handing it
            // up through the futures by value cost a tenth of a long stream's time in copies.
            next = events.next_with(ctx, |event| asm.handle(event, &mut job.sink, job.cost)) => match next {
                Ok(Some(flow)) => {
                    if flow == SinkFlow::Stop {
                        return Err(cancelled("the host's callback stopped the stream").into());
                    }
                    if job.cancel.is_cancelled() {
                        return Err(cancelled("the host cancelled the stream").into());
                    }
                    if !job.sink.ready() {
                        wait_for_host(job, &mut cancelled_wait).await?;
                        // Time spent paused is not the service's silence.
                        if idle_armed {
                            bytes_at_arm = progress.bytes();
                            deadline.as_mut().reset(Instant::now() + idle);
                        }
                    }
                    // Once events flow, the (usually shorter) idle limit applies.
                    if !idle_armed && asm.delivered > 0 {
                        idle_armed = true;
                        bytes_at_arm = progress.bytes();
                        arm_idle(deadline.as_mut(), idle);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(e),
            },
            _ = &mut cancelled_wait => return Err(cancelled("the host cancelled the stream").into()),
            _ = &mut deadline => {
                // Re-armed lazily: a stall is detected between one and two idle periods after
                // the last byte, without reading the clock for every event.
                let bytes = progress.bytes();
                if bytes == bytes_at_arm {
                    return Err(timeout(if asm.delivered == 0 {
                        format!("Bedrock sent no event within {first_byte:?} (first-byte timeout)")
                    } else {
                        format!("Bedrock sent nothing for {idle:?} in the middle of the stream (idle timeout)")
                    }).into());
                }
                idle_armed = true;
                bytes_at_arm = bytes;
                deadline.as_mut().reset(Instant::now() + idle);
            }
        }
    }
    asm.reasoning_tokens = events.reasoning_tokens();
    if asm.stop_reason.is_none() {
        return Err(error(
            ErrorKind::IncompleteStream,
            "the stream ended before Bedrock's messageStop: the answer is incomplete",
        )
        .into());
    }
    Ok(())
}

/// Sends the call and waits for its response head, within the first-byte timeout and until
/// the host cancels.
async fn open_stream(
    job: &mut StreamJob,
    progress: &Progress,
    ctx: &CallContext<'_>,
    deadline: std::pin::Pin<&mut tokio::time::Sleep>,
) -> Result<Events, CallFailure> {
    let first_byte = job.settings.first_byte_timeout;
    let clients = job.clients.clone();
    let send = async {
        match &job.call {
            Call::Converse(prepared) => clients
                .converse_wire
                .stream(prepared, progress, ctx)
                .await
                .map(Events::Converse),
            Call::Responses(call) => clients
                .mantle
                .stream(call.body.clone(), progress, ctx)
                .await
                .map(|events| Events::Responses {
                    events,
                    translator: Default::default(),
                    ready: Default::default(),
                }),
        }
    };
    tokio::select! {
        result = send => result,
        () = deadline => Err(timeout(format!("no response from Bedrock within {first_byte:?} (first-byte timeout)")).into()),
        _ = job.cancel.cancelled() => Err(cancelled("the host cancelled the stream").into()),
    }
}

/// Arms the idle limit once events flow: a stall must be caught between one and two idle
/// periods after the last byte. The first-byte timer already set is kept when it falls in
/// that window (with the defaults, 60 s first byte and 30 s idle, it does), so the common
/// stream never moves its timer earlier, which would wake tokio's timer thread.
fn arm_idle(deadline: std::pin::Pin<&mut tokio::time::Sleep>, idle: std::time::Duration) {
    let now = Instant::now();
    let left = deadline.deadline().saturating_duration_since(now);
    if left < idle || left > idle * 2 {
        deadline.reset(now + idle);
    }
}

/// The events of one response, as ConverseStream events whichever API answered.
enum Events {
    Converse(crate::converse_wire::WireEvents),
    Responses {
        events: crate::mantle::ResponseEvents,
        translator: responses_events::Translator,
        /// Translated events not handed out yet (one Responses event may stand for several).
        ready: std::collections::VecDeque<aws_sdk_bedrockruntime::types::ConverseStreamOutput>,
    },
}

impl Events {
    /// Waits for the next event and hands it to `handle` by reference; `None` at the end.
    async fn next_with<R>(
        &mut self,
        ctx: &CallContext<'_>,
        handle: impl FnOnce(&aws_sdk_bedrockruntime::types::ConverseStreamOutput) -> R,
    ) -> Result<Option<R>, CallFailure> {
        match self {
            Events::Converse(events) => Ok(events.recv(ctx).await?.map(|event| handle(&event))),
            Events::Responses {
                events,
                translator,
                ready,
            } => loop {
                if let Some(event) = ready.pop_front() {
                    return Ok(Some(handle(&event)));
                }
                if translator.finished {
                    return Ok(None);
                }
                let Some(event) = events.next(ctx).await? else {
                    return Ok(None);
                };
                let data: serde_json::Value = match serde_json::from_str(&event.data) {
                    Ok(data) => data,
                    Err(_) if event.data.trim() == "[DONE]" => return Ok(None),
                    Err(e) => {
                        return Err(error(
                            ErrorKind::Network,
                            format!("{} sent an event that is not JSON: {e}", ctx.operation),
                        )
                        .into())
                    }
                };
                let kind = data["type"].as_str().unwrap_or(event.event.as_str());
                ready.extend(translator.translate(kind, &data, ctx)?);
            },
        }
    }

    /// Of the output tokens, those spent reasoning, when the service said.
    fn reasoning_tokens(&self) -> Option<u64> {
        match self {
            Events::Converse(_) => None,
            Events::Responses { translator, .. } => translator.reasoning_tokens,
        }
    }
}

/// The host is behind: read nothing more from Bedrock until it catches up, so the
/// connection's flow control slows the service instead of events piling up in the host.
async fn wait_for_host<F: std::future::Future<Output = ()>>(
    job: &mut StreamJob,
    cancelled_wait: &mut std::pin::Pin<&mut F>,
) -> Result<(), CallFailure> {
    loop {
        let resumed = job.resume.notified();
        if job.sink.ready() {
            return Ok(());
        }
        tokio::select! {
            () = resumed => {}
            _ = cancelled_wait.as_mut() => return Err(cancelled("the host cancelled the stream").into()),
        }
    }
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
    service_message: &str,
) -> ProviderError {
    let base = crate::model_facts::base_model_id(model_id).to_string();
    let lookup = crate::discovery::list_profile_ids(clients);
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
                    service_message,
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
        crate::discovery::cache_key(clients, &unfiltered, ModelTable::built_in()),
        std::time::Duration::from_secs(unfiltered.refresh_interval),
        || crate::discovery::discover(clients, &unfiltered, ModelTable::built_in()),
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
            "{} Did you mean `{nearest}`? (the provider's model list shows the ids invocable here.)",
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
    use std::time::Duration;

    #[tokio::test]
    async fn the_idle_limit_moves_the_timer_only_when_it_must() {
        let idle = Duration::from_secs(30);
        // (seconds left on the first-byte timer, whether arming the idle limit moves it)
        for (left, moved) in [(60, false), (45, false), (10, true), (100, true)] {
            let deadline = tokio::time::sleep(Duration::from_secs(left));
            tokio::pin!(deadline);
            let before = deadline.deadline();
            arm_idle(deadline.as_mut(), idle);
            assert_eq!(deadline.deadline() != before, moved, "{left} s left");
            // Either way a stall is caught between one and two idle periods from now.
            let until = deadline
                .deadline()
                .saturating_duration_since(Instant::now());
            assert!(
                until <= idle * 2 && until + Duration::from_secs(1) >= idle,
                "{left} s left: fires in {until:?}"
            );
        }
    }
}
