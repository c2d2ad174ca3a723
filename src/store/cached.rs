//! The state the reply policy reads on every member message (pins,
//! per-server settings, opt-outs), held in memory and written through to
//! the store underneath, so a message costs no database call.
//!
//! [`CachedStore`] is itself a [`Store`]: reads of that state come from
//! memory, writes go to the store first and change memory only when the
//! store accepted them, one write at a time, so memory and disk change in
//! the same order. Feedback counts and stats pass straight through.
//!
//! This process's writes are the only ones it sees: several processes
//! sharing one database would each keep their own copy (the issue on
//! sharding owns making them coherent).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::{Count, GuildSettings, Pin, PolicySnapshot, Store, StoreResult, TopicStats};

/// A [`Store`] whose policy state lives in memory; see the module doc.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    state: RwLock<State>,
    /// Held across a write to `inner` and the matching change in `state`.
    writes: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    /// By channel id.
    pins: HashMap<u64, Pin>,
    /// By guild id; only servers with settings stored.
    settings: HashMap<u64, GuildSettings>,
    opted_out: HashSet<u64>,
}

impl State {
    fn from_snapshot(snapshot: PolicySnapshot) -> Self {
        Self {
            pins: snapshot
                .pins
                .into_iter()
                .map(|p| (p.channel_id, p))
                .collect(),
            settings: snapshot
                .settings
                .into_iter()
                .map(|s| (s.guild_id, s.settings))
                .collect(),
            opted_out: snapshot.opted_out.into_iter().collect(),
        }
    }
}

impl CachedStore {
    /// Reads the policy state from `inner` once (one query per table).
    pub fn load(inner: Arc<dyn Store>) -> StoreResult<Self> {
        let state = State::from_snapshot(inner.snapshot()?);
        Ok(Self {
            inner,
            state: RwLock::new(state),
            writes: Mutex::new(()),
        })
    }

    /// The pin of `channel_id`, from memory.
    pub fn pin_of(&self, channel_id: u64) -> Option<Pin> {
        self.read(|s| s.pins.get(&channel_id).cloned())
    }

    /// A server's settings (the defaults when none are stored), from memory.
    pub fn settings_of(&self, guild_id: u64) -> GuildSettings {
        self.read(|s| s.settings.get(&guild_id).cloned().unwrap_or_default())
    }

    /// Whether `user_id` opted out of auto-replies, from memory.
    pub fn is_opted_out(&self, user_id: u64) -> bool {
        self.read(|s| s.opted_out.contains(&user_id))
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `write` on the store underneath; on success, applies `apply`
    /// to memory with its result, before the next write may start.
    fn write_through<T>(
        &self,
        write: impl FnOnce(&dyn Store) -> StoreResult<T>,
        apply: impl FnOnce(&mut State, &T),
    ) -> StoreResult<T> {
        let _one_at_a_time = self.writes.lock().unwrap_or_else(PoisonError::into_inner);
        let result = write(self.inner.as_ref())?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        apply(&mut state, &result);
        Ok(result)
    }
}

impl Store for CachedStore {
    fn put_pin(&self, pin: &Pin) -> StoreResult<Option<Pin>> {
        self.write_through(
            |s| s.put_pin(pin),
            |state, _| {
                state.pins.insert(pin.channel_id, pin.clone());
            },
        )
    }

    fn pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        Ok(self.pin_of(channel_id))
    }

