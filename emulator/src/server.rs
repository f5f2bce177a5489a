//! Starting, running and stopping an emulator instance.

use crate::config::EmulatorConfig;
use crate::error::StartError;
use crate::recorder::{RawResponse, RecordedRequest};
use crate::routes;
use crate::scenario::Scenario;
use crate::state::State;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Entry point: `Emulator::start` / `Emulator::start_background`.
#[derive(Debug)]
pub struct Emulator;

/// How long in-flight responses may continue after shutdown is requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A running emulator. Dropping it shuts it down.
#[derive(Debug)]
pub struct RunningEmulator {
    server: Server,
    state: Arc<State>,
    /// The CA that signed the server's certificate, when serving HTTPS.
    ca_pem: Option<String>,
}

/// One bound loopback HTTP server, shared plumbing of every look-alike in this crate: the
/// address, the shutdown switch and, for background servers, the thread with its own
/// runtime. Dropping it stops the server.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    /// `https` when serving TLS.
    scheme: &'static str,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn bind(host: &str, port: u16) -> Result<tokio::net::TcpListener, StartError> {
    let ip: IpAddr = host
        .parse()
        .map_err(|_| StartError::InvalidHost(host.to_string()))?;
    let addr = SocketAddr::new(ip, port);
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })
}

async fn wait_for_shutdown(mut rx: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means "stop".
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Serves until shutdown is requested, then gives in-flight responses a short grace period.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    rx: watch::Receiver<bool>,
) {
    let deadline = {
        let rx = rx.clone();
        async move {
            wait_for_shutdown(rx).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        }
    };
    match tls {
        None => {
            let graceful =
                axum::serve(listener, app).with_graceful_shutdown(wait_for_shutdown(rx.clone()));
            tokio::select! {
                result = graceful => {
                    if let Err(e) = result {
                        tracing::error!(error = %e, "emulator server stopped");
                    }
                }
                _ = deadline => {}
            }
        }
        Some(config) => {
            tokio::select! {
                _ = serve_tls(listener, app, config) => {}
                _ = wait_for_shutdown(rx) => {}
            }
        }
    }
}

/// The HTTPS accept loop: TLS (ALPN `h2` or `http/1.1`) then hyper's automatic HTTP/1.1 or
/// HTTP/2 server, one task per connection. Connections end with the server's runtime.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    config: Arc<rustls::ServerConfig>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => {
                    tracing::debug!(error = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let served =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "HTTPS connection ended with an error");
            }
        });
    }
}

impl Server {
    /// Binds `host:port` and serves `app` on the caller's tokio runtime.
    pub(crate) async fn start(
        host: &str,
        port: u16,
        app: axum::Router,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<Self, StartError> {
        let listener = bind(host, port).await?;
        let addr = listener.local_addr().map_err(StartError::Runtime)?;
        let (tx, rx) = watch::channel(false);
        let scheme = if tls.is_some() { "https" } else { "http" };
        tokio::spawn(serve(listener, app, tls, rx));
        Ok(Server {
            addr,
            scheme,
            shutdown: tx,
            thread: None,
        })
    }

    /// Binds `host:port` and serves `app` on a dedicated thread (named `name`) with its own
    /// runtime, for callers without one.
    pub(crate) fn start_background(
        name: &str,
        host: String,
        port: u16,
        app: axum::Router,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<Self, StartError> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (tx, rx) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match bind(&host, port).await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let addr = match listener.local_addr() {
                        Ok(a) => a,
                        Err(e) => {
                            let _ = ready_tx.send(Err(StartError::Runtime(e)));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(addr));
                    serve(listener, app, tls, rx).await;
                });
                runtime.shutdown_timeout(Duration::from_millis(200));
            })
            .map_err(StartError::Runtime)?;
        let addr = ready_rx.recv().map_err(|_| StartError::ThreadDied)??;
        Ok(Server {
            addr,
            scheme,
            shutdown: tx,
            thread: Some(thread),
        })
    }

    /// The bound socket address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` or `https://...`.
    pub(crate) fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting connections and waits for a background thread to end.
    pub(crate) fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The Bedrock router: every request goes to [`routes::handle`].
fn bedrock_app(state: Arc<State>) -> axum::Router {
    axum::Router::new().fallback(move |req: axum::extract::Request| {
        let state = state.clone();
        async move { routes::handle(state, req).await }
    })
}

impl Emulator {
    /// Binds and serves on the caller's tokio runtime.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, StartError> {
        let tls = config
            .tls
            .then(crate::tls::TlsIdentity::generate)
            .transpose()?;
        let state = Arc::new(State::new(config));
        let server = Server::start(
            &state.config.host,
            state.config.port,
            bedrock_app(state.clone()),
            tls.as_ref().map(|t| t.server_config.clone()),
        )
        .await?;
        tracing::info!(url = %server.url(), "Bedrock emulator listening");
        Ok(RunningEmulator {
            server,
            state,
            ca_pem: tls.map(|t| t.ca_pem),
        })
    }

    /// Serves on a dedicated thread with its own runtime, for callers without one.
    pub fn start_background(config: EmulatorConfig) -> Result<RunningEmulator, StartError> {
        let tls = config
            .tls
            .then(crate::tls::TlsIdentity::generate)
            .transpose()?;
        let state = Arc::new(State::new(config));
        let server = Server::start_background(
            "bedrock-emulator",
            state.config.host.clone(),
            state.config.port,
            bedrock_app(state.clone()),
            tls.as_ref().map(|t| t.server_config.clone()),
        )?;
        tracing::info!(url = %server.url(), "Bedrock emulator listening (background thread)");
        Ok(RunningEmulator {
            server,
            state,
            ca_pem: tls.map(|t| t.ca_pem),
        })
    }
}

