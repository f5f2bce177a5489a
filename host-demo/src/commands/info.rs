//! `plugin info`: what the plugin says about itself, without configuring a provider.

use std::io::Write;

use crate::cli::GlobalOpts;
use crate::error::CliResult;
use crate::render::Style;
use crate::session::load_plugin;

pub fn run(global: &GlobalOpts, json: bool) -> CliResult {
    let plugin = load_plugin(global)?;
    let meta = plugin.metadata();
    let path = std::fs::canonicalize(plugin.path()).unwrap_or_else(|_| plugin.path().to_owned());
    let capabilities: Vec<&str> = meta.capabilities.iter().map(|c| c.as_str()).collect();
    if json {
        let document = serde_json::json!({
            "path": path,
            "providerId": meta.provider_id.as_str(),
            "api": meta.api.as_str(),
            "auth": meta.auth.as_str(),
            "displayName": meta.display_name.as_str(),
            "pluginVersion": meta.plugin_version.as_str(),
            "contractVersion": meta.contract_version.as_str(),
            "hostContractVersion": host_sdk::CONTRACT_VERSION,
            "capabilities": capabilities,
        });
        writeln!(std::io::stdout().lock(), "{document:#}")?;
        return Ok(());
    }
    let contract = if host_sdk::CONTRACT_VERSION == meta.contract_version.as_str() {
        format!("{} (host: same)", meta.contract_version)
    } else {
        format!(
            "{} (host: {})",
            meta.contract_version,
            host_sdk::CONTRACT_VERSION
        )
    };
    let rows = [
        ("path", path.display().to_string()),
        ("provider id", meta.provider_id.to_string()),
        ("api", meta.api.to_string()),
        ("auth", meta.auth.to_string()),
        ("display name", meta.display_name.to_string()),
        ("plugin version", meta.plugin_version.to_string()),
        ("contract version", contract),
        ("capabilities", capabilities.join(", ")),
    ];
    let style = Style::stdout();
    let mut out = std::io::stdout().lock();
    for (key, value) in rows {
        let key = format!("{key}:");
        writeln!(
            out,
            "{}{:pad$}{value}",
            style.bold(&key),
            "",
            pad = 18 - key.len()
        )?;
    }
    Ok(())
}
