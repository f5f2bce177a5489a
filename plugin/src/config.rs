//! The plugin's configuration, read from the host's JSON5 document in the gateway's shape:
//! `models.providers."amazon-bedrock"` and `models.bedrockDiscovery`. Everything else in the
//! document belongs to the host and is ignored here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::config_keys::{keys_of, scan_keys, too_deep, PathDisplay, Seg, MAX_CONFIG_DEPTH};
use crate::errors::config_error;
use host_sdk::ProviderError;
use serde_path_to_error::Segment;

pub const PROVIDER_ID: &str = "amazon-bedrock";
pub const API: &str = "bedrock-converse-stream";
pub const AUTH: &str = "aws-sdk";

pub const DEFAULT_REFRESH_INTERVAL_SECS: u64 = 3600;
pub const DEFAULT_CONTEXT_WINDOW: u64 = 32_000;
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// What the plugin needs from the host's document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginConfig {
    pub provider: ProviderEntry,
    pub discovery: DiscoveryConfig,
    /// Non-fatal problems (unknown keys, with the nearest known one), for
    /// `Provider::config_warnings`.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderEntry {
    /// The runtime endpoint (`https://bedrock-runtime.<region>.amazonaws.com` or an emulator).
    pub base_url: Option<String>,
    pub api: Option<String>,
    pub auth: Option<String>,
    #[serde(default)]
    pub models: Vec<ModelEntry>,
    #[serde(default)]
    pub timeouts: TimeoutsEntry,
    #[serde(default)]
    pub retry: RetryEntry,
    /// A PEM file of CA certificates to trust besides the system's (a corporate proxy's CA,
    /// a private endpoint's); `AWS_CA_BUNDLE` adds one too.
    pub ca_bundle: Option<String>,
    /// A model table of the user's, in the format of the plugin's `data/models.tsv` and dated
    /// by its `# Checked YYYY-MM-DD` line; its rows win over the embedded ones, so a model
    /// newer than the plugin gets its limits, reasoning, caching rules and prices without a
    /// new build.
    pub model_table: Option<String>,
}

/// `timeouts`: how long a stream may wait (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TimeoutsEntry {
    /// Establishing the TCP/TLS connection.
    pub connect_ms: u64,
    /// From sending the request to the first response event.
    pub first_byte_ms: u64,
    /// Between two events of a stream.
    pub idle_ms: u64,
}

/// A field the document leaves out takes its value from here (`#[serde(default)]` on the
/// struct): the defaults are written once.
impl Default for TimeoutsEntry {
    fn default() -> Self {
        Self {
            connect_ms: 5_000,
            first_byte_ms: 60_000,
            idle_ms: 30_000,
        }
    }
}

/// `retry`: the retry budget for throttling and transient service errors.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RetryEntry {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
}

/// A field the document leaves out takes its value from here (`#[serde(default)]` on the
/// struct).
impl Default for RetryEntry {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay_ms: 500,
            max_delay_ms: 20_000,
        }
    }
}

/// The stream driver's settings, from `timeouts` and `retry`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamSettings {
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl StreamSettings {
    pub fn from_entry(p: &ProviderEntry) -> Self {
        Self {
            first_byte_timeout: Duration::from_millis(p.timeouts.first_byte_ms),
            idle_timeout: Duration::from_millis(p.timeouts.idle_ms),
            max_attempts: p.retry.max_attempts.max(1),
            base_delay: Duration::from_millis(p.retry.base_delay_ms),
            max_delay: Duration::from_millis(p.retry.max_delay_ms),
        }
    }

    /// Full-jitter exponential backoff before attempt `attempt + 1`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        // Half fixed, half random: spreads retries without ever retrying instantly.
        cap / 2 + cap.mul_f64(fastrand::f64() / 2.0)
    }
}

