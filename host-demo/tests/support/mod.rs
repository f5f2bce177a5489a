//! Shared helpers for the host-demo CLI tests that control the whole process environment.

#![allow(dead_code)]

pub mod metadata;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

pub struct Run {
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

pub fn run(mut cmd: Command) -> Run {
    let started = Instant::now();
    let out: Output = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("host-demo runs");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
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
