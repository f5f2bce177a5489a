//! Where every key of a JSON5 document is (path, line, column), and which of the plugin's keys
//! are unknown, with the nearest known key. serde ignores unknown keys silently; a typo such as
//! `refreshIntervall` would then quietly mean "the default", so the plugin warns about it.

use std::fmt;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A key as written in the document, with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAt {
    /// The path of the key itself (its last segment is the key).
    pub path: Vec<Seg>,
    pub line: usize,
    pub column: usize,
}

/// Renders `models.providers."amazon-bedrock".models[0].id`.
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
                    let plain = !k.is_empty()
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !k.starts_with(|c: char| c.is_ascii_digit());
                    if plain {
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

enum Frame {
    Object { expect_key: bool },
    Array { index: usize },
}

/// Every object key in `text` with its path and position. Best effort: on text that is not
/// JSON5 it returns what it saw before the problem (the parser reports the error itself).
pub fn scan_keys(text: &str) -> Vec<KeyAt> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut path: Vec<Seg> = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);

    // Advances over one char, tracking the position.
    macro_rules! bump {
        () => {{
            if chars[i] == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
            i += 1;
        }};
    }

    // A scalar value or a closed container ended: its key segment (if any) goes.
    fn value_ended(stack: &[Frame], path: &mut Vec<Seg>) {
        if let Some(Frame::Object { .. }) = stack.last() {
            path.pop();
        }
    }

    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == '\u{feff}' {
            bump!();
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                bump!();
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            bump!();
            bump!();
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                bump!();
            }
            if i < chars.len() {
                bump!();
                bump!();
            }
            continue;
        }
        let (start_line, start_col) = (line, col);
        match c {
            '{' => {
                stack.push(Frame::Object { expect_key: true });
                bump!();
            }
            '[' => {
                stack.push(Frame::Array { index: 0 });
                path.push(Seg::Index(0));
                bump!();
            }
            '}' => {
                if !matches!(stack.pop(), Some(Frame::Object { .. })) {
                    return out;
                }
                value_ended(&stack, &mut path);
                bump!();
            }
            ']' => {
                if !matches!(stack.pop(), Some(Frame::Array { .. })) {
                    return out;
                }
                path.pop();
                value_ended(&stack, &mut path);
                bump!();
            }
            ':' => bump!(),
            ',' => {
                match stack.last_mut() {
                    Some(Frame::Object { expect_key }) => *expect_key = true,
                    Some(Frame::Array { index }) => {
                        *index += 1;
                        if let Some(last) = path.last_mut() {
                            *last = Seg::Index(*index);
                        }
                    }
                    None => return out,
                }
                bump!();
            }
            _ => {
                // A string or a bare token (identifier, number, literal).
                let mut token = String::new();
                if c == '"' || c == '\'' {
                    bump!();
                    while i < chars.len() && chars[i] != c {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            bump!();
                        }
                        token.push(chars[i]);
                        bump!();
                    }
                    if i < chars.len() {
                        bump!();
                    }
                } else {
                    let ends_token = |i: usize| {
                        chars[i].is_whitespace()
                            || matches!(chars[i], '{' | '}' | '[' | ']' | ':' | ',' | '"' | '\'')
                            || (chars[i] == '/' && matches!(chars.get(i + 1), Some('/' | '*')))
                    };
                    while i < chars.len() && !ends_token(i) {
                        token.push(chars[i]);
                        bump!();
                    }
                    if token.is_empty() {
                        return out;
                    }
                }
                match stack.last_mut() {
                    Some(Frame::Object { expect_key }) if *expect_key => {
                        *expect_key = false;
                        path.push(Seg::Key(token));
                        out.push(KeyAt {
                            path: path.clone(),
                            line: start_line,
                            column: start_col,
                        });
                    }
                    _ => value_ended(&stack, &mut path),
                }
            }
        }
    }
    out
}

