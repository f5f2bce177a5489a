//! The `modelInput` of a video generation job (StartAsyncInvoke), checked as Bedrock checks
//! Nova Reel's: the task types each version takes, the text lengths, one start image of
//! 1280x720 as PNG or JPEG, and the only duration, frame rate and size Nova Reel makes
//! (6 s shots at 24 fps in 1280x720; 12 to 120 s in steps of 6 for an automated multi-shot
//! video).

use serde_json::{Map, Value};

use crate::body_schema::{image_bytes, kind, object_at, one_of, only_keys, text_at, whole};
use crate::catalogue::FoundationModel;
use crate::error::{malformed, ApiError};

/// The task types of each Nova Reel version.
fn task_types(model: &FoundationModel) -> Option<&'static [&'static str]> {
    match model.id {
        "amazon.nova-reel-v1:0" => Some(&["TEXT_VIDEO"]),
        "amazon.nova-reel-v1:1" => {
            Some(&["TEXT_VIDEO", "MULTI_SHOT_AUTOMATED", "MULTI_SHOT_MANUAL"])
        }
        _ => None,
    }
}

/// Refuses a model that is not invoked asynchronously, or an input it cannot take.
pub fn check_input(model: &FoundationModel, input: &Value) -> Result<(), ApiError> {
    let Some(types) = task_types(model) else {
        return Err(ApiError::validation(format!(
            "The provided model {} does not support asynchronous invocation; call it with InvokeModel or Converse.",
            model.id
        )));
    };
    let input = object_at("#", input)?;
    let task = input
        .get("taskType")
        .ok_or_else(|| malformed("#: required key [taskType] not found"))?;
    let task = one_of("#/taskType", task.as_str().unwrap_or_default(), types)?;
    let params = match task {
        "TEXT_VIDEO" => "textToVideoParams",
        "MULTI_SHOT_AUTOMATED" => "multiShotAutomatedParams",
        _ => "multiShotManualParams",
    };
    only_keys("#", input, &["taskType", params, "videoGenerationConfig"])?;
    let given = input
        .get(params)
        .ok_or_else(|| malformed(format!("#: required key [{params}] not found")))?;
    let given = object_at(&format!("#/{params}"), given)?;
    match task {
        "TEXT_VIDEO" => shot(&format!("#/{params}"), given, "images")?,
        "MULTI_SHOT_AUTOMATED" => {
            only_keys("#/multiShotAutomatedParams", given, &["text"])?;
            let text = given.get("text").unwrap_or(&Value::Null);
            text_at("#/multiShotAutomatedParams/text", text, 4000)?;
        }
        _ => shots(given)?,
    }
    generation_config(task, input.get("videoGenerationConfig"))
}

/// One shot's text (1 to 512 characters) and its optional start frame (under `image_key`:
/// `images`, a list of one, for a single video; `image` for a manual shot).
fn shot(at: &str, shot: &Map<String, Value>, image_key: &str) -> Result<(), ApiError> {
    only_keys(at, shot, &["text", image_key])?;
    text_at(
        &format!("{at}/text"),
        shot.get("text").unwrap_or(&Value::Null),
        512,
    )?;
    match (image_key, shot.get(image_key)) {
        (_, None) => Ok(()),
        ("images", Some(Value::Array(images))) if images.len() == 1 => {
            start_frame(&format!("{at}/images/0"), &images[0])
        }
        ("images", Some(other)) => Err(malformed(format!(
            "{at}/images: expected one image, found: {}",
            other
                .as_array()
                .map_or(kind(other).to_string(), |l| l.len().to_string())
        ))),
        (_, Some(image)) => start_frame(&format!("{at}/{image_key}"), image),
    }
}

