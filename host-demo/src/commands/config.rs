//! `config get KEY`, `config set KEY VALUE`, `config unset KEY`: edit the configuration file as
//! the gateway's CLI does (`config set models.bedrockDiscovery.enabled true`).
//!
//! Edits are surgical (see [`crate::json5_edit`]): comments, key order and formatting of the
//! rest of the file stay as written, and a file the editor cannot rewrite that way is refused.
//! Before writing, the new document is handed to the plugin (`new_provider`, which makes no
//! network call): a value the plugin rejects is not written, and its warnings (unknown keys)
//! are shown. The file is replaced atomically: written to a temporary file in the same
//! directory, synced, then renamed over the original.

use std::io::Write;
use std::path::{Path, PathBuf};

use host_sdk::ErrorKind;
use serde_json::Value;

use crate::cli::GlobalOpts;
use crate::config_file::default_path;
use crate::error::{CliError, CliResult};
use crate::json5_edit::{self, parse_path, PathDisplay};
use crate::session::load_plugin;

/// The file `config` edits: `--config`/`$HOST_DEMO_CONFIG`, else the default location.
fn config_path(global: &GlobalOpts) -> CliResult<PathBuf> {
    global.config.clone().or_else(default_path).ok_or_else(|| {
        CliError::new("no configuration directory is known on this platform")
            .with_hint("pass --config PATH")
    })
}

