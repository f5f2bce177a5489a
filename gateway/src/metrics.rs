//! Prometheus metrics at `/metrics`: requests by status, errors by kind, tokens by direction,
//! time to first token, and streams in flight.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    errors: Family<Labels, Counter>,
    tokens: Family<Labels, Counter>,
    first_token: Histogram,
    in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    connections: Family<Labels, Counter>,
    shed: Counter,
    rate_limited: Family<Labels, Counter>,
    spend: Family<Labels, Counter<f64, std::sync::atomic::AtomicU64>>,
    fallbacks: Counter,
    admissions: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let errors = Family::<Labels, Counter>::default();
        let tokens = Family::<Labels, Counter>::default();
        let first_token = Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        let in_flight = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        registry.register(
            "gateway_requests",
            "Requests by HTTP status (every route, refusals included)",
            requests.clone(),
        );
        registry.register(
            "gateway_errors",
            "Failed requests by error kind",
            errors.clone(),
        );
        registry.register(
            "gateway_tokens",
            "Tokens by direction (input, output, cache_read, cache_write)",
            tokens.clone(),
        );
        registry.register(
            "gateway_time_to_first_token_seconds",
            "Time from request to the first model event",
            first_token.clone(),
        );
        registry.register(
            "gateway_streams_in_flight",
            "Chat completions being answered now",
            in_flight.clone(),
        );
        let connections = Family::<Labels, Counter>::default();
        registry.register(
            "gateway_connections_refused",
            "Connections turned away (reason: capacity, accept_error)",
            connections.clone(),
        );
        let shed = Counter::default();
        registry.register(
            "gateway_requests_shed",
            "Requests refused with a 503 because the most model calls were in flight",
            shed.clone(),
        );
        let rate_limited = Family::<Labels, Counter>::default();
        registry.register(
            "gateway_rate_limited",
            "Requests refused by a key's limits (limit: requests, tokens, budget)",
            rate_limited.clone(),
        );
        let spend = Family::<Labels, Counter<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "gateway_spend_usd",
            "What each key's answers cost, in US dollars (key: its name or id)",
            spend.clone(),
        );
        let fallbacks = Counter::default();
        registry.register(
            "gateway_fallbacks",
            "Model calls moved to an alias's next model after the one before failed before its first output",
            fallbacks.clone(),
        );
        let admissions = Family::<Labels, Counter>::default();
        registry.register(
            "gateway_admissions",
            "Requests of counted keys admitted, by who decided (by: store, the shared store's round trip; slot, a slot this replica reserved)",
            admissions.clone(),
        );
        Self {
            admissions,
            rate_limited,
            spend,
            fallbacks,
            shed,
            connections,
            registry,
            requests,
            errors,
            tokens,
            first_token,
            in_flight,
        }
    }

    pub fn request(&self, status: u16) {
        self.requests
            .get_or_create(&vec![("status".into(), status.to_string())])
            .inc();
    }

    pub fn error(&self, kind: &str) {
        self.errors
            .get_or_create(&vec![("kind".into(), kind.to_string())])
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
                .get_or_create(&vec![("direction".into(), direction.to_string())])
                .inc_by(n);
        }
    }

    /// A request refused by one of its key's limits.
    pub fn rate_limited(&self, limit: &str) {
        self.rate_limited
            .get_or_create(&vec![("limit".into(), limit.to_string())])
            .inc();
    }

    pub fn spend(&self, key: &str, usd: f64) {
        self.spend
            .get_or_create(&vec![("key".into(), key.to_string())])
            .inc_by(usd);
    }

    /// A request of a counted key admitted, by the store or on a reserved slot.
    pub fn admitted(&self, by: &'static str) {
        self.admissions
            .get_or_create(&vec![("by".into(), by.into())])
            .inc();
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
            .get_or_create(&vec![("reason".into(), "capacity".into())])
            .inc();
    }

    /// A failed accept (out of file descriptors, say).
    pub fn accept_error(&self) {
        self.connections
            .get_or_create(&vec![("reason".into(), "accept_error".into())])
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
