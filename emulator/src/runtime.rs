//! Runtime operations: Converse and ConverseStream.

use crate::answer::{self, Answer};
use crate::catalogue::{self, FoundationModel};
use crate::error::{status_for_error_type, ApiError};
use crate::events;
use crate::frames;
use crate::json_http::{decode_segment, json_response};
use crate::pacing::{self, Delivery};
use crate::recorder::RawResponse;
use crate::scenario::{self, Fault, FoundScenario, Scenario};
use crate::state::State;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use bytes::{Bytes, BytesMut};
use serde_json::Value;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

pub const INVALID_MODEL: &str = "The provided model identifier is invalid.";

/// Resolves the model id from the path (plain id, profile id, or either kind of ARN).
pub fn resolve_model(state: &State, id: &str) -> Result<&'static FoundationModel, ApiError> {
    resolve_any_model(state, id).and_then(conversational)
}

/// The model `id` invokes (a base id, a profile id or an ARN of either), whatever it outputs.
pub fn resolve_any_model(state: &State, id: &str) -> Result<&'static FoundationModel, ApiError> {
    let invalid = || ApiError::validation(INVALID_MODEL);
    let region = &state.config.region;
    let (id, via_arn_profile) = if let Some(rest) = id.strip_prefix("arn:") {
        // arn:aws:bedrock:{region}:{account}:{resource-type}/{id}
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() != 5 || parts[0] != "aws" || parts[1] != "bedrock" || parts[2] != region {
            return Err(invalid());
        }
        let (kind, resource) = parts[4].split_once('/').ok_or_else(invalid)?;
        match kind {
            "foundation-model" if parts[3].is_empty() => (resource, false),
            "inference-profile" if parts[3] == state.config.account_id => (resource, true),
            "application-inference-profile" if parts[3] == state.config.account_id => {
                let profile = state.app_profile(resource).ok_or_else(invalid)?;
                return Ok(profile.model);
            }
            _ => return Err(invalid()),
        }
    } else {
        (id, false)
    };
    if let Some(profile) = catalogue::profile(id, region) {
        return Ok(profile.model);
    }
    if via_arn_profile {
        return Err(invalid());
    }
    let model = catalogue::model(id).ok_or_else(invalid)?;
    if !model.on_demand() {
        return Err(ApiError::validation(format!(
            "Invocation of model ID {} with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
            model.id
        )));
    }
    Ok(model)
}

/// A default prompt router's choice for this request: the model and the ARN of the profile
/// it invoked. `None` when `id` is not a prompt router's ARN.
fn routed_model(
    state: &State,
    id: &str,
    body: &Bytes,
) -> Result<Option<(&'static FoundationModel, String)>, ApiError> {
    let (region, account) = (&state.config.region, &state.config.account_id);
    let Some(router_id) = id.strip_prefix(&format!(
        "arn:aws:bedrock:{region}:{account}:default-prompt-router/"
    )) else {
        return Ok(None);
    };
    let router = catalogue::prompt_router(router_id).ok_or_else(|| {
        ApiError::new(
            404,
            "ResourceNotFoundException",
            format!("Prompt router {id} not found."),
        )
    })?;
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let chars = answer::prompt_chars(&request);
    let base = if chars <= router.small_up_to_chars {
        router.small
    } else {
        router.large
    };
    // The region's own geography's profile for that model.
    let profile = catalogue::profiles_for_region(region)
        .into_iter()
        .find(|p| {
            p.id()
                .split_once('.')
                .is_some_and(|(geo, rest)| rest == base && geo != "global")
        })
        .ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
    Ok(Some((
        profile.model,
        format!(
            "arn:aws:bedrock:{region}:{account}:inference-profile/{}",
            profile.id()
        ),
    )))
}

