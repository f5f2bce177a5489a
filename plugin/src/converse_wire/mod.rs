//! ConverseStream without the SDK's orchestrator: the request written from the prepared call
//! (`request.rs`), signed and sent through the provider's [`SignedHttp`] (one pooled
//! connector), its event stream decoded (`events.rs` the frames, `payloads.rs` each
//! event's JSON, `guardrail.rs` guardrail traces) into the SDK's event type, which the
//! stream driver and its assembler handle. The SDK's orchestrator (endpoint rules, identity
//! and auth scheme resolution, interceptors, retry classification, config layers) cost about 0.1 ms of CPU per call, a third of what a short
//! call cost the whole process; its results are the same for every call of a provider, so
//! they are worked out once here: the endpoint when the provider is made (by the SDK's own
//! rules), the credentials when they near expiry (from the SDK's chain).

mod events;
mod guardrail;
mod payloads;
mod request;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use aws_sdk_bedrockruntime::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use bytes::Bytes;
use host_sdk::ErrorKind;

use crate::errors::{error, not_an_event_stream, CallContext, CallFailure};
use crate::response_body::{is_event_stream, NotAnEventStream, Progress};
use crate::signed_http::{read_capped, Endpoint, SignedHttp};
use crate::translate::Prepared;

pub use events::WireEvents;

/// Bedrock runtime's SigV4 signing name.
const SIGNING_NAME: &str = "bedrock";
/// The service id under which the SDK looks up a configured endpoint
/// (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, a profile's `services` section).
const SERVICE_ID: &str = "Bedrock Runtime";
/// What a ConverseStream answer may be: events, or a JSON error document.
const ACCEPT: &str = "application/vnd.amazon.eventstream, application/json";

/// The provider's ConverseStream client.
pub struct ConverseWire {
    http: Arc<SignedHttp>,
    /// Where the SDK would send the call, or why its rules found no endpoint.
    endpoint: Result<Endpoint, String>,
}

impl ConverseWire {
    /// The client for `region`, at `endpoint` when the provider names one.
    pub fn new(
        http: Arc<SignedHttp>,
        sdk: &aws_config::SdkConfig,
        endpoint: Option<&str>,
        region: &str,
    ) -> Self {
        let endpoint = runtime_url(sdk, endpoint, region).map(|base_url| Endpoint {
            base_url,
            region: region.to_string(),
            signing_name: SIGNING_NAME,
        });
        Self { http, endpoint }
    }

    /// Sends `prepared` as a ConverseStream call and waits for its answer's head: the events
    /// on success, the service's refusal typed as the SDK's own calls type theirs otherwise.
    pub async fn stream(
        &self,
        prepared: &Prepared,
        progress: &Progress,
        ctx: &CallContext<'_>,
    ) -> Result<WireEvents, CallFailure> {
        let body = request::body(prepared).map(Bytes::from).map_err(|what| {
            error(
                ErrorKind::Internal,
                format!("the request holds {what} of a kind this plugin cannot write"),
            )
        })?;
        let endpoint = self.endpoint.as_ref().map_err(|why| {
            error(
                ErrorKind::Config,
                format!(
                    "no Bedrock runtime endpoint for region `{}`: {why}",
                    ctx.region
                ),
            )
        })?;
        let path = format!(
            "/model/{}/converse-stream",
            aws_smithy_http::label::fmt_string(
                &prepared.model_id,
                aws_smithy_http::label::EncodingStrategy::Default
            )
        );
        let request = self
            .http
            .request(endpoint, "POST", &path, body, ACCEPT, ctx)
            .await?;
        let (content_type, body) = self.http.send(request, ctx).await?;
        if !is_event_stream(&content_type) {
            let text = read_capped(body).await;
            let found = NotAnEventStream::from_body(content_type, text.as_bytes());
            return Err(CallFailure {
                service_message: found.message.clone(),
                error: not_an_event_stream(&found, ctx),
            });
        }
        Ok(WireEvents::new(body, progress.clone()))
    }
}

/// The runtime endpoint the SDK's client would use: the provider's own, else one configured
/// for the SDK (the service's or the global endpoint URL), else the SDK's endpoint rules for
/// the region, FIPS and dual-stack settings. Resolved once: for Bedrock runtime they depend
/// on nothing in the call.
fn runtime_url(
    sdk: &aws_config::SdkConfig,
    endpoint: Option<&str>,
    region: &str,
) -> Result<String, String> {
    if let Some(url) = endpoint {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let configured = sdk
        .service_config()
        .and_then(|c| {
            let key = aws_types::service_config::ServiceConfigKey::builder()
                .service_id(SERVICE_ID)
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .ok()?;
            c.load_config(key)
        })
        .or_else(|| sdk.endpoint_url().map(str::to_string));
    let params = Params::builder()
        .region(region.to_string())
        .use_fips(sdk.use_fips().unwrap_or(false))
        .use_dual_stack(sdk.use_dual_stack().unwrap_or(false))
        .set_endpoint(configured)
        .build()
        .map_err(|e| e.to_string())?;
    // The default resolver answers at once (its future is ready when made).
    let resolved = futures::executor::block_on(DefaultResolver::new().resolve_endpoint(&params));
    resolved
        .map(|e| e.url().trim_end_matches('/').to_string())
        .map_err(|e| crate::errors::source_chain(e.as_ref()))
}
