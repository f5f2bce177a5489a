//! StartAsyncInvoke, GetAsyncInvoke and ListAsyncInvokes: Bedrock's asynchronous invocation,
//! which today serves video generation (Nova Reel). A job is checked as Bedrock checks it
//! (the request's members, then the model's own input), runs for `async_jobs::RUN_TIME` and
//! completes; its output folder is the requested S3 URI plus the invocation's id, as Bedrock
//! reports it.
//! The emulator writes nothing to S3. A `clientRequestToken` seen again with the same request
//! gives the same invocation; with another request, a ConflictException.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use aws_smithy_types::date_time::{DateTime, Format};
use axum::body::Body;
use axum::http::Response;
use serde_json::{json, Map, Value};

use crate::async_jobs::{Invocation, STATUSES};
use crate::control::{decode_page_token, encode_page_token, max_results, param, query_pairs};
use crate::error::{check_enum, json_object, ApiError};
use crate::json_http::{decode_segment, json_response};
use crate::state::State;

/// A string member of `min` to `max` characters.
fn check_length(at: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(ApiError::constraint(
            at,
            value,
            &format!("Member must have length between {min} and {max}"),
        ));
    }
    Ok(())
}

/// POST /async-invoke
pub fn start(state: &State, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let request = json_object(body)?;
    let model_id = request
        .get("modelId")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("modelId"))?;
    check_length("modelId", model_id, 1, 256)?;
    let model_input = request
        .get("modelInput")
        .ok_or_else(|| ApiError::missing("modelInput"))?;
    let output = output_config(request.get("outputDataConfig"))?;
    let token = match request.get("clientRequestToken").and_then(Value::as_str) {
        Some(token) => {
            check_length("clientRequestToken", token, 1, 256)?;
            if !token.chars().all(|c| ('!'..='~').contains(&c)) {
                return Err(ApiError::constraint(
                    "clientRequestToken",
                    token,
                    "Member must satisfy regular expression pattern: [!-~]*",
                ));
            }
            token.to_string()
        }
        None => state.next_request_id(),
    };
    check_tags(request.get("tags"))?;
    let model = crate::runtime::resolve_any_model(state, model_id)?;
    crate::video_generation::check_input(model, model_input)?;
    let digest = digest(&request);
    let mut jobs = state.async_invocations.lock();
    if let Some(earlier) = jobs.iter().find(|job| job.token == token) {
        if earlier.digest != digest {
            return Err(ApiError::new(
                400,
                "ConflictException",
                "The clientRequestToken was already used for a request with other parameters.",
            ));
        }
        return Ok(json_response(
            json!({"invocationArn": earlier.arn}).to_string(),
        ));
    }
    let (region, account) = (&state.config.region, &state.config.account_id);
    let id: String = std::iter::repeat_with(|| fastrand::alphanumeric().to_ascii_lowercase())
        .take(12)
        .collect();
    let mut output = output;
    let folder = output["s3OutputDataConfig"]["s3Uri"]
        .as_str()
        .map(|uri| format!("{}/{id}", uri.trim_end_matches('/')));
    output["s3OutputDataConfig"]["s3Uri"] = json!(folder);
    let job = Invocation {
        arn: format!("arn:aws:bedrock:{region}:{account}:async-invoke/{id}"),
        model_arn: model.arn(region),
        token,
        digest,
        submitted: SystemTime::now(),
        output,
    };
    let answer = json!({"invocationArn": job.arn}).to_string();
    crate::async_jobs::AsyncInvocations::keep(&mut jobs, job);
    Ok(json_response(answer))
}

fn digest(request: &Map<String, Value>) -> u64 {
    let mut hasher = DefaultHasher::new();
    for key in ["modelId", "modelInput", "outputDataConfig", "tags"] {
        request.get(key).map(Value::to_string).hash(&mut hasher);
    }
    hasher.finish()
}

/// `outputDataConfig`: a union whose one member today is `s3OutputDataConfig`.
fn output_config(config: Option<&Value>) -> Result<Value, ApiError> {
    let config = config
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::missing("outputDataConfig"))?;
    let s3 = match (config.len(), config.get("s3OutputDataConfig")) {
        (1, Some(Value::Object(s3))) => s3,
        _ => {
            return Err(ApiError::constraint_on(
                "outputDataConfig",
                "Member must have exactly one of s3OutputDataConfig",
            ))
        }
    };
    let at = "outputDataConfig.s3OutputDataConfig";
    let uri = s3
        .get("s3Uri")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing(&format!("{at}.s3Uri")))?;
    check_length(&format!("{at}.s3Uri"), uri, 1, 1024)?;
    if !valid_s3_uri(uri) {
        return Err(ApiError::constraint(
            &format!("{at}.s3Uri"),
            uri,
            "Member must satisfy regular expression pattern: s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?",
        ));
    }
    if let Some(owner) = s3.get("bucketOwner").and_then(Value::as_str) {
        if owner.len() != 12 || !owner.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::constraint(
                &format!("{at}.bucketOwner"),
                owner,
                "Member must satisfy regular expression pattern: [0-9]{12}",
            ));
        }
    }
    if let Some(key) = s3.get("kmsKeyId").and_then(Value::as_str) {
        check_length(&format!("{at}.kmsKeyId"), key, 1, 2048)?;
    }
    Ok(Value::Object(config.clone()))
}