/// A model declared in the configuration, as in the gateway's documentation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub reasoning: bool,
    /// Input modalities [default: the model table's, else text].
    pub input: Option<Vec<String>>,
    #[serde(default)]
    pub cost: CostEntry,
    pub context_window: Option<u64>,
    pub max_tokens: Option<u64>,
    /// The foundation model behind `id` when `id` does not name it (an application inference
    /// profile's ARN): limits, caching and reasoning follow it.
    pub base_model: Option<String>,
    /// The API this model is called through (`bedrock-converse-stream` or
    /// `openai-responses`), over what the model table says.
    pub api: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostEntry {
    #[serde(default)]
    pub input: f64,
    #[serde(default)]
    pub output: f64,
    #[serde(default)]
    pub cache_read: f64,
    #[serde(default)]
    pub cache_write: f64,
}

impl CostEntry {
    /// The prices in the contract's shape.
    pub fn as_model_cost(&self) -> host_sdk::ModelCost {
        host_sdk::ModelCost {
            input: self.input,
            output: self.output,
            cache_read: self.cache_read,
            cache_write: self.cache_write,
        }
    }
}

/// `models.bedrockDiscovery`; a field the document leaves out takes its value from
/// `Default` (`#[serde(default)]` on the struct).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DiscoveryConfig {
    /// Unset means: enabled when credentials are present.
    pub enabled: Option<bool>,
    pub region: Option<String>,
    pub provider_filter: Vec<String>,
    pub refresh_interval: u64,
    pub default_context_window: u64,
    pub default_max_tokens: u64,
    /// The control-plane endpoint; derived from `baseUrl` when unset.
    pub base_url: Option<String>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            region: None,
            provider_filter: Vec::new(),
            refresh_interval: DEFAULT_REFRESH_INTERVAL_SECS,
            default_context_window: DEFAULT_CONTEXT_WINDOW,
            default_max_tokens: DEFAULT_MAX_TOKENS,
            base_url: None,
        }
    }
}

