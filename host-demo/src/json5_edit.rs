//! Surgical edits of a JSON5 document: `config set` replaces or inserts exactly one value and
//! `config unset` removes exactly one member, leaving every other byte of the file (comments,
//! key order, quoting, indentation, trailing commas) as the user wrote it. A parse and
//! re-serialise round trip through a value loses all of that, so edits go through
//! jsonc-parser's concrete syntax tree, which keeps every comment and every piece of
//! whitespace; only a member added to an object written on one line spreads it over several
//! (jsonc-parser's layout). Values are still read by json5 (the plugin's parser); the caller re-reads the
//! edited text with it to check that it holds the intended value.
//!
//! jsonc-parser reads nearly all of JSON5 (Infinity, NaN, hexadecimal, line continuations),
//! but not all of it: a Unicode escape in an unquoted key (`\u0061b: 1`) is valid JSON5 it
//! rejects. Such a file is refused, not rewritten, with a message saying so.

use std::fmt;

use jsonc_parser::cst::{
    CstContainerNode, CstInputValue, CstLeafNode, CstNode, CstObjectProp, CstRootNode,
    ObjectPropName, TrailingCommaMode,
};
use jsonc_parser::ParseOptions;
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

/// The JSON5 syntax jsonc-parser is asked to accept: all that it knows of JSON5, nothing more
/// (missing commas are JSON-with-comments, not JSON5).
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

/// The document's tree, and the byte order mark to put back (valid JSON5, not JSONC).
fn parse_for_edit(text: &str) -> Result<(&str, CstRootNode), String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = &text[..text.len() - body.len()];
    let root = CstRootNode::parse(body, &json5_options()).map_err(|cst| {
        match json5::from_str::<serde::de::IgnoredAny>(text) {
            Err(e) => format!("the file is not valid JSON5: {e}"),
            Ok(_) => format!(
                "the file is valid JSON5, but jsonc-parser, which edits it keeping comments and \
                 formatting, cannot read it ({cst}); edit the file by hand"
            ),
        }
    })?;
    if root.object_value().is_none() {
        return Err("the document is not an object".into());
    }
    Ok((bom, root))
}

/// The last member named `key` (the one json5 reads when a key is repeated).
fn member(node: &CstNode, key: &str) -> Option<CstObjectProp> {
    let object = node.as_object()?;
    object
        .properties()
        .into_iter()
        .rev()
        .find(|p| p.decoded_name().as_deref() == Some(key))
}

