//! [`Expiring`]: the one map of key → expiry instant that every "not again
//! for a while" in the bot uses: cooldowns and the one-reply-per-message
//! memory ([`super::limiter`]), the alert cooldown, and the adapter's
//! feedback de-duplication.
//!
//! Memory stays bounded: callers sweep expired entries now and then, and
//! a hard cap ([`MAX_ENTRIES`]) drops the half that expires first when a
//! flood of distinct keys outpaces the sweep. Every call takes `now`, so
//! it is tested without waiting.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Most entries one map may hold; beyond this the half expiring first is
/// dropped.
pub const MAX_ENTRIES: usize = 100_000;

/// A set of keys, each remembered until its own expiry instant.
#[derive(Debug)]
pub struct Expiring<K> {
    until: HashMap<K, Instant>,
}

impl<K: Eq + Hash + Copy> Default for Expiring<K> {
    fn default() -> Self {
        Self {
            until: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Copy> Expiring<K> {
    /// Whether `key` is remembered and not expired at `now`.
    pub fn active(&self, key: &K, now: Instant) -> bool {
        self.until.get(key).is_some_and(|t| *t > now)
    }

    /// Remembers `key` for `ttl` from `now` (replacing an earlier expiry).
    pub fn set(&mut self, key: K, now: Instant, ttl: Duration) {
        if self.until.len() >= MAX_ENTRIES {
            self.sweep(now);
        }
        if self.until.len() >= MAX_ENTRIES {
            // Still full of live entries: drop the half that expires first.
            let mut times: Vec<Instant> = self.until.values().copied().collect();
            times.sort_unstable();
            let cut = times[times.len() / 2];
            self.until.retain(|_, t| *t > cut);
        }
        self.until.insert(key, now + ttl);
    }

    /// Remembers `key` for `ttl` unless it is already active; true if it
    /// was not (the first time within the window).
    pub fn first(&mut self, key: K, now: Instant, ttl: Duration) -> bool {
        if self.active(&key, now) {
            return false;
        }
        self.set(key, now, ttl);
        true
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: &K) {
        self.until.remove(key);
    }

    /// Drops every entry expired at `now`.
    pub fn sweep(&mut self, now: Instant) {
        self.until.retain(|_, t| *t > now);
    }

    pub fn len(&self) -> usize {
        self.until.len()
    }

    pub fn is_empty(&self) -> bool {
        self.until.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_key_is_active_until_it_expires_and_first_only_once() {
        let t0 = Instant::now();
        let mut seen = Expiring::default();
        assert!(seen.first(7u64, t0, MINUTE));
        assert!(!seen.first(7, t0 + MINUTE / 2, MINUTE), "still remembered");
        assert!(seen.active(&7, t0 + MINUTE - Duration::from_millis(1)));
        assert!(!seen.active(&7, t0 + MINUTE), "expired at its instant");
        assert!(seen.first(7, t0 + MINUTE, MINUTE), "again after expiry");
        seen.remove(&7);
        assert!(!seen.active(&7, t0 + MINUTE));
        seen.set(8, t0, MINUTE);
        seen.sweep(t0 + 2 * MINUTE);
        assert!(seen.is_empty());
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_under_the_cap() {
        let t0 = Instant::now();
        let mut seen = Expiring::default();
        for i in 0..(MAX_ENTRIES as u64 + 10) {
            // Later keys live longer, so the cap drops the earliest ones.
            seen.set(i, t0, MINUTE + Duration::from_millis(i));
        }
        assert!(seen.len() <= MAX_ENTRIES);
        assert!(
            seen.active(&(MAX_ENTRIES as u64 + 9), t0),
            "the newest stays"
        );
        assert!(!seen.active(&0, t0), "the earliest to expire went first");
    }
}
