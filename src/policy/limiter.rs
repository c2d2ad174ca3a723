//! Anti-spam bookkeeping for the reply policy: who was answered about
//! what, and when.
//!
//! Everything is keyed by Discord ids and topic ids only (never message
//! text) and every entry expires ([`Expiring`]), so memory stays bounded:
//! expired entries are swept at most once a minute, and a hard cap per
//! table drops the oldest entries if a flood of distinct users outpaces
//! the sweep.
//!
//! All checks take `now` so they can be tested without waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::expiring::Expiring;
pub use super::expiring::MAX_ENTRIES;
use super::Limit;
use crate::classify::TopicId;
use crate::config::DiscordConfig;

/// How long a message id is remembered for "at most one reply per message"
/// (covers events replayed after a gateway RESUME).
const MESSAGE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// The window of the per-channel rate limit.
const CHANNEL_WINDOW: Duration = Duration::from_secs(60);
/// How often expired entries are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Which per-member cooldown a reply is subject to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Guidance on a topic: the per-member, per-topic cooldown.
    Topic(TopicId),
    /// The help text for chatter: the help cooldown.
    Help,
    /// Anything else ("did you mean"): no member cooldown.
    Plain,
}

/// Why an auto-reply was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppressed {
    /// This message was already answered.
    AlreadyAnswered,
    /// The member got this topic recently.
    TopicCooldown,
    /// The member got crisis resources recently.
    CrisisCooldown,
    /// The member got the help text recently.
    HelpCooldown,
    /// The channel had its share of auto-replies this minute.
    ChannelRateLimit,
}

impl Suppressed {
    pub fn as_str(self) -> &'static str {
        match self {
            Suppressed::AlreadyAnswered => "already-answered",
            Suppressed::TopicCooldown => "topic-cooldown",
            Suppressed::CrisisCooldown => "crisis-cooldown",
            Suppressed::HelpCooldown => "help-cooldown",
            Suppressed::ChannelRateLimit => "channel-rate-limit",
        }
    }
}

/// A member's cooldown on one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct TopicKey {
    user: u64,
    topic: TopicId,
}

#[derive(Debug)]
struct Inner {
    topic: Expiring<TopicKey>,
    crisis: Expiring<u64>,
    alert: Expiring<u64>,
    help: Expiring<u64>,
    messages: Expiring<u64>,
    /// Send times of recent auto-replies per channel.
    channels: HashMap<u64, VecDeque<Instant>>,
    last_sweep: Option<Instant>,
}

/// The adapter's cooldowns and rate limits. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Cooldowns {
    topic_ttl: Duration,
    crisis_ttl: Duration,
    help_ttl: Duration,
    channel_per_minute: usize,
    inner: Mutex<Inner>,
}

/// Sizes of the tables, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub topic: usize,
    pub crisis: usize,
    pub alert: usize,
    pub help: usize,
    pub messages: usize,
    pub channels: usize,
}

/// The ids a reply's limits are kept by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageIds {
    pub message: u64,
    pub user: u64,
    pub channel: u64,
}

impl Cooldowns {
    /// Whether a reply under `limit` may go out now; records it if so.
    pub fn admit(&self, limit: Limit, ids: MessageIds, now: Instant) -> Result<(), Suppressed> {
        match limit {
            Limit::Crisis => self.try_crisis(ids.message, ids.user, now),
            Limit::Direct(gate) => self.try_direct_reply(ids.message, ids.user, gate, now),
            Limit::Channel {
                gate,
                topic_cooldown,
            } => self.try_channel_reply_with(
                ids.message,
                ids.user,
                ids.channel,
                gate,
                now,
                topic_cooldown,
            ),
        }
    }