fn conversational(model: &'static FoundationModel) -> Result<&'static FoundationModel, ApiError> {
    if model.conversational() {
        Ok(model)
    } else {
        Err(ApiError::validation(
            "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
        ))
    }
}

fn raw_response(raw: RawResponse) -> Response<Body> {
    let body = match raw.drip {
        None => Body::from(raw.body),
        Some((bytes, every_ms)) => {
            let all = raw.body;
            let pieces: Vec<Bytes> = (0..all.len())
                .step_by(bytes)
                .map(|start| all.slice(start..(start + bytes).min(all.len())))
                .collect();
            let first = std::iter::once(true).chain(std::iter::repeat(false));
            Body::from_stream(futures::StreamExt::then(
                futures::stream::iter(first.zip(pieces)),
                move |(first, piece)| async move {
                    if !first {
                        tokio::time::sleep(Duration::from_millis(every_ms)).await;
                    }
                    Ok::<_, std::io::Error>(piece)
                },
            ))
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(raw.status).unwrap_or(StatusCode::OK);
    for (name, value) in raw.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

fn find_scenario(
    state: &State,
    body: &Value,
    path_id: &str,
    model: &FoundationModel,
) -> Result<Option<FoundScenario>, ApiError> {
    if let Some(found) = scenario::from_request(body)
        .map_err(|e| ApiError::validation(format!("Invalid EMULATOR_SCENARIO: {e}")))?
    {
        return Ok(Some(found));
    }
    Ok(state
        .scenario_for(&[path_id, model.id])
        .map(|s| scenario::registered(&s)))
}

/// The emulator's answer to the conversation a model's own body (InvokeModel) stands for:
/// played from its scenario, or the one registered for the model, in the model's reasoning
/// style.
pub fn native_answer(
    state: &State,
    converse: &Value,
    model: &FoundationModel,
) -> Result<Answer, ApiError> {
    let found = scenario::from_request(converse)
        .map_err(|e| ApiError::validation(format!("Invalid EMULATOR_SCENARIO: {e}")))?
        .map(|f| f.scenario)
        .or_else(|| state.scenario_for(&[model.id]));
    let rules = crate::model_rules::for_model(model.id);
    Ok(answer::build(converse, found.as_ref(), rules.reasoning))
}

/// CountTokens: `{"input": {"converse": <a Converse request>}}` answered with the input
/// tokens that request would count. Anthropic's models count tokens; others are refused as
/// Bedrock refuses them. The inner request is checked like a Converse request.
pub fn count_tokens(
    state: &Arc<State>,
    raw_id: &str,
    body: &Bytes,
) -> Result<Response<Body>, ApiError> {
    let path_id = decode_segment(raw_id).ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
    // Counting invokes nothing: a base id is fine even for a profile-only model.
    let model = match crate::catalogue::model(&path_id) {
        Some(model) => model,
        None => resolve_model(state, &path_id)?,
    };
    if model.provider != "Anthropic" {
        return Err(ApiError::validation(
            "The provided model doesn't support counting tokens.",
        ));
    }
    let request: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::validation("Malformed input request, please reformat your input and try again.")
    })?;
    let Some(converse) = request.pointer("/input/converse") else {
        return Err(ApiError::missing("input"));
    };
    crate::validate::converse_request(converse)?;
    // CountTokens takes no inferenceConfig: rules that compare with maxTokens (a thinking
    // budget below it) hold against the model's own limit.
    let mut checked = converse.clone();
    checked["inferenceConfig"] = serde_json::json!({
        "maxTokens": crate::model_rules::for_model(model.id).max_output_tokens
    });
    crate::validate::for_model(&checked, model)?;
    let tokens = answer::input_tokens(converse);
    Ok(json_response(
        serde_json::json!({ "inputTokens": tokens }).to_string(),
    ))
}

/// Converse (`stream == false`) or ConverseStream.
pub async fn invoke(
    state: &Arc<State>,
    raw_id: &str,
    body: &Bytes,
    stream: bool,
) -> Result<Response<Body>, ApiError> {
    let path_id = decode_segment(raw_id).ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
    if let Some(raw) = state.raw_for(&path_id) {
        return Ok(raw_response(raw));
    }
    let routed = routed_model(state, &path_id, body)?;
    let model = match &routed {
        Some((model, _)) => model,
        None => resolve_model(state, &path_id)?,
    };
    if stream && !model.streaming {
        return Err(ApiError::validation(
            "The model is unsupported for streaming.",
        ));
    }
    let request = converse_request(body, model)?;
    let found = find_scenario(state, &request, &path_id, model)?;
    let s: Option<&Scenario> = found.as_ref().map(|f| &f.scenario);
    scripted_refusals(state, &request, found.as_ref())?;
    let first_byte_delay = s.and_then(|s| s.first_byte_delay_ms).unwrap_or(0);
    let event_delay = s.and_then(|s| s.event_delay_ms).unwrap_or(0);
    if first_byte_delay > 0 {
        tokio::time::sleep(Duration::from_millis(first_byte_delay)).await;
    }
    let fault = s.and_then(|s| s.fault.clone());
    // A large answer (a benchmark's) takes longer to build than to send: an identical request
    // gets the same pre-encoded bytes, so the emulator stays out of the client's measurements.
    let fast = state.config.delivery == Delivery::Fast;
    let memo_key = (stream && fast && fault.is_none() && event_delay == 0).then(|| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (path_id.as_str(), body.as_ref()).hash(&mut h);
        h.finish()
    });
    if let Some(all) = memo_key.and_then(|k| state.remembered_stream(k)) {
        return Ok(send_in_chunks(all, EVENT_STREAM));
    }
    let invoked = routed.as_ref().map(|(_, invoked)| invoked.as_str());
    let answer = answer_for(state, &request, s, model, invoked, stream)?;
    if !stream {
        return converse_response(&answer, fault, first_byte_delay);
    }
    let paced = match state.config.delivery {
        Delivery::Paced { seed } => Some(pacing::rng_for(seed, body)),
        Delivery::Fast => None,
    };
    let (response, all) = stream_response(&answer, fault, first_byte_delay, event_delay, paced);
    if let (Some(key), Some(all)) = (memo_key, all) {
        if all.len() >= MEMO_MIN_BYTES {
            state.remember_stream(key, all);
        }
    }
    Ok(response)
}

/// The model's answer to `request`: scripted or made up, through the guardrail the request
/// names, with what the model returns beside it (response fields, the router's trace, prompt
/// cache counts).
fn answer_for(
    state: &Arc<State>,
    request: &Value,
    s: Option<&Scenario>,
    model: &FoundationModel,
    invoked: Option<&str>,
    stream: bool,
) -> Result<Answer, ApiError> {
    let guardrails = state.guardrails();
    let guardrail = crate::guardrails::config(request, &guardrails, stream)?;
    let rules = crate::model_rules::for_model(model.id);
    let mut answer = answer::build(request, s, rules.reasoning);
    if let Some(applied) = &guardrail {
        let arn = format!(
            "arn:aws:bedrock:{}:{}:guardrail/{}",
            state.config.region, state.config.account_id, applied.guardrail.id
        );
        answer = crate::guardrails::apply(applied, &arn, request, answer);
    }
    answer.model_response_fields =
        answer::model_response_fields(request, &answer.stop_reason, rules.anthropic);
    if let Some(invoked) = invoked {
        trace_router(&mut answer, invoked);
    }
    let scripted_cache = s.and_then(|s| s.usage.as_ref()).is_some_and(|u| {
        u.cache_read_input_tokens.is_some() || u.cache_write_input_tokens.is_some()
    });
    if !scripted_cache {
        count_prompt_cache(state, request, &mut answer.usage);
    }
    Ok(answer)
}

/// The body as JSON, checked as Converse checks it and against what `model` takes.
fn converse_request(body: &Bytes, model: &FoundationModel) -> Result<Value, ApiError> {
    let request: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::validation("Malformed input request, please reformat your input and try again.")
    })?;
    crate::validate::converse_request(&request)?;
    crate::validate::for_model(&request, model)?;
    Ok(request)
}

