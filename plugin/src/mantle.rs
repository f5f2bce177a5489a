//! The second wire: Bedrock's OpenAI-compatible Responses API on Mantle
//! (`https://bedrock-mantle.{region}.api.aws/openai/v1/responses`), which the AWS SDK does not
//! serve. The request is plain HTTP sent through the SDK's own HTTP connector (so the same
//! rustls, extra CAs, proxy and connect timeout apply as for Converse), signed with
//! `aws-sigv4` for the `bedrock-mantle` signing name with credentials from the provider's
//! chain, or carrying the Bedrock API key as a bearer token; the answer is server-sent events
//! (`eventsource-stream`), each bounded like an event-stream message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use eventsource_stream::{Event, EventStream};
use futures::stream::{BoxStream, StreamExt};
use host_sdk::ErrorKind;

use crate::body_watch::{Progress, MAX_MESSAGE_BYTES, MAX_OTHER_BODY_BYTES};
use crate::errors::{error, from_service_error, CallContext, CallFailure};

/// Mantle's SigV4 signing name (IAM actions `bedrock-mantle:*`).
pub const SIGNING_NAME: &str = "bedrock-mantle";
/// The Responses route of OpenAI's models on Mantle.
const RESPONSES_PATH: &str = "/openai/v1/responses";
/// Mantle's model list (OpenAI's shape): every model it serves in the region, whichever route.
const MODELS_PATH: &str = "/v1/models";
/// Credentials are fetched again this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

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

/// Where a Mantle call goes, and the region it is signed for.
#[derive(Debug, Clone)]
pub struct MantleTarget {
    pub base_url: String,
    pub region: String,
}

/// How Mantle requests authenticate.
pub enum MantleAuth {
    /// A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`).
    Bearer(String),
    /// SigV4 with the provider's credentials, fetched when they are near expiry.
    SigV4 {
        provider: SharedCredentialsProvider,
        cached: tokio::sync::Mutex<Option<Credentials>>,
    },
    /// No credentials source at all.
    None,
}

/// How the provider connects: its TLS (extra CAs), proxy and connect timeout.
pub struct Connection {
    pub tls: aws_smithy_http_client::tls::TlsContext,
    pub proxy: aws_smithy_http_client::proxy::ProxyConfig,
    pub connect_timeout: Duration,
}

/// The provider's Mantle client: one pooled connector for every call, made on the first
/// (most providers never call Mantle for a model; building a TLS connector costs about a
/// millisecond, and the first one in a process reads the system's roots).
pub struct MantleClient {
    pub connection: Connection,
    pub connector: std::sync::OnceLock<aws_smithy_http_client::Connector>,
    /// Model calls: beside the runtime endpoint, in its region.
    pub runtime: MantleTarget,
    /// The model list: beside the control plane, in the discovery region (as
    /// ListFoundationModels).
    pub listing: MantleTarget,
    pub auth: MantleAuth,
}

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
            .request(&self.runtime, "POST", RESPONSES_PATH, body, ctx)
            .await?;
        let (content_type, body) = self.send(request, ctx).await?;
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
            .request(&self.listing, "GET", MODELS_PATH, Bytes::new(), ctx)
            .await?;
        let (_, body) = self.send(request, ctx).await?;
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

    /// The connector, made on first use.
    fn connector(&self) -> &aws_smithy_http_client::Connector {
        use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
        use aws_smithy_runtime_api::client::http::HttpConnectorSettings;
        self.connector.get_or_init(|| {
            let c = &self.connection;
            aws_smithy_http_client::Connector::builder()
                .connector_settings(
                    HttpConnectorSettings::builder()
                        .connect_timeout(c.connect_timeout)
                        .build(),
                )
                .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
                .proxy_config(c.proxy.clone())
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(c.tls.clone())
                .build()
        })
    }

    /// Sends `request`: a 2xx answer's content type and body, or the service's refusal typed
    /// as the same refusal from Converse.
    async fn send(
        &self,
        request: HttpRequest,
        ctx: &CallContext<'_>,
    ) -> Result<(String, SdkBody), CallFailure> {
        let response = self
            .connector()
            .call(request)
            .await
            .map_err(|e| unreachable_endpoint(&e, ctx))?;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).map(str::to_string);
        let (error_type, content_type) = (header("x-amzn-ErrorType"), header("content-type"));
        let body = response.into_body();
        if !(200..300).contains(&status) {
            let text = read_capped(body).await;
            return Err(service_failure(status, error_type.as_deref(), &text, ctx));
        }
        Ok((content_type.unwrap_or_default(), body))
    }

    /// The signed (or keyed) HTTP request.
    async fn request(
        &self,
        target: &MantleTarget,
        method: &str,
        path: &str,
        body: Bytes,
        ctx: &CallContext<'_>,
    ) -> Result<HttpRequest, CallFailure> {
        let uri = format!("{}{path}", target.base_url.trim_end_matches('/'));
        let mut request = http::Request::builder()
            .method(method)
            .uri(&uri)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream, application/json")
            .body(body.clone())
            .map_err(|e| {
                error(
                    ErrorKind::Config,
                    format!("the Mantle endpoint `{uri}` is not a URL: {e}"),
                )
            })?;
        match &self.auth {
            MantleAuth::Bearer(token) => {
                let value =
                    http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        error(
                            ErrorKind::NoCredentials,
                            "AWS_BEARER_TOKEN_BEDROCK holds characters a header cannot carry",
                        )
                    })?;
                request.headers_mut().insert("authorization", value);
            }
            MantleAuth::SigV4 { provider, cached } => {
                let credentials = fresh_credentials(provider, cached, ctx).await?;
                sign_request(&mut request, &target.region, &credentials, &body)?;
            }
            MantleAuth::None => {
                return Err(error(
                    ErrorKind::NoCredentials,
                    format!(
                        "{} needs AWS credentials or a Bedrock API key, and none were found",
                        ctx.operation
                    ),
                )
                .into())
            }
        }
        let (parts, body) = request.into_parts();
        HttpRequest::try_from(http::Request::from_parts(parts, SdkBody::from(body))).map_err(|e| {
            error(
                ErrorKind::Internal,
                format!("building the Mantle request: {e}"),
            )
            .into()
        })
    }
}

