//! The listener: accepting connections, bounding them, and serving HTTP/1.1 and HTTP/2 on
//! each with timeouts, so that neither silent nor slow clients can hold the gateway.
//!
//! - At most `max_connections` are open at once; a client past the cap gets a 503 with
//!   `Retry-After` at once (never a hang), and the connection is closed.
//! - A request head must arrive within `header_timeout` of the connection being ready for
//!   one: of connecting (a client that never speaks is closed then), and on HTTP/1.1 of the
//!   previous answer (waiting for the next request is waiting for a head too).
//! - A connection with no request in flight and no byte moving for `idle_timeout` is closed.
//! - Accept errors (such as running out of file descriptors) are logged, and the loop backs
//!   off briefly instead of spinning.
//! - A connection's kernel send buffer is bounded, so a client that reads slowly holds that
//!   much in the kernel, and then slows the plugin (backpressure), not megabytes per socket.
//! - On shutdown, new connections are refused and those open finish their requests.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use crate::errors::ApiError;
use crate::metrics::Metrics;

/// How connections are bounded.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Concurrent HTTP/2 streams on one connection.
    pub max_streams_per_connection: u32,
    /// The kernel's send buffer per connection (`None`: the kernel's own autotuning, which
    /// lets one slow reader's socket hold megabytes).
    pub send_buffer_bytes: Option<usize>,
}

/// Serves `router` on `listener` until `stop` turns true, then lets open connections finish
/// their requests. Returns when every connection has closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let started = Instant::now();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let (tcp, _peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: the next accept would fail the same way at once.
                tracing::warn!("cannot accept a connection: {e}");
                metrics.accept_error();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            metrics.connection_refused();
            refuse_over_capacity(tcp, limits.max_connections, &refusals);
            continue;
        };
        // Chunks leave as soon as they are written: Nagle's algorithm would hold a small one
        // back until the previous one is acknowledged.
        let _ = tcp.set_nodelay(true);
        // What a slow reader's socket may hold: past it, writes wait, the stream's queue
        // fills, and the plugin pauses reading from the provider.
        if let Some(bytes) = limits.send_buffer_bytes {
            let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(bytes);
        }
        let router = router.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            serve_connection(tcp, router, limits, stop, started).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every permit back: every connection closed.
    let _ = open.acquire_many(limits.max_connections as u32).await;
}

/// File descriptors kept for everything but client connections (the plugins' files, logs,
/// the provider's other connections).
const DESCRIPTORS_KEPT: u64 = 64;

/// The connection cap the process can hold: each open stream takes its client's connection
/// and one to the provider, so `requested` connections need twice as many descriptors. The
/// soft limit is raised towards the hard one first; if that is still too low, the cap is
/// lowered (and said), so that a client past it gets a 503 rather than an accept that fails
/// for every client.
pub fn fit_to_descriptor_limit(requested: usize) -> usize {
    let needed = requested as u64 * 2 + DESCRIPTORS_KEPT;
    let soft = match rlimit::increase_nofile_limit(needed) {
        Ok(soft) => soft,
        Err(_) => match rlimit::getrlimit(rlimit::Resource::NOFILE) {
            Ok((soft, _)) => soft,
            Err(_) => return requested,
        },
    };
    if soft >= needed {
        return requested;
    }
    let fits = (soft.saturating_sub(DESCRIPTORS_KEPT) / 2).max(1) as usize;
    tracing::warn!(
        "the file-descriptor limit ({soft}, ulimit -n) holds {fits} connections, not {requested} (--max-connections): raise the limit to serve more"
    );
    fits
}

/// Refusals being written at once: past this, a client over the cap is simply closed.
const REFUSALS_IN_FLIGHT: usize = 256;

/// Answers a client past the connection cap with a 503 and closes. The answer is written,
/// then what the client sent is read and dropped for a moment: closing a socket with unread
/// data resets it, which would destroy the answer on its way.
fn refuse_over_capacity(tcp: TcpStream, max: usize, refusals: &Arc<Semaphore>) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    let body = ApiError::overloaded(format!(
        "the gateway has its maximum of {max} connections open (--max-connections); retry shortly"
    ))
    .body()
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tcp;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            tcp.write_all(answer.as_bytes()).await?;
            tcp.shutdown().await?;
            let mut sink = [0u8; 4096];
            while tcp.read(&mut sink).await? > 0 {}
            Ok::<(), io::Error>(())
        })
        .await;
        drop(permit);
    });
}

/// One connection, until the client closes it, a timeout closes it, or shutdown finishes it.
async fn serve_connection(
    tcp: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
    epoch: Instant,
) {
    let activity = Arc::new(Activity {
        epoch,
        last: AtomicU64::new(0),
        requests: AtomicUsize::new(0),
        served: AtomicUsize::new(0),
    });
    let connected = Instant::now();
    activity.touch();
    let io = TokioIo::new(Watched {
        inner: tcp,
        activity: activity.clone(),
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams_per_connection);
    let service = Counted {
        router,
        activity: activity.clone(),
    };
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let idle_check = tokio::time::sleep(Duration::from_millis(
            (limits.idle_timeout.min(limits.header_timeout).as_millis() as u64 / 4)
                .clamp(50, 5_000),
        ));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = idle_check, if !closing => {
                // No request head within the header timeout of connecting: a client that
                // says nothing (hyper's own timer starts only once it knows the protocol).
                if activity.served.load(Ordering::Relaxed) == 0
                    && connected.elapsed() >= limits.header_timeout
                {
                    return;
                }
                if activity.idle_for() >= limits.idle_timeout {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are in flight.
struct Activity {
    epoch: Instant,
    /// Milliseconds since `epoch`.
    last: AtomicU64,
    requests: AtomicUsize,
    /// Requests begun on the connection so far.
    served: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        self.last
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// How long the connection has been idle: zero while a request is in flight.
    fn idle_for(&self) -> Duration {
        if self.requests.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let now = self.epoch.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last.load(Ordering::Relaxed)))
    }
}

/// The socket, noting each read and write.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The router, counting each request in flight on its connection until its response body
/// is done (or dropped).
#[derive(Clone)]
struct Counted {
    router: Router,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Counted {
    type Response = hyper::Response<CountedBody>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let in_flight = InFlightRequest::new(self.activity.clone());
        let router = self.router.clone();
        Box::pin(async move {
            let response = tower_service_call(router, request).await;
            Ok(response.map(|body| CountedBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

async fn tower_service_call(
    mut router: Router,
    request: hyper::Request<Incoming>,
) -> axum::response::Response {
    use tower::Service as _;
    match router.call(request.map(axum::body::Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Counts one request on its connection while alive.
struct InFlightRequest(Arc<Activity>);

impl InFlightRequest {
    fn new(activity: Arc<Activity>) -> Self {
        activity.requests.fetch_add(1, Ordering::Relaxed);
        activity.served.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for InFlightRequest {
    fn drop(&mut self) {
        self.0.touch();
        self.0.requests.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that holds its request's count until it is sent or dropped.
pub struct CountedBody {
    body: axum::body::Body,
    _in_flight: InFlightRequest,
}

impl Body for CountedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