// The document's skeleton down to our keys; everything else is skipped unparsed.
#[derive(Deserialize, Default)]
struct Document {
    #[serde(default)]
    models: ModelsSection,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ModelsSection {
    #[serde(default)]
    providers: ProvidersSection,
    #[serde(default)]
    bedrock_discovery: DiscoveryConfig,
}

#[derive(Deserialize, Default)]
struct ProvidersSection {
    #[serde(rename = "amazon-bedrock", default)]
    bedrock: ProviderEntry,
    #[serde(flatten)]
    _others: BTreeMap<String, serde::de::IgnoredAny>,
}

impl PluginConfig {
    /// Parses the host's document. Errors name the key path and the line and column; unknown
    /// keys in the plugin's sections become [`PluginConfig::warnings`].
    pub fn parse(text: &str) -> Result<Self, ProviderError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        if let Some((line, column)) = too_deep(text, MAX_CONFIG_DEPTH) {
            return Err(config_error(format!(
                "the configuration nests objects and arrays more than {MAX_CONFIG_DEPTH} levels deep (line {line}, column {column}); configuration documents need far fewer"
            )));
        }
        // Syntax first, so that a syntax error is not blamed on whichever key was being read.
        if let Err(e) = json5::from_str::<serde::de::IgnoredAny>(text) {
            let at = e
                .position()
                .map(|p| format!(" (line {}, column {})", p.line + 1, p.column + 1))
                .unwrap_or_default();
            return Err(config_error(format!(
                "the configuration is not valid JSON5{at}: {}",
                strip_position(&e.to_string())
            )));
        }
        let mut de = json5::Deserializer::from_str(text);
        let doc: Document = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path: Vec<Seg> = e
                .path()
                .iter()
                .filter_map(|s| match s {
                    Segment::Map { key } => Some(Seg::Key(key.clone())),
                    Segment::Seq { index } => Some(Seg::Index(*index)),
                    _ => None,
                })
                .collect();
            let inner = e.into_inner();
            let at = inner
                .position()
                .map(|p| format!(" (line {}, column {})", p.line + 1, p.column + 1))
                .unwrap_or_default();
            let message = strip_position(&inner.to_string());
            let key = if path.is_empty() {
                "the configuration".to_string()
            } else {
                format!("`{}`", PathDisplay(&path))
            };
            config_error(format!("{key}{at}: {}", explain(&message)))
        })?;
        let config = Self {
            provider: doc.models.providers.bedrock,
            discovery: doc.models.bedrock_discovery,
            warnings: crate::config_keys::unknown_key_warnings(text, PROVIDER_ID, known_keys),
        };
        config.validate().map_err(|(path, message)| {
            let at = scan_keys(text)
                .into_iter()
                .rfind(|k| k.path == path)
                .map(|k| format!(" (line {}, column {})", k.line, k.column))
                .unwrap_or_default();
            config_error(format!("`{}`{at}: {message}", PathDisplay(&path)))
        })?;
        // The host gets these through `Provider::config_warnings` and shows them; at WARN they
        // would reach a host that bridges the plugin's logs (contract 1.4) a second time.
        for w in &config.warnings {
            tracing::debug!("configuration warning: {w}");
        }
        Ok(config)
    }

    /// Range and consistency checks serde cannot express: the failing key's path and why.
    fn validate(&self) -> Result<(), Invalid> {
        self.validate_provider()?;
        self.validate_discovery()?;
        for (i, m) in self.provider.models.iter().enumerate() {
            validate_model(i, m)?;
        }
        Ok(())
    }

    fn validate_provider(&self) -> Result<(), Invalid> {
        if let Some(api) = self.provider.api.as_ref().filter(|api| *api != API) {
            return Err((
                provider_path(&[key("api")]),
                format!("is \"{api}\", but this plugin speaks \"{API}\""),
            ));
        }
        if let Some(auth) = self.provider.auth.as_ref().filter(|auth| *auth != AUTH) {
            return Err((
                provider_path(&[key("auth")]),
                format!("is \"{auth}\", but Amazon Bedrock authenticates through the AWS SDK: use \"{AUTH}\" (credentials come from the environment, profiles or an instance role; no apiKey is needed)"),
            ));
        }
        for (path, url) in [
            (provider_path(&[key("baseUrl")]), &self.provider.base_url),
            (discovery_path("baseUrl"), &self.discovery.base_url),
        ] {
            if let Some(url) = url {
                validate_url(path, url)?;
            }
        }
        for (name, v) in [
            ("connectMs", self.provider.timeouts.connect_ms),
            ("firstByteMs", self.provider.timeouts.first_byte_ms),
            ("idleMs", self.provider.timeouts.idle_ms),
        ] {
            if v == 0 {
                return Err((
                    provider_path(&[key("timeouts"), key(name)]),
                    "must be greater than 0 milliseconds".into(),
                ));
            }
        }
        if self.provider.retry.max_attempts == 0 {
            return Err((
                provider_path(&[key("retry"), key("maxAttempts")]),
                "must be at least 1 (1 = no retries)".into(),
            ));
        }
        Ok(())
    }

    fn validate_discovery(&self) -> Result<(), Invalid> {
        if self.discovery.default_context_window == 0 {
            return Err((
                discovery_path("defaultContextWindow"),
                "must be greater than 0 (tokens)".into(),
            ));
        }
        if self.discovery.default_max_tokens == 0 {
            return Err((
                discovery_path("defaultMaxTokens"),
                "must be greater than 0 (tokens)".into(),
            ));
        }
        if let Some(region) = &self.discovery.region {
            if !is_region_name(region) {
                return Err((
                    discovery_path("region"),
                    format!("\"{region}\" is not an AWS region name (like us-east-1)"),
                ));
            }
        }
        for (i, f) in self.discovery.provider_filter.iter().enumerate() {
            if f.trim().is_empty() {
                let mut path = discovery_path("providerFilter");
                path.push(Seg::Index(i));
                return Err((
                    path,
                    "must be a provider name such as \"anthropic\", not empty".into(),
                ));
            }
        }
        Ok(())
    }
}

