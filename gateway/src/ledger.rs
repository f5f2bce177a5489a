//! Per-key rate limits and budgets (`gateway.keys[].limits`, `.budget`), counted in the
//! store (this process's, or Redis shared by every replica). Before a model call: the
//! request is counted against requests per minute, the tokens already used this minute
//! against tokens per minute, the spend of this period against the budget; past any of them
//! the request is refused with a 429 (with `Retry-After` and OpenAI's `x-ratelimit-*`
//! headers; a spent budget is OpenAI's `insufficient_quota`). After the answer: its tokens
//! and its cost (the provider's price) are added, in batches every 50 ms (one round trip for
//! all answers since the last, off their path; kept for the next batch if the store is
//! down). Keys without limits or budget never touch
//! the store; for the others an unreachable store is a 503: limits that cannot be checked are
//! not waived.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::errors::ApiError;
use crate::keys::{KeyPolicy, Period};
use crate::metrics::Metrics;
use crate::store::{Op, Store};

pub struct Ledger {
    store: Store,
    metrics: Arc<Metrics>,
    /// Charges not yet in the store: each counter's key, what to add and its lifetime.
    /// They go in batches every [`CHARGE_EVERY`] (one round trip for all of them, off every
    /// request's path).
    pending: std::sync::Mutex<std::collections::HashMap<String, (f64, Duration)>>,
    flusher: std::sync::Once,
}

/// How often charges reach the store: limits and budgets lag the answers by at most this.
const CHARGE_EVERY: Duration = Duration::from_millis(50);

/// The counters of one key, now.
struct Counters {
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The name of the budget period `now` (UTC seconds) falls in (`2026-12-03`, `2026-12`), and
/// the time left in it.
fn period(period: Period, now: u64) -> (String, Duration) {
    let day = now / 86_400;
    let (year, month, date) = civil_from_days(day as i64);
    match period {
        Period::Day => (
            format!("{year:04}-{month:02}-{date:02}"),
            Duration::from_secs(86_400 - now % 86_400),
        ),
        Period::Month => {
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            let next = days_from_civil(next_year, next_month, 1) as u64 * 86_400;
            (
                format!("{year:04}-{month:02}"),
                Duration::from_secs(next.saturating_sub(now)),
            )
        }
    }
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// algorithm, public domain).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let date = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, date)
}

/// The day counted from 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, date: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(date) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What a request admitted under a counted key owes once answered.
pub struct Account {
    policy: Arc<KeyPolicy>,
    counters: Counters,
    ledger: Arc<Ledger>,
}

impl Ledger {
    pub fn new(store: Store, metrics: Arc<Metrics>) -> Self {
        Self {
            store,
            metrics,
            pending: Default::default(),
            flusher: std::sync::Once::new(),
        }
    }

    /// Adds `by` to the counter `key` (living `ttl`) with the next batch.
    fn add_later(self: &Arc<Self>, key: String, by: f64, ttl: Duration) {
        {
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let entry = pending.entry(key).or_insert((0.0, ttl));
            entry.0 += by;
        }
        // The batches start with the first charge (on the runtime) and run as long as the
        // ledger lives.
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

    /// Sends the pending charges in one batch; on failure they are kept for the next.
    async fn flush(&self) {
        let batch: Vec<(String, (f64, Duration))> = {
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.drain().collect()
        };
        if batch.is_empty() {
            return;
        }
        let ops: Vec<Op<'_>> = batch
            .iter()
            .map(|(key, (by, ttl))| Op::Add {
                key,
                by: *by,
                ttl: *ttl,
            })
            .collect();
        if let Err(why) = self.store.apply(&ops).await {
            tracing::warn!(why = %why.0, "charges kept for the next batch: the store is unreachable");
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (key, (by, ttl)) in batch {
                pending.entry(key).or_insert((0.0, ttl)).0 += by;
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
        let (requests, tokens) = (values[0] as u64, values[1] as u64);
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
            let spent = values[2];
            if spent >= budget.usd {
                self.metrics.rate_limited("budget");
                return Err(ApiError::budget_spent(
                    format!(
                        "{} has spent its budget of ${:.2} for this {} (${spent:.4}); it renews in {}s",
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
        Ok(Some(Account {
            policy,
            counters,
            ledger: self.clone(),
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_periods_roll_over_in_utc() {
        // 2026-12-03T19:00:00Z
        let now = 1_796_324_400;
        assert_eq!(period(Period::Day, now).0, "2026-12-03");
        assert_eq!(period(Period::Day, now).1, Duration::from_secs(5 * 3600));
        let (month, left) = period(Period::Month, now);
        assert_eq!(month, "2026-12");
        // To 2027-01-01T00:00:00Z: 28 days and 5 hours.
        assert_eq!(left, Duration::from_secs(28 * 86_400 + 5 * 3600));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
