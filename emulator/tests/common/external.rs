//! Running a conformance suite written for a client nobody here wrote (botocore under
//! pytest, the AWS JS SDK under node's test runner) as a child process, with a time bound.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (the emulator crate's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("emulator/ has a parent directory")
        .to_path_buf()
}

/// `command` without any `AWS_*` variable of the caller's: nothing of a developer's or CI's
/// AWS setup may reach the client under test.
pub fn hermetic(mut command: Command) -> Command {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
}

fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `command` to its end (killed after `limit`), prints its output under `title`, and
/// fails the test unless it exits successfully.
pub fn run_suite(title: &str, mut command: Command, limit: Duration, rerun: &str) {
    command
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {title}: {e}"));
    let stdout = read_all(child.stdout.take().expect("stdout is piped"));
    let stderr = read_all(child.stderr.take().expect("stderr is piped"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the suite") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    println!("---- {title} ({:.1?}) ----", started.elapsed());
    println!("{stdout}");
    if !stderr.trim().is_empty() {
        println!("---- {title}: stderr ----\n{stderr}");
    }
    match status {
        None => panic!("{title} did not finish within {limit:?}; output above"),
        Some(status) => assert!(
            status.success(),
            "{title} failed ({status}); its output is above. Re-run alone: {rerun}"
        ),
    }
}