/// A key that fails a check: its path, and why.
type Invalid = (Vec<Seg>, String);

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// The path of a key under `models.providers.amazon-bedrock`.
fn provider_path(rest: &[Seg]) -> Vec<Seg> {
    let mut p = vec![key("models"), key("providers"), key(PROVIDER_ID)];
    p.extend_from_slice(rest);
    p
}

fn discovery_path(k: &str) -> Vec<Seg> {
    vec![key("models"), key("bedrockDiscovery"), key(k)]
}

fn validate_url(path: Vec<Seg>, url: &str) -> Result<(), Invalid> {
    // Never echo such a URL: it holds a secret.
    if has_user_info(url) {
        return Err((
            path,
            "must not contain credentials (`user:password@`): Bedrock requests are signed with the AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_BEARER_TOKEN_BEDROCK or a role), and a proxy's credentials belong in HTTPS_PROXY".into(),
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err((
            path,
            format!("must be an http(s) URL such as https://bedrock-runtime.us-east-1.amazonaws.com, got \"{url}\""),
        ));
    }
    Ok(())
}

/// One entry of the provider's `models`, at index `i`.
fn validate_model(i: usize, m: &ModelEntry) -> Result<(), Invalid> {
    let at = |rest: &[Seg]| {
        let mut path = vec![key("models"), Seg::Index(i)];
        path.extend_from_slice(rest);
        provider_path(&path)
    };
    if m.id.trim().is_empty() {
        return Err((at(&[key("id")]), "must not be empty".into()));
    }
    if let Some(api) = m
        .api
        .as_deref()
        .filter(|api| crate::model_facts::Api::from_config_name(api).is_none())
    {
        let hint = if api == "openai-completions" {
            ": Bedrock's Chat Completions API is not spoken by this plugin yet"
        } else {
            ""
        };
        return Err((
            at(&[key("api")]),
            format!("is \"{api}\", but this plugin calls a model through \"{API}\" (Converse) or \"openai-responses\" (the Responses API on Mantle){hint}"),
        ));
    }
    if m.context_window == Some(0) {
        return Err((
            at(&[key("contextWindow")]),
            "must be greater than 0 (tokens)".into(),
        ));
    }
    if m.max_tokens == Some(0) {
        return Err((
            at(&[key("maxTokens")]),
            "must be greater than 0 (tokens)".into(),
        ));
    }
    for (name, v) in [
        ("input", m.cost.input),
        ("output", m.cost.output),
        ("cacheRead", m.cost.cache_read),
        ("cacheWrite", m.cost.cache_write),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err((
                at(&[key("cost"), key(name)]),
                "must be a non-negative number (US dollars per million tokens)".into(),
            ));
        }
    }
    Ok(())
}

/// serde's wording for the common mistakes, said the way a user thinks about them.
fn explain(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid value: integer `-") {
        if let Some((n, _)) = rest.split_once('`') {
            return format!("must not be negative, got -{n}");
        }
    }
    for (json5, plain) in [
        ("expected bool", "expected true or false"),
        ("expected number", "expected a number"),
        ("expected string", "expected a string (in quotes)"),
        ("expected opening bracket", "expected a list ([...])"),
        ("expected opening brace", "expected an object ({...})"),
    ] {
        if message == json5 {
            return plain.to_string();
        }
    }
    if message.starts_with("invalid type: floating point") && message.ends_with("expected u64") {
        return format!("{message} (a whole number)");
    }
    message.to_string()
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, ...
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

// json5 appends its own "at line X column Y" (0-based); we report 1-based positions ourselves.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Whether a URL carries user information (`scheme://user:password@host`): an `@` in its
/// authority, which ends at the first `/`, `?` or `#` after the scheme.
fn has_user_info(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(after_scheme);
    authority.contains('@')
}

