//! Audio (speech) in a request, for the models that take it: its format read from the bytes
//! (`infer`) where they say it, the label only where they cannot (S3, raw PCM).

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{AudioBlock, AudioFormat, AudioSource};
use host_sdk::{ProviderError, S3Location};

use super::media::{media_label, s3_location, MAX_VIDEO_BYTES};
use crate::errors::invalid_request;

/// The formats Bedrock's `AudioBlock` takes.
const FORMATS: &[&str] = &[
    "mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a", "mpeg",
    "mpga", "pcm", "webm",
];
/// The largest clip sent inline: the same bound as a video's (a larger one goes through S3).
pub const MAX_AUDIO_BYTES: usize = MAX_VIDEO_BYTES;

/// The audio format the bytes' signature says, named as Bedrock names it.
fn sniff_audio(data: &[u8]) -> Option<&'static str> {
    let kind = infer::get(data)?;
    Some(match kind.extension() {
        "mp3" => "mp3",
        "wav" => "wav",
        "flac" => "flac",
        "ogg" | "oga" => "ogg",
        "opus" => "opus",
        "m4a" => "m4a",
        "aac" => "aac",
        "mp4" => "mp4",
        "webm" => "webm",
        "mkv" => "mkv",
        _ => return None,
    })
}

/// An audio block from bytes (their format read from them; a label that disagrees is
/// overruled, as for images) or from S3 (the label says the format).
pub(super) fn audio_block(
    label: Option<&str>,
    data: &[u8],
    s3: Option<&S3Location>,
    at: &str,
) -> Result<AudioBlock, ProviderError> {
    let label = label.map(media_label);
    let checked_label = || match label.as_deref() {
        Some(l) if FORMATS.contains(&l) => Ok(l.to_string()),
        other => Err(invalid_request(format!(
            "{at}: audio format {other:?} is not one Bedrock takes; use {}",
            FORMATS.join(", ")
        ))),
    };
    let (format, source) = match s3 {
        Some(s3) => (
            checked_label()?,
            AudioSource::S3Location(s3_location(s3, data, at)?),
        ),
        None if data.is_empty() => {
            return Err(invalid_request(format!(
                "{at}: the audio is empty: give its bytes or its S3 location"
            )))
        }
        None if data.len() > MAX_AUDIO_BYTES => {
            return Err(invalid_request(format!(
                "{at}: the audio is {} bytes; at most {MAX_AUDIO_BYTES} go inline: upload it to S3 and give its location",
                data.len()
            )))
        }
        None => {
            let format = match sniff_audio(data) {
                Some(sniffed) => sniffed.to_string(),
                // Raw PCM has no signature: only its label can say.
                None if label.as_deref() == Some("pcm") => "pcm".to_string(),
                None => {
                    return Err(invalid_request(format!(
                        "{at}: the audio's bytes are not a format Bedrock takes ({}); raw PCM must be labelled `pcm`",
                        FORMATS.join(", ")
                    )))
                }
            };
            (format, AudioSource::Bytes(Blob::new(data.to_vec())))
        }
    };
    AudioBlock::builder()
        .format(AudioFormat::from(format.as_str()))
        .source(source)
        .build()
        .map_err(|e| invalid_request(format!("{at}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV header: RIFF, its size, WAVE, then an fmt chunk.
    fn wav() -> Vec<u8> {
        let mut bytes = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00".to_vec();
        bytes.extend([0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]);
        bytes.extend(b"data\x00\x00\x00\x00");
        bytes
    }

    #[test]
    fn the_bytes_say_the_format_and_raw_pcm_needs_its_label() {
        let block = audio_block(Some("mp3"), &wav(), None, "a").unwrap();
        assert_eq!(
            block.format(),
            &AudioFormat::Wav,
            "the bytes win over the label"
        );
        assert!(audio_block(None, &[0, 1, 2, 3], None, "a").is_err());
        let pcm = audio_block(Some("pcm"), &[0, 1, 2, 3], None, "a").unwrap();
        assert_eq!(pcm.format(), &AudioFormat::Pcm);
        let s3 = S3Location {
            uri: "s3://clips/a.flac".into(),
            bucket_owner: None,
        };
        assert!(
            audio_block(None, &[], Some(&s3), "a").is_err(),
            "S3 needs a label"
        );
        assert!(audio_block(Some("flac"), &[], Some(&s3), "a").is_ok());
    }
}
