//! The state the reply policy reads on every member message (pins,
//! per-server settings, opt-outs), held in memory and written through to
//! the store underneath, so a message costs no database call.
//!
//! [`CachedStore`] is itself a [`Store`]: reads of that state come from
//! memory, writes go to the store first and change memory only when the
//! store accepted them, one write at a time, so memory and disk change in
//! the same order. Feedback counts and stats pass straight through.
//!
//! Other processes sharing the database (PostgreSQL) change that state
//! too. [`CachedStore::follow_changes`] subscribes to the store's change
//! feed ([`Store::follow_changes`]: `LISTEN`/`NOTIFY` on PostgreSQL); on
//! each change it reads the changed entry again from the database, so
//! memory converges on what was committed, in whatever order the
//! notifications come. Staleness is the notification's delay (a few
//! milliseconds on one network); after the feed reconnects everything is
//! read again, since notifications sent meanwhile are lost.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use tracing::warn;

use super::{
    Count, GuildSettings, Pin, PolicySnapshot, StateChange, Store, StoreResult, TopicStats,
};

/// A [`Store`] whose policy state lives in memory; see the module doc.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    state: RwLock<State>,
    /// Held across a write to `inner` and the matching change in `state`,
    /// and across a refresh from the change feed.
    writes: Mutex<()>,
    /// The change feed's sink, kept alive as long as this store.
    sink: OnceLock<Arc<dyn Fn(StateChange) + Send + Sync>>,
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
            sink: OnceLock::new(),
        })
    }

    /// Follows the store's change feed, if it has one (see the module
    /// doc); false when it has none. Idempotent.
    pub fn follow_changes(self: &Arc<Self>) -> StoreResult<bool> {
        let weak = Arc::downgrade(self);
        let sink = self.sink.get_or_init(|| {
            Arc::new(move |change| {
                if let Some(cache) = weak.upgrade() {
                    cache.refresh(change);
                }
            })
        });
        let sink: Arc<dyn Fn(StateChange) + Send + Sync> = sink.clone();
        self.inner.follow_changes(Arc::downgrade(&sink))
    }

    /// Reads what `change` names from the store again, into memory.
    pub fn refresh(&self, change: StateChange) {
        let _one_at_a_time = self.writes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = self.reread(change) {
            // The entry stays as it was; the next change or reconnect reads it again.
            warn!(?change, error = %e, "could not refresh the policy state");
        }
    }

    fn reread(&self, change: StateChange) -> StoreResult<()> {
        let inner = self.inner.as_ref();
        match change {
            StateChange::Pin { channel_id } => {
                let pin = inner.pin(channel_id)?;
                let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
                match pin {
                    Some(pin) => state.pins.insert(channel_id, pin),
                    None => state.pins.remove(&channel_id),
                };
            }
            StateChange::Settings { guild_id } => {
                let settings = inner.settings(guild_id)?;
                let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
                state.settings.insert(guild_id, settings);
            }
            StateChange::OptOut { user_id } => {
                let out = inner.opted_out(user_id)?;
                let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
                match out {
                    true => state.opted_out.insert(user_id),
                    false => state.opted_out.remove(&user_id),
                };
            }
            StateChange::Guild { guild_id } => {
                let (pins, settings) = (inner.pins(guild_id)?, inner.settings(guild_id)?);
                let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
                state.pins.retain(|_, p| p.guild_id != guild_id);
                state
                    .pins
                    .extend(pins.into_iter().map(|p| (p.channel_id, p)));
                state.settings.insert(guild_id, settings);
            }
            StateChange::Everything => {
                let fresh = State::from_snapshot(inner.snapshot()?);
                *self.state.write().unwrap_or_else(PoisonError::into_inner) = fresh;
            }
        }
        Ok(())
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
    fn follow_changes(&self, sink: super::ChangeSink) -> StoreResult<bool> {
        self.inner.follow_changes(sink)
    }

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

    /// Two processes on one PostgreSQL database: what one changes, the
    /// other's memory follows through the change feed.
    #[test]
    fn another_process_changes_reach_memory_through_the_feed() {
        use crate::store::PostgresStore;
        let Some((url, _database)) = crate::store::suite::postgres_database() else {
            return;
        };
        let open = || {
            let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&url).unwrap());
            let cached = Arc::new(CachedStore::load(store).unwrap());
            assert!(cached.follow_changes().unwrap(), "PostgreSQL has a feed");
            cached
        };
        let (one, other) = (open(), open());
        let eventually = |what: &str, check: &dyn Fn() -> bool| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !check() {
                assert!(std::time::Instant::now() < deadline, "{what} never arrived");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        };
        one.set_opted_out(7, true).unwrap();
        eventually("the opt-out", &|| other.is_opted_out(7));
        one.put_pin(&pin(1, 10)).unwrap();
        eventually("the pin", &|| other.pin_of(10).is_some());
        let quiet = GuildSettings {
            auto_reply: Some(false),
            ..Default::default()
        };
        other.put_settings(1, &quiet).unwrap();
        eventually("the settings", &|| one.settings_of(1) == quiet);
        other.set_opted_out(7, false).unwrap();
        eventually("the opt-in", &|| !one.is_opted_out(7));
        one.remove_guild(1).unwrap();
        eventually("the removal", &|| {
            other.pin_of(10).is_none() && other.settings_of(1) == GuildSettings::default()
        });
    }

    #[test]
    fn sqlite_has_no_feed_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (_, cached) = setup(&dir);
        assert!(!Arc::new(cached).follow_changes().unwrap());
    }
}
