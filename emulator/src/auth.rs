//! Request authentication: SigV4 verified by recomputing the signature with `aws-sigv4`
//! and the configured secret, or a Bedrock API key as a bearer token.

use crate::config::{EmulatorConfig, MAX_CLOCK_SKEW_SECS, SIGNING_NAME};
use crate::error::ApiError;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How a request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthKind {
    /// SigV4 with this access key id.
    SigV4 {
        /// The access key id from the credential scope.
        access_key_id: String,
        /// Whether an `x-amz-security-token` was sent.
        session_token: bool,
    },
    /// `Authorization: Bearer <api key>`.
    Bearer,
}

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

fn forbidden(error_type: &str, message: impl Into<String>) -> ApiError {
    ApiError::coral(403, error_type, message)
}

/// Parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
struct SigV4Header<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_sigv4(value: &str) -> Result<SigV4Header<'_>, ApiError> {
    let rest = value.trim_start_matches("AWS4-HMAC-SHA256").trim();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let incomplete = |what: &str| {
        forbidden(
            "IncompleteSignatureException",
            format!("Authorization header requires '{what}' parameter. Authorization={value}"),
        )
    };
    let credential = credential.ok_or_else(|| incomplete("Credential"))?;
    let signed = signed.ok_or_else(|| incomplete("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| incomplete("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(forbidden(
            "IncompleteSignatureException",
            format!("Credential should be scoped to a valid region, not '{credential}'. "),
        ));
    }
    Ok(SigV4Header {
        access_key_id: scope[0],
        date: scope[1],
        region: scope[2],
        service: scope[3],
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Formats as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let rem = secs.rem_euclid(86400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Compares without early exit, so timing does not reveal how much of a secret matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Authenticates a request. `path_and_query` is exactly as received (still percent-encoded);
/// `authority` is the request's own (HTTP/2 `:authority`), which clients sign as `host` when
/// there is no `host` header. `services` are the signing names the route answers to.
#[allow(clippy::too_many_arguments)]
pub fn authenticate(
    config: &EmulatorConfig,
    services: &[&str],
    method: &str,
    path_and_query: &str,
    authority: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<AuthKind, ApiError> {
    let Some(authorization) = header_str(headers, "authorization") else {
        return Err(forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        return bearer(config, token);
    }
    if !authorization.starts_with("AWS4-HMAC-SHA256 ") {
        return Err(forbidden(
            "IncompleteSignatureException",
            format!("Authorization header requires 'Credential' parameter. Authorization={authorization}"),
        ));
    }
    let auth = parse_sigv4(authorization)?;
    if auth.access_key_id != config.access_key_id {
        return Err(forbidden("UnrecognizedClientException", INVALID_TOKEN));
    }
    let sent_token = header_str(headers, "x-amz-security-token");
    if sent_token != config.session_token.as_deref() {
        return Err(forbidden("UnrecognizedClientException", INVALID_TOKEN));
    }
    check_scope(config, services, &auth)?;
    let signed_at = signing_time(headers, &auth, now)?;
    let expected = recompute_signature(
        config,
        method,
        path_and_query,
        authority,
        headers,
        &auth,
        body,
        signed_at,
    )?;
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(AuthKind::SigV4 {
            access_key_id: auth.access_key_id.to_string(),
            session_token: sent_token.is_some(),
        })
    } else {
        tracing::debug!("SigV4 signature mismatch");
        Err(forbidden("InvalidSignatureException", SIGNATURE_MISMATCH))
    }
}

/// The signing name a SigV4 request's credential scope names (`bedrock`, `bedrock-mantle`),
/// `None` for any other kind of request. Read after [`authenticate`] accepted it.
pub fn signed_service(headers: &HeaderMap) -> Option<&str> {
    let authorization = header_str(headers, "authorization")?;
    authorization
        .starts_with("AWS4-HMAC-SHA256 ")
        .then(|| parse_sigv4(authorization).ok().map(|a| a.service))
        .flatten()
}

/// A Bedrock API key, compared in constant time.
fn bearer(config: &EmulatorConfig, token: &str) -> Result<AuthKind, ApiError> {
    if constant_time_eq(token.trim().as_bytes(), config.api_key.as_bytes()) {
        Ok(AuthKind::Bearer)
    } else {
        Err(forbidden(
            "UnrecognizedClientException",
            "Authentication failed: Please make sure your API Key is valid. (emulator: the bearer token does not match the configured API key)",
        ))
    }
}

/// The credential's scope: this emulator's region and one of the signing names the route
/// answers to (`bedrock`; Mantle's routes `bedrock-mantle`).
fn check_scope(
    config: &EmulatorConfig,
    services: &[&str],
    auth: &SigV4Header<'_>,
) -> Result<(), ApiError> {
    if auth.region != config.region {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                auth.region
            ),
        ));
    }
    if !services.contains(&auth.service) {
        let wanted = services.first().copied().unwrap_or(SIGNING_NAME);
        return Err(forbidden(
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{wanted}'. "),
        ));
    }
    Ok(())
}

/// When the request was signed (`x-amz-date`), which must match the credential's date and
/// lie within the allowed clock skew of `now`.
fn signing_time(
    headers: &HeaderMap,
    auth: &SigV4Header<'_>,
    now: SystemTime,
) -> Result<SystemTime, ApiError> {
    let Some(amz_date) = header_str(headers, "x-amz-date") else {
        return Err(forbidden(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        forbidden(
            "IncompleteSignatureException",
            format!("Date must be in ISO-8601 'basic format'. Got '{amz_date}'."),
        )
    })?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                auth.date,
                amz_date.get(..8).unwrap_or(amz_date)
            ),
        ));
    }
    let skew = Duration::from_secs(MAX_CLOCK_SKEW_SECS);
    if signed_at + skew < now {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
                format_amz_date(now - skew),
                format_amz_date(now)
            ),
        ));
    }
    if signed_at > now + skew {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
                format_amz_date(now + skew),
                format_amz_date(now)
            ),
        ));
    }
    Ok(signed_at)
}

