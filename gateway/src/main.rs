//! `gateway`: any provider plugin behind an OpenAI-compatible HTTP API, so clients in any
//! language (the official `openai` packages, curl, the seed's own gateway) use the plugins
//! through the API they already know.
//!
//! It loads the plugins given (`--plugin`, repeatable: a file or a directory), configures
//! each with the JSON5 document `--config` names (the same document `host-demo` reads), and
//! serves `GET /v1/models` (and one by name), `POST /v1/chat/completions` and
//! `GET /healthz`. The first line on stdout is the base URL clients use (ending in `/v1`).

mod errors;
mod image_urls;
mod keys;
mod metrics;
mod openai;
mod registry;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version,
    about = "Serve provider plugins behind an OpenAI-compatible HTTP API."
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

    /// A client API key (repeatable); without any, no key is required.
    #[arg(
        long = "api-key",
        value_name = "KEY",
        env = "GATEWAY_API_KEY",
        hide_env_values = true
    )]
    api_keys: Vec<String>,

    /// How long one request may take in all, in seconds; then it is cancelled and the client
    /// gets a timeout (504, or an error event in a stream already started).
    #[arg(long, default_value_t = 600, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,

    /// Fetch images that requests give by http(s) URL (off: only data URLs are taken). The
    /// gateway then fetches whatever address a client names, internal ones included.
    #[arg(long)]
    allow_image_urls: bool,

    /// On Ctrl-C or SIGTERM, how long streams in flight may take to finish, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    shutdown_grace: u64,

    /// Serve the embedded Bedrock emulator, for a demo without an AWS account.
    #[cfg(feature = "emulator")]
    #[arg(long)]
    emulator: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "gateway=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
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
        let emulator_config = emulator::EmulatorConfig::default();
        emulator::process_env::use_emulator_identity(&emulator_config);
        let running = emulator::Emulator::start_background(emulator_config)
            .map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
        config = format!(
            r#"{{ models: {{ providers: {{ "amazon-bedrock": {{ baseUrl: "{}" }} }} }} }}"#,
            running.url()
        );
        eprintln!(
            "note: serving the embedded Bedrock emulator at {} (no AWS account is used)",
            running.url()
        );
        Some(running)
    } else {
        None
    };
    let plugins = if cli.plugin.is_empty() {
        vec![default_plugin()?]
    } else {
        cli.plugin.clone()
    };
    let registry = registry::Registry::load(&plugins, &config, None)?;
    let keys = keys::Keys::load(&cli.api_keys, &config_text)?;
    let gateway = Arc::new(server::Gateway {
        registry: std::sync::RwLock::new(Arc::new(registry)),
        plugin_paths: plugins.clone(),
        config: config.clone(),
        keys,
        metrics: metrics::Metrics::new(),
        request_timeout: std::time::Duration::from_secs(cli.request_timeout),
        images: if cli.allow_image_urls {
            Some(image_urls::ImageFetcher::new()?)
        } else {
            None
        },
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(cli.host, cli.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", cli.host, cli.port))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("cannot read the address: {e}"))?;
        println!("http://{address}/v1");
        if !cli.host.is_loopback() && gateway.keys.open() {
            tracing::warn!("listening on {address} without any client API key (--api-key)");
        }
        reload_on_sighup(gateway.clone());
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopping = stop.clone();
        // Chunks leave as soon as they are written: Nagle's algorithm would hold a small
        // one back until the previous one is acknowledged.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serving = tokio::spawn(async move {
            axum::serve(listener, server::router(gateway))
                .with_graceful_shutdown(async move { stopping.notified().await })
                .await
        });
        shutdown_signal().await;
        tracing::info!(
            "shutting down: new connections are refused, streams in flight have {} s to finish",
            cli.shutdown_grace
        );
        stop.notify_one();
        // The copies of reloaded plugins may go: a mapped library outlives its file.
        let _ = std::fs::remove_dir_all(registry::staging_dir());
        match tokio::time::timeout(std::time::Duration::from_secs(cli.shutdown_grace), serving)
            .await
        {
            Ok(Ok(served)) => served.map_err(|e| format!("the server failed: {e}")),
            Ok(Err(e)) => Err(format!("the server task failed: {e}")),
            Err(_) => {
                tracing::warn!("streams still in flight after the grace period were cut");
                Ok(())
            }
        }
    })
}

/// SIGHUP reloads the plugins (a replaced file is picked up; streams in flight go on).
fn reload_on_sighup(gateway: Arc<server::Gateway>) {
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