fn read(path: &Path) -> CliResult<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => crate::config_file::check_syntax(path, &text).map(|()| text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(CliError::new(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

fn key_path(key: &str) -> CliResult<Vec<json5_edit::Seg>> {
    parse_path(key).map_err(|e| {
        CliError::new(e).with_hint(
            "key paths are dot-separated; quote segments holding dots or dashes: \
             models.providers.\"amazon-bedrock\".baseUrl",
        )
    })
}

fn invalid(path: &Path, e: String) -> CliError {
    CliError::new(format!("{} is not valid JSON5: {e}", path.display()))
}

/// What `--json` prints for `key` in `path`: the key, the file and `fields`.
fn json_report(segs: &[json5_edit::Seg], path: &Path, fields: Value) -> CliResult {
    let mut report = serde_json::json!({
        "key": PathDisplay(segs).to_string(),
        "file": path.display().to_string(),
    });
    if let (Some(report), Value::Object(fields)) = (report.as_object_mut(), fields) {
        report.extend(fields);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    Ok(())
}

pub fn get(global: &GlobalOpts, key: &str, json: bool) -> CliResult {
    let path = config_path(global)?;
    let text = read(&path)?;
    let segs = key_path(key)?;
    let mut value = json5_edit::get(&text, &segs).map_err(|e| invalid(&path, e))?;
    if let Some(v) = &mut value {
        mask_url_passwords(v);
    }
    if json {
        if let Some(value) = value {
            return json_report(&segs, &path, serde_json::json!({ "value": value }));
        }
    }
    let mut out = std::io::stdout().lock();
    match value {
        Some(Value::String(s)) => writeln!(out, "{s}")?,
        Some(v) => writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?,
        None => {
            return Err(CliError::new(format!(
                "`{}` is not set in {}",
                PathDisplay(&segs),
                path.display()
            )))
        }
    }
    Ok(())
}

/// Replaces the password of every `scheme://user:password@host` URL in `value` with `****`:
/// a password written into a URL is a secret, and `config get` never prints one.
fn mask_url_passwords(value: &mut Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                if let Some(masked) = masked_url(s) {
                    *s = masked;
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.values_mut()),
            _ => {}
        }
    }
}

fn masked_url(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (user_info, host) = rest[..authority_end].rsplit_once('@')?;
    let user = user_info.split(':').next().unwrap_or("");
    Some(format!(
        "{scheme}://{user}:****@{host}{}",
        &rest[authority_end..]
    ))
}

/// VALUE as JSON5 when it parses (`true`, `3600`, `["anthropic"]`, `"x"`), else as a string
/// (`us-east-1`).
/// A value nested too deeply to parse safely stays a string too (the plugin then rejects it
/// with the key's name).
pub fn parse_value(text: &str) -> Value {
    if crate::config_file::check_depth(text).is_err() {
        return Value::String(text.to_string());
    }
    json5::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

pub fn set(global: &GlobalOpts, key: &str, value: &str, json: bool) -> CliResult {
    let path = config_path(global)?;
    let text = read(&path)?;
    let segs = key_path(key)?;
    let value = parse_value(value);
    let new_text = json5_edit::set(&text, &segs, &value).map_err(|e| {
        if text.trim().is_empty() {
            CliError::new(e)
        } else {
            CliError::new(format!(
                "cannot set `{}` in {}: {e}",
                PathDisplay(&segs),
                path.display()
            ))
        }
    })?;
    // The edit must have done exactly what was asked.
    if json5_edit::get(&new_text, &segs).ok().flatten().as_ref() != Some(&value) {
        return Err(CliError::new(format!(
            "internal error: editing {} did not produce the value; the file was left unchanged",
            path.display()
        )));
    }
    check_with_plugin(global, &path, &text, &new_text)?;
    write_atomically(&path, &new_text)?;
    if json {
        return json_report(&segs, &path, serde_json::json!({ "value": value }));
    }
    eprintln!(
        "set {} = {} in {}",
        PathDisplay(&segs),
        serde_json::to_string(&value)?,
        path.display()
    );
    Ok(())
}

pub fn unset(global: &GlobalOpts, key: &str, json: bool) -> CliResult {
    let path = config_path(global)?;
    let text = read(&path)?;
    let segs = key_path(key)?;
    let edited = json5_edit::unset(&text, &segs).map_err(|e| {
        CliError::new(format!(
            "cannot unset `{}` in {}: {e}",
            PathDisplay(&segs),
            path.display()
        ))
    })?;
    match edited {
        None if json => json_report(&segs, &path, serde_json::json!({ "removed": false })),
        None => {
            eprintln!(
                "`{}` was not set in {}; nothing changed",
                PathDisplay(&segs),
                path.display()
            );
            Ok(())
        }
        Some(new_text) => {
            check_with_plugin(global, &path, &text, &new_text)?;
            write_atomically(&path, &new_text)?;
            if json {
                return json_report(&segs, &path, serde_json::json!({ "removed": true }));
            }
            eprintln!("unset {} in {}", PathDisplay(&segs), path.display());
            Ok(())
        }
    }
}

/// Asks the plugin whether it accepts the new document. A configuration error the edit
/// introduced stops the write; one that was already there does not (the user may be fixing
/// the file one key at a time). Without a loadable plugin the file is written unchecked.
fn check_with_plugin(global: &GlobalOpts, path: &Path, old: &str, new: &str) -> CliResult {
    let plugin = match load_plugin(global) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "note: the change was not checked by a plugin ({})",
                e.message
            );
            return Ok(());
        }
    };
    match plugin.new_provider(new) {
        Ok(provider) => {
            for w in provider.config_warnings() {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        Err(e) if e.kind == ErrorKind::Config => {
            let was_broken = plugin
                .new_provider(old)
                .err()
                .is_some_and(|o| o.kind == ErrorKind::Config);
            if was_broken {
                eprintln!(
                    "warning: {} still has a configuration error: {}",
                    path.display(),
                    e.message
                );
                Ok(())
            } else {
                Err(CliError::new(format!(
                    "not written: the change makes {} invalid: {}",
                    path.display(),
                    e.message
                )))
            }
        }
        Err(_) => Ok(()),
    }
}

/// Replaces `path` with `text` so that readers see the old file or the new one, never a part:
/// a temporary file in the same directory (same file system), synced, then renamed.
pub fn write_atomically(path: &Path, text: &str) -> CliResult {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", dir.display())))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.json5".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(&target) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, &target)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::new(format!("cannot write {}: {e}", target.display()))
    })
}
