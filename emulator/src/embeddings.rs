//! InvokeModel for Bedrock's embedding models, each family's body checked as Bedrock checks
//! it (unknown keys, values outside an enum, too many texts, a text too long: the same
//! "Malformed input request" messages) and answered with deterministic vectors: each word
//! of a text adds a vector seeded by the word, so the same input always gives the same
//! vector and texts sharing words are close (a similarity ranking means something).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::body_schema::{
    image_bytes, kind, names_in, object_at, one_of, only_keys, text_at, whole,
};
use crate::catalogue::FoundationModel;
use crate::error::{malformed, ApiError};
use crate::json_http::{decode_segment, json_response};
use crate::runtime::{resolve_any_model, INVALID_MODEL};
use crate::state::State;

/// The request and response bodies a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    TitanTextV1,
    TitanTextV2,
    TitanMultimodal,
    CohereV3,
    CohereV4,
    Nova,
}

fn family(model: &FoundationModel) -> Option<Family> {
    Some(match model.id {
        "amazon.titan-embed-text-v1" => Family::TitanTextV1,
        "amazon.titan-embed-text-v2:0" => Family::TitanTextV2,
        "amazon.titan-embed-image-v1" => Family::TitanMultimodal,
        "cohere.embed-english-v3" | "cohere.embed-multilingual-v3" => Family::CohereV3,
        "cohere.embed-v4:0" => Family::CohereV4,
        "amazon.nova-2-multimodal-embeddings-v1:0" => Family::Nova,
        _ => return None,
    })
}

/// Bedrock's wording for a body that breaks the model's schema.
/// POST /model/{id}/invoke.
pub fn invoke(state: &Arc<State>, raw_id: &str, body: &Bytes) -> Result<Response<Body>, ApiError> {
    let path_id = decode_segment(raw_id).ok_or_else(|| ApiError::validation(INVALID_MODEL))?;
    let model = resolve_any_model(state, &path_id)?;
    let Some(family) = family(model) else {
        return Err(ApiError::validation(format!(
            "The emulator serves InvokeModel for embedding models only; {} is not one (use Converse or ConverseStream)",
            model.id
        )));
    };
    if let Some(scenario) = state.scenario_for(&[&path_id, model.id]) {
        if let Some(n) = scenario.throttle_first {
            if state.should_throttle(&format!("invoke:{}", model.id), n) {
                return Err(ApiError::throttling());
            }
        }
        if let Some(err) = &scenario.error {
            return Err(ApiError::new(
                err.status
                    .unwrap_or_else(|| crate::error::status_for_error_type(&err.error_type)),
                err.error_type.clone(),
                err.message
                    .clone()
                    .unwrap_or_else(|| format!("Emulated {}.", err.error_type)),
            ));
        }
    }
    let request = &crate::error::json_object(body)?;
    let (answer, tokens) = match family {
        Family::TitanTextV1 | Family::TitanTextV2 | Family::TitanMultimodal => {
            titan(family, request)?
        }
        Family::CohereV3 | Family::CohereV4 => cohere(family, request)?,
        Family::Nova => nova(request)?,
    };
    let mut response = json_response(answer.to_string());
    let headers = response.headers_mut();
    headers.insert(
        "x-amzn-bedrock-input-token-count",
        HeaderValue::from(tokens),
    );
    headers.insert("x-amzn-bedrock-invocation-latency", HeaderValue::from(3u64));
    Ok(response)
}

fn tokens_of(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// What a Titan body asks for besides its input.
struct TitanOptions<'a> {
    dimensions: u64,
    normalize: bool,
    types: Vec<&'a str>,
}

