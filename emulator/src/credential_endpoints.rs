//! Local look-alikes of the endpoints the AWS SDK default credential chain gets temporary
//! credentials from, all served by one loopback server and reached through the SDKs' own
//! overrides:
//!
//! | endpoint | path | SDK override |
//! |---|---|---|
//! | IMDSv2 instance metadata | `PUT /latest/api/token`, `GET /latest/meta-data/iam/security-credentials/[{role}]` | `AWS_EC2_METADATA_SERVICE_ENDPOINT` = [`RunningCredentialEndpoints::imds_endpoint`] |
//! | container credentials | `GET /container-credentials` | `AWS_CONTAINER_CREDENTIALS_FULL_URI` = [`RunningCredentialEndpoints::container_credentials_url`] (loopback is allowed) |
//! | STS `AssumeRoleWithWebIdentity` | `POST /` (query protocol form body) | `AWS_ENDPOINT_URL_STS` = [`RunningCredentialEndpoints::sts_endpoint`] |
//!
//! Every endpoint hands out the same configured [`TemporaryCredentials`], so a Bedrock
//! emulator configured with [`crate::EmulatorConfig::with_credentials`] accepts exactly the
//! calls signed with them.
//!
//! What is checked, as the real services do:
//!
//! - **IMDSv2**: the token `PUT` needs `x-aws-ec2-metadata-token-ttl-seconds` between 1 and
//!   21600 (else 400) and echoes it; every `GET` needs an issued token in
//!   `x-aws-ec2-metadata-token` (else 401, as with `HttpTokens=required`); an unknown role is
//!   404. [`ImdsMode::RefuseTokens`] answers the token `PUT` with 403, as a machine whose
//!   metadata service is disabled or out of reach (hop limit) does. Token TTLs do not expire.
//! - **Container**: with [`CredentialEndpointsConfig::container_authorization`] set, the
//!   `Authorization` header must match it exactly (else 401).
//! - **STS**: `Action=AssumeRoleWithWebIdentity` and `Version=2011-06-15` (else 400
//!   `InvalidAction`), `RoleArn`, `RoleSessionName` and `WebIdentityToken` present (else 400
//!   `ValidationError`), the token equal to the configured one, byte for byte (else 400
//!   `InvalidIdentityToken`), and the role ARN equal to the configured one (else 403
//!   `AccessDenied`). Answers are the service's XML, errors included
//!   (`<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`).
//!   The request is unsigned, as the SDKs send it.
//!
//! Every request is recorded ([`RunningCredentialEndpoints::requests`]) with the metadata
//! token, `Authorization` and `WebIdentityToken` redacted.
//!
//! ```no_run
//! # fn demo() -> Result<(), emulator::StartError> {
//! use emulator::credential_endpoints::{CredentialEndpoints, CredentialEndpointsConfig};
//! let endpoints = CredentialEndpoints::start_background(CredentialEndpointsConfig::default())?;
//! let bedrock = emulator::Emulator::start_background(
//!     emulator::EmulatorConfig::default().with_credentials(endpoints.credentials()),
//! )?;
//! println!("AWS_EC2_METADATA_SERVICE_ENDPOINT={}", endpoints.imds_endpoint());
//! println!("endpoint_url = {}", bedrock.url());
//! # Ok(()) }
//! ```

use crate::error::StartError;
use crate::server::Server;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use crate::temporary_credentials::{TemporaryCredentials, DEFAULT_EXPIRATION};

/// IMDSv2 session token path.
pub const IMDS_TOKEN_PATH: &str = "/latest/api/token";
/// IMDS path listing the instance role (GET it for the role name; append the name for its
/// credentials).
pub const IMDS_CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// Path of the container credentials endpoint.
pub const CONTAINER_CREDENTIALS_PATH: &str = "/container-credentials";
/// Default instance role name served by IMDS.
pub const DEFAULT_ROLE_NAME: &str = "emulator-instance-role";
/// Default role ARN STS lets the web identity assume.
pub const DEFAULT_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/emulator-web-identity";
/// Default web identity token STS accepts (shaped like a JWT; never checked as one).
pub const DEFAULT_WEB_IDENTITY_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.ZW11bGF0b3I.c2lnbmF0dXJl";
/// The STS API version the query protocol must name.
pub const STS_VERSION: &str = "2011-06-15";

const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const MAX_TTL_SECS: u64 = 21_600;
const MAX_BODY_BYTES: usize = 64 * 1024;
const REDACTED: &str = "<redacted>";

impl TemporaryCredentials {
    /// The JSON document IMDS serves for a role.
    fn imds_json(&self) -> String {
        serde_json::json!({
            "Code": "Success",
            "LastUpdated": "2026-01-01T00:00:00Z",
            "Type": "AWS-HMAC",
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
            "Expiration": self.expiration,
        })
        .to_string()
    }

