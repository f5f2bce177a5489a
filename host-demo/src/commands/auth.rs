//! `auth status`: which credentials the provider uses, for which region and endpoint, and
//! whether a cheap authenticated call succeeds. The plugin never hands over a secret; this
//! prints what it reports (a masked access key id at most). Exit code 1 when the check fails.

use std::io::Write;

use serde_json::{json, Value};

use crate::error::{CliError, CliResult};
use crate::render::Style;
use crate::session::Session;

pub fn status(session: &Session, as_json: bool) -> CliResult {
    let status = session.provider.auth_status().map_err(|e| {
        CliError::provider(
            "cannot get the authentication status",
            &e,
            session.emulator.is_some(),
        )
    })?;
    let check = status.check.clone().into_result();
    let mut out = std::io::stdout().lock();
    if as_json {
        let details: Vec<Value> = status
            .details
            .iter()
            .map(|t| json!([t.0.as_str(), t.1.as_str()]))
            .collect();
        let check_json = match &check {
            Ok(message) => json!({ "ok": true, "message": message.as_str() }),
            Err(e) => json!({
                "ok": false,
                "code": e.code.as_str(),
                "message": e.message.as_str(),
                "retryable": e.retryable,
            }),
        };
        let doc = json!({
            "source": status.source.as_str(),
            "region": status.region.as_str(),
            "endpoint": status.endpoint.as_str(),
            "details": details,
            "check": check_json,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        let style = Style::stdout();
        let mut rows: Vec<(String, String)> = vec![
            ("source".into(), status.source.to_string()),
            ("region".into(), status.region.to_string()),
            ("endpoint".into(), status.endpoint.to_string()),
        ];
        rows.extend(
            status
                .details
                .iter()
                .map(|t| (t.0.to_string(), t.1.to_string())),
        );
        rows.push((
            "check".into(),
            match &check {
                Ok(m) => format!("ok: {m}"),
                Err(e) => format!("FAILED ({}): {}", e.code, e.message),
            },
        ));
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
        for (k, v) in rows {
            let key = format!("{k}:");
            writeln!(
                out,
                "{}{:pad$}{v}",
                style.bold(&key),
                "",
                pad = width - key.len()
            )?;
        }
    }
    match check {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::new(format!(
            "the authenticated check failed: {}",
            e.message
        ))),
    }
}
