//! Signed HTTP to Bedrock without the SDK's orchestrator: one pooled connector per provider
//! (the SDK's own, so the same rustls, extra CAs, proxy and connect timeout apply as for the
//! SDK's calls), requests signed with `aws-sigv4` with credentials from the provider's chain
//! or carrying the Bedrock API key as a bearer token, and the service's refusals typed as
//! the SDK's own calls type them. ConverseStream ([`crate::converse_wire`]) and Mantle's
//! Responses API (which the SDK does not serve) go through it.

use std::sync::RwLock;
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
use futures::stream::StreamExt;
use host_sdk::ErrorKind;

use crate::errors::{
    code_for_status, error, from_service_error, unanswered, CallContext, CallFailure,
};
use crate::response_body::MAX_OTHER_BODY_BYTES;

/// Who is calling, in the service's request logs (CloudTrail's `userAgent`).
const USER_AGENT: &str = concat!("amazon-bedrock-plugin/", env!("CARGO_PKG_VERSION"));
/// Credentials are fetched again this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// How requests authenticate.
pub enum Auth {
    /// A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`).
    Bearer(String),
    /// SigV4 with the provider's credentials, fetched when they are near expiry.
    SigV4 {
        provider: SharedCredentialsProvider,
        /// The credentials in use: read by every request, written when they are renewed.
        cached: RwLock<Option<Credentials>>,
        /// One renewal at a time: the requests that find them stale wait for it.
        renewal: tokio::sync::Mutex<()>,
    },
    /// No credentials source at all.
    None,
}

impl Auth {
    pub fn sigv4(provider: SharedCredentialsProvider) -> Self {
        Auth::SigV4 {
            provider,
            cached: RwLock::new(None),
            renewal: tokio::sync::Mutex::new(()),
        }
    }
}

/// How the provider connects: its TLS (extra CAs), proxy and connect timeout.
pub struct Connection {
    pub tls: aws_smithy_http_client::tls::TlsContext,
    pub proxy: aws_smithy_http_client::proxy::ProxyConfig,
    pub connect_timeout: Duration,
}

/// Where a call goes, the region it is signed for and the service's signing name.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub region: String,
    pub signing_name: &'static str,
}

/// The provider's signed HTTP client: one pooled connector for every call, made on the first
/// (building a TLS connector costs about a millisecond, and the first one in a process reads
/// the system's roots).
pub struct SignedHttp {
    connection: Connection,
    connector: std::sync::OnceLock<aws_smithy_http_client::Connector>,
    auth: Auth,
}

impl SignedHttp {
    pub fn new(connection: Connection, auth: Auth) -> Self {
        Self {
            connection,
            connector: Default::default(),
            auth,
        }
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
    /// as the same refusal from the SDK.
    pub async fn send(
        &self,
        request: HttpRequest,
        ctx: &CallContext<'_>,
    ) -> Result<(String, SdkBody), CallFailure> {
        let response = self
            .connector()
            .call(request)
            .await
            .map_err(|e| unanswered(e.is_timeout(), crate::errors::source_chain(&e), ctx))?;
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

    /// The signed (or keyed) HTTP request; `path` is already percent-encoded.
    pub async fn request(
        &self,
        target: &Endpoint,
        method: &str,
        path: &str,
        body: Bytes,
        accept: &'static str,
        ctx: &CallContext<'_>,
    ) -> Result<HttpRequest, CallFailure> {
        let uri = format!("{}{path}", target.base_url.trim_end_matches('/'));
        let mut request = http::Request::builder()
            .method(method)
            .uri(&uri)
            .header("content-type", "application/json")
            .header("accept", accept)
            .header("user-agent", USER_AGENT)
            .body(body.clone())
            .map_err(|e| {
                error(
                    ErrorKind::Config,
                    format!("the endpoint `{uri}` is not a URL: {e}"),
                )
            })?;
        match &self.auth {
            Auth::Bearer(token) => {
                let value =
                    http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        error(
                            ErrorKind::NoCredentials,
                            "AWS_BEARER_TOKEN_BEDROCK holds characters a header cannot carry",
                        )
                    })?;
                request.headers_mut().insert("authorization", value);
            }
            Auth::SigV4 {
                provider,
                cached,
                renewal,
            } => {
                let credentials = fresh_credentials(provider, cached, renewal, ctx).await?;
                sign_request(&mut request, target, &credentials, &body)?;
            }
            Auth::None => {
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
                format!("building the {} request: {e}", ctx.operation),
            )
            .into()
        })
    }
}

/// Signs `request` with SigV4 for `target`'s service and region.
fn sign_request(
    request: &mut http::Request<Bytes>,
    target: &Endpoint,
    credentials: &Credentials,
    body: &[u8],
) -> Result<(), CallFailure> {
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&target.region)
        .name(target.signing_name)
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

