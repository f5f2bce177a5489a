//! What every request passes before any work is done for it: the `Host` it names (against
//! DNS rebinding), the client key (before a byte of the body is read), the content type, and
//! the body itself, read within a size and a time limit.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};

use crate::errors::ApiError;
use crate::keys::{Denied, Keys};

/// Which `Host` names the gateway answers to.
#[derive(Clone, Debug)]
pub enum AllowedHosts {
    /// Any (a gateway on a network address, without `--allowed-host`).
    Any,
    /// Loopback names only (`localhost`, `127.0.0.1`, `[::1]`, any `*.localhost`), plus
    /// these: a gateway bound to loopback, where a page in the user's browser could
    /// otherwise reach it through a name that resolves to 127.0.0.1.
    Loopback(Vec<String>),
    /// Only these.
    Only(Vec<String>),
}

impl AllowedHosts {
    /// The names a request may give, for a gateway listening on `ip` with `extra` allowed
    /// by the operator.
    pub fn for_listener(ip: std::net::IpAddr, extra: Vec<String>) -> Self {
        let extra: Vec<String> = extra.into_iter().map(|h| h.to_ascii_lowercase()).collect();
        if ip.is_loopback() {
            Self::Loopback(extra)
        } else if extra.is_empty() {
            Self::Any
        } else {
            Self::Only(extra)
        }
    }

    /// Whether a request naming `host` (the `Host` header or the HTTP/2 authority, port
    /// included) may go on.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let name = host.map(host_name).unwrap_or_default();
        match self {
            Self::Any => true,
            Self::Loopback(extra) => is_loopback_name(&name) || extra.contains(&name),
            Self::Only(names) => names.contains(&name),
        }
    }
}

/// The name in a `Host` value, lowercase, without its port (`[::1]:8080` is `[::1]`).
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.to_ascii_lowercase()
}

fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `Host` a request names: its header, or the HTTP/2 authority.
pub fn requested_host(request: &Request<Body>) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_string()))
}

/// The client key a request presents: `Authorization: Bearer KEY`, or `x-api-key` (the
/// header Anthropic's clients send).
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
}

/// Checks the client key (and, for a model call, that the key may use `model`).
pub fn authorize(keys: &Keys, headers: &HeaderMap, model: Option<&str>) -> Result<(), ApiError> {
    let presented = presented_key(headers);
    match keys.check(presented, model) {
        Ok(()) => Ok(()),
        Err(Denied::Unknown) if presented.is_none() => Err(ApiError::unauthorized(
            "missing API key: send `Authorization: Bearer <key>`",
        )),
        Err(Denied::Unknown) => Err(ApiError::unauthorized("the API key is not valid")),
        Err(Denied::Model) => Err(ApiError::forbidden(format!(
            "this API key may not use the model `{}`",
            model.unwrap_or("")
        ))),
    }
}

/// How much of a body the gateway reads, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// The body of a JSON request, once its content type says JSON; refused as too large as soon
/// as its declared length or what arrived passes the limit, and as too slow past the timeout.
pub async fn read_json_body(
    headers: &HeaderMap,
    body: Body,
    limits: BodyLimits,
) -> Result<bytes::Bytes, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let is_json = content_type.is_some_and(|t| {
        let essence = t.split(';').next().unwrap_or("").trim();
        essence.eq_ignore_ascii_case("application/json")
    });
    if !is_json {
        return Err(ApiError::not_json(content_type));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        return Err(ApiError::too_large(limits.max_bytes));
    }
    let collected = tokio::time::timeout(
        limits.timeout,
        Limited::new(body, limits.max_bytes).collect(),
    )
    .await
    .map_err(|_| ApiError::body_too_slow(limits.timeout))?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::too_large(limits.max_bytes))
        }
        Err(_) => Err(ApiError::bad_request(
            "the request body could not be read to its end",
        )),
    }
}

/// Refuses a request naming a `Host` the gateway does not answer to.
pub async fn check_host(
    axum::extract::State(allowed): axum::extract::State<std::sync::Arc<AllowedHosts>>,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let host = requested_host(&request);
    if allowed.allows(host.as_deref()) {
        next.run(request).await
    } else {
        ApiError::wrong_host(host.as_deref().unwrap_or("")).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_gateways_answer_to_loopback_names_only() {
        let allowed = AllowedHosts::for_listener("127.0.0.1".parse().unwrap(), vec![]);
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "[::1]:8080",
            "app.localhost",
        ] {
            assert!(allowed.allows(Some(host)), "{host}");
        }
        for host in ["attacker.example:8080", "127.0.0.1.nip.io", "", "[::2]"] {
            assert!(!allowed.allows(Some(host)), "{host}");
        }
        assert!(!allowed.allows(None));
        let extra = AllowedHosts::for_listener(
            "127.0.0.1".parse().unwrap(),
            vec!["Gateway.internal".into()],
        );
        assert!(extra.allows(Some("gateway.internal:8080")));
        assert!(
            AllowedHosts::for_listener("0.0.0.0".parse().unwrap(), vec![]).allows(Some("anything"))
        );
        let only = AllowedHosts::for_listener("0.0.0.0".parse().unwrap(), vec!["gw".into()]);
        assert!(only.allows(Some("gw:1")) && !only.allows(Some("localhost")));
    }
}
