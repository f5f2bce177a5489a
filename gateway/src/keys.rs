//! Client API keys: from `--api-key`/`GATEWAY_API_KEY` (any model), and from the
//! configuration document's `gateway.keys` (each with the models it may use, its rate limits
//! and its budget). Keys are compared in constant time and never logged: logs, metrics and
//! the shared store name a key by its id (its `name`, or a digest of it).

use std::sync::Arc;

use serde::Deserialize;
use subtle::ConstantTimeEq;

/// One client key and what it may use.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientKey {
    key: String,
    /// What logs, metrics and the admin endpoint call the key [default: `key-` and the
    /// first hex digits of its SHA-256].
    #[serde(default)]
    name: Option<String>,
    /// The models (`provider/model`) this key may use; absent: every model.
    #[serde(default)]
    models: Option<Vec<String>>,
    #[serde(default)]
    limits: Option<Limits>,
    #[serde(default)]
    budget: Option<Budget>,
}

/// Requests and tokens a key may use per minute.
#[derive(Clone, Copy, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    #[serde(default)]
    pub requests_per_minute: Option<u64>,
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
}

/// What a key may spend per period, in US dollars (from the provider's price of each answer).
#[derive(Clone, Copy, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub usd: f64,
    pub period: Period,
}

/// A budget's period, in UTC: it rolls over at midnight, or on the first of the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Month,
}

/// What the gateway holds a key to, by its id: never the key itself.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeyPolicy {
    pub id: String,
    pub models: Option<Vec<String>>,
    pub limits: Option<Limits>,
    pub budget: Option<Budget>,
}

impl KeyPolicy {
    /// Whether anything about this key is counted (and so needs the store).
    pub fn counted(&self) -> bool {
        self.limits.is_some() || self.budget.is_some()
    }
}

impl ClientKey {
    fn policy(&self) -> KeyPolicy {
        KeyPolicy {
            id: self.name.clone().unwrap_or_else(|| key_id(&self.key)),
            models: self.models.clone(),
            limits: self.limits,
            budget: self.budget,
        }
    }
}

/// A key's id when it has no name: a digest short enough to read, too short to find the key.
fn key_id(key: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("key-{hex}")
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("key", &"****")
            .field("name", &self.name)
            .field("models", &self.models)
            .field("limits", &self.limits)
            .field("budget", &self.budget)
            .finish()
    }
}

/// Every accepted key, with its policy (its id digested once, at start).
#[derive(Default)]
pub struct Keys(Vec<(String, Arc<KeyPolicy>)>);

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(_, policy)| policy))
            .finish()
    }
}

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
                name: None,
                models: None,
                limits: None,
                budget: None,
            })
            .collect();
        keys.extend(configured);
        if let Some(empty) = keys.iter().position(|k| k.key.trim().is_empty()) {
            return Err(format!("client key {empty} is empty"));
        }
        for key in &keys {
            if let Some(budget) = key.budget.filter(|b| !(b.usd.is_finite() && b.usd >= 0.0)) {
                return Err(format!(
                    "gateway.keys: the budget of {} is {} USD: give a positive amount",
                    key.policy().id,
                    budget.usd
                ));
            }
        }
        let keys: Vec<(String, Arc<KeyPolicy>)> = keys
            .into_iter()
            .map(|k| {
                let policy = Arc::new(k.policy());
                (k.key, policy)
            })
            .collect();
        let mut ids = std::collections::HashSet::new();
        if let Some((_, twice)) = keys.iter().find(|(_, p)| !ids.insert(p.id.as_str())) {
            return Err(format!(
                "gateway.keys: two keys are named {}: give each its own name (limits and spend are kept by name)",
                twice.id
            ));
        }
        Ok(Self(keys))
    }

    /// The policies of every key, for the admin endpoint.
    pub fn policies(&self) -> impl Iterator<Item = &KeyPolicy> {
        self.0.iter().map(|(_, policy)| policy.as_ref())
    }

    /// The policy of the key `presented` is, if it is one (compared in constant time).
    pub fn policy_of(&self, presented: Option<&str>) -> Option<Arc<KeyPolicy>> {
        self.matching(presented?).cloned()
    }

    /// The policy of the key `presented` is, every key compared so that the time taken says
    /// nothing about which one matched.
    fn matching(&self, presented: &str) -> Option<&Arc<KeyPolicy>> {
        let mut found = None;
        for (key, policy) in &self.0 {
            if Self::same(key, presented) {
                found = Some(policy);
            }
        }
        found
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
        let policy = self.matching(presented).ok_or(Denied::Unknown)?;
        match (&policy.models, model) {
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
