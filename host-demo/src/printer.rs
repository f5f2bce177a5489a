//! What a person sees of an answer as it streams: the text (as Markdown on a terminal),
//! reasoning dimmed, tool calls on their own lines, the tools the provider ran with their
//! input and result, citations as numbered references under the answer, and a summary line;
//! or, with `--json`, one JSON [`Event`] per line.
//!
//! The answer goes to standard output. The summary line goes there too on a terminal, and to
//! standard error otherwise, so that piped output is the model's text alone.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

use host_sdk::contract::extension_kinds;
use host_sdk::{Completion, Event, Extension, SinkFlow, StreamError, StreamEvent, StreamHandler};
use serde_json::Value;

use crate::markdown::Markdown;
use crate::render::{summary_line, Style};

/// Where the printer writes.
pub struct Output {
    /// The answer.
    pub answer: Box<dyn Write + Send>,
    /// The summary line after it.
    pub summary: Box<dyn Write + Send>,
    /// Whether the answer is shown on a terminal (Markdown, a spinner, wrapping).
    pub terminal: bool,
    /// The width to wrap Markdown at.
    pub width: usize,
}

impl Output {
    /// Standard output for the answer; the summary there too on a terminal, else on
    /// standard error.
    pub fn standard() -> Self {
        let terminal = io::stdout().is_terminal();
        Self {
            answer: Box::new(io::stdout()),
            summary: if terminal {
                Box::new(io::stdout())
            } else {
                Box::new(io::stderr())
            },
            terminal,
            width: crate::render::output_width(),
        }
    }
}

/// A citation as listed under the answer.
#[derive(Debug, Clone, PartialEq)]
struct Reference {
    title: String,
    source: String,
    quote: String,
}

/// Renders one answer's events.
pub struct Printer {
    json: bool,
    style: Style,
    out: Output,
    in_reasoning: bool,
    at_line_start: bool,
    wrote_anything: bool,
    /// Why writing failed (a closed pipe): the stream is stopped and this is reported.
    pub write_error: Option<io::Error>,
    markdown: Option<Markdown>,
    spinner: Option<indicatif::ProgressBar>,
    references: Vec<Reference>,
    /// Where images a model makes are saved (none: they are only mentioned).
    image_dir: Option<std::path::PathBuf>,
}

impl Printer {
    pub fn new(json: bool, style: Style, out: Output) -> Self {
        let spinner = (!json && out.terminal && io::stderr().is_terminal()).then(|| {
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_message("waiting for the model…");
            spinner.enable_steady_tick(std::time::Duration::from_millis(100));
            spinner
        });
        Self {
            json,
            style,
            markdown: (!json && style.color).then(|| Markdown::new(out.width)),
            out,
            in_reasoning: false,
            at_line_start: true,
            wrote_anything: false,
            write_error: None,
            spinner,
            references: Vec::new(),
            image_dir: None,
        }
    }

    /// Saves the images a model makes into `dir`.
    pub fn saving_images_to(mut self, dir: std::path::PathBuf) -> Self {
        self.image_dir = Some(dir);
        self
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }

    fn outcome(&mut self, written: io::Result<()>) -> SinkFlow {
        match written {
            Ok(()) => SinkFlow::Continue,
            // Nobody is reading any more (a closed pipe): stop the model too.
            Err(e) => {
                self.write_error = Some(e);
                SinkFlow::Stop
            }
        }
    }

