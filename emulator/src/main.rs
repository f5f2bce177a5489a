//! `emulator` binary: serves the local Bedrock endpoint until killed.
//! The first line of stdout is the base URL, so scripts can read it.

use clap::Parser;
use emulator::{
    Emulator, EmulatorConfig, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY,
    DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY,
};
use std::io::Write;

/// Local Amazon Bedrock-compatible endpoint (control plane + runtime on one URL).
#[derive(Debug, Parser)]
#[command(name = "emulator", version, about)]
struct Args {
    /// IP address to bind (loopback by default).
    #[arg(long, env = "EMULATOR_HOST", default_value = DEFAULT_HOST)]
    host: String,
    /// Port to bind; 0 picks a free port (the URL is printed first on stdout).
    #[arg(long, env = "EMULATOR_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Region the emulator serves (SigV4 scopes must name it).
    #[arg(long, env = "EMULATOR_REGION", default_value = DEFAULT_REGION)]
    region: String,
    /// Access key id accepted for SigV4.
    #[arg(long, env = "EMULATOR_ACCESS_KEY_ID", default_value = DEFAULT_ACCESS_KEY_ID)]
    access_key_id: String,
    /// Secret access key used to verify SigV4 signatures.
    #[arg(long, env = "EMULATOR_SECRET_ACCESS_KEY", default_value = DEFAULT_SECRET_ACCESS_KEY, hide_env_values = true)]
    secret_access_key: String,
    /// Session token SigV4 requests must carry (none by default).
    #[arg(long, env = "EMULATOR_SESSION_TOKEN", hide_env_values = true)]
    session_token: Option<String>,
    /// Bedrock API key accepted as `Authorization: Bearer <key>`.
    #[arg(long, env = "EMULATOR_API_KEY", default_value = DEFAULT_API_KEY, hide_env_values = true)]
    api_key: String,
    /// Account id used in inference-profile ARNs.
    #[arg(long, env = "EMULATOR_ACCOUNT_ID", default_value = DEFAULT_ACCOUNT_ID)]
    account_id: String,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with a certificate for 127.0.0.1 and
    /// localhost, signed by a CA made at start (see --ca-cert-out).
    #[arg(long, env = "EMULATOR_TLS")]
    tls: bool,
    /// Send streamed answers at once, in large writes, instead of paced like a model
    /// generating tokens and split at random byte boundaries (benchmarks).
    #[arg(long, env = "EMULATOR_FAST")]
    fast: bool,
    /// Seed of the paced delivery's pauses and splits: the same seed and request replay the
    /// same delivery.
    #[arg(long, env = "EMULATOR_SEED", default_value_t = 1)]
    seed: u64,
    /// With --tls: write the CA's certificate (PEM) here, for clients to trust
    /// (AWS_CA_BUNDLE, the plugin's `caBundle`, botocore's `verify`).
    #[arg(long, value_name = "PATH", requires = "tls")]
    ca_cert_out: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logs go to stderr: stdout's first line is reserved for the URL.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = EmulatorConfig {
        host: args.host,
        port: args.port,
        region: args.region,
        access_key_id: args.access_key_id,
        secret_access_key: args.secret_access_key,
        session_token: args.session_token,
        api_key: args.api_key,
        account_id: args.account_id,
        tls: args.tls,
        delivery: if args.fast {
            emulator::pacing::Delivery::Fast
        } else {
            emulator::pacing::Delivery::Paced { seed: args.seed }
        },
    };
    let running = match Emulator::start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("emulator: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let (Some(path), Some(pem)) = (&args.ca_cert_out, running.ca_pem()) {
        if let Err(e) = std::fs::write(path, pem) {
            eprintln!(
                "emulator: cannot write the CA certificate to {}: {e}",
                path.display()
            );
            return std::process::ExitCode::FAILURE;
        }
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", running.url());
    let _ = stdout.flush();
    // Serve until the process is killed; the default SIGINT/SIGTERM handling is exactly
    // what we want, and tokio's `signal` feature would force the workspace to rebuild tokio.
    std::future::pending::<()>().await;
    drop(running);
    std::process::ExitCode::SUCCESS
}
