//! Client API keys: from `--api-key`/`GATEWAY_API_KEY` (any model), and from the
//! configuration document's `gateway.keys` (each with the models it may use). Keys are
//! compared in constant time and never logged.

use serde::Deserialize;
use subtle::ConstantTimeEq;

/// One client key and what it may use.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientKey {
    key: String,
    /// The models (`provider/model`) this key may use; absent: every model.
    #[serde(default)]
    models: Option<Vec<String>>,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("key", &"****")
            .field("models", &self.models)
            .finish()
    }
}

/// Every accepted key.
#[derive(Debug, Default)]
pub struct Keys(Vec<ClientKey>);

/// Why a request may not go on.
pub enum Denied {
    /// No key, or not one of ours.
    Unknown,
    /// A key that may not use this model.
    Model,
}

impl Keys {
    /// Keys from the command line (any model; `--api-key` values and the lines of
    /// `--api-key-file`) and the configuration's `gateway.keys`.
    pub fn load(cli_keys: &[String], configured: Vec<ClientKey>) -> Result<Self, String> {
        let mut keys: Vec<ClientKey> = cli_keys
            .iter()
            .map(|key| ClientKey {
                key: key.clone(),
                models: None,
            })
            .collect();
        keys.extend(configured);
        if let Some(empty) = keys.iter().position(|k| k.key.trim().is_empty()) {
            return Err(format!("client key {empty} is empty"));
        }
        Ok(Self(keys))
    }

    /// Whether `expected` and `presented` are the same key, compared in constant time.
    pub fn same(expected: &str, presented: &str) -> bool {
        bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// No key configured: every request goes (a loopback demo).
    pub fn open(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `presented` (the bearer token, if any) may use `model` (`None`: any request
    /// that needs no particular model, such as listing them).
    pub fn check(&self, presented: Option<&str>, model: Option<&str>) -> Result<(), Denied> {
        if self.open() {
            return Ok(());
        }
        let presented = presented.ok_or(Denied::Unknown)?;
        // Every key is compared, so the time taken says nothing about which one matched.
        let mut found = None;
        for key in &self.0 {
            if Self::same(&key.key, presented) {
                found = Some(key);
            }
        }
        let key = found.ok_or(Denied::Unknown)?;
        match (&key.models, model) {
            (Some(allowed), Some(model)) if !allowed.iter().any(|m| m == model) => {
                Err(Denied::Model)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_their_models() {
        let section = crate::config::gateway_section(
            r#"{ gateway: { keys: [{ key: "team-a", models: ["p/m1"] }] } }"#,
        )
        .unwrap();
        let keys = Keys::load(&["cli-key".into()], section.keys).unwrap();
        assert!(keys.check(Some("cli-key"), Some("p/m2")).is_ok());
        assert!(keys.check(Some("team-a"), Some("p/m1")).is_ok());
        assert!(matches!(
            keys.check(Some("team-a"), Some("p/m2")),
            Err(Denied::Model)
        ));
        assert!(keys.check(Some("team-a"), None).is_ok());
        assert!(matches!(
            keys.check(Some("nope"), None),
            Err(Denied::Unknown)
        ));
        assert!(matches!(keys.check(None, None), Err(Denied::Unknown)));
        assert!(!format!("{:?}", keys).contains("team-a"));
        assert!(
            crate::config::gateway_section(r#"{ gateway: { keys: [{ kee: "x" }] } }"#).is_err()
        );
    }
}
