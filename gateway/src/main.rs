//! `gateway`: any provider plugin behind the HTTP APIs clients already speak (OpenAI Chat
//! Completions and Responses, Anthropic Messages), so clients in any language (the official
//! `openai` and `anthropic` packages, Codex CLI, Claude Code, curl) use the plugins through
//! the API they know.
//!
//! It loads the plugins given (`--plugin`, repeatable: a file or a directory), configures
//! each with the JSON5 document `--config` names (the same document `host-demo` reads), and
//! serves `GET /v1/models` (and one by name), `POST /v1/chat/completions`,
//! `POST /v1/responses`, `POST /v1/messages` (and `/v1/messages/count_tokens`),
//! `POST /v1/embeddings` and `GET /healthz`. The first line on stdout is the base URL clients use (ending in `/v1`).
//!
//! It fails closed: an unknown configuration key, a key file without keys, or a network
//! address without client keys (unless `--no-auth`) stops it before it listens.

mod config;
mod dialects;
mod errors;
mod front_door;
mod image_urls;
mod keys;
mod ledger;
mod metrics;
mod model_call;
mod model_list;
mod registry;
mod serve;
mod server;
mod state;
mod store;
mod telemetry;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version,
    about = "Serve provider plugins behind the OpenAI (Chat Completions, Responses) and Anthropic (Messages) HTTP APIs."
)]
struct Cli {
    /// A plugin file, or a directory of them (repeatable) [default: the bedrock_plugin
    /// library next to this executable].
    #[arg(long, value_name = "PATH")]
    plugin: Vec<PathBuf>,

    /// The JSON5 configuration document for the providers (the gateway's shape, as host-demo
    /// reads it) [default: all defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,

    /// The port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,

    /// Start even when a plugin warns about its configuration (an unknown key, a near
    /// miss): the warnings are logged. Without it they stop the start.
    #[arg(long)]
    lenient_config: bool,