/// Levenshtein distance, in chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The known key nearest to `key` (case-insensitive first), if it is near enough to be a typo.
pub fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        return Some(k);
    }
    let lower = key.to_lowercase();
    known
        .iter()
        .map(|k| (distance(&lower, &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

pub const DISCOVERY_KEYS: &[&str] = &[
    "enabled",
    "region",
    "providerFilter",
    "refreshInterval",
    "defaultContextWindow",
    "defaultMaxTokens",
    "baseUrl",
];
pub const PROVIDER_KEYS: &[&str] = &["baseUrl", "api", "auth", "models", "timeouts", "retry"];
pub const MODEL_KEYS: &[&str] = &[
    "id",
    "name",
    "reasoning",
    "input",
    "cost",
    "contextWindow",
    "maxTokens",
];
pub const COST_KEYS: &[&str] = &["input", "output", "cacheRead", "cacheWrite"];
pub const TIMEOUT_KEYS: &[&str] = &["connectMs", "firstByteMs", "idleMs"];
pub const RETRY_KEYS: &[&str] = &["maxAttempts", "baseDelayMs", "maxDelayMs"];

/// The known keys of the object at `parent`, when it is one of the plugin's objects.
fn known_keys(parent: &[Seg], provider_id: &str) -> Option<&'static [&'static str]> {
    let key = |s: &Seg, k: &str| matches!(s, Seg::Key(x) if x == k);
    match parent {
        [m, d] if key(m, "models") && key(d, "bedrockDiscovery") => Some(DISCOVERY_KEYS),
        [m, p, b, rest @ ..] if key(m, "models") && key(p, "providers") && key(b, provider_id) => {
            match rest {
                [] => Some(PROVIDER_KEYS),
                [t] if key(t, "timeouts") => Some(TIMEOUT_KEYS),
                [r] if key(r, "retry") => Some(RETRY_KEYS),
                [ms, Seg::Index(_)] if key(ms, "models") => Some(MODEL_KEYS),
                [ms, Seg::Index(_), c] if key(ms, "models") && key(c, "cost") => Some(COST_KEYS),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Warnings for unknown keys in the plugin's sections, and for section names that look like
/// misspellings of ours (`models.bedrockDiscover`, `models.providers."amazon_bedrock"`).
pub fn unknown_key_warnings(text: &str, provider_id: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    for k in scan_keys(text) {
        let Some((Seg::Key(name), parent)) = k.path.split_last() else {
            continue;
        };
        let at = format!(
            "`{}` (line {}, column {})",
            PathDisplay(&k.path),
            k.line,
            k.column
        );
        if let Some(known) = known_keys(parent, provider_id) {
            if known.contains(&name.as_str()) {
                continue;
            }
            let hint = match nearest(name, known) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("known keys here: {}", known.join(", ")),
            };
            warnings.push(format!("{at} is not a known key and is ignored; {hint}"));
            continue;
        }
        // Near misses of our section names, which would otherwise silently mean "not set".
        let section = match parent {
            [Seg::Key(m)] if m == "models" => Some("bedrockDiscovery"),
            [Seg::Key(m), Seg::Key(p)] if m == "models" && p == "providers" => Some(provider_id),
            _ => None,
        };
        if let Some(section) = section {
            if name != section && nearest(name, &[section]).is_some() {
                warnings.push(format!(
                    "{at} is not a key this plugin reads and is ignored; did you mean `{section}`?"
                ));
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_paths() {
        let text = "{\n  // c\n  models: { 'bedrockDiscovery': { region: \"a,b}\" /* } */, x: [1, {y: 2}] } },\n}";
        let keys: Vec<(String, usize, usize)> = scan_keys(text)
            .into_iter()
            .map(|k| (PathDisplay(&k.path).to_string(), k.line, k.column))
            .collect();
        assert_eq!(
            keys,
            [
                ("models".to_string(), 3, 3),
                ("models.bedrockDiscovery".into(), 3, 13),
                ("models.bedrockDiscovery.region".into(), 3, 35),
                ("models.bedrockDiscovery.x".into(), 3, 59),
                ("models.bedrockDiscovery.x[1].y".into(), 3, 67),
            ]
        );
    }

    #[test]
    fn quoted_segments() {
        let p = [
            Seg::Key("models".into()),
            Seg::Key("providers".into()),
            Seg::Key("amazon-bedrock".into()),
            Seg::Key("models".into()),
            Seg::Index(2),
            Seg::Key("id".into()),
        ];
        assert_eq!(
            PathDisplay(&p).to_string(),
            "models.providers.\"amazon-bedrock\".models[2].id"
        );
    }

    #[test]
    fn nearest_known_key() {
        assert_eq!(
            nearest("refreshIntervall", DISCOVERY_KEYS),
            Some("refreshInterval")
        );
        assert_eq!(nearest("regoin", DISCOVERY_KEYS), Some("region"));
        assert_eq!(
            nearest("ProviderFilter", DISCOVERY_KEYS),
            Some("providerFilter")
        );
        assert_eq!(nearest("contextWindow", MODEL_KEYS), Some("contextWindow"));
        assert_eq!(nearest("banana", DISCOVERY_KEYS), None);
    }

    #[test]
    fn warns_in_our_sections_only() {
        let text = r#"{
  models: {
    mode: "merge",
    bedrockDiscovery: { refreshIntervall: 60 },
    providers: {
      openai: { whatever: 1 },
      "amazon-bedrock": { baseURL: "x", models: [{ id: "m", contxtWindow: 1, cost: { inptu: 1 } }] },
    },
  },
}"#;
        let w = unknown_key_warnings(text, "amazon-bedrock");
        assert_eq!(w.len(), 4, "{w:#?}");
        assert_eq!(
            w[0],
            "`models.bedrockDiscovery.refreshIntervall` (line 4, column 25) is not a known key and is ignored; did you mean `refreshInterval`?"
        );
        assert!(
            w[1].contains("`models.providers.\"amazon-bedrock\".baseURL`")
                && w[1].ends_with("did you mean `baseUrl`?")
        );
        assert!(w[2].contains("models[0].contxtWindow") && w[2].ends_with("`contextWindow`?"));
        assert!(w[3].contains("models[0].cost.inptu") && w[3].ends_with("`input`?"));
    }

    #[test]
    fn misspelt_sections() {
        let w = unknown_key_warnings(
            "{models:{bedrockDiscover:{}, providers:{'amazon_bedrock':{}}}}",
            "amazon-bedrock",
        );
        assert_eq!(w.len(), 2, "{w:#?}");
        assert!(w[0].ends_with("did you mean `bedrockDiscovery`?"));
        assert!(w[1].ends_with("did you mean `amazon-bedrock`?"));
    }
}
