//! `models list`: configured and discovered models, as a table or JSON; with `--embedding`,
//! the embedding models; with `--facts`, where each model's facts come from.

use std::io::{IsTerminal, Write};

use host_sdk::{ModelInfo, ModelSource};

use crate::error::CliResult;
use crate::render::{table, Style};
use crate::session::Session;

pub fn list(session: &Session, json: bool, refresh: bool) -> CliResult {
    let models = crate::disk_cache::list_models(session, refresh)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &models)?;
        writeln!(out)?;
        return Ok(());
    }
    if models.is_empty() {
        writeln!(
            out,
            "no models: declare some under models.providers.\"{}\".models in the config, or \
             enable discovery (models.bedrockDiscovery.enabled: true) with credentials that \
             may call bedrock:ListFoundationModels",
            session.provider_id()
        )?;
        return Ok(());
    }
    let mut rows = vec![[
        "ID", "NAME", "SOURCE", "THINKS", "INPUT", "CTX", "OUT", "$ IN/OUT",
    ]
    .map(String::from)
    .to_vec()];
    rows.extend(models.iter().map(row));
    // On a terminal, fit its width: shorten names first, then leave out the source, the
    // names, the input kinds, the output limit and the reasoning column (the id is what a
    // request needs; --json has everything). Piped, every column stays, so that
    // `models list | grep image` finds what the table says.
    let rows = if std::io::stdout().is_terminal() {
        crate::render::fit(rows, crate::render::output_width(), 1, 12, &[2, 1, 4, 6, 3])
    } else {
        rows
    };
    table(&mut out, Style::stdout(), &rows)?;
    writeln!(out, "{} models", models.len())?;
    Ok(())
}

/// `models list --embedding`: the models `embed` can use.
pub fn list_embedding(session: &Session, json: bool) -> CliResult {
    let models = session.provider.list_embedding_models().map_err(|e| {
        crate::error::CliError::new(format!(
            "cannot list the embedding models of {}: {e}",
            session.provider_id()
        ))
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &models)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut rows = vec![["ID", "NAME", "INPUT", "DIMENSIONS", "PER CALL", "$ IN"]
        .map(String::from)
        .to_vec()];
    rows.extend(models.iter().map(|m| {
        vec![
            m.id.clone(),
            m.name.clone(),
            m.input.join(","),
            m.dimensions
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(","),
            m.max_inputs_per_call.to_string(),
            rate(m.usd_per_million_tokens),
        ]
    }));
    table(&mut out, Style::stdout(), &rows)?;
    writeln!(out, "{} embedding models", models.len())?;
    Ok(())
}

/// `models list --facts`: where the facts of each model come from.
pub fn list_facts(session: &Session, json: bool) -> CliResult {
    let origins = session.provider.model_provenance().map_err(|e| {
        crate::error::CliError::new(format!(
            "cannot say where the model facts of {} come from: {e}",
            session.provider_id()
        ))
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &origins)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut rows = vec![["ID", "TABLE", "CHECKED", "ROW", "CONFIGURED", "API"]
        .map(String::from)
        .to_vec()];
    rows.extend(origins.iter().map(|o| {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        vec![
            o.id.clone(),
            o.table
                .clone()
                .unwrap_or_else(|| "none (the configured defaults)".into()),
            or_dash(&o.checked),
            or_dash(&o.row),
            if o.configured { "yes" } else { "no" }.into(),
            or_dash(&o.api),
        ]
    }));
    table(&mut out, Style::stdout(), &rows)?;
    writeln!(out, "{} models", origins.len())?;
    Ok(())
}

fn row(m: &ModelInfo) -> Vec<String> {
    let cost = &m.cost;
    let has_cost = [cost.input, cost.output, cost.cache_read, cost.cache_write]
        .iter()
        .any(|c| *c != 0.0);
    vec![
        m.id.to_string(),
        m.name.to_string(),
        match m.source {
            ModelSource::Configured => "configured",
            ModelSource::Discovered => "discovered",
        }
        .into(),
        if m.reasoning { "yes" } else { "no" }.into(),
        m.input
            .iter()
            .map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join(","),
        tokens(m.context_window),
        tokens(m.max_tokens),
        if has_cost {
            format!("{}/{}", rate(cost.input), rate(cost.output))
        } else {
            "-".into()
        },
    ]
}

/// A price per million tokens without float noise: `3.3`, `0.00875`, `15`.
fn rate(usd: f64) -> String {
    let text = format!("{usd:.5}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `200k`, `1M`, `4096`: token counts short enough for a table.
fn tokens(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 10_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}