/// A 12-character lowercase id, as Bedrock gives guardrails and application profiles.
fn random_id() -> String {
    let mut rng = fastrand::Rng::new();
    (0..12)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.usize(..36)]))
        .collect()
}

impl RunningEmulator {
    /// Base URL for both the runtime and the control plane, e.g. `http://127.0.0.1:40123`
    /// (`https://` with [`EmulatorConfig::tls`]).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The PEM of the CA that signed the HTTPS certificate (with [`EmulatorConfig::tls`]):
    /// what a client must trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The configured region.
    pub fn region(&self) -> &str {
        &self.state.config.region
    }

    /// The full configuration.
    pub fn config(&self) -> &EmulatorConfig {
        &self.state.config
    }

    /// Accepted access key id.
    pub fn access_key_id(&self) -> &str {
        &self.state.config.access_key_id
    }

    /// Secret used to verify signatures.
    pub fn secret_access_key(&self) -> &str {
        &self.state.config.secret_access_key
    }

    /// Required session token, if configured.
    pub fn session_token(&self) -> Option<&str> {
        self.state.config.session_token.as_deref()
    }

    /// Accepted bearer token (Bedrock API key).
    pub fn api_key(&self) -> &str {
        &self.state.config.api_key
    }

    /// Account id used in ARNs.
    pub fn account_id(&self) -> &str {
        &self.state.config.account_id
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// How the event streams sent so far ended (to their end, or dropped by the client).
    pub fn stream_ends(&self) -> &crate::stream_ends::StreamEnds {
        &self.state.stream_ends
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Scripts the answer for a model id (as sent in the path, or the base model id).
    /// Request-carried scenarios take precedence.
    pub fn set_scenario(&self, model_id: &str, scenario: Scenario) {
        self.state.set_scenario(model_id, scenario);
    }

    /// Removes a scenario registered with [`RunningEmulator::set_scenario`].
    pub fn clear_scenario(&self, model_id: &str) {
        self.state.clear_scenario(model_id);
    }

    /// Serves these exact bytes to every following Converse/ConverseStream request for
    /// `model_id` (as sent in the path, percent-decoded) until cleared.
    pub fn set_raw_response(&self, model_id: &str, raw: RawResponse) {
        self.state.set_raw_response(model_id, raw);
    }

    /// Removes a raw response.
    pub fn clear_raw_response(&self, model_id: &str) {
        self.state.clear_raw_response(model_id);
    }

    /// Defines a guardrail that blocks `blocked_words` (whole words, any case) in the input
    /// or the answer, and returns its identifier and version for `guardrailConfig`.
    pub fn create_guardrail(
        &self,
        blocked_words: &[&str],
        blocked_message: &str,
    ) -> (String, String) {
        let id = random_id();
        self.define_guardrail(&id, "1", blocked_words, blocked_message);
        (id, "1".into())
    }

    /// [`RunningEmulator::create_guardrail`] with the identifier and version given (a demo
    /// guardrail documented by its id, say).
    pub fn define_guardrail(
        &self,
        id: &str,
        version: &str,
        blocked_words: &[&str],
        blocked_message: &str,
    ) {
        self.state.add_guardrail(crate::guardrails::Guardrail {
            id: id.to_string(),
            version: version.to_string(),
            blocked_words: blocked_words.iter().map(|w| w.to_string()).collect(),
            blocked_input_message: blocked_message.to_string(),
            blocked_output_message: blocked_message.to_string(),
        });
    }

    /// Creates an application inference profile named `name` in front of `source` (a
    /// foundation model id or a system-defined profile id), as CreateInferenceProfile with
    /// `copyFrom` would, and returns its ARN: invoke through it, list it with
    /// `typeEquals=APPLICATION`, get it with GetInferenceProfile.
    pub fn create_application_profile(&self, name: &str, source: &str) -> Option<String> {
        let region = self.state.config.region.clone();
        // In front of a system profile it routes where that profile does; in front of a
        // foundation model, to this region.
        let (model, regions) = match crate::catalogue::profile(source, &region) {
            Some(p) => (
                p.model,
                p.geo
                    .regions()
                    .iter()
                    .filter(|r| !r.is_empty())
                    .map(|r| r.to_string())
                    .collect(),
            ),
            None => (crate::catalogue::model(source)?, vec![region.clone()]),
        };
        let id = random_id();
        let profile = crate::catalogue::ApplicationProfile {
            id,
            name: name.to_string(),
            model,
            regions,
        };
        let arn = profile.arn(&region, &self.state.config.account_id);
        self.state.add_app_profile(profile);
        Some(arn)
    }

    /// Stops accepting connections and stops the server (also done on drop).
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}
