//! What one replica knows of a key's shared counters, and the requests it reserved.
//!
//! With a shared store, asking it for every request would put a round trip on every
//! request's path. Instead a replica reserves request slots in the store ahead of demand
//! (counted there like requests, so every replica and the store see them) and admits on its
//! own while it holds a reserved slot and its view of the key's tokens and spend, refreshed
//! by the same round trip, is fresh and within their limits. Each admitted request is still
//! one increment of the shared counter that came back within the limit, so the request
//! limit stays exact across replicas; slots a replica did not use are given back.
//! Anything else (no view, a stale one, a new minute or period, no slot, a limit reached)
//! goes to the store, which decides; a store that stops answering leaves the view stale
//! within [`FRESH`], and so fails closed.

use std::time::{Duration, Instant};

use super::Counters;
use crate::keys::KeyPolicy;

/// A view older than this is not used: admission asks the store (and so fails closed
/// within this time of the store going away).
pub const FRESH: Duration = Duration::from_millis(250);

/// A replica holds at most this share of what remains of a request limit.
pub const LEASE_SHARE: u64 = 8;

/// One key's shared counters as this replica last saw them, and the slots it holds.
pub struct KeyView {
    /// The counters this view is of (a new minute or period is a new view).
    pub requests_key: String,
    pub tokens_key: String,
    pub spend_key: Option<String>,
    /// The key's limit of requests per minute (none: slots without bound).
    limit: Option<u64>,
    /// The shared values at the last round trip (requests with every replica's slots).
    requests: u64,
    tokens: u64,
    spend: f64,
    /// Request slots this replica holds in the store and has not used.
    reserved: u64,
    /// Requests admitted here (on slots) since the last batch.
    used: u64,
    /// Requests of this key the store admitted since the last batch.
    asked: u64,
    synced: Instant,
}

/// The shared values one round trip read.
#[derive(Clone, Copy)]
pub struct Shared {
    pub requests: u64,
    pub tokens: u64,
    pub spend: f64,
}

impl KeyView {
    /// A view of `counters` with the values the store just answered to an admission of
    /// a request of `policy`.
    pub fn new(policy: &KeyPolicy, counters: &Counters, shared: Shared, now: Instant) -> Self {
        Self {
            limit: policy.limits.and_then(|l| l.requests_per_minute),
            requests_key: counters.requests_key.clone(),
            tokens_key: counters.tokens_key.clone(),
            spend_key: counters.spend.as_ref().map(|(key, _)| key.clone()),
            requests: shared.requests,
            tokens: shared.tokens,
            spend: shared.spend,
            reserved: 0,
            used: 0,
            asked: 1,
            synced: now,
        }
    }

    /// Whether this view is of the counters of `counters`.
    pub fn is_of(&self, counters: &Counters) -> bool {
        self.requests_key == counters.requests_key
            && self.spend_key.as_deref() == counters.spend.as_ref().map(|(key, _)| key.as_str())
    }

    /// Admits a request on a reserved slot, without the store, if the view allows it.
    pub fn admit_locally(&mut self, policy: &KeyPolicy, now: Instant) -> bool {
        if self.reserved == 0 || now.duration_since(self.synced) >= FRESH {
            return false;
        }
        let tokens_left = policy
            .limits
            .and_then(|l| l.tokens_per_minute)
            .is_none_or(|limit| self.tokens < limit);
        let budget_left = policy.budget.is_none_or(|b| self.spend < b.usd);
        if !(tokens_left && budget_left) {
            return false;
        }
        self.reserved -= 1;
        self.used += 1;
        true
    }

    /// The store admitted a request of this key and answered `shared`.
    pub fn asked(&mut self, shared: Shared, now: Instant) {
        self.asked += 1;
        self.refresh(shared, now);
    }

    /// Whether the next batch has anything to settle for this view.
    pub fn active(&self) -> bool {
        self.used > 0 || self.reserved > 0 || self.asked > 0
    }

    /// What the next batch adds to the shared request counter: the slots to reserve (or,
    /// negative, to give back) so that this replica holds about twice the requests it
    /// admitted since the last batch (on slots or by the store), or half what it held,
    /// and never more than `1/LEASE_SHARE` of what remains of the limit.
    /// Slots given back are no longer this replica's from now.
    pub fn plan(&mut self) -> i64 {
        let used = std::mem::take(&mut self.used);
        let asked = std::mem::take(&mut self.asked);
        let remaining = self
            .limit
            .map_or(u64::MAX, |l| l.saturating_sub(self.requests));
        // Held slots decay by half a batch, so a short lull does not give them all back.
        let demand = (2 * (used + asked)).max(self.reserved / 2);
        let target = demand.min(remaining / LEASE_SHARE);
        let change = target as i64 - self.reserved as i64;
        if change < 0 {
            self.reserved = target;
        }
        change
    }

    /// The batch that added `change` arrived and read `shared`. Slots past the limit (other
    /// replicas or admissions came first) are never used.
    pub fn settled(&mut self, change: i64, shared: Shared, now: Instant) {
        if change > 0 {
            let over = self.limit.map_or(0, |l| shared.requests.saturating_sub(l));
            self.reserved += (change as u64).saturating_sub(over);
        }
        self.refresh(shared, now);
    }

