//! The host's configuration file: where it is, its text, the emulator overlay and the primary
//! model. The provider gets the document itself; the host only reads what it needs.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{CliError, CliResult};

/// The configuration document as read from disk (empty when there is none).
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub text: String,
}

/// How deeply a configuration document may nest objects and arrays (the plugin's own limit
/// too): every JSON5 parser here recurses per level, and a document nested thousands deep
/// would overflow the stack.
pub const MAX_DEPTH: usize = 64;

/// Refuses text that nests deeper than [`MAX_DEPTH`], counted with jsonc-parser's scanner
/// (iterative; strings and comments are skipped as such). Syntax errors are left to the
/// parsers that follow.
pub fn check_depth(text: &str) -> Result<(), String> {
    use jsonc_parser::tokens::Token;
    let mut scanner = jsonc_parser::Scanner::new(text, &jsonc_parser::ScannerOptions::default());
    let mut depth = 0usize;
    while let Ok(Some(token)) = scanner.scan() {
        match token {
            Token::OpenBrace | Token::OpenBracket => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let line = text[..scanner.token_start()].matches('\n').count() + 1;
                    return Err(format!(
                        "it nests objects and arrays more than {MAX_DEPTH} levels deep (line {line})"
                    ));
                }
            }
            Token::CloseBrace | Token::CloseBracket => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a configuration document that does not parse, in one wording for every command:
/// `FILE:LINE:COLUMN: what`. A document that ends inside an object or array is reported where
/// it ends, naming where that object opened (the parser alone would point at the opening).
pub fn check_syntax(path: &Path, text: &str) -> CliResult<()> {
    use jsonc_parser::tokens::Token;
    let at = |offset: usize| {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
            .chars()
            .count()
            + 1;
        (line, column)
    };
    let fail = |(line, column): (usize, usize), what: String| {
        Err(CliError::new(format!(
            "{}:{line}:{column}: {what}",
            path.display()
        )))
    };
    if let Err(why) = check_depth(text) {
        return fail((1, 1), format!("the configuration {why}"));
    }
    if text.trim().is_empty() {
        return Ok(());
    }
    // Unclosed objects and arrays, from the tokens (strings and comments skipped as such).
    let mut scanner = jsonc_parser::Scanner::new(text, &jsonc_parser::ScannerOptions::default());
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut scanned_to_end = true;
    loop {
        match scanner.scan() {
            Ok(Some(Token::OpenBrace)) => open.push((true, scanner.token_start())),
            Ok(Some(Token::OpenBracket)) => open.push((false, scanner.token_start())),
            Ok(Some(Token::CloseBrace | Token::CloseBracket)) => {
                open.pop();
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                scanned_to_end = false;
                break;
            }
        }
    }
    if let (true, Some(&(object, opened))) = (scanned_to_end, open.last()) {
        let (line, column) = at(opened);
        let (kind, close) = if object {
            ("object", '}')
        } else {
            ("array", ']')
        };
        return fail(
            at(text.trim_end().len()),
            format!(
                "the file ends inside the {kind} opened at line {line}, column {column}: close it with `{close}`"
            ),
        );
    }
    match json5::from_str::<Value>(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let position = e
                .position()
                .map(|p| (p.line + 1, p.column + 1))
                .unwrap_or((1, 1));
            let what = e
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| e.to_string());
            fail(position, format!("not valid JSON5: {what}"))
        }
    }
}

/// `<platform config dir>/host-demo/config.json5`.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("host-demo").join("config.json5"))
}

impl ConfigFile {
    /// Reads `explicit` (from `--config` or `$HOST_DEMO_CONFIG`), which must exist, else the
    /// default file if there is one.
    pub fn load(explicit: Option<&Path>) -> CliResult<Self> {
        let loaded = Self::read_file(explicit)?;
        if let Some(path) = &loaded.path {
            check_syntax(path, &loaded.text)?;
        }
        Ok(loaded)
    }

    fn read_file(explicit: Option<&Path>) -> CliResult<Self> {
        if let Some(path) = explicit {
            return Self::read(path).map_err(|e| {
                CliError::new(format!(
                    "cannot read the config file {}: {e}",
                    path.display()
                ))
                .with_hint("fix the --config path (or $HOST_DEMO_CONFIG), or omit it")
            });
        }
        match default_path() {
            Some(path) if path.exists() => Self::read(&path).map_err(|e| {
                CliError::new(format!(
                    "cannot read the default config file {}: {e}",
                    path.display()
                ))
            }),
            _ => Ok(Self::default()),
        }
    }

