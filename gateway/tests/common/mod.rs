//! What the gateway's tests share: a gateway process started with the arguments a test
//! gives (stopped when dropped), and raw HTTP/1.1 requests to it.

#![allow(dead_code)] // each test binary uses its own part

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};

/// A running gateway; killed when dropped.
pub struct Gateway {
    child: Child,
    /// The base URL it printed first (`http://127.0.0.1:PORT/v1`).
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub address: String,
}

impl Gateway {
    /// Starts `gateway ARGS --port 0` with no client key and none of the developer's own AWS
    /// setup from the environment, plus `envs`.
    pub fn start<I, S>(args: I, envs: &[(&str, &str)]) -> Gateway
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Gateway::start_logging_to(args, envs, Stdio::null())
    }

    /// [`Gateway::start`], its log (stderr) going to `log`.
    pub fn start_logging_to<I, S>(args: I, envs: &[(&str, &str)], log: Stdio) -> Gateway
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = gateway_command(args, envs)
            .stderr(log)
            .spawn()
            .expect("the gateway starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .expect("the gateway prints its URL");
        let url = first.trim().to_string();
        let address = url
            .strip_prefix("http://")
            .and_then(|a| a.strip_suffix("/v1"))
            .unwrap_or_else(|| panic!("the first line is the base URL: {first:?}"))
            .to_string();
        assert!(address.starts_with("127.0.0.1:"), "{url}");
        Gateway {
            child,
            url,
            address,
        }
    }

    /// Starts a gateway in front of `emulator` (running in the test process, so a test sees
    /// what reaches Bedrock), with the emulator's identity as its AWS credentials.
    pub fn in_front_of(emulator: &emulator::RunningEmulator, args: &[&str]) -> Gateway {
        Gateway::in_front_of_with(emulator, "", args)
    }

    /// [`Gateway::in_front_of`] with `provider_keys` (JSON5 members, each followed by a
    /// comma) added to the provider's configuration, such as a quick `retry`.
    pub fn in_front_of_with(
        emulator: &emulator::RunningEmulator,
        provider_keys: &str,
        args: &[&str],
    ) -> Gateway {
        Gateway::in_front_of_configured(emulator, provider_keys, "", args)
    }

    /// [`Gateway::in_front_of_with`] with `gateway_section` (the JSON5 members of the
    /// document's `gateway` section: keys, aliases, store).
    pub fn in_front_of_configured(
        emulator: &emulator::RunningEmulator,
        provider_keys: &str,
        gateway_section: &str,
        args: &[&str],
    ) -> Gateway {
        let config = std::env::temp_dir().join(format!(
            "gateway-emulator-{}-{}-{}.json5",
            std::process::id(),
            emulator.addr().port(),
            fastrand::u32(..)
        ));
        std::fs::write(
            &config,
            format!(
                r#"{{ models: {{ providers: {{ "amazon-bedrock": {{ {provider_keys} baseUrl: "{}" }} }} }}, gateway: {{ {gateway_section} }} }}"#,
                emulator.url()
            ),
        )
        .unwrap();
        let mut all: Vec<std::ffi::OsString> = vec!["--config".into(), config.clone().into()];
        all.extend(args.iter().map(Into::into));
        let envs = [
            ("AWS_ACCESS_KEY_ID", emulator.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", emulator.secret_access_key()),
            ("AWS_REGION", emulator.region()),
        ];
        let gateway = Gateway::start(all, &envs);
        let _ = std::fs::remove_file(config);
        gateway
    }

    /// Sends `signal` (`TERM`, `HUP`) to the process.
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end by itself.
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().unwrap()
    }

    /// Sends one HTTP/1.1 request and returns the connection, to read the answer as it comes.
    pub fn send(&self, method: &str, path: &str, body: &str) -> TcpStream {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        )
        .unwrap();
        stream
    }

    /// The whole answer to one request (status line, headers and body).
    pub fn fetch(&self, method: &str, path: &str, body: &str) -> String {
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut self.send(method, path, body), &mut answer).unwrap();
        answer
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `gateway ARGS --port 0` with no client key and none of the developer's own AWS setup from
/// the environment, plus `envs`; its stdout piped (the first line is the URL).
fn gateway_command<I, S>(args: I, envs: &[(&str, &str)]) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
    command
        .args(args)
        .args(["--port", "0"])
        .env_remove("GATEWAY_API_KEY");
    for variable in emulator::process_env::COMPETING_VARIABLES {
        command.env_remove(variable);
    }
    command.envs(envs.iter().copied()).stdout(Stdio::piped());
    command
}