/// What the scenario makes the call fail with: a server tool the request does not declare
/// (it runs only when the request offers it, as on Bedrock), throttling of the first calls,
/// or a scripted error.
fn scripted_refusals(
    state: &State,
    request: &Value,
    found: Option<&FoundScenario>,
) -> Result<(), ApiError> {
    let Some(f) = found else { return Ok(()) };
    let s = &f.scenario;
    let system_tools = crate::validate::declared_tools(request, "systemTool");
    for call in s.server_tool_calls.iter().flatten() {
        if !system_tools.contains(&call.name.as_str()) {
            return Err(ApiError::validation(format!(
                "Invalid EMULATOR_SCENARIO: serverToolCalls names {}, which the request does not declare as a systemTool",
                call.name
            )));
        }
    }
    if let Some(n) = s.throttle_first {
        if state.should_throttle(&f.key, n) {
            return Err(ApiError::throttling());
        }
    }
    if let Some(err) = &s.error {
        return Err(ApiError::new(
            err.status
                .unwrap_or_else(|| status_for_error_type(&err.error_type)),
            err.error_type.clone(),
            err.message
                .clone()
                .unwrap_or_else(|| format!("Emulated {}.", err.error_type)),
        ));
    }
    Ok(())
}

/// A prompt router's answer names the model it invoked in the trace.
fn trace_router(answer: &mut Answer, invoked: &str) {
    let router = serde_json::json!({ "invokedModelId": invoked });
    match answer
        .response_fields
        .iter_mut()
        .find(|(k, _)| *k == "trace")
    {
        Some((_, trace)) => trace["promptRouter"] = router,
        None => answer
            .response_fields
            .push(("trace", serde_json::json!({ "promptRouter": router }))),
    }
}

