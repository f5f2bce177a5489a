//! `gateway-rate`'s load: requests sent open-loop, each at its scheduled time whatever the
//! answers before it did, to targets taking shuffled turns, and how long each took from its
//! scheduled time to its last byte.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

use super::processes::{ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY};

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// One request to send: where, with which credential and body.
#[derive(Clone)]
pub struct Target {
    pub url: hyper::Uri,
    pub credential: Credential,
    pub body: Bytes,
}

/// How a request proves who sent it.
#[derive(Clone)]
pub enum Credential {
    /// A key taken as `Authorization: Bearer` (the gateway's).
    Bearer(String),
    /// SigV4 with the identity the gateway's plugin signs with, so the emulator checks the
    /// baseline's signature as it checks the gateway's calls (with a Bedrock API key instead,
    /// its check of the plugin's signatures counted as the gateway's latency). Signed for
    /// the emulator at `signed_for` whichever address the request goes to (the bare proxy
    /// forwards the `host` header as it is), once per rate: signing each request would count
    /// the client's signing in the baseline, and a signature stays good for the emulator's
    /// 15 minutes of clock skew.
    SigV4 {
        signed_for: hyper::Uri,
        headers: hyper::HeaderMap,
    },
}

impl Target {
    /// The baseline's request to the emulator at `url`, signed now.
    pub fn signed(url: hyper::Uri, body: Bytes) -> Result<Self, String> {
        let mut target = Self {
            credential: Credential::SigV4 {
                signed_for: url.clone(),
                headers: hyper::HeaderMap::new(),
            },
            url,
            body,
        };
        target.sign_again()?;
        Ok(target)
    }

    /// Signs a SigV4 target with the time now.
    pub fn sign_again(&mut self) -> Result<(), String> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let Credential::SigV4 {
            signed_for,
            headers,
        } = &mut self.credential
        else {
            return Ok(());
        };
        let host = signed_for
            .authority()
            .ok_or("the emulator's URL has no host")?
            .to_string();
        let identity = aws_credential_types::Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "gateway-rate",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("bedrock")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let unsigned = [
            ("host", host.as_str()),
            ("content-type", "application/json"),
        ];
        let request = SignableRequest::new(
            "POST",
            signed_for.to_string(),
            unsigned.into_iter(),
            SignableBody::Bytes(&self.body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        headers.clear();
        for (name, value) in unsigned.into_iter().chain(instructions.headers()) {
            headers.insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| e.to_string())?,
                value.parse().map_err(|e| format!("{e}"))?,
            );
        }
        Ok(())
    }
}

/// What one request did: microseconds from its scheduled time to its last byte, or `None`
/// when it failed.
pub type Outcome = Option<u64>;

async fn send(client: &HttpClient, target: &Target) -> bool {
    let mut request = hyper::Request::post(target.url.clone());
    match &target.credential {
        Credential::Bearer(key) => {
            request = request
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {key}"));
        }
        Credential::SigV4 { headers, .. } => {
            if let Some(all) = request.headers_mut() {
                all.extend(headers.clone());
            }
        }
    }
    let request = request.body(Full::new(target.body.clone()));
    let Ok(request) = request else {
        return false;
    };
    match client.request(request).await {
        Ok(response) => {
            let ok = response.status().is_success();
            ok && response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
    }
}

/// Which target each slot goes to: every run of `n` consecutive slots holds each target once,
/// in a shuffled order. Not round-robin: tokio's timer fires at millisecond ticks, so the
/// slots between two ticks go out together and each waits from its scheduled time to the
/// tick, from up to a whole millisecond for the first to almost nothing for the last. With
/// targets taking fixed turns, one target would always hold the earlier (longer-waiting)
/// turns, and the latency it is charged would be off by up to half a slot interval per turn
/// (±0.25 ms at 2,000/s per target, ±0.5 ms at 1,000/s), depending on how the run's start
/// fell against the ticks. Shuffled, both wait alike.
fn slot_targets(n: usize, slots: usize, seed: u64) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut order: Vec<usize> = Vec::with_capacity(slots);
    while order.len() < slots {
        let mut block: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut block);
        order.extend(block);
    }
    order.truncate(slots);
    order
}

/// Runs `n * rate` slots per second for `seconds`, each sent to its target of
/// [`slot_targets`]; the outcomes per target.
pub async fn open_loop(
    client: &HttpClient,
    targets: Vec<Target>,
    rate: u32,
    seconds: u64,
) -> Vec<Vec<Outcome>> {
    let n = targets.len();
    let slots = (rate as u64 * n as u64 * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / (rate as f64 * n as f64));
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let targets = Arc::new(targets);
    let order = slot_targets(n, slots, u64::from(rate));
    let mut tasks = Vec::with_capacity(slots);
    for (k, which) in order.into_iter().enumerate() {
        let scheduled = start + interval * k as u32;
        let (client, targets) = (client.clone(), targets.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(scheduled).await;
            let ok = send(&client, &targets[which]).await;
            (which, ok.then(|| scheduled.elapsed().as_micros() as u64))
        }));
    }
    let mut outcomes = vec![Vec::new(); n];
    for task in tasks {
        if let Ok((which, outcome)) = task.await {
            outcomes[which].push(outcome);
        }
    }
    outcomes
}
