//! Faults below HTTP, which the emulator (an HTTP server) cannot make: a loopback listener
//! that reads each request and then closes, resets or goes silent before any response header.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// What the listener does with each connection once it has read the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpFault {
    /// Closes the connection cleanly (FIN) without a response.
    CloseBeforeHeaders,
    /// Resets the connection (RST) without a response.
    ResetBeforeHeaders,
    /// Keeps the connection open and never answers.
    StallBeforeHeaders,
}

/// A running fault listener; it lives as long as the process (one per test).
pub struct TcpFaultServer {
    pub url: String,
}

impl TcpFaultServer {
    pub fn start(fault: TcpFault) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fault listener");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                tx.send(listener.local_addr().expect("address")).ok();
                loop {
                    let Ok((mut socket, _)) = listener.accept().await else {
                        return;
                    };
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        // Read until the request has stopped arriving (headers and body).
                        while let Ok(Ok(n)) =
                            tokio::time::timeout(Duration::from_millis(50), socket.read(&mut buf))
                                .await
                        {
                            if n == 0 {
                                break;
                            }
                        }
                        match fault {
                            TcpFault::CloseBeforeHeaders => drop(socket),
                            TcpFault::ResetBeforeHeaders => {
                                let _ = socket.set_zero_linger();
                                drop(socket);
                            }
                            TcpFault::StallBeforeHeaders => {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                            }
                        }
                    });
                }
            });
        });
        let addr = rx.recv().expect("the fault listener starts");
        Self {
            url: format!("http://{addr}"),
        }
    }
}
