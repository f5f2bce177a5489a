//! Media in a request: images, documents and videos, as bytes (checked from the bytes
//! themselves) or as Amazon S3 locations, within Bedrock's limits.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    DocumentBlock, DocumentContentBlock, DocumentFormat, DocumentSource, ImageBlock, ImageFormat,
    ImageSource, S3Location as BedrockS3Location, VideoBlock, VideoFormat, VideoSource,
};
use host_sdk::{ProviderError, S3Location};

use crate::errors::invalid_request;

/// Bedrock's limits on inline binary content.
pub const MAX_IMAGE_BYTES: usize = 3_750_000;
pub const MAX_DOCUMENT_BYTES: usize = 4_500_000;
/// Bedrock's limit on an inline video (larger ones go through S3).
pub const MAX_VIDEO_BYTES: usize = 25_000_000;

/// The image format, from the bytes' signature (a label is only checked against it).
pub fn sniff_image(data: &[u8]) -> Option<ImageFormat> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(ImageFormat::Jpeg)
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// An image from bytes (its format read from them) or from S3 (its format from `label`).
pub(super) fn image_block(
    label: Option<&str>,
    data: &[u8],
    s3: Option<&S3Location>,
    at: &str,
) -> Result<ImageBlock, ProviderError> {
    if let Some(s3) = s3 {
        let format = match label.map(media_label).as_deref() {
            Some("png") => ImageFormat::Png,
            Some("jpeg") | Some("jpg") => ImageFormat::Jpeg,
            Some("gif") => ImageFormat::Gif,
            Some("webp") => ImageFormat::Webp,
            other => {
                return Err(invalid_request(format!(
                    "{at}: an image in S3 needs its format (png, jpeg, gif or webp), got {other:?}"
                )))
            }
        };
        return ImageBlock::builder()
            .format(format)
            .source(ImageSource::S3Location(s3_location(s3, data, at)?))
            .build()
            .map_err(|e| invalid_request(format!("{at}: {e}")));
    }
    if data.len() > MAX_IMAGE_BYTES {
        return Err(invalid_request(format!(
            "{at}: the image is {} bytes; Bedrock accepts at most {MAX_IMAGE_BYTES} bytes per image: resize or recompress it",
            data.len()
        )));
    }
    let format = sniff_image(data).ok_or_else(|| {
        invalid_request(format!(
            "{at}: the image is not PNG, JPEG, GIF or WebP (checked from its bytes)"
        ))
    })?;
    if let Some(label) = label {
        let label = label.trim().to_ascii_lowercase().replace("image/", "");
        let label = if label == "jpg" {
            "jpeg".to_string()
        } else {
            label
        };
        if label != format.as_str() {
            tracing::debug!(
                "{at}: image labelled {label} is really {}; sending {}",
                format.as_str(),
                format.as_str()
            );
        }
    }
    ImageBlock::builder()
        .format(format)
        .source(ImageSource::Bytes(Blob::new(data.to_vec())))
        .build()
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}

/// Where a document's words are: exactly one of its bytes, an S3 location, plain text, or
/// chunks of text.
pub(super) struct DocumentBody<'a> {
    pub data: &'a [u8],
    pub s3: Option<&'a S3Location>,
    pub text: Option<&'a str>,
    pub content: &'a [String],
}

pub(super) fn document_block(
    format: &str,
    name: &str,
    body: DocumentBody<'_>,
    at: &str,
) -> Result<DocumentBlock, ProviderError> {
    let format = match format.trim().to_ascii_lowercase().as_str() {
        "pdf" => DocumentFormat::Pdf,
        "csv" => DocumentFormat::Csv,
        "doc" => DocumentFormat::Doc,
        "docx" => DocumentFormat::Docx,
        "xls" => DocumentFormat::Xls,
        "xlsx" => DocumentFormat::Xlsx,
        "html" | "htm" => DocumentFormat::Html,
        "txt" | "text" => DocumentFormat::Txt,
        "md" | "markdown" => DocumentFormat::Md,
        other => {
            return Err(invalid_request(format!(
                "{at}: document format \"{other}\" is not supported; use pdf, csv, doc, docx, xls, xlsx, html, txt or md"
            )))
        }
    };
    let sources = [
        !body.data.is_empty() && body.s3.is_none(),
        body.s3.is_some(),
        body.text.is_some(),
        !body.content.is_empty(),
    ];
    if sources.iter().filter(|s| **s).count() > 1 {
        return Err(invalid_request(format!(
            "{at}: a document is given one way: its bytes (`data`), an S3 location (`s3`), plain `text`, or `content` chunks; this one has several"
        )));
    }
    let as_text = body.text.is_some() || !body.content.is_empty();
    let text_bytes =
        body.text.map_or(0, str::len) + body.content.iter().map(String::len).sum::<usize>();
    if text_bytes > MAX_DOCUMENT_BYTES {
        return Err(invalid_request(format!(
            "{at}: the document's text is {text_bytes} bytes; Bedrock accepts at most {MAX_DOCUMENT_BYTES} bytes per document"
        )));
    }
    if as_text && ![DocumentFormat::Txt, DocumentFormat::Md].contains(&format) {
        return Err(invalid_request(format!(
            "{at}: a document given as text is a txt or md document, not {}",
            format.as_str()
        )));
    }
    let source = match (body.s3, body.text) {
        (Some(s3), _) => DocumentSource::S3Location(s3_location(s3, body.data, at)?),
        (None, Some(text)) if text.trim().is_empty() => {
            return Err(invalid_request(format!(
                "{at}: the document's text is empty"
            )))
        }
        (None, Some(text)) => DocumentSource::Text(text.to_string()),
        (None, None) if !body.content.is_empty() => {
            if body.content.iter().any(|c| c.trim().is_empty()) {
                return Err(invalid_request(format!(
                    "{at}: a chunk of the document's content is empty"
                )));
            }
            DocumentSource::Content(
                body.content
                    .iter()
                    .map(|c| DocumentContentBlock::Text(c.clone()))
                    .collect(),
            )
        }
        (None, None) => {
            DocumentSource::Bytes(Blob::new(document_bytes(format.clone(), body.data, at)?))
        }
    };
    DocumentBlock::builder()
        .format(format)
        .name(document_name(name))
        .source(source)
        .build()
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}