/// Signs `request` with SigV4 for Mantle in `region`.
fn sign_request(
    request: &mut http::Request<Bytes>,
    region: &str,
    credentials: &Credentials,
    body: &[u8],
) -> Result<(), CallFailure> {
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| error(ErrorKind::Internal, format!("signing parameters: {e}")))?;
    let headers = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
    let uri = request.uri().to_string();
    let method = request.method().as_str().to_string();
    let signable = SignableRequest::new(&method, &uri, headers, SignableBody::Bytes(body))
        .map_err(|e| error(ErrorKind::Internal, format!("signing the request: {e}")))?;
    let (instructions, _) = sign(signable, &params.into())
        .map_err(|e| error(ErrorKind::Internal, format!("signing the request: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// The provider's credentials, fetched again only when near expiry.
async fn fresh_credentials(
    provider: &SharedCredentialsProvider,
    cached: &tokio::sync::Mutex<Option<Credentials>>,
    ctx: &CallContext<'_>,
) -> Result<Credentials, CallFailure> {
    let mut cached = cached.lock().await;
    let usable = |c: &Credentials| {
        c.expiry()
            .is_none_or(|at| at > SystemTime::now() + REFRESH_BEFORE_EXPIRY)
    };
    if let Some(c) = cached.as_ref().filter(|c| usable(c)) {
        return Ok(c.clone());
    }
    let fresh = provider.provide_credentials().await.map_err(|e| {
        error(
            ErrorKind::NoCredentials,
            format!(
                "{} could not get AWS credentials from {}: {}",
                ctx.operation,
                ctx.credential_source,
                crate::errors::source_chain(&e)
            ),
        )
    })?;
    *cached = Some(fresh.clone());
    Ok(fresh)
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

/// At most [`MAX_OTHER_BODY_BYTES`] of an error body, as text.
async fn read_capped(body: SdkBody) -> String {
    let mut stream = http_body_util::BodyStream::new(body);
    let mut out = Vec::new();
    while let Some(Ok(frame)) = stream.next().await {
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
            if out.len() as u64 > MAX_OTHER_BODY_BYTES {
                out.truncate(MAX_OTHER_BODY_BYTES as usize);
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The service's refusal, typed as the same refusal on Converse: by its AWS error type when
/// the front end sent one (authentication), else by the HTTP status; the message is OpenAI's
/// `error.message` (or the AWS `message`).
fn service_failure(
    status: u16,
    error_type: Option<&str>,
    body: &str,
    ctx: &CallContext<'_>,
) -> CallFailure {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let message = json["error"]["message"]
        .as_str()
        .or_else(|| json["message"].as_str())
        .or_else(|| json["Message"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "HTTP {status}: {}",
                body.chars().take(200).collect::<String>()
            )
        });
    let code = match (error_type, status) {
        (Some(t), _) => t,
        (None, 401 | 403) => "AccessDeniedException",
        (None, 404) => "ResourceNotFoundException",
        (None, 408 | 504) => "ModelTimeoutException",
        (None, 429) => "ThrottlingException",
        (None, 503) => "ServiceUnavailableException",
        (None, 500..=599) => "InternalServerException",
        (None, _) => "ValidationException",
    };
    CallFailure {
        error: from_service_error(code, &message, ctx),
        service_message: Some(message),
    }
}

/// The endpoint did not answer: as the SDK's own dispatch failures are reported.
fn unreachable_endpoint(
    e: &aws_smithy_runtime_api::client::result::ConnectorError,
    ctx: &CallContext<'_>,
) -> CallFailure {
    let detail = crate::errors::source_chain(e);
    let (kind, text) = if e.is_timeout() {
        (
            ErrorKind::Timeout,
            format!("{} timed out connecting: {detail}", ctx.operation),
        )
    } else if detail.contains("certificate") {
        (ErrorKind::Network, format!("{} could not verify the endpoint's TLS certificate: {detail}. If a proxy or private endpoint uses its own certificate authority, trust it with `models.providers.\"amazon-bedrock\".caBundle` or AWS_CA_BUNDLE (a PEM file)", ctx.operation))
    } else {
        (
            ErrorKind::Network,
            format!(
                "{} could not reach Bedrock's Mantle endpoint: {detail}",
                ctx.operation
            ),
        )
    };
    error(kind, text).into()
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