    pub fn new(config: &DiscordConfig) -> Self {
        let minutes = |m: u64| Duration::from_secs(m.saturating_mul(60));
        Self {
            topic_ttl: minutes(config.topic_cooldown_minutes),
            crisis_ttl: minutes(config.crisis_cooldown_minutes),
            help_ttl: minutes(config.help_cooldown_minutes),
            channel_per_minute: config.channel_replies_per_minute.max(1) as usize,
            inner: Mutex::new(Inner {
                topic: Expiring::default(),
                crisis: Expiring::default(),
                alert: Expiring::default(),
                help: Expiring::default(),
                messages: Expiring::default(),
                channels: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    fn lock(&self, now: Instant) -> std::sync::MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let due = inner
            .last_sweep
            .is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_EVERY);
        if due {
            inner.last_sweep = Some(now);
            inner.topic.sweep(now);
            inner.crisis.sweep(now);
            inner.alert.sweep(now);
            inner.help.sweep(now);
            inner.messages.sweep(now);
            inner.channels.retain(|_, sent| {
                drop_outside_window(sent, now);
                !sent.is_empty()
            });
        }
        inner
    }

    /// Checks the per-channel limit without recording anything.
    fn channel_full(&self, inner: &mut Inner, channel: u64, now: Instant) -> bool {
        match inner.channels.get_mut(&channel) {
            Some(sent) => {
                drop_outside_window(sent, now);
                sent.len() >= self.channel_per_minute
            }
            None => false,
        }
    }

    fn record_channel(&self, inner: &mut Inner, channel: u64, now: Instant) {
        if inner.channels.len() >= MAX_ENTRIES && !inner.channels.contains_key(&channel) {
            inner.channels.clear();
        }
        inner.channels.entry(channel).or_default().push_back(now);
    }

    /// A reply in a guild channel to `message` by `user`. Checks, in
    /// order: the message was not answered yet, the member's cooldown for
    /// this kind of reply (`gate`), the channel's rate limit; records them
    /// only when the reply may go out.
    pub fn try_channel_reply(
        &self,
        message: u64,
        user: u64,
        channel: u64,
        gate: Gate,
        now: Instant,
    ) -> Result<(), Suppressed> {
        self.try_channel_reply_with(message, user, channel, gate, now, None)
    }

    /// [`try_channel_reply`](Self::try_channel_reply) with the guild's own
    /// topic cooldown (`/settings cooldown`) instead of the config's.
    pub fn try_channel_reply_with(
        &self,
        message: u64,
        user: u64,
        channel: u64,
        gate: Gate,
        now: Instant,
        topic_ttl: Option<Duration>,
    ) -> Result<(), Suppressed> {
        let mut inner = self.lock(now);
        if inner.messages.active(&message, now) {
            return Err(Suppressed::AlreadyAnswered);
        }
        self.check_gate(&inner, user, gate, now)?;
        if self.channel_full(&mut inner, channel, now) {
            return Err(Suppressed::ChannelRateLimit);
        }
        inner.messages.set(message, now, MESSAGE_MEMORY);
        match (gate, topic_ttl) {
            (Gate::Topic(topic), Some(ttl)) => inner.topic.set(TopicKey { user, topic }, now, ttl),
            _ => self.record_gate(&mut inner, user, gate, now),
        }
        self.record_channel(&mut inner, channel, now);
        Ok(())
    }

    /// A reply in a direct message: one reply per message, and the help
    /// text once per help cooldown. Topic cooldowns do not apply: the
    /// member asked the bot directly.
    pub fn try_direct_reply(
        &self,
        message: u64,
        user: u64,
        gate: Gate,
        now: Instant,
    ) -> Result<(), Suppressed> {
        let gate = match gate {
            Gate::Topic(_) => Gate::Plain,
            g => g,
        };
        let mut inner = self.lock(now);
        if inner.messages.active(&message, now) {
            return Err(Suppressed::AlreadyAnswered);
        }
        self.check_gate(&inner, user, gate, now)?;
        inner.messages.set(message, now, MESSAGE_MEMORY);
        self.record_gate(&mut inner, user, gate, now);
        Ok(())
    }

    fn check_gate(
        &self,
        inner: &Inner,
        user: u64,
        gate: Gate,
        now: Instant,
    ) -> Result<(), Suppressed> {
        match gate {
            Gate::Topic(topic) if inner.topic.active(&TopicKey { user, topic }, now) => {
                Err(Suppressed::TopicCooldown)
            }
            Gate::Help if inner.help.active(&user, now) => Err(Suppressed::HelpCooldown),
            _ => Ok(()),
        }
    }

    fn record_gate(&self, inner: &mut Inner, user: u64, gate: Gate, now: Instant) {
        match gate {
            Gate::Topic(topic) => inner
                .topic
                .set(TopicKey { user, topic }, now, self.topic_ttl),
            Gate::Help => inner.help.set(user, now, self.help_ttl),
            Gate::Plain => {}
        }
    }

    /// Crisis resources for `user` in answer to `message`. Topic cooldowns
    /// and channel rate limits never apply; only the member's own short
    /// crisis cooldown (and one reply per message) does.
    pub fn try_crisis(&self, message: u64, user: u64, now: Instant) -> Result<(), Suppressed> {
        let mut inner = self.lock(now);
        if inner.messages.active(&message, now) {
            return Err(Suppressed::AlreadyAnswered);
        }
        if inner.crisis.active(&user, now) {
            return Err(Suppressed::CrisisCooldown);
        }
        inner.messages.set(message, now, MESSAGE_MEMORY);
        inner.crisis.set(user, now, self.crisis_ttl);
        Ok(())
    }

    /// A moderator alert about `user`: at most one per crisis cooldown.
    pub fn try_alert(&self, user: u64, now: Instant) -> Result<(), Suppressed> {
        let mut inner = self.lock(now);
        if inner.alert.active(&user, now) {
            return Err(Suppressed::CrisisCooldown);
        }
        inner.alert.set(user, now, self.crisis_ttl);
        Ok(())
    }

    pub fn sizes(&self) -> Sizes {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Sizes {
            topic: inner.topic.len(),
            crisis: inner.crisis.len(),
            alert: inner.alert.len(),
            help: inner.help.len(),
            messages: inner.messages.len(),
            channels: inner.channels.len(),
        }
    }
}

/// Drops a channel's send times that fell out of the rate-limit window.
fn drop_outside_window(sent: &mut VecDeque<Instant>, now: Instant) {
    while sent
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= CHANNEL_WINDOW)
    {
        sent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cooldowns(per_minute: u32) -> Cooldowns {
        Cooldowns::new(&DiscordConfig {
            topic_cooldown_minutes: 30,
            crisis_cooldown_minutes: 5,
            help_cooldown_minutes: 60,
            channel_replies_per_minute: per_minute,
            ..DiscordConfig::default()
        })
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn topic_cooldown_is_per_user_and_topic() {
        let c = cooldowns(100);
        let t0 = Instant::now();
        assert_eq!(
            c.try_channel_reply(1, 10, 5, Gate::Topic("gifts"), t0),
            Ok(())
        );
        assert_eq!(
            c.try_channel_reply(2, 10, 5, Gate::Topic("gifts"), t0 + MIN),
            Err(Suppressed::TopicCooldown)
        );
        // Another topic, another member: fine.
        assert_eq!(
            c.try_channel_reply(3, 10, 5, Gate::Topic("letters"), t0),
            Ok(())
        );
        assert_eq!(
            c.try_channel_reply(4, 11, 5, Gate::Topic("gifts"), t0),
            Ok(())
        );
        // After the cooldown: fine again.
        assert_eq!(
            c.try_channel_reply(5, 10, 5, Gate::Topic("gifts"), t0 + 31 * MIN),
            Ok(())
        );
    }

    #[test]
    fn one_reply_per_message() {
        let c = cooldowns(100);
        let t0 = Instant::now();
        assert_eq!(
            c.try_channel_reply(1, 10, 5, Gate::Topic("gifts"), t0),
            Ok(())
        );
        assert_eq!(
            c.try_channel_reply(1, 10, 5, Gate::Topic("letters"), t0),
            Err(Suppressed::AlreadyAnswered)
        );
        assert_eq!(c.try_crisis(1, 10, t0), Err(Suppressed::AlreadyAnswered));
        assert_eq!(c.try_direct_reply(2, 10, Gate::Plain, t0), Ok(()));
        assert_eq!(
            c.try_direct_reply(2, 10, Gate::Plain, t0),
            Err(Suppressed::AlreadyAnswered)
        );
    }

    #[test]
    fn channel_rate_limit_slides() {
        let c = cooldowns(2);
        let t0 = Instant::now();
        assert_eq!(c.try_channel_reply(1, 10, 5, Gate::Plain, t0), Ok(()));
        assert_eq!(c.try_channel_reply(2, 11, 5, Gate::Plain, t0), Ok(()));
        assert_eq!(
            c.try_channel_reply(3, 12, 5, Gate::Plain, t0),
            Err(Suppressed::ChannelRateLimit)
        );
        // A suppressed reply records nothing: message 3 may still be answered.
        assert_eq!(c.try_channel_reply(3, 12, 6, Gate::Plain, t0), Ok(()));
        assert_eq!(c.try_channel_reply(4, 12, 5, Gate::Plain, t0 + MIN), Ok(()));
    }

    #[test]
    fn crisis_ignores_topic_and_channel_limits() {
        let c = cooldowns(1);
        let t0 = Instant::now();
        assert_eq!(
            c.try_channel_reply(1, 10, 5, Gate::Topic("gifts"), t0),
            Ok(())
        );
        assert_eq!(c.try_crisis(2, 10, t0), Ok(()));
        assert_eq!(
            c.try_crisis(3, 10, t0 + MIN),
            Err(Suppressed::CrisisCooldown)
        );
        assert_eq!(c.try_crisis(4, 10, t0 + 6 * MIN), Ok(()));
        assert_eq!(c.try_alert(10, t0), Ok(()));
        assert_eq!(c.try_alert(10, t0 + MIN), Err(Suppressed::CrisisCooldown));
    }

    #[test]
    fn help_once_per_cooldown() {
        let c = cooldowns(1);
        let t0 = Instant::now();
        assert_eq!(c.try_direct_reply(1, 10, Gate::Help, t0), Ok(()));
        assert_eq!(
            c.try_direct_reply(2, 10, Gate::Help, t0 + MIN),
            Err(Suppressed::HelpCooldown)
        );
        assert_eq!(c.try_direct_reply(3, 10, Gate::Help, t0 + 61 * MIN), Ok(()));
    }

    #[test]
    fn entries_expire_and_memory_stays_bounded() {
        let c = cooldowns(5);
        let t0 = Instant::now();
        for i in 0..1000u64 {
            let _ = c.try_channel_reply(i + 1, i, i, Gate::Topic("gifts"), t0);
            let _ = c.try_crisis(100_000 + i, i, t0);
            let _ = c.try_direct_reply(200_000 + i, i, Gate::Help, t0);
        }
        let s = c.sizes();
        assert_eq!(
            (s.topic, s.channels, s.crisis, s.help),
            (1000, 1000, 1000, 1000)
        );
        // Two hours later everything has expired; the next call sweeps.
        let later = t0 + 120 * MIN;
        assert_eq!(c.try_direct_reply(999_999, 1, Gate::Plain, later), Ok(()));
        let s = c.sizes();
        assert_eq!(
            (s.topic, s.channels, s.crisis, s.help, s.messages),
            (0, 0, 0, 0, 1)
        );
    }
}