    /// The batch that would have added `change` did not arrive: slots it gave back are
    /// still this replica's.
    pub fn not_settled(&mut self, change: i64) {
        if change < 0 {
            self.reserved += change.unsigned_abs();
        }
    }

    /// The store answered `shared` just now.
    fn refresh(&mut self, shared: Shared, now: Instant) {
        self.requests = shared.requests;
        self.tokens = shared.tokens;
        self.spend = shared.spend;
        self.synced = now;
    }

    /// Whether the view holds nothing and has not been refreshed for `age`: a key no
    /// longer in use.
    pub fn idle_for(&self, age: Duration, now: Instant) -> bool {
        !self.active() && now.duration_since(self.synced) >= age
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Budget, Limits, Period};

    fn policy(requests_per_minute: u64) -> KeyPolicy {
        KeyPolicy {
            id: "team".into(),
            models: None,
            limits: Some(Limits {
                requests_per_minute: Some(requests_per_minute),
                tokens_per_minute: Some(1_000),
            }),
            budget: Some(Budget {
                usd: 1.0,
                period: Period::Day,
            }),
        }
    }

    fn shared(requests: u64, tokens: u64, spend: f64) -> Shared {
        Shared {
            requests,
            tokens,
            spend,
        }
    }

    /// A view just made by an admission the store answered with `requests` (and no
    /// tokens or spend yet).
    fn view(requests: u64, now: Instant) -> KeyView {
        let policy = policy(800);
        let counters = Counters::of(&policy, 0);
        KeyView::new(&policy, &counters, shared(requests, 0, 0.0), now)
    }

    fn admitted(view: &mut KeyView, policy: &KeyPolicy, now: Instant) -> usize {
        (0..1_000)
            .take_while(|_| view.admit_locally(policy, now))
            .count()
    }

    #[test]
    fn slots_follow_demand_and_never_pass_a_share_of_what_remains() {
        let now = Instant::now();
        let policy = policy(800);
        let mut seen = view(400, now);
        // No slot yet: the store decides.
        assert_eq!(admitted(&mut seen, &policy, now), 0);
        // The batch after a store admission reserves twice that.
        let change = seen.plan();
        assert_eq!(change, 2);
        seen.settled(change, shared(402, 0, 0.0), now);
        assert_eq!(admitted(&mut seen, &policy, now), 2);
        // Used: the next batch reserves twice that.
        let change = seen.plan();
        assert_eq!(change, 4);
        seen.settled(change, shared(404, 0, 0.0), now);
        assert_eq!(admitted(&mut seen, &policy, now), 4);
        // Busy: at most an eighth of what remains (396 / 8).
        for _ in 0..3 {
            let change = seen.plan();
            seen.settled(change, shared(404, 0, 0.0), now);
            admitted(&mut seen, &policy, now);
        }
        let change = seen.plan();
        assert_eq!(change, 49);
        // Idle: half the slots go back each batch, then the rest.
        seen.settled(change, shared(453, 0, 0.0), now);
        let mut given_back = 0;
        while seen.active() {
            let change = seen.plan();
            assert!(change <= 0);
            given_back -= change;
            seen.settled(change, shared(453, 0, 0.0), now);
        }
        assert_eq!(given_back, 49);
        assert_eq!(admitted(&mut seen, &policy, now), 0);
    }

    #[test]
    fn slots_past_the_limit_are_never_used() {
        let now = Instant::now();
        let policy = policy(800);
        let mut seen = view(700, now);
        let change = seen.plan();
        assert_eq!(change, 2);
        // Others came first: the counter passed the limit by one with this reservation.
        seen.settled(change, shared(801, 0, 0.0), now);
        assert_eq!(admitted(&mut seen, &policy, now), 1);
        // Fewer than LEASE_SHARE remain: nothing is reserved.
        let mut near = view(795, now);
        assert_eq!(near.plan(), 0);
    }

    #[test]
    fn stale_views_and_spent_tokens_or_budget_go_to_the_store() {
        let now = Instant::now();
        let policy = policy(800);
        let with = |tokens, spend| {
            let mut seen = view(0, now);
            let change = seen.plan();
            seen.settled(change, shared(1, tokens, spend), now);
            seen
        };
        assert_eq!(admitted(&mut with(1_000, 0.0), &policy, now), 0);
        assert_eq!(admitted(&mut with(0, 1.0), &policy, now), 0);
        assert_eq!(admitted(&mut with(0, 0.0), &policy, now + FRESH), 0);
        assert_eq!(admitted(&mut with(0, 0.0), &policy, now), 2);
    }

    #[test]
    fn slots_a_failed_batch_gave_back_are_still_held() {
        let now = Instant::now();
        let policy = policy(800);
        let mut seen = view(0, now);
        let change = seen.plan();
        seen.settled(change, shared(1, 0, 0.0), now);
        let change = seen.plan();
        assert_eq!(change, -1);
        seen.not_settled(change);
        assert_eq!(admitted(&mut seen, &policy, now), 2);
    }
}
