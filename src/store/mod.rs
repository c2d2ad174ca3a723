//! What the bot remembers across restarts, behind a small [`Store`] trait
//! so a server database can replace SQLite without touching the commands.
//!
//! Stored (and nothing else):
//!
//! * **pins**: guild, channel, topic, the pinned message's id, who pinned
//!   it and when;
//! * **per-guild settings** moderators change at runtime (auto-replies on or
//!   off, topic cooldown minutes);
//! * **opt-outs**: the ids of members who asked for no auto-replies;
//! * **feedback counts** per guild, topic and day: replies, replies reached
//!   through "did you mean", "Helpful" and "Not what I asked". No user ids
//!   and no text.
//!
//! Never message content, and never a crisis event tied to a user.
//!
//! Every write is one transaction: it lands whole or not at all.

pub mod cached;
pub mod guarded;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod suite;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use cached::CachedStore;
pub use guarded::Guarded;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// A channel pinned to a topic by a moderator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub guild_id: u64,
    pub channel_id: u64,
    /// A topic id from `responses/`.
    pub topic: String,
    /// The bot's guidance message pinned in the channel.
    pub message_id: u64,
    /// The moderator who pinned it.
    pub pinned_by: u64,
    /// Unix seconds.
    pub pinned_at: i64,
}

/// Per-guild settings; `None` means "the config's default".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuildSettings {
    /// Unprompted replies (auto-reply and pinned channels) on or off.
    pub auto_reply: Option<bool>,
    /// Minutes before a member gets an auto-reply on the same topic again.
    pub topic_cooldown_minutes: Option<u64>,
    /// The region (a code from `responses/crisis.toml`) whose crisis lines
    /// come first for members without a matching locale.
    pub region: Option<String>,
    /// What the watch tier does for a message nobody asked the bot about.
    pub watch: Option<WatchAction>,
}

/// What the bot does with a watch-tier ("possible crisis") message in an
/// auto-reply or pinned channel, where nobody asked it. Where the member
/// asked (a DM, `/ask`, the context menu, an @mention), they always get the
/// crisis lines with a gentler opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatchAction {
    /// No reply in the channel; a quiet alert to `crisis_alert_channel`,
    /// marked "possible", with the jump link and never the text.
    #[default]
    Alert,
    /// Nothing at all.
    Off,
    /// Reply in the channel with the gentler crisis lines, and alert.
    Reply,
}

impl WatchAction {
    pub fn as_str(self) -> &'static str {
        match self {
            WatchAction::Alert => "alert",
            WatchAction::Off => "off",
            WatchAction::Reply => "reply",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "alert" => Some(WatchAction::Alert),
            "off" => Some(WatchAction::Off),
            "reply" => Some(WatchAction::Reply),
            _ => None,
        }
    }
}

/// One server's settings, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerSettings {
    pub guild_id: u64,
    pub settings: GuildSettings,
}

/// Everything the reply policy reads on a message, read at once at
/// start-up (see [`CachedStore`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySnapshot {
    pub pins: Vec<Pin>,
    /// Only servers with settings stored.
    pub settings: Vec<ServerSettings>,
    /// Members who opted out of auto-replies.
    pub opted_out: Vec<u64>,
}

/// A counted event. Counts carry a guild, a topic and a day; nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// The topic's guidance was sent in answer to a question.
    Reply,
    /// The topic's guidance was sent after a "did you mean" button press
    /// (also counted as a [`Count::Reply`]).
    DidYouMean,
    Helpful,
    NotHelpful,
}

/// Counts for one topic over a period.
impl Count {
    /// Its column in the `feedback_counts` table (both backends).
    pub(crate) fn column(self) -> &'static str {
        match self {
            Count::Reply => "replies",
            Count::DidYouMean => "did_you_mean",
            Count::Helpful => "helpful",
            Count::NotHelpful => "not_helpful",
        }
    }
}

/// The `pins` columns, in [`Pin`]'s field order of the backends' row readers.
const PIN_COLUMNS: &str = "channel_id, guild_id, topic, message_id, pinned_by, pinned_at";
/// The `guild_settings` columns a [`GuildSettings`] is read from.
const SETTINGS_COLUMNS: &str = "auto_reply, topic_cooldown_minutes, region, watch";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicStats {
    pub topic: String,
    pub replies: u64,
    pub did_you_mean: u64,
    pub helpful: u64,
    pub not_helpful: u64,
}

/// What kind of storage failure, for callers that answer differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The database could not be opened or migrated at start-up.
    Open,
    /// Another connection held the database's write lock for longer than
    /// the write was willing to wait (it retried meanwhile); nothing was
    /// changed. Trying again later is the fix.
    Busy,
    /// A read or write failed; nothing was changed.
    Failed,
}

