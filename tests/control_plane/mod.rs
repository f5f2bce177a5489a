//! A scriptable stand-in for the Bedrock control plane (ListFoundationModels and
//! ListInferenceProfiles), for the discovery cases the emulator cannot stage: small pages
//! (pagination), ListInferenceProfiles denied, a failing first ListFoundationModels, a model
//! no family table knows. It answers with the emulator's own catalogue JSON (so the data is
//! the same as everywhere else) and does not verify signatures. Plain std: one thread, one
//! request per connection.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use emulator::catalogue;
use serde_json::{json, Value};

/// A model the family tables do not know: discovered with the configured defaults.
pub const UNKNOWN_MODEL: &str = "example.unknown-model-v1:0";

#[derive(Default)]
pub struct Script {
    /// ListInferenceProfiles page size (the plugin asks for up to 1000).
    pub page_size: usize,
    /// The next N ListFoundationModels calls fail with HTTP 500.
    pub fail_models: AtomicUsize,
    /// ListInferenceProfiles answers 403 AccessDeniedException.
    pub deny_profiles: AtomicBool,
}

pub struct ControlPlane {
    pub url: String,
    pub script: Arc<Script>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl ControlPlane {
    pub fn start(region: &'static str, script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(script);
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (s, p) = (script.clone(), paths.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, p) = (s.clone(), p.clone());
                std::thread::spawn(move || serve(stream, region, &s, &p));
            }
        });
        Self { url, script, paths }
    }

    /// Request targets (path and query) received so far.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }

    pub fn count(&self, path_prefix: &str) -> usize {
        self.paths()
            .iter()
            .filter(|p| p.starts_with(path_prefix))
            .count()
    }
}

fn serve(stream: TcpStream, region: &str, script: &Script, paths: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    paths.lock().unwrap().push(target.clone());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, error_type, body) = if path == "/foundation-models" {
        let remaining = script.fail_models.load(Ordering::SeqCst);
        if remaining > 0 {
            script.fail_models.store(remaining - 1, Ordering::SeqCst);
            (
                500,
                Some("InternalServerException"),
                json!({"message": "scripted failure"}),
            )
        } else {
            let mut summaries: Vec<Value> = catalogue::MODELS
                .iter()
                .map(|m| m.summary(region))
                .collect();
            summaries.push(json!({
                "modelArn": format!("arn:aws:bedrock:{region}::foundation-model/{UNKNOWN_MODEL}"),
                "modelId": UNKNOWN_MODEL,
                "modelName": "Unknown Model",
                "providerName": "Example",
                "inputModalities": ["TEXT"],
                "outputModalities": ["TEXT"],
                "responseStreamingSupported": true,
                "customizationsSupported": [],
                "inferenceTypesSupported": ["ON_DEMAND"],
                "modelLifecycle": {"status": "ACTIVE"},
            }));
            (200, None, json!({ "modelSummaries": summaries }))
        }
    } else if path == "/inference-profiles" {
        if script.deny_profiles.load(Ordering::SeqCst) {
            (
                403,
                Some("AccessDeniedException"),
                json!({"message": "User is not authorized to perform: bedrock:ListInferenceProfiles"}),
            )
        } else if query.contains("type=APPLICATION") {
            // This account has no application inference profiles.
            (200, None, json!({ "inferenceProfileSummaries": [] }))
        } else {
            let offset: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("nextToken="))
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let all = catalogue::profiles_for_region(region);
            let size = script.page_size.max(1);
            let page: Vec<Value> = all
                .iter()
                .skip(offset)
                .take(size)
                .map(|p| p.summary(region, "123456789012"))
                .collect();
            let mut body = json!({ "inferenceProfileSummaries": page });
            if offset + size < all.len() {
                body["nextToken"] = json!((offset + size).to_string());
            }
            (200, None, body)
        }
    } else {
        (
            404,
            Some("UnknownOperationException"),
            json!({"message": "not here"}),
        )
    };
    let body = body.to_string();
    let mut out = stream;
    let reason = match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-amzn-requestid: fake\r\n",
        body.len()
    );
    if let Some(t) = error_type {
        head.push_str(&format!("x-amzn-errortype: {t}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(body.as_bytes());
    let _ = out.flush();
}
