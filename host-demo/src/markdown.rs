//! Answers rendered as Markdown on a terminal, as the text streams in: each piece is styled
//! and shown as soon as what it is can be known, never a whole line later.
//!
//! What is held, and for how long:
//! - the first characters of a line, until they say which block it starts (`# `, `- `,
//!   `1. `, `> `, a fence, a table row): a few characters;
//! - a `*` until the next character says whether it opens bold (`**`);
//! - a link's text until its `](`, then its address until `)`;
//! - a word, until it ends, so that a line is broken between words at the terminal's width
//!   rather than in the middle of one;
//! - a table, until it ends, since its columns are as wide as their widest cell.
//!
//! Off a terminal (or with `NO_COLOR`) the chat prints the text as it came instead.

/// ANSI codes for the styles an answer uses.
const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const ITALIC: &str = "\x1b[3m";
const UNDERLINE: &str = "\x1b[4m";
const CODE: &str = "\x1b[36m";
const HEADING: &str = "\x1b[1;35m";

/// What the current line is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Line {
    /// Its first characters are not yet known.
    Undecided,
    Text,
    Heading,
    /// Inside a fenced code block: shown as it comes, in the code style.
    Code,
    /// A fence line (its info string is not shown).
    Fence,
    Table,
}

/// Inline state within the current line.
#[derive(Default)]
struct Inline {
    bold: bool,
    italic: bool,
    code: bool,
    /// A `*` seen, waiting for the next character.
    star: bool,
    /// `Some` while inside a link's text; `url` while inside its address.
    link_text: Option<String>,
    url: Option<String>,
    /// `]` seen after a link's text, waiting for `(`.
    link_closed: bool,
}

/// A streaming Markdown renderer for one answer.
pub struct Markdown {
    /// Lines are broken at this many columns (0: never).
    width: usize,
    line: Line,
    /// The line's first characters while it is undecided.
    head: String,
    in_code_block: bool,
    inline: Inline,
    /// The word being written (styled output) and its width in columns.
    word: String,
    word_width: usize,
    /// The column the cursor is at, and the indent a wrapped line continues at.
    column: usize,
    indent: usize,
    /// A table's rows, until it ends.
    table: Vec<Vec<String>>,
    /// The table row being received.
    row: String,
    /// Whether the previous line was blank (one blank line is kept between blocks).
    previous_blank: bool,
}

impl Markdown {
    /// A renderer breaking lines at `width` columns (0: never).
    pub fn new(width: usize) -> Self {
        Self {
            width,
            line: Line::Undecided,
            head: String::new(),
            in_code_block: false,
            inline: Inline::default(),
            word: String::new(),
            word_width: 0,
            column: 0,
            indent: 0,
            table: Vec::new(),
            row: String::new(),
            previous_blank: false,
        }
    }

