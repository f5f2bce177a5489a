//! An OTLP/HTTP collector that answers every export with 200 and, when asked, keeps the
//! bodies (the benchmark discards them; the tests read the spans in them). Shared by
//! `gateway-rate --operations` and the gateway's operations tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// The bodies a collector received, in order.
pub type Received = Arc<Mutex<Vec<String>>>;

/// Starts a collector on a free loopback port; its URL. With `keep`, every body is pushed
/// there.
pub fn start(keep: Option<Received>) -> Result<String, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let keep = keep.clone();
            std::thread::spawn(move || serve(stream, keep));
        }
    });
    Ok(url)
}

/// Answers the requests of one connection until it closes.
fn serve(stream: std::net::TcpStream, keep: Option<Received>) {
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let (mut reader, mut writer) = (BufReader::new(clone), stream);
    loop {
        let (mut line, mut length) = (String::new(), 0usize);
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Some(keep) = &keep {
            keep.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(String::from_utf8_lossy(&body).into_owned());
        }
        let answer =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if writer.write_all(answer).is_err() {
            return;
        }
    }
}
