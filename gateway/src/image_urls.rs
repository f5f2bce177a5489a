//! `--allow-image-urls`: images a request gives by http(s) URL, fetched by the gateway before
//! the model call (Bedrock takes image bytes, not URLs). Off by default: a gateway that fetches
//! whatever its clients name can be pointed at addresses only it can reach, so turning it on
//! is the operator's decision.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{CONTENT_TYPE, LOCATION};
use hyper::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::errors::ApiError;
use crate::openai::ChatRequest;

/// One fetched image.
pub struct Image {
    /// The subtype of its `image/...` content type (`png`, `jpeg`, ...).
    pub format: Option<String>,
    pub data: Vec<u8>,
}

/// The images fetched for one request, by the URL the request gave.
pub type Fetched = HashMap<String, Image>;

/// The largest image fetched (Bedrock's own limit per image is lower; the plugin names it).
const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// How long one image may take, redirects included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REDIRECTS: usize = 3;
/// Bedrock takes at most 20 images in a request.
const MAX_IMAGES: usize = 20;

/// Whether an `image_url` is one the gateway would fetch (not a data URL).
pub fn is_fetched(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// The URL as errors and logs show it: no query or fragment, which may hold a signature.
fn shown(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

pub struct ImageFetcher {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl ImageFetcher {
    /// A fetcher trusting the system's root certificates.
    pub fn new() -> Result<Self, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| {
                format!("--allow-image-urls: cannot read the system's root certificates: {e}")
            })?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Fetches every http(s) image URL in `chat`'s messages, at once.
    pub async fn fetch_all(&self, chat: &ChatRequest) -> Result<Fetched, ApiError> {
        let urls = image_urls(chat);
        if urls.len() > MAX_IMAGES {
            return Err(ApiError::bad_request(format!(
                "the messages name {} image URLs; this gateway fetches at most {MAX_IMAGES} per request",
                urls.len()
            )));
        }
        let fetches = urls.into_iter().map(|(at, url)| async move {
            let image = match tokio::time::timeout(FETCH_TIMEOUT, self.fetch(&url)).await {
                Ok(fetched) => fetched,
                Err(_) => Err(format!("no complete answer within {FETCH_TIMEOUT:?}")),
            };
            image.map(|image| (url.clone(), image)).map_err(|why| {
                ApiError::bad_request(format!(
                    "{at}: cannot fetch the image at {}: {why}",
                    shown(&url)
                ))
            })
        });
        Ok(futures::future::try_join_all(fetches)
            .await?
            .into_iter()
            .collect())
    }

    async fn fetch(&self, url: &str) -> Result<Image, String> {
        let mut uri: Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .client
                .get(uri.clone())
                .await
                .map_err(|e| format!("{e}"))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or("a redirect without a location")?;
                uri = redirect_target(&uri, location)?;
                continue;
            }
            if !status.is_success() {
                return Err(format!("HTTP {status}"));
            }
            let media_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let Some(subtype) = media_type.strip_prefix("image/") else {
                return Err(format!("its content type is {media_type:?}, not an image"));
            };
            let format = subtype.split(';').next().map(|s| s.trim().to_string());
            let body = Limited::new(response.into_body(), MAX_IMAGE_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        format!("it is larger than {MAX_IMAGE_BYTES} bytes")
                    } else {
                        format!("{e}")
                    }
                })?;
            return Ok(Image {
                format,
                data: body.to_bytes().to_vec(),
            });
        }
        Err(format!("more than {MAX_REDIRECTS} redirects"))
    }
}

/// Where a redirect from `from` to `location` (absolute, or a path on the same server) goes.
fn redirect_target(from: &Uri, location: &str) -> Result<Uri, String> {
    let target = if location.starts_with('/') {
        let authority = from.authority().map(|a| a.as_str()).unwrap_or("");
        let scheme = from.scheme_str().unwrap_or("http");
        format!("{scheme}://{authority}{location}")
    } else {
        location.to_string()
    };
    let uri: Uri = target
        .parse()
        .map_err(|e| format!("a redirect to something that is not a URL: {e}"))?;
    if is_fetched(&target) {
        Ok(uri)
    } else {
        Err("a redirect to something other than http(s)".into())
    }
}

/// Each distinct http(s) image URL in the messages, with where it first appears.
fn image_urls(chat: &ChatRequest) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    let mut urls = Vec::new();
    for (i, message) in chat.messages.iter().enumerate() {
        let Some(Value::Array(parts)) = &message.content else {
            continue;
        };
        for (j, part) in parts.iter().enumerate() {
            let Some(url) = part.pointer("/image_url/url").and_then(Value::as_str) else {
                continue;
            };
            if is_fetched(url) && seen.insert(url) {
                urls.push((format!("messages[{i}].content[{j}]"), url.to_string()));
            }
        }
    }
    urls
}
