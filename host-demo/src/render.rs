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

/// The width to fit output to: the terminal's, or 100 columns when stdout is not a terminal
/// (a pipe, a file), where lines should still read well.
pub fn output_width() -> usize {
    const NOT_A_TERMINAL: usize = 100;
    if !std::io::stdout().is_terminal() {
        return NOT_A_TERMINAL;
    }
    match terminal_size::terminal_size_of(std::io::stdout()) {
        Some((terminal_size::Width(columns), _)) if columns > 0 => usize::from(columns),
        _ => NOT_A_TERMINAL,
    }
}

/// Fits `rows` (a table, header first) into `width` columns: first the `flexible` column's
/// cells are shortened (ending in `…`, down to `min_flexible` characters), then the columns
/// in `droppable` are left out, in that order, until the table fits.
pub fn fit(
    mut rows: Vec<Vec<String>>,
    width: usize,
    flexible: usize,
    min_flexible: usize,
    droppable: &[usize],
) -> Vec<Vec<String>> {
    let table_width = |rows: &[Vec<String>]| {
        let columns = rows.first().map_or(0, Vec::len);
        (0..columns)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .sum::<usize>()
            + 2 * columns.saturating_sub(1)
    };
    let over = table_width(&rows).saturating_sub(width);
    if over > 0 {
        let widest = rows
            .iter()
            .map(|r| r[flexible].chars().count())
            .max()
            .unwrap_or(0);
        let target = widest.saturating_sub(over).max(min_flexible);
        for row in &mut rows {
            if row[flexible].chars().count() > target {
                let cut: String = row[flexible]
                    .chars()
                    .take(target.saturating_sub(1))
                    .collect();
                row[flexible] = format!("{cut}…");
            }
        }
    }
    let mut dropped: Vec<usize> = Vec::new();
    for &column in droppable {
        if table_width(&rows) <= width {
            break;
        }
        // Indices shift as columns go: count the ones dropped before this one.
        let at = column - dropped.iter().filter(|&&d| d < column).count();
        for row in &mut rows {
            row.remove(at);
        }
        dropped.push(column);
    }
    rows
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
    if let Some(check) = &completion.output_check {
        parts.push(match (check.valid, &check.problem) {
            (true, _) => "schema: matched".into(),
            (false, Some(problem)) => format!("schema: NOT matched ({problem})"),
            (false, None) => "schema: NOT matched".into(),
        });
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(cells: &[&[&str]]) -> Vec<Vec<String>> {
        cells
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn fit_shortens_the_flexible_column_then_drops_columns() {
        let table = rows(&[&["ID", "NAME", "SRC"], &["abc", "a rather long name", "d"]]);
        // Wide enough: unchanged.
        assert_eq!(fit(table.clone(), 80, 1, 4, &[2]), table);
        // Narrower: the name is cut with an ellipsis.
        let fitted = fit(table.clone(), 20, 1, 4, &[2]);
        assert_eq!(fitted[1][1], "a rather …");
        // Narrower than the shortest name allows: SRC goes.
        let fitted = fit(table, 12, 1, 4, &[2]);
        assert_eq!(fitted[0], ["ID", "NAME"]);
    }
}