/// A document's bytes, within Bedrock's limit and of the format they are labelled.
fn document_bytes(format: DocumentFormat, data: &[u8], at: &str) -> Result<Vec<u8>, ProviderError> {
    if data.is_empty() {
        return Err(invalid_request(format!("{at}: the document is empty")));
    }
    if data.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid_request(format!(
            "{at}: the document is {} bytes; Bedrock accepts at most {MAX_DOCUMENT_BYTES} bytes per document",
            data.len()
        )));
    }
    if format == DocumentFormat::Pdf && !data.starts_with(b"%PDF") {
        return Err(invalid_request(format!(
            "{at}: the document is labelled pdf but is not a PDF"
        )));
    }
    Ok(data.to_vec())
}

/// Bedrock document names allow letters, digits, whitespace, hyphens, parentheses and
/// brackets, with no consecutive whitespace.
pub(super) fn document_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_alphanumeric() || "-()[]".contains(c) {
            c
        } else {
            ' '
        };
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    let out = out.trim().to_string();
    if out.is_empty() {
        "document".into()
    } else {
        out
    }
}

/// A video from bytes or from S3.
pub(super) fn video_block(
    format: &str,
    data: &[u8],
    s3: Option<&S3Location>,
    at: &str,
) -> Result<VideoBlock, ProviderError> {
    let format = match media_label(format).as_str() {
        "mp4" => VideoFormat::Mp4,
        "mov" => VideoFormat::Mov,
        "mkv" => VideoFormat::Mkv,
        "webm" => VideoFormat::Webm,
        "flv" => VideoFormat::Flv,
        "mpeg" => VideoFormat::Mpeg,
        "mpg" => VideoFormat::Mpg,
        "wmv" => VideoFormat::Wmv,
        "three_gp" | "3gp" => VideoFormat::ThreeGp,
        other => {
            return Err(invalid_request(format!(
                "{at}: video format \"{other}\" is not supported; use mp4, mov, mkv, webm, flv, mpeg, mpg, wmv or three_gp"
            )))
        }
    };
    let source = match s3 {
        Some(s3) => VideoSource::S3Location(s3_location(s3, data, at)?),
        None if data.is_empty() => {
            return Err(invalid_request(format!(
                "{at}: the video is empty: give its bytes or its S3 location"
            )))
        }
        None if data.len() > MAX_VIDEO_BYTES => {
            return Err(invalid_request(format!(
                "{at}: the video is {} bytes; Bedrock takes at most {MAX_VIDEO_BYTES} bytes inline: upload it to S3 and give its location",
                data.len()
            )))
        }
        None => VideoSource::Bytes(Blob::new(data.to_vec())),
    };
    VideoBlock::builder()
        .format(format)
        .source(source)
        .build()
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}

/// A media label in the form the lists above use (`image/png` is `png`).
pub(super) fn media_label(label: &str) -> String {
    let label = label.trim().to_ascii_lowercase();
    label
        .rsplit_once('/')
        .map_or(label.clone(), |(_, l)| l.to_string())
}

/// An S3 location as Bedrock takes it: `s3://bucket/key`, an owner of 12 digits, and no
/// bytes besides it.
pub(super) fn s3_location(
    s3: &S3Location,
    data: &[u8],
    at: &str,
) -> Result<BedrockS3Location, ProviderError> {
    if !data.is_empty() {
        return Err(invalid_request(format!(
            "{at}: give the bytes or the S3 location, not both"
        )));
    }
    let path = s3.uri.strip_prefix("s3://").unwrap_or("");
    let valid = path
        .split_once('/')
        .is_some_and(|(bucket, key)| !bucket.is_empty() && !key.is_empty());
    if !valid {
        return Err(invalid_request(format!(
            "{at}: the S3 location {:?} is not s3://<bucket>/<key>",
            s3.uri
        )));
    }
    if let Some(owner) = &s3.bucket_owner {
        if owner.len() != 12 || !owner.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid_request(format!(
                "{at}: bucketOwner must be the 12-digit account id of the bucket's owner, got {owner:?}"
            )));
        }
    }
    BedrockS3Location::builder()
        .uri(&s3.uri)
        .set_bucket_owner(s3.bucket_owner.clone())
        .build()
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}