    fn read(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Ok(Self {
            path: Some(path.to_owned()),
            text,
        })
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "<no config file>".into(),
        }
    }

    /// The document as JSON; an empty file is an empty object.
    pub fn parse(&self) -> CliResult<Value> {
        if self.text.trim().is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        json5::from_str::<Value>(&self.text).map_err(|e| {
            let at = e
                .position()
                .map(|p| format!(":{}:{}", p.line + 1, p.column + 1))
                .unwrap_or_default();
            let what = e
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| e.to_string());
            CliError::new(format!("invalid JSON5 in {}{at}: {what}", self.describe()))
        })
    }

    /// The document to hand to the provider: the file's text unchanged (so the provider's
    /// errors point at the user's lines and columns), or, for the emulator, the parsed document
    /// with `models.providers.<provider_id>.baseUrl` replaced.
    pub fn provider_document(&self, emulator: Option<(&str, &str)>) -> CliResult<String> {
        let Some((provider_id, base_url)) = emulator else {
            return Ok(self.text.clone());
        };
        let mut doc = self.parse()?;
        let provider =
            object_at(&mut doc, &["models", "providers", provider_id]).ok_or_else(|| {
                CliError::new(format!(
                    "{}: models.providers.\"{provider_id}\" must be an object",
                    self.describe()
                ))
            })?;
        provider.insert("baseUrl".into(), Value::String(base_url.into()));
        Ok(doc.to_string())
    }

    /// Near misses of the keys host-demo itself reads (`agents.defaults.model.primary`): a
    /// typo there would silently mean "no primary model". The plugin warns about its own.
    pub fn host_key_warnings(&self) -> Vec<String> {
        let Ok(doc) = self.parse() else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        let mut check = |object: Option<&Value>, at: &str, ours: &str| {
            let keys = object.and_then(Value::as_object).into_iter().flatten();
            for (key, _) in keys {
                let near = key != ours
                    && key.to_lowercase() != "models"
                    && (key.eq_ignore_ascii_case(ours)
                        || strsim::levenshtein(&key.to_lowercase(), ours) <= 2);
                if near {
                    warnings.push(format!(
                        "{}: `{at}{key}` is not a key host-demo reads and is ignored; did you mean `{at}{ours}`?",
                        self.describe()
                    ));
                }
            }
        };
        check(Some(&doc), "", "agents");
        check(doc.get("agents"), "agents.", "defaults");
        check(doc.pointer("/agents/defaults"), "agents.defaults.", "model");
        check(
            doc.pointer("/agents/defaults/model"),
            "agents.defaults.model.",
            "primary",
        );
        warnings
    }

    /// `agents.defaults.model.primary` (or `agents.defaults.model` as a plain string).
    /// The model an alias names (`gateway.aliases`, the gateway's own: `{fast:
    /// ["amazon-bedrock/...", ...]}` or `{fast: "amazon-bedrock/..."}`): its first model,
    /// which is the one the gateway tries first. `None` when `name` is no alias.
    pub fn alias(&self, name: &str) -> CliResult<Option<String>> {
        let doc = self.parse()?;
        let Some(target) = doc.pointer("/gateway/aliases").and_then(|a| a.get(name)) else {
            return Ok(None);
        };
        let first = match target {
            Value::String(model) => Some(model.clone()),
            Value::Array(models) => models.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        first.map(Some).ok_or_else(|| {
            CliError::new(format!(
                "{}: gateway.aliases.{name} must be a model (\"provider/model\") or a list of them",
                self.describe()
            ))
        })
    }

    pub fn primary_model(&self) -> CliResult<Option<String>> {
        let doc = self.parse()?;
        let model = doc.pointer("/agents/defaults/model");
        let primary = match model {
            Some(Value::String(s)) => Some(s),
            Some(m) => match m.get("primary") {
                Some(Value::String(s)) => Some(s),
                None | Some(Value::Null) => None,
                Some(_) => {
                    return Err(CliError::new(format!(
                        "{}: agents.defaults.model.primary must be a string like \
                         \"amazon-bedrock/<model id>\"",
                        self.describe()
                    )))
                }
            },
            None => None,
        };
        Ok(primary.filter(|s| !s.trim().is_empty()).cloned())
    }

    /// `models.bedrockDiscovery.region`, when the document sets one (the embedded emulator
    /// then serves that region, so discovery and calls agree with what the user configured).
    /// A document that does not parse has none; the provider reports its error.
    pub fn discovery_region(&self) -> Option<String> {
        let doc = self.parse().ok()?;
        doc.pointer("/models/bedrockDiscovery/region")?
            .as_str()
            .map(str::to_string)
    }
}