fn shots(params: &Map<String, Value>) -> Result<(), ApiError> {
    only_keys("#/multiShotManualParams", params, &["shots"])?;
    let shots = params
        .get("shots")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("#/multiShotManualParams: required key [shots] not found"))?;
    if !(2..=20).contains(&shots.len()) {
        return Err(malformed(format!(
            "#/multiShotManualParams/shots: expected between 2 and 20 shots, found: {}",
            shots.len()
        )));
    }
    for (i, one) in shots.iter().enumerate() {
        let at = format!("#/multiShotManualParams/shots/{i}");
        shot(&at, object_at(&at, one)?, "image")?;
    }
    Ok(())
}

/// A start frame: PNG or JPEG, from bytes or S3, 1280x720 when its bytes are given.
fn start_frame(at: &str, image: &Value) -> Result<(), ApiError> {
    let image = object_at(at, image)?;
    only_keys(at, image, &["format", "source"])?;
    let format = image
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or_default();
    one_of(&format!("{at}/format"), format, &["png", "jpeg"])?;
    let source = object_at(
        &format!("{at}/source"),
        image.get("source").unwrap_or(&Value::Null),
    )?;
    if source.contains_key("s3Location") && source.len() == 1 {
        return Ok(());
    }
    only_keys(&format!("{at}/source"), source, &["bytes"])?;
    let bytes = image_bytes(
        &format!("{at}/source/bytes"),
        source.get("bytes").unwrap_or(&Value::Null),
    )?;
    match imagesize::blob_size(&bytes) {
        Ok(size) if size.width == 1280 && size.height == 720 => Ok(()),
        Ok(size) => Err(ApiError::validation(format!(
            "The start frame must be 1280x720 pixels; this one is {}x{}.",
            size.width, size.height
        ))),
        Err(_) => Err(ApiError::validation(
            "The start frame could not be read as a PNG or JPEG image.",
        )),
    }
}

/// `videoGenerationConfig`: 24 fps, 1280x720, a seed up to 2,147,483,646, and a duration of 6 s
/// (single video) or 12 to 120 s in steps of 6 (automated multi-shot, where it is required).
fn generation_config(task: &str, config: Option<&Value>) -> Result<(), ApiError> {
    let at = "#/videoGenerationConfig";
    let Some(config) = config else {
        return if task == "MULTI_SHOT_AUTOMATED" {
            Err(malformed(
                "#: required key [videoGenerationConfig] not found",
            ))
        } else {
            Ok(())
        };
    };
    let config = object_at(at, config)?;
    only_keys(at, config, &["durationSeconds", "fps", "dimension", "seed"])?;
    if let Some(fps) = config.get("fps") {
        one_of(
            &format!("{at}/fps"),
            whole(&format!("{at}/fps"), fps)?,
            &[24],
        )?;
    }
    if let Some(dimension) = config.get("dimension") {
        let dimension = dimension.as_str().unwrap_or_default();
        one_of(&format!("{at}/dimension"), dimension, &["1280x720"])?;
    }
    if let Some(seed) = config.get("seed") {
        let seed = whole(&format!("{at}/seed"), seed)?;
        if seed > 2_147_483_646 {
            return Err(malformed(format!(
                "{at}/seed: {seed} is not less or equal to 2147483646"
            )));
        }
    }
    let duration = match config.get("durationSeconds") {
        Some(d) => Some(whole(&format!("{at}/durationSeconds"), d)?),
        None => None,
    };
    match (task, duration) {
        ("MULTI_SHOT_AUTOMATED", Some(d)) if (12..=120).contains(&d) && d.is_multiple_of(6) => {
            Ok(())
        }
        ("MULTI_SHOT_AUTOMATED", Some(d)) => Err(malformed(format!(
            "{at}/durationSeconds: {d} is not a multiple of 6 between 12 and 120"
        ))),
        ("MULTI_SHOT_AUTOMATED", None) => Err(malformed(format!(
            "{at}: required key [durationSeconds] not found"
        ))),
        ("TEXT_VIDEO", Some(d)) => one_of(&format!("{at}/durationSeconds"), d, &[6]).map(|_| ()),
        _ => Ok(()),
    }
}