/// `s3://` then a bucket name (3 to 63 of lower-case letters, digits, dots and hyphens, a
/// letter or digit at each end), then nothing or a `/` and a key prefix.
fn valid_s3_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    let inner = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
    let end = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (3..=63).contains(&bucket.len())
        && bucket.bytes().all(inner)
        && bucket.as_bytes().first().is_some_and(end)
        && bucket.as_bytes().last().is_some_and(end)
}

fn check_tags(tags: Option<&Value>) -> Result<(), ApiError> {
    let Some(tags) = tags else { return Ok(()) };
    let tags = tags.as_array().ok_or_else(|| ApiError::missing("tags"))?;
    if tags.len() > 200 {
        return Err(ApiError::constraint_on(
            "tags",
            "Member must have length less than or equal to 200",
        ));
    }
    for (i, tag) in tags.iter().enumerate() {
        let at = format!("tags.{}.member", i + 1);
        let key = tag.get("key").and_then(Value::as_str);
        let value = tag.get("value").and_then(Value::as_str);
        let (Some(key), Some(value)) = (key, value) else {
            return Err(ApiError::missing(&format!("{at}.key")));
        };
        check_length(&format!("{at}.key"), key, 1, 128)?;
        check_length(&format!("{at}.value"), value, 0, 256)?;
    }
    Ok(())
}

/// GET /async-invoke/{invocationArn}
pub fn get(state: &State, raw_arn: &str) -> Result<Response<Body>, ApiError> {
    let arn = decode_segment(raw_arn).unwrap_or_default();
    let jobs = state.async_invocations.lock();
    let job = jobs.iter().find(|job| job.arn == arn).ok_or_else(|| {
        ApiError::validation(format!(
            "The invocation ARN {arn} does not name an asynchronous invocation of this account and region."
        ))
    })?;
    Ok(json_response(job.describe(SystemTime::now()).to_string()))
}

/// GET /async-invoke
pub fn list(state: &State, query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let pairs = query_pairs(query);
    let max_results = max_results(&pairs)?;
    let status = param(&pairs, "statusEquals");
    check_enum("statusEquals", status, STATUSES)?;
    check_enum("sortBy", param(&pairs, "sortBy"), &["SubmissionTime"])?;
    let order = param(&pairs, "sortOrder").unwrap_or("Descending");
    check_enum("sortOrder", Some(order), &["Ascending", "Descending"])?;
    let after = time_param(&pairs, "submitTimeAfter")?;
    let before = time_param(&pairs, "submitTimeBefore")?;
    let offset = match param(&pairs, "nextToken") {
        None => 0,
        Some(token) => decode_page_token("invocations", token)?,
    };
    let now = SystemTime::now();
    let jobs = state.async_invocations.lock();
    let mut matching: Vec<&Invocation> = jobs
        .iter()
        .filter(|job| status.is_none_or(|s| job.status(now) == s))
        .filter(|job| after.is_none_or(|t| job.submitted > t))
        .filter(|job| before.is_none_or(|t| job.submitted < t))
        .collect();
    if order == "Descending" {
        matching.reverse();
    }
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(max_results)
        .map(|job| job.describe(now))
        .collect();
    let mut answer = json!({"asyncInvokeSummaries": page});
    if offset + max_results < matching.len() {
        answer["nextToken"] = json!(encode_page_token("invocations", offset + max_results));
    }
    Ok(json_response(answer.to_string()))
}

/// A timestamp query parameter (ISO 8601, as the SDKs send it).
fn time_param(pairs: &[(String, String)], name: &str) -> Result<Option<SystemTime>, ApiError> {
    let Some(value) = param(pairs, name) else {
        return Ok(None);
    };
    DateTime::from_str(value, Format::DateTime)
        .ok()
        .and_then(|t| SystemTime::try_from(t).ok())
        .map(Some)
        .ok_or_else(|| ApiError::constraint(name, value, "Member must be a timestamp (ISO 8601)"))
}
