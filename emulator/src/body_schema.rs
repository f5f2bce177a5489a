//! The checks of a model's own JSON body (InvokeModel, StartAsyncInvoke's `modelInput`), in
//! the words of Bedrock's schema validation: `#/path: what was expected`, inside its
//! "Malformed input request" message.

use serde_json::{Map, Value};

use crate::error::{malformed, ApiError};

/// Refuses keys outside `allowed`, as Bedrock's schema validation words it.
pub fn only_keys(at: &str, object: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(extra) => Err(malformed(format!(
            "{at}: extraneous key [{extra}] is not permitted"
        ))),
        None => Ok(()),
    }
}

pub fn one_of<T: PartialEq + std::fmt::Display>(
    at: &str,
    value: T,
    allowed: &[T],
) -> Result<T, ApiError> {
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(malformed(format!(
            "{at}: {value} is not a valid enum value"
        )))
    }
}

pub fn text_at<'a>(at: &str, value: &'a Value, max: usize) -> Result<&'a str, ApiError> {
    let text = value.as_str().ok_or_else(|| {
        malformed(format!(
            "{at}: expected type: String, found: {}",
            kind(value)
        ))
    })?;
    let length = text.chars().count();
    if length == 0 {
        return Err(malformed(format!("{at}: expected minLength: 1, actual: 0")));
    }
    if length > max {
        return Err(malformed(format!(
            "{at}: expected maxLength: {max}, actual: {length}"
        )));
    }
    Ok(text)
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "JSONArray",
        Value::Object(_) => "JSONObject",
    }
}

pub fn whole(at: &str, value: &Value) -> Result<u64, ApiError> {
    value.as_u64().ok_or_else(|| {
        malformed(format!(
            "{at}: expected type: Integer, found: {}",
            kind(value)
        ))
    })
}

/// A list of names, each one of `allowed` (Titan's `embeddingTypes`, Cohere's
/// `embedding_types`).
pub fn names_in<'a>(
    at: &str,
    value: &'a Value,
    allowed: &[&'a str],
) -> Result<Vec<&'a str>, ApiError> {
    let list = value
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| malformed(format!("{at}: expected minItems: 1, actual: 0")))?;
    list.iter()
        .enumerate()
        .map(|(i, name)| {
            one_of(
                &format!("{at}/{i}"),
                name.as_str().unwrap_or_default(),
                allowed,
            )
        })
        .collect()
}

pub fn object_at<'a>(at: &str, value: &'a Value) -> Result<&'a Map<String, Value>, ApiError> {
    value.as_object().ok_or_else(|| {
        malformed(format!(
            "{at}: expected type: JSONObject, found: {}",
            kind(value)
        ))
    })
}

pub fn image_bytes(at: &str, value: &Value) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    let text = value.as_str().ok_or_else(|| {
        malformed(format!(
            "{at}: expected type: String, found: {}",
            kind(value)
        ))
    })?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| ApiError::validation("Invalid image input: the image is not valid base64."))
}