fn titan_options(
    family: Family,
    request: &Map<String, Value>,
) -> Result<TitanOptions<'_>, ApiError> {
    let mut options = TitanOptions {
        dimensions: if family == Family::TitanTextV1 {
            1536
        } else {
            1024
        },
        normalize: family != Family::TitanMultimodal,
        types: vec!["float"],
    };
    if let Some(d) = request.get("dimensions") {
        options.dimensions = one_of("#/dimensions", whole("#/dimensions", d)?, &[256, 512, 1024])?;
    }
    if let Some(n) = request.get("normalize") {
        options.normalize = n.as_bool().ok_or_else(|| {
            malformed(format!(
                "#/normalize: expected type: Boolean, found: {}",
                kind(n)
            ))
        })?;
    }
    if let Some(t) = request.get("embeddingTypes") {
        options.types = names_in("#/embeddingTypes", t, &["float", "binary"])?;
    }
    if let Some(config) = request.get("embeddingConfig") {
        let config = object_at("#/embeddingConfig", config)?;
        only_keys("#/embeddingConfig", config, &["outputEmbeddingLength"])?;
        if let Some(length) = config.get("outputEmbeddingLength") {
            let at = "#/embeddingConfig/outputEmbeddingLength";
            options.dimensions = one_of(at, whole(at, length)?, &[256, 384, 1024])?;
        }
    }
    Ok(options)
}

fn titan(family: Family, request: &Map<String, Value>) -> Result<(Value, u64), ApiError> {
    let allowed: &[&str] = match family {
        Family::TitanTextV1 => &["inputText"],
        Family::TitanTextV2 => &["inputText", "dimensions", "normalize", "embeddingTypes"],
        _ => &["inputText", "inputImage", "embeddingConfig"],
    };
    only_keys("#", request, allowed)?;
    let text = request
        .get("inputText")
        .map(|t| text_at("#/inputText", t, 50_000))
        .transpose()?;
    let image = match request.get("inputImage") {
        Some(image) => Some(image_bytes("#/inputImage", image)?),
        None => None,
    };
    let options = titan_options(family, request)?;
    let dimensions = options.dimensions as usize;
    let mut vector = match (text, &image) {
        (Some(text), None) => text_vector(text, dimensions),
        (None, Some(image)) => bytes_vector(image, dimensions),
        // Both: the average of the two, as Titan Multimodal documents.
        (Some(text), Some(image)) => text_vector(text, dimensions)
            .iter()
            .zip(bytes_vector(image, dimensions))
            .map(|(a, b)| (a + b) / 2.0)
            .collect(),
        (None, None) => {
            return Err(malformed(match family {
                Family::TitanMultimodal => "#: at least one of [inputText, inputImage] is required",
                _ => "#: required key [inputText] not found",
            }));
        }
    };
    if options.normalize {
        unit(&mut vector);
    }
    let tokens = text.map(tokens_of).unwrap_or(0);
    let mut answer = json!({ "inputTextTokenCount": tokens });
    if options.types.contains(&"float") {
        answer["embedding"] = json!(vector);
    }
    if family == Family::TitanTextV2 {
        // Titan's binary: one 0/1 value per dimension.
        let by_type: Map<String, Value> = options
            .types
            .iter()
            .map(|&t| {
                let values: Vec<f32> = match t {
                    "binary" => vector
                        .iter()
                        .map(|v| f32::from(u8::from(*v > 0.0)))
                        .collect(),
                    _ => vector.clone(),
                };
                (t.to_string(), json!(values))
            })
            .collect();
        answer["embeddingsByType"] = Value::Object(by_type);
    }
    Ok((answer, tokens))
}

const COHERE_TYPES: &[&str] = &["float", "int8", "uint8", "binary", "ubinary"];

/// What a Cohere call embeds: unit vectors, the texts (lower-cased, as Cohere echoes them)
/// and their tokens.
struct CohereInputs {
    vectors: Vec<Vec<f32>>,
    texts: Vec<String>,
    tokens: u64,
}

