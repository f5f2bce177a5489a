//! Answers rendered as Markdown on a terminal (headings, emphasis, inline code, lists, code
//! blocks), a line at a time as the text streams in; off a terminal the text is printed as
//! it came.

use termimad::MadSkin;

/// A Markdown renderer for one answer. It holds the current line until it ends, and knows
/// whether it is inside a fenced code block (which termimad cannot tell from one line).
pub struct Markdown {
    skin: MadSkin,
    line: String,
    in_code: bool,
}

impl Default for Markdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Markdown {
    pub fn new() -> Self {
        Self {
            skin: MadSkin::default(),
            line: String::new(),
            in_code: false,
        }
    }

    /// What to print for `text`: the lines it completes, rendered.
    pub fn push(&mut self, text: &str) -> String {
        let mut out = String::new();
        for piece in text.split_inclusive('\n') {
            self.line.push_str(piece);
            if self.line.ends_with('\n') {
                let line = std::mem::take(&mut self.line);
                out.push_str(&self.render(line.trim_end_matches(['\n', '\r'])));
            }
        }
        out
    }

    /// What is left when the answer ends: its last line, rendered.
    pub fn finish(&mut self) -> String {
        let line = std::mem::take(&mut self.line);
        let out = if line.is_empty() {
            String::new()
        } else {
            self.render(&line)
        };
        self.in_code = false;
        out
    }

    fn render(&mut self, line: &str) -> String {
        if line.trim_start().starts_with("```") {
            self.in_code = !self.in_code;
            return String::new();
        }
        if self.in_code {
            return format!("{}\n", self.skin.code_block.compound_style.apply_to(line));
        }
        // `text` renders block syntax (headings, lists, quotes) and ends with a newline.
        self.skin.text(line, None).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_render_as_they_complete_and_fences_are_tracked() {
        let mut md = Markdown::new();
        assert_eq!(md.push("Hello **bo"), "", "a line is held until it ends");
        let first = md.push("ld**\n```\nlet x = 1;\n");
        assert!(
            first.contains("Hello") && first.contains("bold"),
            "{first:?}"
        );
        assert!(!first.contains("**") && !first.contains("```"), "{first:?}");
        assert!(
            first.contains("let x = 1;") && first.contains('\u{1b}'),
            "{first:?}"
        );
        let rest = md.push("```\n# Title\n");
        assert!(rest.contains("Title") && !rest.contains("# "), "{rest:?}");
        assert_eq!(md.push("tail"), "");
        assert!(md.finish().contains("tail"));
        assert_eq!(md.finish(), "");
    }
}
