//! Terminal output: ANSI styling (only on a terminal), tables and the end-of-answer summary.

use std::io::{IsTerminal, Write};

use host_sdk::{Completion, TokenUsage};

/// ANSI styling, switched off when the stream is not a terminal or `NO_COLOR` is set.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn stdout() -> Self {
        Self {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    pub fn stderr() -> Self {
        Self {
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn code(&self, code: &'static str) -> &'static str {
        if self.color {
            code
        } else {
            ""
        }
    }

    pub fn dim_on(&self) -> &'static str {
        self.code("\x1b[2m")
    }

    pub fn bold_on(&self) -> &'static str {
        self.code("\x1b[1m")
    }

    pub fn reset(&self) -> &'static str {
        self.code("\x1b[0m")
    }

    pub fn dim(&self, text: &str) -> String {
        format!("{}{text}{}", self.dim_on(), self.reset())
    }

    pub fn bold(&self, text: &str) -> String {
        format!("{}{text}{}", self.bold_on(), self.reset())
    }
}

/// Writes rows as left-aligned columns separated by two spaces; the first row is the header.
pub fn table(out: &mut impl Write, style: Style, rows: &[Vec<String>]) -> std::io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        if i == 0 {
            writeln!(out, "{}", style.bold(&line))?;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

pub fn usage_text(usage: &TokenUsage) -> String {
    let mut text = format!(
        "{} in, {} out, {} total tokens",
        usage.input_tokens, usage.output_tokens, usage.total_tokens
    );
    if usage.cache_read_tokens > 0 || usage.cache_write_tokens > 0 {
        text.push_str(&format!(
            " (cache: {} read, {} written)",
            usage.cache_read_tokens, usage.cache_write_tokens
        ));
    }
    text
}

pub fn cost_text(usd: f64) -> String {
    if usd >= 0.01 {
        format!("${usd:.4}")
    } else {
        format!("${usd:.6}")
    }
}

/// One line after an answer: why it stopped, the model, tokens, cost and latency.
pub fn summary_line(model: &str, completion: &Completion) -> String {
    let mut parts = vec![format!(
        "stop reason: {}",
        completion
            .stop_reason
            .as_ref()
            .map(|r| r.as_str())
            .unwrap_or("(none)")
    )];
    parts.push(format!("model: {model}"));
    match &completion.usage {
        Some(usage) => parts.push(format!("usage: {}", usage_text(usage))),
        None => parts.push("usage: (not reported)".into()),
    }
    if let Some(cost) = completion.cost_usd {
        parts.push(format!("cost: {}", cost_text(cost)));
    }
    if let Some(ms) = completion.latency_ms {
        parts.push(format!("latency: {ms} ms"));
    }
    parts.join(" · ")
}
