//! Issue #14: images given by http(s) URL are refused unless the operator allows them with
//! `--allow-image-urls`; then the gateway fetches them (following redirects) and Bedrock gets
//! their bytes. Pages that are not images, failures and signed query strings are handled.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use common::Gateway;
use serde_json::{json, Value};

/// A PNG's magic number and a little more: what Bedrock checks an image's format by.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-test-image";

/// A loopback web server with an image, a redirect to it, a page and a missing file; it counts
/// the requests it answers.
fn image_server() -> (String, Arc<AtomicUsize>) {
    image_server_on("127.0.0.1")
}

fn image_server_on(ip: &str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(mut connection) = connection else {
                continue;
            };
            let mut request_line = String::new();
            let mut reader = BufReader::new(connection.try_clone().unwrap());
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            count.fetch_add(1, Ordering::SeqCst);
            let path = request_line.split(' ').nth(1).unwrap_or("");
            let huge = vec![0u8; 4_000_000];
            let (head, body): (String, &[u8]) = match path.split('?').next().unwrap_or("") {
                "/cat.png" => ("200 OK\r\ncontent-type: image/png".into(), PNG),
                "/huge.png" => ("200 OK\r\ncontent-type: image/png".into(), &huge),
                p if p.starts_with("/redirect-to/") => (
                    format!(
                        "302 Found\r\nlocation: http://{}",
                        &p["/redirect-to/".len()..]
                    ),
                    b"",
                ),
                "/moved" => ("302 Found\r\nlocation: /cat.png".into(), b""),
                "/page" => ("200 OK\r\ncontent-type: text/html".into(), b"<html></html>"),
                _ => ("404 Not Found\r\ncontent-type: text/plain".into(), b"no"),
            };
            let _ = write!(
                connection,
                "HTTP/1.1 {head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = connection.write_all(body);
        }
    });
    (base, served)
}

fn chat_with_image(url: &str) -> String {
    json!({
        "model": "amazon-bedrock/amazon.nova-lite-v1:0",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]}],
    })
    .to_string()
}

#[test]
fn image_urls_are_refused_unless_allowed() {
    let (base, served) = image_server();
    let emulator = emulator::Emulator::start_background(Default::default()).unwrap();
    let gateway = Gateway::in_front_of(&emulator, &[]);
    let answer = gateway.fetch(
        "POST",
        "/v1/chat/completions",
        &chat_with_image(&format!("{base}/cat.png")),
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("--allow-image-urls"), "{answer}");
    assert_eq!(served.load(Ordering::SeqCst), 0, "nothing was fetched");
    assert!(
        emulator
            .requests()
            .iter()
            .all(|r| !r.operation.starts_with("Converse")),
        "refused before any model call"
    );
}

#[test]
fn allowed_image_urls_are_fetched_and_sent_as_bytes() {
    let (base, served) = image_server();
    let emulator = emulator::Emulator::start_background(Default::default()).unwrap();
    // The test's image server is on loopback, which only an allowed network reaches.
    let gateway = Gateway::in_front_of(
        &emulator,
        &[
            "--allow-image-urls",
            "--allow-image-network",
            "127.0.0.1/32",
        ],
    );

    // Through a redirect, with a signature in the query string.
    let answer = gateway.fetch(
        "POST",
        "/v1/chat/completions",
        &chat_with_image(&format!("{base}/moved?signature=abc")),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(
        served.load(Ordering::SeqCst),
        2,
        "the redirect, then the image"
    );
    let sent = emulator
        .requests()
        .into_iter()
        .rev()
        .find_map(|r| r.body)
        .expect("Bedrock got the request");
    let image = &sent["messages"][0]["content"][1]["image"];
    assert_eq!(image["format"], "png", "{sent}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(image["source"]["bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, PNG);

    // What cannot be used is one neutral 400 (it says nothing of what answered), and never
    // shows the query string.
    for path in ["/page?token=SECRET-TOKEN", "/gone?token=SECRET-TOKEN"] {
        let answer = gateway.fetch(
            "POST",
            "/v1/chat/completions",
            &chat_with_image(&format!("{base}{path}")),
        );
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        let body: Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("only from public http(s) addresses"),
            "{message}"
        );
        // The address itself may hold any digits (the port is random), so look past it.
        let said = message.replace(&base, "");
        assert!(!said.contains("404") && !said.contains("html"), "{message}");
        assert!(message.contains("messages[0].content[1]"), "{message}");
        assert!(!answer.contains("SECRET-TOKEN"), "{answer}");
    }

    // Nobody answers: a clear 400 as well.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}/cat.png", closed.local_addr().unwrap());
    drop(closed);
    let answer = gateway.fetch("POST", "/v1/chat/completions", &chat_with_image(&nobody));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("cannot fetch the image"), "{answer}");
}

/// The gateway is no proxy into its own network: loopback, private and metadata addresses
/// are refused whether written in the URL, reached through a name, or redirected to, and
/// nothing is fetched from them; an image past Bedrock's size limit is refused too. Every
/// refusal is the same neutral message.
#[test]
fn image_urls_reach_only_public_addresses() {
    let (inside, inside_served) = image_server_on("127.0.0.2");
    let (allowed, allowed_served) = image_server();
    let emulator = emulator::Emulator::start_background(Default::default()).unwrap();
    // 127.0.0.1 is allowed (it stands in for the public internet here); 127.0.0.2 is not.
    let gateway = Gateway::in_front_of(
        &emulator,
        &[
            "--allow-image-urls",
            "--allow-image-network",
            "127.0.0.1/32",
        ],
    );
    let inside_port = inside.rsplit(':').next().unwrap().to_string();
    let inside_host = inside.trim_start_matches("http://").to_string();
    for url in [
        format!("{inside}/cat.png"),
        format!("http://localhost:{inside_port}/cat.png"),
        format!("http://[::ffff:127.0.0.2]:{inside_port}/cat.png"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_string(),
        format!("{allowed}/redirect-to/{inside_host}/cat.png"),
        format!("{allowed}/huge.png"),
    ] {
        let answer = gateway.fetch("POST", "/v1/chat/completions", &chat_with_image(&url));
        assert!(answer.starts_with("HTTP/1.1 400"), "{url}: {answer}");
        assert!(
            answer.contains("only from public http(s) addresses"),
            "{url}: {answer}"
        );
    }
    assert_eq!(
        inside_served.load(Ordering::SeqCst),
        0,
        "nothing reached the inside address"
    );
    assert_eq!(
        allowed_served.load(Ordering::SeqCst),
        2,
        "the redirect and the huge image were asked for"
    );
}