/// A request with a cache point reads its prefix from the cache when an earlier request
/// wrote it, and writes it otherwise.
fn count_prompt_cache(state: &State, request: &Value, usage: &mut answer::Usage) {
    if let Some(prefix) = crate::prompt_cache::prefix(request) {
        let hit = state.prompt_cache_hit(&prefix);
        usage.input = usage.input.saturating_sub(prefix.tokens).max(1);
        if hit {
            usage.cache = Some((prefix.tokens, 0));
        } else {
            usage.cache = Some((0, prefix.tokens));
            usage.cache_details = vec![(prefix.ttl, prefix.tokens)];
        }
    }
}

fn latency(answer: &Answer, first_byte_delay: u64, event_delay: u64, events: usize) -> u64 {
    answer
        .latency_ms
        .unwrap_or(120 + first_byte_delay + event_delay * events as u64)
}

/// HTTP status/type of a non-streaming response for an in-stream exception name.
fn exception_as_error(exception: &str, message: Option<String>) -> ApiError {
    let mut chars = exception.chars();
    let error_type = match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => "InternalServerException".to_string(),
    };
    let message =
        message.unwrap_or_else(|| events::default_exception_message(exception).to_string());
    ApiError::new(status_for_error_type(&error_type), error_type, message)
}

fn converse_response(
    answer: &Answer,
    fault: Option<Fault>,
    first_byte_delay: u64,
) -> Result<Response<Body>, ApiError> {
    let body = events::converse_json(answer, latency(answer, first_byte_delay, 0, 0));
    match fault {
        Some(Fault::Exception {
            exception, message, ..
        }) => Err(exception_as_error(&exception, message)),
        Some(Fault::Cut { .. }) => {
            let body = Bytes::from(body);
            let half = body.slice(..body.len() / 2);
            Ok(chunked(
                vec![Step::Data(half), Step::Cut],
                "application/json",
            ))
        }
        Some(Fault::Stall { ms, .. }) => Ok(chunked(
            vec![Step::Sleep(ms), Step::Data(Bytes::from(body))],
            "application/json",
        )),
        _ => Ok(json_response(body)),
    }
}

/// One step of a paced response body.
#[derive(Debug)]
enum Step {
    Data(Bytes),
    Sleep(u64),
    /// Abort the connection (after letting the bytes before it reach the client): hyper
    /// drops it without the terminating chunk.
    Cut,
}

const CHUNK: usize = 256 * 1024;

/// hyper drops unflushed bytes when a body errors, so a cut waits for the partial frame to
/// reach the client first; otherwise the client would see no response at all.
const CUT_FLUSH_MS: u64 = 50;

const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// Bodies at least this large are remembered for identical requests.
const MEMO_MIN_BYTES: usize = 1 << 20;

