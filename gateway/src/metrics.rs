//! Prometheus metrics at `/metrics`: requests by status, errors by kind, tokens by direction,
//! time to first token, and streams in flight.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// One label whose value the gateway names (a direction, a reason): looked up without
/// allocating, as every request's metrics are.
type Named = [(&'static str, &'static str); 1];
/// One label with a number (an HTTP status).
type Numbered = [(&'static str, u16); 1];
/// One label whose value comes from elsewhere (an error code, a key's name).
type Owned = [(&'static str, String); 1];

pub struct Metrics {
    registry: Registry,
    requests: Family<Numbered, Counter>,
    errors: Family<Owned, Counter>,
    tokens: Family<Named, Counter>,
    first_token: Histogram,
    in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    connections: Family<Named, Counter>,
    shed: Counter,
    rate_limited: Family<Named, Counter>,
    spend: Family<Owned, Counter<f64, std::sync::atomic::AtomicU64>>,
    fallbacks: Counter,
    admissions: Family<Named, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        // Each field registers its metric; the registry itself moves in last.
        Self {
            requests: register(
                &mut registry,
                "gateway_requests",
                "Requests by HTTP status (every route, refusals included)",
                Family::default(),
            ),
            errors: register(
                &mut registry,
                "gateway_errors",
                "Failed requests by error kind",
                Family::default(),
            ),
            tokens: register(
                &mut registry,
                "gateway_tokens",
                "Tokens by direction (input, output, cache_read, cache_write)",
                Family::default(),
            ),
            first_token: register(
                &mut registry,
                "gateway_time_to_first_token_seconds",
                "Time from request to the first model event",
                Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            ),
            in_flight: register(
                &mut registry,
                "gateway_streams_in_flight",
                "Chat completions being answered now",
                Gauge::default(),
            ),
            connections: register(
                &mut registry,
                "gateway_connections_refused",
                "Connections turned away (reason: capacity, accept_error)",
                Family::default(),
            ),
            shed: register(
                &mut registry,
                "gateway_requests_shed",
                "Requests refused with a 503 because the most model calls were in flight",
                Counter::default(),
            ),
            rate_limited: register(
                &mut registry,
                "gateway_rate_limited",
                "Requests refused by a key's limits (limit: requests, tokens, budget)",
                Family::default(),
            ),
            spend: register(
                &mut registry,
                "gateway_spend_usd",
                "What each key's answers cost, in US dollars (key: its name or id)",
                Family::default(),
            ),
            fallbacks: register(
                &mut registry,
                "gateway_fallbacks",
                "Model calls moved to an alias's next model after the one before failed before its first output",
                Counter::default(),
            ),
            admissions: register(
                &mut registry,
                "gateway_admissions",
                "Requests of counted keys admitted, by who decided (by: store, the shared store's round trip; slot, a slot this replica reserved)",
                Family::default(),
            ),
            registry,
        }
    }

    pub fn request(&self, status: u16) {
        self.requests.get_or_create(&[("status", status)]).inc();
    }

    pub fn error(&self, kind: &str) {
        self.errors
            .get_or_create(&[("kind", kind.to_string())])
            .inc();
    }

    pub fn tokens(&self, usage: &host_sdk::TokenUsage) {
        for (direction, n) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_tokens),
            ("cache_write", usage.cache_write_tokens),
        ] {
            self.tokens
                .get_or_create(&[("direction", direction)])
                .inc_by(n);
        }
    }

    /// A request refused by one of its key's limits.
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited.get_or_create(&[("limit", limit)]).inc();
    }

    pub fn spend(&self, key: &str, usd: f64) {
        self.spend
            .get_or_create(&[("key", key.to_string())])
            .inc_by(usd);
    }

    /// A request of a counted key admitted, by the store or on a reserved slot.
    pub fn admitted(&self, by: &'static str) {
        self.admissions.get_or_create(&[("by", by)]).inc();
    }

    pub fn fallback(&self) {
        self.fallbacks.inc();
    }

    pub fn shed(&self) {
        self.shed.inc();
    }

    /// A client turned away at the connection cap.
    pub fn connection_refused(&self) {
        self.connections
            .get_or_create(&[("reason", "capacity")])
            .inc();
    }

    /// A failed accept (out of file descriptors, say).
    pub fn accept_error(&self) {
        self.connections
            .get_or_create(&[("reason", "accept_error")])
            .inc();
    }

    pub fn first_token(&self, seconds: f64) {
        self.first_token.observe(seconds);
    }

    /// Counts a stream in flight until the returned guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// One stream in flight; dropping it ends it (however the stream ends).
pub struct InFlight(Gauge<i64, std::sync::atomic::AtomicI64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Registers `metric` (a handle sharing its values) under `name`, and returns it.
fn register<M: prometheus_client::registry::Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}
