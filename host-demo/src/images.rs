//! Images a model made (the `image` extension event): saved as files, since a terminal
//! cannot show them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

/// Writes the image of an `image` event into `dir` as `image-<unix ms>-<block>.<format>`,
/// and says where; `Err` says why there is no file (the model's own error, or the disk's).
pub fn save(dir: &Path, data: &Value) -> Result<PathBuf, String> {
    if let Some(why) = data["error"].as_str() {
        return Err(format!("the model could not make the image: {why}"));
    }
    let format = data["format"].as_str().unwrap_or("png");
    // The format names the file's extension: only the ones Bedrock sends.
    if !["png", "jpeg", "gif", "webp"].contains(&format) {
        return Err(format!(
            "the image's format {format:?} is not one this host saves"
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data["data"].as_str().unwrap_or(""))
        .map_err(|e| format!("the image's data is not base64: {e}"))?;
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let index = data["index"].as_u64().unwrap_or(0);
    let path = dir.join(format!("image-{millis}-{index}.{format}"));
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
