//! Helpers shared by the emulator's integration tests.

#![allow(dead_code)]

pub mod external;

use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region, Token};
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseStreamOutput, Message,
};
use emulator::{Emulator, EmulatorConfig, RunningEmulator};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The real Bedrock traffic kept in the repository (`tests/recordings/`, see its README).
pub fn recordings_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/recordings")
}

pub fn start() -> RunningEmulator {
    start_with(EmulatorConfig::default())
}

pub fn start_with(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start_background(config).expect("emulator starts")
}

pub fn retry_fast(attempts: u32) -> RetryConfig {
    if attempts <= 1 {
        RetryConfig::disabled()
    } else {
        RetryConfig::standard()
            .with_max_attempts(attempts)
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(5))
    }
}

pub fn runtime_builder(emu: &RunningEmulator) -> aws_sdk_bedrockruntime::config::Builder {
    aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(emu.region().to_string()))
        .endpoint_url(emu.url())
        .retry_config(retry_fast(1))
}

pub fn sigv4_creds(emu: &RunningEmulator) -> Credentials {
    Credentials::new(
        emu.access_key_id(),
        emu.secret_access_key(),
        emu.session_token().map(str::to_string),
        None,
        "test",
    )
}

pub fn runtime(emu: &RunningEmulator) -> aws_sdk_bedrockruntime::Client {
    aws_sdk_bedrockruntime::Client::from_conf(
        runtime_builder(emu)
            .credentials_provider(sigv4_creds(emu))
            .build(),
    )
}

pub fn runtime_retrying(emu: &RunningEmulator, attempts: u32) -> aws_sdk_bedrockruntime::Client {
    aws_sdk_bedrockruntime::Client::from_conf(
        runtime_builder(emu)
            .credentials_provider(sigv4_creds(emu))
            .retry_config(retry_fast(attempts))
            .build(),
    )
}

pub fn runtime_bearer(emu: &RunningEmulator, token: &str) -> aws_sdk_bedrockruntime::Client {
    aws_sdk_bedrockruntime::Client::from_conf(
        runtime_builder(emu)
            .bearer_token(Token::new(token, None))
            .build(),
    )
}

pub fn control(emu: &RunningEmulator) -> aws_sdk_bedrock::Client {
    let conf = aws_sdk_bedrock::Config::builder()
        .behavior_version(aws_sdk_bedrock::config::BehaviorVersion::latest())
        .region(aws_sdk_bedrock::config::Region::new(
            emu.region().to_string(),
        ))
        .endpoint_url(emu.url())
        .credentials_provider(sigv4_creds(emu))
        .build();
    aws_sdk_bedrock::Client::from_conf(conf)
}

pub fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.to_string()))
        .build()
        .expect("valid message")
}

pub fn scenario_text(json: &str) -> String {
    format!("EMULATOR_SCENARIO {json}")
}

pub const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// Every event received, plus the error that ended the stream (if any).
pub struct Collected {
    pub events: Vec<ConverseStreamOutput>,
    pub error: Option<String>,
    pub service_error: Option<ConverseStreamOutputError>,
}

impl Collected {
    pub fn text(&self) -> String {
        use aws_sdk_bedrockruntime::types::ContentBlockDelta;
        self.events
            .iter()
            .filter_map(|e| match e {
                ConverseStreamOutput::ContentBlockDelta(d) => match d.delta() {
                    Some(ContentBlockDelta::Text(t)) => Some(t.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .map(|e| match e {
                ConverseStreamOutput::MessageStart(_) => "messageStart",
                ConverseStreamOutput::ContentBlockStart(_) => "contentBlockStart",
                ConverseStreamOutput::ContentBlockDelta(_) => "contentBlockDelta",
                ConverseStreamOutput::ContentBlockStop(_) => "contentBlockStop",
                ConverseStreamOutput::MessageStop(_) => "messageStop",
                ConverseStreamOutput::Metadata(_) => "metadata",
                _ => "unknown",
            })
            .collect()
    }

    pub fn stop_reason(&self) -> Option<String> {
        self.events.iter().find_map(|e| match e {
            ConverseStreamOutput::MessageStop(m) => Some(m.stop_reason().as_str().to_string()),
            _ => None,
        })
    }
}

/// Sends a ConverseStream with one user text and collects everything.
pub async fn stream_text(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    text: &str,
) -> Result<Collected, String> {
    let out = client
        .converse_stream()
        .model_id(model)
        .messages(user(text))
        .send()
        .await
        .map_err(|e| format!("{:?}", e.into_service_error()))?;
    Ok(collect(out).await)
}

pub async fn collect(
    mut out: aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
) -> Collected {
    let mut events = Vec::new();
    loop {
        match out.stream.recv().await {
            Ok(Some(e)) => events.push(e),
            Ok(None) => {
                return Collected {
                    events,
                    error: None,
                    service_error: None,
                }
            }
            Err(e) => {
                let error = Some(format!("{e:?}"));
                let service_error = match e {
                    aws_sdk_bedrockruntime::error::SdkError::ServiceError(se) => {
                        Some(se.into_err())
                    }
                    _ => None,
                };
                return Collected {
                    events,
                    error,
                    service_error,
                };
            }
        }
    }
}

/// A minimal HTTP/1.1 exchange (Connection: close) for requests the SDKs cannot make.
pub async fn raw_http(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(emu.addr())
        .await
        .expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
        emu.addr(),
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut resp = Vec::new();
    let _ = stream.read_to_end(&mut resp).await;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = resp[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = data.get(end + 2..).unwrap_or(&[]);
    }
}

/// SigV4 headers for a request to the emulator, signed with aws-sigv4 like an SDK would.
pub fn sign_headers(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    body: &[u8],
    secret: &str,
    region: &str,
    time: SystemTime,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let host = emu.addr().to_string();
    let creds = aws_credential_types::Credentials::new(
        emu.access_key_id(),
        secret,
        emu.session_token().map(str::to_string),
        None,
        "t",
    );
    let identity = creds.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("bedrock")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let content_type = ("content-type", "application/json");
    let uri = format!("http://{host}{path}");
    let request = SignableRequest::new(
        method,
        uri,
        [("host", host.as_str()), content_type].into_iter(),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _) = sign(request, &params).expect("sign").into_parts();
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    for (name, value) in instructions.headers() {
        headers.push((name.to_string(), value.to_string()));
    }
    headers
}
