//! OpenTelemetry traces over OTLP/HTTP (`gateway.telemetry.otlpEndpoint`): one span per
//! model call, with the GenAI semantic conventions (`gen_ai.operation.name`,
//! `gen_ai.request.model`, `gen_ai.response.model`, `gen_ai.usage.input_tokens` and
//! `output_tokens`, time to the first output, `error.type`) and the gateway's own
//! (`gateway.key`: the key's id, never the key; cost; fallbacks). Never a prompt or an
//! answer. Spans are batched and exported from the SDK's own thread: a request never waits
//! for the collector, and when the queue is full spans are dropped, not requests slowed.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use serde::Deserialize;

/// `gateway.telemetry`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TelemetryConfig {
    /// The collector's OTLP/HTTP base URL (`http://127.0.0.1:4318`); spans go to
    /// `/v1/traces` under it.
    pub otlp_endpoint: String,
    /// The `service.name` of the spans [default: gateway].
    #[serde(default)]
    pub service_name: Option<String>,
}

/// How often batched spans are sent.
const EXPORT_EVERY: Duration = Duration::from_millis(500);

pub struct Telemetry {
    provider: SdkTracerProvider,
    tracer: opentelemetry_sdk::trace::Tracer,
}

impl Telemetry {
    pub fn start(config: &TelemetryConfig) -> Result<Self, String> {
        let base = config.otlp_endpoint.trim_end_matches('/');
        if !base.starts_with("http://") {
            return Err(format!(
                "gateway.telemetry.otlpEndpoint must be an http:// URL of an OTLP/HTTP collector (a local collector forwards over TLS), not {base:?}"
            ));
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(format!("{base}/v1/traces"))
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("gateway.telemetry: {e}"))?;
        let batches = BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(EXPORT_EVERY)
                    .build(),
            )
            .build();
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(
                config
                    .service_name
                    .clone()
                    .unwrap_or_else(|| "gateway".into()),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(batches)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("gateway");
        Ok(Self { provider, tracer })
    }

    /// A span for a model call of `operation` (chat, count_tokens) on `model`, begun at
    /// `started`.
    pub fn span(&self, operation: &str, model: &str, path: &str, started: SystemTime) -> Span {
        let span = self
            .tracer
            .span_builder(format!("{operation} {model}"))
            .with_kind(SpanKind::Server)
            .with_start_time(started)
            .with_attributes(vec![
                KeyValue::new("gen_ai.operation.name", operation.to_string()),
                KeyValue::new("gen_ai.request.model", model.to_string()),
                KeyValue::new("http.route", path.to_string()),
            ])
            .start(&self.tracer);
        Span(span)
    }

    /// Sends the spans still queued (at shutdown).
    pub fn flush(&self) {
        let _ = self.provider.force_flush();
        let _ = self.provider.shutdown();
    }
}

/// One model call's span; ended by [`Span::end`] (or when dropped).
pub struct Span(opentelemetry_sdk::trace::Span);

impl Span {
    pub fn set(&mut self, key: &'static str, value: impl Into<opentelemetry::Value>) {
        self.0.set_attribute(KeyValue::new(key, value));
    }

    pub fn fail(&mut self, error_type: &str) {
        self.set("error.type", error_type.to_string());
        self.0.set_status(Status::error(error_type.to_string()));
    }

    pub fn end(mut self) {
        self.0.end();
    }
}
