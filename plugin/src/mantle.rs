//! The second wire: Bedrock's OpenAI-compatible Responses API on Mantle
//! (`https://bedrock-mantle.{region}.api.aws/openai/v1/responses`), which the AWS SDK does not
//! serve. The request is plain HTTP through the provider's [`SignedHttp`] (signed for the
//! `bedrock-mantle` signing name, or carrying the Bedrock API key); the answer is server-sent
//! events (`eventsource-stream`), each bounded like an event-stream message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use eventsource_stream::{Event, EventStream};
use futures::stream::{BoxStream, StreamExt};
use host_sdk::ErrorKind;

use crate::errors::{error, CallContext, CallFailure};
use crate::response_body::{Progress, MAX_MESSAGE_BYTES};
use crate::signed_http::{read_capped, Endpoint, SignedHttp};

/// Mantle's SigV4 signing name (IAM actions `bedrock-mantle:*`).
pub const SIGNING_NAME: &str = "bedrock-mantle";
/// The Responses route of OpenAI's models on Mantle.
const RESPONSES_PATH: &str = "/openai/v1/responses";
/// Mantle's model list (OpenAI's shape): every model it serves in the region, whichever route.
const MODELS_PATH: &str = "/v1/models";

/// Mantle beside a Bedrock endpoint: `https://bedrock-runtime.R.amazonaws.com` (or the
/// control plane's `https://bedrock.R.amazonaws.com`) → `https://bedrock-mantle.R.api.aws`;
/// any other endpoint (an emulator, a proxy) serves Mantle's paths at the same URL; none at
/// all, the region's.
pub fn mantle_url(endpoint: Option<&str>, region: &str) -> String {
    match endpoint {
        Some(url) if url.contains(".amazonaws.com") => {
            let host = ["://bedrock-runtime.", "://bedrock."]
                .into_iter()
                .find(|h| url.contains(h));
            match host {
                Some(h) => url.replacen(h, "://bedrock-mantle.", 1).replacen(
                    ".amazonaws.com",
                    ".api.aws",
                    1,
                ),
                None => url.to_string(),
            }
        }
        Some(url) => url.to_string(),
        None => format!("https://bedrock-mantle.{region}.api.aws"),
    }
}

/// The provider's Mantle client.
pub struct MantleClient {
    pub http: Arc<SignedHttp>,
    /// Model calls: beside the runtime endpoint, in its region.
    pub runtime: Endpoint,
    /// The model list: beside the control plane, in the discovery region (as
    /// ListFoundationModels).
    pub listing: Endpoint,
}

/// What Mantle's answers may be: events, or a JSON document (a list, an error).
const ACCEPT: &str = "text/event-stream, application/json";

/// The events of one streamed response, with their bytes counted (the idle timeout's
/// progress) and each bounded.
pub struct ResponseEvents {
    events: BoxStream<'static, Result<Event, String>>,
    /// Bytes received since the last complete event.
    pending: Arc<AtomicU64>,
}

impl ResponseEvents {
    /// The next event (its type and data), `None` at the end of the stream.
    pub async fn next(&mut self, ctx: &CallContext<'_>) -> Result<Option<Event>, CallFailure> {
        match self.events.next().await {
            None => Ok(None),
            Some(Ok(event)) => {
                self.pending.store(0, Ordering::Relaxed);
                Ok(Some(event))
            }
            Some(Err(why)) => Err(error(
                ErrorKind::Network,
                format!(
                    "{} failed reading the response stream: {why}",
                    ctx.operation
                ),
            )
            .into()),
        }
    }
}

impl MantleClient {
    /// Sends a Responses request and waits for its answer's head: the events on success, the
    /// service's error typed as the same error from Converse otherwise.
    pub async fn stream(
        &self,
        body: Bytes,
        progress: &Progress,
        ctx: &CallContext<'_>,
    ) -> Result<ResponseEvents, CallFailure> {
        let request = self
            .http
            .request(&self.runtime, "POST", RESPONSES_PATH, body, ACCEPT, ctx)
            .await?;
        let (content_type, body) = self.http.send(request, ctx).await?;
        if !content_type.starts_with("text/event-stream") {
            let text = read_capped(body).await;
            return Err(error(
                ErrorKind::Network,
                format!(
                    "{} answered with `{content_type}`, not a stream of events: {}",
                    ctx.operation,
                    text.chars().take(200).collect::<String>()
                ),
            )
            .into());
        }
        Ok(events(body, progress.clone()))
    }

    /// The ids of the models Mantle serves in the region (`GET /v1/models`).
    pub async fn list_models(&self, ctx: &CallContext<'_>) -> Result<Vec<String>, CallFailure> {
        let request = self
            .http
            .request(&self.listing, "GET", MODELS_PATH, Bytes::new(), ACCEPT, ctx)
            .await?;
        let (_, body) = self.http.send(request, ctx).await?;
        let text = read_capped(body).await;
        let list: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            error(
                ErrorKind::Network,
                format!(
                    "{} answered with a model list that is not JSON: {e}",
                    ctx.operation
                ),
            )
        })?;
        Ok(list["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect())
    }
}

/// The response's events, each at most [`MAX_MESSAGE_BYTES`] long.
fn events(body: SdkBody, progress: Progress) -> ResponseEvents {
    let pending = Arc::new(AtomicU64::new(0));
    let counted = pending.clone();
    let bytes = http_body_util::BodyStream::new(body).filter_map(move |frame| {
        let progress = progress.clone();
        let counted = counted.clone();
        async move {
            match frame {
                Ok(frame) => {
                    let data = frame.into_data().ok()?;
                    progress.add(data.len() as u64);
                    let waiting = counted.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
                    if waiting > u64::from(MAX_MESSAGE_BYTES) {
                        return Some(Err(format!(
                            "an event is larger than {MAX_MESSAGE_BYTES} bytes; refusing to buffer it"
                        )));
                    }
                    Some(Ok::<Bytes, String>(data))
                }
                Err(e) => Some(Err(e.to_string())),
            }
        }
    });
    let events = EventStream::new(bytes)
        .map(|r| r.map_err(|e| e.to_string()))
        .boxed();
    ResponseEvents { events, pending }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mantle_is_found_from_the_runtime_endpoint_or_the_region() {
        assert_eq!(
            mantle_url(
                Some("https://bedrock-runtime.us-west-2.amazonaws.com"),
                "us-west-2"
            ),
            "https://bedrock-mantle.us-west-2.api.aws"
        );
        assert_eq!(
            mantle_url(Some("http://127.0.0.1:4000"), "us-east-1"),
            "http://127.0.0.1:4000"
        );
        assert_eq!(
            mantle_url(None, "eu-west-1"),
            "https://bedrock-mantle.eu-west-1.api.aws"
        );
    }
}