    /// What to print for `text`, now.
    pub fn push(&mut self, text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            self.char(c, &mut out);
        }
        self.flush_word_if_short(&mut out);
        out
    }

    /// What is left when the answer ends.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        match self.line {
            Line::Undecided if !self.head.is_empty() => {
                let head = std::mem::take(&mut self.head);
                self.line = Line::Text;
                for c in head.chars() {
                    self.inline_char(c, &mut out);
                }
            }
            Line::Table => {
                let row = std::mem::take(&mut self.row);
                self.table.push(cells(&row));
            }
            _ => {}
        }
        self.close_inline(&mut out);
        self.flush_word(&mut out);
        self.flush_table(&mut out);
        if self.column > 0 {
            out.push_str(RESET);
        }
        *self = Self::new(self.width);
        out
    }

    fn char(&mut self, c: char, out: &mut String) {
        if c == '\r' {
            return;
        }
        if self.line == Line::Undecided {
            if c == '\n' {
                let head = std::mem::take(&mut self.head);
                self.decide(&head, true, out);
                self.end_line(out);
                return;
            }
            self.head.push(c);
            if self.decidable() {
                let head = std::mem::take(&mut self.head);
                self.decide(&head, false, out);
            }
            return;
        }
        if c == '\n' {
            self.end_line(out);
            return;
        }
        match self.line {
            Line::Code => {
                out.push(c);
                self.column += 1;
            }
            Line::Fence => {}
            Line::Table => self.row.push(c),
            _ => self.inline_char(c, out),
        }
    }

    /// Whether the line's head says what the line is yet.
    fn decidable(&self) -> bool {
        let head = self.head.as_str();
        let trimmed = head.trim_start();
        if self.in_code_block {
            // Only a closing fence is special.
            return !("```".starts_with(trimmed) && trimmed.len() < 3);
        }
        let maybe_block = trimmed.is_empty()
            || "```".starts_with(trimmed)
            || trimmed.chars().all(|c| c == '#')
            || matches!(trimmed, "-" | "*" | "+" | ">" | "|")
            || trimmed.chars().all(|c| c.is_ascii_digit())
            || (trimmed.ends_with('.')
                && trimmed[..trimmed.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_digit()));
        !maybe_block || head.len() >= 12
    }

    /// Starts the line whose head is `head` (`whole`: the line is only that).
    fn decide(&mut self, head: &str, whole: bool, out: &mut String) {
        let trimmed = head.trim_start();
        let indent = head.len() - trimmed.len();
        if self.in_code_block {
            if trimmed.starts_with("```") {
                self.in_code_block = false;
                self.line = Line::Fence;
                return;
            }
            self.line = Line::Code;
            out.push_str(CODE);
            out.push_str(head);
            self.column = head.chars().count();
            return;
        }
        if trimmed.starts_with("```") {
            self.in_code_block = true;
            self.line = Line::Fence;
            return;
        }
        if trimmed.starts_with('|') {
            self.line = Line::Table;
            self.row.push_str(head);
            return;
        }
        self.flush_table(out);
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            self.line = Line::Heading;
            out.push_str(HEADING);
            self.column = 0;
            self.rest_inline(trimmed[hashes..].trim_start(), out);
            return;
        }
        self.line = Line::Text;
        let bullet = ["- ", "* ", "+ "].iter().find(|b| trimmed.starts_with(**b));
        if let Some(bullet) = bullet {
            let shown = format!("{}• ", " ".repeat(indent));
            self.column = shown.chars().count();
            self.indent = self.column;
            out.push_str(&shown);
            self.rest_inline(&trimmed[bullet.len()..], out);
        } else if let Some(rest) = trimmed.strip_prefix("> ") {
            out.push_str(DIM);
            out.push_str("│ ");
            out.push_str(RESET);
            self.column = indent + 2;
            self.indent = self.column;
            self.rest_inline(rest, out);
        } else {
            let numbered = trimmed
                .split_once(". ")
                .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if let Some((n, _)) = numbered {
                self.indent = indent + n.len() + 2;
            }
            if whole && trimmed.is_empty() {
                return;
            }
            self.rest_inline(head, out);
        }
    }

    fn rest_inline(&mut self, text: &str, out: &mut String) {
        for c in text.chars() {
            self.inline_char(c, out);
        }
    }

    fn inline_char(&mut self, c: char, out: &mut String) {
        // A link: its text, then its address.
        if let Some(url) = self.inline.url.as_mut() {
            if c == ')' {
                let url = self.inline.url.take().unwrap_or_default();
                let text = self.inline.link_text.take().unwrap_or_default();
                self.styled_word(&format!("{UNDERLINE}{text}{RESET}"), text.chars().count());
                self.restyle_into_word();
                if !url.is_empty() {
                    self.flush_word(out);
                    let shown = format!(" ({url})");
                    self.styled_word(&format!("{DIM}{shown}{RESET}"), shown.chars().count());
                    self.restyle_into_word();
                }
            } else {
                url.push(c);
            }
            return;
        }
        if self.inline.link_closed {
            self.inline.link_closed = false;
            if c == '(' {
                self.inline.url = Some(String::new());
                return;
            }
            // Not a link after all: the brackets as written.
            let text = self.inline.link_text.take().unwrap_or_default();
            for t in format!("[{text}]").chars() {
                self.plain_char(t, out);
            }
        }
        if let Some(text) = self.inline.link_text.as_mut() {
            if c == ']' {
                self.inline.link_closed = true;
            } else {
                text.push(c);
            }
            return;
        }
        if self.inline.star {
            self.inline.star = false;
            if c == '*' {
                self.inline.bold = !self.inline.bold;
                self.restyle_into_word();
                return;
            }
            // A single star: italic when it hugs a word, else the character itself.
            if !c.is_whitespace() || self.inline.italic {
                self.inline.italic = !self.inline.italic;
                self.restyle_into_word();
            } else {
                self.plain_char('*', out);
            }
        }
        match c {
            '`' => {
                self.inline.code = !self.inline.code;
                self.restyle_into_word();
            }
            '*' if !self.inline.code => self.inline.star = true,
            '[' if !self.inline.code => self.inline.link_text = Some(String::new()),
            c => self.plain_char(c, out),
        }
    }

    /// One character of text, in the current style.
    fn plain_char(&mut self, c: char, out: &mut String) {
        if c == ' ' {
            self.flush_word(out);
            if self.column > self.indent && (self.width == 0 || self.column < self.width) {
                out.push(' ');
                self.column += 1;
            }
            return;
        }
        self.word.push(c);
        self.word_width += 1;
    }

    /// Adds already styled text of `width` columns to the current word.
    fn styled_word(&mut self, styled: &str, width: usize) {
        self.word.push_str(styled);
        self.word_width += width;
    }

    /// The escape codes of the current inline style, added to the word.
    fn restyle_into_word(&mut self) {
        self.word.push_str(RESET);
        if self.line == Line::Heading {
            self.word.push_str(HEADING);
        }
        if self.inline.bold {
            self.word.push_str(BOLD);
        }
        if self.inline.italic {
            self.word.push_str(ITALIC);
        }
        if self.inline.code {
            self.word.push_str(CODE);
        }
    }

    /// Writes the current word, first breaking the line when it would pass the width.
    fn flush_word(&mut self, out: &mut String) {
        if self.word.is_empty() {
            return;
        }
        if self.width > 0 && self.column > self.indent && self.column + self.word_width > self.width
        {
            // The trailing space already written stays; the word starts a new line.
            out.push('\n');
            out.push_str(&" ".repeat(self.indent));
            self.column = self.indent;
        }
        out.push_str(&std::mem::take(&mut self.word));
        self.column += std::mem::take(&mut self.word_width);
    }

    /// Shows a word as it is while it still fits (a long word streams as it comes).
    fn flush_word_if_short(&mut self, out: &mut String) {
        if self.width == 0 || self.column + self.word_width < self.width {
            self.flush_word(out);
        }
    }

    fn close_inline(&mut self, out: &mut String) {
        if self.inline.star {
            self.inline.star = false;
            self.plain_char('*', out);
        }
        if let Some(text) = self.inline.link_text.take() {
            let url = self.inline.url.take();
            let written = match url {
                Some(url) => format!("[{text}]({url}"),
                None if self.inline.link_closed => format!("[{text}]"),
                None => format!("[{text}"),
            };
            for c in written.chars() {
                self.plain_char(c, out);
            }
        }
        self.inline = Inline::default();
    }

    fn end_line(&mut self, out: &mut String) {
        match self.line {
            Line::Table => {
                let row = std::mem::take(&mut self.row);
                self.table.push(cells(&row));
                self.line = Line::Undecided;
                return;
            }
            Line::Fence => {
                self.line = Line::Undecided;
                self.previous_blank = false;
                return;
            }
            _ => {}
        }
        self.close_inline(out);
        self.flush_word(out);
        let blank = self.column == 0 && self.line != Line::Code;
        // A heading or code line is styled from its start; a text line once it has text.
        let styled = matches!(self.line, Line::Heading | Line::Code) || self.column > 0;
        if styled {
            out.push_str(RESET);
        }
        // One blank line between blocks, as the answer wrote it.
        if !(blank && self.previous_blank) {
            out.push('\n');
        }
        self.previous_blank = blank;
        self.line = Line::Undecided;
        self.column = 0;
        self.indent = 0;
    }

    /// Shows the table held so far, its columns aligned, its header bold and underlined.
    fn flush_table(&mut self, out: &mut String) {
        if self.table.is_empty() {
            return;
        }
        let rows: Vec<Vec<String>> = std::mem::take(&mut self.table)
            .into_iter()
            .filter(|row| !row.iter().all(|c| is_separator(c)))
            .collect();
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                rows.iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (r, row) in rows.iter().enumerate() {
            let line: Vec<String> = (0..columns)
                .map(|i| {
                    let cell = row.get(i).map(String::as_str).unwrap_or("");
                    format!("{cell:<width$}", width = widths[i])
                })
                .collect();
            let line = line.join(" │ ");
            if r == 0 {
                out.push_str(&format!("{BOLD}{line}{RESET}\n"));
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                out.push_str(&format!("{DIM}{}{RESET}\n", rule.join("─┼─")));
            } else {
                out.push_str(&line);
                out.push('\n');
            }
        }
        self.previous_blank = false;
    }
}

