//! `chat`: one prompt, or an interactive multi-turn session, streamed as it arrives.

use std::io::{self, IsTerminal};
use std::sync::{Arc, Mutex, PoisonError};

use host_sdk::{
    Canceller, Completion, ContentBlock, ConverseRequest, ErrorKind, Message, StreamError,
};

use crate::cli::ChatArgs;
use crate::commands::repl::{self, Command, Lines};
use crate::conversations;
use crate::error::{CliError, CliResult};
use crate::printer::{Output, Printer, SharedPrinter};
use crate::render::Style;
use crate::request;
use crate::session::Session;
use crate::tool_runner::Tools;

pub fn run(session: &Session, args: &ChatArgs) -> CliResult {
    let interactive = args.interactive
        || (args.prompt.is_none() && args.request.request.is_none() && io::stdin().is_terminal());
    if interactive && !args.request.attachments.is_empty() {
        return Err(CliError::new(
            "-a attaches files to one prompt: give the prompt too (host-demo chat -a FILE \"question\")",
        ));
    }
    // The prompt: the argument with piped context, unless stdin is the request document; a
    // request document may also hold the whole conversation already.
    let prompt = if interactive || request::reads_stdin(&args.request) {
        args.prompt.clone()
    } else if args.request.request.is_some() {
        prompt_with_piped_input(args.prompt.as_deref()).ok()
    } else {
        Some(prompt_with_piped_input(args.prompt.as_deref())?)
    };
    let mut request = request::build(session, &args.request, prompt)?;
    let tools = args
        .tools
        .as_deref()
        .map(|path| Tools::load(path, !args.yes))
        .transpose()?;
    if let Some(tools) = &tools {
        request.tools.extend(tools.declarations());
    }
    let conversation = match (&args.conversation, args.continue_last) {
        (Some(name), _) => Some(name.clone()),
        (None, true) => Some(conversations::latest()?),
        (None, false) => None,
    };
    let history = resume(conversation.as_deref(), args, &mut request)?;
    // The line editor first: creating it installs rustyline's own SIGINT handler for as long
    // as it lives, so the handler that stops an answer must be installed after it (during a
    // prompt the terminal is raw, and the editor reads Ctrl-C as a key).
    let lines = if interactive {
        Some(Lines::open()?)
    } else {
        None
    };
    let mut chat = Chat {
        session,
        request: ConverseRequest {
            messages: Vec::new(),
            ..request.clone()
        },
        json: args.json,
        image_dir: args.image_dir.clone(),
        style: Style::stdout(),
        stream_slot: install_interrupt_handler()?,
        conversation,
        tools,
        max_tool_rounds: args.max_tool_rounds,
        flags: request::flags_and_fields(&args.request),
    };
    if let Some(lines) = lines {
        return chat.interactive(lines, history);
    }
    if request.messages.is_empty() {
        return Err(CliError::new(
            "nothing to send: the request document has no messages and no prompt was given",
        ));
    }
    let mut history = history;
    history.append(&mut request.messages);
    chat.answer(&mut history)?;
    chat.save(history)
}

/// The saved conversation's turns, if one is named. Its model and system prompt carry on
/// into `request` unless this run names others.
fn resume(
    conversation: Option<&str>,
    args: &ChatArgs,
    request: &mut ConverseRequest,
) -> CliResult<Vec<Message>> {
    let Some(saved) = conversation.map(conversations::load).transpose()?.flatten() else {
        return Ok(Vec::new());
    };
    if args.request.model.is_none() && args.request.request.is_none() {
        request.model = saved.model;
    }
    if request.system.is_empty() {
        request.system = saved.system;
    }
    Ok(saved.messages)
}

/// The one prompt to send: the argument, with text piped to stdin before it as its context,
/// or the piped text alone.
pub fn prompt_with_piped_input(prompt: Option<&str>) -> CliResult<String> {
    let piped = if io::stdin().is_terminal() {
        String::new()
    } else {
        let mut text = String::new();
        io::Read::read_to_string(&mut io::stdin(), &mut text)
            .map_err(|e| CliError::new(format!("cannot read standard input: {e}")))?;
        text
    };
    let piped = piped.trim_end();
    match (prompt, piped.trim().is_empty()) {
        (Some(prompt), true) => Ok(prompt.to_string()),
        (Some(prompt), false) => Ok(format!("{piped}\n\n{prompt}")),
        (None, false) => Ok(piped.to_string()),
        (None, true) => Err(CliError::new(
            "nothing to send: give a prompt, pipe text to stdin, or use --interactive",
        )),
    }
}

