//! Conformance: botocore, the AWS SDK for Python (a client nobody here wrote), against the
//! emulator. Starts three emulators in-process (the default identity, one that also
//! requires a SigV4 session token, and one serving HTTPS for the bearer-token tests), then
//! runs `emulator/conformance` with pytest from the
//! repository's `.venv` and fails unless every test passes.
//!
//! Needs the venv: `scripts/python-env` (pinned boto3/botocore/pytest). Without it this test
//! fails; it never skips.

use emulator::{Emulator, EmulatorConfig, RunningEmulator};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The session token the second emulator requires.
const SESSION_TOKEN: &str =
    "IQoJb3JpZ2luX2VjEmulatorConformanceSessionToken//////////wEaCXVzLWVhc3QtMSJH";

/// pytest normally takes well under a minute; this only guards against a hang.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("emulator/ has a parent directory")
        .to_path_buf()
}

fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start_background(config).expect("start the emulator")
}

fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[test]
fn botocore_conformance() {
    let root = repo_root();
    let python = root.join(".venv").join("bin").join("python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/python-env first (it installs the pinned boto3/botocore/pytest)",
        python.display()
    );

    let emu = start(EmulatorConfig::default());
    let with_token = start(EmulatorConfig {
        session_token: Some(SESSION_TOKEN.to_string()),
        ..EmulatorConfig::default()
    });
    assert_eq!(with_token.session_token(), Some(SESSION_TOKEN));
    let https = start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    });
    let ca_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("botocore-emulator-ca.pem");
    std::fs::write(
        &ca_file,
        https.ca_pem().expect("the HTTPS emulator has a CA"),
    )
    .unwrap();

    let mut command = Command::new(&python);
    command
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "emulator/conformance",
        ])
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Nothing from the caller's AWS setup may reach botocore (a stray
    // AWS_BEARER_TOKEN_BEDROCK would switch every client to bearer auth).
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("EMULATOR_URL", emu.url())
        .env("EMULATOR_REGION", emu.region())
        .env("EMULATOR_ACCESS_KEY_ID", emu.access_key_id())
        .env("EMULATOR_SECRET_ACCESS_KEY", emu.secret_access_key())
        .env("EMULATOR_API_KEY", emu.api_key())
        .env("EMULATOR_SESSION_URL", with_token.url())
        .env("EMULATOR_SESSION_TOKEN", SESSION_TOKEN)
        .env("EMULATOR_TLS_URL", https.url())
        .env("EMULATOR_CA_FILE", &ca_file);

    let started = Instant::now();
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run {}: {e} (run scripts/python-env first)",
            python.display()
        )
    });
    let stdout = read_all(child.stdout.take().expect("stdout is piped"));
    let stderr = read_all(child.stderr.take().expect("stderr is piped"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for pytest") {
            break Some(status);
        }
        if started.elapsed() > PYTEST_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    println!(
        "---- pytest emulator/conformance ({:.1?}) ----",
        started.elapsed()
    );
    println!("{stdout}");
    if !stderr.trim().is_empty() {
        println!("---- pytest stderr ----\n{stderr}");
    }

    match status {
        None => panic!("pytest did not finish within {PYTEST_TIMEOUT:?}; output above"),
        Some(status) => assert!(
            status.success(),
            "botocore conformance failed (pytest {status}); pytest's output is above. \
             Re-run alone: cargo test -p emulator --test botocore -- --nocapture"
        ),
    }
}