    pub fn event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        self.stop_spinner();
        let written = if self.json {
            self.json_line(&Event::from(event))
        } else {
            self.render(event)
        };
        self.outcome(written)
    }

    pub fn extension(&mut self, kind: &str, data_json: &str) -> SinkFlow {
        self.stop_spinner();
        let data: Value = serde_json::from_str(data_json).unwrap_or(Value::Null);
        let written = if self.json {
            self.json_line(&Event::Extension(Extension {
                kind: kind.into(),
                data,
            }))
        } else {
            self.render_extension(kind, &data)
        };
        self.outcome(written)
    }

    fn render_extension(&mut self, kind: &str, data: &Value) -> io::Result<()> {
        match kind {
            extension_kinds::SERVER_TOOL_USE => {
                let name = data["name"].as_str().unwrap_or("(unnamed)");
                self.note(&format!("{name} ran:"))?;
                self.indented(&input_text(&data["input"]))
            }
            extension_kinds::IMAGE => match &self.image_dir {
                Some(dir) => match crate::images::save(dir, data) {
                    Ok(path) => self.note(&format!("image saved: {}", path.display())),
                    Err(why) => self.note(&format!("image: {why}")),
                },
                None => self.note("image: made (not saved)"),
            },
            extension_kinds::SERVER_TOOL_RESULT => {
                let status = data["status"].as_str().unwrap_or("done");
                self.note(&format!("result ({status}):"))?;
                self.indented(&result_text(&data["content"]))
            }
            extension_kinds::CITATION => {
                let citation = &data["citation"];
                let reference = Reference {
                    title: citation["title"].as_str().unwrap_or("").to_string(),
                    source: citation["source"].as_str().unwrap_or("").to_string(),
                    quote: citation
                        .pointer("/sourceContent/0/text")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                };
                let number = match self.references.iter().position(|r| *r == reference) {
                    Some(known) => known + 1,
                    None => {
                        self.references.push(reference);
                        self.references.len()
                    }
                };
                // The reference mark goes where the cited text ended.
                let mark = format!("[{number}]");
                let mark = self.style.dim(&mark);
                self.out.answer.write_all(mark.as_bytes())?;
                self.out.answer.flush()
            }
            other => self.note(&extension_note(other, data)),
        }
    }

    /// A dim note on a line of its own.
    fn note(&mut self, note: &str) -> io::Result<()> {
        self.end_reasoning()?;
        self.new_line()?;
        let line = self.style.dim(&format!("[{note}]"));
        writeln!(self.out.answer, "{line}")?;
        self.at_line_start = true;
        self.out.answer.flush()
    }

    /// Text under a note, indented and dim.
    fn indented(&mut self, text: &str) -> io::Result<()> {
        for line in text.lines() {
            let line = self.style.dim(&format!("  {line}"));
            writeln!(self.out.answer, "{line}")?;
        }
        self.at_line_start = true;
        self.out.answer.flush()
    }

    fn render(&mut self, event: &StreamEvent<'_>) -> io::Result<()> {
        match event {
            StreamEvent::ReasoningDelta { text, .. } => {
                if !self.in_reasoning {
                    self.in_reasoning = true;
                    // Without colour (NO_COLOR, a pipe) dim text would read as the answer.
                    if self.style.color {
                        write!(self.out.answer, "{}", self.style.dim_on())?;
                    } else {
                        self.new_line()?;
                        writeln!(self.out.answer, "[reasoning]")?;
                    }
                }
                self.write_text(text)?;
            }
            StreamEvent::RedactedReasoning { data, .. } => {
                self.end_reasoning()?;
                self.new_line()?;
                let note = format!("[redacted reasoning: {} bytes]", data.len());
                writeln!(self.out.answer, "{}", self.style.dim(&note))?;
                self.at_line_start = true;
            }
            StreamEvent::TextDelta { text, .. } => {
                self.end_reasoning()?;
                match self.markdown.as_mut() {
                    Some(markdown) => {
                        let rendered = markdown.push(text);
                        self.write_text(&rendered)?;
                        self.wrote_anything = true;
                    }
                    None => self.write_text(text)?,
                }
            }
            StreamEvent::ToolUse {
                name,
                input_json,
                error,
                ..
            } => {
                self.end_reasoning()?;
                self.new_line()?;
                let call = format!("[tool call] {name} {input_json}");
                writeln!(self.out.answer, "{}", self.style.bold(&call))?;
                if let Some(error) = error.as_ref().into_option() {
                    writeln!(self.out.answer, "  (its input is not valid JSON: {error})")?;
                }
                self.at_line_start = true;
                self.wrote_anything = true;
            }
            StreamEvent::Retry {
                attempt,
                delay_ms,
                error,
            } => {
                let note = format!(
                    "retrying in {delay_ms} ms (attempt {attempt}) after: {}",
                    host_sdk::Error::from(*error)
                );
                eprintln!("{}", Style::stderr().dim(&note));
            }
            _ => return Ok(()),
        }
        self.out.answer.flush()
    }

    fn write_text(&mut self, text: &str) -> io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        self.out.answer.write_all(text.as_bytes())?;
        self.at_line_start = text.ends_with('\n');
        self.wrote_anything = true;
        Ok(())
    }

    fn end_reasoning(&mut self) -> io::Result<()> {
        if self.in_reasoning {
            self.in_reasoning = false;
            write!(self.out.answer, "{}", self.style.reset())?;
            self.new_line()?;
            if !self.style.color {
                writeln!(self.out.answer, "[answer]")?;
            } else {
                writeln!(self.out.answer)?;
            }
        }
        Ok(())
    }

    fn new_line(&mut self) -> io::Result<()> {
        // Whatever the Markdown renderer still holds (a table, a word).
        if let Some(rest) = self.markdown.as_mut().map(Markdown::finish) {
            if !rest.is_empty() {
                self.out.answer.write_all(rest.as_bytes())?;
                self.at_line_start = rest.ends_with('\n');
            }
        }
        if !self.at_line_start {
            writeln!(self.out.answer)?;
            self.at_line_start = true;
        }
        Ok(())
    }

    /// Closes the answer: the final JSON event, or the references and the summary line.
    pub fn finish(&mut self, model: &str, result: &Result<Completion, StreamError>) {
        self.stop_spinner();
        if self.write_error.is_some() {
            return;
        }
        let written = if self.json {
            self.json_line(&match result {
                Ok(c) => Event::Completed(c.clone()),
                Err(e) => Event::Failed(e.clone()),
            })
        } else {
            self.close(model, result)
        };
        if let Err(e) = written {
            self.write_error = Some(e);
        }
    }

    fn close(&mut self, model: &str, result: &Result<Completion, StreamError>) -> io::Result<()> {
        self.end_reasoning()?;
        self.new_line()?;
        if !self.references.is_empty() {
            writeln!(self.out.answer)?;
            for (i, reference) in std::mem::take(&mut self.references).iter().enumerate() {
                let mut line = format!("[{}] ", i + 1);
                line.push_str(
                    match (reference.title.is_empty(), reference.source.is_empty()) {
                        (false, _) => &reference.title,
                        (true, false) => &reference.source,
                        (true, true) => "(untitled source)",
                    },
                );
                if !reference.title.is_empty() && !reference.source.is_empty() {
                    line.push_str(&format!(" ({})", reference.source));
                }
                if !reference.quote.is_empty() {
                    line.push_str(&format!(": \"{}\"", shorten(&reference.quote, 120)));
                }
                writeln!(self.out.answer, "{}", self.style.dim(&line))?;
            }
        }
        self.out.answer.flush()?;
        let summary = match result {
            Ok(completion) => Some(summary_line(model, completion)),
            Err(_) if self.wrote_anything => Some("incomplete answer".to_string()),
            Err(_) => None,
        };
        if let Some(summary) = summary {
            let style = if self.out.terminal {
                self.style
            } else {
                Style::stderr()
            };
            writeln!(self.out.summary, "{}", style.dim(&format!("[{summary}]")))?;
            self.out.summary.flush()?;
        }
        Ok(())
    }

    fn json_line(&mut self, event: &Event) -> io::Result<()> {
        let mut line = serde_json::to_string(event).map_err(io::Error::other)?;
        line.push('\n');
        self.out.answer.write_all(line.as_bytes())?;
        self.out.answer.flush()
    }
}

