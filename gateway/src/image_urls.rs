//! `--allow-image-urls`: images a request gives by http(s) URL, fetched by the gateway before
//! the model call (Bedrock takes image bytes, not URLs). Off by default, and even on, the
//! gateway is no proxy into its own network:
//! - only public addresses are fetched: loopback, private, link-local (cloud metadata),
//!   shared, unique-local, multicast and unspecified addresses are refused, checked on the
//!   addresses a name resolves to (the connection goes to exactly those) and again on every
//!   redirect; an operator may allow some networks (`--allow-image-network`);
//! - each image is capped in size and time, and the bytes all fetches in flight may hold at
//!   once are bounded, so concurrent requests cannot exhaust memory;
//! - a failure is one neutral message (what answered where is logged at debug level only),
//!   so the errors cannot map what the gateway's network holds.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{CONTENT_TYPE, LOCATION};
use hyper::Uri;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ipnet::IpNet;

use crate::errors::ApiError;

/// One fetched image.
pub struct Image {
    /// The subtype of its `image/...` content type (`png`, `jpeg`, ...).
    pub format: Option<String>,
    pub data: Vec<u8>,
}

/// The images fetched for one request, by the URL the request gave.
pub type Fetched = HashMap<String, Image>;

/// The largest image fetched: Bedrock's own limit per image (3.75 MB).
const MAX_IMAGE_BYTES: usize = 3_750_000;
/// How long one image may take, redirects included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The bytes all image fetches in flight may hold at once, in units of [`MAX_IMAGE_BYTES`]
/// (one permit per image being fetched).
const FETCHES_IN_FLIGHT: usize = 16;
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
    client: Client<hyper_rustls::HttpsConnector<HttpConnector<PublicOnly>>, Empty<Bytes>>,
    allowed: Arc<Vec<IpNet>>,
    in_flight: Arc<tokio::sync::Semaphore>,
}

/// Whether the gateway may connect to `ip` to fetch an image: public addresses, and those in
/// the networks the operator allowed.
pub fn may_fetch_from(ip: IpAddr, allowed: &[IpNet]) -> bool {
    if allowed.iter().any(|net| net.contains(&ip)) {
        return true;
    }
    let ip = match ip {
        // An IPv4 address written as IPv6 is judged as the IPv4 address it is.
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                || (a == 100 && (64..128).contains(&b))
                // Benchmarking, 198.18.0.0/15; reserved, 240.0.0.0/4.
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local (fc00::/7, which holds fd00:ec2::254, EC2's metadata address).
                || (first & 0xfe00) == 0xfc00
                // Link-local, fe80::/10.
                || (first & 0xffc0) == 0xfe80
                // Documentation, 2001:db8::/32.
                || (first == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

/// Resolves names for the image client and refuses a name with any address the gateway may
/// not fetch from: the connection then goes to exactly the addresses checked here.
#[derive(Clone)]
struct PublicOnly {
    allowed: Arc<Vec<IpNet>>,
}

impl tower::Service<Name> for PublicOnly {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addresses.is_empty() {
                return Err(std::io::Error::other("the name has no address"));
            }
            if let Some(refused) = addresses.iter().find(|a| !may_fetch_from(a.ip(), &allowed)) {
                return Err(std::io::Error::other(format!(
                    "{name} resolves to {}, which is not a public address",
                    refused.ip()
                )));
            }
            Ok(addresses.into_iter())
        })
    }
}

impl ImageFetcher {
    /// A fetcher trusting the system's root certificates, fetching from public addresses and
    /// from the `allowed` networks.
    pub fn new(allowed: Vec<IpNet>) -> Result<Self, String> {
        let allowed = Arc::new(allowed);
        let mut http = HttpConnector::new_with_resolver(PublicOnly {
            allowed: allowed.clone(),
        });
        http.enforce_http(false);
        http.set_connect_timeout(Some(FETCH_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| {
                format!("--allow-image-urls: cannot read the system's root certificates: {e}")
            })?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            allowed,
            in_flight: Arc::new(tokio::sync::Semaphore::new(FETCHES_IN_FLIGHT)),
        })
    }

    /// Fetches every http(s) image URL in `chat`'s messages, at once.
    /// Fetches every image of `urls` (where each appears in the request, and its URL), at
    /// once.
    pub async fn fetch_all(&self, urls: Vec<(String, String)>) -> Result<Fetched, ApiError> {
        if urls.len() > MAX_IMAGES {
            return Err(ApiError::bad_request(format!(
                "the messages name {} image URLs; this gateway fetches at most {MAX_IMAGES} per request",
                urls.len()
            )));
        }
        let fetches = urls.into_iter().map(|(at, url)| async move {
            // Memory for one image, held while it is fetched: fetches past the bound wait.
            let permit = tokio::time::timeout(FETCH_TIMEOUT, self.in_flight.acquire())
                .await
                .map_err(|_| "the gateway is fetching as many images as it may".to_string());
            let image = match permit {
                Ok(_permit) => match tokio::time::timeout(FETCH_TIMEOUT, self.fetch(&url)).await
                {
                    Ok(fetched) => fetched,
                    Err(_) => Err(format!("no complete answer within {FETCH_TIMEOUT:?}")),
                },
                Err(why) => Err(why),
            };
            image.map(|image| (url.clone(), image)).map_err(|why| {
                tracing::debug!("{at}: the image at {} was not fetched: {why}", shown(&url));
                ApiError::bad_request(format!(
                    "{at}: cannot fetch the image at {}: the gateway fetches images only from public http(s) addresses, answering within {} s with an image of at most {MAX_IMAGE_BYTES} bytes",
                    shown(&url),
                    FETCH_TIMEOUT.as_secs()
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
            // An address written in the URL skips the resolver: check it here.
            let host = uri.host().unwrap_or("");
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse::<IpAddr>() {
                if !may_fetch_from(ip, &self.allowed) {
                    return Err(format!("{ip} is not a public address"));
                }
            }
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
            let declared = response
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > MAX_IMAGE_BYTES as u64) {
                return Err(format!("it is larger than {MAX_IMAGE_BYTES} bytes"));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_fetched_from() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!may_fetch_from(refused.parse().unwrap(), &[]), "{refused}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(may_fetch_from(public.parse().unwrap(), &[]), "{public}");
        }
        let allowed: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert!(may_fetch_from("10.9.9.9".parse().unwrap(), &allowed));
        assert!(!may_fetch_from("192.168.1.1".parse().unwrap(), &allowed));
    }
}