/// The provider's credentials, fetched again only when near expiry (by one request; the
/// others that find them stale wait for its result).
async fn fresh_credentials(
    provider: &SharedCredentialsProvider,
    cached: &RwLock<Option<Credentials>>,
    renewal: &tokio::sync::Mutex<()>,
    ctx: &CallContext<'_>,
) -> Result<Credentials, CallFailure> {
    let usable = |c: &Credentials| {
        c.expiry()
            .is_none_or(|at| at > SystemTime::now() + REFRESH_BEFORE_EXPIRY)
    };
    let current = || {
        let cached = cached
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cached.as_ref().filter(|c| usable(c)).cloned()
    };
    if let Some(c) = current() {
        return Ok(c);
    }
    let _renewing = renewal.lock().await;
    // Another request may have renewed them while this one waited.
    if let Some(c) = current() {
        return Ok(c);
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
    *cached
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(fresh.clone());
    Ok(fresh)
}

/// At most [`MAX_OTHER_BODY_BYTES`] of a body that is not a stream (an error, a list), as text.
pub async fn read_capped(body: SdkBody) -> String {
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

/// The service's refusal, typed as the SDK's own calls type it: by its AWS error type when the
/// service sent one, else by the HTTP status; the message is AWS's `message` (or OpenAI's
/// `error.message`, as Mantle's OpenAI-compatible routes send).
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
    // `__type` may be namespaced: `com.amazon...#ThrottlingException`.
    let body_type = json["__type"]
        .as_str()
        .map(|t| t.rsplit('#').next().unwrap_or(t));
    let code = error_type
        .or(body_type)
        .unwrap_or_else(|| code_for_status(status));
    CallFailure {
        error: from_service_error(code, &message, ctx),
        service_message: Some(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Hands out credentials expiring `lifetimes[k]` from now on its k-th call (the last one
    /// after that), counting the calls. Each answer takes a few milliseconds, as a real
    /// source's does, so calls made at once all find the cache empty or stale.
    #[derive(Debug)]
    struct Rotating {
        lifetimes: Vec<Duration>,
        calls: Arc<AtomicUsize>,
    }

    impl ProvideCredentials for Rotating {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let k = self.calls.fetch_add(1, Ordering::SeqCst);
            let lifetime = self.lifetimes[k.min(self.lifetimes.len() - 1)];
            aws_credential_types::provider::future::ProvideCredentials::new(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(Credentials::new(
                    format!("AKIDROTATING{k:08}"),
                    "secret",
                    None,
                    Some(SystemTime::now() + lifetime),
                    "test",
                ))
            })
        }
    }

    fn ctx() -> CallContext<'static> {
        CallContext {
            operation: "ConverseStream",
            model_id: None,
            credential_source: "test",
            region: "us-east-1",
        }
    }

    /// The provider's credentials and the cache, shared by the calls of a test.
    struct Cache {
        provider: SharedCredentialsProvider,
        cached: RwLock<Option<Credentials>>,
        renewal: tokio::sync::Mutex<()>,
    }

    impl Cache {
        fn of(lifetimes: Vec<Duration>, calls: &Arc<AtomicUsize>) -> Arc<Self> {
            Arc::new(Self {
                provider: SharedCredentialsProvider::new(Rotating {
                    lifetimes,
                    calls: calls.clone(),
                }),
                cached: RwLock::new(None),
                renewal: tokio::sync::Mutex::new(()),
            })
        }

        async fn key(&self) -> String {
            fresh_credentials(&self.provider, &self.cached, &self.renewal, &ctx())
                .await
                .unwrap()
                .access_key_id()
                .to_string()
        }

        /// The access key ids `n` calls made at once got.
        async fn keys_at_once(self: &Arc<Self>, n: usize) -> Vec<String> {
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let cache = self.clone();
                    tokio::spawn(async move { cache.key().await })
                })
                .collect();
            let mut keys = Vec::new();
            for task in tasks {
                keys.push(task.await.unwrap());
            }
            keys
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn credentials_are_fetched_once_and_again_only_near_expiry() {
        let calls = Arc::new(AtomicUsize::new(0));
        // First credentials that expire within the renewal margin, then hour-long ones.
        let cache = Cache::of(
            vec![Duration::from_secs(60), Duration::from_secs(3600)],
            &calls,
        );
        assert_eq!(cache.key().await, "AKIDROTATING00000000");
        // A minute from expiry is too close: the next call renews them.
        assert_eq!(cache.key().await, "AKIDROTATING00000001");
        // The hour-long ones serve many calls at once, fetched by none of them.
        for key in cache.keys_at_once(64).await {
            assert_eq!(key, "AKIDROTATING00000001");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_credentials_are_renewed_by_one_call_for_all_waiting() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = Cache::of(vec![Duration::from_secs(3600)], &calls);
        assert_eq!(cache.keys_at_once(64).await.len(), 64);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one fetch for 64 calls");
    }
}
