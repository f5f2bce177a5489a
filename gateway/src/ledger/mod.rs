//! Per-key rate limits and budgets (`gateway.keys[].limits`, `.budget`), counted in the
//! store (this process's, or Redis shared by every replica). Before a model call: the
//! request is counted against requests per minute, the tokens already used this minute
//! against tokens per minute, the spend of this period against the budget; past any of them
//! the request is refused with a 429 (with `Retry-After` and OpenAI's `x-ratelimit-*`
//! headers; a spent budget is OpenAI's `insufficient_quota`). After the answer: its tokens
//! and its cost (the provider's price) are added, in batches every 50 ms (one round trip for
//! all answers since the last, off their path; kept for the next batch if the store is
//! down). Keys without limits or budget never touch the store; for the others an
//! unreachable store is a 503: limits that cannot be checked are not waived.
//!
//! With a shared store, a replica admits most requests of a busy key without a round trip,
//! from its view of the key's shared counters and a lease of what remains ([`view`]); the
//! store decides whenever the view cannot.

mod calendar;
mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::errors::ApiError;
use crate::keys::{KeyPolicy, Period};
use crate::metrics::Metrics;
use crate::store::{Op, Store};
use calendar::{period, unix_now};
use view::{KeyView, Shared};

pub struct Ledger {
    store: Store,
    metrics: Arc<Metrics>,
    /// Charges not yet in the store: each counter's key, what to add and its lifetime.
    /// They go in batches every [`CHARGE_EVERY`] (one round trip for all of them, off every
    /// request's path).
    pending: Mutex<HashMap<String, (f64, Duration)>>,
    /// With a shared store: each key's view of its shared counters, by key id.
    views: Mutex<HashMap<String, KeyView>>,
    flusher: std::sync::Once,
}

/// How often charges reach the store: limits and budgets lag the answers by at most this.
const CHARGE_EVERY: Duration = Duration::from_millis(50);

/// The counters of one key, now.
pub(crate) struct Counters {
    requests_key: String,
    tokens_key: String,
    /// With a budget: the period's spend counter and when the period ends.
    spend: Option<(String, Duration)>,
    /// Seconds left in this minute.
    minute_left: u64,
}

/// How long a minute's counters are kept (the minute, and a margin for clocks apart).
const WINDOW_TTL: Duration = Duration::from_secs(120);

impl Counters {
    fn of(policy: &KeyPolicy, now: u64) -> Self {
        let minute = now / 60;
        let id = &policy.id;
        Self {
            requests_key: format!("gw:rpm:{id}:{minute}"),
            tokens_key: format!("gw:tpm:{id}:{minute}"),
            spend: policy.budget.map(|budget| {
                let (name, left) = period(budget.period, now);
                (format!("gw:spend:{id}:{name}"), left)
            }),
            minute_left: 60 - now % 60,
        }
    }
}

/// What a request admitted under a counted key owes once answered.
pub struct Account {
    policy: Arc<KeyPolicy>,
    counters: Counters,
    ledger: Arc<Ledger>,
}

/// What a batch adds to a key's shared request counter, to settle when it answers.
struct Settling {
    id: String,
    requests_key: String,
    tokens_key: String,
    spend_key: Option<String>,
    change: i64,
}