fn cohere(family: Family, request: &Map<String, Value>) -> Result<(Value, u64), ApiError> {
    let mut allowed = vec![
        "texts",
        "images",
        "input_type",
        "truncate",
        "embedding_types",
    ];
    if family == Family::CohereV4 {
        allowed.extend(["output_dimension", "max_tokens", "inputs"]);
    }
    only_keys("#", request, &allowed)?;
    let input_type = request
        .get("input_type")
        .ok_or_else(|| malformed("#: required key [input_type] not found"))?;
    let input_type = one_of(
        "#/input_type",
        input_type.as_str().unwrap_or_default(),
        &[
            "search_document",
            "search_query",
            "classification",
            "clustering",
            "image",
        ],
    )?;
    if let Some(truncate) = request.get("truncate") {
        one_of(
            "#/truncate",
            truncate.as_str().unwrap_or_default(),
            &["NONE", "START", "END"],
        )?;
    }
    let dimensions = match request.get("output_dimension") {
        Some(d) => one_of(
            "#/output_dimension",
            whole("#/output_dimension", d)?,
            &[256, 512, 1024, 1536],
        )?,
        None if family == Family::CohereV4 => 1536,
        None => 1024,
    } as usize;
    let inputs = match (request.get("texts"), request.get("images")) {
        (Some(texts), None) => cohere_texts(family, texts, dimensions)?,
        (None, Some(images)) if input_type == "image" => cohere_image(images, dimensions)?,
        (None, Some(_)) => {
            return Err(malformed("images require input_type image"));
        }
        (Some(_), Some(_)) => return Err(malformed("#: only one of [texts, images] may be given")),
        (None, None) => return Err(malformed("#: required key [texts] not found")),
    };
    let id = format!("{:016x}", seed(&inputs.texts));
    let answer = match request.get("embedding_types") {
        None => json!({
            "id": id,
            "embeddings": inputs.vectors,
            "response_type": "embeddings_floats",
            "texts": inputs.texts,
        }),
        Some(types) => {
            let by_type: Map<String, Value> = names_in("#/embedding_types", types, COHERE_TYPES)?
                .into_iter()
                .map(|name| {
                    let encoded: Vec<Vec<f32>> =
                        inputs.vectors.iter().map(|v| encode(v, name)).collect();
                    (name.to_string(), json!(encoded))
                })
                .collect();
            json!({
                "id": id,
                "embeddings": by_type,
                "response_type": "embeddings_by_type",
                "texts": inputs.texts,
            })
        }
    };
    Ok((answer, inputs.tokens))
}

fn cohere_texts(
    family: Family,
    texts: &Value,
    dimensions: usize,
) -> Result<CohereInputs, ApiError> {
    let max_chars = if family == Family::CohereV4 {
        512_000
    } else {
        2048
    };
    let texts = texts
        .as_array()
        .ok_or_else(|| malformed("#/texts: expected type: JSONArray"))?;
    if texts.len() > 96 {
        return Err(malformed(format!(
            "#/texts: expected maxItems: 96, actual: {}",
            texts.len()
        )));
    }
    if texts.is_empty() {
        return Err(malformed("#/texts: expected minItems: 1, actual: 0"));
    }
    let mut inputs = CohereInputs {
        vectors: Vec::new(),
        texts: Vec::new(),
        tokens: 0,
    };
    for (i, text) in texts.iter().enumerate() {
        let text = text_at(&format!("#/texts/{i}"), text, max_chars)?;
        inputs.tokens += tokens_of(text);
        let mut vector = text_vector(text, dimensions);
        unit(&mut vector);
        inputs.vectors.push(vector);
        inputs.texts.push(text.to_lowercase());
    }
    Ok(inputs)
}

/// One image, as a data URI: Cohere embeds an image a call.
fn cohere_image(images: &Value, dimensions: usize) -> Result<CohereInputs, ApiError> {
    let images = images
        .as_array()
        .ok_or_else(|| malformed("#/images: expected type: JSONArray"))?;
    if images.len() != 1 {
        return Err(malformed(format!(
            "#/images: expected maxItems: 1, actual: {}",
            images.len()
        )));
    }
    let data = images[0]
        .as_str()
        .and_then(|uri| uri.strip_prefix("data:image/"))
        .and_then(|rest| rest.split_once(";base64,"))
        .map(|(_, data)| data)
        .ok_or_else(|| {
            ApiError::validation(
                "Invalid image: images must be data URIs (data:image/<format>;base64,...).",
            )
        })?;
    let mut vector = bytes_vector(&image_bytes("#/images/0", &json!(data))?, dimensions);
    unit(&mut vector);
    Ok(CohereInputs {
        vectors: vec![vector],
        texts: Vec::new(),
        tokens: 0,
    })
}

