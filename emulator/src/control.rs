//! Control-plane operations: ListFoundationModels, GetFoundationModel, ListInferenceProfiles,
//! GetInferenceProfile.

use crate::catalogue::{self, ModelFilter};
use crate::error::{check_enum, ApiError};
use crate::json_http::{decode_segment, json_response};
use crate::state::State;
use axum::body::Body;
use axum::http::Response;
use base64::Engine as _;
use serde_json::json;

/// Decoded `key=value` query pairs.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| decode_segment(&s.replace('+', " ")).unwrap_or_default();
            (dec(k), dec(v))
        })
        .collect()
}

pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// GET /foundation-models
pub fn list_foundation_models(
    state: &State,
    query: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let pairs = query_pairs(query);
    let filter = ModelFilter {
        by_provider: param(&pairs, "byProvider").map(str::to_string),
        by_output_modality: param(&pairs, "byOutputModality").map(str::to_string),
        by_inference_type: param(&pairs, "byInferenceType").map(str::to_string),
        by_customization_type: param(&pairs, "byCustomizationType").map(str::to_string),
    };
    check_enum(
        "byOutputModality",
        filter.by_output_modality.as_deref(),
        &["TEXT", "IMAGE", "EMBEDDING"],
    )?;
    check_enum(
        "byInferenceType",
        filter.by_inference_type.as_deref(),
        &["ON_DEMAND", "PROVISIONED"],
    )?;
    check_enum(
        "byCustomizationType",
        filter.by_customization_type.as_deref(),
        &["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"],
    )?;
    let region = &state.config.region;
    let summaries: Vec<_> = catalogue::list_models(&filter)
        .iter()
        .map(|m| m.summary(region))
        .collect();
    Ok(json_response(
        json!({ "modelSummaries": summaries }).to_string(),
    ))
}

/// An opaque pagination token: which list it pages (`list`) and where the next page starts.
pub fn encode_page_token(list: &str, offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("emulator-{list}:{offset}"))
}

/// The offset a token of `list` carries, or the service's refusal.
pub fn decode_page_token(list: &str, token: &str) -> Result<usize, ApiError> {
    let invalid = || ApiError::validation("The provided pagination token is invalid.");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    String::from_utf8(raw)
        .ok()
        .and_then(|t| t.strip_prefix(&format!("emulator-{list}:"))?.parse().ok())
        .ok_or_else(invalid)
}

/// A list operation's `maxResults` (1 to 1000, 1000 when not given).
pub fn max_results(pairs: &[(String, String)]) -> Result<usize, ApiError> {
    match param(pairs, "maxResults") {
        None => Ok(1000),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(ApiError::constraint(
                "maxResults",
                v,
                "Member must have value between 1 and 1000",
            )),
        },
    }
}

/// GET /inference-profiles
pub fn list_inference_profiles(
    state: &State,
    query: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let pairs = query_pairs(query);
    let max_results = max_results(&pairs)?;
    let kind = param(&pairs, "type").unwrap_or("SYSTEM_DEFINED");
    check_enum("typeEquals", Some(kind), &["SYSTEM_DEFINED", "APPLICATION"])?;
    let offset = match param(&pairs, "nextToken") {
        None => 0,
        Some(t) => decode_page_token("profiles", t)?,
    };
    let (region, account) = (&state.config.region, &state.config.account_id);
    let all: Vec<serde_json::Value> = if kind == "SYSTEM_DEFINED" {
        catalogue::profiles_for_region(region)
            .iter()
            .map(|p| p.summary(region, account))
            .collect()
    } else {
        state
            .app_profiles()
            .iter()
            .map(|p| p.summary(region, account))
            .collect()
    };
    let page: Vec<_> = all.iter().skip(offset).take(max_results).cloned().collect();
    let mut body = json!({ "inferenceProfileSummaries": page });
    if offset + max_results < all.len() {
        body["nextToken"] = json!(encode_page_token("profiles", offset + max_results));
    }
    Ok(json_response(body.to_string()))
}

/// GET /inference-profiles/{id or ARN}
pub fn get_inference_profile(state: &State, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = decode_segment(raw_id).unwrap_or_default();
    let (region, account) = (&state.config.region, &state.config.account_id);
    let profile_id = id
        .strip_prefix(&format!(
            "arn:aws:bedrock:{region}:{account}:inference-profile/"
        ))
        .unwrap_or(&id);
    if let Some(p) = state.app_profile(&id) {
        return Ok(json_response(p.summary(region, account).to_string()));
    }
    match catalogue::profile(profile_id, region) {
        Some(p) => Ok(json_response(p.summary(region, account).to_string())),
        None => Err(ApiError::new(
            404,
            "ResourceNotFoundException",
            format!("Inference profile {id} not found."),
        )),
    }
}

/// GET /foundation-models/{id}: the model's summary under `modelDetails`.
pub fn get_foundation_model(state: &State, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = decode_segment(raw_id).unwrap_or_default();
    let region = &state.config.region;
    let base = id
        .strip_prefix(&format!("arn:aws:bedrock:{region}::foundation-model/"))
        .unwrap_or(&id);
    match catalogue::model(base) {
        Some(m) => Ok(json_response(
            json!({ "modelDetails": m.summary(region) }).to_string(),
        )),
        None => Err(ApiError::new(
            404,
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip() {
        let token = encode_page_token("profiles", 42);
        assert_eq!(decode_page_token("profiles", &token), Ok(42));
        assert!(
            decode_page_token("invocations", &token).is_err(),
            "another list's token"
        );
        assert!(decode_page_token("profiles", "garbage").is_err());
        assert_eq!(
            query_pairs(Some("a=b%3Ac&d")),
            vec![("a".into(), "b:c".into()), ("d".into(), "".into())]
        );
    }
}