/// Signs the received request again, restricted to the headers the client said it signed.
#[allow(clippy::too_many_arguments)]
fn recompute_signature(
    config: &EmulatorConfig,
    method: &str,
    path_and_query: &str,
    authority: Option<&str>,
    headers: &HeaderMap,
    auth: &SigV4Header<'_>,
    body: &[u8],
    signed_at: SystemTime,
) -> Result<String, ApiError> {
    let mismatch = || forbidden("InvalidSignatureException", SIGNATURE_MISMATCH);
    if auth.signed_headers.iter().any(|h| h.starts_with(':')) {
        return pseudo_header_signature(
            config,
            method,
            path_and_query,
            authority,
            headers,
            auth,
            body,
            signed_at,
        );
    }
    // HTTP/1.1 carries the host in a header, HTTP/2 in `:authority`; either is signed as
    // `host`.
    let host = header_str(headers, "host")
        .or(authority)
        .unwrap_or("localhost");
    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in &auth.signed_headers {
        if *name == "host" && !headers.contains_key("host") {
            signed.push(("host", host));
            continue;
        }
        for value in headers.get_all(*name) {
            signed.push((name, value.to_str().map_err(|_| mismatch())?));
        }
    }
    let uri = format!("http://{host}{path_and_query}");
    // The payload hash is always computed from the bytes received, so a body changed after
    // signing (or a lying x-amz-content-sha256) cannot verify.
    let body = if header_str(headers, "x-amz-content-sha256") == Some("UNSIGNED-PAYLOAD") {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(body)
    };
    let request =
        SignableRequest::new(method, uri, signed.into_iter(), body).map_err(|_| mismatch())?;
    let identity: Identity = Credentials::new(
        &config.access_key_id,
        &config.secret_access_key,
        config.session_token.clone(),
        None,
        "emulator",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Sign exactly what the client listed; the default exclusions would drop some of them.
    settings.excluded_headers = Some(Vec::<Cow<'static, str>>::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&config.region)
        .name(auth.service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|_| mismatch())?;
    let output = sign(request, &params.into()).map_err(|e| {
        tracing::debug!(error = %e, "cannot recompute signature");
        mismatch()
    })?;
    Ok(output.signature().to_string())
}

/// The signature of a request whose signed headers include an HTTP/2 pseudo-header: the AWS
/// JS SDK's HTTP/2 handler signs `:authority` itself, and Bedrock accepts that. `aws-sigv4`
/// cannot build such a canonical request (its header names must be valid HTTP/1 names, and
/// it always adds `host`), so the canonical request is assembled here by SigV4's rules and
/// `aws-sigv4` derives the key and computes the signature.
#[allow(clippy::too_many_arguments)]
fn pseudo_header_signature(
    config: &EmulatorConfig,
    method: &str,
    path_and_query: &str,
    authority: Option<&str>,
    headers: &HeaderMap,
    auth: &SigV4Header<'_>,
    body: &[u8],
    signed_at: SystemTime,
) -> Result<String, ApiError> {
    use sha2::{Digest, Sha256};
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let canonical_path = canonical_path(path);
    let canonical_query = canonical_query(query);
    let canonical_headers = canonical_headers(&auth.signed_headers, authority, headers);
    let payload_hash = match header_str(headers, "x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".to_string(),
        _ => hex(&Sha256::digest(body)),
    };
    let canonical_request = format!(
        "{method}\n{canonical_path}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        auth.signed_headers.join(";")
    );
    let amz_date = format_amz_date(signed_at);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        &amz_date[..8],
        config.region,
        auth.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let key = v4::generate_signing_key(
        &config.secret_access_key,
        signed_at,
        &config.region,
        auth.service,
    );
    Ok(v4::calculate_signature(key, string_to_sign.as_bytes()))
}

/// RFC 3986 unreserved characters stay; everything else is encoded (SigV4's UriEncode).
const URI_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Non-S3 services sign the path encoded twice: each segment as received, encoded again.
fn canonical_path(path: &str) -> String {
    path.split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, URI_ENCODE).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The query's pairs decoded, encoded as SigV4 does, sorted.
fn canonical_query(query: &str) -> String {
    use percent_encoding::{percent_decode_str, utf8_percent_encode};
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let encode = |s: String| utf8_percent_encode(&s, URI_ENCODE).to_string();
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(decode(k)), encode(decode(v)))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Each signed header as `name:values`, `:authority` (HTTP/2) or `host` from the authority.
fn canonical_headers(signed: &[&str], authority: Option<&str>, headers: &HeaderMap) -> String {
    let mut canonical = String::new();
    for name in signed {
        let values: Vec<String> = match *name {
            ":authority" | "host" => authority
                .or_else(|| header_str(headers, "host"))
                .map(|v| vec![v.to_string()])
                .unwrap_or_default(),
            other => headers
                .get_all(other)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect(),
        };
        canonical.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    canonical
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trip() {
        let t = parse_amz_date("20240229T235959Z").unwrap();
        assert_eq!(format_amz_date(t), "20240229T235959Z");
        assert!(parse_amz_date("2024-02-29").is_none());
    }
}
