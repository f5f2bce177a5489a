//! Prompt caching as Bedrock does it, for usage numbers a client can trust: the request up to
//! its last `cachePoint` (tools, then system, then messages) is the cached prefix; the first
//! request with a prefix writes it (`cacheWriteInputTokens`, and `cacheDetails` by TTL), a
//! later one within the TTL reads it (`cacheReadInputTokens`). A prefix shorter than the
//! minimum Bedrock caches ([`MIN_TOKENS`]) is not cached. Scripted usage wins.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The smallest prefix Bedrock caches (Claude's minimum for most models), in tokens.
pub const MIN_TOKENS: u64 = 1024;

/// A request's cacheable prefix.
pub struct Prefix {
    /// Identifies the prefix.
    pub key: u64,
    /// Its size in tokens (about four characters a token, as elsewhere in the emulator).
    pub tokens: u64,
    /// `5m` or `1h`, from its cache point.
    pub ttl: &'static str,
}

impl Prefix {
    pub fn lifetime(&self) -> Duration {
        if self.ttl == "1h" {
            Duration::from_secs(3600)
        } else {
            Duration::from_secs(300)
        }
    }
}

/// The prefix up to the request's last cache point, if it has one big enough to cache.
pub fn prefix(request: &Value) -> Option<Prefix> {
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut blocks: Vec<Value> = list(request.pointer("/toolConfig/tools"));
    blocks.extend(list(request.get("system")));
    for message in list(request.get("messages")) {
        blocks.extend(list(message.get("content")));
    }
    let last = blocks.iter().rposition(|b| b.get("cachePoint").is_some())?;
    let ttl = match blocks[last]
        .pointer("/cachePoint/ttl")
        .and_then(Value::as_str)
    {
        Some("1h") => "1h",
        _ => "5m",
    };
    let cached = Value::Array(blocks[..last].to_vec()).to_string();
    let tokens = (cached.chars().count() as u64).div_ceil(4);
    if tokens < MIN_TOKENS {
        return None;
    }
    let mut h = DefaultHasher::new();
    cached.hash(&mut h);
    Some(Prefix {
        key: h.finish(),
        tokens,
        ttl,
    })
}

/// Whether the prefix was cached and still is (then it is read), or not (then it is
/// written, and kept for its lifetime).
pub fn read_or_write(cache: &mut Vec<(u64, Instant)>, prefix: &Prefix, now: Instant) -> bool {
    cache.retain(|(_, expires)| *expires > now);
    if cache.iter().any(|(key, _)| *key == prefix.key) {
        return true;
    }
    cache.push((prefix.key, now + prefix.lifetime()));
    false
}