/// The cells of a table row (`| a | b |`), trimmed, without their Markdown emphasis marks.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    row.split('|')
        .map(|c| c.trim().replace("**", "").replace('`', ""))
        .collect()
}

/// Whether a cell is a header separator (`---`, `:---:`).
fn is_separator(cell: &str) -> bool {
    !cell.is_empty() && cell.chars().all(|c| matches!(c, '-' | ':' | ' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a person would read: the output without escape codes.
    fn plain(styled: &str) -> String {
        let mut out = String::new();
        let mut chars = styled.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn render(pieces: &[&str], width: usize) -> String {
        let mut md = Markdown::new(width);
        let mut out: String = pieces.iter().map(|p| md.push(p)).collect();
        out.push_str(&md.finish());
        out
    }

    #[test]
    fn text_shows_as_it_arrives_not_a_line_later() {
        let mut md = Markdown::new(80);
        let first = md.push("The answer is ");
        assert_eq!(plain(&first), "The answer is ", "{first:?}");
        let more = md.push("forty-two, and **bo");
        assert!(plain(&more).starts_with("forty-two, and"), "{more:?}");
        let bold = md.push("ld** words");
        assert!(format!("{more}{bold}").contains(BOLD), "{more:?} {bold:?}");
        assert!(plain(&format!("{more}{bold}")).contains("bold words"));
        assert!(!format!("{first}{more}{bold}").contains("**"));
    }

    #[test]
    fn headings_lists_quotes_and_code_are_styled() {
        let out = render(
            &[
                "# Pl",
                "an\n- one\n- two\n> quoted\n```rust\nlet x = 1;\n```\nDone.",
            ],
            80,
        );
        let shown = plain(&out);
        assert_eq!(shown, "Plan\n• one\n• two\n│ quoted\nlet x = 1;\nDone.");
        assert!(out.contains(HEADING) && out.contains(CODE), "{out:?}");
    }

    #[test]
    fn blank_lines_between_blocks_are_kept() {
        let shown = plain(&render(
            &["First paragraph.\n\nSecond one.\n\n\n\nThird."],
            80,
        ));
        assert_eq!(shown, "First paragraph.\n\nSecond one.\n\nThird.");
    }

    #[test]
    fn tables_align_their_columns_under_the_header() {
        let shown = plain(&render(
            &["| Model | Price |\n|---|---|\n| Nova Micro | 0.035 |\n| Haiku | 1 |\n\nAfter."],
            80,
        ));
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[0], "Model      │ Price");
        assert!(lines[1].starts_with("──────────") && lines[1].contains('┼'));
        assert_eq!(lines[2], "Nova Micro │ 0.035");
        assert_eq!(lines[3], "Haiku      │ 1    ");
        assert_eq!(lines[5], "After.");
    }

    #[test]
    fn links_show_their_text_and_address() {
        let out = render(
            &["See [the docs](https://example.com/d", "ocs) and [x] too."],
            80,
        );
        assert_eq!(
            plain(&out),
            "See the docs (https://example.com/docs) and [x] too."
        );
        assert!(out.contains(UNDERLINE));
    }

    #[test]
    fn long_lines_break_between_words() {
        let shown = plain(&render(
            &["alpha beta gamma delta epsilon zeta eta theta iota kappa"],
            20,
        ));
        for line in shown.lines() {
            assert!(line.chars().count() <= 20, "{line:?} in {shown:?}");
        }
        let words: Vec<&str> = shown.split_whitespace().collect();
        assert_eq!(words.len(), 10, "no word was cut: {shown:?}");
    }

    #[test]
    fn a_lone_star_and_unclosed_marks_stay_visible() {
        assert_eq!(plain(&render(&["2 * 3 = 6"], 80)), "2 * 3 = 6");
        assert_eq!(plain(&render(&["a [b"], 80)), "a [b");
    }
}