/// A unit float vector in Cohere's other encodings.
fn encode(vector: &[f32], encoding: &str) -> Vec<f32> {
    let bits = |signed: bool| -> Vec<f32> {
        vector
            .chunks(8)
            .map(|byte| {
                let packed = byte
                    .iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, v)| acc | (u8::from(*v > 0.0) << (7 - i)));
                if signed {
                    f32::from(packed as i8)
                } else {
                    f32::from(packed)
                }
            })
            .collect()
    };
    match encoding {
        "int8" => vector
            .iter()
            .map(|v| (v * 127.0).round().clamp(-128.0, 127.0))
            .collect(),
        "uint8" => vector
            .iter()
            .map(|v| ((v + 1.0) * 127.5).round().clamp(0.0, 255.0))
            .collect(),
        "binary" => bits(true),
        "ubinary" => bits(false),
        _ => vector.to_vec(),
    }
}

const NOVA_PURPOSES: &[&str] = &[
    "GENERIC_INDEX",
    "GENERIC_RETRIEVAL",
    "TEXT_RETRIEVAL",
    "IMAGE_RETRIEVAL",
    "VIDEO_RETRIEVAL",
    "DOCUMENT_RETRIEVAL",
    "AUDIO_RETRIEVAL",
    "CLASSIFICATION",
    "CLUSTERING",
];

const NOVA_PARAMS: &str = "#/singleEmbeddingParams";

fn nova(request: &Map<String, Value>) -> Result<(Value, u64), ApiError> {
    only_keys(
        "#",
        request,
        &["schemaVersion", "taskType", "singleEmbeddingParams"],
    )?;
    if let Some(version) = request.get("schemaVersion") {
        one_of(
            "#/schemaVersion",
            version.as_str().unwrap_or_default(),
            &["nova-multimodal-embed-v1"],
        )?;
    }
    let task = request
        .get("taskType")
        .ok_or_else(|| malformed("#: required key [taskType] not found"))?;
    one_of(
        "#/taskType",
        task.as_str().unwrap_or_default(),
        &["SINGLE_EMBEDDING"],
    )?;
    let params = request
        .get("singleEmbeddingParams")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("#: required key [singleEmbeddingParams] not found"))?;
    let at = NOVA_PARAMS;
    only_keys(
        at,
        params,
        &[
            "embeddingPurpose",
            "embeddingDimension",
            "text",
            "image",
            "audio",
            "video",
        ],
    )?;
    let purpose = params
        .get("embeddingPurpose")
        .ok_or_else(|| malformed(format!("{at}: required key [embeddingPurpose] not found")))?;
    one_of(
        &format!("{at}/embeddingPurpose"),
        purpose.as_str().unwrap_or_default(),
        NOVA_PURPOSES,
    )?;
    let dimensions = match params.get("embeddingDimension") {
        Some(d) => {
            let at = format!("{at}/embeddingDimension");
            one_of(&at, whole(&at, d)?, &[256, 384, 1024, 3072])?
        }
        None => 3072,
    } as usize;
    let media: Vec<&str> = ["text", "image", "audio", "video"]
        .into_iter()
        .filter(|k| params.contains_key(*k))
        .collect();
    let (mut vector, kind, tokens) = match media.as_slice() {
        ["text"] => nova_text(&params["text"], dimensions)?,
        ["image"] => nova_image(&params["image"], dimensions)?,
        [other] => {
            return Err(ApiError::validation(format!(
                "The emulator does not embed {other}; send text or an image."
            )))
        }
        _ => {
            return Err(malformed(format!(
                "{at}: exactly one of [text, image, audio, video] is required, found {}",
                media.len()
            )))
        }
    };
    unit(&mut vector);
    Ok((
        json!({ "embeddings": [{ "embeddingType": kind, "embedding": vector }] }),
        tokens,
    ))
}

