//! Where every key of a JSON5 document is (path, line, column), and which of the plugin's keys
//! are unknown, with the nearest known key. serde ignores unknown keys silently; a typo such as
//! `refreshIntervall` would then quietly mean "the default", so the plugin warns about it.
//! serde cannot say where a key is written either, so range errors found after parsing take
//! their line and column from here. The keys and their byte ranges come from jsonc-parser's
//! AST, which parses JSON5 as written rather than tokenizing it by hand.

use std::fmt;

use jsonc_parser::ast::Value;
use jsonc_parser::common::Ranged;
use jsonc_parser::tokens::Token;
use jsonc_parser::{parse_to_ast, CollectOptions, ParseOptions, Scanner, ScannerOptions};

/// How deeply objects and arrays may nest in a configuration document. The gateway's
/// documents nest under ten levels; the parsers recurse once per level, on the host's
/// thread, so a hostile or broken document nested thousands deep would overflow its stack.
pub const MAX_CONFIG_DEPTH: usize = 64;

/// The 1-based line and column (in chars) where `text` opens its `limit + 1`-th nested
/// level, if it does. Counted
/// with jsonc-parser's scanner, which walks tokens without recursion (strings and comments
/// are skipped as such); a syntax error stops the count and is left to the parser to report.
pub fn too_deep(text: &str, limit: usize) -> Option<(usize, usize)> {
    let mut scanner = Scanner::new(text, &ScannerOptions::default());
    let mut depth = 0usize;
    while let Ok(Some(token)) = scanner.scan() {
        match token {
            Token::OpenBrace | Token::OpenBracket => {
                depth += 1;
                if depth > limit {
                    let before = &text[..scanner.token_start()];
                    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                    let line = before.matches('\n').count() + 1;
                    return Some((line, before[line_start..].chars().count() + 1));
                }
            }
            Token::CloseBrace | Token::CloseBracket => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

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

/// The JSON5 syntax jsonc-parser is asked to accept. json5 has already accepted the text
/// (it is the authority on syntax and values), so this only has to be at least as permissive
/// for the documents users write; missing commas are JSON-with-comments, not JSON5.
fn json5_options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: true,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: true,
        allow_hexadecimal_numbers: true,
        allow_unary_plus_numbers: true,
        allow_bare_decimal_point_numbers: true,
        allow_non_finite_numbers: true,
        allow_extended_string_escapes: true,
    }
}

/// Every object key in `text` with its path and position, in document order.
///
/// jsonc-parser only locates keys here; json5 decides what the document means. Where
/// jsonc-parser cannot parse text json5 accepts (JSON5 corners it may not cover, such as
/// Unicode escapes in unquoted keys), this returns nothing: the configuration still loads and
/// json5's own errors keep their positions, but unknown keys go unreported and range errors
/// found after parsing name the key without a line and column.
pub fn scan_keys(text: &str) -> Vec<KeyAt> {
    // A byte order mark is valid JSON5 but not JSONC; it is no column either.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Ok(parsed) = parse_to_ast(text, &CollectOptions::default(), &json5_options()) else {
        return Vec::new();
    };
    // 1-based line and column (in chars) of a byte offset; line starts found once.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let position = |offset: usize| {
        let line = line_starts.partition_point(|&s| s <= offset);
        let column = text[line_starts[line - 1]..offset].chars().count() + 1;
        (line, column)
    };
    let mut out = Vec::new();
    if let Some(root) = &parsed.value {
        collect_keys(root, &mut Vec::new(), &position, &mut out);
    }
    out
}

fn collect_keys(
    value: &Value<'_>,
    path: &mut Vec<Seg>,
    position: &impl Fn(usize) -> (usize, usize),
    out: &mut Vec<KeyAt>,
) {
    match value {
        Value::Object(o) => {
            for prop in &o.properties {
                path.push(Seg::Key(prop.name.as_str().to_string()));
                let (line, column) = position(prop.name.start());
                out.push(KeyAt {
                    path: path.clone(),
                    line,
                    column,
                });
                collect_keys(&prop.value, path, position, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, item) in a.elements.iter().enumerate() {
                path.push(Seg::Index(i));
                collect_keys(item, path, position, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The known key nearest to `key` (case-insensitive first), if it is near enough to be a typo.
pub fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        return Some(k);
    }
    let lower = key.to_lowercase();
    known
        .iter()
        .map(|k| (strsim::levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The keys of a configuration object, as its serde type reads them: the type is the one
/// list, so a field added to it is known here too.
pub fn keys_of<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    serde_aux::serde_introspection::serde_introspect::<T>()
}

/// The schema warnings are checked against: the known keys of the object at a path (its
/// parent segments), for the provider id given; none where the object is not the plugin's.
pub type KnownKeys = fn(&[Seg], &str) -> Option<&'static [&'static str]>;

/// Warnings for unknown keys in the plugin's sections, and for section names that look like
/// misspellings of ours (`models.bedrockDiscover`, `models.providers."amazon_bedrock"`).
pub fn unknown_key_warnings(text: &str, provider_id: &str, known_keys: KnownKeys) -> Vec<String> {
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
        // Near misses of the sections the plugin reads (`models`, `models.providers`, ours in
        // them), which would otherwise silently mean "not set".
        let sections: &[&str] = match parent {
            [] => &["models"],
            [Seg::Key(m)] if m == "models" => &["bedrockDiscovery", "providers"],
            [Seg::Key(m), Seg::Key(p)] if m == "models" && p == "providers" => &[provider_id],
            _ => &[],
        };
        if let Some(section) = nearest(name, sections).filter(|s| *s != name) {
            warnings.push(format!(
                "{at} is not a key this plugin reads and is ignored; did you mean `{section}`?"
            ));
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
    fn json5_corners() {
        let text = "\u{feff}{a: Infinity, b: -NaN, c: 'x\\\ny', d: 0x1F, e: +.5, f: [1,],}";
        let keys: Vec<(String, usize, usize)> = scan_keys(text)
            .into_iter()
            .map(|k| (PathDisplay(&k.path).to_string(), k.line, k.column))
            .collect();
        assert_eq!(
            keys,
            [
                ("a".to_string(), 1, 2),
                ("b".into(), 1, 15),
                ("c".into(), 1, 24),
                ("d".into(), 2, 5),
                ("e".into(), 2, 14),
                ("f".into(), 2, 22),
            ]
        );
        // Valid JSON5 that jsonc-parser does not read: no keys, so no warnings, no error.
        let escaped_key = "{models: {bedrockDiscovery: {\\u0072egion: 'x', typo: 1}}}";
        assert!(json5::from_str::<serde::de::IgnoredAny>(escaped_key).is_ok());
        assert!(scan_keys(escaped_key).is_empty());
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
}