/// A server tool's input as a person reads it: the one string it holds (the code a code
/// interpreter ran, the query a search made), or its JSON.
fn input_text(input: &Value) -> String {
    match input.as_object().map(|o| o.values().collect::<Vec<_>>()) {
        Some(values) if values.len() == 1 && values[0].is_string() => {
            values[0].as_str().unwrap_or("").to_string()
        }
        _ => serde_json::to_string_pretty(input).unwrap_or_default(),
    }
}

/// The text of a server tool's result content: text parts as they are, a program's output
/// (`stdOut`, and `stdErr` when not empty) as its text, other JSON as JSON.
fn result_text(content: &Value) -> String {
    let parts = content.as_array().map(Vec::as_slice).unwrap_or_default();
    let text: Vec<String> = parts
        .iter()
        .map(|part| match part.get("text").and_then(Value::as_str) {
            Some(text) => text.to_string(),
            None => {
                // `{"type": "json", "value": ..}` (the contract's tool result content).
                let json = part
                    .get("value")
                    .or_else(|| part.get("json"))
                    .unwrap_or(part);
                match json.get("stdOut").and_then(Value::as_str) {
                    Some(out) => match json.get("stdErr").and_then(Value::as_str) {
                        Some(err) if !err.is_empty() => format!("{out}\nstderr: {err}"),
                        _ => out.to_string(),
                    },
                    None => serde_json::to_string_pretty(json).unwrap_or_default(),
                }
            }
        })
        .collect();
    shorten(&text.join("\n"), 2000)
}

/// `text`, cut to `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

/// One line saying what an extension event means for the user.
fn extension_note(kind: &str, data: &Value) -> String {
    match kind {
        extension_kinds::GUARDRAIL if data["intervened"] == true => "guardrail: intervened".into(),
        extension_kinds::GUARDRAIL => "guardrail: assessed, no action".into(),
        extension_kinds::MODEL_ROUTED => format!(
            "routed to {}",
            data["model"].as_str().unwrap_or("(unknown model)")
        ),
        extension_kinds::SERVED => {
            let said = |key: &str| data[key].as_str().map(str::to_owned);
            let parts: Vec<String> = [
                said("serviceTier").map(|t| format!("{t} tier")),
                said("latency").map(|l| format!("{l} latency")),
            ]
            .into_iter()
            .flatten()
            .collect();
            format!("served: {}", parts.join(", "))
        }
        extension_kinds::MODEL_RESPONSE_FIELDS => {
            format!("model response fields: {}", data["fields"])
        }
        other => format!("{other}: {data}"),
    }
}

