//! Saved conversations (`chat --conversation NAME`, `chat --continue`): each is the
//! contract's own request document (model, system prompt and every turn so far), one JSON
//! file per name in `$HOST_DEMO_DATA_DIR`, else `<platform data dir>/host-demo/conversations`.

use std::path::PathBuf;

use host_sdk::ConverseRequest;

use crate::error::{CliError, CliResult};

fn dir() -> CliResult<PathBuf> {
    match std::env::var_os("HOST_DEMO_DATA_DIR") {
        Some(d) if !d.is_empty() => Ok(PathBuf::from(d).join("conversations")),
        _ => dirs::data_dir()
            .map(|d| d.join("host-demo").join("conversations"))
            .ok_or_else(|| {
                CliError::new("no data directory on this platform: set HOST_DEMO_DATA_DIR")
            }),
    }
}

fn path(name: &str) -> CliResult<PathBuf> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if !valid {
        return Err(CliError::new(format!(
            "--conversation {name:?}: use letters, digits, `-`, `_` and `.` (not first)"
        )));
    }
    Ok(dir()?.join(format!("{name}.json")))
}

/// The saved conversation `name`, or `None` when there is none yet.
pub fn load(name: &str) -> CliResult<Option<ConverseRequest>> {
    let path = path(name)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::new(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        CliError::new(format!(
            "{} is not a saved conversation ({e}); move it away to start over",
            path.display()
        ))
    })
}

/// Saves `conversation` as `name`, replacing the file atomically.
pub fn save(name: &str, conversation: &ConverseRequest) -> CliResult {
    let path = path(name)?;
    let dir = path
        .parent()
        .expect("a conversation file is in a directory");
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", dir.display())))?;
    let text = serde_json::to_string_pretty(conversation)
        .map_err(|e| CliError::new(format!("cannot write the conversation: {e}")))?;
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| CliError::new(format!("cannot save {}: {e}", path.display())))
}

/// Where the interactive chat keeps its line history.
pub fn history_file() -> Option<PathBuf> {
    dir().ok()?.parent().map(|d| d.join("history.txt"))
}

/// Every saved conversation's name and when it was last saved, newest first.
pub fn saved() -> CliResult<Vec<(String, std::time::SystemTime)>> {
    let mut found: Vec<(String, std::time::SystemTime)> = std::fs::read_dir(dir()?)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            Some((
                e.path().file_stem()?.to_string_lossy().into_owned(),
                modified,
            ))
        })
        .collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(found)
}

/// The name of the most recently saved conversation.
pub fn latest() -> CliResult<String> {
    let dir = dir()?;
    saved()?
        .into_iter()
        .next()
        .map(|(name, _)| name)
        .ok_or_else(|| {
            CliError::new(format!(
                "no saved conversation to continue in {}: start one with --conversation NAME",
                dir.display()
            ))
        })
}
