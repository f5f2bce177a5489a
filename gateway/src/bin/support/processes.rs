//! What the gateway's benchmark programs share: the emulator and the gateway run as child
//! processes from the same build, and what `/proc` says of a process.

// Each program uses its part.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The identity the emulator is started with and every client signs with.
pub const ACCESS_KEY_ID: &str = "AKIABENCH00000000000";
pub const SECRET_ACCESS_KEY: &str = "benchSecretAccessKey00000000000000000000";
/// The Bedrock API key the emulator takes (`Authorization: Bearer`).
pub const API_KEY: &str = "bedrock-api-key-bench";
pub const REGION: &str = "us-east-1";
pub const MODEL: &str = "amazon.nova-micro-v1:0";

/// How a benchmark program ends: its report as JSON when asked (`json`), or why it failed.
pub fn finish(
    program: &str,
    json: bool,
    report: Result<serde_json::Value, String>,
) -> std::process::ExitCode {
    match report {
        Ok(report) => {
            if json {
                println!("{report:#}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{program}: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The mock provider (`emulator --fast`) and the gateway in front of it.
pub struct Stack {
    pub emulator: Server,
    pub gateway: Server,
    /// The Bedrock plugin the gateway loaded (a direct host may load it too).
    pub plugin_path: PathBuf,
}

/// Starts the emulator, then the gateway with `gateway_args` in front of it, both from this
/// build; warns when the build is a debug one.
pub fn start_stack(gateway_args: &[String]) -> Result<Stack, String> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build says little about release performance: cargo build --release -p bedrock-plugin -p gateway -p emulator");
    }
    let plugin_path = sibling(&format!(
        "{}bedrock_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))?;
    let mut emulator = Command::new(sibling("emulator")?);
    emulator.args([
        "--fast",
        "--port",
        "0",
        "--access-key-id",
        ACCESS_KEY_ID,
        "--secret-access-key",
        SECRET_ACCESS_KEY,
        "--api-key",
        API_KEY,
        "--region",
        REGION,
    ]);
    let emulator = Server::start(emulator, "the emulator")?;
    let gateway = start_gateway(&emulator, &plugin_path, "", gateway_args);
    Ok(Stack {
        emulator,
        gateway: gateway?,
        plugin_path,
    })
}

/// A gateway in front of `emulator` loading `plugin_path`, with `gateway_section` (the
/// JSON5 members of the configuration's `gateway` section: keys, store, telemetry) and
/// `gateway_args`.
pub fn start_gateway(
    emulator: &Server,
    plugin_path: &std::path::Path,
    gateway_section: &str,
    gateway_args: &[String],
) -> Result<Server, String> {
    let config_file = std::env::temp_dir().join(format!(
        "gateway-bench-{}-{}.json5",
        std::process::id(),
        fastrand::u32(..)
    ));
    std::fs::write(
        &config_file,
        format!(
            r#"{{ models: {{ providers: {{ "amazon-bedrock": {{ baseUrl: "{}" }} }} }}, gateway: {{ {gateway_section} }} }}"#,
            emulator.url
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut gateway = Command::new(sibling("gateway")?);
    gateway
        .args(["--port", "0", "--plugin"])
        .arg(plugin_path)
        .arg("--config")
        .arg(&config_file)
        .args(gateway_args)
        .env("RUST_LOG", "gateway=warn")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", REGION)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_BEARER_TOKEN_BEDROCK")
        .env_remove("GATEWAY_API_KEY");
    let gateway = Server::start(gateway, "the gateway");
    let _ = std::fs::remove_file(&config_file);
    gateway
}

/// A child process that printed its base URL first; killed when dropped.
pub struct Server {
    child: std::process::Child,
    pub url: String,
}

impl Server {
    pub fn start(mut command: Command, what: &str) -> Result<Server, String> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let mut first = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut first)
            .map_err(|e| format!("{what} printed nothing: {e}"))?;
        if first.trim().is_empty() {
            let _ = child.kill();
            return Err(format!("{what} exited before printing its URL"));
        }
        Ok(Server {
            child,
            url: first.trim().to_string(),
        })
    }

    /// A child started otherwise, serving at `url`.
    pub fn adopt(child: std::process::Child, url: String) -> Server {
        Server { child, url }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time of every thread of a process, in nanoseconds (the scheduler's own account,
/// finer than the clock ticks of `/proc/PID/stat`).
pub fn cpu_ns(pid: u32) -> u64 {
    schedstat_sum(pid, 0)
}

/// How many times the threads of a process were put on a CPU: each is a thread woken (or
/// resumed after preemption), which is what hand-offs between threads cost.
#[allow(dead_code)] // gateway-bench counts CPU time only
pub fn thread_runs(pid: u32) -> u64 {
    schedstat_sum(pid, 2)
}

/// A field of `/proc/PID/task/*/schedstat` (time on CPU in ns, time waiting to run in ns,
/// times run), summed over the process's threads.
fn schedstat_sum(pid: u32, field: usize) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(field)?.parse::<u64>().ok())
        .sum()
}

/// A `/proc/PID/status` field in its own unit (kB for memory).
pub fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The median of `values` (NaN for none).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// An executable next to this one (as `cargo build` places them).
pub fn sibling(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe.parent().ok_or("no directory")?.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p bedrock-plugin -p gateway -p emulator",
            path.display()
        ))
    }
}
