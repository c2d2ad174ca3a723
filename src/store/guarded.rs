//! [`Guarded`]: a [`Store`] in front of another that runs a guard before
//! every call, named by its method. One place to count store calls or to
//! refuse some of them: the tests use it to count calls (a message must
//! make none) and to make writes fail like a full disk.

use super::{Count, GuildSettings, Pin, PolicySnapshot, Store, StoreResult, TopicStats};

/// Runs before each call with the method's name; an error is returned in
/// place of the call's result, and the inner store is not called.
pub type Guard = Box<dyn Fn(&'static str) -> StoreResult<()> + Send + Sync>;

/// `inner`, with `guard` run before every call.
pub struct Guarded<S> {
    inner: S,
    guard: Guard,
}

impl<S: Store> Guarded<S> {
    pub fn new(
        inner: S,
        guard: impl Fn(&'static str) -> StoreResult<()> + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner,
            guard: Box::new(guard),
        }
    }
}

impl<S: Store> Store for Guarded<S> {
    fn follow_changes(&self, sink: super::ChangeSink) -> StoreResult<bool> {
        (self.guard)("follow_changes")?;
        self.inner.follow_changes(sink)
    }
    fn put_pin(&self, pin: &Pin) -> StoreResult<Option<Pin>> {
        (self.guard)("put_pin")?;
        self.inner.put_pin(pin)
    }
    fn pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        (self.guard)("pin")?;
        self.inner.pin(channel_id)
    }
    fn remove_pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        (self.guard)("remove_pin")?;
        self.inner.remove_pin(channel_id)
    }
    fn remove_pin_of_message(&self, channel_id: u64, message_id: u64) -> StoreResult<Option<Pin>> {
        (self.guard)("remove_pin_of_message")?;
        self.inner.remove_pin_of_message(channel_id, message_id)
    }
    fn pins(&self, guild_id: u64) -> StoreResult<Vec<Pin>> {
        (self.guard)("pins")?;
        self.inner.pins(guild_id)
    }
    fn remove_guild(&self, guild_id: u64) -> StoreResult<usize> {
        (self.guard)("remove_guild")?;
        self.inner.remove_guild(guild_id)
    }
    fn settings(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        (self.guard)("settings")?;
        self.inner.settings(guild_id)
    }
    fn snapshot(&self) -> StoreResult<PolicySnapshot> {
        (self.guard)("snapshot")?;
        self.inner.snapshot()
    }
    fn put_settings(&self, guild_id: u64, settings: &GuildSettings) -> StoreResult<()> {
        (self.guard)("put_settings")?;
        self.inner.put_settings(guild_id, settings)
    }
    fn opted_out(&self, user_id: u64) -> StoreResult<bool> {
        (self.guard)("opted_out")?;
        self.inner.opted_out(user_id)
    }
    fn set_opted_out(&self, user_id: u64, out: bool) -> StoreResult<bool> {
        (self.guard)("set_opted_out")?;
        self.inner.set_opted_out(user_id, out)
    }
    fn count(&self, guild_id: u64, topic: &str, what: Count, at: i64) -> StoreResult<()> {
        (self.guard)("count")?;
        self.inner.count(guild_id, topic, what, at)
    }
    fn stats(&self, guild_id: u64, since: i64) -> StoreResult<Vec<TopicStats>> {
        (self.guard)("stats")?;
        self.inner.stats(guild_id, since)
    }
}
