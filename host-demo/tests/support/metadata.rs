//! Local stand-ins for the credential endpoints of the AWS SDK default chain, reached through
//! the SDK's own overrides: an IMDSv2-compatible instance metadata service
//! (`AWS_EC2_METADATA_SERVICE_ENDPOINT`) and a container credentials endpoint
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, loopback is allowed). Plain std, one thread per
//! connection, one request per connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub const ROLE: &str = "bedrock-test-role";
pub const IMDS_TOKEN: &str = "imds-session-token-for-tests";

/// Temporary credentials as IMDS and the container endpoint hand them out.
#[derive(Clone)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl RoleCredentials {
    pub fn new(tag: &str) -> Self {
        Self {
            access_key_id: format!("ASIA{tag:0<16}").chars().take(20).collect(),
            secret_access_key: format!("roleSecret{tag}0000000000000000000000000"),
            session_token: format!("roleSessionToken{tag}xyz"),
        }
    }

    fn json(&self) -> String {
        serde_json::json!({
            "Code": "Success",
            "LastUpdated": "2026-01-01T00:00:00Z",
            "Type": "AWS-HMAC",
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
            "Expiration": "2099-01-01T00:00:00Z",
        })
        .to_string()
    }
}

pub struct MetadataServer {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl MetadataServer {
    pub fn start(creds: RoleCredentials) -> Self {
        Self::serving(creds, false)
    }

    /// A metadata service that refuses every session token (IMDS disabled on the instance, or
    /// a sandbox that blocks it): there is no instance role to be had.
    pub fn refusing() -> Self {
        Self::serving(RoleCredentials::new("NONE"), true)
    }

    fn serving(creds: RoleCredentials, refuse: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (creds, log) = (creds.clone(), log.clone());
                std::thread::spawn(move || serve(stream, &creds, refuse, &log));
            }
        });
        Self { url, requests }
    }

    /// `METHOD path` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, creds: &RoleCredentials, refuse: bool, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut token = None;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "x-aws-ec2-metadata-token" {
                token = Some(v);
            } else if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    log.lock().unwrap().push(format!("{method} {path}"));
    let authorised = token.as_deref() == Some(IMDS_TOKEN);
    let (status, body) = match (method.as_str(), path.as_str()) {
        ("PUT", "/latest/api/token") if refuse => (403, String::new()),
        ("PUT", "/latest/api/token") => (200, IMDS_TOKEN.to_string()),
        ("GET", "/latest/meta-data/iam/security-credentials/") if authorised => {
            (200, ROLE.to_string())
        }
        ("GET", p)
            if authorised && p == format!("/latest/meta-data/iam/security-credentials/{ROLE}") =>
        {
            (200, creds.json())
        }
        ("GET", p) if p.starts_with("/latest/") => (401, String::new()),
        // The container credentials endpoint.
        ("GET", "/container-credentials") => (200, creds.json()),
        _ => (404, String::new()),
    };
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = out.flush();
}

/// A loopback port with nothing listening: connections are refused at once.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A listener that accepts connections (through the kernel backlog) but never answers: a
/// metadata address that swallows requests.
pub fn black_hole_url() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}
