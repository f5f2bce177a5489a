//! Surgical edits of a JSON5 document: `config set` replaces or inserts exactly one value and
//! `config unset` removes exactly one member, leaving every other byte of the file (comments,
//! key order, quoting, indentation, trailing commas) as the user wrote it. No JSON5 crate keeps
//! comments through a parse and re-serialise round trip, so the edit works on the text: a small
//! tokenizer finds the byte spans of members and values, and the result is re-parsed to check
//! that it is still valid JSON5 holding the intended value.

use std::fmt;

use serde_json::Value;

/// One step of a key path: `models.providers."amazon-bedrock".models[0].id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub struct PathDisplay<'a>(pub &'a [Seg]);

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_identifier(k) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn is_identifier(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Parses `a.b."c.d"[2].e` (quoted segments may hold dots and dashes; unquoted ones may hold
/// dashes too: `models.providers.amazon-bedrock.baseUrl` works).
pub fn parse_path(text: &str) -> Result<Vec<Seg>, String> {
    let chars: Vec<char> = text.trim().chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let bad = |why: &str| Err(format!("invalid key path {text:?}: {why}"));
    if chars.is_empty() {
        return bad("it is empty");
    }
    loop {
        // One key segment.
        if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
            let quote = chars[i];
            i += 1;
            let mut key = String::new();
            while i < chars.len() && chars[i] != quote {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                key.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return bad("a quoted segment is not closed");
            }
            i += 1;
            out.push(Seg::Key(key));
        } else {
            let start = i;
            while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                i += 1;
            }
            if i == start {
                return bad("a segment is empty");
            }
            out.push(Seg::Key(chars[start..i].iter().collect()));
        }
        // Indexes.
        while i < chars.len() && chars[i] == '[' {
            let start = i + 1;
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            if i >= chars.len() {
                return bad("a `[` is not closed");
            }
            let n: String = chars[start..i].iter().collect();
            match n.trim().parse() {
                Ok(n) => out.push(Seg::Index(n)),
                Err(_) => return bad("an index is not a number"),
            }
            i += 1;
        }
        if i >= chars.len() {
            return Ok(out);
        }
        if chars[i] != '.' {
            return bad("expected `.` between segments");
        }
        i += 1;
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Punct(char),
    Str(String),
    Bare(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let at = |k: usize| bytes.get(k).map(|(_, c)| *c);
    let offset = |k: usize| bytes.get(k).map(|(o, _)| *o).unwrap_or(text.len());
    let mut out = Vec::new();
    let mut k = 0;
    while k < bytes.len() {
        let c = bytes[k].1;
        if c.is_whitespace() || c == '\u{feff}' {
            k += 1;
        } else if c == '/' && at(k + 1) == Some('/') {
            while k < bytes.len() && bytes[k].1 != '\n' {
                k += 1;
            }
        } else if c == '/' && at(k + 1) == Some('*') {
            k += 2;
            while k < bytes.len() && !(bytes[k].1 == '*' && at(k + 1) == Some('/')) {
                k += 1;
            }
            k += 2;
        } else if matches!(c, '{' | '}' | '[' | ']' | ':' | ',') {
            out.push(Token {
                tok: Tok::Punct(c),
                start: offset(k),
                end: offset(k + 1),
            });
            k += 1;
        } else if c == '"' || c == '\'' {
            let start = offset(k);
            k += 1;
            let mut s = String::new();
            while k < bytes.len() && bytes[k].1 != c {
                if bytes[k].1 == '\\' {
                    k += 1;
                }
                if let Some(ch) = at(k) {
                    s.push(ch);
                }
                k += 1;
            }
            if k >= bytes.len() {
                return Err("a string is not closed".into());
            }
            k += 1;
            out.push(Token {
                tok: Tok::Str(s),
                start,
                end: offset(k),
            });
        } else {
            let start = offset(k);
            let mut s = String::new();
            while k < bytes.len() {
                let ch = bytes[k].1;
                if ch.is_whitespace()
                    || matches!(ch, '{' | '}' | '[' | ']' | ':' | ',' | '"' | '\'')
                    || (ch == '/' && matches!(at(k + 1), Some('/' | '*')))
                {
                    break;
                }
                s.push(ch);
                k += 1;
            }
            out.push(Token {
                tok: Tok::Bare(s),
                start,
                end: offset(k),
            });
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Node {
    Object {
        open: usize,
        close: usize,
        members: Vec<Member>,
    },
    Array {
        /// Each item with its byte span.
        items: Vec<(Node, usize, usize)>,
    },
    Scalar,
}

#[derive(Debug)]
struct Member {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
    /// The comma after the value, if any.
    comma_end: Option<usize>,
    value: Node,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Result<Token, String> {
        let t = self.toks.get(self.pos).cloned().ok_or("unexpected end")?;
        self.pos += 1;
        Ok(t)
    }

    /// Returns the node and its byte span.
    fn value(&mut self) -> Result<(Node, usize, usize), String> {
        let t = self.next()?;
        match t.tok {
            Tok::Punct('{') => {
                let open = t.start;
                let mut members = Vec::new();
                loop {
                    let k = self.next()?;
                    let key = match k.tok {
                        Tok::Punct('}') => {
                            let close = k.start;
                            return Ok((
                                Node::Object {
                                    open,
                                    close,
                                    members,
                                },
                                open,
                                k.end,
                            ));
                        }
                        Tok::Str(s) | Tok::Bare(s) => s,
                        _ => return Err("expected a key".into()),
                    };
                    if self.next()?.tok != Tok::Punct(':') {
                        return Err("expected `:`".into());
                    }
                    let (value, value_start, value_end) = self.value()?;
                    let comma_end = match self.peek() {
                        Some(Token {
                            tok: Tok::Punct(','),
                            end,
                            ..
                        }) => {
                            let end = *end;
                            self.pos += 1;
                            Some(end)
                        }
                        _ => None,
                    };
                    members.push(Member {
                        key,
                        key_start: k.start,
                        value_start,
                        value_end,
                        comma_end,
                        value,
                    });
                    if comma_end.is_none() {
                        let c = self.next()?;
                        if c.tok != Tok::Punct('}') {
                            return Err("expected `,` or `}`".into());
                        }
                        return Ok((
                            Node::Object {
                                open,
                                close: c.start,
                                members,
                            },
                            open,
                            c.end,
                        ));
                    }
                }
            }
            Tok::Punct('[') => {
                let mut items = Vec::new();
                loop {
                    if let Some(Token {
                        tok: Tok::Punct(']'),
                        end,
                        ..
                    }) = self.peek()
                    {
                        let end = *end;
                        self.pos += 1;
                        return Ok((Node::Array { items }, t.start, end));
                    }
                    items.push(self.value()?);
                    match self.next()?.tok {
                        Tok::Punct(',') => {}
                        Tok::Punct(']') => {
                            let end = self.toks[self.pos - 1].end;
                            return Ok((Node::Array { items }, t.start, end));
                        }
                        _ => return Err("expected `,` or `]`".into()),
                    }
                }
            }
            Tok::Str(_) | Tok::Bare(_) => Ok((Node::Scalar, t.start, t.end)),
            Tok::Punct(c) => Err(format!("unexpected `{c}`")),
        }
    }
}

fn parse_document(text: &str) -> Result<Node, String> {
    let toks = tokenize(text)?;
    let mut p = Parser { toks, pos: 0 };
    let (node, _, _) = p.value()?;
    if p.pos != p.toks.len() {
        return Err("unexpected text after the document".into());
    }
    match node {
        Node::Object { .. } => Ok(node),
        _ => Err("the document is not an object".into()),
    }
}

/// The value at `path`, or `None` when it is not set.
pub fn get(text: &str, path: &[Seg]) -> Result<Option<Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let doc: Value = json5::from_str(text).map_err(|e| e.to_string())?;
    let mut here = &doc;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => here.as_object().and_then(|o| o.get(k)),
            Seg::Index(i) => here.as_array().and_then(|a| a.get(*i)),
        };
        match next {
            Some(v) => here = v,
            None => return Ok(None),
        }
    }
    Ok(Some(here.clone()))
}

fn render_key(k: &str) -> String {
    if is_identifier(k) {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

fn render_value(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// The whitespace at the start of the line holding byte `at`.
fn line_indent(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// `key: value` for `keys` (outermost first), nesting objects for the missing levels.
fn render_member(
    keys: &[String],
    value: &Value,
    indent: &str,
    unit: &str,
    multiline: bool,
) -> String {
    let head = render_key(&keys[0]);
    if keys.len() == 1 {
        return format!("{head}: {}", render_value(value));
    }
    if multiline {
        let inner_indent = format!("{indent}{unit}");
        let inner = render_member(&keys[1..], value, &inner_indent, unit, true);
        format!("{head}: {{\n{inner_indent}{inner},\n{indent}}}")
    } else {
        let inner = render_member(&keys[1..], value, indent, unit, false);
        format!("{head}: {{ {inner} }}")
    }
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    format!("{}{with}{}", &text[..start], &text[end..])
}

/// Sets `path` to `value`, replacing the old value's text or inserting a member (and any
/// missing parent objects) at the end of the nearest existing object.
pub fn set(text: &str, path: &[Seg], value: &Value) -> Result<String, String> {
    let text = if text.trim().is_empty() {
        "{\n}\n".to_string()
    } else {
        text.to_string()
    };
    let root = parse_document(&text)?;
    let mut node = &root;
    for (i, seg) in path.iter().enumerate() {
        let shown = PathDisplay(&path[..i]).to_string();
        let last = i + 1 == path.len();
        match (seg, node) {
            (
                Seg::Key(k),
                Node::Object {
                    open,
                    close,
                    members,
                },
            ) => {
                if let Some(m) = members.iter().rev().find(|m| &m.key == k) {
                    if last {
                        return Ok(splice(
                            &text,
                            m.value_start,
                            m.value_end,
                            &render_value(value),
                        ));
                    }
                    node = &m.value;
                    continue;
                }
                let mut keys = Vec::new();
                for s in &path[i..] {
                    match s {
                        Seg::Key(k) => keys.push(k.clone()),
                        Seg::Index(_) => {
                            return Err(format!(
                                "`{}` does not exist, and list items cannot be created one by one: set the whole list instead",
                                PathDisplay(path)
                            ))
                        }
                    }
                }
                return Ok(insert_member(&text, *open, *close, members, &keys, value));
            }
            (Seg::Index(n), Node::Array { items }) => match items.get(*n) {
                Some((item, start, end)) => {
                    if last {
                        return Ok(splice(&text, *start, *end, &render_value(value)));
                    }
                    node = item;
                }
                None => {
                    return Err(format!(
                        "`{}` has {} items, so [{n}] does not exist",
                        shown,
                        items.len()
                    ))
                }
            },
            (Seg::Key(_), _) => {
                return Err(format!(
                    "`{shown}` is not an object, so `{}` cannot be set",
                    PathDisplay(path)
                ))
            }
            (Seg::Index(_), _) => return Err(format!("`{shown}` is not a list")),
        }
    }
    Err("an empty key path".into())
}

fn insert_member(
    text: &str,
    open: usize,
    close: usize,
    members: &[Member],
    keys: &[String],
    value: &Value,
) -> String {
    let multiline = text[open..close].contains('\n');
    let parent_indent = line_indent(text, open);
    let (indent, unit) = match members.first() {
        Some(first) if multiline => {
            let indent = line_indent(text, first.key_start);
            let unit = indent
                .strip_prefix(parent_indent.as_str())
                .filter(|u| !u.is_empty())
                .unwrap_or("  ")
                .to_string();
            (indent, unit)
        }
        _ => (format!("{parent_indent}  "), "  ".to_string()),
    };
    let member = render_member(keys, value, &indent, &unit, multiline);
    match (members.last(), multiline) {
        (Some(last), true) => match last.comma_end {
            Some(ce) => splice(text, ce, ce, &format!("\n{indent}{member},")),
            None => splice(
                text,
                last.value_end,
                last.value_end,
                &format!(",\n{indent}{member}"),
            ),
        },
        (Some(last), false) => match last.comma_end {
            Some(ce) => splice(text, ce, ce, &format!(" {member},")),
            None => splice(text, last.value_end, last.value_end, &format!(", {member}")),
        },
        (None, true) => splice(text, open + 1, open + 1, &format!("\n{indent}{member},")),
        (None, false) => splice(text, open, close + 1, &format!("{{ {member} }}")),
    }
}

/// Removes the member at `path` (with its comma, and its line when it is alone on it).
/// `Ok(None)` when it was not set.
pub fn unset(text: &str, path: &[Seg]) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let root = parse_document(text)?;
    let Some((Seg::Key(key), parents)) = path.split_last() else {
        return Err("only object keys can be unset (not list items)".into());
    };
    let mut node = &root;
    for seg in parents {
        node = match (seg, node) {
            (Seg::Key(k), Node::Object { members, .. }) => {
                match members.iter().rev().find(|m| &m.key == k) {
                    Some(m) => &m.value,
                    None => return Ok(None),
                }
            }
            (Seg::Index(n), Node::Array { items }) => match items.get(*n) {
                Some((item, _, _)) => item,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
    }
    let Node::Object { members, .. } = node else {
        return Ok(None);
    };
    let Some(m) = members.iter().rev().find(|m| &m.key == key) else {
        return Ok(None);
    };
    let mut start = m.key_start;
    let mut end = m.comma_end.unwrap_or(m.value_end);
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let rest_end = text[end..]
        .find('\n')
        .map(|i| end + i + 1)
        .unwrap_or(text.len());
    let rest = text[end..rest_end].trim();
    if text[line_start..start].trim().is_empty() && (rest.is_empty() || rest.starts_with("//")) {
        start = line_start;
        end = rest_end;
    }
    Ok(Some(splice(text, start, end, "")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOC: &str = "// my settings\n{\n  models: {\n    // discovery\n    bedrockDiscovery: {\n      enabled: false, // off for now\n      region: 'eu-west-1',\n    },\n  },\n}\n";

    fn path(p: &str) -> Vec<Seg> {
        parse_path(p).unwrap()
    }

    #[test]
    fn paths() {
        assert_eq!(
            path("models.providers.\"amazon-bedrock\".models[0].id"),
            vec![
                Seg::Key("models".into()),
                Seg::Key("providers".into()),
                Seg::Key("amazon-bedrock".into()),
                Seg::Key("models".into()),
                Seg::Index(0),
                Seg::Key("id".into()),
            ]
        );
        assert_eq!(
            path("a.amazon-bedrock.b")[1],
            Seg::Key("amazon-bedrock".into())
        );
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a.\"b").is_err());
    }

    #[test]
    fn replace_keeps_everything_else() {
        let out = set(DOC, &path("models.bedrockDiscovery.enabled"), &json!(true)).unwrap();
        assert_eq!(out, DOC.replace("enabled: false", "enabled: true"));
    }

    #[test]
    fn insert_into_existing_object_and_create_parents() {
        let out = set(
            DOC,
            &path("models.bedrockDiscovery.refreshInterval"),
            &json!(60),
        )
        .unwrap();
        assert_eq!(
            out,
            DOC.replace(
                "'eu-west-1',\n",
                "'eu-west-1',\n      refreshInterval: 60,\n"
            )
        );
        let out = set(
            DOC,
            &path("models.providers.\"amazon-bedrock\".baseUrl"),
            &json!("http://x"),
        )
        .unwrap();
        assert!(
            out.contains("    },\n    providers: {\n      \"amazon-bedrock\": {\n        baseUrl: \"http://x\",\n      },\n    },\n  },"),
            "{out}"
        );
        assert!(out.starts_with("// my settings\n"));
        assert_eq!(
            get(&out, &path("models.providers.amazon-bedrock.baseUrl")).unwrap(),
            Some(json!("http://x"))
        );
    }

    #[test]
    fn empty_file_and_inline_objects() {
        let out = set("", &path("models.bedrockDiscovery.enabled"), &json!(true)).unwrap();
        assert_eq!(
            out,
            "{\n  models: {\n    bedrockDiscovery: {\n      enabled: true,\n    },\n  },\n}\n"
        );
        let out = set("{a: {}, b: 1}", &path("a.x"), &json!([1])).unwrap();
        assert_eq!(out, "{a: { x: [1] }, b: 1}");
        let out = set("{a: 1}", &path("b"), &json!("s")).unwrap();
        assert_eq!(out, "{a: 1, b: \"s\"}");
    }

    #[test]
    fn unset_removes_the_line() {
        let out = unset(DOC, &path("models.bedrockDiscovery.region"))
            .unwrap()
            .unwrap();
        assert_eq!(out, DOC.replace("      region: 'eu-west-1',\n", ""));
        // The trailing comment belongs to the member.
        let out = unset(DOC, &path("models.bedrockDiscovery.enabled"))
            .unwrap()
            .unwrap();
        assert!(out.contains("{\n      region"), "{out}");
        assert_eq!(unset(DOC, &path("models.nothing")).unwrap(), None);
        assert_eq!(
            get(DOC, &path("models.bedrockDiscovery.region")).unwrap(),
            Some(json!("eu-west-1"))
        );
    }

    #[test]
    fn refuses_to_walk_through_scalars() {
        let e = set(DOC, &path("models.bedrockDiscovery.enabled.x"), &json!(1)).unwrap_err();
        assert!(e.contains("is not an object"), "{e}");
    }
}
