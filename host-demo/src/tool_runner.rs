//! `chat --tools FILE`: tools the user declares, each run as a command that reads the call's
//! input (JSON) on stdin and prints its result, so a real tool loop can be watched: the model
//! calls, host-demo asks before running (unless `--yes`), sends the result back, and the
//! model goes on, for a bounded number of rounds.
//!
//! The file (JSON5): `[{ name, description, inputSchema, command: ["prog", "arg", ...] }]`.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use host_sdk::{ContentBlock, Tool, ToolResultContent};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{CliError, CliResult};
use crate::render::Style;

/// How long a tool may run.
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
/// The most output of a tool sent back to the model.
const MAX_OUTPUT_CHARS: usize = 100_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LocalTool {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "any_object")]
    input_schema: Value,
    /// The program and its arguments; the call's input arrives on its stdin.
    command: Vec<String>,
}

fn any_object() -> Value {
    serde_json::json!({"type": "object"})
}

/// The tools of a `--tools` file, and whether to ask before running one.
pub struct Tools {
    tools: Vec<LocalTool>,
    ask: bool,
}

impl Tools {
    pub fn load(path: &Path, ask: bool) -> CliResult<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::new(format!("cannot read --tools {}: {e}", path.display())))?;
        let tools: Vec<LocalTool> = json5::from_str(&text).map_err(|e| {
            CliError::new(format!(
                "--tools {} is not a list of tools ({{name, description, inputSchema, command: [program, args...]}}): {e}",
                path.display()
            ))
        })?;
        if let Some(t) = tools.iter().find(|t| t.command.is_empty()) {
            return Err(CliError::new(format!(
                "--tools {}: tool `{}` has an empty command",
                path.display(),
                t.name
            )));
        }
        Ok(Self { tools, ask })
    }

    /// The tools as the request declares them.
    pub fn declarations(&self) -> Vec<Tool> {
        self.tools
            .iter()
            .map(|t| Tool::new(&t.name, &t.description, t.input_schema.clone()))
            .collect()
    }

    /// Runs the model's call `name(input)` and returns its result block (an error result when
    /// the tool is unknown, declined, fails or times out: the model reads why).
    pub fn call(&self, id: &str, name: &str, input: &Value) -> CliResult<ContentBlock> {
        let result = |text: String, is_error: bool| ContentBlock::ToolResult {
            tool_use_id: id.to_string(),
            content: vec![ToolResultContent::Text { text }],
            is_error,
        };
        let Some(tool) = self.tools.iter().find(|t| t.name == name) else {
            return Ok(result(format!("there is no tool named {name}"), true));
        };
        let note = |text: &str| eprintln!("{}", Style::stderr().dim(text));
        if self.ask && !self.confirm(tool, input)? {
            note(&format!("(not running {name})"));
            return Ok(result("the user declined to run this tool".into(), true));
        }
        note(&format!("(running {} {input})", tool.command.join(" ")));
        Ok(match run(&tool.command, input) {
            Ok(output) => result(output, false),
            Err(problem) => {
                note(&format!("({name} failed: {problem})"));
                result(problem, true)
            }
        })
    }

    /// Asks on the terminal; without one there is nobody to ask.
    fn confirm(&self, tool: &LocalTool, input: &Value) -> CliResult<bool> {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::new(format!(
                "the model called `{}`, and stdin is not a terminal to ask whether to run it: pass --yes to run tools without asking",
                tool.name
            )));
        }
        eprint!("run `{}` with {input}? [y/N] ", tool.command.join(" "));
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
    }
}

/// Runs `argv` with `input` on stdin: its stdout, or why it failed.
fn run(argv: &[String], input: &Value) -> Result<String, String> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let payload = input.to_string();
    std::thread::spawn(move || {
        let _ = stdin.write_all(payload.as_bytes());
    });
    let (mut stdout, mut stderr) = (
        child.stdout.take().expect("stdout is piped"),
        child.stderr.take().expect("stderr is piped"),
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let mut err = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = stderr.read_to_string(&mut err);
        let _ = tx.send((out, err));
    });
    let Ok((out, err)) = rx.recv_timeout(TOOL_TIMEOUT) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("it ran longer than {} s", TOOL_TIMEOUT.as_secs()));
    };
    let status = child.wait().map_err(|e| e.to_string())?;
    let out: String = out.chars().take(MAX_OUTPUT_CHARS).collect();
    if status.success() {
        Ok(if out.trim().is_empty() {
            "(no output)".into()
        } else {
            out
        })
    } else {
        Err(format!("{status}: {}", err.trim()))
    }
}