    /// A client API key (repeatable). Prefer --api-key-file: a value given here shows in
    /// `ps`. Without any key, no key is required, which only a loopback address allows
    /// (or --no-auth).
    #[arg(
        long = "api-key",
        value_name = "KEY",
        env = "GATEWAY_API_KEY",
        hide_env_values = true
    )]
    api_keys: Vec<String>,

    /// A file of client API keys, one per line (`#` starts a comment line).
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,

    /// Serve a non-loopback address without any client key (anyone who reaches it spends
    /// your AWS account).
    #[arg(long)]
    no_auth: bool,

    /// A `Host` name clients may use besides the loopback names (repeatable). On a loopback
    /// address only loopback names are answered (a defence against DNS rebinding); on
    /// another address, any name unless this is given.
    #[arg(long = "allowed-host", value_name = "NAME")]
    allowed_hosts: Vec<String>,

    /// An origin whose web pages may call the gateway (repeatable, e.g.
    /// `https://app.example`); without it, no CORS headers are sent and browsers keep other
    /// sites' pages out.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,

    /// How long one request may take in all, in seconds; then it is cancelled and the client
    /// gets a timeout (504, or an error event in a stream already started).
    #[arg(long, default_value_t = 600, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,

    /// How long the model may take to send its first output, retries included, in seconds;
    /// then the request is cancelled and answered 504. Until then no status is sent, so a
    /// failure before any output gets its own status (429, 503, ...).
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    first_byte_timeout: u64,

    /// How long a client may take to send a request's head, in seconds (an HTTP/1.1
    /// connection waiting for its next request waits for a head too).
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,

    /// How long a client may take to send a request's body, in seconds (408 after it).
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,

    /// How long a connection may stay open with no request in flight and no byte moving,
    /// in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,

    /// The most connections open at once; a client past it gets a 503 at once.
    #[arg(long, default_value_t = 4096, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,

    /// The most model calls (requests being answered) in flight at once; past it a request
    /// waits up to --queue-timeout for room, then gets a 503 with Retry-After.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_in_flight: u64,

    /// How long a request may wait for room when --max-in-flight calls are running, in
    /// milliseconds.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    queue_timeout: u64,

    /// The kernel's send buffer per connection, in bytes (0: the kernel's autotuning, up to
    /// megabytes per slow reader).
    #[arg(long, default_value_t = 256 * 1024, value_name = "BYTES")]
    send_buffer_bytes: usize,

    /// The largest request body, in bytes (413 above it); images travel inline.
    #[arg(long, default_value_t = 20 * 1024 * 1024, value_name = "BYTES")]
    max_body_bytes: usize,

    /// Serve `/metrics` on this address (e.g. 127.0.0.1:9090) instead of the main one, open
    /// to whoever reaches that address.
    #[arg(long, value_name = "ADDRESS")]
    metrics_listen: Option<SocketAddr>,

    /// A file holding the key `/metrics` asks for on the main address (otherwise any client
    /// key reads it).
    #[arg(long, value_name = "FILE")]
    metrics_key_file: Option<PathBuf>,

    /// A file holding the key `GET /admin/keys` asks for (keys' limits, budgets and spend);
    /// without it there is no admin endpoint.
    #[arg(long, value_name = "FILE")]
    admin_key_file: Option<PathBuf>,

    /// How log lines are written: text for people, or json (one JSON object per line, for
    /// log pipelines; the access lines are target `gateway::access`).
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    log_format: String,

    /// Fetch images that requests give by http(s) URL (off: only data URLs are taken). Only
    /// public addresses are fetched: loopback, private, link-local and metadata addresses are
    /// refused, after resolution and on every redirect.
    #[arg(long)]
    allow_image_urls: bool,

    /// A network the gateway may fetch images from although it is not public (repeatable,
    /// e.g. 10.20.0.0/16 for an internal image store), with --allow-image-urls.
    #[arg(
        long = "allow-image-network",
        value_name = "CIDR",
        requires = "allow_image_urls"
    )]
    allow_image_networks: Vec<ipnet::IpNet>,

    /// Threads serving HTTP (the gateway's runtime workers) [default: half the CPUs, at
    /// least one]. The plugins run their own threads in this process (the model calls'
    /// network and decoding, most of the work), and spare workers wake each other looking
    /// for work: on 2 cores one worker takes about a tenth less CPU per request than two.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    worker_threads: Option<u64>,

    /// On Ctrl-C or SIGTERM, how long streams in flight may take to finish, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    shutdown_grace: u64,

    /// Serve the embedded Bedrock emulator, for a demo without an AWS account.
    #[cfg(feature = "emulator")]
    #[arg(long)]
    emulator: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "gateway=info".into()),
        )
        .with_writer(std::io::stderr);
    if cli.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let config_text = match &cli.config {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --config {}: {e}", path.display()))?,
        None => String::new(),
    };
    #[cfg_attr(not(feature = "emulator"), allow(unused_mut))]
    let mut config = config_text.clone();
    // The emulator's identity goes into the environment before any thread exists.
    #[cfg(feature = "emulator")]
    let _emulator = if cli.emulator {
        let running = start_emulator()?;
        config = format!(
            r#"{{ models: {{ providers: {{ "amazon-bedrock": {{ baseUrl: "{}" }} }} }} }}"#,
            running.url()
        );
        Some(running)
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads(&cli))
        .thread_name("gateway-worker")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let gateway = Arc::new(gateway_state(&cli, &config_text, config, &runtime)?);
    let served = runtime.block_on(serve_until_signal(&cli, gateway.clone()));
    // The spans still queued go out before the process ends.
    if let Some(telemetry) = &gateway.telemetry {
        telemetry.flush();
    }
    served
}

/// `--worker-threads`, or half the CPUs (at least one).
fn worker_threads(cli: &Cli) -> usize {
    cli.worker_threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
        |n| n as usize,
    )
}

