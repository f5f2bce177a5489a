//! Where the counters of rate limits and budgets live: in this process (one gateway, nothing
//! to install), or in Redis (`gateway.store: "redis://..."`), so replicas behind a load
//! balancer count together. Counters are floats that expire: each window and each budget
//! period has its own key, which the store forgets after its time. Every update is atomic
//! (Redis: a MULTI/EXEC of INCRBYFLOAT and EXPIRE NX).
//!
//! A store that does not answer within [`TIMEOUT`] is unreachable: the caller decides (the
//! ledger fails closed for the keys it counts); the Redis connection heals by itself when the
//! server returns.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the store may take to answer before it counts as unreachable.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// One operation on a counter.
pub enum Op<'a> {
    /// Adds `by` (creating the counter at 0, expiring after `ttl`); yields the new value.
    Add {
        key: &'a str,
        by: f64,
        ttl: Duration,
    },
    /// Yields the counter's value (0 when it does not exist).
    Get { key: &'a str },
}

/// The store did not answer; why, for the log (never for the client).
#[derive(Debug)]
pub struct Unreachable(pub String);

pub enum Store {
    Local(Mutex<HashMap<String, (f64, Instant)>>),
    Redis(redis::aio::ConnectionManager),
}

/// The most counters a local store holds before it sweeps out the expired ones.
const LOCAL_SWEEP_AT: usize = 10_000;

impl Store {
    /// The store `url` names (`redis://host:port[/db]`), or this process's own. Redis is
    /// connected lazily (a gateway starts while Redis is down, and counts once it is up);
    /// a URL that is not Redis's fails the start. Must run inside the Tokio runtime.
    pub fn open(url: Option<&str>) -> Result<Self, String> {
        let Some(url) = url else {
            return Ok(Self::Local(Mutex::new(HashMap::new())));
        };
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(format!(
                "gateway.store must be a redis:// (or rediss://) URL, not {url:?}"
            ));
        }
        let client = redis::Client::open(url)
            .map_err(|e| format!("gateway.store {url:?} is not a Redis URL: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let manager = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("gateway.store {url:?}: {e}"))?;
        Ok(Self::Redis(manager))
    }

    /// Applies `ops` atomically; their values, in order.
    pub async fn apply(&self, ops: &[Op<'_>]) -> Result<Vec<f64>, Unreachable> {
        match self {
            Self::Local(counters) => Ok(apply_local(counters, ops, Instant::now())),
            Self::Redis(manager) => {
                let mut pipe = redis::pipe();
                pipe.atomic();
                for op in ops {
                    match op {
                        Op::Add { key, by, ttl } => {
                            pipe.cmd("INCRBYFLOAT").arg(*key).arg(*by);
                            pipe.cmd("EXPIRE")
                                .arg(*key)
                                .arg(ttl.as_secs().max(1))
                                .arg("NX")
                                .ignore();
                        }
                        Op::Get { key } => {
                            pipe.cmd("GET").arg(*key);
                        }
                    }
                }
                let mut connection = manager.clone();
                let answer = tokio::time::timeout(
                    TIMEOUT,
                    pipe.query_async::<Vec<Option<f64>>>(&mut connection),
                )
                .await
                .map_err(|_| Unreachable(format!("no answer within {TIMEOUT:?}")))?;
                answer
                    .map(|values| values.into_iter().map(Option::unwrap_or_default).collect())
                    .map_err(|e| Unreachable(e.to_string()))
            }
        }
    }

    /// Whether the counters are shared with other gateways.
    pub fn shared(&self) -> bool {
        matches!(self, Self::Redis(_))
    }
}

fn apply_local(
    counters: &Mutex<HashMap<String, (f64, Instant)>>,
    ops: &[Op<'_>],
    now: Instant,
) -> Vec<f64> {
    let mut counters = counters
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if counters.len() > LOCAL_SWEEP_AT {
        counters.retain(|_, (_, expires)| *expires > now);
    }
    ops.iter()
        .map(|op| match op {
            Op::Add { key, by, ttl } => {
                let entry = counters
                    .entry((*key).to_string())
                    .or_insert((0.0, now + *ttl));
                if entry.1 <= now {
                    *entry = (0.0, now + *ttl);
                }
                entry.0 += by;
                entry.0
            }
            Op::Get { key } => counters
                .get(*key)
                .filter(|(_, expires)| *expires > now)
                .map_or(0.0, |(value, _)| *value),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_counters_add_atomically_and_expire() {
        let counters = Mutex::new(HashMap::new());
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        let add = |by| Op::Add {
            key: "k",
            by,
            ttl: minute,
        };
        assert_eq!(apply_local(&counters, &[add(1.0)], start), [1.0]);
        assert_eq!(
            apply_local(
                &counters,
                &[add(2.5), Op::Get { key: "k" }, Op::Get { key: "none" }],
                start
            ),
            [3.5, 3.5, 0.0]
        );
        let later = start + minute + Duration::from_secs(1);
        assert_eq!(
            apply_local(&counters, &[Op::Get { key: "k" }], later),
            [0.0]
        );
        assert_eq!(
            apply_local(&counters, &[add(1.0)], later),
            [1.0],
            "a new window"
        );
        assert!(Store::open(Some("http://example")).is_err());
    }
}
