//! What one model call leaves behind when it ends (or its client goes away): its access line
//! (one JSON-ready structured event per request, target `gateway::access`: the key's id,
//! never the key; the model asked and the one that served, and the service tier that served
//! it when the provider said; status; tokens, reasoning tokens among the output when counted;
//! cost; latency; time to the first output; fallbacks), its charge to the key's account, and its room among
//! the calls in flight, given back. A call refused before any output has no record: the
//! router's access line covers it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use host_sdk::TokenUsage;

use crate::errors::ApiError;
use crate::ledger::Account;
use crate::metrics::InFlight;
use crate::state::Gateway;

/// Marks a response whose access line the call's [`Record`] writes, when the answer ends.
#[derive(Clone, Copy)]
pub struct LoggedAtEnd;

pub struct Record {
    gateway: Arc<Gateway>,
    path: &'static str,
    key: Option<String>,
    asked: String,
    /// The model whose first output reached the client; none before that.
    served: Option<String>,
    /// The service tier that served the answer, when the provider said.
    served_tier: Option<String>,
    started: Instant,
    first_output: Option<Duration>,
    usage: Option<TokenUsage>,
    cost_usd: Option<f64>,
    fallbacks: u32,
    /// How the answer ended: none while it runs (a record dropped then lost its client).
    outcome: Option<Result<(), String>>,
    account: Option<Account>,
    /// The call's trace span, with telemetry on.
    span: Option<crate::telemetry::Span>,
    /// Counts the request in flight.
    _in_flight: InFlight,
    /// Its room among the model calls in flight.
    _admitted: tokio::sync::OwnedSemaphorePermit,
}

impl Record {
    pub fn new(
        gateway: &Arc<Gateway>,
        path: &'static str,
        key: Option<String>,
        asked: String,
        started: Instant,
        admitted: tokio::sync::OwnedSemaphorePermit,
        account: Option<Account>,
    ) -> Self {
        let span = gateway.telemetry.as_ref().map(|telemetry| {
            // The GenAI conventions' operation names.
            let operation = if path.ends_with("count_tokens") {
                "count_tokens"
            } else if path.ends_with("embeddings") {
                "embeddings"
            } else {
                "chat"
            };
            let began = std::time::SystemTime::now() - started.elapsed();
            let mut span = telemetry.span(operation, &asked, path, began);
            if let Some(key) = &key {
                span.set("gateway.key", key.clone());
            }
            span
        });
        Self {
            span,
            gateway: gateway.clone(),
            path,
            key,
            asked,
            served: None,
            served_tier: None,
            started,
            first_output: None,
            usage: None,
            cost_usd: None,
            fallbacks: 0,
            outcome: None,
            account,
            _in_flight: gateway.metrics.in_flight(),
            _admitted: admitted,
        }
    }

    pub fn fallback(&mut self) {
        self.fallbacks += 1;
    }

    /// The model `served` sent its first output.
    pub fn first_output(&mut self, served: &str) {
        let elapsed = self.started.elapsed();
        self.gateway.metrics.first_token(elapsed.as_secs_f64());
        self.first_output = Some(elapsed);
        self.served = Some(served.to_string());
    }

    /// The answer's token counts and cost, charged to the key.
    pub fn usage(&mut self, usage: &TokenUsage, cost_usd: Option<f64>) {
        self.usage = Some(*usage);
        self.cost_usd = cost_usd;
        if let Some(account) = &self.account {
            let tokens = usage.input_tokens
                + usage.cache_read_tokens
                + usage.cache_write_tokens
                + usage.output_tokens;
            account.charge(tokens, cost_usd);
        }
    }

    pub fn answered(&mut self) {
        self.outcome = Some(Ok(()));
    }

    /// The answer `completion` ended: answered, at the tier it says served it.
    pub fn completed(&mut self, completion: &host_sdk::Completion) {
        self.served_tier = super::served_tier(completion).map(str::to_string);
        self.answered();
    }

    pub fn failed(&mut self, error: &ApiError) {
        self.outcome = Some(Err(error.code.clone()));
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let usage = self.usage.unwrap_or_default();
        let error = match &self.outcome {
            Some(Ok(())) => None,
            Some(Err(code)) => Some(code.as_str()),
            None => Some("client_gone"),
        };
        if let Some(mut span) = self.span.take() {
            if let Some(served) = &self.served {
                span.set("gen_ai.response.model", served.clone());
            }
            if let Some(first) = self.first_output {
                span.set("gen_ai.server.time_to_first_token", first.as_secs_f64());
            }
            if self.usage.is_some() {
                let input = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens;
                span.set("gen_ai.usage.input_tokens", input as i64);
                span.set("gen_ai.usage.output_tokens", usage.output_tokens as i64);
            }
            if let Some(cost) = self.cost_usd {
                span.set("gateway.cost_usd", cost);
            }
            span.set("gateway.fallbacks", i64::from(self.fallbacks));
            if let Some(error) = error {
                span.fail(error);
            }
            span.end();
        }
        // A call refused before any output: the router's access line covers it.
        let Some(served) = &self.served else {
            return;
        };
        tracing::info!(
            target: "gateway::access",
            method = "POST",
            path = self.path,
            status = 200u16,
            key = self.key.as_deref().unwrap_or("-"),
            model = %self.asked,
            served_model = %served,
            input_tokens = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
            output_tokens = usage.output_tokens,
            reasoning_tokens = usage.reasoning_tokens,
            service_tier = self.served_tier.as_deref(),
            cost_usd = self.cost_usd.unwrap_or(0.0),
            ms = self.started.elapsed().as_secs_f64() * 1e3,
            first_output_ms = self.first_output.map_or(0.0, |d| d.as_secs_f64() * 1e3),
            fallbacks = self.fallbacks,
            error,
            "request"
        );
    }
}