/// jsonc-parser builds new nodes from its own value type, not serde_json's.
fn to_input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(to_input).collect()),
        Value::Object(o) => {
            CstInputValue::Object(o.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

/// jsonc-parser writes new keys in quotes; write them the way the seed config does, bare when
/// they are identifiers.
fn unquote_key(prop: &CstObjectProp) {
    if let Some(ObjectPropName::String(name)) = prop.name() {
        if let Ok(key) = name.decoded_value() {
            if is_identifier(&key) {
                name.set_raw_value(key);
            }
        }
    }
}

/// Replaces a list item: jsonc-parser offers `replace_with` per node type only.
fn replace(node: CstNode, with: CstInputValue) {
    match node {
        CstNode::Container(CstContainerNode::Object(n)) => n.replace_with(with),
        CstNode::Container(CstContainerNode::Array(n)) => n.replace_with(with),
        CstNode::Leaf(CstLeafNode::StringLit(n)) => n.replace_with(with),
        CstNode::Leaf(CstLeafNode::NumberLit(n)) => n.replace_with(with),
        CstNode::Leaf(CstLeafNode::BooleanLit(n)) => n.replace_with(with),
        CstNode::Leaf(CstLeafNode::NullKeyword(n)) => n.replace_with(with),
        CstNode::Leaf(CstLeafNode::WordLit(n)) => n.replace_with(with),
        _ => None,
    };
}

/// Sets `path` to `value`, replacing the old value or appending a member (and any missing
/// parent objects) to the nearest existing object.
pub fn set(text: &str, path: &[Seg], value: &Value) -> Result<String, String> {
    let new_file = text.trim().is_empty();
    let (bom, root) = parse_for_edit(if new_file { "{\n}\n" } else { text })?;
    let mut node = root.value().ok_or("an empty document")?;
    for (i, seg) in path.iter().enumerate() {
        let shown = PathDisplay(&path[..i]);
        let last = i + 1 == path.len();
        match seg {
            Seg::Key(k) if node.as_object().is_some() => match member(&node, k) {
                Some(prop) if last => prop.set_value(to_input(value)),
                Some(prop) => {
                    node = prop.value().ok_or("a member without a value")?;
                    continue;
                }
                None => {
                    let mut keys = Vec::new();
                    for s in &path[i..] {
                        match s {
                            Seg::Key(k) => keys.push(k.as_str()),
                            Seg::Index(_) => return Err(format!(
                                "`{}` does not exist, and list items cannot be created one by one: set the whole list instead",
                                PathDisplay(path)
                            )),
                        }
                    }
                    let nested = keys[1..].iter().rev().fold(to_input(value), |v, k| {
                        CstInputValue::Object(vec![(k.to_string(), v)])
                    });
                    let mut prop = node.as_object().unwrap().append(keys[0], nested);
                    unquote_key(&prop);
                    for k in &keys[1..] {
                        let Some(inner) = prop.object_value().and_then(|o| o.get(k)) else {
                            break;
                        };
                        unquote_key(&inner);
                        prop = inner;
                    }
                }
            },
            Seg::Key(_) => {
                return Err(format!(
                    "`{shown}` is not an object, so `{}` cannot be set",
                    PathDisplay(path)
                ))
            }
            Seg::Index(n) => {
                let items = node
                    .as_array()
                    .ok_or_else(|| format!("`{shown}` is not a list"))?
                    .elements();
                let item = items.get(*n).cloned().ok_or_else(|| {
                    format!(
                        "`{shown}` has {} items, so [{n}] does not exist",
                        items.len()
                    )
                })?;
                if !last {
                    node = item;
                    continue;
                }
                replace(item, to_input(value));
            }
        }
        if new_file {
            // A new file gets the seed config's style; an existing one keeps its own.
            root.set_trailing_commas(TrailingCommaMode::IfMultiline);
        }
        return Ok(format!("{bom}{root}"));
    }
    Err("an empty key path".into())
}

/// Removes the member at `path` (with its comma, and its line when it is alone on it).
/// `Ok(None)` when it was not set.
pub fn unset(text: &str, path: &[Seg]) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let (bom, root) = parse_for_edit(text)?;
    let Some((Seg::Key(key), parents)) = path.split_last() else {
        return Err("only object keys can be unset (not list items)".into());
    };
    let mut node = root.value();
    for seg in parents {
        node = node.and_then(|n| match seg {
            Seg::Key(k) => member(&n, k)?.value(),
            Seg::Index(i) => n.as_array()?.elements().get(*i).cloned(),
        });
    }
    let Some(prop) = node.and_then(|n| member(&n, key)) else {
        return Ok(None);
    };
    prop.remove();
    Ok(Some(format!("{bom}{root}")))
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
        // jsonc-parser lays out an object it adds a member to over several lines.
        let out = set("{a: {}, b: 1}", &path("a.x"), &json!([1])).unwrap();
        assert_eq!(out, "{a: {\n    x: [1]\n  }, b: 1}");
        let out = set("{a: 1}", &path("b"), &json!("s")).unwrap();
        assert_eq!(out, "{\n  a: 1,\n  b: \"s\"\n}");
    }

    #[test]
    fn lists_byte_order_marks_and_line_ends() {
        let out = set("{a: [1, {b: 2}]}", &path("a[0]"), &json!("x")).unwrap();
        assert_eq!(out, "{a: [\"x\", {b: 2}]}");
        let e = set("{a: [1]}", &path("a[3]"), &json!(1)).unwrap_err();
        assert_eq!(e, "`a` has 1 items, so [3] does not exist");
        let out = set("\u{feff}{a: 1 /* c */}", &path("a"), &json!(2)).unwrap();
        assert_eq!(out, "\u{feff}{a: 2 /* c */}");
        let out = set("{\r\n  a: 1,\r\n}\r\n", &path("b.c"), &json!(2)).unwrap();
        assert_eq!(out, "{\r\n  a: 1,\r\n  b: {\r\n    c: 2,\r\n  },\r\n}\r\n");
    }

    #[test]
    fn refuses_what_it_cannot_rewrite() {
        // Valid JSON5 that jsonc-parser does not read: refused, not mangled.
        let escaped_key = "{\\u0061: 1}";
        assert!(get(escaped_key, &path("a")).unwrap().is_some());
        let e = set(escaped_key, &path("a"), &json!(2)).unwrap_err();
        assert!(
            e.starts_with("the file is valid JSON5, but jsonc-parser"),
            "{e}"
        );
        assert!(unset(escaped_key, &path("a")).is_err());
        let e = set("{a: 1", &path("a"), &json!(2)).unwrap_err();
        assert!(e.starts_with("the file is not valid JSON5: "), "{e}");
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
