//! `logs`: the saved conversations (`chat -c NAME`, `chat --continue`) as a history to read
//! and search, in the manner of `llm logs`.

use std::io::Write;

use host_sdk::{ContentBlock, ConverseRequest, Message, Role};
use serde_json::json;

use crate::conversations;
use crate::error::{CliError, CliResult};
use crate::render::{table, Style};

/// A message's text as a person reads it: its text blocks, and a note for anything else.
fn text_of(message: &Message) -> String {
    message
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::Text { text } => text.clone(),
            other => format!("[{}]", other.type_name()),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn role(message: &Message) -> &'static str {
    match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System => "system",
    }
}

/// How long ago `when` was, shortly: `3 min ago`, `2 h ago`, `5 d ago`.
fn ago(when: std::time::SystemTime) -> String {
    let seconds = when.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    match seconds {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

fn load(name: &str) -> CliResult<ConverseRequest> {
    conversations::load(name)?.ok_or_else(|| {
        CliError::new(format!("no saved conversation is called {name:?}"))
            .with_hint("`host-demo logs list` shows them")
    })
}

fn first_prompt(conversation: &ConverseRequest) -> String {
    let text = conversation
        .messages
        .iter()
        .find(|m| m.role == Role::User)
        .map(text_of)
        .unwrap_or_default();
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 40 {
        format!("{}…", line.chars().take(39).collect::<String>())
    } else {
        line.to_string()
    }
}

pub fn list(as_json: bool) -> CliResult {
    let mut out = std::io::stdout().lock();
    let mut rows = vec![["NAME", "SAVED", "MODEL", "TURNS", "FIRST PROMPT"]
        .map(String::from)
        .to_vec()];
    let mut listed = Vec::new();
    for (name, saved) in conversations::saved()? {
        let conversation = load(&name)?;
        let turns = conversation.messages.len();
        listed.push(json!({
            "name": name, "model": conversation.model, "turns": turns,
            "savedSecondsAgo": saved.elapsed().map(|d| d.as_secs()).unwrap_or(0),
            "firstPrompt": first_prompt(&conversation),
        }));
        rows.push(vec![
            name,
            ago(saved),
            conversation.model.clone(),
            turns.to_string(),
            first_prompt(&conversation),
        ]);
    }
    if as_json {
        writeln!(out, "{}", serde_json::to_string_pretty(&listed)?)?;
    } else if listed.is_empty() {
        writeln!(
            out,
            "no saved conversations yet: `host-demo chat -c NAME \"...\"` keeps one"
        )?;
    } else {
        table(&mut out, Style::stdout(), &rows)?;
    }
    Ok(())
}

pub fn show(name: &str, as_json: bool) -> CliResult {
    let conversation = load(name)?;
    let mut out = std::io::stdout().lock();
    if as_json {
        writeln!(out, "{}", serde_json::to_string_pretty(&conversation)?)?;
        return Ok(());
    }
    let style = Style::stdout();
    writeln!(
        out,
        "{}",
        style.dim(&format!("{name} · {}", conversation.model))
    )?;
    for system in &conversation.system {
        writeln!(out, "{} {system}", style.bold("system:"))?;
    }
    for message in &conversation.messages {
        writeln!(
            out,
            "{} {}",
            style.bold(&format!("{}:", role(message))),
            text_of(message)
        )?;
    }
    Ok(())
}

pub fn search(text: &str, as_json: bool) -> CliResult {
    let needle = text.to_lowercase();
    let mut found = Vec::new();
    for (name, _) in conversations::saved()? {
        let conversation = load(&name)?;
        for (turn, message) in conversation.messages.iter().enumerate() {
            let said = text_of(message);
            if said.to_lowercase().contains(&needle) {
                found
                    .push(json!({"name": name, "turn": turn, "role": role(message), "text": said}));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if as_json {
        writeln!(out, "{}", serde_json::to_string_pretty(&found)?)?;
        return Ok(());
    }
    if found.is_empty() {
        return Err(CliError::new(format!(
            "no saved conversation mentions {text:?}"
        )));
    }
    let style = Style::stdout();
    for hit in &found {
        let place = format!(
            "{} #{} {}:",
            hit["name"].as_str().unwrap_or(""),
            hit["turn"],
            hit["role"].as_str().unwrap_or("")
        );
        writeln!(
            out,
            "{} {}",
            style.bold(&place),
            hit["text"].as_str().unwrap_or("")
        )?;
    }
    Ok(())
}