/// The printer as a stream's handler (the chat reads it again when the stream ends).
pub struct SharedPrinter(pub Arc<Mutex<Printer>>);

impl SharedPrinter {
    fn printer(&self) -> std::sync::MutexGuard<'_, Printer> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StreamHandler for SharedPrinter {
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow {
        self.printer().event(event)
    }

    fn on_extension(&mut self, kind: &str, data_json: &str) -> SinkFlow {
        self.printer().extension(kind, data_json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_sdk::{ContentBlock, Message, Role, StopReason, TokenUsage};
    use serde_json::json;

    /// A place to write that a test reads afterwards.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// A printer as on a pipe (no colour, no terminal), its answer and summary captured.
    fn piped() -> (Printer, Captured, Captured) {
        let (answer, summary) = (Captured::default(), Captured::default());
        let out = Output {
            answer: Box::new(answer.clone()),
            summary: Box::new(summary.clone()),
            terminal: false,
            width: 80,
        };
        (
            Printer::new(false, Style { color: false }, out),
            answer,
            summary,
        )
    }

    #[allow(clippy::result_large_err)] // the type `Provider::converse` returns
    fn completed() -> Result<Completion, StreamError> {
        Ok(Completion {
            message: Message {
                role: Role::Assistant,
                content: vec![ContentBlock::Text { text: "x".into() }],
            },
            stop_reason: Some(StopReason::EndTurn),
            usage: Some(TokenUsage {
                input_tokens: 3,
                output_tokens: 4,
                ..TokenUsage::default()
            }),
            ..Completion::empty()
        })
    }

    #[test]
    fn piped_output_is_the_text_alone_and_the_summary_goes_elsewhere() {
        let (mut printer, answer, summary) = piped();
        printer.event(&StreamEvent::TextDelta {
            index: 0,
            text: "Hello **there**".into(),
        });
        printer.finish("m", &completed());
        assert_eq!(answer.text(), "Hello **there**\n");
        assert!(summary.text().contains("stop reason"), "{}", summary.text());
    }

    #[test]
    fn server_tools_show_their_code_and_result() {
        let (mut printer, answer, _) = piped();
        printer.extension(
            extension_kinds::SERVER_TOOL_USE,
            &json!({"index": 0, "id": "t1", "name": "nova_code_interpreter", "input": {"snippet": "print(6 * 7)"}}).to_string(),
        );
        printer.extension(
            extension_kinds::SERVER_TOOL_RESULT,
            &json!({"index": 1, "toolUseId": "t1", "status": "success", "content": [{"type": "json", "value": {"stdOut": "42", "stdErr": "", "exitCode": 0}}]}).to_string(),
        );
        printer.finish("m", &completed());
        let shown = answer.text();
        assert!(shown.contains("[nova_code_interpreter ran:]"), "{shown}");
        assert!(shown.contains("  print(6 * 7)"), "{shown}");
        assert!(shown.contains("[result (success):]\n  42"), "{shown}");
        assert!(!shown.contains("event]"), "{shown}");
    }

    #[test]
    fn citations_are_numbered_where_they_occur_and_listed_under_the_answer() {
        let (mut printer, answer, _) = piped();
        let cite = |title: &str, quote: &str| {
            json!({"index": 0, "citation": {"title": title, "source": "report.pdf",
                "sourceContent": [{"text": quote}]}})
            .to_string()
        };
        printer.event(&StreamEvent::TextDelta {
            index: 0,
            text: "Revenue grew.".into(),
        });
        printer.extension(
            extension_kinds::CITATION,
            &cite("Annual report", "Revenue grew 12%."),
        );
        printer.event(&StreamEvent::TextDelta {
            index: 1,
            text: " Costs fell.".into(),
        });
        printer.extension(
            extension_kinds::CITATION,
            &cite("Annual report", "Costs fell."),
        );
        printer.extension(
            extension_kinds::CITATION,
            &cite("Annual report", "Revenue grew 12%."),
        );
        printer.finish("m", &completed());
        let shown = answer.text();
        assert!(
            shown.starts_with("Revenue grew.[1] Costs fell.[2][1]\n"),
            "{shown}"
        );
        assert!(
            shown.contains("[1] Annual report (report.pdf): \"Revenue grew 12%.\""),
            "{shown}"
        );
        assert!(shown.contains("[2] Annual report (report.pdf): \"Costs fell.\""));
    }

    #[test]
    fn a_closed_pipe_stops_the_stream() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let out = Output {
            answer: Box::new(Closed),
            summary: Box::new(Closed),
            terminal: false,
            width: 80,
        };
        let mut printer = Printer::new(false, Style { color: false }, out);
        let flow = printer.event(&StreamEvent::TextDelta {
            index: 0,
            text: "x".into(),
        });
        assert_eq!(flow, SinkFlow::Stop);
        assert!(printer.write_error.is_some());
    }
}