#[cfg(feature = "emulator")]
fn start_emulator() -> Result<emulator::RunningEmulator, String> {
    let emulator_config = emulator::EmulatorConfig::default();
    emulator::process_env::use_emulator_identity(&emulator_config);
    let running = emulator::Emulator::start_background(emulator_config)
        .map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
    eprintln!(
        "note: serving the embedded Bedrock emulator at {} (no AWS account is used)",
        running.url()
    );
    Ok(running)
}

/// Everything the gateway serves with, each part checked: the plugins loaded and configured
/// with `config`, the keys (refused if a network address would be served open), the store,
/// telemetry and the limits. `config_text` is the operator's own file, whose `gateway`
/// section this reads.
fn gateway_state(
    cli: &Cli,
    config_text: &str,
    config: String,
    runtime: &tokio::runtime::Runtime,
) -> Result<state::Gateway, String> {
    let plugins = if cli.plugin.is_empty() {
        vec![default_plugin()?]
    } else {
        cli.plugin.clone()
    };
    let section = config::gateway_section(config_text)?;
    let keys = client_keys(cli, section.keys)?;
    let aliases: std::collections::BTreeMap<String, Vec<String>> = section
        .aliases
        .iter()
        .map(|(alias, targets)| (alias.clone(), targets.models()))
        .collect();
    let registry = registry::Registry::load(&plugins, &config, cli.lenient_config)?
        .with_aliases(aliases.clone())?;
    let metrics = Arc::new(metrics::Metrics::new());
    // The store's connection lives on the runtime.
    let store = {
        let _entered = runtime.enter();
        store::Store::open(section.store.as_deref())?
    };
    let telemetry = section
        .telemetry
        .as_ref()
        .map(telemetry::Telemetry::start)
        .transpose()?;
    Ok(state::Gateway {
        registry: std::sync::RwLock::new(Arc::new(registry)),
        plugin_paths: plugins,
        config,
        lenient_config: cli.lenient_config,
        aliases,
        keys,
        metrics: metrics.clone(),
        limits: request_limits(cli),
        admission: Arc::new(tokio::sync::Semaphore::new(cli.max_in_flight as usize)),
        max_in_flight: cli.max_in_flight as usize,
        metrics_access: metrics_access(cli)?,
        allowed_hosts: Arc::new(front_door::AllowedHosts::for_listener(
            cli.host,
            cli.allowed_hosts.clone(),
        )),
        cors_origins: cors_origins(cli)?,
        images: if cli.allow_image_urls {
            Some(image_urls::ImageFetcher::new(
                cli.allow_image_networks.clone(),
            )?)
        } else {
            None
        },
        ledger: Arc::new(ledger::Ledger::new(store, metrics)),
        admin_key: admin_key(cli)?,
        telemetry,
    })
}

/// The client keys from the flags, the key file and the configuration; none on a network
/// address is refused unless `--no-auth` says so.
fn client_keys(cli: &Cli, configured: Vec<keys::ClientKey>) -> Result<keys::Keys, String> {
    let mut cli_keys = cli.api_keys.clone();
    if let Some(file) = &cli.api_key_file {
        cli_keys.extend(config::read_key_file(file)?);
    }
    let keys = keys::Keys::load(&cli_keys, configured)?;
    if keys.open() && !cli.host.is_loopback() && !cli.no_auth {
        return Err(format!(
            "refusing to serve {} without a client key: give --api-key-file (or gateway.keys in the configuration), or --no-auth to serve it open",
            cli.host
        ));
    }
    Ok(keys)
}

fn metrics_access(cli: &Cli) -> Result<state::MetricsAccess, String> {
    Ok(match (&cli.metrics_listen, &cli.metrics_key_file) {
        (Some(_), _) => state::MetricsAccess::Elsewhere,
        (None, Some(file)) => {
            let mut keys = config::read_key_file(file)
                .map_err(|e| e.replace("--api-key-file", "--metrics-key-file"))?;
            state::MetricsAccess::Key(keys.swap_remove(0))
        }
        (None, None) => state::MetricsAccess::ClientKeys,
    })
}

