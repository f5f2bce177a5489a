//! Shared helpers for the host-demo CLI tests: the built plugin, scratch directories, the
//! binary with exactly the environment a test gives it, and running it to its end.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run of the binary may take before the test gives up on it.
const TIMEOUT: Duration = Duration::from_secs(90);

/// `target/<profile>/`: the test executable lives in its `deps/` folder.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test executable is in target/<profile>/deps")
        .to_owned()
}

pub fn plugin_path() -> PathBuf {
    let path = target_dir().join(format!(
        "{}bedrock_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p bedrock-plugin` first",
        path.display()
    );
    path
}

/// A fresh scratch directory (used as HOME).
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `host-demo` with an empty environment except HOME (a scratch dir), its cache dir, no
/// colours, and exactly the variables given. The config file is `<home>/config.json5`.
pub fn host_demo(home: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host-demo"));
    cmd.env_clear()
        .env("HOME", home)
        .env("HOST_DEMO_CACHE_DIR", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("NO_COLOR", "1")
        .arg("--plugin")
        .arg(plugin_path())
        .arg("--config")
        .arg(home.join("config.json5"));
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// What one run of the binary did.
pub struct Run {
    /// The exit code; -1 when a signal ended the process.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` to its end with nothing on its standard input.
pub fn run(cmd: Command) -> Run {
    run_with_stdin(cmd, "")
}

/// Runs `cmd` to its end with `stdin` on its standard input (then end of file); panics when
/// it takes longer than [`TIMEOUT`].
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> Run {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("host-demo starts");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let stdout = read_all(child.stdout.take().unwrap());
    let stderr = read_all(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("host-demo did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    writer.join().unwrap();
    Run {
        status: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed,
    }
}

/// Reads a pipe to its end on another thread (so a chatty child never blocks on a full pipe).
fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// [`host_demo`] with `args`, run to its end.
pub fn run_host_demo(home: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = host_demo(home, vars);
    cmd.args(args);
    run(cmd)
}

/// A config pointing the provider at `url`.
pub fn write_config(home: &Path, url: &str, extra_discovery: &str) {
    std::fs::write(
        home.join("config.json5"),
        format!(
            "{{\n  models: {{\n    bedrockDiscovery: {{ {extra_discovery} }},\n    providers: {{ \"amazon-bedrock\": {{ baseUrl: \"{url}\" }} }},\n  }},\n}}\n"
        ),
    )
    .unwrap();
}

/// Writes `~/.aws/<file>`.
pub fn aws_file(home: &Path, file: &str, text: &str) {
    let dir = home.join(".aws");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), text).unwrap();
}

/// A loopback port with nothing listening: connections are refused at once.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A listener that accepts connections (through the kernel backlog) but never answers: a
/// metadata address that swallows requests.
pub fn black_hole_url() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}
