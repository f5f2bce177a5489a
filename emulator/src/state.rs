//! State shared by all request handlers of one emulator instance.

use crate::config::EmulatorConfig;
use crate::recorder::{RawResponse, RecordedRequest};
use crate::scenario::Scenario;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Shared, lock-protected state.
#[derive(Debug)]
pub struct State {
    /// Immutable configuration.
    pub config: EmulatorConfig,
    requests: Mutex<Vec<RecordedRequest>>,
    scenarios: Mutex<HashMap<String, Scenario>>,
    raw: Mutex<HashMap<String, RawResponse>>,
    throttle_counts: Mutex<HashMap<String, u32>>,
    /// The last few large, deterministic stream bodies, by request key (see `runtime`).
    big_streams: Mutex<Vec<(u64, Bytes)>>,
    counter: AtomicU64,
    instance: u64,
    app_profiles: Mutex<Vec<crate::catalogue::ApplicationProfile>>,
    guardrails: Mutex<Vec<crate::guardrails::Guardrail>>,
    prompt_cache: Mutex<Vec<(u64, std::time::Instant)>>,
    /// The jobs StartAsyncInvoke submitted.
    pub async_invocations: crate::async_jobs::AsyncInvocations,
    /// How the event streams sent so far ended.
    pub stream_ends: std::sync::Arc<crate::stream_ends::StreamEnds>,
}

/// A poisoned lock only means another handler panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    /// Fresh state for `config`.
    pub fn new(config: EmulatorConfig) -> Self {
        let instance = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        State {
            config,
            requests: Mutex::default(),
            scenarios: Mutex::default(),
            raw: Mutex::default(),
            throttle_counts: Mutex::default(),
            big_streams: Mutex::default(),
            counter: AtomicU64::new(0),
            app_profiles: Mutex::default(),
            guardrails: Mutex::default(),
            prompt_cache: Mutex::default(),
            async_invocations: Default::default(),
            stream_ends: std::sync::Arc::default(),
            instance,
        }
    }

    /// Whether `prefix` is in the prompt cache (read), else caches it (written).
    pub fn prompt_cache_hit(&self, prefix: &crate::prompt_cache::Prefix) -> bool {
        crate::prompt_cache::read_or_write(
            &mut lock(&self.prompt_cache),
            prefix,
            std::time::Instant::now(),
        )
    }

    /// Adds a guardrail.
    pub fn add_guardrail(&self, guardrail: crate::guardrails::Guardrail) {
        lock(&self.guardrails).push(guardrail);
    }

    /// Every guardrail defined so far.
    pub fn guardrails(&self) -> Vec<crate::guardrails::Guardrail> {
        lock(&self.guardrails).clone()
    }

    /// Adds an application inference profile.
    pub fn add_app_profile(&self, profile: crate::catalogue::ApplicationProfile) {
        lock(&self.app_profiles).push(profile);
    }

    /// Every application inference profile, oldest first.
    pub fn app_profiles(&self) -> Vec<crate::catalogue::ApplicationProfile> {
        lock(&self.app_profiles).clone()
    }

    /// The application profile with this id or ARN.
    pub fn app_profile(&self, id_or_arn: &str) -> Option<crate::catalogue::ApplicationProfile> {
        let id = id_or_arn
            .rsplit_once("application-inference-profile/")
            .map_or(id_or_arn, |(_, id)| id);
        lock(&self.app_profiles)
            .iter()
            .find(|p| p.id == id)
            .cloned()
    }

    /// A random (version 4) UUID, as the service's request ids are.
    pub fn next_request_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut rng =
            fastrand::Rng::with_seed(self.instance ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            rng.u32(..),
            rng.u16(..),
            rng.u16(..0x1000),
            0x8000 | rng.u16(..0x4000),
            rng.u64(..1 << 48)
        )
    }

    /// The encoded body remembered for `key`, if any.
    pub fn remembered_stream(&self, key: u64) -> Option<Bytes> {
        lock(&self.big_streams)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, body)| body.clone())
    }

    /// Remembers an encoded body; only the newest few are kept, so memory stays bounded
    /// while a benchmark's alternating clients each find theirs.
    pub fn remember_stream(&self, key: u64, body: Bytes) {
        const KEEP: usize = 4;
        let mut bodies = lock(&self.big_streams);
        bodies.retain(|(k, _)| *k != key);
        if bodies.len() == KEEP {
            bodies.remove(0);
        }
        bodies.push((key, body));
    }

    /// Appends a recorded request.
    pub fn record(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    /// All recorded requests.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// Forgets recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    /// Registers a scenario for a model id.
    pub fn set_scenario(&self, model_id: &str, scenario: Scenario) {
        lock(&self.scenarios).insert(model_id.to_string(), scenario);
    }

    /// Removes a registered scenario.
    pub fn clear_scenario(&self, model_id: &str) {
        lock(&self.scenarios).remove(model_id);
    }

    /// The scenario registered for the first of `ids` that has one.
    pub fn scenario_for(&self, ids: &[&str]) -> Option<Scenario> {
        let map = lock(&self.scenarios);
        ids.iter().find_map(|id| map.get(*id).cloned())
    }

    /// Registers a raw response for a model id.
    pub fn set_raw_response(&self, model_id: &str, raw: RawResponse) {
        lock(&self.raw).insert(model_id.to_string(), raw);
    }

    /// Removes a raw response.
    pub fn clear_raw_response(&self, model_id: &str) {
        lock(&self.raw).remove(model_id);
    }

    /// The raw response for a model id.
    pub fn raw_for(&self, model_id: &str) -> Option<RawResponse> {
        lock(&self.raw).get(model_id).cloned()
    }

    /// Counts a request for `key` and says whether it is still within the first `limit`.
    pub fn should_throttle(&self, key: &str, limit: u32) -> bool {
        let mut counts = lock(&self.throttle_counts);
        let seen = counts.entry(key.to_string()).or_insert(0);
        *seen = seen.saturating_add(1);
        *seen <= limit
    }
}