fn admin_key(cli: &Cli) -> Result<Option<String>, String> {
    cli.admin_key_file
        .as_ref()
        .map(|file| {
            config::read_key_file(file)
                .map_err(|e| e.replace("--api-key-file", "--admin-key-file"))
                .map(|mut keys| keys.swap_remove(0))
        })
        .transpose()
}

fn cors_origins(cli: &Cli) -> Result<Vec<axum::http::HeaderValue>, String> {
    cli.cors_origins
        .iter()
        .map(|origin| {
            origin
                .parse::<axum::http::HeaderValue>()
                .map_err(|_| format!("--cors-origin {origin:?} is not a valid origin"))
        })
        .collect()
}

fn request_limits(cli: &Cli) -> state::RequestLimits {
    state::RequestLimits {
        body: front_door::BodyLimits {
            max_bytes: cli.max_body_bytes,
            timeout: Duration::from_secs(cli.body_timeout),
        },
        first_byte_timeout: Duration::from_secs(cli.first_byte_timeout),
        request_timeout: Duration::from_secs(cli.request_timeout),
        queue_timeout: Duration::from_millis(cli.queue_timeout),
    }
}

fn connection_limits(cli: &Cli) -> serve::ConnectionLimits {
    serve::ConnectionLimits {
        max_connections: serve::fit_to_descriptor_limit(cli.max_connections as usize),
        header_timeout: Duration::from_secs(cli.header_timeout),
        idle_timeout: Duration::from_secs(cli.idle_timeout),
        max_streams_per_connection: 256,
        send_buffer_bytes: (cli.send_buffer_bytes > 0).then_some(cli.send_buffer_bytes),
    }
}

/// Listens (and on `--metrics-listen` too), prints the base URL, serves until SIGINT or
/// SIGTERM, then gives the streams in flight `--shutdown-grace` to finish.
async fn serve_until_signal(cli: &Cli, gateway: Arc<state::Gateway>) -> Result<(), String> {
    let limits = connection_limits(cli);
    let metrics = gateway.metrics.clone();
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(cli.host, cli.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", cli.host, cli.port))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the address: {e}"))?;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let metrics_server = match cli.metrics_listen {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen on --metrics-listen {at}: {e}"))?;
            let router = server::metrics_router(metrics.clone());
            Some(tokio::spawn(serve::serve(
                listener,
                router,
                limits,
                metrics.clone(),
                stopping.clone(),
            )))
        }
        None => None,
    };
    println!("http://{address}/v1");
    reload_on_sighup(gateway.clone());
    let serving = tokio::spawn(serve::serve(
        listener,
        server::router(gateway),
        limits,
        metrics,
        stopping,
    ));
    shutdown_signal().await;
    tracing::info!(
        "shutting down: new connections are refused, streams in flight have {} s to finish",
        cli.shutdown_grace
    );
    let _ = stop.send(true);
    let grace = Duration::from_secs(cli.shutdown_grace);
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    match tokio::time::timeout(grace, serving).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("the server task failed: {e}")),
        Err(_) => {
            tracing::warn!("streams still in flight after the grace period were cut");
            Ok(())
        }
    }
}

fn reload_on_sighup(gateway: Arc<state::Gateway>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            // Loading and listing models block: off the async workers.
            let gateway = gateway.clone();
            let reloaded = tokio::task::spawn_blocking(move || gateway.reload()).await;
            match reloaded {
                Ok(Ok(())) => tracing::info!("plugins reloaded"),
                Ok(Err(e)) => tracing::error!("reload failed, the plugins in use stay: {e}"),
                Err(e) => tracing::error!("reload failed: {e}"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = gateway;
}

/// Ctrl-C, or SIGTERM (what a process manager or an orchestrator sends).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The Bedrock plugin next to this executable (as `cargo build` places them).
fn default_plugin() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("the executable has no directory")?;
    let file = format!(
        "{}bedrock_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = dir.join(&file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no plugin given and no {file} next to the gateway: pass --plugin PATH (cargo build -p bedrock-plugin builds it)"
        ))
    }
}
