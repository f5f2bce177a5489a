//! The interactive chat's input: lines edited with history (rustyline) on a terminal, or read
//! plainly from a pipe (`-i`); a line ending in `\` continues on the next; and the `/`
//! commands that steer the session.

use std::io::{self, BufRead, IsTerminal};
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use crate::error::{CliError, CliResult};

/// What the user asked the session to do with a `/` command.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Exit,
    Help,
    /// Forget the conversation so far.
    Clear,
    /// Talk to another model from now on.
    Model(String),
    /// Set (or, without text, remove) the system prompt.
    System(Option<String>),
    /// Attach a file to the next prompt.
    Attach(PathBuf),
    /// Keep the conversation under a name from now on.
    Save(String),
}

/// The commands, for `/help`.
pub const HELP: &str = "commands: /model ID · /system [TEXT] · /attach FILE · /save NAME · /clear · /help · /exit (end a line with \\ to continue it)";

/// The command on `line`, `None` when it is a prompt, or why it is not a valid command.
pub fn parse(line: &str) -> Option<Result<Command, String>> {
    let line = line.trim();
    let rest = line.strip_prefix('/')?;
    let (name, argument) = match rest.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (rest, ""),
    };
    let needs = |what: &str| Err(format!("/{name} needs {what}"));
    Some(match (name, argument) {
        ("exit" | "quit", _) => Ok(Command::Exit),
        ("help" | "?", _) => Ok(Command::Help),
        ("clear", _) => Ok(Command::Clear),
        ("model", "") => needs("a model id"),
        ("model", id) => Ok(Command::Model(id.to_string())),
        ("system", "") => Ok(Command::System(None)),
        ("system", text) => Ok(Command::System(Some(text.to_string()))),
        ("attach", "") => needs("a file"),
        ("attach", file) => Ok(Command::Attach(PathBuf::from(file))),
        ("save", "") => needs("a name"),
        ("save", name) => Ok(Command::Save(name.to_string())),
        (other, _) => Err(format!("unknown command /{other}; {HELP}")),
    })
}

/// Where prompts come from.
pub enum Lines {
    /// A terminal: line editing and a history kept across sessions.
    Editor {
        editor: Box<DefaultEditor>,
        history: Option<PathBuf>,
    },
    /// A pipe or a file: one line at a time.
    Plain,
}

impl Lines {
    /// Line editing on a terminal, plain lines otherwise.
    pub fn open() -> CliResult<Self> {
        if !io::stdin().is_terminal() {
            return Ok(Lines::Plain);
        }
        let mut editor = DefaultEditor::new()
            .map_err(|e| CliError::new(format!("cannot start line editing: {e}")))?;
        let history = crate::conversations::history_file();
        if let Some(path) = &history {
            // No history yet is fine.
            let _ = editor.load_history(path);
        }
        Ok(Lines::Editor {
            editor: Box::new(editor),
            history,
        })
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, Lines::Editor { .. })
    }

    /// The next input, continued over lines ending in `\`; `None` at the end of input.
    pub fn next(&mut self, prompt: &str) -> CliResult<Option<String>> {
        let mut input = String::new();
        loop {
            let Some(line) = self.line(if input.is_empty() { prompt } else { "… " })? else {
                return Ok((!input.is_empty()).then_some(input));
            };
            match line.strip_suffix('\\') {
                Some(part) => {
                    input.push_str(part);
                    input.push('\n');
                }
                None => {
                    input.push_str(&line);
                    if let Lines::Editor { editor, history } = self {
                        let _ = editor.add_history_entry(input.as_str());
                        if let Some(path) = history {
                            if let Some(dir) = path.parent() {
                                let _ = std::fs::create_dir_all(dir);
                            }
                            let _ = editor.save_history(path);
                        }
                    }
                    return Ok(Some(input));
                }
            }
        }
    }

    fn line(&mut self, prompt: &str) -> CliResult<Option<String>> {
        match self {
            Lines::Editor { editor, .. } => loop {
                match editor.readline(prompt) {
                    Ok(line) => return Ok(Some(line)),
                    // Ctrl-C while typing clears the line, as in a shell.
                    Err(ReadlineError::Interrupted) => continue,
                    Err(ReadlineError::Eof) => return Ok(None),
                    Err(e) => return Err(CliError::new(format!("cannot read input: {e}"))),
                }
            },
            Lines::Plain => {
                let mut line = String::new();
                let read = io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| CliError::new(format!("cannot read standard input: {e}")))?;
                Ok((read > 0).then(|| line.trim_end_matches(['\n', '\r']).to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_prompts() {
        assert_eq!(parse("hello"), None);
        assert_eq!(parse("/exit"), Some(Ok(Command::Exit)));
        assert_eq!(
            parse(" /model  us.x.y "),
            Some(Ok(Command::Model("us.x.y".into())))
        );
        assert_eq!(parse("/system"), Some(Ok(Command::System(None))));
        assert_eq!(
            parse("/system Be brief."),
            Some(Ok(Command::System(Some("Be brief.".into()))))
        );
        assert_eq!(
            parse("/attach a b.png"),
            Some(Ok(Command::Attach("a b.png".into())))
        );
        assert!(parse("/model").unwrap().is_err());
        assert!(parse("/frobnicate")
            .unwrap()
            .unwrap_err()
            .contains("/model ID"));
    }
}