/// Ctrl-C cancels the running stream (the history survives); with no stream running, or on
/// a second Ctrl-C, it ends the program as usual.
type StreamSlot = Arc<Mutex<Option<Canceller>>>;

fn install_interrupt_handler() -> CliResult<StreamSlot> {
    let slot: StreamSlot = Arc::default();
    let handler_slot = slot.clone();
    ctrlc::set_handler(move || {
        let running = handler_slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match running {
            Some(canceller) => canceller.cancel(),
            None => {
                eprintln!();
                std::process::exit(130);
            }
        }
    })
    .map_err(|e| CliError::new(format!("cannot install the Ctrl-C handler: {e}")))?;
    Ok(slot)
}

struct Chat<'a> {
    session: &'a Session,
    request: ConverseRequest,
    json: bool,
    /// Where images the model makes are saved.
    image_dir: std::path::PathBuf,
    style: Style,
    stream_slot: StreamSlot,
    /// The saved conversation this chat continues and keeps, if any.
    conversation: Option<String>,
    /// The user's tools (`--tools`), run when the model calls them.
    tools: Option<Tools>,
    max_tool_rounds: u32,
    /// The flags given, with the request fields they set (for refusals that name a field).
    flags: Vec<String>,
}

impl Chat<'_> {
    /// Saves the conversation so far, when this chat keeps one.
    fn save(&self, messages: Vec<Message>) -> CliResult {
        let Some(name) = &self.conversation else {
            return Ok(());
        };
        conversations::save(
            name,
            &ConverseRequest {
                messages,
                ..self.request.clone()
            },
        )
    }

    fn interactive(&mut self, mut lines: Lines, mut history: Vec<Message>) -> CliResult {
        let prompting = lines.is_terminal();
        if prompting {
            eprintln!(
                "chatting with {}/{} — /help for commands, /exit or Ctrl-D to quit, Ctrl-C to stop an answer",
                self.session.provider_id(),
                self.request.model
            );
        }
        let prompt = format!("{}> {}", self.style.bold_on(), self.style.reset());
        let mut attachments: Vec<ContentBlock> = Vec::new();
        let mut last_failure = None;
        while let Some(input) = lines.next(&prompt)? {
            let input = input.trim();
            if input.is_empty() {
                continue;
            }
            if let Some(command) = repl::parse(input) {
                match command {
                    Ok(Command::Exit) => break,
                    Ok(command) => {
                        if let Err(e) = self.command(command, &mut history, &mut attachments) {
                            eprintln!("{}", Style::stderr().dim(&format!("error: {e}")));
                        }
                    }
                    Err(problem) => eprintln!("{}", Style::stderr().dim(&problem)),
                }
                continue;
            }
            let mut content = std::mem::take(&mut attachments);
            content.push(ContentBlock::Text {
                text: input.to_string(),
            });
            history.push(Message {
                role: host_sdk::Role::User,
                content,
            });
            match self.answer(&mut history) {
                Ok(_) => {
                    last_failure = None;
                    self.save(history.clone())?;
                }
                Err(error) => {
                    // The turn did not happen: forget its prompt so the history stays a valid
                    // alternation of user and assistant messages.
                    history.pop();
                    if error.broken_pipe {
                        return Err(error);
                    }
                    let note = if error.exit_code == 130 {
                        "(answer cancelled; it is not kept in the history)".to_string()
                    } else {
                        format!("error: {error}")
                    };
                    eprintln!("{}", Style::stderr().dim(&note));
                    last_failure = Some(error);
                }
            }
        }
        if prompting {
            println!();
        }
        // A script feeding stdin needs to know when its last prompt failed.
        match last_failure {
            Some(error) if !prompting => Err(error),
            _ => Ok(()),
        }
    }

    /// Answers the last user turn of `history`, running the tools the model calls and
    /// sending their results back until it answers without calling one (at most
    /// `max_tool_rounds` rounds). The answer, and every call and result, join `history`;
    /// on failure `history` is as it was.
    fn answer(&self, history: &mut Vec<Message>) -> CliResult<Completion> {
        let start = history.len();
        let answered = self.answer_rounds(history);
        if answered.is_err() {
            history.truncate(start);
        }
        answered
    }

    fn answer_rounds(&self, history: &mut Vec<Message>) -> CliResult<Completion> {
        let mut rounds = 0;
        loop {
            let completion = self.turn(history.clone())?;
            history.push(completion.message.clone());
            let calls: Vec<(&str, &str, &serde_json::Value)> = completion
                .message
                .content
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::ToolUse { id, name, input } => {
                        Some((id.as_str(), name.as_str(), input))
                    }
                    _ => None,
                })
                .collect();
            let Some(tools) = self.tools.as_ref().filter(|_| !calls.is_empty()) else {
                return Ok(completion);
            };
            if rounds == self.max_tool_rounds {
                return Err(CliError::new(format!(
                    "the model was still calling tools after {rounds} rounds: stopped (--max-tool-rounds)"
                )));
            }
            rounds += 1;
            let results = calls
                .iter()
                .map(|(id, name, input)| tools.call(id, name, input))
                .collect::<CliResult<Vec<_>>>()?;
            history.push(Message {
                role: host_sdk::Role::User,
                content: results,
            });
        }
    }

    /// Carries out a `/` command; what it changed is said on stderr.
    fn command(
        &mut self,
        command: Command,
        history: &mut Vec<Message>,
        attachments: &mut Vec<ContentBlock>,
    ) -> CliResult {
        let note = match command {
            Command::Exit => return Ok(()),
            Command::Help => repl::HELP.to_string(),
            Command::Clear => {
                history.clear();
                "(conversation cleared)".to_string()
            }
            Command::Model(id) => {
                let model = self.session.choose_model(Some(&id))?;
                self.session.check_listed(&model)?;
                self.request.model = model;
                format!("(now talking to {})", self.request.model)
            }
            Command::System(None) => {
                self.request.system.clear();
                "(system prompt removed)".to_string()
            }
            Command::System(Some(text)) => {
                self.request.system = vec![text];
                "(system prompt set)".to_string()
            }
            Command::Attach(path) => {
                attachments.push(crate::attachments::block(&path)?);
                format!("(attached {} to the next prompt)", path.display())
            }
            Command::Save(name) => {
                self.conversation = Some(name.clone());
                self.save(history.clone())?;
                format!("(saved as {name}; later turns are saved too)")
            }
        };
        eprintln!("{}", Style::stderr().dim(&note));
        Ok(())
    }

    fn stream_error(&self, error: &StreamError) -> CliError {
        if error.kind() == &ErrorKind::Cancelled {
            return CliError::new("the answer was cancelled").with_exit_code(130);
        }
        let failed = CliError::stream(
            "the model call failed",
            error,
            self.session.emulator.is_some(),
        );
        let refused = matches!(
            error.kind(),
            ErrorKind::InvalidRequest | ErrorKind::Validation
        );
        if refused && !self.flags.is_empty() {
            return failed.with_hint(format!(
                "the flags given set these request fields: {}",
                self.flags.join(", ")
            ));
        }
        failed
    }

    /// Streams one answer to `messages`, printing as events arrive.
    fn turn(&self, messages: Vec<Message>) -> CliResult<Completion> {
        let request = ConverseRequest {
            messages,
            ..self.request.clone()
        };
        let printer = Arc::new(Mutex::new(
            Printer::new(self.json, self.style, Output::standard())
                .saving_images_to(self.image_dir.clone()),
        ));
        let running = self
            .session
            .provider
            .start_with(&request, SharedPrinter(printer.clone()))
            .map_err(|error| {
                self.stream_error(&StreamError {
                    error,
                    partial: Completion::empty(),
                })
            })?;
        // What the provider could not send as asked (settings a reasoning model ignores).
        for notice in self.session.provider.take_notices() {
            eprintln!("{}", Style::stderr().dim(&format!("note: {notice}")));
        }
        *self.slot() = Some(running.canceller());
        let result = running.wait();
        self.slot().take();
        let mut printer = printer.lock().unwrap_or_else(PoisonError::into_inner);
        printer.finish(&self.request.model, &result);
        if let Some(e) = printer.write_error.take() {
            return Err(e.into());
        }
        result.map_err(|e| self.stream_error(&e))
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Canceller>> {
        self.stream_slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