    /// The JSON document the container endpoint serves.
    fn container_json(&self, role_arn: &str) -> String {
        serde_json::json!({
            "AccessKeyId": self.access_key_id,
            "Expiration": self.expiration,
            "RoleArn": role_arn,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
        })
        .to_string()
    }
}

impl Default for TemporaryCredentials {
    fn default() -> Self {
        TemporaryCredentials::new("EMULATOR")
    }
}

/// How the instance metadata service behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImdsMode {
    /// IMDSv2 with one instance role.
    #[default]
    Serve,
    /// Every token `PUT` gets 403: no instance role can be had.
    RefuseTokens,
}

/// Configuration of one [`RunningCredentialEndpoints`]. `Default` gives the documented
/// defaults; `Debug` leaves the secrets out.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialEndpointsConfig {
    /// IP address to bind (loopback by default).
    pub host: String,
    /// TCP port to bind (0 = any free port).
    pub port: u16,
    /// What every endpoint hands out.
    pub credentials: TemporaryCredentials,
    /// IMDS behaviour.
    pub imds: ImdsMode,
    /// The instance role IMDS lists.
    pub role_name: String,
    /// When set, the container endpoint requires exactly this `Authorization` header (what
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN` makes the SDK send).
    pub container_authorization: Option<String>,
    /// The only role STS lets the web identity assume (also the container's `RoleArn`).
    pub role_arn: String,
    /// The only web identity token STS accepts.
    pub web_identity_token: String,
}

impl Default for CredentialEndpointsConfig {
    fn default() -> Self {
        CredentialEndpointsConfig {
            host: crate::DEFAULT_HOST.to_string(),
            port: 0,
            credentials: TemporaryCredentials::default(),
            imds: ImdsMode::Serve,
            role_name: DEFAULT_ROLE_NAME.to_string(),
            container_authorization: None,
            role_arn: DEFAULT_ROLE_ARN.to_string(),
            web_identity_token: DEFAULT_WEB_IDENTITY_TOKEN.to_string(),
        }
    }
}

impl std::fmt::Debug for CredentialEndpointsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialEndpointsConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials)
            .field("imds", &self.imds)
            .field("role_name", &self.role_name)
            .field(
                "container_authorization",
                &self.container_authorization.as_ref().map(|_| REDACTED),
            )
            .field("role_arn", &self.role_arn)
            .field("web_identity_token", &REDACTED)
            .finish()
    }
}

/// Which look-alike a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// Anything under `/latest/`.
    Imds,
    /// [`CONTAINER_CREDENTIALS_PATH`].
    Container,
    /// `POST /`.
    Sts,
    /// Anything else (answered 404).
    Unknown,
}

/// One received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// Which endpoint it reached.
    pub endpoint: EndpointKind,
    /// HTTP method.
    pub method: String,
    /// Path as received.
    pub path: String,
    /// Headers in received order; the metadata token and `Authorization` are redacted.
    pub headers: Vec<(String, String)>,
    /// STS form parameters (decoded), `WebIdentityToken` redacted; empty for the others.
    pub params: Vec<(String, String)>,
    /// HTTP status of the answer.
    pub status: u16,
}

impl CredentialRequest {
    /// `METHOD path`, e.g. `PUT /latest/api/token`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// First value of an STS form parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct EndpointState {
    config: CredentialEndpointsConfig,
    requests: Mutex<Vec<CredentialRequest>>,
    imds_tokens: Mutex<HashSet<String>>,
    counter: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl EndpointState {
    fn next_id(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }
}

/// Entry point: [`CredentialEndpoints::start`] / [`CredentialEndpoints::start_background`].
#[derive(Debug)]
pub struct CredentialEndpoints;

/// Running credential endpoints. Dropping it shuts the server down.
#[derive(Debug)]
pub struct RunningCredentialEndpoints {
    server: Server,
    state: Arc<EndpointState>,
}

fn app(state: Arc<EndpointState>) -> axum::Router {
    axum::Router::new().fallback(move |req: Request| {
        let state = state.clone();
        async move { handle(&state, req).await }
    })
}

impl CredentialEndpoints {
    /// Binds and serves on the caller's tokio runtime.
    pub async fn start(
        config: CredentialEndpointsConfig,
    ) -> Result<RunningCredentialEndpoints, StartError> {
        let state = Arc::new(EndpointState::new(config));
        let server = Server::start(
            &state.config.host,
            state.config.port,
            app(state.clone()),
            None,
        )
        .await?;
        tracing::info!(addr = %server.addr(), "credential endpoints listening");
        Ok(RunningCredentialEndpoints { server, state })
    }

    /// Serves on a dedicated thread with its own runtime, for callers without one.
    pub fn start_background(
        config: CredentialEndpointsConfig,
    ) -> Result<RunningCredentialEndpoints, StartError> {
        let state = Arc::new(EndpointState::new(config));
        let server = Server::start_background(
            "credential-endpoints",
            state.config.host.clone(),
            state.config.port,
            app(state.clone()),
            None,
        )?;
        tracing::info!(addr = %server.addr(), "credential endpoints listening (background thread)");
        Ok(RunningCredentialEndpoints { server, state })
    }
}

impl EndpointState {
    fn new(config: CredentialEndpointsConfig) -> Self {
        EndpointState {
            config,
            requests: Mutex::default(),
            imds_tokens: Mutex::default(),
            counter: AtomicU64::new(0),
        }
    }
}

impl RunningCredentialEndpoints {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Value for `AWS_EC2_METADATA_SERVICE_ENDPOINT` (the base URL).
    pub fn imds_endpoint(&self) -> String {
        self.url()
    }

    /// Value for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn container_credentials_url(&self) -> String {
        format!("{}{CONTAINER_CREDENTIALS_PATH}", self.url())
    }

    /// Value for `AWS_ENDPOINT_URL_STS` (the base URL).
    pub fn sts_endpoint(&self) -> String {
        self.url()
    }

    /// The full configuration.
    pub fn config(&self) -> &CredentialEndpointsConfig {
        &self.state.config
    }

    /// The credentials every endpoint hands out.
    pub fn credentials(&self) -> &TemporaryCredentials {
        &self.state.config.credentials
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<CredentialRequest> {
        lock(&self.state.requests).clone()
    }

    /// The requests that reached one endpoint, oldest first.
    pub fn requests_to(&self, endpoint: EndpointKind) -> Vec<CredentialRequest> {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.state.requests).clear();
    }

    /// Stops the server (also done on drop).
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn response(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    resp
}

fn text(status: u16, body: impl Into<String>) -> Response<Body> {
    response(status, "text/plain", body.into())
}

async fn handle(state: &EndpointState, request: Request) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let mut params = Vec::new();
    let (endpoint, response) = if path.starts_with("/latest/") {
        (
            EndpointKind::Imds,
            imds(state, method, path, &parts.headers),
        )
    } else if path == CONTAINER_CREDENTIALS_PATH {
        (
            EndpointKind::Container,
            container(&state.config, method, &parts.headers),
        )
    } else if method == "POST" && path == "/" {
        params = parse_form(&body);
        (EndpointKind::Sts, sts(state, &params))
    } else {
        (EndpointKind::Unknown, text(404, ""))
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = match name.as_str() {
                TOKEN_HEADER | "authorization" => REDACTED.to_string(),
                _ => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str().to_string(), value)
        })
        .collect();
    for (name, value) in &mut params {
        if name == "WebIdentityToken" {
            *value = REDACTED.to_string();
        }
    }
    lock(&state.requests).push(CredentialRequest {
        endpoint,
        method: method.to_string(),
        path: path.to_string(),
        headers,
        params,
        status: response.status().as_u16(),
    });
    response
}

fn imds(state: &EndpointState, method: &str, path: &str, headers: &HeaderMap) -> Response<Body> {
    let config = &state.config;
    if path == IMDS_TOKEN_PATH {
        if method != "PUT" {
            return text(405, "");
        }
        if config.imds == ImdsMode::RefuseTokens {
            return text(403, "");
        }
        let ttl = header(headers, TTL_HEADER).and_then(|v| v.trim().parse::<u64>().ok());
        let Some(ttl) = ttl.filter(|t| (1..=MAX_TTL_SECS).contains(t)) else {
            return text(400, "");
        };
        let token = format!("emulator-imds-token-{:08}", state.next_id());
        lock(&state.imds_tokens).insert(token.clone());
        let mut resp = text(200, token);
        resp.headers_mut()
            .insert(TTL_HEADER, HeaderValue::from(ttl));
        return resp;
    }
    if method != "GET" {
        return text(405, "");
    }
    let authorised =
        header(headers, TOKEN_HEADER).is_some_and(|token| lock(&state.imds_tokens).contains(token));
    if !authorised {
        return text(401, "");
    }
    match path.strip_prefix(IMDS_CREDENTIALS_PATH) {
        Some("") => text(200, config.role_name.clone()),
        Some(role) if role == config.role_name => text(200, config.credentials.imds_json()),
        _ => text(404, ""),
    }
}

fn container(
    config: &CredentialEndpointsConfig,
    method: &str,
    headers: &HeaderMap,
) -> Response<Body> {
    if method != "GET" {
        return text(405, "");
    }
    if let Some(expected) = &config.container_authorization {
        if header(headers, "authorization") != Some(expected.as_str()) {
            return response(
                401,
                "application/json",
                serde_json::json!({
                    "Code": "AccessDenied",
                    "Message": "Authorization header is missing or does not match (emulator)",
                })
                .to_string(),
            );
        }
    }
    response(
        200,
        "application/json",
        config.credentials.container_json(&config.role_arn),
    )
}

/// `a=b&c=d` with `+` as space and percent-decoding, as the query protocol sends it.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Escapes text for an XML element (no attribute values are ever interpolated).
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn sts_request_id(state: &EndpointState) -> String {
    format!("5f7c0c1e-0000-4000-8000-{:012x}", state.next_id())
}

fn sts_xml(status: u16, request_id: &str, body: String) -> Response<Body> {
    let mut resp = response(status, "text/xml", body);
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-RequestId", v);
    }
    resp
}

fn sts_error(status: u16, request_id: &str, code: &str, message: &str) -> Response<Body> {
    sts_xml(
        status,
        request_id,
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/{STS_VERSION}/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
            xml_escape(code),
            xml_escape(message)
        ),
    )
}

fn sts(state: &EndpointState, params: &[(String, String)]) -> Response<Body> {
    let config = &state.config;
    let request_id = sts_request_id(state);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = param("Action").unwrap_or_default();
    let version = param("Version").unwrap_or_default();
    if action != "AssumeRoleWithWebIdentity" || version != STS_VERSION {
        return sts_error(
            400,
            &request_id,
            "InvalidAction",
            &format!("Could not find operation {action} for version {version}"),
        );
    }
    let present = |name: &str| param(name).filter(|v| !v.is_empty());
    let (Some(role_arn), Some(session_name), Some(token)) = (
        present("RoleArn"),
        present("RoleSessionName"),
        present("WebIdentityToken"),
    ) else {
        let member = [
            ("RoleArn", "roleArn"),
            ("RoleSessionName", "roleSessionName"),
            ("WebIdentityToken", "webIdentityToken"),
        ]
        .into_iter()
        .find(|(name, _)| present(name).is_none())
        .map_or("", |(_, member)| member);
        return sts_error(
            400,
            &request_id,
            "ValidationError",
            &format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
        );
    };
    if token != config.web_identity_token {
        return sts_error(
            400,
            &request_id,
            "InvalidIdentityToken",
            "The web identity token could not be validated (emulator: it is not the configured token)",
        );
    }
    if role_arn != config.role_arn {
        return sts_error(
            403,
            &request_id,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        );
    }
    let body = assumed_role_xml(config, role_arn, session_name, &request_id);
    sts_xml(200, &request_id, body)
}

/// The answer to AssumeRoleWithWebIdentity: the role assumed as `session_name`, with the
/// configured temporary credentials.
fn assumed_role_xml(
    config: &CredentialEndpointsConfig,
    role_arn: &str,
    session_name: &str,
    request_id: &str,
) -> String {
    // arn:aws:iam::<account>:role/<path/>name -> arn:aws:sts::<account>:assumed-role/<name>/<session>
    let mut parts = role_arn.splitn(6, ':');
    let partition = parts.nth(1).unwrap_or("aws");
    let account = parts.nth(2).unwrap_or_default();
    let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    let assumed_arn =
        format!("arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}");
    let c = &config.credentials;
    format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/{STS_VERSION}/\">
  <AssumeRoleWithWebIdentityResult>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEMULATOR00000000:{session}</AssumedRoleId>
      <Arn>{arn}</Arn>
    </AssumedRoleUser>
    <Provider>emulator</Provider>
    <Credentials>
      <AccessKeyId>{akid}</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:emulator:web-identity</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>{request_id}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
",
        session = xml_escape(session_name),
        arn = xml_escape(&assumed_arn),
        akid = xml_escape(&c.access_key_id),
        secret = xml_escape(&c.secret_access_key),
        token = xml_escape(&c.session_token),
        expiration = xml_escape(&c.expiration),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded_as_the_query_protocol_encodes_them() {
        let form = parse_form(b"Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&A=b+c&empty=");
        assert_eq!(form[1], ("RoleArn".into(), "arn:aws:iam::1:role/r".into()));
        assert_eq!(form[2], ("A".into(), "b c".into()));
        assert_eq!(form[3], ("empty".into(), String::new()));
    }

    #[test]
    fn debug_output_leaves_the_secrets_out() {
        let config = CredentialEndpointsConfig {
            container_authorization: Some("container-auth-value".into()),
            ..CredentialEndpointsConfig::default()
        };
        let debug = format!("{config:?}");
        for secret in [
            config.credentials.secret_access_key.as_str(),
            config.credentials.session_token.as_str(),
            DEFAULT_WEB_IDENTITY_TOKEN,
            "container-auth-value",
        ] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains(&config.credentials.access_key_id), "{debug}");
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml_escape("a<b>&'\""), "a&lt;b&gt;&amp;'\"");
    }
}
