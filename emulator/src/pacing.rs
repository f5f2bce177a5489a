//! How a streamed answer is delivered. Real Bedrock trickles an answer out as the model
//! generates it: the first event after a pause, the rest over time, and the bytes of one
//! event may arrive in several network reads (or several events in one). A client that only
//! ever sees whole frames in one read, at once, is not tested. So by default the emulator
//! paces its frames and writes them cut at random byte boundaries, from a seeded RNG so that
//! a failure can be replayed ([`Delivery::Paced`]); [`Delivery::Fast`] sends everything at
//! once, pre-encoded, for benchmarks that must measure the client alone.

use bytes::Bytes;
use std::hash::{Hash, Hasher};

/// How streamed answers are delivered (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Paced and split at random byte boundaries; `seed` and the request decide the plan.
    Paced {
        /// Replays the same plan for the same request.
        seed: u64,
    },
    /// Everything at once, in large writes (benchmarks).
    Fast,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery::Paced { seed: 1 }
    }
}

/// The pause before the first event, in milliseconds (a model's time to first token, kept
/// short so that test suites stay fast).
pub const FIRST_EVENT_MS: std::ops::RangeInclusive<u64> = 5..=30;
/// The pause before a later write, when there is one (one write in [`GAP_EVERY`]), in
/// milliseconds. The other writes leave at once, so several frames often arrive in one read.
pub const GAP_MS: std::ops::RangeInclusive<u64> = 1..=3;
/// On average one write in this many is preceded by a pause: long answers stay fast.
pub const GAP_EVERY: u32 = 8;

/// One write of a paced answer: wait `pause_ms`, then send `bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub pause_ms: u64,
    pub bytes: Bytes,
}

/// The RNG for one answer: the configured seed mixed with the request, so that the same
/// request replays the same plan whatever else the emulator serves meanwhile.
pub fn rng_for(seed: u64, request: &[u8]) -> fastrand::Rng {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (seed, request).hash(&mut h);
    fastrand::Rng::with_seed(h.finish())
}

/// Cuts `frames` into writes: each frame whole or in two or three pieces at random offsets,
/// each write after a short random pause (a longer one before the first).
pub fn plan(frames: Vec<Bytes>, rng: &mut fastrand::Rng) -> Vec<Write> {
    let mut writes = Vec::with_capacity(frames.len() * 2);
    for (i, frame) in frames.into_iter().enumerate() {
        writes.extend(split(frame, i == 0, rng));
    }
    writes
}

/// The writes of one frame; `first` when it opens the answer (it waits longest).
pub fn split(mut frame: Bytes, first: bool, rng: &mut fastrand::Rng) -> Vec<Write> {
    let mut writes = Vec::with_capacity(2);
    while !frame.is_empty() {
        let take = if frame.len() > 1 && rng.u8(0..3) == 0 {
            rng.usize(1..frame.len())
        } else {
            frame.len()
        };
        let pause_ms = if first && writes.is_empty() {
            rng.u64(FIRST_EVENT_MS)
        } else if rng.u32(0..GAP_EVERY) == 0 {
            rng.u64(GAP_MS)
        } else {
            0
        };
        writes.push(Write {
            pause_ms,
            bytes: frame.split_to(take),
        });
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<Bytes> {
        (0..50u8).map(|i| Bytes::from(vec![i; 40])).collect()
    }

    #[test]
    fn a_plan_keeps_every_byte_in_order_and_replays_from_its_seed() {
        let plan_a = plan(frames(), &mut rng_for(7, b"request"));
        let joined: Vec<u8> = plan_a.iter().flat_map(|w| w.bytes.to_vec()).collect();
        let expected: Vec<u8> = frames().iter().flat_map(|f| f.to_vec()).collect();
        assert_eq!(joined, expected);
        assert_eq!(plan_a, plan(frames(), &mut rng_for(7, b"request")));
        assert_ne!(plan_a, plan(frames(), &mut rng_for(8, b"request")));
        // Some frames are split, and the first write waits longest.
        assert!(plan_a.len() > frames().len());
        assert!(FIRST_EVENT_MS.contains(&plan_a[0].pause_ms));
    }
}
