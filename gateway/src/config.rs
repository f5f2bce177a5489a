//! The configuration document as the gateway reads it before anything starts: a key it
//! does not know fails the start, naming the nearest known one. A gateway that misread its
//! configuration (`gatway: { keys: [...] }` would otherwise mean "no keys") must not serve.
//!
//! The gateway reads the `gateway` section (`keys`, `aliases`); the plugins read `models` and
//! warn about keys they do not know inside it, which the registry also treats as fatal.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::keys::ClientKey;

/// The `gateway` section of the configuration document.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    #[serde(default)]
    pub keys: Vec<ClientKey>,
    /// Short names clients may use for models: `{fast: "provider/model"}`, or a list of
    /// models (the first is used; the others are its fallbacks to come).
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasTargets>,
    /// Where keys' counters live: `redis://host:port` (shared by replicas); absent: in this
    /// process.
    #[serde(default)]
    pub store: Option<String>,
    /// Traces to an OpenTelemetry collector.
    #[serde(default)]
    pub telemetry: Option<crate::telemetry::TelemetryConfig>,
}

/// What an alias names.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AliasTargets {
    One(String),
    Several(Vec<String>),
}

impl AliasTargets {
    /// The models, in the order they are tried.
    pub fn models(&self) -> Vec<String> {
        match self {
            Self::One(model) => vec![model.clone()],
            Self::Several(models) => models.clone(),
        }
    }
}

/// The `gateway` section of `text` (empty when there is none), once the document's top level
/// has no key nobody reads.
pub fn gateway_section(text: &str) -> Result<GatewaySection, String> {
    if text.trim().is_empty() {
        return Ok(GatewaySection::default());
    }
    let document: serde_json::Value =
        json5::from_str(text).map_err(|e| format!("the configuration is not JSON5: {e}"))?;
    check_top_level(&document)?;
    let Some(section) = document.get("gateway") else {
        return Ok(GatewaySection::default());
    };
    let section: GatewaySection = serde_json::from_value(section.clone()).map_err(|e| {
        format!(
            "gateway in the configuration: {e} (it takes keys: [{{key, name?, models?: [\"provider/model\", ...], limits?: {{requestsPerMinute?, tokensPerMinute?}}, budget?: {{usd, period: \"day\" or \"month\"}}}}], aliases: {{name: \"provider/model\" or [...]}}, store: \"redis://...\" and telemetry: {{otlpEndpoint}})"
        )
    })?;
    if let Some((alias, _)) = section
        .aliases
        .iter()
        .find(|(_, targets)| targets.models().is_empty())
    {
        return Err(format!(
            "gateway.aliases.{alias} names no model: give it \"provider/model\" or a list of them"
        ));
    }
    Ok(section)
}

/// The top-level keys a configuration document may have.
pub const TOP_LEVEL_KEYS: &[&str] = &["models", "gateway"];

/// Refuses a document whose top level has a key nobody reads.
fn check_top_level(document: &serde_json::Value) -> Result<(), String> {
    let Some(object) = document.as_object() else {
        return Err("the configuration must be an object ({ models: ..., gateway: ... })".into());
    };
    for key in object.keys() {
        if TOP_LEVEL_KEYS.contains(&key.as_str()) {
            continue;
        }
        let nearest = TOP_LEVEL_KEYS
            .iter()
            .min_by_key(|known| strsim::levenshtein(known, key))
            .copied()
            .unwrap_or("gateway");
        return Err(format!(
            "the configuration has an unknown top-level key `{key}`: did you mean `{nearest}`? (known: {})",
            TOP_LEVEL_KEYS.join(", ")
        ));
    }
    Ok(())
}

/// The client keys in an `--api-key-file`: one per line; blank lines and lines starting
/// with `#` are skipped. A file without any key is an error, never "no keys".
pub fn read_key_file(path: &std::path::Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --api-key-file {}: {e}", path.display()))?;
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect();
    if keys.is_empty() {
        return Err(format!(
            "--api-key-file {} holds no key (one key per line)",
            path.display()
        ));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_name_one_model_or_several() {
        let section =
            gateway_section(r#"{ gateway: { aliases: { fast: ["p/a", "p/b"], one: "p/c" } } }"#)
                .unwrap();
        assert_eq!(section.aliases["fast"].models(), ["p/a", "p/b"]);
        assert_eq!(section.aliases["one"].models(), ["p/c"]);
        assert!(gateway_section(r#"{ gateway: { aliases: { none: [] } } }"#).is_err());
        assert!(gateway_section(r#"{ gateway: { alias: {} } }"#).is_err());
    }

    #[test]
    fn an_unknown_top_level_key_fails_naming_the_nearest() {
        let e = gateway_section(r#"{ gatway: { keys: [{ key: "k" }] } }"#).unwrap_err();
        assert!(
            e.contains("`gatway`") && e.contains("did you mean `gateway`"),
            "{e}"
        );
        let e = gateway_section("{ model: {} }").unwrap_err();
        assert!(e.contains("did you mean `models`"), "{e}");
        assert!(gateway_section("{ models: {}, gateway: {} }").is_ok());
        assert!(gateway_section("").is_ok());
        assert!(gateway_section("[1]").is_err());
    }

    #[test]
    fn a_key_file_has_keys_or_fails() {
        let dir = std::env::temp_dir().join(format!("gateway-key-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("keys");
        std::fs::write(&file, "# team keys\n\n  sk-one  \nsk-two\n").unwrap();
        assert_eq!(read_key_file(&file).unwrap(), ["sk-one", "sk-two"]);
        std::fs::write(&file, "# nothing\n\n").unwrap();
        assert!(read_key_file(&file).unwrap_err().contains("holds no key"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
