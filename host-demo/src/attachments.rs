//! `-a FILE`: files attached to the prompt, each as the content block its bytes say it is
//! (images, videos, audio and PDFs by their signature, with `infer`; office documents and
//! text by their name).

use std::path::Path;

use host_sdk::ContentBlock;

use crate::error::{CliError, CliResult};

/// The attachment at `path` as a content block.
pub fn block(path: &Path) -> CliResult<ContentBlock> {
    refuse_addresses(path)?;
    let data = std::fs::read(path)
        .map_err(|e| CliError::new(format!("cannot read attachment {}: {e}", path.display())))?;
    if data.is_empty() {
        return Err(CliError::new(format!(
            "attachment {} is empty",
            path.display()
        )));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let sniffed = infer::get(&data).map(|t| t.extension());
    if let Some(media) = sniffed.and_then(|kind| media(kind, &data)) {
        return Ok(media);
    }
    Ok(match sniffed {
        Some("pdf") => document(path, "pdf", data),
        // Office files are zip or OLE containers: their name says which.
        Some("zip" | "docx" | "xlsx" | "doc" | "xls" | "msi")
            if ["docx", "xlsx", "doc", "xls"].contains(&extension.as_str()) =>
        {
            document(path, &extension, data)
        }
        Some(other) => {
            return Err(CliError::new(format!(
                "attachment {} is a {other} file, which models cannot read: attach images (png, jpeg, gif, webp), videos (mp4, mov, webm, ...), audio (mp3, wav, flac, ogg, m4a, ...), PDFs, office documents or text",
                path.display()
            )))
        }
        None if std::str::from_utf8(&data).is_ok() => {
            let format = match extension.as_str() {
                "md" | "markdown" => "md",
                "csv" => "csv",
                "html" | "htm" => "html",
                _ => "txt",
            };
            document(path, format, data)
        }
        None => {
            return Err(CliError::new(format!(
                "attachment {} is neither a known media type nor text",
                path.display()
            )))
        }
    })
}

/// An image, a video or an audio clip, by the kind its signature says (`infer`'s name).
fn media(kind: &str, data: &[u8]) -> Option<ContentBlock> {
    let image = |format: &str| ContentBlock::Image {
        format: Some(format.into()),
        data: data.to_vec(),
        s3: None,
    };
    let video = |format: &str| ContentBlock::Video {
        format: format.into(),
        data: data.to_vec(),
        s3: None,
    };
    let audio = |format: &str| ContentBlock::Audio {
        format: Some(format.into()),
        data: data.to_vec(),
        s3: None,
    };
    Some(match kind {
        "png" => image("png"),
        "jpg" => image("jpeg"),
        "gif" => image("gif"),
        "webp" => image("webp"),
        "mp4" => video("mp4"),
        "mov" => video("mov"),
        "webm" => video("webm"),
        "mkv" => video("mkv"),
        "flv" => video("flv"),
        "wmv" => video("wmv"),
        "mpg" => video("mpeg"),
        "3gp" => video("three_gp"),
        "mp3" => audio("mp3"),
        "wav" => audio("wav"),
        "flac" => audio("flac"),
        "ogg" | "oga" => audio("ogg"),
        "opus" => audio("opus"),
        "m4a" => audio("m4a"),
        "aac" => audio("aac"),
        _ => return None,
    })
}

/// A web address is not a file: say so, rather than "no such file".
fn refuse_addresses(path: &Path) -> CliResult<()> {
    let written = path.to_string_lossy();
    if !["http://", "https://", "s3://"]
        .iter()
        .any(|scheme| written.starts_with(scheme))
    {
        return Ok(());
    }
    Err(CliError::new(format!(
        "-a {written}: attachments are local files, and host-demo does not download them"
    ))
    .with_hint(if written.starts_with("s3://") {
        "a request document can name S3 media (`image`/`document`/`video` with `s3: {uri}`): see --request"
    } else {
        "download it first (curl -LO URL), then attach the file"
    }))
}

fn document(path: &Path, format: &str, data: Vec<u8>) -> ContentBlock {
    ContentBlock::Document {
        format: format.into(),
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into()),
        data,
        citations: false,
        s3: None,
        text: None,
        content: Vec::new(),
        context: None,
    }
}