/// The response, and the whole encoded body when it is sent at once (fast delivery, no
/// delays or faults). `paced` is the RNG of a paced delivery ([`pacing`]).
fn stream_response(
    answer: &Answer,
    fault: Option<Fault>,
    first_byte_delay: u64,
    event_delay: u64,
    paced: Option<fastrand::Rng>,
) -> (Response<Body>, Option<Bytes>) {
    let mut events_list = events::stream_events(answer, 0);
    let latency_ms = latency(answer, first_byte_delay, event_delay, events_list.len());
    if let Some((_, metadata)) = events_list.last_mut() {
        metadata["metrics"]["latencyMs"] = Value::from(latency_ms);
    }
    if matches!(fault, Some(Fault::NoMessageStop)) {
        let keep = events_list.len().saturating_sub(2);
        events_list.truncate(keep);
    }
    let mut encoded = events::encode_events(&events_list);
    // The JSON values take several times the memory of their frames: a 100,000-event answer
    // would otherwise hold both at once.
    drop(events_list);
    let mut stall: Option<(usize, u64)> = None;
    let mut cut = false;
    match fault {
        Some(Fault::Exception {
            after_events,
            exception,
            message,
            original_status_code,
            original_message,
        }) => {
            encoded.truncate(after_events);
            let message = message
                .unwrap_or_else(|| events::default_exception_message(&exception).to_string());
            let mut body = serde_json::json!({ "message": message });
            if let Some(status) = original_status_code {
                body["originalStatusCode"] = status.into();
            }
            if let Some(original) = original_message {
                body["originalMessage"] = original.into();
            }
            encoded.push(frames::exception_frame(&exception, &body));
        }
        Some(Fault::Cut { after_events }) => {
            let at = after_events.min(encoded.len().saturating_sub(1));
            encoded.truncate(at + 1);
            if let Some(last) = encoded.last_mut() {
                *last = last.slice(..last.len() / 2);
            }
            cut = true;
        }
        Some(Fault::Stall { after_events, ms }) => stall = Some((after_events, ms)),
        _ => {}
    }
    let content_type = EVENT_STREAM;
    if paced.is_none() && stall.is_none() && !cut && event_delay == 0 {
        // Pre-encoded and sent in large chunks so huge answers are limited by the client only.
        let total: usize = encoded.iter().map(Bytes::len).sum();
        let mut all = BytesMut::with_capacity(total);
        for frame in encoded {
            all.extend_from_slice(&frame);
        }
        let all = all.freeze();
        return (send_in_chunks(all.clone(), content_type), Some(all));
    }
    (
        chunked(steps(encoded, stall, cut, event_delay, paced), content_type),
        None,
    )
}

/// The writes of a delivered answer: a scripted stall before frame N, scripted delays between
/// frames, each frame whole or (paced) cut into random writes with short pauses
/// ([`pacing::split`]), and a cut at the end.
fn steps(
    encoded: Vec<Bytes>,
    stall: Option<(usize, u64)>,
    cut: bool,
    event_delay: u64,
    mut paced: Option<fastrand::Rng>,
) -> Vec<Step> {
    let mut steps = Vec::with_capacity(encoded.len() * 3 + 2);
    for (i, frame) in encoded.into_iter().enumerate() {
        if let Some((after, ms)) = stall {
            if after == i {
                steps.push(Step::Sleep(ms));
            }
        }
        if i > 0 && event_delay > 0 {
            steps.push(Step::Sleep(event_delay));
        }
        match &mut paced {
            Some(rng) => {
                for write in pacing::split(frame, i == 0, rng) {
                    if write.pause_ms > 0 {
                        steps.push(Step::Sleep(write.pause_ms));
                    }
                    steps.push(Step::Data(write.bytes));
                }
            }
            None => steps.push(Step::Data(frame)),
        }
    }
    if cut {
        steps.push(Step::Cut);
    }
    steps
}

fn send_in_chunks(all: Bytes, content_type: &'static str) -> Response<Body> {
    let total = all.len();
    let steps = (0..total)
        .step_by(CHUNK)
        .map(|start| Step::Data(all.slice(start..(start + CHUNK).min(total))))
        .collect();
    chunked(steps, content_type)
}

fn chunked(steps: Vec<Step>, content_type: &'static str) -> Response<Body> {
    let stream = futures::stream::unfold(steps.into_iter(), |mut steps| async move {
        loop {
            match steps.next()? {
                Step::Data(b) => return Some((Ok(b), steps)),
                Step::Sleep(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Step::Cut => {
                    tokio::time::sleep(Duration::from_millis(CUT_FLUSH_MS)).await;
                    return Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "emulator fault: connection cut",
                        )),
                        steps,
                    ));
                }
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    resp
}