    fn remove_pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        self.write_through(
            |s| s.remove_pin(channel_id),
            |state, _| {
                state.pins.remove(&channel_id);
            },
        )
    }

    fn remove_pin_of_message(&self, channel_id: u64, message_id: u64) -> StoreResult<Option<Pin>> {
        self.write_through(
            |s| s.remove_pin_of_message(channel_id, message_id),
            |state, removed| {
                if removed.is_some() {
                    state.pins.remove(&channel_id);
                }
            },
        )
    }

    fn pins(&self, guild_id: u64) -> StoreResult<Vec<Pin>> {
        let mut pins: Vec<Pin> = self.read(|s| {
            s.pins
                .values()
                .filter(|p| p.guild_id == guild_id)
                .cloned()
                .collect()
        });
        pins.sort_by_key(|p| p.channel_id);
        Ok(pins)
    }

    fn remove_guild(&self, guild_id: u64) -> StoreResult<usize> {
        self.write_through(
            |s| s.remove_guild(guild_id),
            |state, _| {
                state.pins.retain(|_, p| p.guild_id != guild_id);
                state.settings.remove(&guild_id);
            },
        )
    }

    fn settings(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        Ok(self.settings_of(guild_id))
    }

    fn snapshot(&self) -> StoreResult<PolicySnapshot> {
        self.inner.snapshot()
    }

    fn put_settings(&self, guild_id: u64, settings: &GuildSettings) -> StoreResult<()> {
        self.write_through(
            |s| s.put_settings(guild_id, settings),
            |state, _| {
                state.settings.insert(guild_id, settings.clone());
            },
        )
    }

    fn opted_out(&self, user_id: u64) -> StoreResult<bool> {
        Ok(self.is_opted_out(user_id))
    }

    fn set_opted_out(&self, user_id: u64, out: bool) -> StoreResult<bool> {
        self.write_through(
            |s| s.set_opted_out(user_id, out),
            |state, _| {
                if out {
                    state.opted_out.insert(user_id);
                } else {
                    state.opted_out.remove(&user_id);
                }
            },
        )
    }

    fn count(&self, guild_id: u64, topic: &str, what: Count, at: i64) -> StoreResult<()> {
        self.inner.count(guild_id, topic, what, at)
    }

    fn stats(&self, guild_id: u64, since: i64) -> StoreResult<Vec<TopicStats>> {
        self.inner.stats(guild_id, since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Guarded;
    use crate::store::{SqliteStore, StoreError, WatchAction};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// The calls that reached the store, and whether they fail.
    #[derive(Default)]
    struct Probe {
        calls: AtomicUsize,
        fail: AtomicBool,
    }

    fn pin(guild: u64, channel: u64) -> Pin {
        Pin {
            guild_id: guild,
            channel_id: channel,
            topic: "gifts".into(),
            message_id: channel * 10,
            pinned_by: 1,
            pinned_at: 0,
        }
    }

    fn setup(dir: &tempfile::TempDir) -> (Arc<Probe>, CachedStore) {
        let sqlite = SqliteStore::open(&dir.path().join("bot.db")).unwrap();
        sqlite.put_pin(&pin(1, 10)).unwrap();
        let quiet = GuildSettings {
            auto_reply: Some(false),
            watch: Some(WatchAction::Off),
            ..Default::default()
        };
        sqlite.put_settings(1, &quiet).unwrap();
        sqlite.set_opted_out(7, true).unwrap();
        let probe = Arc::new(Probe::default());
        let seen = probe.clone();
        let counting = Guarded::new(sqlite, move |_| {
            seen.calls.fetch_add(1, Ordering::SeqCst);
            match seen.fail.load(Ordering::SeqCst) {
                true => Err(StoreError::failed("down")),
                false => Ok(()),
            }
        });
        let cached = CachedStore::load(Arc::new(counting)).unwrap();
        (probe, cached)
    }

    #[test]
    fn policy_reads_come_from_memory_after_one_load() {
        let dir = tempfile::tempdir().unwrap();
        let (probe, cached) = setup(&dir);
        assert_eq!(probe.calls.load(Ordering::SeqCst), 1, "one snapshot");
        for _ in 0..1000 {
            assert_eq!(cached.pin_of(10).map(|p| p.topic), Some("gifts".into()));
            assert_eq!(cached.pin_of(11), None);
            assert_eq!(cached.settings_of(1).auto_reply, Some(false));
            assert_eq!(cached.settings_of(2), GuildSettings::default());
            assert!(cached.is_opted_out(7) && !cached.is_opted_out(8));
            assert_eq!(cached.pins(1).unwrap().len(), 1);
        }
        assert_eq!(probe.calls.load(Ordering::SeqCst), 1, "no call per read");
    }

    #[test]
    fn writes_reach_the_store_and_memory_together() {
        let dir = tempfile::tempdir().unwrap();
        let (_, cached) = setup(&dir);
        cached.put_pin(&pin(1, 11)).unwrap();
        assert!(cached.set_opted_out(8, true).unwrap());
        assert!(cached.set_opted_out(7, false).unwrap());
        cached.put_settings(2, &GuildSettings::default()).unwrap();
        assert_eq!(cached.remove_pin_of_message(10, 999).unwrap(), None);
        assert!(
            cached.pin_of(10).is_some(),
            "another message's unpin keeps it"
        );
        assert!(cached.pin_of(11).is_some());
        assert!(cached.is_opted_out(8) && !cached.is_opted_out(7));
        // What is in memory is what a fresh load from disk reads.
        let sqlite = SqliteStore::open(&dir.path().join("bot.db")).unwrap();
        let reloaded = CachedStore::load(Arc::new(sqlite)).unwrap();
        assert_eq!(reloaded.pins(1).unwrap(), cached.pins(1).unwrap());
        assert!(reloaded.is_opted_out(8) && !reloaded.is_opted_out(7));
        assert_eq!(cached.remove_guild(1).unwrap(), 2);
        assert!(cached.pin_of(10).is_none() && cached.settings_of(1).auto_reply.is_none());
    }

    #[test]
    fn a_failed_write_changes_nothing_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let (probe, cached) = setup(&dir);
        probe.fail.store(true, Ordering::SeqCst);
        assert!(cached.put_pin(&pin(1, 12)).is_err());
        assert!(cached.set_opted_out(7, false).is_err());
        assert!(cached.remove_pin(10).is_err());
        assert!(cached.pin_of(12).is_none());
        assert!(cached.is_opted_out(7));
        assert!(cached.pin_of(10).is_some());
    }
}