impl Settling {
    /// The view this batch settles, unless a new window replaced it meanwhile.
    fn view_in<'a>(&self, views: &'a mut HashMap<String, KeyView>) -> Option<&'a mut KeyView> {
        views
            .get_mut(&self.id)
            .filter(|view| view.requests_key == self.requests_key)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Ledger {
    pub fn new(store: Store, metrics: Arc<Metrics>) -> Self {
        Self {
            store,
            metrics,
            pending: Default::default(),
            views: Default::default(),
            flusher: std::sync::Once::new(),
        }
    }

    /// Adds `by` to the counter `key` (living `ttl`) with the next batch.
    fn add_later(self: &Arc<Self>, key: String, by: f64, ttl: Duration) {
        lock(&self.pending).entry(key).or_insert((0.0, ttl)).0 += by;
        self.start_batches();
    }

    /// The batches start with the first charge or locally admitted request (on the
    /// runtime) and run as long as the ledger lives.
    fn start_batches(self: &Arc<Self>) {
        self.flusher.call_once(|| {
            let ledger = Arc::downgrade(self);
            tokio::spawn(async move {
                let mut every = tokio::time::interval(CHARGE_EVERY);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    let Some(ledger) = ledger.upgrade() else {
                        return;
                    };
                    ledger.flush().await;
                }
            });
        });
    }

    /// Sends the pending charges and each busy key's reservation of request slots in one
    /// batch, reading back those keys' shared counters; on failure the charges are kept
    /// for the next.
    async fn flush(&self) {
        let charges: Vec<(String, (f64, Duration))> = lock(&self.pending).drain().collect();
        let settling: Vec<Settling> = {
            let mut views = lock(&self.views);
            let now = Instant::now();
            views.retain(|_, view| !view.idle_for(WINDOW_TTL, now));
            views
                .iter_mut()
                .filter(|(_, view)| view.active())
                .map(|(id, view)| Settling {
                    id: id.clone(),
                    requests_key: view.requests_key.clone(),
                    tokens_key: view.tokens_key.clone(),
                    spend_key: view.spend_key.clone(),
                    change: view.plan(),
                })
                .collect()
        };
        if charges.is_empty() && settling.is_empty() {
            return;
        }
        let mut ops: Vec<Op<'_>> = charges
            .iter()
            .map(|(key, (by, ttl))| Op::Add {
                key,
                by: *by,
                ttl: *ttl,
            })
            .collect();
        for key in &settling {
            ops.push(Op::Add {
                key: &key.requests_key,
                by: key.change as f64,
                ttl: WINDOW_TTL,
            });
            ops.push(Op::Get {
                key: &key.tokens_key,
            });
            if let Some(spend_key) = &key.spend_key {
                ops.push(Op::Get { key: spend_key });
            }
        }
        let answer = self.store.apply(&ops).await;
        let mut views = lock(&self.views);
        match answer {
            Ok(values) => {
                let now = Instant::now();
                let mut read = values[charges.len()..].iter().copied();
                for key in &settling {
                    let shared = Shared {
                        requests: read.next().unwrap_or_default() as u64,
                        tokens: read.next().unwrap_or_default() as u64,
                        spend: if key.spend_key.is_some() {
                            read.next().unwrap_or_default()
                        } else {
                            0.0
                        },
                    };
                    if let Some(view) = key.view_in(&mut views) {
                        view.settled(key.change, shared, now);
                    }
                }
            }
            Err(why) => {
                tracing::warn!(why = %why.0, "charges kept for the next batch: the store is unreachable");
                for key in &settling {
                    if let Some(view) = key.view_in(&mut views) {
                        view.not_settled(key.change);
                    }
                }
                drop(views);
                let mut pending = lock(&self.pending);
                for (key, (by, ttl)) in charges {
                    pending.entry(key).or_insert((0.0, ttl)).0 += by;
                }
            }
        }
    }

    pub fn shared(&self) -> bool {
        self.store.shared()
    }

    /// Counts a request of the key `policy` (none: a gateway without keys) and checks its
    /// limits and budget; the account to charge once answered.
    pub async fn admit(
        self: &Arc<Self>,
        policy: Option<Arc<KeyPolicy>>,
    ) -> Result<Option<Account>, ApiError> {
        let Some(policy) = policy.filter(|p| p.counted()) else {
            return Ok(None);
        };
        let counters = Counters::of(&policy, unix_now());
        if self.store.shared() && self.admit_locally(&policy, &counters) {
            self.metrics.admitted("slot");
        } else {
            self.admit_in_store(&policy, &counters).await?;
            self.metrics.admitted("store");
        }
        Ok(Some(Account {
            policy,
            counters,
            ledger: self.clone(),
        }))
    }

    /// Whether this replica's view of the key admits the request without the store.
    fn admit_locally(&self, policy: &KeyPolicy, counters: &Counters) -> bool {
        lock(&self.views)
            .get_mut(&policy.id)
            .filter(|view| view.is_of(counters))
            .is_some_and(|view| view.admit_locally(policy, Instant::now()))
    }

    /// Counts the request in the store and checks the key's limits and budget against
    /// what all replicas counted.
    async fn admit_in_store(
        self: &Arc<Self>,
        policy: &KeyPolicy,
        counters: &Counters,
    ) -> Result<(), ApiError> {
        let mut ops = vec![
            Op::Add {
                key: &counters.requests_key,
                by: 1.0,
                ttl: WINDOW_TTL,
            },
            Op::Get {
                key: &counters.tokens_key,
            },
        ];
        if let Some((spend_key, _)) = &counters.spend {
            ops.push(Op::Get { key: spend_key });
        }
        let values = self.store.apply(&ops).await.map_err(|why| {
            tracing::warn!(key = %policy.id, why = %why.0, "the store is unreachable: a counted key is refused");
            ApiError::store_unavailable()
        })?;
        let shared = Shared {
            requests: values[0] as u64,
            tokens: values[1] as u64,
            spend: values.get(2).copied().unwrap_or_default(),
        };
        if self.store.shared() {
            let now = Instant::now();
            let mut views = lock(&self.views);
            match views.get_mut(&policy.id) {
                Some(view) if view.is_of(counters) => view.asked(shared, now),
                _ => {
                    views.insert(
                        policy.id.clone(),
                        KeyView::new(policy, counters, shared, now),
                    );
                }
            }
            drop(views);
            // The next batch reserves slots for this key.
            self.start_batches();
        }
        self.check(policy, counters, shared)
    }

    /// Refuses a request whose key is past a limit or its budget, by the shared counters.
    fn check(
        &self,
        policy: &KeyPolicy,
        counters: &Counters,
        shared: Shared,
    ) -> Result<(), ApiError> {
        let Shared {
            requests,
            tokens,
            spend,
        } = shared;
        if let Some(limits) = policy.limits {
            let reset = counters.minute_left;
            let headers = |kind: &str, limit: u64, used: u64| {
                vec![
                    (format!("x-ratelimit-limit-{kind}"), limit.to_string()),
                    (
                        format!("x-ratelimit-remaining-{kind}"),
                        limit.saturating_sub(used).to_string(),
                    ),
                    (format!("x-ratelimit-reset-{kind}"), format!("{reset}s")),
                ]
            };
            if let Some(limit) = limits.requests_per_minute.filter(|l| requests > *l) {
                self.metrics.rate_limited("requests");
                return Err(ApiError::rate_limited(
                    "requests",
                    format!(
                        "rate limit reached for {} on requests per minute: limit {limit}; try again in {reset}s",
                        policy.id
                    ),
                    reset,
                    headers("requests", limit, requests),
                ));
            }
            if let Some(limit) = limits.tokens_per_minute.filter(|l| tokens >= *l) {
                self.metrics.rate_limited("tokens");
                return Err(ApiError::rate_limited(
                    "tokens",
                    format!(
                        "rate limit reached for {} on tokens per minute: limit {limit}, used {tokens}; try again in {reset}s",
                        policy.id
                    ),
                    reset,
                    headers("tokens", limit, tokens),
                ));
            }
        }
        if let (Some(budget), Some((_, left))) = (policy.budget, &counters.spend) {
            if spend >= budget.usd {
                self.metrics.rate_limited("budget");
                return Err(ApiError::budget_spent(
                    format!(
                        "{} has spent its budget of ${:.2} for this {} (${spend:.4}); it renews in {}s",
                        policy.id,
                        budget.usd,
                        match budget.period {
                            Period::Day => "day",
                            Period::Month => "month",
                        },
                        left.as_secs()
                    ),
                    left.as_secs(),
                ));
            }
        }
        Ok(())
    }

    /// The spend, tokens and requests of each key now (for the admin endpoint); `None` where
    /// the store did not answer.
    pub async fn usage(&self, policy: &KeyPolicy) -> Option<serde_json::Value> {
        let counters = Counters::of(policy, unix_now());
        let mut ops = vec![
            Op::Get {
                key: &counters.requests_key,
            },
            Op::Get {
                key: &counters.tokens_key,
            },
        ];
        if let Some((spend_key, _)) = &counters.spend {
            ops.push(Op::Get { key: spend_key });
        }
        let values = self.store.apply(&ops).await.ok()?;
        Some(serde_json::json!({
            "requests_this_minute": values[0] as u64,
            "tokens_this_minute": values[1] as u64,
            "spend_usd_this_period": values.get(2).copied(),
        }))
    }
}

impl Account {
    /// Charges the answer's tokens and cost, with the next batch (the client does not wait
    /// for the store).
    pub fn charge(&self, tokens: u64, cost_usd: Option<f64>) {
        let cost = cost_usd.unwrap_or(0.0);
        if cost > 0.0 {
            self.ledger.metrics.spend(&self.policy.id, cost);
        }
        self.ledger
            .add_later(self.counters.tokens_key.clone(), tokens as f64, WINDOW_TTL);
        if let Some((spend_key, left)) = &self.counters.spend {
            // The period, and a day for clocks apart.
            let ttl = *left + Duration::from_secs(86_400);
            self.ledger.add_later(spend_key.clone(), cost, ttl);
        }
    }
}