/// Walks (creating as needed) nested objects; `None` when a non-object is in the way.
fn object_at<'a>(doc: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut here = doc;
    for key in path {
        let map = here.as_object_mut()?;
        here = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    here.as_object_mut()
}

/// Turns a model reference (`<provider id>/<model id>` or a bare id) into the provider's model
/// id, refusing references that name another provider.
pub fn model_id_for(reference: &str, provider_id: &str, source: &str) -> CliResult<String> {
    let reference = reference.trim();
    if let Some(id) = reference
        .strip_prefix(provider_id)
        .and_then(|r| r.strip_prefix('/'))
    {
        return Ok(id.to_string());
    }
    // Bedrock ids and ARNs contain ':' before any '/', provider ids never do.
    if let Some((prefix, _)) = reference.split_once('/') {
        if !prefix.contains(':') && !prefix.is_empty() {
            return Err(CliError::new(format!(
                "{source} is {reference:?}, a model of provider \"{prefix}\", but the loaded \
                 plugin provides \"{provider_id}\""
            ))
            .with_hint(format!(
                "use \"{provider_id}/<model id>\", pass --model, or load that provider's plugin \
                 with --plugin"
            )));
        }
    }
    Ok(reference.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> ConfigFile {
        ConfigFile {
            path: Some("test.json5".into()),
            text: text.into(),
        }
    }

    #[test]
    fn overlay_creates_the_provider_object_and_keeps_the_rest() {
        let cfg = file("{ models: { bedrockDiscovery: { enabled: true, }, }, // comment\n }");
        let doc: Value = serde_json::from_str(
            &cfg.provider_document(Some(("amazon-bedrock", "http://127.0.0.1:1")))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            doc["models"]["providers"]["amazon-bedrock"]["baseUrl"],
            "http://127.0.0.1:1"
        );
        assert_eq!(doc["models"]["bedrockDiscovery"]["enabled"], true);
        assert_eq!(
            file("").provider_document(Some(("p", "u"))).unwrap(),
            r#"{"models":{"providers":{"p":{"baseUrl":"u"}}}}"#
        );
    }

    #[test]
    fn text_is_passed_unchanged_without_the_emulator() {
        let cfg = file("{ not json5 at all");
        assert_eq!(cfg.provider_document(None).unwrap(), "{ not json5 at all");
        let err = cfg.provider_document(Some(("p", "u"))).unwrap_err();
        assert!(
            err.message.starts_with("invalid JSON5 in test.json5:1:"),
            "{}",
            err.message
        );
    }

    #[test]
    fn primary_model_and_references() {
        let cfg = file(
            "{agents:{defaults:{model:{primary:'amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0'}}}}",
        );
        let primary = cfg.primary_model().unwrap().unwrap();
        assert_eq!(
            model_id_for(&primary, "amazon-bedrock", "x").unwrap(),
            "us.anthropic.claude-opus-4-6-v1:0"
        );
        assert_eq!(file("{}").primary_model().unwrap(), None);
        let aliased = file(
            "{gateway:{aliases:{fast:['amazon-bedrock/amazon.nova-micro-v1:0','amazon-bedrock/x'],one:'amazon-bedrock/y'}}}",
        );
        assert_eq!(
            aliased.alias("fast").unwrap().as_deref(),
            Some("amazon-bedrock/amazon.nova-micro-v1:0")
        );
        assert_eq!(
            aliased.alias("one").unwrap().as_deref(),
            Some("amazon-bedrock/y")
        );
        assert_eq!(aliased.alias("slow").unwrap(), None);
        assert!(model_id_for("openai/gpt-5", "amazon-bedrock", "x").is_err());
        let arn = "arn:aws:bedrock:us-east-1:1:inference-profile/us.amazon.nova-pro-v1:0";
        assert_eq!(model_id_for(arn, "amazon-bedrock", "x").unwrap(), arn);
        assert_eq!(
            model_id_for("amazon.nova-pro-v1:0", "amazon-bedrock", "x").unwrap(),
            "amazon.nova-pro-v1:0"
        );
    }
}
