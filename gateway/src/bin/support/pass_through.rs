//! The least a gateway can be: an HTTP proxy that forwards each request to one upstream and
//! streams the answer back, reading nothing. `gateway-rate --floor` sends the direct request
//! through it too, so the latency an extra HTTP hop adds on the machine at hand (the floor
//! under any gateway's "added") is measured in the same run as the gateway's.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type Upstream = (Client<HttpConnector, Body>, String);

/// Serves on a free loopback port, forwarding to `upstream` (`http://host:port`); prints its
/// own URL on the first line of stdout, then runs until killed. One thread, like the
/// gateway's default.
pub fn serve(upstream: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| e.to_string())?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        println!("http://{address}");
        // Without TCP_NODELAY both ways, a stream's last small write waits on the peer's
        // delayed ACK (about 40 ms).
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(4096)
            .build(connector);
        let app = axum::Router::new()
            .fallback(forward)
            .with_state((client, upstream.trim_end_matches('/').to_string()));
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}

async fn forward(State((client, upstream)): State<Upstream>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{upstream}{path}").parse::<Uri>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    parts.uri = uri;
    match client.request(Request::from_parts(parts, body)).await {
        Ok(answer) => answer.map(Body::new),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