/// A library built next to the gateway (`bedrock_plugin`, a fixture plugin), which must
/// exist.
pub fn built_library(name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_gateway"))
        .parent()
        .unwrap()
        .join(format!(
            "{}{name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test",
        path.display()
    );
    path
}

/// Runs `gateway ARGS --port 0` expecting it to refuse to start: its exit status and what it
/// said on stderr (a gateway that starts after all is killed, and the test sees its URL).
pub fn refused_start(args: &[&str], envs: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut child = gateway_command(args, envs)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gateway runs");
    let mut first = String::new();
    let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut first);
    if !first.is_empty() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the gateway started ({first}) with {args:?}");
    }
    let mut said = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut said).unwrap();
    (child.wait().unwrap(), said)
}

/// The answer to `head` (a request's whole head, blank line included) and `body` sent as
/// given on a fresh connection.
pub fn exchange(address: &str, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
    answer
}

/// The JSON body of an HTTP answer.
pub fn body_json(answer: &str) -> serde_json::Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not a JSON body ({e}): {answer}"))
}

/// The configuration the conformance tests run the gateway with: a second key limited to
/// one model, and an alias as agents name models (`claude-sonnet-4-5`). Written to a file
/// of the test's own (`name`).
pub fn conformance_config(name: &str) -> std::path::PathBuf {
    let config = std::env::temp_dir().join(format!(
        "gateway-conformance-{name}-{}.json5",
        std::process::id()
    ));
    std::fs::write(
        &config,
        r#"{ gateway: {
            keys: [{ key: "limited-key", models: ["amazon-bedrock/amazon.nova-micro-v1:0"] }],
            aliases: { "claude-sonnet-4-5": "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0" },
        } }"#,
    )
    .unwrap();
    config
}

/// Runs pytest on `tests` (a path in the repository) in the project's venv with `envs`;
/// fails the test when pytest fails, else returns its report.
pub fn run_pytest(repo: &std::path::Path, tests: &str, envs: &[(&str, &str)]) -> String {
    let python = repo.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/python-env (scripts/test does)",
        python.display()
    );
    let out = std::process::Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", tests])
        .current_dir(repo)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .envs(envs.iter().copied())
        .output()
        .expect("pytest runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pytest failed:\n{report}");
    report
}

/// Runs `node --test FILE` in gateway/conformance/js with `envs`; fails the test when a
/// test fails, else returns the report.
pub fn run_node_tests(file: &str, envs: &[(&str, &str)]) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/js");
    assert!(
        dir.join("node_modules/openai").is_dir()
            && dir.join("node_modules/@anthropic-ai/sdk").is_dir(),
        "{} has no node_modules: run scripts/node-env (scripts/test does)",
        dir.display()
    );
    let out = std::process::Command::new("node")
        .args(["--test", file])
        .current_dir(&dir)
        .envs(envs.iter().copied())
        .output()
        .expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "node --test failed:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

/// The fenced blocks of `language` in the README's section headed `heading` (up to the next
/// `## ` heading), as written.
pub fn readme_blocks(heading: &str, language: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .expect("the README");
    let section = readme
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("the README has no section {heading:?}"))
        .split("\n## ")
        .next()
        .unwrap()
        .to_string();
    let fence = format!("```{language}\n");
    section
        .split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or("").to_string())
        .collect()
}