/// The known keys of the object at `parent`, when it is one of the plugin's objects: the
/// configuration's schema for its warnings, read off the serde types.
fn known_keys(parent: &[Seg], provider_id: &str) -> Option<&'static [&'static str]> {
    let key = |s: &Seg, k: &str| matches!(s, Seg::Key(x) if x == k);
    match parent {
        [m, d] if key(m, "models") && key(d, "bedrockDiscovery") => {
            Some(keys_of::<DiscoveryConfig>())
        }
        [m, p, b, rest @ ..] if key(m, "models") && key(p, "providers") && key(b, provider_id) => {
            match rest {
                [] => Some(keys_of::<ProviderEntry>()),
                [t] if key(t, "timeouts") => Some(keys_of::<TimeoutsEntry>()),
                [r] if key(r, "retry") => Some(keys_of::<RetryEntry>()),
                [ms, Seg::Index(_)] if key(ms, "models") => Some(keys_of::<ModelEntry>()),
                [ms, Seg::Index(_), c] if key(ms, "models") && key(c, "cost") => {
                    Some(keys_of::<CostEntry>())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
      // comments, unquoted keys and trailing commas are JSON5
      models: {
        bedrockDiscovery: {
          enabled: true,
          region: "us-east-1",
          providerFilter: ["anthropic", "amazon"],
          refreshInterval: 3600,
          defaultContextWindow: 32000,
          defaultMaxTokens: 4096,
        },
        providers: {
          "amazon-bedrock": {
            baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
            api: "bedrock-converse-stream",
            auth: "aws-sdk",
            models: [
              {
                id: "us.anthropic.claude-opus-4-6-v1:0",
                name: "Claude Opus 4.6 (Bedrock)",
                reasoning: true,
                input: ["text", "image"],
                cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
                contextWindow: 200000,
                maxTokens: 8192,
              },
            ],
          },
          openai: { apiKey: "not ours" },
        },
      },
      agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0" } } },
    }"#;

    #[test]
    fn parses_the_seed_document() {
        let c = PluginConfig::parse(SEED).unwrap();
        assert_eq!(c.discovery.enabled, Some(true));
        assert_eq!(c.discovery.provider_filter, ["anthropic", "amazon"]);
        assert_eq!(c.provider.models[0].id, "us.anthropic.claude-opus-4-6-v1:0");
        assert_eq!(c.provider.models[0].context_window, Some(200_000));
        assert_eq!(
            c.provider.base_url.as_deref(),
            Some("https://bedrock-runtime.us-east-1.amazonaws.com")
        );
    }

    #[test]
    fn empty_document_means_defaults() {
        let c = PluginConfig::parse("").unwrap();
        assert_eq!(c.discovery.refresh_interval, 3600);
        assert_eq!(c.discovery.default_context_window, 32000);
        assert_eq!(c.discovery.default_max_tokens, 4096);
        assert_eq!(c.discovery.enabled, None);
    }

    #[test]
    fn wrong_type_names_key_line_and_column() {
        let text = "{\n  models: {\n    bedrockDiscovery: {\n      refreshInterval: \"soon\",\n    },\n  },\n}";
        let e = PluginConfig::parse(text).unwrap_err();
        assert_eq!(e.code.as_str(), "config");
        assert!(
            e.message
                .contains("models.bedrockDiscovery.refreshInterval"),
            "{}",
            e.message
        );
        assert!(e.message.contains("line 4"), "{}", e.message);
    }

    #[test]
    fn negative_refresh_interval_is_rejected() {
        let e =
            PluginConfig::parse("{models:{bedrockDiscovery:{refreshInterval:-5}}}").unwrap_err();
        assert!(
            e.message
                .contains("models.bedrockDiscovery.refreshInterval"),
            "{}",
            e.message
        );
    }

    #[test]
    fn zero_context_window_is_rejected() {
        let e = PluginConfig::parse("{models:{bedrockDiscovery:{defaultContextWindow:0}}}")
            .unwrap_err();
        assert!(e.message.contains("defaultContextWindow"), "{}", e.message);
    }

    #[test]
    fn foreign_api_is_rejected() {
        let e = PluginConfig::parse(
            r#"{models:{providers:{"amazon-bedrock":{api:"openai-completions"}}}}"#,
        )
        .unwrap_err();
        assert!(
            e.message.contains("bedrock-converse-stream"),
            "{}",
            e.message
        );
    }

    fn message(text: &str) -> String {
        PluginConfig::parse(text).unwrap_err().message.to_string()
    }

    #[test]
    fn every_error_names_path_line_and_column() {
        assert_eq!(
            message("{models:{bedrockDiscovery:{refreshInterval:-5}}}"),
            "`models.bedrockDiscovery.refreshInterval` (line 1, column 44): must not be negative, got -5"
        );
        assert_eq!(
            message("{\nmodels:{\nbedrockDiscovery:{enabled:'yes'}}}"),
            "`models.bedrockDiscovery.enabled` (line 3, column 27): expected true or false"
        );
        assert_eq!(
            message("{models:{bedrockDiscovery:{defaultContextWindow:0}}}"),
            "`models.bedrockDiscovery.defaultContextWindow` (line 1, column 28): must be greater than 0 (tokens)"
        );
        assert_eq!(
            message("{models:{providers:{'amazon-bedrock':{models:[{id:'x', contextWindow: 0}]}}}}"),
            "`models.providers.\"amazon-bedrock\".models[0].contextWindow` (line 1, column 56): must be greater than 0 (tokens)"
        );
        assert!(message("{models:{bedrockDiscovery:{enabled:true,}")
            .starts_with("the configuration is not valid JSON5 (line 1, column"));
    }

    #[test]
    fn unknown_keys_are_warnings_not_errors() {
        let c = PluginConfig::parse("{models:{bedrockDiscovery:{refreshIntervall:5}}}").unwrap();
        assert_eq!(c.discovery.refresh_interval, 3600);
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].ends_with("did you mean `refreshInterval`?"));
    }
    #[test]
    fn the_known_keys_are_the_types_own() {
        assert!(keys_of::<ProviderEntry>().contains(&"caBundle"));
        assert!(keys_of::<DiscoveryConfig>().contains(&"refreshInterval"));
        assert!(keys_of::<TimeoutsEntry>().contains(&"firstByteMs"));
        assert!(keys_of::<CostEntry>().contains(&"cacheWrite"));
    }

    #[test]
    fn nearest_known_key() {
        assert_eq!(
            crate::config_keys::nearest("refreshIntervall", keys_of::<DiscoveryConfig>()),
            Some("refreshInterval")
        );
        assert_eq!(
            crate::config_keys::nearest("regoin", keys_of::<DiscoveryConfig>()),
            Some("region")
        );
        assert_eq!(
            crate::config_keys::nearest("ProviderFilter", keys_of::<DiscoveryConfig>()),
            Some("providerFilter")
        );
        assert_eq!(
            crate::config_keys::nearest("contextWindow", keys_of::<ModelEntry>()),
            Some("contextWindow")
        );
        assert_eq!(
            crate::config_keys::nearest("banana", keys_of::<DiscoveryConfig>()),
            None
        );
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
        let w = crate::config_keys::unknown_key_warnings(text, "amazon-bedrock", known_keys);
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
        let w = crate::config_keys::unknown_key_warnings(
            "{models:{bedrockDiscover:{}, providers:{'amazon_bedrock':{}}}}",
            "amazon-bedrock",
            known_keys,
        );
        assert_eq!(w.len(), 2, "{w:#?}");
        assert!(w[0].ends_with("did you mean `bedrockDiscovery`?"));
        assert!(w[1].ends_with("did you mean `amazon-bedrock`?"));
        let w = crate::config_keys::unknown_key_warnings(
            "{ modles: {}, models: { provders: {} } }",
            "amazon-bedrock",
            known_keys,
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].ends_with("did you mean `models`?"), "{w:?}");
        assert!(w[1].ends_with("did you mean `providers`?"), "{w:?}");
    }
}