/// A storage failure, in the shape of [`LoadError`](crate::error::LoadError):
/// a [`kind`](Self::kind), one line of `Display` that names the fix, and the
/// underlying error as its `source()`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// The database at `path` could not be opened: `problem`, and the `fix`.
    pub fn open(path: &Path, problem: impl Into<String>, fix: &str) -> Self {
        Self {
            kind: StoreErrorKind::Open,
            message: format!(
                "cannot open the database {} ([storage] path): {}; {fix}",
                path.display(),
                problem.into()
            ),
            source: None,
        }
    }

    /// The database server `server` (user@host:port/dbname, or what the
    /// URL was) could not be reached or migrated: `problem`, and the `fix`.
    pub fn open_server(server: &str, problem: impl Into<String>, fix: &str) -> Self {
        Self {
            kind: StoreErrorKind::Open,
            message: format!(
                "cannot open the database {server} ([storage] url): {}; {fix}",
                problem.into()
            ),
            source: None,
        }
    }

    /// The write lock stayed taken for `waited`.
    pub fn busy(waited: Duration, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            kind: StoreErrorKind::Busy,
            message: format!(
                "the database is busy (locked by another connection for over {} ms); nothing \
                 was changed. If this repeats, check for another process using the file",
                waited.as_millis()
            ),
            source: Some(Arc::new(source)),
        }
    }

    /// A read or write failed because of `source`.
    pub fn failed(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let source: Arc<dyn std::error::Error + Send + Sync> = Arc::from(source.into());
        Self {
            kind: StoreErrorKind::Failed,
            message: format!("database error: {source}"),
            source: Some(source),
        }
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A change to the policy state (pins, settings, opt-outs) made through a
/// store, possibly by another process sharing the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    /// The pin of this channel changed.
    Pin { channel_id: u64 },
    /// This server's settings changed.
    Settings { guild_id: u64 },
    /// This member's opt-out changed.
    OptOut { user_id: u64 },
    /// Everything about this server was removed.
    Guild { guild_id: u64 },
    /// Changes may have been missed (the feed started or reconnected):
    /// read everything again.
    Everything,
}

/// Where a store's change feed delivers; the feed stops once it is gone.
pub type ChangeSink = std::sync::Weak<dyn Fn(StateChange) + Send + Sync>;

/// The bot's persistent state. Implementations must be safe to share
/// between tasks; every method is one short transaction.
pub trait Store: Send + Sync {
    /// Starts delivering every committed change to the policy state,
    /// this process's and other processes', to `sink`, until it is
    /// dropped. False if this backend has no feed (SQLite: one process
    /// per file, so this process's own writes are all there are).
    fn follow_changes(&self, sink: ChangeSink) -> StoreResult<bool> {
        let _ = sink;
        Ok(false)
    }

    /// Records `pin`, replacing any pin of the same channel; returns the
    /// replaced one.
    fn put_pin(&self, pin: &Pin) -> StoreResult<Option<Pin>>;
    /// The pin of `channel_id`, if any.
    fn pin(&self, channel_id: u64) -> StoreResult<Option<Pin>>;
    /// Removes the pin of `channel_id`; returns it.
    fn remove_pin(&self, channel_id: u64) -> StoreResult<Option<Pin>>;
    /// Removes the pin of `channel_id` only if it is `message_id`.
    fn remove_pin_of_message(&self, channel_id: u64, message_id: u64) -> StoreResult<Option<Pin>>;
    /// A guild's pins, ordered by channel.
    fn pins(&self, guild_id: u64) -> StoreResult<Vec<Pin>>;
    /// Forgets everything about a guild (pins, settings, counts); returns
    /// the number of pins removed.
    fn remove_guild(&self, guild_id: u64) -> StoreResult<usize>;

    fn settings(&self, guild_id: u64) -> StoreResult<GuildSettings>;
    /// Every pin, every server's settings and every opt-out, read in one go.
    fn snapshot(&self) -> StoreResult<PolicySnapshot>;
    fn put_settings(&self, guild_id: u64, settings: &GuildSettings) -> StoreResult<()>;

    /// Whether `user_id` asked for no auto-replies.
    fn opted_out(&self, user_id: u64) -> StoreResult<bool>;
    /// Sets the opt-out; returns whether it changed.
    fn set_opted_out(&self, user_id: u64, out: bool) -> StoreResult<bool>;

    /// Adds one to a count of `topic` in `guild_id` (0 for DMs) on the day
    /// of `at` (unix seconds).
    fn count(&self, guild_id: u64, topic: &str, what: Count, at: i64) -> StoreResult<()>;
    /// Per-topic counts of `guild_id` from `since` (unix seconds, rounded
    /// down to its day) on, ordered by topic.
    fn stats(&self, guild_id: u64, since: i64) -> StoreResult<Vec<TopicStats>>;
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The day number (days since 1970-01-01, UTC) of unix seconds `at`.
pub fn day(at: i64) -> i64 {
    at.div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn errors_keep_their_kind_and_source() {
        let io = std::io::Error::other("disk full");
        let e = StoreError::failed(io);
        assert_eq!(e.kind(), StoreErrorKind::Failed);
        assert_eq!(e.to_string(), "database error: disk full");
        assert_eq!(
            e.source().map(|s| s.to_string()).as_deref(),
            Some("disk full")
        );
        let busy = StoreError::busy(Duration::from_millis(1000), std::io::Error::other("locked"));
        assert_eq!(busy.kind(), StoreErrorKind::Busy);
        assert!(busy.to_string().contains("over 1000 ms"), "{busy}");
        assert!(busy.source().is_some());
        let open = StoreError::open(Path::new("/x/bot.db"), "it is a directory", "name a file");
        assert_eq!(open.kind(), StoreErrorKind::Open);
        assert_eq!(
            open.to_string(),
            "cannot open the database /x/bot.db ([storage] path): it is a directory; name a file"
        );
    }
}
