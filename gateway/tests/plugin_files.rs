//! Issue #18: the plugin file under a running gateway. Writing over the loaded file in place
//! (`cp new.so loaded.so`) used to kill the gateway with SIGBUS; reloads used to leave a copy
//! on disk and the old build's threads behind for the process's life.

mod common;

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{built_library, Gateway};

/// A fresh directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("gateway-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn writing_over_the_loaded_plugin_in_place_harms_nothing() {
    let installed_dir = Scratch::new("in-place");
    let tmp = Scratch::new("in-place-tmp");
    let installed = installed_dir.0.join("libbedrock_plugin.so");
    std::fs::copy(built_library("bedrock_plugin"), &installed).unwrap();
    // On Linux the private copy is a memory file: loading needs no temporary directory (a
    // debug build's copies, one per process, once filled a CI machine's disk).
    let absent = tmp.0.join("absent");
    let tmp_path = absent.to_string_lossy().into_owned();
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--plugin".as_ref(),
            installed.as_os_str(),
        ],
        &[("TMPDIR", tmp_path.as_str())],
    );
    assert!(
        !absent.exists() && tmp.entries().is_empty(),
        "nothing was written to disk: {:?}",
        tmp.entries()
    );
    // A stream in flight (an event every 50 ms) while the file is written over twice in
    // place: with the same bytes, then with another plugin's.
    let scenario = serde_json::json!({"text": "ab".repeat(30), "deltaSize": 2, "eventDelayMs": 50});
    let body = serde_json::json!({
        "model": "amazon-bedrock/amazon.nova-micro-v1:0", "stream": true,
        "messages": [{"role": "user", "content": format!("EMULATOR_SCENARIO {scenario}")}],
    })
    .to_string();
    let mut stream = gateway.send("POST", "/v1/chat/completions", &body);
    let mut first = [0u8; 64];
    let n = stream.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    std::fs::copy(built_library("bedrock_plugin"), &installed).unwrap();
    std::fs::copy(built_library("contract_1_4_plugin"), &installed).unwrap();
    let mut rest = String::new();
    stream.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("[DONE]"), "the stream finished: {rest}");
    let again = gateway.fetch(
        "POST",
        "/v1/chat/completions",
        r#"{"model":"amazon-bedrock/amazon.nova-micro-v1:0","messages":[{"role":"user","content":"still there?"}]}"#,
    );
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
}

/// The `bedrock-plugin` threads of the process (the plugin's runtime workers).
fn plugin_threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim() == "bedrock-plugin")
        })
        .count()
}

#[test]
fn reloads_leave_no_copies_on_disk_and_no_threads_of_old_builds() {
    let installed_dir = Scratch::new("reloads");
    let tmp = Scratch::new("reloads-tmp");
    let installed = installed_dir.0.join("libbedrock_plugin.so");
    let mut bytes = std::fs::read(built_library("bedrock_plugin")).unwrap();
    std::fs::write(&installed, &bytes).unwrap();
    let log = installed_dir.0.join("gateway.log");
    let tmp_path = tmp.0.to_string_lossy().into_owned();
    let gateway = Gateway::start_logging_to(
        [
            "--emulator".as_ref(),
            "--plugin".as_ref(),
            installed.as_os_str(),
        ],
        &[("TMPDIR", tmp_path.as_str())],
        std::fs::File::create(&log).unwrap().into(),
    );
    let ask = || {
        let answer = gateway.fetch(
            "POST",
            "/v1/chat/completions",
            r#"{"model":"amazon-bedrock/amazon.nova-micro-v1:0","messages":[{"role":"user","content":"hi"}]}"#,
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    };
    ask();
    let pid = gateway.pid();
    let at_start = plugin_threads(pid);
    assert!(at_start > 0, "the plugin's runtime runs");
    for reload in 1..=4 {
        // A new build: other bytes (an upgrade), installed by rename as an upgrade is.
        bytes.push(b'\n');
        let incoming = installed_dir.0.join("incoming");
        std::fs::write(&incoming, &bytes).unwrap();
        std::fs::rename(&incoming, &installed).unwrap();
        gateway.signal("HUP");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::io::BufReader::new(std::fs::File::open(&log).unwrap())
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.contains("plugins reloaded"))
            .count()
            < reload
        {
            assert!(Instant::now() < deadline, "reload {reload} was not logged");
            std::thread::sleep(Duration::from_millis(50));
        }
        ask();
    }
    assert!(
        tmp.entries().is_empty(),
        "no copies left: {:?}",
        tmp.entries()
    );
    // The old builds' runtimes stop once nothing holds their providers.
    let deadline = Instant::now() + Duration::from_secs(10);
    while plugin_threads(pid) > at_start {
        assert!(
            Instant::now() < deadline,
            "{} plugin threads after four reloads, {at_start} at the start",
            plugin_threads(pid)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