fn nova_text(text: &Value, dimensions: usize) -> Result<(Vec<f32>, &'static str, u64), ApiError> {
    let at = format!("{NOVA_PARAMS}/text");
    let text = object_at(&at, text)?;
    only_keys(&at, text, &["truncationMode", "value", "source"])?;
    let mode = text
        .get("truncationMode")
        .ok_or_else(|| malformed(format!("{at}: required key [truncationMode] not found")))?;
    one_of(
        &format!("{at}/truncationMode"),
        mode.as_str().unwrap_or_default(),
        &["START", "END", "NONE"],
    )?;
    let value = text
        .get("value")
        .ok_or_else(|| malformed(format!("{at}: required key [value] not found")))?;
    let value = text_at(&format!("{at}/value"), value, 50_000)?;
    Ok((text_vector(value, dimensions), "TEXT", tokens_of(value)))
}

fn nova_image(image: &Value, dimensions: usize) -> Result<(Vec<f32>, &'static str, u64), ApiError> {
    let at = format!("{NOVA_PARAMS}/image");
    let image = object_at(&at, image)?;
    only_keys(&at, image, &["format", "source", "detailLevel"])?;
    let format = image
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or_default();
    one_of(
        &format!("{at}/format"),
        format,
        &["png", "jpeg", "gif", "webp"],
    )?;
    let bytes = image
        .get("source")
        .and_then(|s| s.get("bytes"))
        .ok_or_else(|| malformed(format!("{at}/source: required key [bytes] not found")))?;
    let bytes = image_bytes(&format!("{at}/source/bytes"), bytes)?;
    Ok((bytes_vector(&bytes, dimensions), "IMAGE", 0))
}

fn seed<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Values in -1..1 from a seed (splitmix64), the same for the same seed.
fn seeded(seed: u64, out: &mut [f32]) {
    let mut state = seed;
    for v in out.iter_mut() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        *v += (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
    }
}

/// The sum of each word's seeded vector: texts sharing words point the same way.
fn text_vector(text: &str, dimensions: usize) -> Vec<f32> {
    let mut vector = vec![0.0; dimensions];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        seeded(seed(&word.to_lowercase()), &mut vector);
    }
    if vector.iter().all(|v| *v == 0.0) {
        seeded(seed(&text), &mut vector);
    }
    vector
}

fn bytes_vector(bytes: &[u8], dimensions: usize) -> Vec<f32> {
    let mut vector = vec![0.0; dimensions];
    seeded(seed(&bytes), &mut vector);
    vector
}

fn unit(vector: &mut [f32]) {
    let length = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if length > 0.0 {
        vector.iter_mut().for_each(|v| *v /= length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn texts_sharing_words_are_closer_than_texts_that_do_not() {
        let mut a = text_vector("the cat sat on the mat", 256);
        let mut b = text_vector("a cat on a mat", 256);
        let mut c = text_vector("quarterly revenue grew", 256);
        for v in [&mut a, &mut b, &mut c] {
            unit(v);
        }
        assert!(cosine(&a, &b) > cosine(&a, &c) + 0.3);
        assert_eq!(text_vector("same words", 8), text_vector("same words", 8));
    }

    #[test]
    fn titan_refuses_what_bedrock_refuses() {
        let body = |v: Value| v.as_object().unwrap().clone();
        let e = titan(
            Family::TitanTextV2,
            &body(json!({"inputText": "x", "dimensions": 300})),
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("#/dimensions: 300 is not a valid enum value"),
            "{}",
            e.message
        );
        let e = titan(
            Family::TitanTextV2,
            &body(json!({"inputText": "x", "dims": 256})),
        )
        .unwrap_err();
        assert!(e.message.contains("extraneous key [dims]"), "{}", e.message);
        let e = cohere(
            Family::CohereV3,
            &body(json!({"texts": vec!["x"; 97], "input_type": "search_query"})),
        )
        .unwrap_err();
        assert!(
            e.message.contains("expected maxItems: 96, actual: 97"),
            "{}",
            e.message
        );
    }
}
